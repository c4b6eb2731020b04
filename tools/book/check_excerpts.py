#!/usr/bin/env python3
"""Check that the book says what the code does.

    check_excerpts.py --chapters chapters --build build/release   # excerpts and cheap commands
    check_excerpts.py --chapters chapters --build build/release --slow --workdir /tmp/book
                                                                   # every command, slow ones too
    check_excerpts.py --chapters chapters --build build/release --slow --slow-only --workdir /tmp/book
                                                                   # the slow commands alone
    check_excerpts.py --chapters chapters --sections-only          # section order only
    check_excerpts.py --chapters chapters --build build/release --page README.md --only none
                                                                   # the README's commands alone

In a chapter README (chapters/NN_name/README.md):

* An excerpt of a program's output is a ```text block right after a marker

      <!-- output: demo_04_attention --smoke -->

  The first word names a demo (found in BUILD/chapters/*/) or `gptbook` (BUILD/gptbook); the rest
  are its arguments. The program runs from the repository root, and the excerpt's lines must
  appear in its standard output contiguous and in order: words verbatim (trailing spaces aside),
  printed numbers within their rounding (compare_text.py), so an excerpt holds on any x86-64 CPU. A line that is
  exactly `...` in the excerpt skips any number of lines: the pieces must then appear in order.
* A ```sh block right after `<!-- run -->` is run with bash (-e) from the repository root, with
  every `build/release/` replaced by BUILD; it must exit with 0. A block that takes minutes is
  marked `<!-- run: slow (why) -->`: it runs only with --slow, which runs every block in a scratch
  working directory (--workdir, holding links to the repository's data/ and tools/) so that the
  runs it trains never overwrite a reader's runs/. `<!-- run: slow, needs runs/NAME (why) -->`
  marks a block that uses a run another chapter's block trains (every runs/NAME after `needs`
  counts): it starts when the blocks that name that run without needing it have finished. The
  slow blocks run --jobs at a time (default: one per CPU), each bound to its share of the CPUs,
  so that each trains on one core of a 2-core machine; a block that calls mpirun runs alone, and
  the only block that can start while nothing runs gets every CPU.
  `<!-- run: fails (why) -->` marks a block that must exit with an error as things stand (the
  exercises' tests before they are solved): it runs, and passes when its exit code is not 0.
  `<!-- run: skip (why) -->` is for the rare block that cannot run here (a GPU, a benchmark).
* The `## ` headings are exactly the book's sections, in order (SECTIONS below).
* The text has no control characters, and each paragraph an even number of `$` (closed math).

A page that is not a chapter (`--page README.md`) is checked the same way, without the sections,
and there every ```sh block must carry one of the markers: each command a reader is shown runs.
Its slow blocks run in WORKDIR-pages, with a copy of each chapter run they need.

Exit code 0 when everything holds, 1 with one line per problem otherwise.
"""
import argparse
import glob
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from compare_text import line_difference, lines_match

SECTIONS = ["Goal", "Prerequisites", "What you will build", "The math", "Walkthrough", "Run it",
            "Check it", "Exercises", "References"]
MARKER = re.compile(r"^<!--\s*(output|run)\s*(?::\s*(.*?))?\s*-->\s*$")
FENCE = re.compile(r"^```(\w*)\s*$")
TIMEOUT_S = 300
SLOW_TIMEOUT_S = 1800
NEEDS = re.compile(r"^slow\s*,\s*needs\s+(.*)")
RUN_NAME = re.compile(r"runs/[\w.-]*[\w]")


def chapter_readmes(chapters_dir):
    """Every chapters/NN_name/ folder, with the path of its README (which may be missing)."""
    folders = sorted(d for d in glob.glob(os.path.join(chapters_dir, "[0-9][0-9]_*"))
                     if os.path.isdir(d))
    return [(os.path.basename(d), os.path.join(d, "README.md")) for d in folders]


def check_sections(name, text):
    headings = [line[3:].strip() for line in text.splitlines() if line.startswith("## ")]
    if headings != SECTIONS:
        return [f"{name}/README.md: sections are {headings}; the book's order is {SECTIONS}"]
    return []


