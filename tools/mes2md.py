#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Generate the log message reference (Markdown) from a .mes file.

Each message's severity is not in the .mes file (Kea's format leaves it to
the call site), so it is read from the LOG_<SEVERITY>(logger, [level,] ID)
calls in the sources given; a message logged nowhere, or an id logged but not
defined, is an error, so the reference cannot fall behind the code.

usage: mes2md.py FILE.mes OUT.md SOURCE...     (writes OUT.md)
       mes2md.py --check FILE.mes OUT.md SOURCE...   (exit 1 if OUT.md is stale)
"""
import re
import sys

LOG_CALL = re.compile(r"LOG_(FATAL|ERROR|WARN|INFO|DEBUG)\(\s*\w+\s*,\s*(?:[\w:]+\s*,\s*)?(?:\w+::)*"
                      r"([A-Z][A-Z0-9_]*)\s*\)")
ORDER = ["FATAL", "ERROR", "WARN", "INFO", "DEBUG"]


def parse(path):
    """[(id, text, [explanation paragraph, ...])] in file order."""
    messages, current = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("%"):
                mid, _, text = line[1:].strip().partition(" ")
                current = (mid, text.strip(), [[]])
                messages.append(current)
            elif line.startswith(("#", "$")) or current is None:
                continue
            elif not line.strip():
                if current[2][-1]:
                    current[2].append([])
            else:
                current[2][-1].append(line.strip())
    return [(m, t, [" ".join(p) for p in paras if p]) for m, t, paras in messages]


def severities(sources):
    found = {}
    for src in sources:
        with open(src, encoding="utf-8") as f:
            for sev, mid in LOG_CALL.findall(f.read()):
                found.setdefault(mid, set()).add(sev)
    return found


def render(mes, messages, found):
    out = ["<!-- Generated from %s by tools/mes2md.py (make docs): do not edit. -->\n" % mes,
           "# Log messages\n",
           "Every message of the logger `kea-dhcp4.bsdp`, in the order of "
           "`shim/bsdp_messages.mes`. `%1`, `%2`... stand for the values "
           "filled in when the message is logged. DEBUG messages appear only "
           "with `\"severity\": \"DEBUG\"` and a high enough `debuglevel`.\n"]
    for mid, text, paras in messages:
        sev = ", ".join(s for s in ORDER if s in found[mid])
        out.append("## %s\n" % mid)
        out.append("**%s**: `%s`\n" % (sev, text.replace("`", "'")))
        out += ["%s\n" % p for p in paras]
    return "\n".join(out)


def main():
    args = sys.argv[1:]
    check = bool(args) and args[0] == "--check"
    if check:
        args = args[1:]
    if len(args) < 3:
        sys.exit(__doc__)
    mes, out, sources = args[0], args[1], args[2:]
    messages, found = parse(mes), severities(sources)
    defined = {m for m, _, _ in messages}
    errors = ["%s: defined in %s but logged nowhere" % (m, mes) for m in sorted(defined - set(found))]
    errors += ["%s: logged but not defined in %s" % (m, mes)
               for m in sorted(set(found) - defined) if m.startswith("BSDP_")]
    if errors:
        sys.exit("mes2md.py: " + "; ".join(errors))
    text = render(mes, messages, found)
    if check:
        try:
            with open(out, encoding="utf-8") as f:
                current = f.read()
        except FileNotFoundError:
            current = None
        if current != text:
            sys.exit("%s is not what %s says: run make docs" % (out, mes))
        return
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
