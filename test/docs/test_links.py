#!/usr/bin/python3
# SPDX-License-Identifier: MPL-2.0
"""The link check of test_docs.py (links.py) on a made-up tree in a
temporary folder: it passes a tree whose links all resolve, and reports
exactly the dangling file, the dangling #anchor and the link leaving the
tree when one of each is added; links in code are not links, and anchors
follow GitHub's slugs (markup dropped, punctuation dropped, a repeated
heading gets -1).

No root, no build, no network: make docs-check runs it.
usage: test_links.py"""
import os
import shutil
import sys
import tempfile

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import links  # noqa: E402

TREE = {
    "README.md": "# Tool\n\nSee [the manual](docs/README.md) and [its setup](docs/setup.md#beside-another-dhcp-server).\n",
    "docs/README.md": "# Manual\n\n- [Setting up](setup.md)\n- [Relays](setup.md#relayed-macs-ip-helper-address)\n"
                      "- [Notes, again](setup.md#notes-1) and [here](#manual)\n"
                      "- [the example](../examples/x/README.md), [its file](../examples/x/conf.json)\n",
    "docs/setup.md": "# Setting up\n\n## Beside another DHCP server\n\n### Relayed Macs (`ip helper-address`)\n\n"
                     "## Notes\n\n## Notes\n\n```\n[not a link](nowhere.md)\n```\n\n`[nor this](nowhere.md)`\n",
    "examples/x/README.md": "# Example\n\nBack to [the manual](../../docs/README.md#manual).\n",
    "examples/x/conf.json": "{}\n",
}


def make(root, tree):
    for rel, text in tree.items():
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
            f.write(text)


def check(root):
    docs = {}
    for rel in links.markdown_files(root):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            docs[rel] = f.read()
    return links.problems(root, docs)


def main():
    passed = failed = 0

    def case(name, tree, want):
        nonlocal passed, failed
        root = tempfile.mkdtemp(prefix="bsdp-links-")
        try:
            make(root, tree)
            got = check(root)
        finally:
            shutil.rmtree(root)
        if got == want:
            print("PASS %s%s" % (name, "".join("\n       " + g for g in got)))
            passed += 1
        else:
            print("FAIL %s: want %r, got %r" % (name, want, got))
            failed += 1

    case("a tree whose links all resolve", TREE, [])
    case("a link to a missing file",
         dict(TREE, **{"docs/README.md": TREE["docs/README.md"] + "- [Old](fast-path.md)\n"}),
         ["docs/README.md:7: link fast-path.md: no file docs/fast-path.md"])
    case("a link to a missing heading",
         dict(TREE, **{"README.md": TREE["README.md"] + "See [the fast path](docs/setup.md#the-fast-path).\n"}),
         ["README.md:4: link docs/setup.md#the-fast-path: docs/setup.md has no heading with the "
          "anchor #the-fast-path"])
    case("an anchor in the same file",
         dict(TREE, **{"docs/setup.md": TREE["docs/setup.md"] + "\nSee [A flood of new MACs](#a-flood-of-new-macs).\n"}),
         ["docs/setup.md:17: link #a-flood-of-new-macs: docs/setup.md has no heading with the "
          "anchor #a-flood-of-new-macs"])
    case("a link out of the tree",
         dict(TREE, **{"README.md": TREE["README.md"] + "[up](../other/README.md)\n"}),
         ["README.md:4: link ../other/README.md leaves the repository"])
    print("links: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
