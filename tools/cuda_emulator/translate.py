#!/usr/bin/env python3
"""Turns a CUDA source (.cu) into C++ that the CUDA emulator compiles with the host compiler.

    translate.py INPUT.cu OUTPUT.cpp [--depfile OUTPUT.d] [-I DIR ...]

Three rewrites, each on one line so that line numbers stay the original's (#line directives
point compiler errors at the .cu file):
  kernel<<<grid, block, bytes, stream>>>(args)
      -> ::gptbook_emu::launch("kernel", ::gptbook_emu::LaunchConfig(grid, block, bytes, stream), kernel, args)
  extern __shared__ float name[];
      -> float* name = ::gptbook_emu::dynamic_shared<float>();
  __shared__ float name[N];        (inside a function)
      -> __shared__ float name[N]; ::gptbook_emu::poison_shared(name);
`#pragma unroll` lines become empty. Quoted includes of .cuh files (device code) are translated too and written inline, once each.
"""
import argparse
import pathlib
import re
import sys

LAUNCH = re.compile(r"(?P<kernel>(?:[A-Za-z_]\w*::)*[A-Za-z_]\w*(?:<[^<>;(){}]*>)?)\s*<<<(?P<config>.*?)>>>\s*\((?P<empty>\s*\))?",
                    re.DOTALL)
EXTERN_SHARED = re.compile(r"extern\s+__shared__\s+(?P<type>[\w:<> ]+?)\s+(?P<name>\w+)\s*\[\s*\]\s*;")
STATIC_SHARED = re.compile(r"^(?P<indent>\s+)(?P<decl>__shared__\s+[\w:<> ]+?\s+(?P<name>\w+)\s*(?:\[[^\]]*\]\s*)+;)",
                           re.MULTILINE)
INCLUDE = re.compile(r'^\s*#\s*include\s+"(?P<path>[^"]+\.cuh)"\s*$')
PRAGMA_ONCE = re.compile(r"^\s*#\s*pragma\s+once\s*$")
PRAGMA_UNROLL = re.compile(r"^\s*#\s*pragma\s+unroll\b.*$", re.MULTILINE)  # nvcc's hint; GCC's takes other forms


def rewrite(text):
    def launch(m):
        config = " ".join(m.group("config").split())
        kernel = m.group("kernel")
        name = kernel.split("<")[0].split("::")[-1]
        out = f'::gptbook_emu::launch("{name}", ::gptbook_emu::LaunchConfig({config}), {kernel}'
        out += ")" if m.group("empty") else ", "
        return out + "\n" * m.group(0).count("\n")  # the lines the launch spanned stay lines

    text = LAUNCH.sub(launch, text)
    text = PRAGMA_UNROLL.sub("", text)
    text = EXTERN_SHARED.sub(lambda m: f"{m['type']}* {m['name']} = ::gptbook_emu::dynamic_shared<{m['type']}>();", text)
    text = STATIC_SHARED.sub(lambda m: f"{m['indent']}{m['decl']} ::gptbook_emu::poison_shared({m['name']});", text)
    if "<<<" in text:
        sys.exit("translate.py: a kernel launch (<<<) the emulator's translation does not recognise")
    return text


def translate(path, include_dirs, seen, out):
    out.append(f'#line 1 "{path}"\n')
    for number, line in enumerate(rewrite(path.read_text()).splitlines(keepends=True), start=1):
        m = INCLUDE.match(line)
        if m:
            for base in [path.parent, *include_dirs]:
                header = (base / m["path"]).resolve()
                if header.is_file():
                    if header not in seen:  # every .cuh is include-once
                        seen.append(header)
                        translate(header, include_dirs, seen, out)
                        out.append(f'#line {number + 1} "{path}"\n')
                    else:
                        out.append("\n")
                    break
            else:
                out.append(line)  # not found here: the compiler reports it
        elif PRAGMA_ONCE.match(line):
            out.append("\n")
        else:
            out.append(line)
    if out and not out[-1].endswith("\n"):
        out.append("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", type=pathlib.Path)
    parser.add_argument("output", type=pathlib.Path)
    parser.add_argument("--depfile", type=pathlib.Path)
    parser.add_argument("-I", dest="include_dirs", action="append", default=[], type=pathlib.Path)
    args = parser.parse_args()
    source = args.input.resolve()
    seen = [source]
    out = ['#include "gptbook_cuda_emulator/runtime.hpp" // what nvcc includes implicitly\n']
    translate(source, [d.resolve() for d in args.include_dirs], seen, out)
    text = "".join(out)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    if args.depfile:
        deps = " ".join(str(p).replace(" ", "\\ ") for p in seen)
        args.depfile.write_text(f"{args.output}: {deps}\n")


if __name__ == "__main__":
    main()
