#!/bin/sh
# SPDX-License-Identifier: MPL-2.0
# Prints the Markdown source of kea-bsdp(7), for go-md2man: a NAME, SYNOPSIS
# and DESCRIPTION header, every block of README between the
# "<!-- kea-bsdp.7 begin -->" and "<!-- kea-bsdp.7 end -->" markers (in
# order), then the generated log message reference. The reference is written
# once, in README and the .mes file; this only reshapes it for man:
#   - HTML comments go (go-md2man prints them raw);
#   - links keep their text ("[x](#y)" -> "x"): anchors mean nothing in man;
#   - tables become definition lists (first cell, then "cell2; HEADER3:
#     cell3..."), because go-md2man's tbl tables do not wrap their cells;
#   - the log reference's headings go down a level (its "# Log messages" is a
#     section like README's "## ...", each message a subsection).
#
# usage: man7.sh README.md docs/log-messages.md VERSION >kea-bsdp.7.md
set -eu
[ $# -eq 3 ] || { echo "usage: $0 README LOG_MESSAGES VERSION" >&2; exit 2; }
readme=$1 messages=$2 version=$3

cat <<HEAD
# kea-bsdp 7 "" "kea-bsdp $version" "Kea hooks libraries"

# NAME

kea-bsdp - Apple NetBoot (BSDP) hooks library for the Kea DHCPv4 server

# SYNOPSIS

In the **Dhcp4** configuration of **kea-dhcp4**(8):

\`\`\`
"hooks-libraries": [ {
  "library": "/usr/lib/<triplet>/kea/hooks/libdhcp_bsdp.so",
  "parameters": { "sets-directory": "/srv/netboot/sets" }
} ]
\`\`\`

# DESCRIPTION

**libdhcp_bsdp.so** turns kea-dhcp4 into an Apple NetBoot server: it scans
NetBoot sets (*.nbi folders with an NBImageInfo.plist) and answers the BSDP
INFORM[LIST] and INFORM[SELECT] requests of Macs, with the boot image list,
the selected image, the booter path and the HTTP or NFS root path. Kea keeps
doing everything else. This page lists its parameters, control commands,
statistics and log messages; **kea-bsdp-check**(1) checks a configuration
before a restart and **bsdpc**(1) asks a server what a Mac would.

HEAD

# awk program shared by both inputs: $shift adds that many '#' to headings.
reshape='
function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
function cells(line, out,   n, i) {
	sub(/^[ \t]*\|/, "", line); sub(/\|[ \t]*$/, "", line)
	n = split(line, out, /\|/)
	for (i = 1; i <= n; i++) out[i] = trim(out[i])
	return n
}
BEGIN { inblock = !markers }
markers && /^<!-- kea-bsdp\.7 begin -->$/ { inblock = 1; next }
markers && /^<!-- kea-bsdp\.7 end -->$/ { inblock = 0; print ""; next }
!inblock { next }
/^```/ { fence = !fence; print; next }
fence { print; next }
# an HTML comment on its own line(s)
/^<!--/ { incomment = 1 }
incomment { if ($0 ~ /-->/) incomment = 0; next }
{
	# [text](#anchor) and [text](path) keep their text
	while (match($0, /\[[^]]*\]\([^)]*\)/)) {
		l = substr($0, RSTART, RLENGTH); t = l
		sub(/^\[/, "", t); sub(/\]\(.*$/, "", t)
		$0 = substr($0, 1, RSTART - 1) t substr($0, RSTART + RLENGTH)
	}
}
/^[ \t]*\|/ {
	if (!intable) { cells($0, head); intable = 1; next }
	if ($0 ~ /^[ \t]*\|[ \t:|-]*$/) next
	# a definition list: the first cell, then the second, then each
	# further cell after the header of its column
	n = cells($0, c); def = c[2]
	for (i = 3; i <= n; i++) if (c[i] != "")
		def = def (def != "" ? "; " : "") head[i] ": " c[i]
	print "**" c[1] "**"; print ": " def; print ""; next
}
{ intable = 0 }
/^#/ { for (i = 0; i < shift; i++) $0 = "#" $0 }
{ print }'
awk -v markers=1 -v shift=0 "$reshape" "$readme"
awk -v markers=0 -v shift=1 "$reshape" "$messages"
