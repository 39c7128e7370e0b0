#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""Generate a Kea log message catalogue (.h/.cc) from a .mes file.

Debian ships no kea-msg-compiler; this is the small subset we need:
"% ID text" lines define messages, "$NAMESPACE ns" is honoured, "#" lines
and description paragraphs are ignored.

usage: mes2cc.py FILE.mes OUTDIR
"""
import os
import re
import sys


def parse(path):
    namespace = None
    messages = []
    seen = set()
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if line.startswith("$NAMESPACE"):
                namespace = line.split(None, 1)[1].strip()
            elif line.startswith("%"):
                parts = line[1:].strip().split(None, 1)
                if not parts or not re.fullmatch(r"[A-Z][A-Z0-9_]*", parts[0]):
                    sys.exit("%s:%d: bad message id" % (path, lineno))
                if parts[0] in seen:
                    sys.exit("%s:%d: duplicate id %s" % (path, lineno, parts[0]))
                seen.add(parts[0])
                messages.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return namespace, sorted(messages)


def c_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, outdir = sys.argv[1], sys.argv[2]
    namespace, messages = parse(src)
    stem = os.path.splitext(os.path.basename(src))[0]
    guard = stem.upper() + "_H"
    origin = "// File created from %s by tools/mes2cc.py: do not edit.\n" % src
    ns_open = ns_close = ""
    if namespace:
        parts = namespace.split("::")
        ns_open = "".join("namespace %s {\n" % p for p in parts) + "\n"
        ns_close = "\n" + "".join("} // namespace %s\n" % p for p in reversed(parts))

    h = [origin, "\n#ifndef %s\n#define %s\n\n#include <log/message_types.h>\n\n" % (guard, guard),
         ns_open]
    h += ["extern const isc::log::MessageID %s;\n" % mid for mid, _ in messages]
    h += [ns_close, "\n#endif // %s\n" % guard]

    cc = [origin, "\n#include <cstddef>\n#include <log/message_types.h>\n"
          "#include <log/message_initializer.h>\n\n", ns_open]
    cc += ['extern const isc::log::MessageID %s = "%s";\n' % (mid, mid) for mid, _ in messages]
    cc += [ns_close, "\nnamespace {\n\nconst char* values[] = {\n"]
    cc += ['    "%s", %s,\n' % (mid, c_string(text)) for mid, text in messages]
    cc += ["    NULL\n};\n\nconst isc::log::MessageInitializer initializer(values);\n\n"
           "} // Anonymous namespace\n"]

    for ext, body in (("h", h), ("cc", cc)):
        out = os.path.join(outdir, "%s.%s" % (stem, ext))
        tmp = out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("".join(body))
        os.replace(tmp, out)


if __name__ == "__main__":
    main()
