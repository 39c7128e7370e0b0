#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""The documentation cannot fall behind the code.

- every message id of shim/bsdp_messages.mes has its section in the
  generated reference docs/log-messages.md;
- the README's reference tables (between the kea-bsdp.7 markers) list
  exactly the parameters, commands and statistics the code has: the
  parameter names of shim/bsdp_params.cc (its KNOWN list and the names
  load() tests), the commands registered with registerCommandCallout, the
  statistic names of shim/bsdp_stats.cc and the drop counters built from
  hook/responder.c's reason names;
- and, so that this check can fail, the same check run on the README with
  one parameter row taken out must report that parameter.

No root, no build, no network: make check runs it with docs-check.
usage: test_docs.py [ROOT]"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BEGIN, END = "<!-- kea-bsdp.7 begin -->", "<!-- kea-bsdp.7 end -->"


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


# ---- what the code has --------------------------------------------------------
def message_ids():
    return re.findall(r"^%\s*([A-Z][A-Z0-9_]*)\b", read("shim/bsdp_messages.mes"), re.M)


def parameters():
    src = read("shim/bsdp_params.cc")
    known = re.search(r"KNOWN\[\]\s*=\s*\{(.*?)\};", src, re.S)
    if not known:
        raise SystemExit("test_docs: no KNOWN[] parameter list in shim/bsdp_params.cc")
    names = set(re.findall(r'"([a-z][a-z0-9-]*)"', known.group(1)))
    # The names load() handles one by one, in case the list and they differ.
    names |= set(re.findall(r'name == "([a-z][a-z0-9-]*)"', src))
    return names


def commands():
    src = "".join(read(os.path.join("shim", f)) for f in sorted(os.listdir(os.path.join(ROOT, "shim")))
                  if f.endswith(".cc"))
    return set(re.findall(r'registerCommandCallout\(\s*"([a-z0-9-]+)"', src))


def statistics():
    names = set(re.findall(r'=\s*"(bsdp\.[a-z0-9-]+)"', read("shim/bsdp_stats.cc")))
    # bsdp.dropped-<reason> for every reason but "none" (createAll skips it).
    table = re.search(r"drop_names\[[A-Z_]+\]\s*=\s*\{(.*?)\};", read("hook/responder.c"), re.S)
    if not table:
        raise SystemExit("test_docs: no drop_names[] table in hook/responder.c")
    reasons = re.findall(r'=\s*"([a-z0-9-]+)"', table.group(1))
    names |= {"bsdp.dropped-" + r for r in reasons if r != "none"}
    return names


# ---- what the README says ---------------------------------------------------------
def reference(readme):
    """The text between each begin/end marker pair, concatenated."""
    parts, rest = [], readme
    while BEGIN in rest:
        head, _, rest = rest.partition(BEGIN)
        body, found, rest = rest.partition(END)
        if not found:
            raise SystemExit("test_docs: README.md has %s without %s" % (BEGIN, END))
        parts.append(body)
    return "\n".join(parts)


def tables(text):
    """{header of the first column: [first cell of each row]} of every
    Markdown table."""
    out, header, rows = {}, None, None
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header, rows = cells[0], []
            elif not re.match(r"^:?-+:?$", cells[0]):
                rows.append(cells[0])
        elif header is not None:
            out.setdefault(header, []).extend(rows)
            header = None
    return out


def documented(readme, column):
    """Every `name` in the first cells of the reference tables whose first
    column is headed column."""
    cells = tables(reference(readme)).get(column, [])
    return {n for c in cells for n in re.findall(r"`([^`]+)`", c)}


def problems(readme, log_md):
    errors = []
    headings = set(re.findall(r"^## ([A-Z][A-Z0-9_]*)\s*$", log_md, re.M))
    for mid in message_ids():
        if mid not in headings:
            errors.append("docs/log-messages.md lacks %s (run make docs)" % mid)
    for column, names in (("parameter", parameters()), ("command", commands()),
                          ("statistic", statistics())):
        have = documented(readme, column)
        if not have:
            errors.append("README.md: no reference table headed '%s' between the "
                          "kea-bsdp.7 markers" % column)
            continue
        for n in sorted(names - have):
            errors.append("README.md: %s %s is not in the %s table" % (column, n, column))
        for n in sorted(have - names):
            errors.append("README.md: the %s table lists %s, which the code does not have"
                          % (column, n))
    return errors


def without_row(readme, name):
    """The README with the reference table row of `name` removed."""
    lines = readme.splitlines(True)
    hit = [i for i, l in enumerate(lines) if l.startswith("| `%s` |" % name)]
    if len(hit) != 1:
        raise SystemExit("test_docs: expected one README row for %s, found %d" % (name, len(hit)))
    del lines[hit[0]]
    return "".join(lines)


def main():
    readme, log_md = read("README.md"), read("docs/log-messages.md")
    failed = 0
    errors = problems(readme, log_md)
    for e in errors:
        print("FAIL " + e)
    failed += bool(errors)
    n = (len(message_ids()), len(parameters()), len(commands()), len(statistics()))
    if not errors:
        print("PASS docs list all %d messages, %d parameters, %d commands, %d statistics" % n)
    # The check itself: a parameter dropped from the table must be reported.
    victim = sorted(parameters())[0]
    got = problems(without_row(readme, victim), log_md)
    want = "README.md: parameter %s is not in the parameter table" % victim
    if got == [want] or (errors and want in got):
        print("PASS a README without the %s row fails: %s" % (victim, want))
    else:
        print("FAIL a README without the %s row gave %r" % (victim, got))
        failed += 1
    print("docs: %d passed, %d failed" % (2 - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