def check_text(name, text):
    """Problems a renderer would show: a control character (a TAB that was meant as `\t` in
    `\times`), or a paragraph with an odd number of `$` (math that never closes)."""
    problems = []
    for i, line in enumerate(text.splitlines(), 1):
        bad = [c for c in line if ord(c) < 32 or ord(c) == 127]
        if bad:
            problems.append(f"{name}/README.md:{i}: control character {bad[0]!r} in the text; "
                            "a backslash sequence such as \\t may have been written as a TAB")
    # Code blocks and code spans may hold any `$`; they keep their line count so numbers stay right.
    prose = re.sub(r"```.*?```", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    paragraph, start = [], 1
    for i, line in enumerate(prose.split("\n") + [""], 1):
        if line.strip():
            start = i if not paragraph else start
            paragraph.append(line)
            continue
        dollars = len(re.findall(r"(?<!\\)\$", re.sub(r"`[^`]*`", "", "\n".join(paragraph))))
        if dollars % 2:
            problems.append(f"{name}/README.md:{start}: the paragraph has {dollars} `$`, an odd number: "
                            "a formula is not closed (write a literal dollar as \\$)")
        paragraph = []
    return problems


def marked_blocks(text):
    """(line number, kind, argument, fence language, block lines) for every marked code block."""
    lines = text.splitlines()
    blocks = []
    for i, line in enumerate(lines):
        match = MARKER.match(line.strip())
        if not match:
            continue
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        fence = FENCE.match(lines[j].strip()) if j < len(lines) else None
        if not fence:
            blocks.append((i + 1, match.group(1), match.group(2) or "", None, []))
            continue
        end = j + 1
        while end < len(lines) and not lines[end].strip().startswith("```"):
            end += 1
        blocks.append((i + 1, match.group(1), match.group(2) or "", fence.group(1),
                       lines[j + 1:end]))
    return blocks


def find_program(build_dir, program):
    if program == "gptbook":
        return os.path.join(build_dir, "gptbook")
    found = glob.glob(os.path.join(build_dir, "chapters", "*", program))
    return found[0] if found else None


def excerpt_difference(output_lines, excerpt_lines):
    """None when the excerpt's pieces (split at `...` lines) appear contiguously, in order, in the
    output; otherwise what differs, from the place in the output that matches the piece best."""
    pieces, piece = [], []
    for line in excerpt_lines:
        if line.strip() == "...":
            pieces.append(piece)
            piece = []
        else:
            piece.append(line.rstrip())
    pieces.append(piece)
    start = 0
    for piece in (p for p in pieces if p):
        best = None  # (lines matched, first differing excerpt line, the output line there)
        for k in range(start, len(output_lines) - len(piece) + 1):
            window = output_lines[k:k + len(piece)]
            matched = [lines_match(e, a) for e, a in zip(piece, window)]
            if all(matched):
                start = k + len(piece)
                break
            if best is None or sum(matched) > best[0]:
                first = matched.index(False)
                best = (sum(matched), piece[first], window[first])
        else:
            if best is None or best[0] == 0:
                return f"`{piece[0].strip()}` and the lines after it are not in the output"
            why = line_difference(best[1], best[2])
            return f"expected `{best[1].strip()}`, the output has `{best[2].strip()}` ({why})"
    return None


def run_output(build_dir, command, cache):
    if command in cache:
        return cache[command]
    words = shlex.split(command)
    program = find_program(build_dir, words[0]) if words else None
    if not program or not os.path.exists(program):
        cache[command] = (None, f"`{words[0] if words else command}` not found in {build_dir} "
                                "(is it built? `cmake --build` the build directory first)")
        return cache[command]
    try:
        result = subprocess.run([program] + words[1:], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        cache[command] = (None, f"`{command}` ran longer than {TIMEOUT_S} s")
        return cache[command]
    if result.returncode != 0:
        cache[command] = (None, f"`{command}` exited with code {result.returncode}: "
                                f"{result.stderr.decode('utf-8', 'replace').strip()[-300:]}")
    else:
        out = result.stdout.decode("utf-8", "replace")
        cache[command] = ([line.rstrip() for line in out.splitlines()], None)
    return cache[command]


def block_script(build_dir, script):
    """The block's lines as one bash script, every `build/release` replaced by BUILD."""
    build = os.path.abspath(build_dir)
    return "\n".join(re.sub(r"(?<![\w/.-])build/release(?=/|\s|$)", build, line) for line in script)


def block_verdict(returncode, output, must_fail=False):
    """None when a finished block did what its marker says; otherwise why not."""
    tail = output.decode("utf-8", "replace").strip()[-400:]
    if must_fail:
        # It must fail for its own reason: a missing program or file is not what the marker means.
        if returncode in (126, 127) or "No such file or directory" in tail:
            return f"could not run (exit code {returncode}): {tail}"
        return None if returncode != 0 else f"exited with code 0, but it is marked to fail: {tail}"
    if returncode != 0:
        return f"exited with code {returncode}: {tail}"
    return None


def run_block(build_dir, script, timeout=TIMEOUT_S, must_fail=False):
    """Runs a cheap block from the repository root and waits for it."""
    try:
        result = subprocess.run(["bash", "-e", "-c", block_script(build_dir, script)], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return f"ran longer than {timeout} s; mark it `<!-- run: slow (why) -->`"
    return block_verdict(result.returncode, result.stdout, must_fail)


def unmarked_command_blocks(text):
    """Line numbers of the ```sh blocks that no marker precedes."""
    lines = text.splitlines()
    found, inside = [], False
    for i, line in enumerate(lines):
        fence = FENCE.match(line.strip())
        if not fence and not line.strip().startswith("```"):
            continue
        if inside:
            inside = False
            continue
        inside = True
        if fence and fence.group(1) == "sh":
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            if k < 0 or not MARKER.match(lines[k].strip()):
                found.append(i + 1)
    return found


def check_blocks(path, text, build_dir, cache, counts, slow, cheap=True):
    """Checks the excerpts and runs the cheap blocks (unless not `cheap`); returns (problems, deferred
    slow blocks)."""
    problems, deferred = [], []
    for line_no, kind, argument, language, body in marked_blocks(text):
        where = f"{path}:{line_no}"
        if language is None:
            problems.append(f"{where}: `<!-- {kind} -->` is not followed by a ``` block")
        elif not cheap and not (kind == "run" and argument.startswith("slow")):
            counts["skipped"] += 1
        elif kind == "output":
            if not argument:
                problems.append(f"{where}: expected `<!-- output: PROGRAM ARGS -->`")
                continue
            output, error = run_output(build_dir, argument, cache)
            if error:
                problems.append(f"{where}: {error}")
            elif (difference := excerpt_difference(output, body)) is not None:
                problems.append(f"{where}: the excerpt differs from the output of `{argument}`: "
                                f"{difference}. If you changed the code on purpose, paste the "
                                "current output (run it from the repository root); if you changed "
                                "nothing, the output depends on the machine: please report it")
            else:
                counts["excerpts"] += 1
        elif argument.startswith("skip"):
            counts["skipped"] += 1
        elif argument.startswith("fails"):
            error = run_block(build_dir, body, must_fail=True)
            if error:
                problems.append(f"{where}: the `<!-- run: fails -->` block {error}")
            else:
                counts["run"] += 1
        elif argument.startswith("slow"):
            if slow:
                deferred.append((where, argument, body))
            else:
                counts["skipped"] += 1
        elif argument:
            problems.append(f"{where}: unknown marker `<!-- run: {argument} -->`; "
                            "expected `<!-- run -->`, `<!-- run: slow (why) -->`, `<!-- run: fails (why) -->` "
                            "or `<!-- run: skip (why) -->`")
        else:
            error = run_block(build_dir, body)
            if error:
                problems.append(f"{where}: the `<!-- run -->` block {error}")
            else:
                counts["run"] += 1
    return problems, deferred


WORKDIR_MARK = ".gptbook-book-workdir"


def make_workdir(workdir, repo_root):
    """A fresh scratch directory that sees the repository's data/, tools/ and scripts/.

    Returns a problem when `workdir` holds files that this script did not put there."""
    if os.path.isdir(workdir) and os.listdir(workdir):
        if not os.path.exists(os.path.join(workdir, WORKDIR_MARK)):
            return (f"--workdir {workdir} is not empty and was not made by this script; "
                    "name a new directory (it is emptied on every run)")
        shutil.rmtree(workdir)
    os.makedirs(workdir, exist_ok=True)
    open(os.path.join(workdir, WORKDIR_MARK), "w").close()
    for entry in ("data", "tools", "scripts"):
        os.symlink(os.path.join(repo_root, entry), os.path.join(workdir, entry))
    return None


def needed_runs(argument):
    """The runs a slow block's marker names after `needs`: every runs/NAME in the rest of it."""
    needs = NEEDS.search(argument)
    return RUN_NAME.findall(needs.group(1)) if needs else []


def mentions(body, run):
    return re.search(r"(?<![\w./-])" + re.escape(run) + r"(?![\w.-])", "\n".join(body)) is not None


def copy_needed_runs(block):
    """Copies into a page's scratch directory each run its block needs that the chapters' holds."""
    for run in block.needs if block.runs_from else []:
        source, target = os.path.join(block.runs_from, run), os.path.join(block.workdir, run)
        if os.path.isdir(source) and not os.path.exists(target):
            shutil.copytree(source, target)


def cpu_groups(jobs):
    """The CPUs this process may use, split into `jobs` groups (fewer when there are fewer CPUs)."""
    cpus = sorted(os.sched_getaffinity(0))
    jobs = max(1, min(jobs, len(cpus)))
    return [cpus[i::jobs] for i in range(jobs)]


class SlowBlock:
    """A slow block, the blocks whose runs it waits for, and its process while it runs."""

    def __init__(self, where, argument, body, workdir, runs_from=None):
        self.where, self.argument, self.body = where, argument, body
        # The scratch directory it runs in, and the one the runs it needs are copied from (a page's
        # block: the README's uses chapter 08's run) or None (a chapter's: they are trained there).
        self.workdir, self.runs_from = workdir, runs_from
        self.needs = needed_runs(argument)
        self.waits_for = []  # the blocks that train a run this one needs
        self.is_needed = False
        # mpirun places its ranks on the cores itself: such a block runs alone, on all of them.
        self.alone = any("mpirun" in line for line in body)
        self.whole = False  # runs on all the CPUs
        self.process = self.output = self.started = self.cpus = None


def link_slow_blocks(blocks):
    """Each block waits for the blocks that mention a run it needs without needing it themselves
    (chapter 08's block trains runs/shakespeare-char-cpu, which chapter 03's needs), in its own
    directory or the one its runs are copied from."""
    for block in blocks:
        for run in block.needs:
            for other in blocks:
                if other is not block and other.workdir in (block.workdir, block.runs_from) \
                        and run not in other.needs and mentions(other.body, run):
                    block.waits_for.append(other)
                    other.is_needed = True


def start_slow_block(build_dir, block, cpus):
    block.output = tempfile.TemporaryFile()
    block.cpus, block.started = cpus, time.monotonic()
    block.process = subprocess.Popen(
        ["bash", "-e", "-c", block_script(build_dir, block.body)], stdin=subprocess.DEVNULL,
        stdout=block.output, stderr=subprocess.STDOUT, cwd=block.workdir, start_new_session=True,
        preexec_fn=lambda: os.sched_setaffinity(0, cpus))


def has_ended(block):
    """True once the block's shell has exited; it stays unreaped (a zombie) until stop_slow_block, so
    that its process group, and the pid that names it, still exist to be ended."""
    return os.waitid(os.P_PID, block.process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def stop_slow_block(block):
    """Ends whatever the block left running (a server started with &, a command that outlived a
    failure, or the whole block when it ran out of time), then reaps its shell."""
    try:
        os.killpg(block.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    block.process.wait()


def finish_slow_block(block):
    """None when the finished (or timed-out) block passed; otherwise why not."""
    seconds = time.monotonic() - block.started
    timed_out = not has_ended(block)
    stop_slow_block(block)
    if timed_out:
        error = (f"ran longer than {SLOW_TIMEOUT_S} s (is the machine busy? see README.md, "
                 "'On a busy machine')")
    else:
        block.output.seek(0)
        error = block_verdict(block.process.returncode, block.output.read())
    block.output.close()
    print(f"  {block.where}: {seconds:.0f} s", flush=True)
    return None if error is None else f"{block.where}: the `<!-- run: {block.argument} -->` block {error}"


class SlowRunner:
    """Runs the slow blocks, `jobs` at a time, each on its own share of the CPUs (a training run on
    one core does more work per core than one spread over two: on 2 cores two blocks at once finish
    sooner than one after the other). A block starts when the blocks that train the runs it needs
    have finished; those come first, then the book's order."""

    def __init__(self, build_dir, blocks, jobs, counts):
        self.build_dir, self.counts = build_dir, counts
        link_slow_blocks(blocks)
        self.waiting = sorted(blocks, key=lambda b: not b.is_needed)  # stable: the book's order after
        self.groups = cpu_groups(jobs)
        self.running, self.finished, self.problems = [], set(), []

    def run(self):
        try:
            while self.waiting or self.running:
                self.collect_finished()
                self.start_ready()
                if self.waiting and not self.running and not any(self.ready(b) for b in self.waiting):
                    self.problems += [f"{b.where}: the block waits for runs no block can make (a cycle "
                                      "of `needs`)" for b in self.waiting]
                    break
                time.sleep(0.2)
        finally:  # Ctrl-C, a signal or an error here: the blocks run in sessions of their own, so end them too
            for block in self.running:
                if block.process is not None:
                    stop_slow_block(block)
        return self.problems

    def ready(self, block):
        return all(b in self.finished for b in block.waits_for)

    def free_groups(self):
        """The CPU groups no running block holds (none while a block holds them all)."""
        if any(b.whole for b in self.running):
            return []
        return [g for g in self.groups if g not in [b.cpus for b in self.running]]

    def collect_finished(self):
        for block in [b for b in self.running if has_ended(b) or time.monotonic() - b.started > SLOW_TIMEOUT_S]:
            error = finish_slow_block(block)
            self.running.remove(block)
            self.problems += [error] if error else []
            self.counts["run"] += 0 if error else 1
            self.finished.add(block)

    def start_ready(self):
        ready = [b for b in self.waiting if self.ready(b)]
        for block in ready:
            free = self.free_groups()
            if not free or (block.alone and self.running):
                return  # nothing overtakes a block that waits for cores
            self.waiting.remove(block)
            copy_needed_runs(block)
            missing = [run for run in block.needs if not os.path.exists(os.path.join(block.workdir, run))]
            if missing:
                self.problems.append(f"{block.where}: the block needs {missing[0]}, which no other block created")
                self.finished.add(block)
                continue
            # All the CPUs for an mpirun block, and for the only block that can run now (the others
            # wait for it, or there are none).
            block.whole = block.alone or (not self.running and len(ready) == 1)
            cpus = sorted(c for group in self.groups for c in group) if block.whole else free[0]
            self.running.append(block)  # first, so that the cleanup above sees it once it has a process
            start_slow_block(self.build_dir, block, cpus)
            print(f"running {block.where} on CPU {','.join(map(str, cpus))} ...", flush=True)


def run_slow_blocks(args, chapter_blocks, page_blocks, counts):
    """Runs the chapters' and the pages' slow blocks with one SlowRunner; returns the problems.

    The pages' blocks get a scratch directory of their own (the README trains some of the runs the
    chapters train, and `gptbook train` refuses to overwrite a run); a run one of them needs (the
    README's block uses chapter 08's) is copied there from the chapters' once the block that trains
    it has ended, instead of being trained again."""
    repo_root = os.path.dirname(os.path.abspath(args.chapters))
    chapters_dir = os.path.abspath(args.workdir)
    problems, blocks = [], []
    for found, workdir, runs_from in ((chapter_blocks, chapters_dir, None),
                                      (page_blocks, f"{chapters_dir}-pages", chapters_dir)):
        problem = make_workdir(workdir, repo_root) if found else None
        if problem:
            problems.append(problem)
            continue
        blocks += [SlowBlock(where, argument, body, workdir, runs_from) for where, argument, body in found]
    return problems + SlowRunner(args.build, blocks, args.jobs, counts).run()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", required=True, help="the chapters/ folder")
    parser.add_argument("--build", help="the build directory (holds gptbook and chapters/*/demo_*)")
    parser.add_argument("--sections-only", action="store_true", help="check section order only")
    parser.add_argument("--only", default="", help="chapter folders to check, separated by ';' (default: all)")
    parser.add_argument("--page", action="append", default=[],
                        help="another Markdown page to check, such as README.md (repeatable)")
    parser.add_argument("--slow", action="store_true", help="also run the blocks marked slow")
    parser.add_argument("--slow-only", action="store_true",
                        help="with --slow: only the blocks marked slow (the checks without --slow do the rest)")
    parser.add_argument("--workdir", help="with --slow: the scratch directory the blocks run in")
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)),
                        help="with --slow: blocks run at once, each on its share of the CPUs "
                             "(default: one per CPU; 1 runs them one after another on all CPUs)")
    args = parser.parse_args()
    if not args.sections_only and not args.build:
        parser.error("--build is required unless --sections-only")
    if args.slow and not args.workdir:
        parser.error("--slow needs --workdir (a scratch directory; the slow blocks write runs/ there)")
    if args.slow_only and not args.slow:
        parser.error("--slow-only goes with --slow")
    if args.jobs < 1:
        parser.error(f"--jobs is {args.jobs}; expected 1 or more blocks at once")

    problems, cache, slow_blocks, page_slow_blocks = [], {}, [], []
    counts = {"chapters": 0, "pages": 0, "excerpts": 0, "run": 0, "skipped": 0}
    only = {name for name in args.only.split(";") if name}
    for name, readme in chapter_readmes(args.chapters):
        if only and name not in only:
            continue
        if not os.path.exists(readme):
            problems.append(f"{name}: no README.md; every chapter folder has one")
            continue
        with open(readme, encoding="utf-8") as f:
            text = f.read()
        counts["chapters"] += 1
        problems += check_sections(name, text)
        problems += check_text(name, text)
        if not args.sections_only:
            found, deferred = check_blocks(f"{name}/README.md", text, args.build, cache, counts, args.slow,
                                           not args.slow_only)
            problems += found
            slow_blocks += deferred
    for page in args.page if not args.sections_only else []:
        with open(page, encoding="utf-8") as f:
            text = f.read()
        counts["pages"] += 1
        shown = os.path.relpath(page)
        problems += [f"{shown}:{n}: a ```sh block without a marker; mark it `<!-- run -->`, "
                     "`<!-- run: slow (why) -->` or `<!-- run: skip (why) -->`" for n in unmarked_command_blocks(text)]
        found, deferred = check_blocks(shown, text, args.build, cache, counts, args.slow, not args.slow_only)
        problems += found
        page_slow_blocks += deferred
    if args.slow:
        problems += run_slow_blocks(args, slow_blocks, page_slow_blocks, counts)

    for problem in problems:
        print(problem)
    if args.sections_only:
        print(f"{counts['chapters']} chapter texts checked; {len(problems)} problems")
    else:
        print(f"{counts['chapters']} chapters, {counts['pages']} other pages: {counts['excerpts']} excerpts match, "
              f"{counts['run']} run blocks ran, {counts['skipped']} skipped; "
              f"{len(problems)} problems")
    return 1 if problems else 0


def exit_on_signal(signum, _frame):
    """SIGTERM or SIGHUP (a CI run cancelled, a terminal closed): exit through SlowRunner.run's
    cleanup, as Ctrl-C does."""
    sys.exit(128 + signum)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, exit_on_signal)
    signal.signal(signal.SIGHUP, exit_on_signal)
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the running blocks were ended (SlowRunner.run)
        print("interrupted; the blocks that were running were stopped", file=sys.stderr)
        sys.exit(130)
