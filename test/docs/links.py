# SPDX-License-Identifier: MPL-2.0
"""Relative links and #anchors in the project's Markdown must resolve.

A link [text](target) that names no scheme is relative: its file (relative
to the linking file; empty for the file itself) must exist, and its
#anchor, when the file is Markdown, must be the slug of one of its
headings, made as GitHub and MyST (myst_heading_anchors) make them: the
heading's text without markup, lower case, every character but letters,
digits, '_', '-' and spaces dropped, spaces turned into '-', and '-1',
'-2'... added to a repeated one. Links inside code (fenced blocks, `spans`)
are text, not links."""
import os
import re

LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^()\s]*(?:\([^()]*\)[^()\s]*)*)\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_files(root):
    """README.md, every .md under docs/ and examples/*/README.md, relative."""
    out = ["README.md"] if os.path.exists(os.path.join(root, "README.md")) else []
    for top in ("docs", "examples"):
        for folder, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
            for f in sorted(files):
                rel = os.path.relpath(os.path.join(folder, f), root)
                if f.endswith(".md") and (top == "docs" or f == "README.md"):
                    out.append(rel)
    return out


def prose_lines(text, blank_code=True):
    """(line number, line) outside fenced code blocks, `code spans` blanked
    unless blank_code is false."""
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
            continue
        if fence is None:
            yield n, re.sub(r"`[^`]*`", lambda s: " " * len(s.group(0)), line) if blank_code else line


def slug(heading):
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # links keep their text
    text = re.sub(r"[`*]", "", text).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text):
    seen, out = {}, set()
    for _, line in prose_lines(text, blank_code=False):
        m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        base = slug(m.group(2))
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else "%s-%d" % (base, n))
    return out


def problems(root, docs):
    """docs: {path relative to root: text}. One message per link that does
    not resolve."""
    errors, cache = [], {}

    def text_of(rel):
        if rel not in cache:
            if rel in docs:
                cache[rel] = docs[rel]
            else:
                with open(os.path.join(root, rel), encoding="utf-8") as f:
                    cache[rel] = f.read()
        return cache[rel]

    for rel in sorted(docs):
        for n, line in prose_lines(docs[rel]):
            for target in LINK.findall(line):
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                    continue   # http:, https:, mailto:...
                path, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(rel), path)) if path else rel
                where = "%s:%d: link %s" % (rel, n, target)
                if dest.startswith(".."):
                    errors.append("%s leaves the repository" % where)
                elif not (dest in docs or os.path.exists(os.path.join(root, dest))):
                    errors.append("%s: no file %s" % (where, dest))
                elif anchor and dest.endswith(".md") and anchor not in anchors(text_of(dest)):
                    errors.append("%s: %s has no heading with the anchor #%s" % (where, dest, anchor))
    return errors
