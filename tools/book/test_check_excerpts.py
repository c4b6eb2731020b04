#!/usr/bin/env python3
"""Tests of check_excerpts.py's slow-block runner, on a made-up book whose blocks sleep and write
down when and where they ran:

    python3 tools/book/test_check_excerpts.py      # (CTest: "the book checker runs slow blocks ...")
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SECTIONS = ["Goal", "Prerequisites", "What you will build", "The math", "Walkthrough", "Run it",
            "Check it", "Exercises", "References"]


def chapter(blocks):
    """A chapter text with the book's sections and the given (marker, script) blocks under "Run it"."""
    parts = []
    for section in SECTIONS:
        parts.append(f"## {section}\n\nText.\n")
        if section == "Run it":
            for marker, script in blocks:
                tag = f"run: {marker}" if marker else "run"
                parts.append(f"<!-- {tag} -->\n```sh\n{textwrap.dedent(script).strip()}\n```\n")
    return "# A chapter\n\n" + "\n".join(parts)


# Each block appends "NAME start|end TIME CPUS" to log.txt in the scratch directory.
def logged(name, body, seconds=1.0):
    return (f"echo \"{name} start $(date +%s.%N) $(taskset -pc $$ | sed 's/.*: //')\" >> log.txt\n"
            f"{body}\nsleep {seconds}\necho \"{name} end $(date +%s.%N)\" >> log.txt")


def all_cpus():
    """The CPUs this process may use, as taskset lists them ("0,1" or "0-3")."""
    return subprocess.run(["taskset", "-pc", str(os.getpid())], check=True,
                          stdout=subprocess.PIPE).stdout.decode().split(": ")[1].strip()


def cpu_set(listed):
    """{0, 1, 2, 3} for taskset's "0-3" or "0,1,2,3"."""
    cpus = set()
    for part in listed.split(","):
        first, _, last = part.partition("-")
        cpus |= set(range(int(first), int(last or first) + 1))
    return cpus


def gone(pid, seconds=5.0):
    """True when the process has ended within `seconds` (the kernel may take a moment)."""
    deadline = time.monotonic() + seconds
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    return not os.path.exists(f"/proc/{pid}")


