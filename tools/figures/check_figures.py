#!/usr/bin/env python3
"""Check that every figure the book shows is made by tools/figures/make_figures.py.

    tools/figures/check_figures.py --build build/release --chapters chapters

Runs make_figures.py into a fresh temporary directory, then reads every chapter's README.md and
fails, one line per problem, when
  * a figure the text shows (`![...](figures/NAME)`, outside code blocks) is missing from the
    chapter's figures/ folder, or was not made by the script run;
  * a figure has no caption (`*Figure N.M: ...*` on the next line, or after one blank line), or
    the captions of a chapter are not numbered N.1, N.2, ... in the order the figures appear;
  * a chapter shows fewer than two figures;
  * a Graphviz source figures/NAME.dot has no rendered figures/NAME.svg beside it;
  * two chapters use the same file name (the docs site copies every figure into one folder).
Prints a summary and exits 0 when all is well; exits 77 (CTest's "skipped") when matplotlib or
Graphviz is not installed, which make_figures.py reports with exit code 3.
"""
import argparse
import pathlib
import re
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
FIGURE = re.compile(r"^!\[[^\]]*\]\(figures/([^)\s]+)\)\s*$")
CAPTION = re.compile(r"^\*Figure (\d+)\.(\d+): \S.*\*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
MIN_FIGURES = 2
EXIT_SKIP = 77
MAKE_FIGURES_MISSING_TOOL = 3


def shown_figures(readme):
    """[(line number, file name, caption line or None)] for each figure README.md shows."""
    lines = readme.read_text(encoding="utf-8").splitlines()
    found, fenced = [], False
    for i, line in enumerate(lines):
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else FIGURE.match(line)
        if not match:
            continue
        following = [lines[j] for j in range(i + 1, min(i + 3, len(lines)))]
        if following and not following[0].strip():
            following = following[1:]               # one blank line between figure and caption
        caption = following[0] if following and CAPTION.match(following[0]) else None
        found.append((i + 1, match.group(1), caption))
    return found


def check_chapter(chapter, made, names_seen):
    """The problems of one chapter folder; `made` is the set of files the script run wrote."""
    problems = []
    name, number = chapter.name, int(chapter.name[:2])
    figures = shown_figures(chapter / "README.md")
    for k, (line, file, caption) in enumerate(figures, start=1):
        where = f"{name}/README.md:{line}: figures/{file}"
        if not (chapter / "figures" / file).is_file():
            problems.append(f"{where} is not in {name}/figures/ (run tools/figures/make_figures.py)")
        if (name, file) not in made:
            problems.append(f"{where} was not made by make_figures.py: add a plot function for it, "
                            "or a Graphviz source figures/NAME.dot")
        if caption is None:
            problems.append(f"{where} has no caption: `*Figure {number}.{k}: what to see.*` on the next line")
        else:
            got = tuple(int(g) for g in CAPTION.match(caption).groups())
            if got != (number, k):
                problems.append(f"{where}: its caption says Figure {got[0]}.{got[1]}, expected "
                                f"Figure {number}.{k} (numbered in the order they appear)")
        other = names_seen.setdefault(file, name)
        if other != name:
            problems.append(f"{where}: {other} has a figure of the same name; the docs site copies "
                            "every figure into one folder, so names must differ (chNN_...)")
    if len(figures) < MIN_FIGURES:
        problems.append(f"{name}/README.md shows {len(figures)} figure(s); every chapter shows at least "
                        f"{MIN_FIGURES}")
    for dot in sorted((chapter / "figures").glob("*.dot")):
        if not dot.with_suffix(".svg").is_file():
            problems.append(f"{name}/figures/{dot.name} has no {dot.with_suffix('.svg').name} beside it "
                            "(run tools/figures/make_figures.py)")
    return problems, len(figures)


def run_make_figures(build, out):
    """Runs make_figures.py --out `out`; returns (exit code, its output, seconds)."""
    t0 = time.perf_counter()
    command = [sys.executable, str(HERE / "make_figures.py"), "--build", str(build), "--out", str(out)]
    result = subprocess.run(command, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr, time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", required=True, type=pathlib.Path,
                        help="the build directory (python/gptbook*.so)")
    parser.add_argument("--chapters", required=True, type=pathlib.Path, help="the book's chapters/ folder")
    args = parser.parse_args()
    chapters = sorted(p for p in args.chapters.glob("[0-9][0-9]_*") if (p / "README.md").is_file())
    if not chapters:
        print(f"check_figures: no chapters/NN_name/README.md under {args.chapters}", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory(prefix="gptbook-figures-") as tmp:
        out = pathlib.Path(tmp)
        code, output, seconds = run_make_figures(args.build, out)
        if code == MAKE_FIGURES_MISSING_TOOL:
            print(f"check_figures: skipped: {output.strip()}")
            return EXIT_SKIP
        if code != 0:
            print(output, end="")
            print(f"check_figures: make_figures.py failed (exit code {code}), output above", file=sys.stderr)
            return 1
        made = {(p.parent.name, p.name) for p in out.glob("*/*") if p.is_file()}

    problems, shown, names_seen = [], 0, {}
    for chapter in chapters:
        chapter_problems, count = check_chapter(chapter, made, names_seen)
        problems += chapter_problems
        shown += count
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_figures: {len(problems)} problem(s) in the book's figures", file=sys.stderr)
        return 1
    print(f"check_figures: {shown} figures in {len(chapters)} chapters, each captioned and made by "
          f"make_figures.py ({len(made)} files in {seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
