#!/usr/bin/env python3
"""Check that the committed notebooks carry no outputs, or strip them.

    check_stripped.py notebooks/*.ipynb           # exit 1 naming every notebook with outputs
    check_stripped.py --fix notebooks/*.ipynb     # remove outputs and execution counts in place

Committed notebooks are stripped so that diffs show what changed in the text and code, not new
random bytes of a PNG, and so that a reader's figures come from their own build. Uses only the
standard library (a notebook is JSON), so the check runs even where Jupyter is not installed.
"""
import argparse
import json
import pathlib
import sys


def problems(nb):
    """The reasons a notebook (parsed JSON) is not stripped, one string per offending cell."""
    found = []
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {index} has {len(cell['outputs'])} outputs")
        if cell.get("execution_count") is not None:
            found.append(f"cell {index} has execution_count {cell['execution_count']}")
        if "execution" in cell.get("metadata", {}):
            found.append(f"cell {index} has execution timings in its metadata")
    return found


def strip(nb):
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            cell.get("metadata", {}).pop("execution", None)
    return nb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fix", action="store_true", help="strip the notebooks in place")
    parser.add_argument("notebooks", nargs="+", type=pathlib.Path)
    args = parser.parse_args()
    bad = 0
    for path in args.notebooks:
        try:
            nb = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            print(f"{path}: cannot be read as a notebook: {error}")
            bad += 1
            continue
        found = problems(nb)
        if not found:
            continue
        if args.fix:
            # nbformat's own layout (indent 1, keys sorted) so that a stripped file diffs cleanly.
            path.write_text(json.dumps(strip(nb), indent=1, sort_keys=True, ensure_ascii=False) + "\n",
                            encoding="utf-8")
            print(f"{path}: stripped ({len(found)} problems fixed)")
            continue
        bad += 1
        print(f"{path}: not stripped: {'; '.join(found)}")
    if bad:
        print(f"{bad} of {len(args.notebooks)} notebooks are not stripped; run "
              f"`{pathlib.Path(sys.argv[0]).name} --fix` on them before committing")
        return 1
    print(f"{len(args.notebooks)} notebooks stripped of outputs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
