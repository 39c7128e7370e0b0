#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""The documentation cannot fall behind the code.

- every message id of shim/bsdp_messages.mes has its section in the
  generated reference docs/log-messages.md;
- the manual's reference tables list exactly what the code has: the
  parameters of shim/bsdp_params.cc (its KNOWN list and the names parse
  tests) in docs/configuration.md, each with its own "### `name`" section,
  and the keys of "bindings-database" (DATABASE_KEYS); the NBImageInfo.plist
  keys plist/nbi_scan.c reads; the commands registered with
  registerCommandCallout in docs/commands.md, each with its own "## `name`"
  section; the statistics of shim/bsdp_stats.cc and the drop counters built
  from hook/responder.c's reason names in docs/statistics.md, and every
  drop counter in the symptom table of docs/troubleshooting.md;
- every page under docs/ is in a toctree (the contents page's, or
  kea-bsdp(7)'s for its parts), and every relative link and #anchor in README.md, docs/ and the
  examples' READMEs resolves (links.py);
- every folder of examples/ is in debian/kea-bsdp.examples;
- and, so that this check can fail, the same check run on the manual with
  one of each taken out (a parameter, command, statistic, symptom row,
  message, plist key and database key), with a parameter's default, a
  statistic's "what to do" or a command section's request blanked, and
  with a dangling link added to a man page and to an example's README,
  must report exactly that;
- every row of the parameter, plist key, database key and statistic tables
  fills every cell; every command's section says "Arguments" and "Results"
  and shows a real request of that command and an answer.

No root, no build, no network: make check runs it with docs-check.
usage: test_docs.py [ROOT]"""
import os
import re
import sys

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import links  # noqa: E402

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
CONFIGURATION, COMMANDS = "docs/configuration.md", "docs/commands.md"
STATISTICS, TROUBLESHOOTING = "docs/statistics.md", "docs/troubleshooting.md"
CONTENTS = "docs/README.md"


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


# ---- what the code has --------------------------------------------------------
def message_ids():
    return re.findall(r"^%\s*([A-Z][A-Z0-9_]*)\b", read("shim/bsdp_messages.mes"), re.M)


def string_list(src, name, where):
    found = re.search(r"%s\[\]\s*=\s*\{(.*?)\};" % name, src, re.S)
    if not found:
        raise SystemExit("test_docs: no %s[] list in %s" % (name, where))
    return set(re.findall(r'"([a-z][a-z0-9-]*)"', found.group(1)))


def parameters():
    src = read("shim/bsdp_params.cc")
    # The names parseParams() handles one by one, in case the list and they differ.
    return string_list(src, "KNOWN", "shim/bsdp_params.cc") | set(
        re.findall(r'name == "([a-z][a-z0-9-]*)"', src))


def database_keys():
    src = read("shim/bsdp_params.cc")
    return string_list(src, "DATABASE_KEYS", "shim/bsdp_params.cc") | set(
        re.findall(r'key == "([a-z][a-z0-9-]*)"', src))


def plist_keys():
    """The keys plist/nbi_scan.c looks up: the key argument of its getters."""
    src = read("plist/nbi_scan.c")
    return set(re.findall(r'\b(?:get_string|get_bool|get_uint|get_node|required_string|read_macs)'
                          r'\(\s*&?x\s*,\s*root\s*,\s*"([A-Za-z]+)"', src))


def commands():
    src = "".join(read(os.path.join("shim", f)) for f in sorted(os.listdir(os.path.join(ROOT, "shim")))
                  if f.endswith(".cc"))
    return set(re.findall(r'registerCommandCallout\(\s*"([a-z0-9-]+)"', src))


def drop_counters():
    # bsdp.dropped-<reason> for every reason but "none" (createAll skips it).
    table = re.search(r"drop_names\[[A-Z_]+\]\s*=\s*\{(.*?)\};", read("hook/responder.c"), re.S)
    if not table:
        raise SystemExit("test_docs: no drop_names[] table in hook/responder.c")
    reasons = re.findall(r'=\s*"([a-z0-9-]+)"', table.group(1))
    return {"bsdp.dropped-" + r for r in reasons if r != "none"}


def statistics():
    return set(re.findall(r'=\s*"(bsdp\.[a-z0-9-]+)"', read("shim/bsdp_stats.cc"))) | drop_counters()


# ---- what the manual says ---------------------------------------------------------
def tables(text):
    """{header of the first column: [row, ...]} of every Markdown table, each
    row its list of cells."""
    out, header, rows = {}, None, None
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if header is None:
                header, rows = cells[0], []
            elif not re.match(r"^:?-+:?$", cells[0]):
                rows.append(cells)
        elif header is not None:
            out.setdefault(header, []).extend(rows)
            header = None
    return out


def names_in(cells):
    return {n for c in cells for n in re.findall(r"`([^`]+)`", c)}


def documented(text, column, cell=0):
    """Every `name` in cell `cell` of the rows of the tables whose first
    column is headed `column`."""
    return names_in(row[cell] for row in tables(text).get(column, []) if len(row) > cell)


def sections(text, level):
    return set(re.findall(r"^%s `([^`]+)`\s*$" % ("#" * level), text, re.M))


def compare(errors, where, what, names, have):
    if not have:
        errors.append("%s: no table headed '%s'" % (where, what))
        return
    for n in sorted(names - have):
        errors.append("%s: %s %s is not in the %s table" % (where, what, n, what))
    for n in sorted(have - names):
        errors.append("%s: the %s table lists %s, which the code does not have" % (where, what, n))


def problems(docs):
    """docs: {relative path: text} of the files checked."""
    missing = [rel for rel in (CONTENTS, CONFIGURATION, COMMANDS, STATISTICS, TROUBLESHOOTING,
                               "docs/log-messages.md") if rel not in docs]
    if missing:
        return ["%s is missing: the manual's reference lives there" % rel for rel in missing]
    errors = []
    headings = set(re.findall(r"^## ([A-Z][A-Z0-9_]*)\s*$", docs["docs/log-messages.md"], re.M))
    for mid in message_ids():
        if mid not in headings:
            errors.append("docs/log-messages.md lacks %s (run make docs)" % mid)
    conf, cmds = docs[CONFIGURATION], docs[COMMANDS]
    compare(errors, CONFIGURATION, "parameter", parameters(), documented(conf, "parameter"))
    for n in sorted(parameters() - sections(conf, 3)):
        errors.append("%s: parameter %s has no '### `%s`' section" % (CONFIGURATION, n, n))
    compare(errors, CONFIGURATION, "bindings-database key", database_keys(),
            documented(conf, "bindings-database key"))
    compare(errors, CONFIGURATION, "NBImageInfo.plist key", plist_keys(),
            documented(conf, "NBImageInfo.plist key"))
    compare(errors, COMMANDS, "command", commands(), documented(cmds, "command"))
    for n in sorted(commands() - sections(cmds, 2)):
        errors.append("%s: command %s has no '## `%s`' section" % (COMMANDS, n, n))
    compare(errors, STATISTICS, "statistic", statistics(), documented(docs[STATISTICS], "statistic"))
    symptoms = documented(docs[TROUBLESHOOTING], "symptom", cell=1)
    for n in sorted(drop_counters() - symptoms):
        errors.append("%s: %s has no row in the symptom table" % (TROUBLESHOOTING, n))
    errors.extend(incomplete_rows(docs))
    errors.extend(incomplete_command_sections(cmds))
    toc = toctree_entries(docs)
    for rel in sorted(docs):
        if rel.startswith("docs/") and rel != CONTENTS and rel not in toc:
            errors.append("%s is in no toctree (list it in %s)" % (rel, CONTENTS))
    errors.extend(links.problems(ROOT, docs))
    errors.extend(unshipped_examples())
    return errors


# (page, the first column's header, the cells every row must fill): a
# parameter without its default or a statistic without what to do is as
# missing as one without a row.
FULL_ROWS = [(CONFIGURATION, "parameter", 4), (CONFIGURATION, "NBImageInfo.plist key", 4),
             (CONFIGURATION, "bindings-database key", 3), (STATISTICS, "statistic", 3)]


def incomplete_rows(docs):
    errors = []
    for rel, column, cells in FULL_ROWS:
        for row in tables(docs[rel]).get(column, []):
            if len(row) < cells or not all(row[:cells]):
                errors.append("%s: the %s row %s leaves a cell empty" % (rel, column, row[0]))
    return errors


def incomplete_command_sections(text):
    """Each command's section gives its arguments, its results and a real
    request (a "command" of that name) with its answer (a "result")."""
    errors = []
    for part in re.split(r"^## ", text, flags=re.M)[1:]:
        name = re.match(r"`([^`]+)`\s*$", part.splitlines()[0])
        if not name:
            continue
        name = name.group(1)
        for what, pattern in (("its arguments", r"^Arguments\b"), ("its results", r"^Results\b"),
                              ("a real request", r'"command": "%s"' % re.escape(name)),
                              ("a real answer", r'"result": \d')):
            if not re.search(pattern, part, re.M):
                errors.append("%s: the section of %s lacks %s" % (COMMANDS, name, what))
    return errors


def unshipped_examples():
    """Every folder of examples/ must be in the package (debian/kea-bsdp.examples)."""
    listed = set(read("debian/kea-bsdp.examples").split())
    return ["debian/kea-bsdp.examples lacks examples/%s: the package would not ship it" % d
            for d in sorted(os.listdir(os.path.join(ROOT, "examples")))
            if os.path.isdir(os.path.join(ROOT, "examples", d)) and "examples/" + d not in listed]


def toctree_entries(docs):
    """Every file named by a {toctree} block of any page, relative to the
    top (an entry is relative to its page, without .md)."""
    out = set()
    for rel, text in docs.items():
        for block in re.findall(r"^```\{toctree\}\n(.*?)^```", text, re.M | re.S):
            for entry in re.findall(r"^([\w./-]+)\s*$", block, re.M):
                out.add(os.path.normpath(os.path.join(os.path.dirname(rel), entry)) + ".md")
    return out


def manual():
    """{path: text} of README.md, every Markdown file under docs/ and the
    examples' READMEs."""
    out = {}
    for rel in links.markdown_files(ROOT):
        out[rel] = read(rel)
    return out


def without_line(docs, rel, prefix):
    """The manual with the one line of `rel` that starts with `prefix` removed."""
    lines = docs.get(rel, "").splitlines(True)
    hit = [i for i, l in enumerate(lines) if l.startswith(prefix)]
    if len(hit) != 1:
        raise SystemExit("test_docs: expected one line of %s starting %r, found %d"
                         % (rel, prefix, len(hit)))
    del lines[hit[0]]
    return dict(docs, **{rel: "".join(lines)})


def with_cell_emptied(docs, rel, prefix, cell):
    """The manual with cell `cell` (0 = first) of the row starting `prefix` blank."""
    lines = docs.get(rel, "").splitlines(True)
    hit = [i for i, l in enumerate(lines) if l.startswith(prefix)]
    if len(hit) != 1:
        raise SystemExit("test_docs: expected one row of %s starting %r" % (rel, prefix))
    cells = lines[hit[0]].rstrip("\n").split("|")
    cells[cell + 1] = " "
    lines[hit[0]] = "|".join(cells) + "\n"
    return dict(docs, **{rel: "".join(lines)})


def with_text(docs, rel, text):
    return dict(docs, **{rel: docs.get(rel, "") + text})


def mutations(docs):
    """(what, the manual with one thing taken out or one bad link added, the
    error that must be reported): one of each kind the check keeps."""
    par, cmd = sorted(parameters())[0], sorted(commands())[0]
    stat = sorted(statistics() - drop_counters())[0]
    drop, key, dbkey = sorted(drop_counters())[0], sorted(plist_keys())[0], sorted(database_keys())[0]
    mid = message_ids()[0]
    symptom_rows = [l for l in docs.get(TROUBLESHOOTING, "").splitlines()
                    if l.startswith("|") and "`%s`" % drop in l.split("|")[2]]
    man = sorted(r for r in docs if r.startswith("docs/man/"))[0]
    example = sorted(r for r in docs if r.startswith("examples/"))[0]
    bad_link = "\nSee [nothing](no-such-page.md).\n"
    bad_line = lambda rel: len(docs[rel].splitlines()) + 2   # noqa: E731
    return [
        ("no %s parameter row" % par, without_line(docs, CONFIGURATION, "| `%s` |" % par),
         "%s: parameter %s is not in the parameter table" % (CONFIGURATION, par)),
        ("no %s command row" % cmd, without_line(docs, COMMANDS, "| `%s` |" % cmd),
         "%s: command %s is not in the command table" % (COMMANDS, cmd)),
        ("no %s statistic row" % stat, without_line(docs, STATISTICS, "| `%s` |" % stat),
         "%s: statistic %s is not in the statistic table" % (STATISTICS, stat)),
        ("no %s symptom row" % drop,
         without_line(docs, TROUBLESHOOTING, symptom_rows[0]) if len(symptom_rows) == 1 else docs,
         "%s: %s has no row in the symptom table" % (TROUBLESHOOTING, drop)),
        ("no %s message section" % mid, without_line(docs, "docs/log-messages.md", "## %s\n" % mid),
         "docs/log-messages.md lacks %s (run make docs)" % mid),
        ("no %s plist key row" % key, without_line(docs, CONFIGURATION, "| `%s` |" % key),
         "%s: NBImageInfo.plist key %s is not in the NBImageInfo.plist key table"
         % (CONFIGURATION, key)),
        ("no %s database key row" % dbkey,
         without_line(docs, CONFIGURATION, "| `%s` |" % dbkey),
         "%s: bindings-database key %s is not in the bindings-database key table"
         % (CONFIGURATION, dbkey)),
        ("an empty default for %s" % par,
         with_cell_emptied(docs, CONFIGURATION, "| `%s` |" % par, 2),
         "%s: the parameter row `%s` leaves a cell empty" % (CONFIGURATION, par)),
        ("an empty 'what to do' for %s" % stat,
         with_cell_emptied(docs, STATISTICS, "| `%s` |" % stat, 2),
         "%s: the statistic row `%s` leaves a cell empty" % (STATISTICS, stat)),
        ("no request in the %s section" % cmd,
         dict(docs, **{COMMANDS: docs[COMMANDS].replace('"command": "%s"' % cmd, '"command": "x"')}),
         "%s: the section of %s lacks a real request" % (COMMANDS, cmd)),
        ("a dangling link in %s" % man, with_text(docs, man, bad_link),
         "%s:%d: link no-such-page.md: no file docs/man/no-such-page.md" % (man, bad_line(man))),
        ("a dangling link in %s" % example, with_text(docs, example, bad_link),
         "%s:%d: link no-such-page.md: no file %s/no-such-page.md"
         % (example, bad_line(example), os.path.dirname(example))),
    ]


def main():
    docs = manual()
    failed = 0
    errors = problems(docs)
    for e in errors:
        print("FAIL " + e)
    failed += bool(errors)
    n = (len(message_ids()), len(parameters()), len(commands()), len(statistics()),
         len(plist_keys()), len(docs))
    if not errors:
        print("PASS the manual lists all %d messages, %d parameters, %d commands, %d statistics, "
              "%d plist keys; every link in its %d files resolves" % n)
    # The check itself: each kind of thing taken out must be reported.
    checks = 1
    for what, broken, want in mutations(docs):
        checks += 1
        got = problems(broken)
        if got == [want] or (errors and want in got):
            print("PASS a manual with %s fails: %s" % (what, want))
        else:
            print("FAIL a manual with %s gave %r, want %r" % (what, got, want))
            failed += 1
    print("docs: %d passed, %d failed" % (checks - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
