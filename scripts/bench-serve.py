#!/usr/bin/env python3
"""Load test of the playground's server (`gptbook serve`): N clients on loopback for S seconds.

    scripts/bench-serve.py [--clients 50] [--seconds 30] [--run runs/NAME] [--build-dir build/release]

Starts `gptbook serve` on a free port of 127.0.0.1 (never another address), with the given run or,
without --run, a small model it trains first (shakespeare-char-cpu with 2 layers, 300 steps, a few
seconds). Each client loops over what the page asks as a reader uses it: a streamed generation of
20 tokens, the next-token distribution, the tokens, and a layer's attention, over prompts cut from
tiny Shakespeare. Reports, per kind of request, how many, p50 and p95 latency (a generation: to its
first token and to its end), the tokens generated per second over all clients, the refusals by the
documented limit (429: more generations at once than --max-generations), and every other failure:
a status other than 200 or 429, a broken stream, a lost connection, or a server that died. Exit
code 0 when there was no such failure.

A benchmark, not a test: run it on an otherwise idle machine.
"""
import argparse
import http.client
import json
import os
import pathlib
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

REPO = pathlib.Path(__file__).resolve().parent.parent


def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


class Client(threading.Thread):
    """One reader at the page: a loop of requests until the deadline, each on a fresh connection."""

    def __init__(self, port, prompts, deadline, seed, stats):
        super().__init__(daemon=True)
        self.port, self.prompts, self.deadline, self.stats = port, prompts, deadline, stats
        self.rng = random.Random(seed)

    def request(self, path, body, stream=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        start = time.perf_counter()
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        return conn, response, start

    def generate(self, prompt):
        conn, response, start = self.request("/api/generate", {"text": prompt, "max_new_tokens": 20,
                                                               "temperature": 0.8, "seed": self.rng.randrange(1000)})
        try:
            if response.status != 200:
                body = response.read()
                return self.stats.record("generate", response.status, time.perf_counter() - start, body=body)
            first, tokens, done = None, 0, False
            for line in response:
                if line.startswith(b"event: token"):
                    tokens += 1
                    if first is None:
                        first = time.perf_counter() - start
                elif line.startswith(b"event: done"):
                    done = True
            total = time.perf_counter() - start
            if not done or tokens != 20:
                return self.stats.failure(f"generate: a stream of {tokens} tokens without its done event")
            self.stats.record("generate", 200, total, first=first, tokens=tokens)
        finally:
            conn.close()

    def simple(self, kind, body):
        conn, response, start = self.request("/api/" + kind, body)
        payload = response.read()
        conn.close()
        self.stats.record(kind, response.status, time.perf_counter() - start, body=payload)

    def run(self):
        while time.monotonic() < self.deadline:
            prompt = self.rng.choice(self.prompts)
            try:
                kind = self.rng.choice(["generate", "generate", "next", "tokenize", "attention"])
                if kind == "generate":
                    self.generate(prompt)
                elif kind == "next":
                    self.simple("next", {"text": prompt, "temperature": 0.8, "top": 30})
                elif kind == "tokenize":
                    self.simple("tokenize", {"text": prompt})
                else:
                    self.simple("attention", {"text": prompt, "layer": self.rng.randrange(2)})
            except (OSError, http.client.HTTPException) as e:
                self.stats.failure(f"{type(e).__name__}: {e}")


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}       # kind -> [seconds]
        self.first_token = []   # seconds to a generation's first token
        self.tokens = 0
        self.refused = 0        # 429: the documented limit on generations at once
        self.failures = []

    def record(self, kind, status, seconds, first=None, tokens=0, body=b""):
        with self.lock:
            if status == 200:
                self.latency.setdefault(kind, []).append(seconds)
                if first is not None:
                    self.first_token.append(first)
                self.tokens += tokens
            elif status == 429:
                self.refused += 1
            else:
                self.failures.append(f"{kind}: HTTP {status} {body[:200]!r}")

    def failure(self, what):
        with self.lock:
            self.failures.append(what)


def train_small_model(gptbook, out):
    print(f"training a small model (shakespeare-char-cpu, 2 layers, 300 steps) into {out} ...", flush=True)
    subprocess.run([gptbook, "train", "--preset", "shakespeare-char-cpu", "--data", "shakespeare", "--n-layer", "2",
                    "--max-iters", "300", "--eval-interval", "300", "--out", str(out)],
                   check=True, stdout=subprocess.DEVNULL, cwd=REPO)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--run", help="the run to serve (default: a small model trained first)")
    parser.add_argument("--build-dir", default=str(REPO / "build" / "release"))
    parser.add_argument("--serve-args", default="", help="more options for gptbook serve, e.g. '--max-generations 8'")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients and --seconds must be positive")
    gptbook = os.path.join(args.build_dir, "gptbook")
    if not os.access(gptbook, os.X_OK):
        sys.exit(f"bench-serve: no gptbook in {args.build_dir}; build it: cmake --build --preset release")
    scratch = tempfile.TemporaryDirectory(prefix="gptbook-bench-serve-")
    run = args.run or os.path.join(scratch.name, "small")
    if not args.run:
        train_small_model(gptbook, run)
    text = (REPO / "data" / "tinyshakespeare.txt").read_text(encoding="utf-8")
    rng = random.Random(1)
    prompts = [text[i:i + rng.randrange(10, 60)] for i in (rng.randrange(len(text) - 100) for _ in range(200))]

    server = subprocess.Popen([gptbook, "serve", "--run", run, "--host", "127.0.0.1", "--port", "0",
                               *args.serve_args.split()], stdout=subprocess.PIPE, text=True, cwd=REPO)
    line = server.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        server.kill()
        sys.exit(f"bench-serve: gptbook serve did not start: {line!r}")
    port = int(match.group(1))
    print(f"# gptbook serve at 127.0.0.1:{port}; {args.clients} clients for {args.seconds:g} s; "
          f"{os.cpu_count()} cores", flush=True)

    stats = Stats()
    deadline = time.monotonic() + args.seconds
    clients = [Client(port, prompts, deadline, seed, stats) for seed in range(args.clients)]
    start = time.monotonic()
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    elapsed = time.monotonic() - start
    alive = server.poll() is None
    if alive:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/api/runs")
        alive = conn.getresponse().status == 200
        conn.close()
    server.send_signal(2)
    server.wait(timeout=30)

    print(f"{'request':<12} {'answered':>9} {'p50 ms':>9} {'p95 ms':>9}")
    for kind in ["generate", "next", "tokenize", "attention"]:
        lat = stats.latency.get(kind, [])
        print(f"{kind:<12} {len(lat):>9} {1e3 * percentile(lat, 0.5):>9.1f} {1e3 * percentile(lat, 0.95):>9.1f}")
    ft = stats.first_token
    print(f"{'first token':<12} {len(ft):>9} {1e3 * percentile(ft, 0.5):>9.1f} {1e3 * percentile(ft, 0.95):>9.1f}")
    print(f"tokens generated: {stats.tokens} in {elapsed:.1f} s = {stats.tokens / elapsed:.0f} tokens/s over all clients")
    print(f"refused by the limit on generations at once (429): {stats.refused}")
    print(f"other failures: {len(stats.failures)}; server alive at the end: {'yes' if alive else 'NO'}")
    for f in stats.failures[:10]:
        print("  " + f)
    return 0 if alive and not stats.failures else 1


if __name__ == "__main__":
    sys.exit(main())
