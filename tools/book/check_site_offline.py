#!/usr/bin/env python3
"""Open the docs site's chapter pages in headless Chromium with the network off, and check that
MathJax typeset their equations.

    check_site_offline.py --html build/release/docs/html [--browser chromium-headless-shell]

Each chapter page (chNN.html) is loaded from disk with every host name unresolvable and a dead
proxy, so nothing can come from a CDN. The page passes when MathJax rendered it (its output
elements are in the DOM) and no raw `\\[` or `\\(` is left in the text a reader sees. Exit code 0
when every page passes, 1 with one line per page that does not, 77 (a skipped test for CTest) when
the site or the browser is missing, with what to do.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

SKIP = 77
OFFLINE = ["--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND"]


def rendered_dom(browser, page):
    # --virtual-time-budget lets the page's scripts (MathJax) run to completion before the dump.
    command = [browser, "--headless", "--no-sandbox", "--disable-gpu", *OFFLINE,
               "--virtual-time-budget=30000", "--dump-dom", "file://" + os.path.abspath(page)]
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=120,
                            check=False)
    return result.returncode, result.stdout.decode("utf-8", "replace")


def problem(dom):
    """None when the math was typeset; otherwise what a reader would see instead."""
    if not dom:
        return "the browser printed no page"
    visible = re.sub(r"<script.*?</script>", "", dom, flags=re.S)  # TeX sources MathJax keeps
    raw = visible.count("\\[") + visible.count("\\(")
    typeset = dom.count('class="MathJax')
    if raw:
        return f"{raw} equations left as raw LaTeX (\\[ or \\( in the text); MathJax did not run"
    if typeset == 0:
        return "no MathJax output in the page"
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", required=True, help="the site's html/ directory (the docs target)")
    parser.add_argument("--browser", default="chromium-headless-shell",
                        help="a headless Chromium (default: Debian's chromium-headless-shell)")
    args = parser.parse_args()
    pages = sorted(glob.glob(os.path.join(args.html, "ch[0-9][0-9].html")))
    if not pages:
        print(f"no chapter pages in {args.html}; build the site first: "
              "cmake --build --preset release --target docs")
        return SKIP
    browser = shutil.which(args.browser)
    if not browser:
        print(f"{args.browser} not found; install it (apt install chromium-headless-shell, "
              "or scripts/install-deps.sh)")
        return SKIP
    failures = []
    for page in pages:
        code, dom = rendered_dom(browser, page)
        why = problem(dom) if code == 0 else f"the browser exited with code {code}"
        if why:
            failures.append(f"{os.path.basename(page)}: {why}")
    for failure in failures:
        print(failure)
    print(f"{len(pages)} chapter pages opened offline; {len(pages) - len(failures)} typeset their math")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
