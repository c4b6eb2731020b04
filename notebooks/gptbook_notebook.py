"""What every notebook imports first: the gptbook module, the trained runs, the corpus, the look.

    from gptbook_notebook import gb, run_dir, shakespeare_text

The notebooks run with notebooks/ as their working directory (Jupyter's default, and what
tools/notebooks/run_notebook.py does), so this file finds everything from its own location:

- ``gb``: the C++ library's Python module. Taken from ``$GPTBOOK_PYTHON_DIR`` when set, otherwise
  from the most recently built ``build/*/python/gptbook*.so`` of this checkout.
- ``run_dir(name)``: a small model trained by prepare_runs.py. Under ``$GPTBOOK_NOTEBOOK_RUNS``
  when set (the test suite trains them there once per run), otherwise under ``notebooks/runs/``
  (git-ignored), trained on first use: the first notebook you open takes a minute longer.
- ``shakespeare_text()``: tiny Shakespeare, found or fetched as ``gptbook data fetch`` does.
- ``gptbook_exe()``: the ``gptbook`` command of the same build, for what only the command does
  (chapter 12's PPO).
- matplotlib defaults, so that every notebook's figures look alike.
"""
import importlib
import os
import pathlib
import sys

NOTEBOOK_DIR = pathlib.Path(__file__).resolve().parent
REPO_ROOT = NOTEBOOK_DIR.parent


def _module_dir() -> pathlib.Path:
    """The directory holding gptbook*.so: $GPTBOOK_PYTHON_DIR, else the newest build's."""
    explicit = os.environ.get("GPTBOOK_PYTHON_DIR")
    if explicit:
        path = pathlib.Path(explicit)
        if not list(path.glob("gptbook*.so")) and not list(path.glob("gptbook*.pyd")):
            raise ImportError(f"GPTBOOK_PYTHON_DIR={explicit} holds no gptbook*.so; point it at "
                              "<build>/python of a build configured with -DGPTBOOK_PYTHON=ON")
        return path
    built = sorted((REPO_ROOT / "build").glob("*/python/gptbook*.so"),
                   key=lambda so: so.stat().st_mtime)
    if not built:
        raise ImportError(
            f"the gptbook Python module was not found in {REPO_ROOT / 'build'}/*/python. Build it: "
            "`cmake --preset release && cmake --build --preset release` (the module is on by "
            "default when pybind11-dev and the Python headers are installed; otherwise configure "
            "with -DGPTBOOK_PYTHON=ON to see what is missing), or set GPTBOOK_PYTHON_DIR to the "
            "directory that holds gptbook*.so")
    return built[-1].parent


def _import_gptbook():
    path = str(_module_dir())
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module("gptbook")


# OpenMP threads spin while they wait for each other (300,000 spins by default), which makes a
# shared or busy machine crawl; 10,000 spins is as fast on an idle machine and about 8x faster on a
# busy one (measured, see src/gptbook/cli/main.cpp, which does the same for the gptbook command).
# Read once, when the first OpenMP library loads: import this module before NumPy where it matters
# (run_notebook.py and the tests also set it for the kernel). A policy the user set is kept.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")
# The corpus cache is data/cache under the repository, wherever the kernel was started; without
# this, the notebooks' working directory (notebooks/) would get a second copy.
os.environ.setdefault("GPTBOOK_DATA_DIR", str(REPO_ROOT / "data" / "cache"))
gb = _import_gptbook()


def runs_root() -> pathlib.Path:
    """Where the notebooks' trained runs live: $GPTBOOK_NOTEBOOK_RUNS or notebooks/runs."""
    return pathlib.Path(os.environ.get("GPTBOOK_NOTEBOOK_RUNS") or NOTEBOOK_DIR / "runs")


def run_dir(name: str) -> pathlib.Path:
    """The directory of the trained run `name` (see prepare_runs.RUNS), trained now if missing.

    A run counts as present once prepare_runs.py has written its `complete.json`, and only if
    that file records the same recipe as prepare_runs.py holds now, so an edited recipe retrains.
    """
    sys.path.insert(0, str(NOTEBOOK_DIR))
    try:
        import prepare_runs
    finally:
        sys.path.remove(str(NOTEBOOK_DIR))
    root = runs_root()
    if not prepare_runs.is_complete(root / name, name):
        print(f"run {name!r} not found in {root}; training it once (about a minute) ...", flush=True)
        prepare_runs.prepare(name, root, gb=gb, log=print)
    return root / name


_shakespeare = None


def shakespeare_text() -> str:
    """Tiny Shakespeare (1,115,394 characters), read once per kernel."""
    global _shakespeare
    if _shakespeare is None:
        _shakespeare = gb.load_corpus(gb.corpus_path("shakespeare"))
    return _shakespeare


def gptbook_exe() -> pathlib.Path:
    """The `gptbook` command built beside the module: <build>/gptbook for <build>/python/gptbook*.so."""
    build = pathlib.Path(gb.__file__).resolve().parent.parent
    for name in ("gptbook", "gptbook.exe"):
        if (build / name).is_file():
            return build / name
    raise FileNotFoundError(
        f"the gptbook command was not found in {build}, the build the module came from; build it "
        f"with `cmake --build {build} --target gptbook` (the default `cmake --build` builds it too)")


def char_label(ch: str) -> str:
    """A character as a figure label: newline as \\n, space as a visible open box."""
    return {"\n": "\\n", " ": "\u2423", "\t": "\\t"}.get(ch, ch)


def _matplotlib_defaults() -> None:
    try:
        import matplotlib as mpl
    except ImportError:
        return
    mpl.rcParams.update({
        "figure.figsize": (8.0, 4.5),
        "figure.dpi": 100,
        "savefig.dpi": 100,
        "figure.autolayout": False,
        "figure.constrained_layout.use": True,
        "axes.titlesize": 12,
        "axes.labelsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": "viridis",
        "image.interpolation": "nearest",   # a heatmap cell is one number: no blurring between cells
        "font.size": 10,
    })


_matplotlib_defaults()