class SlowBlocks(unittest.TestCase):
    def make_book(self, chapters, jobs, page=None):
        """A made-up book of `chapters` ({folder: blocks}) and a page with `page`'s blocks; returns
        (the checker's command, workdir)."""
        root = tempfile.mkdtemp(prefix="book-test-")
        self.addCleanup(shutil.rmtree, root)
        for folder, blocks in chapters.items():
            os.makedirs(os.path.join(root, "chapters", folder))
            with open(os.path.join(root, "chapters", folder, "README.md"), "w", encoding="utf-8") as f:
                f.write(chapter(blocks))
        for entry in ("data", "tools", "scripts"):
            os.makedirs(os.path.join(root, entry))
        workdir = os.path.join(root, "work")
        command = [sys.executable, os.path.join(HERE, "check_excerpts.py"), "--chapters", os.path.join(root, "chapters"),
                   "--build", os.path.join(root, "build"), "--slow", "--workdir", workdir, "--jobs", str(jobs)]
        if page:
            with open(os.path.join(root, "PAGE.md"), "w", encoding="utf-8") as f:
                f.write("# A page\n\n" + "\n".join(f"<!-- run: {m} -->\n```sh\n{b}\n```\n" for m, b in page))
            command += ["--page", os.path.join(root, "PAGE.md")]
        return command, workdir

    def run_book(self, chapters, jobs, page=None):
        """Runs the checker with --slow on a made-up book; returns (exit code, output,
        {name: (start, end, cpus)}, the scratch directory)."""
        command, workdir = self.make_book(chapters, jobs, page)
        result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False, timeout=120)
        times, lines = {}, []
        if os.path.exists(os.path.join(workdir, "log.txt")):
            with open(os.path.join(workdir, "log.txt"), encoding="utf-8") as f:
                lines = f.read().splitlines()
        for line in lines:
            words = line.split()
            start, end, cpus = times.get(words[0], (None, None, None))
            if words[1] == "start":
                times[words[0]] = (float(words[2]), end, words[3])
            else:
                times[words[0]] = (start, float(words[2]), cpus)
        return result.returncode, result.stdout.decode(), times, workdir

    def test_blocks_wait_for_the_runs_they_need_and_share_the_cpus(self):
        two_cpus = len(os.sched_getaffinity(0)) >= 2
        code, out, times, _ = self.run_book({
            "01_first": [("slow (trains runs/base)", logged("base", "mkdir -p runs/base", 2.0)),
                         ("slow, needs runs/base (uses it)", logged("user", "test -d runs/base", 0.2)),
                         ("slow (independent)", logged("other", "true"))],
            "02_second": [("slow, needs runs/base (and runs/user-out; both)",
                           logged("late", "test -d runs/user-out", 0.2)),
                          ("slow (its own run)", logged("maker", "mkdir -p runs/user-out", 0.3)),
                          ("slow (starts mpirun)", logged("alone", ": mpirun", 0.3))],
        }, jobs=2)
        self.assertEqual(code, 0, out)
        self.assertIn("6 run blocks ran", out)
        self.assertEqual(set(times), {"base", "other", "user", "late", "maker", "alone"})
        # A block that needs a run starts after every block that makes one it needs has ended.
        self.assertGreaterEqual(times["user"][0], times["base"][1])
        self.assertGreaterEqual(times["late"][0], times["base"][1])
        self.assertGreaterEqual(times["late"][0], times["maker"][1])
        # The mpirun block ran while nothing else did, on every CPU.
        for name, (start, end, _) in times.items():
            if name != "alone":
                self.assertTrue(end <= times["alone"][0] or start >= times["alone"][1], name)
        self.assertEqual(times["alone"][2], all_cpus())
        if two_cpus:
            # Two at once, each on CPUs of its own (one each on 2 CPUs).
            self.assertLess(times["other"][0], times["base"][1])
            self.assertFalse(cpu_set(times["base"][2]) & cpu_set(times["other"][2]))
            for name in ("base", "other", "user", "maker"):
                self.assertLess(cpu_set(times[name][2]), cpu_set(all_cpus()), name)

    def test_a_pages_blocks_run_apart_with_a_copy_of_the_runs_they_need(self):
        code, out, _, workdir = self.run_book(
            {"01_first": [("slow (trains runs/base)", "sleep 2\nmkdir -p runs\nmkdir runs/base runs/same\ntouch runs/base/weights"),
                          ("slow (another, quicker)", "sleep 0.2")]}, jobs=2,
            page=[("slow, needs runs/base (a copy)", "test -f runs/base/weights\nmkdir -p runs\nmkdir runs/same\n"
                                                      "test \"$(basename \"$PWD\")\" = work-pages\n"
                                                      "taskset -pc $$ | sed 's/.*: //' > cpus.txt")])
        self.assertEqual(code, 0, out)
        self.assertIn("3 run blocks ran", out)
        # The only block left to run got every CPU.
        with open(os.path.join(workdir + "-pages", "cpus.txt"), encoding="utf-8") as f:
            self.assertEqual(f.read().strip(), all_cpus())
        # (The page's block waited for the slower block, which trains its run, not the quicker one.)

    def test_one_job_runs_the_blocks_one_after_another(self):
        code, out, times, _ = self.run_book({
            "01_first": [("slow (a)", logged("a", "true", 0.3)), ("slow (b)", logged("b", "true", 0.3))]}, jobs=1)
        self.assertEqual(code, 0, out)
        self.assertGreaterEqual(times["b"][0], times["a"][1])

    def test_a_failing_block_a_missing_run_and_a_cycle_are_problems(self):
        code, out, _, _ = self.run_book({
            "01_first": [("slow (fails)", "echo about to fail\nfalse"),
                         ("slow, needs runs/nowhere (nobody trains it)", "true"),
                         ("slow, needs runs/x (one half of a cycle)", "mkdir -p runs/y"),
                         ("slow, needs runs/y (the other half)", "mkdir -p runs/x")]}, jobs=2)
        self.assertEqual(code, 1, out)
        self.assertIn("01_first/README.md:", out)
        self.assertRegex(out, r"block exited with code 1: about to fail")
        self.assertIn("the block needs runs/nowhere, which no other block created", out)
        self.assertEqual(out.count("a cycle of `needs`"), 2, out)
        self.assertIn("4 problems", out)

    def test_ctrl_c_or_sigterm_ends_the_blocks_that_run(self):
        at_once = min(2, len(os.sched_getaffinity(0)))
        for signum, code in ((signal.SIGINT, 130), (signal.SIGTERM, 128 + signal.SIGTERM)):
            with self.subTest(signal=signum.name):
                block = "(sleep 61) &\necho $$ $! > {}.pid\nsleep 60"
                command, workdir = self.make_book({"01_first": [("slow (a)", block.format("a")),
                                                                ("slow (b)", block.format("b"))]}, jobs=2)
                # (SIGINT restored: a test started in the background of a script inherits it ignored.)
                checker = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
                pids = [os.path.join(workdir, name) for name in ("a.pid", "b.pid")[:at_once]]
                deadline = time.monotonic() + 30
                while not all(os.path.exists(p) and os.path.getsize(p) for p in pids) and time.monotonic() < deadline:
                    time.sleep(0.1)
                checker.send_signal(signum)
                out = checker.communicate(timeout=30)[0].decode()
                self.assertEqual(checker.returncode, code, out)
                if signum == signal.SIGINT:
                    self.assertIn("interrupted; the blocks that were running were stopped", out)
                for path in pids:
                    with open(path, encoding="utf-8") as f:
                        for pid in map(int, f.read().split()):  # the block's shell, then its background sleep
                            self.assertTrue(gone(pid), f"{path}: process {pid} still runs after {signum.name}")

    def test_what_a_block_leaves_running_is_ended_with_it(self):
        code, out, _, workdir = self.run_book({"01_first": [("slow (starts a server, forgets it)",
                                                             "(sleep 120) &\necho $! > server.pid\nfalse")]}, jobs=2)
        self.assertEqual(code, 1, out)
        with open(os.path.join(workdir, "server.pid"), encoding="utf-8") as f:
            self.assertTrue(gone(int(f.read())), "the block's background process outlived it")

    def test_slow_only_leaves_the_cheap_blocks_to_the_other_check(self):
        book = {"01_first": [("", "echo a cheap block that fails; false"), ("slow (fine)", "true")]}
        command, _ = self.make_book(book, jobs=2)
        both = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        self.assertEqual(both.returncode, 1)
        self.assertIn("a cheap block that fails", both.stdout.decode())
        command, _ = self.make_book(book, jobs=2)
        alone = subprocess.run(command + ["--slow-only"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        self.assertEqual(alone.returncode, 0, alone.stdout.decode())
        self.assertIn("1 run blocks ran, 1 skipped; 0 problems", alone.stdout.decode())

    def test_jobs_must_be_positive(self):
        result = subprocess.run([sys.executable, os.path.join(HERE, "check_excerpts.py"), "--chapters", HERE,
                                 "--build", HERE, "--slow", "--workdir", "/nonexistent", "--jobs", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--jobs is 0; expected 1 or more blocks at once", result.stdout.decode())


if __name__ == "__main__":
    unittest.main()
