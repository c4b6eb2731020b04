#!/usr/bin/env python3
"""Doxygen INPUT_FILTER for the book's Markdown: lets one file read well on GitHub and in Doxygen.

    doxygen_filter.py FILE      (Doxygen runs it on every *.md; the result goes to stdout)

* Math written for GitHub becomes Doxygen formulas (rendered by MathJax): a display `$$ ... $$`
  (on one line, or `$$` lines around it) becomes `\\f[ ... \\f]`, inline `$...$` becomes
  `\\f$...\\f$`. Fenced code blocks and `code spans` are left alone.
* A chapter's title (`# ...` in chapters/NN_name/README.md) gets the page label `{#chNN}`, so
  that docs/book.md can list the chapters in order with `\\subpage chNN`.
* A Markdown link to a chapter's README (`../02_embeddings/README.md`, `chapters/02_.../README.md`)
  becomes a link to its page, `@ref ch02 "text"`.
* A figure, `![alt](figures/NAME.png)` on its own line and then its caption, `*Figure N.M: ...*`,
  on the next line or after one blank line, becomes `\\image html NAME.png "Figure N.M: ..."`: a
  centred image with its caption under it. Doxygen finds NAME in IMAGE_PATH (every chapter's
  figures/ folder, docs/CMakeLists.txt) and copies it next to the pages. A caption with a `"`,
  a `$` or a backtick stays Markdown (the image still shows, the caption as text after it).
"""
import os
import re
import sys

# Inline math may wrap onto the next line, but not across a blank line.
INLINE_MATH = re.compile(r"(?<![\\$\w])\$(?=\S)((?:[^$\n]|\n(?![ \t]*\n))+?)(?<=\S)\$(?![\w$])")
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
FENCE = re.compile(r"^(```|~~~)(\w*)[ \t]*$")
CHAPTER_LINK = re.compile(r"\[([^\]]+)\]\((?:[./\w-]*/)?(\d\d)_[\w-]+/README\.md(#[\w-]+)?\)")
CHAPTER_DIR = re.compile(r"(?:^|/)chapters/(\d\d)_[^/]+/README\.md$")
# A figure line, an optional blank line, its caption line.
FIGURE = re.compile(r"^!\[[^\]\n]*\]\(figures/([\w.-]+)\)[ \t]*\n(?:[ \t]*\n)?"
                    r"\*(Figure [^*\n]+)\*[ \t]*$", re.M)


def convert_figure(match):
    """A figure and its caption as a Doxygen \\image, unless the caption holds what a quoted
    Doxygen argument cannot (a double quote) or what would need converting (math, code)."""
    name, caption = match.group(1), match.group(2)
    if any(c in caption for c in '"$`'):
        return match.group(0)
    return f'\\image html {name} "{caption}"'


def convert_prose(text):
    """Display math, inline math and chapter links in text outside fenced blocks; code spans kept."""
    spans = []
    text = FIGURE.sub(convert_figure, text)

    def keep(match):
        spans.append(match.group(0))
        return f"\x00{len(spans) - 1}\x00"

    text = CODE_SPAN.sub(keep, text)
    text = DISPLAY_MATH.sub(lambda m: "\\f[" + m.group(1) + "\\f]", text)
    text = CHAPTER_LINK.sub(lambda m: f'@ref ch{m.group(2)} "{m.group(1)}"', text)
    text = INLINE_MATH.sub(lambda m: "\\f$" + m.group(1) + "\\f$", text)
    return re.sub("\x00(\\d+)\x00", lambda m: spans[int(m.group(1))], text)


def filter_markdown(text, path):
    chapter = CHAPTER_DIR.search(os.path.abspath(path).replace(os.sep, "/"))
    lines = text.splitlines()
    if chapter:
        for i, line in enumerate(lines):
            if line.startswith("# "):
                lines[i] = f"{line.rstrip()} {{#ch{chapter.group(1)}}}"
                break
    out, prose, fence = [], [], None
    for line in lines:
        match = FENCE.match(line.strip())
        if fence is None and match:
            out.append(convert_prose("\n".join(prose)))
            prose = []
            fence = match.group(1)
            # GitHub renders ```math blocks as display math.
            out.append("\\f[" if match.group(2) == "math" else line)
            fence = "math" if match.group(2) == "math" else fence
        elif fence is not None and line.strip() == (fence if fence != "math" else "```"):
            out.append("\\f]" if fence == "math" else line)
            fence = None
        elif fence is not None:
            out.append(line)
        else:
            prose.append(line)
    out.append(convert_prose("\n".join(prose)))
    return "\n".join(out) + "\n"


def main():
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        sys.stdout.write(filter_markdown(f.read(), path))


if __name__ == "__main__":
    main()
