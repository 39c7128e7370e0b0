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

    # Tables without vertical rules: nroff draws those by moving back up
    # the page, which man-db's paged output garbles where a table crosses a
    # page (the rules land in the next paragraph). Rows keep their lines.
    from docutils.writers import manpage
    boxed = manpage.Table.as_list

    def as_list(self):
        text = boxed(self)
        text[2] = "%s.\n" % " ".join(self._coldefs)
        return text
    manpage.Table.as_list = as_list
    return {"parallel_read_safe": True, "parallel_write_safe": True}
