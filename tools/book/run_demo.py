#!/usr/bin/env python3
"""Run a chapter demo and compare its standard output with the golden file.

    run_demo.py --golden chapters/04_attention/golden/demo_04_attention.txt -- DEMO --smoke

Exit code 0 when the output matches the golden file line for line (words exactly, printed numbers
within their rounding: compare_text.py says how), 1 with the lines that differ when it does not. With --update, or with GPTBOOK_UPDATE_GOLDEN=1 in the environment (for instance
`GPTBOOK_UPDATE_GOLDEN=1 ctest -L demos`), the golden file is rewritten instead: review the diff
with git before committing it.
"""
import argparse
import difflib
import os
import subprocess
import sys

from compare_text import line_difference

SHOWN = 10  # differing lines printed in full; the count says how many more


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--golden", required=True, help="the expected output, a text file")
    parser.add_argument("--update", action="store_true", help="rewrite the golden file")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- DEMO ARGS...")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no demo to run: expected `-- DEMO --smoke` after the options")

    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    sys.stderr.write(result.stderr.decode("utf-8", "replace"))
    if result.returncode != 0:
        print(f"{' '.join(command)} exited with code {result.returncode}; expected 0")
        return 1
    actual = result.stdout.decode("utf-8", "replace")

    if args.update or os.environ.get("GPTBOOK_UPDATE_GOLDEN") == "1":
        os.makedirs(os.path.dirname(os.path.abspath(args.golden)), exist_ok=True)
        with open(args.golden, "w", encoding="utf-8", newline="\n") as f:
            f.write(actual)
        print(f"wrote {args.golden} ({len(actual.splitlines())} lines)")
        return 0

    if not os.path.exists(args.golden):
        print(f"golden file {args.golden} not found; create it with "
              f"`{sys.argv[0]} --update --golden {args.golden} -- {' '.join(command)}`")
        return 1
    with open(args.golden, encoding="utf-8", newline="") as f:
        expected = f.read()
    expected_lines, actual_lines = expected.splitlines(), actual.splitlines()
    name = os.path.basename(command[0])
    if len(expected_lines) == len(actual_lines):
        differences = [(i + 1, e, a, line_difference(e, a))
                       for i, (e, a) in enumerate(zip(expected_lines, actual_lines))]
        differences = [d for d in differences if d[3]]
        if not differences:
            print(f"{name}: {len(actual_lines)} lines match {args.golden}")
            return 0
        print(f"{name} prints {len(differences)} lines that differ from {args.golden}:")
        for line_no, e, a, why in differences[:SHOWN]:
            print(f"  line {line_no}: {why}\n    expected: {e}\n    actual:   {a}")
        if len(differences) > SHOWN:
            print(f"  ... and {len(differences) - SHOWN} more")
    else:
        print(f"{name} prints {len(actual_lines)} lines; {args.golden} has {len(expected_lines)}:")
        diff = difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                    fromfile=f"{args.golden} (expected)", tofile=f"{name} output (actual)")
        sys.stdout.writelines(diff)
    print("\nIf you changed nothing, the demo's output depends on your machine, which is a bug in the "
          "book:\nplease report the lines above with your CPU (lscpu) and OPENBLAS_CORETYPE.\n"
          "If you changed the demo or the library on purpose, rewrite the golden file with "
          "GPTBOOK_UPDATE_GOLDEN=1\n(e.g. `GPTBOOK_UPDATE_GOLDEN=1 ctest -L demos`) and review its diff with git.")
    return 1

if __name__ == "__main__":
    sys.exit(main())
