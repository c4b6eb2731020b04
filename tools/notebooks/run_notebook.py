#!/usr/bin/env python3
"""Execute a notebook headless, as the test suite does, and check that it worked.

    run_notebook.py notebooks/04_attention.ipynb [--output /tmp/04.ipynb] [--timeout 120]

Runs every cell in a fresh kernel (the `python3` kernel of this interpreter) with the notebook's
own folder as the working directory, exactly as Jupyter would. Fails (exit 1) when a cell raises,
or when the notebook displayed no figure (an image/png output): a notebook that draws nothing
has lost its point. Prints the wall time. Writes nothing next to the notebook: the executed copy
goes to --output only when asked for. Exits 77 (CTest's SKIP_RETURN_CODE) with a message when
nbclient, nbformat, ipykernel or matplotlib is missing.
"""
import argparse
import os
import pathlib
import re
import sys
import time

SKIP = 77


def _missing_packages():
    missing = []
    for module, debian in [("nbclient", "python3-nbclient"), ("nbformat", "python3-nbformat"),
                           ("ipykernel", "python3-ipykernel"), ("matplotlib", "python3-matplotlib")]:
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{module} (Debian: {debian})")
    return missing


def _count_pngs(nb):
    return sum(1 for cell in nb.cells if cell.cell_type == "code"
               for out in cell.get("outputs", []) if "image/png" in out.get("data", {}))


def _first_error(nb):
    for index, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.get("output_type") == "error":
                return index, out
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook", type=pathlib.Path)
    parser.add_argument("--output", type=pathlib.Path, help="write the executed notebook here")
    parser.add_argument("--timeout", type=int, default=120, help="seconds allowed per cell (default 120)")
    parser.add_argument("--budget", type=float, default=60.0,
                        help="seconds the whole notebook should take; over it, a warning (default 60)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel name (default python3)")
    args = parser.parse_args()

    missing = _missing_packages()
    if missing:
        print(f"skipped: {args.notebook.name} needs {', '.join(missing)} for {sys.executable}")
        return SKIP
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = args.notebook.resolve()
    nb = nbformat.read(path, as_version=4)
    # The kernel inherits this environment: keep it from writing __pycache__ into the source tree,
    # and give OpenMP the readers' short spin (gptbook_notebook.py) unless a policy is set (the
    # CTest environment sets passive waiting: tests run side by side).
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    # The kernel runs in the notebook's folder: paths given relative to here must still work there.
    for name in ("GPTBOOK_PYTHON_DIR", "GPTBOOK_NOTEBOOK_RUNS", "GPTBOOK_DATA_DIR", "GPTBOOK_DATA_MIRROR"):
        if os.environ.get(name):
            os.environ[name] = os.path.abspath(os.environ[name])
    if "OMP_WAIT_POLICY" not in os.environ:
        os.environ.setdefault("GOMP_SPINCOUNT", "10000")
    # ipykernel's debugger otherwise warns about frozen modules on every start.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
    client = NotebookClient(nb, timeout=args.timeout, kernel_name=args.kernel,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    failure = None
    try:
        client.execute()
    except CellExecutionError as error:
        failure = str(error)
    except (CellTimeoutError, DeadKernelError) as error:
        failure = f"{type(error).__name__}: {error}"
    wall = time.perf_counter() - start

    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, args.output)
    code_cells = sum(1 for c in nb.cells if c.cell_type == "code")
    print(f"{path.name}: {code_cells} code cells, wall time {wall:.1f} s (budget {args.budget:.0f} s)")
    if failure is not None:
        found = _first_error(nb)
        where = f" in cell {found[0]}" if found else ""
        # The traceback comes coloured for a terminal; a test log wants plain text.
        plain = re.sub(r"\x1b\[[0-9;]*m", "", failure)
        print(f"FAILED{where}: a cell raised an error\n{plain}")
        return 1
    pngs = _count_pngs(nb)
    if pngs == 0:
        print("FAILED: the notebook displayed no figure (no image/png output); every notebook "
              "should show what the chapter is better seen than read")
        return 1
    print(f"{pngs} figures")
    if wall > args.budget:
        print(f"warning: {wall:.1f} s is over the budget of {args.budget:.0f} s; make the notebook faster")
    return 0


if __name__ == "__main__":
    sys.exit(main())
