/* SPDX-License-Identifier: MPL-2.0 */
/* From dhcpd's answers to the hook's: a SELECT branch's filename
 * "<prefix><set>.nbi/<arch>/<BootFile>" gives tftp-path-prefix, the set
 * folder and its booter; its root path "<http-url>/<set>.nbi/<RootPath>"
 * (or nfs:<host>:/<export>:<set>.nbi/<RootPath>) gives http-url or nfs-url
 * and the set's RootPath, or stays a URL RootPath, which the hook sends as
 * written. Where the answers disagree, the most common value wins and the
 * others are said out loud. */
#include "hook/catalogue.h"
#include "tools/migrate/migrate_plan.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

void migrate_id_text(uint32_t id, char buf[12])
{
	snprintf(buf, 12, "%02X:%02X:%02X:%02X", id >> 24, (id >> 16) & 0xff, (id >> 8) & 0xff,
		 id & 0xff);
}

__attribute__((format(printf, 5, 6)))
static void add_line(char (*lines)[MIGRATE_TEXT_MAX], size_t *n, const char *file, unsigned line,
		     const char *fmt, ...)
{
	if (*n >= MIGRATE_LINES_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	bsdp_find_vformat(lines[(*n)++], MIGRATE_TEXT_MAX, file, line, fmt, ap);
	va_end(ap);
}

#define CANNOT(p, at, ...) add_line((p)->cannot, &(p)->n_cannot, (at).file, (at).line, __VA_ARGS__)
#define NOTE(p, at, ...) add_line((p)->notes, &(p)->n_notes, (at).file, (at).line, __VA_ARGS__)
#define NOWHERE ((struct bsdp_find_where){ NULL, 0 })

static void copy_str(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* ---- reading dhcpd's answers ---------------------------------------------- */

struct booter {
	char prefix[128];
	char set_dir[MIGRATE_SET_DIR_MAX + 1];
	unsigned arch;
	char boot_file[256];
};

/* "<prefix><set>.nbi/<arch>/<BootFile>", the layout the hook serves. */
static bool parse_booter(const char *file, struct booter *b)
{
	for (const char *p = strstr(file, ".nbi/"); p; p = strstr(p + 1, ".nbi/")) {
		const char *arch = p + 5;
		size_t al = strcspn(arch, "/");
		unsigned bit = bsdp_arch_from_name(arch, al);
		if (!bit || arch[al] != '/' || !arch[al + 1])
			continue;
		const char *set = p;
		while (set > file && set[-1] != '/')
			set--;
		size_t set_len = (size_t)(p + 4 - set), prefix_len = (size_t)(set - file);
		if (set_len <= 4 || set_len > MIGRATE_SET_DIR_MAX || prefix_len >= sizeof(b->prefix) ||
		    strlen(arch + al + 1) >= sizeof(b->boot_file))
			continue;
		copy_str(b->prefix, sizeof(b->prefix), file, prefix_len);
		copy_str(b->set_dir, sizeof(b->set_dir), set, set_len);
		b->arch = bit;
		copy_str(b->boot_file, sizeof(b->boot_file), arch + al + 1, strlen(arch + al + 1));
		return true;
	}
	return false;
}

static bool is_http(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static bool is_nfs(const char *s)
{
	return strncasecmp(s, "nfs:", 4) == 0;
}

/* %XX decoded (the hook escapes set and RootPath itself); false when a
 * decoded byte would be a control character. */
static bool url_decode(const char *s, char *out, size_t size)
{
	size_t o = 0;
	for (; *s && o + 1 < size; s++) {
		int hi, lo;
		if (*s == '%' && (hi = bsdp_hex_digit(s[1])) >= 0 && (lo = bsdp_hex_digit(s[2])) >= 0) {
			unsigned char c = (unsigned char)(hi * 16 + lo);
			if (c < 0x20 || c == 0x7f)
				return false;
			out[o++] = (char)c;
			s += 2;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
	return !*s;
}

/* The .nbi folder named in a root path, or false. */
static bool set_in_root_path(const char *root, char *set_dir, size_t size)
{
	const char *p = strstr(root, ".nbi/");
	if (!p)
		return false;
	const char *s = p;
	while (s > root && s[-1] != '/' && s[-1] != ':')
		s--;
	size_t len = (size_t)(p + 4 - s);
	if (len <= 4 || len >= size)
		return false;
	copy_str(set_dir, size, s, len);
	return true;
}

/* root = base + sep + set + "/" + rel, sep '/' for HTTP, ':' for NFS. */
static bool split_root(const char *root, const char *set_dir, char sep, char *base,
		       size_t base_size, char *rel, size_t rel_size)
{
	char needle[MIGRATE_SET_DIR_MAX + 4];
	snprintf(needle, sizeof(needle), "%c%s/", sep, set_dir);
	const char *p = strstr(root, needle);
	if (!p || (size_t)(p - root) >= base_size || !p[strlen(needle)])
		return false;
	copy_str(base, base_size, root, (size_t)(p - root));
	copy_str(rel, rel_size, p + strlen(needle), strlen(p + strlen(needle)));
	return strstr(rel, "../") == NULL && strcmp(rel, "..") != 0;
}

/* A folder name from an image name: what tftpd and URLs take as is, short
 * enough that <folder>/<arch>/<booter> fits the 127 bytes of BOOTP's file. */
#define NAMED_STEM_MAX 64
static void set_dir_from_name(const char *name, char *out, size_t size)
{
	size_t o = 0;
	for (const char *p = name; *p && o < NAMED_STEM_MAX && o + 5 < size; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-';
		if (!ok && (o == 0 || out[o - 1] == '-'))
			continue;
		out[o++] = ok ? (char)c : '-';
	}
	while (o > 0 && (out[o - 1] == '-' || out[o - 1] == '.'))
		o--;
	if (o == 0)
		o = (size_t)snprintf(out, size, "image");
	snprintf(out + o, size - o, ".nbi");
}

/* ---- votes: the value most branches agree on ------------------------------ */

#define VOTES_MAX BSDP_FIND_SELECTS_MAX
struct votes {
	size_t n;
	char value[VOTES_MAX][MIGRATE_URL_MAX];
	unsigned count[VOTES_MAX];
	struct bsdp_find_where first[VOTES_MAX];
};

static void vote(struct votes *v, const char *value, struct bsdp_find_where at)
{
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->value[i], value) == 0) {
			v->count[i]++;
			return;
		}
	if (v->n >= VOTES_MAX)
		return;
	copy_str(v->value[v->n], MIGRATE_URL_MAX, value, strlen(value));
	v->count[v->n] = 1;
	v->first[v->n++] = at;
}

/* Index of the winner (first among equals), or -1 when nobody voted. */
static int winner(const struct votes *v)
{
	int best = -1;
	for (size_t i = 0; i < v->n; i++)
		if (best < 0 || v->count[i] > v->count[best])
			best = (int)i;
	return best;
}

/* ---- the plan ------------------------------------------------------------- */

static const struct bsdp_find_image *found_image(const struct bsdp_find_result *r, uint32_t id)
{
	for (size_t i = 0; i < r->n_images; i++)
		if (r->images[i].id == id)
			return &r->images[i];
	return NULL;
}

static bool ipv4(const char *s)
{
	struct in_addr a;
	return inet_pton(AF_INET, s, &a) == 1;
}

/* next-server and the BSDP server identifier become server-address: the
 * hook has one address for both. */
static void plan_server(const struct bsdp_find_result *r, struct migrate_plan *p,
			struct votes *v)
{
	for (size_t i = 0; i < r->n_selects; i++)
		if (r->selects[i].next_server[0])
			vote(v, r->selects[i].next_server, r->selects[i].at);
	int w = winner(v);
	const char *pick = w >= 0 ? v->value[w] : r->has_server_id ? r->server_id : NULL;
	for (size_t i = 0; w >= 0 && i < v->n; i++)
		if ((int)i != w)
			CANNOT(p, v->first[i], "next-server %s differs from the %s most SELECT branches "
			       "give: server-address is one address for every set. Give that set "
			       "\"LoadBalanceServer\": \"%s\" in its NBImageInfo.plist (it also "
			       "replaces the host of http-url for it)", v->value[i], v->value[w],
			       v->value[i]);
	if (!pick) {
		NOTE(p, NOWHERE, "no next-server or server identifier: server-address is left out, "
		     "so each Mac gets the address of the interface its query came in on");
		return;
	}
	if (!ipv4(pick)) {
		CANNOT(p, w >= 0 ? v->first[w] : r->server_id_at, "next-server %s is not an IPv4 "
		       "address: server-address takes one; put the address it resolves to in the "
		       "fragment", pick);
		return;
	}
	copy_str(p->server_address, sizeof(p->server_address), pick, strlen(pick));
	if (w >= 0 && r->has_server_id && strcmp(r->server_id, pick) != 0)
		CANNOT(p, r->server_id_at, "server identifier %s differs from next-server %s: the "
		       "hook answers with server-address as both; %s is kept (the Mac fetches its "
		       "booter there)", r->server_id, pick, pick);
}

/* Folder, booter and architectures of one image from its SELECT branches. */
static void plan_booter(const struct bsdp_find_result *r, struct migrate_plan *p,
			struct migrate_image *im, struct votes *prefixes)
{
	char ids[12];
	migrate_id_text(im->id, ids);
	const struct bsdp_find_select *first_parsed = NULL;
	struct booter b0 = { 0 };
	for (size_t i = 0; i < r->n_selects; i++) {
		const struct bsdp_find_select *s = &r->selects[i];
		if (s->image_id != im->id)
			continue;
		if (!im->select)
			im->select = s;
		struct booter b = { 0 };
		if (s->filename[0] && parse_booter(s->filename, &b)) {
			vote(prefixes, b.prefix, s->at);
			if (!first_parsed) {
				first_parsed = s;
				b0 = b;
			} else if (strcmp(b.set_dir, b0.set_dir) != 0 ||
				   strcmp(b.boot_file, b0.boot_file) != 0) {
				CANNOT(p, s->at, "image %s boots %s here but %s at %s:%u: one set has one "
				       "folder and one BootFile; %s%s/<arch>/%s is kept", ids,
				       s->filename, first_parsed->filename, first_parsed->at.file,
				       first_parsed->at.line, b0.prefix, b0.set_dir, b0.boot_file);
				continue;
			}
			im->archs |= b.arch;
		} else if (s->filename[0]) {
			const char *cls_arch = r->classes[s->class_idx].arch;
			unsigned bit = bsdp_arch_from_name(cls_arch, strlen(cls_arch));
			if (!bit) {
				bit = BSDP_ARCH_I386;
				NOTE(p, s->at, "image %s: class \"%s\" matches every architecture; "
				     "Architectures i386 is a guess (the Intel Macs of both seeds)", ids,
				     r->classes[s->class_idx].name);
			}
			im->archs |= bit;
		}
	}
	const struct bsdp_find_image *fi = found_image(r, im->id);
	for (size_t k = 0; im->select && fi && k < r->n_classes; k++) {
		unsigned bit = bsdp_arch_from_name(r->classes[k].arch, strlen(r->classes[k].arch));
		if ((fi->classes & (1u << k)) && bit && !(im->archs & bit))
			NOTE(p, r->classes[k].at, "image %s: class \"%s\" lists it for %s but has no "
			     "SELECT branch for it (dhcpd never boots it there): %s is left out of "
			     "its Architectures, so such Macs no longer see it listed", ids,
			     r->classes[k].name, r->classes[k].arch, r->classes[k].arch);
	}
	if (first_parsed) {
		copy_str(im->set_dir, sizeof(im->set_dir), b0.set_dir, strlen(b0.set_dir));
		copy_str(im->boot_file, sizeof(im->boot_file), b0.boot_file, strlen(b0.boot_file));
		im->boot_file_known = true;
		return;
	}
	/* No filename of the hook's layout: the booter is named by its base name
	 * and the set folder comes from the root path or the image's name. */
	const char *file = im->select ? im->select->filename : "";
	if (file[0]) {
		const char *base = strrchr(file, '/');
		base = base ? base + 1 : file;
		copy_str(im->boot_file, sizeof(im->boot_file), base, strlen(base));
		im->boot_file_known = true;
	} else {
		snprintf(im->boot_file, sizeof(im->boot_file), "booter");
	}
	if (!(im->select && set_in_root_path(im->select->root_path, im->set_dir, sizeof(im->set_dir)))) {
		set_dir_from_name(im->name, im->set_dir, sizeof(im->set_dir));
		for (const struct migrate_image *o = p->images; o < im; o++)
			if (strcmp(o->set_dir, im->set_dir) == 0) {
				/* Two images of one name: the index tells their folders apart. */
				size_t stem = strlen(im->set_dir) - 4;
				snprintf(im->set_dir + stem, sizeof(im->set_dir) - stem, "-%u.nbi", im->index);
				break;
			}
		NOTE(p, im->select ? im->select->at : NOWHERE, "image %s: no .nbi folder in dhcpd's "
		     "answers; its set folder is named \"%s\" after the image", ids, im->set_dir);
	}
	if (!im->archs) {
		for (size_t k = 0; fi && k < r->n_classes; k++)
			if (fi->classes & (1u << k))
				im->archs |= bsdp_arch_from_name(r->classes[k].arch,
								 strlen(r->classes[k].arch));
		if (!im->archs) {
			im->archs = BSDP_ARCH_I386;
			NOTE(p, im->select ? im->select->at : NOWHERE,
			     "image %s: Architectures i386 is a guess (no class names an "
			     "architecture)", ids);
		}
	}
	if (!im->select)
		NOTE(p, NOWHERE, "image %s has no SELECT branch: its BootFile \"booter\" is a guess "
		     "(Apple's name) and it stays unbootable until a booter is put in its set", ids);
}

/* Type and RootPath of one image; votes for http-url and nfs-url. */
static void plan_root(struct migrate_plan *p, struct migrate_image *im, struct votes *http,
		      struct votes *nfs)
{
	char ids[12], decoded[BSDP_FIND_PATH_LEN], base[MIGRATE_URL_MAX];
	migrate_id_text(im->id, ids);
	const char *root = im->select ? im->select->root_path : "";
	if (!root[0]) {
		im->type = BSDP_TYPE_BOOTFILEONLY;
		return;
	}
	bool http_url = is_http(root);
	im->type = http_url ? BSDP_TYPE_HTTP : BSDP_TYPE_NFS;
	if (!http_url && !is_nfs(root)) {
		CANNOT(p, im->select->at, "image %s: root-path \"%s\" is neither an http(s):// URL "
		       "nor Apple's nfs:<host>:/<export>:<path>: write it as one in the set's "
		       "RootPath", ids, root);
		copy_str(im->root_path, sizeof(im->root_path), root, strlen(root));
		return;
	}
	/* The hook %-escapes an HTTP root path (not an NFS one): read it unescaped. */
	if ((http_url ? url_decode(root, decoded, sizeof(decoded))
		      : (copy_str(decoded, sizeof(decoded), root, strlen(root)), true)) &&
	    split_root(decoded, im->set_dir, http_url ? '/' : ':', base, sizeof(base), im->root_path,
		       sizeof(im->root_path)) &&
	    strncmp(root, base, strlen(base)) == 0) {
		vote(http_url ? http : nfs, base, im->select->at);
		return;
	}
	copy_str(im->root_path, sizeof(im->root_path), root, strlen(root));
	NOTE(p, im->select->at, "image %s: root-path \"%s\" does not lie in a folder %s: it "
	     "stays a URL RootPath, sent as written", ids, root, im->set_dir);
}

/* A set whose RootPath lies under a URL other than the chosen http-url or
 * nfs-url keeps the whole URL as its RootPath. */
static void settle_base(struct migrate_plan *p, const struct votes *v, bool http, char *param,
			size_t size)
{
	int w = winner(v);
	if (w < 0)
		return;
	copy_str(param, size, v->value[w], strlen(v->value[w]));
	for (size_t i = 0; i < p->n_images; i++) {
		struct migrate_image *im = &p->images[i];
		if (!im->select || bsdp_root_path_is_url(im->root_path) || !im->root_path[0] ||
		    im->type != (http ? BSDP_TYPE_HTTP : BSDP_TYPE_NFS) ||
		    strncmp(im->select->root_path, param, strlen(param)) == 0)
			continue;
		char ids[12];
		migrate_id_text(im->id, ids);
		NOTE(p, im->select->at, "image %s: root-path %s is not under %s %s: it stays a URL "
		     "RootPath, sent as written", ids, im->select->root_path,
		     http ? "http-url" : "nfs-url", param);
		copy_str(im->root_path, sizeof(im->root_path), im->select->root_path,
			 strlen(im->select->root_path));
	}
}

/* The iPXE stage's URL goes to the sets that hand out a boot file only
 * (iPXE's snponly.efi in the ESXi recipe). */
static void plan_chain(const struct bsdp_find_result *r, struct migrate_plan *p)
{
	if (!r->has_ipxe)
		return;
	size_t given = 0;
	for (size_t i = 0; i < p->n_images; i++) {
		struct migrate_image *im = &p->images[i];
		if (im->type != BSDP_TYPE_BOOTFILEONLY || !im->select)
			continue;
		char ids[12];
		migrate_id_text(im->id, ids);
		copy_str(im->chain_url, sizeof(im->chain_url), r->ipxe_boot_file,
			 strlen(r->ipxe_boot_file));
		given++;
		NOTE(p, r->ipxe_at, "image %s hands out %s with no root path: taken as an iPXE "
		     "build, its set gets ChainURL %s (what the iPXE stage, %s, hands out)", ids,
		     im->boot_file, r->ipxe_boot_file, r->ipxe_how);
	}
	if (!given)
		CANNOT(p, r->ipxe_at, "the iPXE stage (%s) hands out %s, but no image boots a file "
		       "without a root path: give the set whose booter is iPXE \"ChainURL\": \"%s\"",
		       r->ipxe_how, r->ipxe_boot_file, r->ipxe_boot_file);
	CANNOT(p, r->ipxe_at, "the iPXE stage answers every iPXE client; the hook hands %s only "
	       "to a Mac that SELECTed a set with ChainURL within chain-window seconds (600), and "
	       "Kea must give iPXE an address: the Macs' network needs a Kea subnet with a pool "
	       "(manual, \"The iPXE chain\"). Other PXE clients need a Kea client class (keama's "
	       "output)", r->ipxe_boot_file);
}

static void plan_pins(const struct bsdp_find_result *r, struct migrate_plan *p)
{
	for (size_t i = 0; i < r->n_hosts && p->n_pins < BSDP_FIND_HOSTS_MAX; i++) {
		const struct bsdp_find_host *h = &r->hosts[i];
		const struct migrate_pin *same = NULL;
		for (size_t k = 0; k < p->n_pins && !same; k++)
			if (strcmp(p->pins[k].mac, h->mac) == 0)
				same = &p->pins[k];
		if (same) {
			/* Kea takes one global reservation per MAC. */
			CANNOT(p, h->at, "host %s pins %s again (first at %s:%u, Index %u): one "
			       "reservation per MAC; the first is kept", h->name, h->mac, same->at.file,
			       same->at.line, same->index);
			continue;
		}
		struct migrate_pin *pin = &p->pins[p->n_pins++];
		copy_str(pin->mac, sizeof(pin->mac), h->mac, strlen(h->mac));
		pin->index = (uint16_t)BSDP_IMAGE_ID_INDEX(h->image_id);
		pin->at = h->at;
		/* Kea 2.2 refuses a reservation without a resource: the host name is it. */
		size_t o = 0;
		for (const char *s = h->name; *s && o + 1 < sizeof(pin->hostname); s++)
			pin->hostname[o++] = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
					     (*s >= '0' && *s <= '9') || *s == '.' ? *s : '-';
		pin->hostname[o] = '\0';
		if (strcmp(pin->hostname, h->name) != 0)
			NOTE(p, h->at, "host %s: its reservation's hostname is written \"%s\" (a "
			     "host name takes letters, digits, '-' and '.')", h->name, pin->hostname);
		for (size_t k = 0; k < p->n_images; k++)
			if (p->images[k].index == pin->index && p->images[k].id != h->image_id) {
				char a[12], b[12];
				migrate_id_text(h->image_id, a);
				migrate_id_text(p->images[k].id, b);
				NOTE(p, h->at, "host %s is pinned to %s; the hook pins by Index (%u), "
				     "which %s shares: it takes the one this Mac may boot", h->name, a,
				     pin->index, b);
			}
	}
}

/* The class blocks that are not BSDP's: keama translates them. */
static unsigned last_line(const struct dhcpd_node *nd, const char *file, unsigned depth)
{
	unsigned max = nd->line;
	if (depth > DHCPD_CONF_NEST_MAX + DHCPD_CONF_INCLUDE_DEPTH)
		return max;
	for (const struct dhcpd_node *br = nd; br; br = br->alt)
		for (const struct dhcpd_node *c = br->child; c; c = c->next) {
			unsigned l = c->file == file ? last_line(c, file, depth + 1) : 0;
			if (l > max)
				max = l;
		}
	return max;
}

static void plan_classes(const struct dhcpd_node *nd, const struct bsdp_find_result *r,
			 struct migrate_plan *p, unsigned depth)
{
	if (depth > DHCPD_CONF_NEST_MAX + DHCPD_CONF_INCLUDE_DEPTH)
		return;
	for (; nd; nd = nd->next) {
		if (nd->kind == DHCPD_NODE_BLOCK && nd->n_toks >= 2 &&
		    dhcpd_tok_is(&nd->toks[0], "class")) {
			bool bsdp = false;
			for (size_t k = 0; k < r->n_classes && !bsdp; k++)
				bsdp = r->classes[k].at.file == nd->file && r->classes[k].at.line == nd->line;
			if (bsdp)
				continue;
			bool ipxe = r->has_ipxe && r->ipxe_at.file == nd->file &&
				    r->ipxe_at.line >= nd->line && r->ipxe_at.line <= last_line(nd, nd->file, 0);
			struct bsdp_find_where at = { nd->file, nd->line };
			if (ipxe)
				CANNOT(p, at, "class \"%s\": only its iPXE stage carries over (as ChainURL); "
				       "the rest is not BSDP: translate it with keama", nd->toks[1].text);
			else
				CANNOT(p, at, "class \"%s\" is not BSDP: translate it with keama (it "
				       "skips if statements: check them by hand)", nd->toks[1].text);
			continue;
		}
		for (const struct dhcpd_node *br = nd; br; br = br->alt)
			plan_classes(br->child, r, p, depth + 1);
	}
}

static void plan_leftovers(const struct bsdp_find_result *r, struct migrate_plan *p)
{
	if (r->has_priority)
		CANNOT(p, r->priority_at, "server priority %u is a fixed value; the fragment keeps "
		       "it as server-priority %u, also fixed. Apple's server lowered it under load; "
		       "if that was meant, spread the Macs over two Kea servers instead "
		       "(docs/two-servers.md)", r->priority, r->priority);
	if (r->has_list_selected) {
		char ids[12];
		migrate_id_text(r->list_selected_id, ids);
		CANNOT(p, NOWHERE, "every LIST names %s as the Mac's selection; the hook names what "
		       "each Mac selected last (or its pin): pin Macs that must boot %s "
		       "(reservations with user-context bsdp-image)", ids, ids);
	}
	/* One line per machine name, however many images give it. */
	for (size_t i = 0; i < r->n_selects; i++) {
		const struct bsdp_find_select *s = &r->selects[i];
		bool said = false;
		for (size_t k = 0; k < i && !said; k++)
			said = strcmp(r->selects[k].machine_name, s->machine_name) == 0;
		if (!s->machine_name[0] || said)
			continue;
		char ids[12 * 8] = "";
		size_t n = 0;
		for (size_t k = i; k < r->n_selects; k++)
			if (strcmp(r->selects[k].machine_name, s->machine_name) == 0 && n++ < 7) {
				char one[12];
				migrate_id_text(r->selects[k].image_id, one);
				snprintf(ids + strlen(ids), sizeof(ids) - strlen(ids), "%s%s",
					 n > 1 ? ", " : "", one);
			}
		/* "NetBoot001" numbers as NetBoot%03d, not NetBoot001%03d. */
		int stem = (int)strlen(s->machine_name);
		while (stem > 1 && s->machine_name[stem - 1] >= '0' && s->machine_name[stem - 1] <= '9')
			stem--;
		CANNOT(p, s->at, "every Mac that boots %s%s gets the machine name \"%s\"; the hook "
		       "numbers them: \"machine-name-format\": \"%.*s%%03d\" gives %.*s001, %.*s002...",
		       ids, n > 7 ? "..." : "", s->machine_name, stem, s->machine_name, stem,
		       s->machine_name, stem, s->machine_name);
	}
	if (r->has_shadow)
		CANNOT(p, r->shadow_at, "the SELECT answer gives an AFP shadow mount%s%s (sub-options "
		       "128 and 129, for diskless Macs): the hook sends none, so each Mac keeps its "
		       "shadow file in memory or on its own disk; a Mac without a disk needs an "
		       "Apple NetBoot server", r->shadow_mount[0] ? " " : "", r->shadow_mount);
	if (r->deny_unknown)
		NOTE(p, r->deny_unknown_at, "unknown clients are denied: in dhcpd that keeps "
		     "addresses from Macs without a host declaration, but dhcpd still answers their "
		     "BSDP INFORMs, and so does the hook. To keep BSDP to known Macs, list their MACs "
		     "in each set's EnabledMACAddresses; for addresses, keama's reservations plus "
		     "\"client-class\": \"KNOWN\" on the pools");
}

void migrate_plan_make(const struct dhcpd_conf *conf, const struct bsdp_find_result *r,
		       struct migrate_plan *p)
{
	static struct votes votes[4]; /* large; the tool plans once */
	char ids[12];
	struct votes *servers = &votes[0], *prefixes = &votes[1], *http = &votes[2], *nfs = &votes[3];
	memset(p, 0, sizeof(*p));
	memset(votes, 0, sizeof(votes));
	for (size_t i = 0; i < r->n_images; i++) {
		struct migrate_image *im = &p->images[p->n_images++];
		im->id = r->images[i].id;
		im->index = (uint16_t)BSDP_IMAGE_ID_INDEX(im->id);
		im->kind = (uint8_t)BSDP_IMAGE_ID_KIND(im->id);
		im->install = BSDP_IMAGE_ID_INSTALL(im->id);
		copy_str(im->name, sizeof(im->name), r->images[i].name, r->images[i].name_len);
		im->is_default = r->has_default ? r->default_id == im->id : i == 0;
		if (im->kind == 3)
			NOTE(p, r->images[i].at, "image %s is a diagnostics image (Kind 3): its set "
			     "gets FilterOnly false, so every Mac sees it listed, as dhcpd listed it",
			     (migrate_id_text(im->id, ids), ids));
		plan_booter(r, p, im, prefixes);
		plan_root(p, im, http, nfs);
	}
	for (size_t i = 0; i < p->n_images; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(p->images[i].set_dir, p->images[k].set_dir) == 0) {
				char a[12], b[12];
				migrate_id_text(p->images[k].id, a);
				migrate_id_text(p->images[i].id, b);
				CANNOT(p, p->images[i].select ? p->images[i].select->at : NOWHERE,
				       "images %s and %s both boot from %s: a set serves one image; copy "
				       "the folder for %s under another name", a, b, p->images[i].set_dir, b);
				break;
			}
	plan_server(r, p, servers);
	int w = winner(prefixes);
	if (w >= 0) {
		copy_str(p->tftp_path_prefix, sizeof(p->tftp_path_prefix), prefixes->value[w],
			 strlen(prefixes->value[w]));
		for (size_t i = 0; i < prefixes->n; i++)
			if ((int)i != w)
				CANNOT(p, prefixes->first[i], "boot files under \"%s\" and under \"%s\" (most "
				       "SELECT branches): tftp-path-prefix is one prefix for every set; "
				       "serve all sets under \"%s\"", prefixes->value[i], prefixes->value[w],
				       prefixes->value[w]);
	} else {
		NOTE(p, NOWHERE, "no SELECT branch boots a file of the layout <set>.nbi/<arch>/<file>: "
		     "tftp-path-prefix stays empty, so the TFTP server must serve sets-directory at "
		     "its root (or set tftp-path-prefix to where it does)");
	}
	for (size_t i = 0; i < p->n_images; i++) {
		struct migrate_image *im = &p->images[i];
		if (!im->select || !im->select->filename[0] || parse_booter(im->select->filename, &(struct booter){ 0 }))
			continue;
		char ids[12];
		migrate_id_text(im->id, ids);
		NOTE(p, im->select->at, "image %s: dhcpd hands out \"%s\"; Kea hands out %s%s/%s/%s, so "
		     "the TFTP server must serve the set there", ids, im->select->filename,
		     p->tftp_path_prefix, im->set_dir,
		     bsdp_arch_name(im->archs & BSDP_ARCH_I386 ? BSDP_ARCH_I386 : im->archs & BSDP_ARCH_PPC ? BSDP_ARCH_PPC : BSDP_ARCH_ARM),
		     im->boot_file);
	}
	settle_base(p, http, true, p->http_url, sizeof(p->http_url));
	settle_base(p, nfs, false, p->nfs_url, sizeof(p->nfs_url));
	if (r->has_priority) {
		p->has_priority = true;
		p->priority = r->priority;
	}
	plan_chain(r, p);
	plan_pins(r, p);
	plan_leftovers(r, p);
	plan_classes(dhcpd_conf_root(conf), r, p, 0);
}
