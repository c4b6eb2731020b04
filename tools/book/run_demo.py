#!/usr/bin/env python3
"""Run a chapter demo and compare its standard output with the golden file.

    run_demo.py --golden chapters/04_attention/golden/demo_04_attention.txt -- DEMO --smoke

Exit code 0 when the output equals the golden file byte for byte, 1 with a unified diff when it
does not. With --update, or with GPTBOOK_UPDATE_GOLDEN=1 in the environment (for instance
`GPTBOOK_UPDATE_GOLDEN=1 ctest -L demos`), the golden file is rewritten instead: review the diff
with git before committing it.
"""
import argparse
import difflib
import os
import subprocess
import sys


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
    if actual == expected:
        print(f"{os.path.basename(command[0])}: {len(actual.splitlines())} lines match {args.golden}")
        return 0
    diff = difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                fromfile=f"{args.golden} (expected)",
                                tofile=f"{os.path.basename(command[0])} output (actual)")
    sys.stdout.writelines(diff)
    print(f"\nthe output differs from {args.golden}; if the change is intended, rerun with "
          "GPTBOOK_UPDATE_GOLDEN=1 and review the diff with git")
    return 1


if __name__ == "__main__":
    sys.exit(main())
