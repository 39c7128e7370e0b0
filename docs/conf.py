# SPDX-License-Identifier: MPL-2.0
# Sphinx (with MyST for Markdown) builds the HTML manual and the man pages
# from the same Markdown: `make html`, `make man` (sphinx-build -c docs,
# from the top of the tree, so that the manual may link the examples).
# Nothing is fetched: no intersphinx, no remote theme or image.
import glob
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))

project = "kea-bsdp"
author = "kea-bsdp maintainers"
copyright = "kea-bsdp maintainers, MPL-2.0"
# The package version, as the Makefile's PKG_VERSION.
with open(os.path.join(HERE, "..", "debian", "changelog"), encoding="utf-8") as f:
    release = version = re.match(r"[^(]*\(([^)]*)\)", f.readline()).group(1)

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "docs/README"
# The manual, and the examples it links; never the rest of the tree.
include_patterns = ["docs/**", "examples/*/README.md"]
exclude_patterns = ["build/**", "debian/**"]
# GitHub's heading anchors, so that "file.md#a-heading" links work on
# GitHub and here alike (the docs test checks them too).
myst_heading_anchors = 4
# Man-page option lists ("**-i** *IFACE*" then ": text").
myst_enable_extensions = ["deflist"]

html_theme = "alabaster"
html_title = "kea-bsdp manual"
html_copy_source = False
html_show_sourcelink = False
# index.html sends the reader to the contents page.
html_extra_path = ["_html"]

# One man page per docs/man/NAME.SECTION.md, whose first line is
# "# NAME(SECTION): description": a new page needs no change here.
man_pages = []
for path in sorted(glob.glob(os.path.join(HERE, "man", "*.[1-9].md"))):
    name, section = re.match(r"(.+)\.([1-9])\.md$", os.path.basename(path)).groups()
    with open(path, encoding="utf-8") as f:
        first = f.readline().rstrip("\n")
    m = re.match(r"# %s\(%s\): (.+)$" % (re.escape(name), section), first)
    if not m:
        raise ValueError("%s: the first line must be '# %s(%s): description', not %r"
                         % (path, name, section, first))
    man_pages.append(("docs/man/%s.%s" % (name, section), name, m.group(1), [], int(section)))
man_show_urls = False
man_make_section_directory = False


# A man page holds only some chapters: a link to another chapter would read
# as a dangling "see Truncated lists". Each such link is followed by the
# chapter it is in, before Sphinx resolves (and so forgets) its target.
def setup(app):
    from docutils import nodes
    from sphinx import addnodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class ChapterOfOtherLinks(SphinxPostTransform):
        default_priority = 5   # before ReferencesResolver (10)
        builders = ("man",)

        def run(self, **kwargs):
            here = {self.env.docname} | {n["docname"] for n in
                                         self.document.findall(addnodes.start_of_file)}
            for ref in list(self.document.findall(addnodes.pending_xref)):
                path = ref.get("reftarget", "").partition("#")[0]
                if ref.get("reftype") != "myst" or not path.endswith(".md"):
                    continue
                doc = os.path.normpath(os.path.join(os.path.dirname(ref["refdoc"]), path[:-3]))
                if doc in here or doc not in self.env.titles or doc.startswith("docs/man/"):
                    continue
                title = self.env.titles[doc].astext()
                said = ref.astext().strip()
                note = (" (a chapter of the manual)" if said == title else
                        " (in the manual's chapter %s)" % title)
                ref.parent.insert(ref.parent.index(ref) + 1, nodes.Text(note))

    app.add_post_transform(ChapterOfOtherLinks)

    # A man page is read 80 columns wide, where a table of three or four
    # columns cannot be set (groff: "cannot adjust line", "table wider than
    # line width"; lintian fails on it). There each row becomes one list
    # item: its first cell, then "heading: cell" for each other one.
    class TablesAsListsInManPages(SphinxPostTransform):
        default_priority = 900
        builders = ("man",)

        @staticmethod
        def inline(entry):
            out = []
            for child in entry.children:
                out.extend(c.deepcopy() for c in (child.children if isinstance(
                    child, nodes.paragraph) else [child]))
            return out

        def run(self, **kwargs):
            for table in list(self.document.findall(nodes.table)):
                heads = [[e.astext() for e in row.findall(nodes.entry)]
                         for thead in table.findall(nodes.thead)
                         for row in thead.findall(nodes.row)][:1]
                heads = heads[0] if heads else []
                items = nodes.bullet_list()
                for tbody in table.findall(nodes.tbody):
                    for row in tbody.findall(nodes.row):
                        cells = [e for e in row.children if isinstance(e, nodes.entry)]
                        item = nodes.list_item()
                        first = nodes.paragraph()
                        first.extend(self.inline(cells[0]) if cells else [])
                        item += first
                        for i, cell in enumerate(cells[1:], start=1):
                            if not cell.astext().strip():
                                continue
                            para = nodes.paragraph()
                            if i < len(heads) and heads[i]:
                                para += nodes.emphasis(text=heads[i] + ": ")
                            para.extend(self.inline(cell))
                            item += para
                        items += item
                table.replace_self(items)

    app.add_post_transform(TablesAsListsInManPages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
