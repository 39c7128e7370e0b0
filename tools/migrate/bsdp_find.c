/* SPDX-License-Identifier: MPL-2.0 */
/* Reads the BSDP configuration out of a dhcpd.conf tree (see bsdp_find.h).
 * Option 43 bytes written by hand are decoded with the project's codec
 * (hook/bsdp_codec.h), so a list dhcpd would send is read exactly as a Mac
 * would read it. */
#include "hook/catalogue.h"
#include "tools/migrate/bsdp_find.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HEX_MAX 2048        /* bytes of one hex value */
#define SPACE_MEMBERS_MAX 256
#define SPACES_MAX 16
#define NAMES_175_MAX 8

enum msg { MSG_NONE = 0, MSG_LIST = 1, MSG_SELECT = 2, MSG_OTHER_DHCP = -1 };

struct member {
	char name[128];     /* SPACE.member */
	unsigned code;
};

struct space_decl {
	char name[64];
	bool old_form;          /* code width / length width given */
	char bad_width[16];     /* "code" or "length" when a width is not 1 */
	struct bsdp_find_where at;
};

/* Values in force in a body: inherited from the bodies around it. */
struct values {
	bool has_selected;
	uint32_t selected_id;
	char next_server[64];
	char filename[256];
	char root_path[BSDP_FIND_PATH_LEN];
	char machine_name[256];
};

struct ctx {
	int cls;            /* class index, -1 outside BSDP */
	enum msg msg;
	bool has_cond_id;
	uint32_t cond_id;
	bool ipxe;          /* inside the iPXE stage */
	bool has_group_pin; /* a group around: the image its hosts are pinned to */
	uint32_t group_pin;
	struct bsdp_find_where group_pin_at;
	struct values vals;
};

struct finder {
	struct bsdp_find_result *res;
	char *err;
	size_t err_size;
	bool failed;
	size_t n_spaces;
	struct space_decl spaces[SPACES_MAX];
	size_t n_members;
	struct member members[SPACE_MEMBERS_MAX];
	size_t n_175;
	char names_175[NAMES_175_MAX][64];
	char next_server_outside[64];     /* a next-server outside any BSDP scope */
	struct bsdp_find_where next_server_outside_at;
	char encapsulated[64];            /* option 43 declared = encapsulate SPACE */
	bool authoritative;               /* an `authoritative;` in any scope */
	bool tests_space;                 /* a condition reads SPACE.message_type */
	struct bsdp_find_where tests_space_at;
};

void bsdp_find_vformat(char *buf, size_t size, const char *file, unsigned line, const char *fmt,
		       va_list ap)
{
	int n = file ? snprintf(buf, size, "%s:%u: ", file, line) : 0;
	if (n >= 0 && (size_t)n < size)
		vsnprintf(buf + n, size - (size_t)n, fmt, ap);
}

__attribute__((format(printf, 3, 4)))
static void note(struct finder *f, const struct bsdp_find_where *at, const char *fmt, ...)
{
	struct bsdp_find_result *r = f->res;
	if (r->n_notes >= BSDP_FIND_NOTES_MAX)
		return;
	va_list ap;
	va_start(ap, fmt);
	bsdp_find_vformat(r->notes[r->n_notes++], BSDP_FIND_NOTE_LEN, at ? at->file : NULL,
			  at ? at->line : 0, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5)))
static int fail(struct finder *f, const char *file, unsigned line, const char *fmt, ...)
{
	if (f->failed)
		return -EINVAL; /* the first error is the one reported */
	f->failed = true;
	if (!f->err || !f->err_size)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	bsdp_find_vformat(f->err, f->err_size, file, line, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static struct bsdp_find_where where_of(const struct dhcpd_node *nd)
{
	return (struct bsdp_find_where){ nd->file, nd->line };
}

static void copy_text(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void id_str(uint32_t id, char buf[12])
{
	snprintf(buf, 12, "%02X:%02X:%02X:%02X", id >> 24, (id >> 16) & 0xff, (id >> 8) & 0xff,
		 id & 0xff);
}

/* ---- values -------------------------------------------------------------- */

static int parse_number(const struct dhcpd_token *t, unsigned long max, unsigned long *ret)
{
	if (!t || t->kind != DHCPD_TOK_WORD || !t->len)
		return -1;
	char *end;
	errno = 0;
	unsigned long v = strtoul(t->text, &end, 0);
	if (errno || *end || v > max || t->text[0] == '-' || t->text[0] == '+')
		return -1;
	*ret = v;
	return 0;
}

/* Hex bytes aa:bb:..., each a word of 1 or 2 hex digits between ':'s, as
 * dhcpd reads them whatever lines and comments lie between. */
static int parse_hex(const struct dhcpd_token *t, size_t n, uint8_t *out, size_t *ret_len)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 2 == 1) {
			if (!dhcpd_tok_punct(&t[i], ':'))
				return -1;
			continue;
		}
		if (t[i].kind != DHCPD_TOK_WORD || t[i].len < 1 || t[i].len > 2 || len >= HEX_MAX)
			return -1;
		unsigned v = 0;
		for (size_t k = 0; k < t[i].len; k++) {
			int d = bsdp_hex_digit(t[i].text[k]);
			if (d < 0)
				return -1;
			v = v * 16 + (unsigned)d;
		}
		out[len++] = (uint8_t)v;
	}
	if (n == 0 || n % 2 == 0)
		return -1; /* empty, or ending in ':' */
	*ret_len = len;
	return 0;
}

/* An image id: 4 hex bytes, or a number (a space member declared as an
 * unsigned integer 32). */
static int parse_image_id(const struct dhcpd_token *t, size_t n, uint32_t *ret)
{
	uint8_t b[HEX_MAX];
	size_t len;
	unsigned long v;
	if (n == 1 && t[0].kind == DHCPD_TOK_WORD && parse_number(&t[0], 0xffffffffUL, &v) == 0 &&
	    t[0].len > 2) {
		*ret = (uint32_t)v;
		return 0;
	}
	if (parse_hex(t, n, b, &len) < 0 || len != 4)
		return -1;
	*ret = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	return 0;
}

static bool text_value(const struct dhcpd_token *t, size_t n, char *dst, size_t size)
{
	if (n < 1 || (t[0].kind != DHCPD_TOK_STRING && t[0].kind != DHCPD_TOK_WORD))
		return false;
	copy_text(dst, size, t[0].text, t[0].len);
	return true;
}

/* ---- the option space ------------------------------------------------------ */

/* "BSDP.message_type" -> its code in the BSDP space, or -1. */
static int member_code(const struct finder *f, const char *name)
{
	size_t sl = strlen(f->res->space);
	if (!sl || strncasecmp(name, f->res->space, sl) != 0 || name[sl] != '.')
		return -1;
	for (size_t i = 0; i < f->n_members; i++)
		if (strcasecmp(f->members[i].name, name) == 0)
			return (int)f->members[i].code;
	return -1;
}

static bool is_175_name(const struct finder *f, const char *name)
{
	for (size_t i = 0; i < f->n_175; i++)
		if (strcasecmp(f->names_175[i], name) == 0)
			return true;
	return strncasecmp(name, "ipxe.", 5) == 0;
}

/* option space NAME [code width N length width N [hash size N]];
 * option SPACE.member code N = type; option NAME code 175 = ...; */
static void read_declaration(struct finder *f, const struct dhcpd_node *nd)
{
	const struct dhcpd_token *t = nd->toks;
	size_t n = nd->n_toks;
	if (n >= 3 && dhcpd_tok_is(&t[1], "space") && t[2].kind == DHCPD_TOK_WORD) {
		for (size_t i = 0; i < f->n_spaces; i++)
			if (strcasecmp(f->spaces[i].name, t[2].text) == 0)
				return;
		if (f->n_spaces >= SPACES_MAX)
			return;
		struct space_decl *sp = &f->spaces[f->n_spaces++];
		copy_text(sp->name, sizeof(sp->name), t[2].text, t[2].len);
		sp->at = where_of(nd);
		for (size_t i = 3; i + 2 < n; i++) {
			unsigned long w;
			if (!dhcpd_tok_is(&t[i + 1], "width"))
				continue;
			sp->old_form = true;
			if ((parse_number(&t[i + 2], 4, &w) < 0 || w != 1) && !sp->bad_width[0])
				copy_text(sp->bad_width, sizeof(sp->bad_width), t[i].text, t[i].len);
		}
		return;
	}
	/* option NAME code N = ... */
	unsigned long code;
	if (n < 4 || t[1].kind != DHCPD_TOK_WORD || !dhcpd_tok_is(&t[2], "code") ||
	    parse_number(&t[3], 255, &code) < 0)
		return;
	if (code == 175 && f->n_175 < NAMES_175_MAX)
		copy_text(f->names_175[f->n_175++], 64, t[1].text, t[1].len);
	if (code == 43 && n >= 7 && dhcpd_tok_is(&t[5], "encapsulate") &&
	    t[6].kind == DHCPD_TOK_WORD)
		copy_text(f->encapsulated, sizeof(f->encapsulated), t[6].text, t[6].len);
	if (strchr(t[1].text, '.') && f->n_members < SPACE_MEMBERS_MAX) {
		struct member *m = &f->members[f->n_members++];
		copy_text(m->name, sizeof(m->name), t[1].text, t[1].len);
		m->code = (unsigned)code;
	}
}

static bool space_has_code(const struct finder *f, const char *space, unsigned code)
{
	size_t sl = strlen(space);
	for (size_t i = 0; i < f->n_members; i++)
		if (f->members[i].code == code && strncasecmp(f->members[i].name, space, sl) == 0 &&
		    f->members[i].name[sl] == '.')
			return true;
	return false;
}

/* The BSDP space: one named so (BSDP, Apple, NetBoot), else the one that
 * declares a message type (1) and a boot image list (9), said out loud. */
static int choose_space(struct finder *f)
{
	const struct space_decl *pick = NULL;
	bool by_codes = false;
	for (size_t i = 0; i < f->n_spaces && !pick; i++) {
		const char *nm = f->spaces[i].name;
		if (strncasecmp(nm, "BSDP", 4) == 0 || strcasestr(nm, "apple") || strcasestr(nm, "netboot"))
			pick = &f->spaces[i];
	}
	for (size_t i = 0; i < f->n_spaces && !pick; i++)
		if (space_has_code(f, f->spaces[i].name, BSDP_OPT_MESSAGE_TYPE) &&
		    space_has_code(f, f->spaces[i].name, BSDP_OPT_BOOT_IMAGE_LIST))
			pick = &f->spaces[i], by_codes = true;
	if (!pick)
		return 0;
	struct bsdp_find_result *r = f->res;
	copy_text(r->space, sizeof(r->space), pick->name, strlen(pick->name));
	r->space_at = pick->at;
	r->space_old_form = pick->old_form;
	if (pick->bad_width[0])
		return fail(f, pick->at.file, pick->at.line, "option space %s: %s width must be 1 for BSDP",
			    pick->name, pick->bad_width);
	if (by_codes)
		note(f, &r->space_at, "option space %s is taken as the BSDP space: it declares codes 1 "
				      "(message type) and 9 (boot image list)", pick->name);
	return 0;
}

/* ---- the image list ------------------------------------------------------- */

static int add_image(struct finder *f, int cls, uint32_t id, const uint8_t *name, size_t len,
		     const struct dhcpd_node *nd)
{
	struct bsdp_find_result *r = f->res;
	char ids[12];
	id_str(id, ids);
	for (size_t i = 0; i < r->n_images; i++) {
		struct bsdp_find_image *im = &r->images[i];
		if (im->id != id)
			continue;
		if (im->name_len != len || memcmp(im->name, name, len) != 0)
			note(f, &(struct bsdp_find_where){ nd->file, nd->line },
			     "image %s is also named \"%.*s\" here; the first name, \"%s\" (%s:%u), is kept",
			     ids, (int)len, (const char *)name, im->name, im->at.file, im->at.line);
		if (cls >= 0)
			im->classes |= 1u << cls;
		return 0;
	}
	if (r->n_images >= BSDP_FIND_IMAGES_MAX)
		return fail(f, nd->file, nd->line, "more than %d images", BSDP_FIND_IMAGES_MAX);
	if (BSDP_IMAGE_ID_INDEX(id) == 0)
		return fail(f, nd->file, nd->line, "image %s has index 0, which BSDP never sends", ids);
	struct bsdp_find_image *im = &r->images[r->n_images++];
	im->id = id;
	im->name_len = len > BSDP_NAME_MAX ? BSDP_NAME_MAX : len;
	memcpy(im->name, name, im->name_len);
	im->name[im->name_len] = '\0';
	im->classes = cls >= 0 ? 1u << cls : 0;
	im->at = where_of(nd);
	return 0;
}

/* An AFP shadow mount or file path in a SELECT answer (the mount URL is
 * kept for the message). */
static void found_shadow(struct finder *f, unsigned code, const uint8_t *v, size_t len,
			 const struct dhcpd_node *nd)
{
	struct bsdp_find_result *r = f->res;
	if (!r->has_shadow) {
		r->has_shadow = true;
		r->shadow_at = where_of(nd);
	}
	if (code == BSDP_OPT_SHADOW_MOUNT_PATH && !r->shadow_mount[0])
		copy_text(r->shadow_mount, sizeof(r->shadow_mount), (const char *)v, len);
}

/* The hook has one priority, one server identifier and one default image
 * for every Mac: the first a LIST gives is kept, another is said. */
static void set_priority(struct finder *f, uint16_t v, const struct dhcpd_node *nd)
{
	struct bsdp_find_result *r = f->res;
	if (!r->has_priority) {
		r->has_priority = true;
		r->priority = v;
		r->priority_at = where_of(nd);
	} else if (r->priority != v) {
		note(f, &(struct bsdp_find_where){ nd->file, nd->line },
		     "server priority %u here, %u at %s:%u: the hook has one priority; %u is kept", v,
		     r->priority, r->priority_at.file, r->priority_at.line, r->priority);
	}
}

static void set_server_id(struct finder *f, const char *v, const struct dhcpd_node *nd)
{
	struct bsdp_find_result *r = f->res;
	if (!r->has_server_id) {
		r->has_server_id = true;
		copy_text(r->server_id, sizeof(r->server_id), v, strlen(v));
		r->server_id_at = where_of(nd);
	} else if (strcmp(r->server_id, v) != 0) {
		note(f, &(struct bsdp_find_where){ nd->file, nd->line },
		     "server identifier %s here, %s at %s:%u: the hook has one; %s is kept", v,
		     r->server_id, r->server_id_at.file, r->server_id_at.line, r->server_id);
	}
}

static void set_default(struct finder *f, uint32_t id, const struct dhcpd_node *nd)
{
	struct bsdp_find_result *r = f->res;
	char a[12], b[12];
	if (!r->has_default) {
		r->has_default = true;
		r->default_id = id;
		r->default_at = where_of(nd);
	} else if (r->default_id != id) {
		id_str(id, a);
		id_str(r->default_id, b);
		note(f, &(struct bsdp_find_where){ nd->file, nd->line },
		     "default image %s here, %s at %s:%u: the hook has one default (IsDefault); %s "
		     "is kept", a, b, r->default_at.file, r->default_at.line, b);
	}
}

/* Option 43 bytes of a reply, through the codec; LIST data go to the result,
 * SELECT data to the body's values. */
static int apply_reply_bytes(struct finder *f, struct ctx *c, const uint8_t *b, size_t len,
			     const struct dhcpd_node *nd, const char *what, size_t written)
{
	struct bsdp_reply rep;
	struct bsdp_find_result *r = f->res;
	if (bsdp_codec_parse_reply(b, len, &rep) < 0)
		return fail(f, nd->file, nd->line,
			    "%s: the sub-option or image-description lengths do not add up (%zu bytes)",
			    what, written);
	for (size_t at = 0; at + 1 < len && b[at] != BSDP_OPT_END;
	     at += b[at] == BSDP_OPT_PAD ? 1 : 2 + (size_t)b[at + 1])
		if (b[at] == BSDP_OPT_SHADOW_MOUNT_PATH || b[at] == BSDP_OPT_SHADOW_FILE_PATH)
			found_shadow(f, b[at], b + at + 2, b[at + 1], nd);
	if (c->msg == MSG_NONE && (rep.present & BSDP_HAS(BSDP_OPT_MESSAGE_TYPE)) &&
	    (rep.msg_type == MSG_LIST || rep.msg_type == MSG_SELECT))
		c->msg = rep.msg_type;
	if (rep.present & BSDP_HAS(BSDP_OPT_SERVER_IDENTIFIER)) {
		struct in_addr a = { htonl(rep.server_id) };
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a, text, sizeof(text));
		set_server_id(f, text, nd);
	}
	if (c->msg == MSG_SELECT || (c->msg == MSG_NONE && (rep.present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)) &&
				     !(rep.present & BSDP_HAS(BSDP_OPT_BOOT_IMAGE_LIST)))) {
		if (rep.present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)) {
			c->vals.has_selected = true;
			c->vals.selected_id = rep.selected_id;
		}
		if (rep.machine_name)
			copy_text(c->vals.machine_name, sizeof(c->vals.machine_name),
				  (const char *)rep.machine_name, rep.machine_name_len);
		return 0;
	}
	if (rep.present & BSDP_HAS(BSDP_OPT_SERVER_PRIORITY))
		set_priority(f, rep.priority, nd);
	if (rep.present & BSDP_HAS(BSDP_OPT_DEFAULT_BOOT_IMAGE))
		set_default(f, rep.default_id, nd);
	if (rep.present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)) {
		r->has_list_selected = true;
		r->list_selected_id = rep.selected_id;
	}
	struct bsdp_image_iter it;
	uint32_t id;
	const uint8_t *name;
	size_t name_len;
	bsdp_image_iter_init(&it, &rep);
	for (size_t i = 0; i < BSDP_FIND_IMAGES_MAX + 1 && bsdp_image_iter_next(&it, &id, &name, &name_len);
	     i++)
		if (add_image(f, c->cls, id, name, name_len, nd) < 0)
			return -EINVAL;
	return 0;
}

/* The codec refused a boot image list: name the description that runs
 * past the end, and its line (hand-written lists span many lines). Byte k
 * of the value came from word token 2k. */
/* Whether the list's descriptions fill it exactly when the one at byte
 * `fix` has a name of fix_len bytes and another follows it (a longer name
 * swallowing the rest is no correction), every ID then of BSDP's form
 * (kind 0..3, bit 7 install, byte 1 zero). */
static bool fills_with(const uint8_t *b, size_t len, size_t fix, unsigned fix_len)
{
	size_t at = 0;
	while (len - at >= 5) {
		if ((b[at] & 0x7f) > 3 || b[at + 1] != 0)
			return false;
		size_t name = at == fix ? fix_len : b[at + 4];
		if (name > len - at - 5)
			return false;
		at += 5 + name;
	}
	return at == len && fix + 5 + fix_len < len;
}

static int list_does_not_add_up(struct finder *f, const char *opt, const struct dhcpd_token *v,
				const uint8_t *b, size_t len)
{
	size_t at = 0;
	char ids[12];
	/* A name length mistyped before the last description moves every
	 * later ID: where the bytes run out is not where the mistake is. The
	 * one length that, corrected by the least, makes the list fit is named. */
	size_t fix = len, n_fixes = 0;
	unsigned fix_len = 0;
	for (unsigned delta = 1; delta <= 8 && n_fixes == 0; delta++)
		for (size_t d = 0; len - d >= 5; d += 5 + (size_t)b[d + 4]) {
			for (int sign = -1; sign <= 1; sign += 2) {
				int l = (int)b[d + 4] + sign * (int)delta;
				if (l >= 0 && l <= 255 && fills_with(b, len, d, (unsigned)l))
					fix = d, fix_len = (unsigned)l, n_fixes++;
			}
			if (b[d + 4] > len - d - 5)
				break;
		}
	while (len - at >= 5 && b[at + 4] <= len - at - 5)
		at += 5 + (size_t)b[at + 4];
	if (n_fixes == 1 && fix != at) { /* else the message below names it */
		id_str((uint32_t)b[fix] << 24 | (uint32_t)b[fix + 1] << 16 |
			       (uint32_t)b[fix + 2] << 8 | b[fix + 3], ids);
		const struct dhcpd_token *where = &v[2 * (fix + 4)];
		return fail(f, where->file, where->line,
			    "option %s: image %s at byte %zu gives its name %u bytes; with %u every "
			    "description fits: the lengths do not add up", opt, ids, fix, b[fix + 4],
			    fix_len);
	}
	if (at >= len) /* the codec's reason lies elsewhere */
		return fail(f, v->file, v->line, "option %s: not a valid boot image list", opt);
	const struct dhcpd_token *where = &v[2 * at];
	if (len - at < 5)
		return fail(f, where->file, where->line,
			    "option %s: %zu byte(s) left at byte %zu, too few for an image ID and a name "
			    "length: the lengths do not add up", opt, len - at, at);
	id_str((uint32_t)b[at] << 24 | (uint32_t)b[at + 1] << 16 | (uint32_t)b[at + 2] << 8 | b[at + 3],
	       ids);
	return fail(f, where->file, where->line,
		    "option %s: image %s at byte %zu gives its name %u bytes, %zu follow: the "
		    "lengths do not add up", opt, ids, at, b[at + 4], len - at - 5);
}

/* The codec refused option 43 written by hand: name the sub-option whose
 * length runs past the end, or the boot image list (sub-option 9) whose
 * descriptions do not add up, at the line of its byte. Nothing said when
 * the reason is another (the caller's message follows). */
/* Whether option 43's sub-options fill it exactly (an END may close it)
 * when the one at byte `fix` is fix_len long and another follows it, every
 * code then one BSDP defines. */
static bool tlvs_fill_with(const uint8_t *b, size_t len, size_t fix, unsigned fix_len)
{
	size_t at = 0;
	bool followed = false;
	while (at < len && b[at] != BSDP_OPT_END) {
		if (b[at] == BSDP_OPT_PAD) {
			at++;
			continue;
		}
		if (len - at < 2 || (b[at] > BSDP_OPT_MAX_MESSAGE_SIZE &&
				     (b[at] < BSDP_OPT_SHADOW_MOUNT_PATH || b[at] > BSDP_OPT_MACHINE_NAME)))
			return false;
		size_t l = at == fix ? fix_len : b[at + 1];
		if (l > len - at - 2)
			return false;
		followed |= at > fix;
		at += 2 + l;
	}
	return followed;
}

static void option43_does_not_add_up(struct finder *f, const struct dhcpd_token *v,
				     const uint8_t *b, size_t len)
{
	static const char opt[] = "vendor-encapsulated-options";
	size_t at = 0;
	/* As for a list (list_does_not_add_up): a sub-option length mistyped
	 * before the last moves every later code; the least correction that
	 * makes every sub-option fit names it. */
	size_t fix = len, n_fixes = 0;
	unsigned fix_len = 0;
	for (unsigned delta = 1; delta <= 8 && n_fixes == 0; delta++)
		for (size_t d = 0; d + 1 < len && b[d] != BSDP_OPT_END;
		     d += b[d] == BSDP_OPT_PAD ? 1 : 2 + (size_t)b[d + 1]) {
			if (b[d] == BSDP_OPT_PAD)
				continue;
			for (int sign = -1; sign <= 1; sign += 2) {
				int l = (int)b[d + 1] + sign * (int)delta;
				if (l >= 0 && l <= 255 && tlvs_fill_with(b, len, d, (unsigned)l))
					fix = d, fix_len = (unsigned)l, n_fixes++;
			}
		}
	if (n_fixes == 1) {
		const struct dhcpd_token *where = &v[2 * (fix + 1)];
		fail(f, where->file, where->line,
		     "%s: sub-option %u at byte %zu gives its length %u bytes; with %u every "
		     "sub-option fits: the lengths do not add up", opt, b[fix], fix, b[fix + 1], fix_len);
		return;
	}
	while (at < len && b[at] != BSDP_OPT_END) {
		if (b[at] == BSDP_OPT_PAD) {
			at++;
			continue;
		}
		const struct dhcpd_token *where = &v[2 * at];
		if (len - at < 2 || b[at + 1] > len - at - 2) {
			fail(f, where->file, where->line,
			     "%s: sub-option %u at byte %zu gives its length %u bytes, %zu follow: the "
			     "lengths do not add up", opt, b[at], at,
			     len - at < 2 ? 0 : b[at + 1], len - at < 2 ? 0 : len - at - 2);
			return;
		}
		if (b[at] == BSDP_OPT_BOOT_IMAGE_LIST && b[at + 1] > 0 &&
		    bsdp_codec_parse_reply(b + at, 2 + (size_t)b[at + 1], &(struct bsdp_reply){ 0 }) < 0) {
			list_does_not_add_up(f, "vendor-encapsulated-options sub-option 9", &v[2 * (at + 2)],
					     b + at + 2, b[at + 1]);
			return;
		}
		at += 2 + (size_t)b[at + 1];
	}
}

/* option NAME value; in a BSDP scope. */
static int apply_option(struct finder *f, struct ctx *c, const struct dhcpd_node *nd)
{
	const struct dhcpd_token *t = nd->toks;
	size_t n = nd->n_toks;
	struct bsdp_find_result *r = f->res;
	if (n < 2 || t[1].kind != DHCPD_TOK_WORD)
		return 0;
	const struct dhcpd_token *v = &t[2];
	size_t vn = n - 2;
	if (vn && dhcpd_tok_punct(v, '=')) { /* option x = expression; */
		v++;
		vn--;
	}
	uint8_t b[HEX_MAX + 8];
	size_t len;
	if (dhcpd_tok_is(&t[1], "root-path")) {
		text_value(v, vn, c->vals.root_path, sizeof(c->vals.root_path));
		return 0;
	}
	if (c->cls < 0)
		return 0;
	if (dhcpd_tok_is(&t[1], "vendor-encapsulated-options")) {
		if (c->msg == MSG_OTHER_DHCP) {
			note(f, &(struct bsdp_find_where){ nd->file, nd->line },
			     "option 43 outside DHCPINFORM left aside (BSDP is answered to INFORMs)");
			return 0;
		}
		if (parse_hex(v, vn, b, &len) < 0)
			return fail(f, nd->file, nd->line,
				    "vendor-encapsulated-options: expected hex bytes (aa:bb:...)");
		f->res->classes[c->cls].hand_built = true;
		if (bsdp_codec_parse_reply(b, len, &(struct bsdp_reply){ 0 }) < 0)
			option43_does_not_add_up(f, v, b, len);
		return apply_reply_bytes(f, c, b, len, nd, "vendor-encapsulated-options", len);
	}
	int code = member_code(f, t[1].text);
	size_t sl = strlen(r->space);
	if (code < 0) {
		bool in_space = sl && strncasecmp(t[1].text, r->space, sl) == 0 && t[1].text[sl] == '.';
		if (in_space || strncasecmp(t[1].text, "BSDP.", 5) == 0)
			return fail(f, nd->file, nd->line, "option %s: no such option declared in %s",
				    t[1].text, r->space[0] ? r->space : "any option space");
		return 0;
	}
	if (c->msg == MSG_OTHER_DHCP) {
		note(f, &(struct bsdp_find_where){ nd->file, nd->line },
		     "option %s outside DHCPINFORM left aside", t[1].text);
		return 0;
	}
	unsigned long num;
	uint32_t id;
	switch (code) {
	case BSDP_OPT_MESSAGE_TYPE:
		if (vn != 1 || parse_number(v, 255, &num) < 0) /* v is past the end when vn == 0 */
			return fail(f, nd->file, nd->line, "option %s: expected a number", t[1].text);
		if (c->msg == MSG_NONE && (num == 1 || num == 2))
			c->msg = (enum msg)num;
		return 0;
	case BSDP_OPT_SERVER_IDENTIFIER: {
		struct in_addr a;
		if (vn != 1 || inet_pton(AF_INET, v->text, &a) != 1)
			return fail(f, nd->file, nd->line, "option %s: expected an IPv4 address",
				    t[1].text);
		set_server_id(f, v->text, nd);
		return 0;
	}
	case BSDP_OPT_SERVER_PRIORITY:
		if (vn != 1 || parse_number(v, 65535, &num) < 0)
			return fail(f, nd->file, nd->line, "option %s: expected 0..65535", t[1].text);
		set_priority(f, (uint16_t)num, nd);
		return 0;
	case BSDP_OPT_DEFAULT_BOOT_IMAGE:
	case BSDP_OPT_SELECTED_BOOT_IMAGE:
		if (parse_image_id(v, vn, &id) < 0)
			return fail(f, nd->file, nd->line,
				    "option %s: expected a 4-byte image ID (aa:bb:cc:dd)", t[1].text);
		if (code == BSDP_OPT_DEFAULT_BOOT_IMAGE) {
			set_default(f, id, nd);
		} else if (c->msg == MSG_LIST) {
			r->has_list_selected = true;
			r->list_selected_id = id;
		} else {
			c->vals.has_selected = true;
			c->vals.selected_id = id;
		}
		return 0;
	case BSDP_OPT_BOOT_IMAGE_LIST:
		if (parse_hex(v, vn, b + 2, &len) < 0)
			return fail(f, nd->file, nd->line, "option %s: expected hex bytes (aa:bb:...)",
				    t[1].text);
		if (len > BSDP_BLOCK_MAX)
			return fail(f, nd->file, nd->line,
				    "option %s is %zu bytes: one sub-option holds at most 255, and dhcpd "
				    "splits longer ones where Macs cannot join them", t[1].text, len);
		b[0] = BSDP_OPT_BOOT_IMAGE_LIST;
		b[1] = (uint8_t)len;
		if (bsdp_codec_parse_reply(b, len + 2, &(struct bsdp_reply){ 0 }) < 0)
			return list_does_not_add_up(f, t[1].text, v, b + 2, len);
		{
			enum msg saved = c->msg;
			c->msg = MSG_LIST;
			int rc = apply_reply_bytes(f, c, b, len + 2, nd, t[1].text, len);
			c->msg = saved;
			return rc;
		}
	case BSDP_OPT_MACHINE_NAME:
		if (!text_value(v, vn, c->vals.machine_name, sizeof(c->vals.machine_name)))
			return fail(f, nd->file, nd->line, "option %s: expected a string", t[1].text);
		return 0;
	case BSDP_OPT_SHADOW_MOUNT_PATH:
	case BSDP_OPT_SHADOW_FILE_PATH:
		if (vn >= 1 && v->kind == DHCPD_TOK_STRING)
			found_shadow(f, (unsigned)code, (const uint8_t *)v->text, v->len, nd);
		else
			found_shadow(f, (unsigned)code, (const uint8_t *)"", 0, nd);
		return 0;
	default:
		return 0;
	}
}

static void apply_statement(struct finder *f, struct ctx *c, const struct dhcpd_node *nd)
{
	const struct dhcpd_token *t = nd->toks;
	size_t n = nd->n_toks;
	if (n == 0)
		return;
	if (n == 1 && dhcpd_tok_is(&t[0], "authoritative"))
		f->authoritative = true;
	if (dhcpd_tok_is(&t[0], "option")) {
		apply_option(f, c, nd);
	} else if (dhcpd_tok_is(&t[0], "filename") && n >= 2) {
		text_value(&t[1], n - 1, c->vals.filename, sizeof(c->vals.filename));
	} else if (dhcpd_tok_is(&t[0], "next-server") && n >= 2) {
		text_value(&t[1], n - 1, c->vals.next_server, sizeof(c->vals.next_server));
		if (c->cls < 0 && !f->next_server_outside[0]) {
			copy_text(f->next_server_outside, sizeof(f->next_server_outside), t[1].text,
				  t[1].len);
			f->next_server_outside_at = where_of(nd);
		}
	} else if ((((dhcpd_tok_is(&t[0], "deny") || dhcpd_tok_is(&t[0], "ignore")) && n >= 2 &&
		     dhcpd_tok_is(&t[1], "unknown-clients")) ||
		    (dhcpd_tok_is(&t[0], "boot-unknown-clients") && n >= 2 &&
		     (dhcpd_tok_is(&t[1], "false") || dhcpd_tok_is(&t[1], "off")))) &&
		   !f->res->deny_unknown) {
		f->res->deny_unknown = true;
		f->res->deny_unknown_at = where_of(nd);
	} else if (dhcpd_tok_is(&t[0], "vendor-option-space") && n >= 2 && c->cls >= 0 &&
		   strcasecmp(t[1].text, f->res->space) != 0) {
		note(f, &(struct bsdp_find_where){ nd->file, nd->line },
		     "vendor-option-space %s is not the BSDP space %s", t[1].text,
		     f->res->space[0] ? f->res->space : "(none declared)");
	}
}

/* ---- conditions ----------------------------------------------------------- */

static bool has_word(const struct dhcpd_token *t, size_t n, const char *w)
{
	for (size_t i = 0; i < n; i++)
		if (dhcpd_tok_is(&t[i], w))
			return true;
	return false;
}

/* The AAPLBSDPC string of a match on the vendor class, or NULL. */
static const struct dhcpd_token *bsdp_match(const struct dhcpd_token *t, size_t n)
{
	if (!has_word(t, n, "vendor-class-identifier"))
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (t[i].kind == DHCPD_TOK_STRING && t[i].len >= 9 &&
		    memcmp(t[i].text, BSDP_VENDOR_CLASS_PREFIX, 9) == 0)
			return &t[i];
	return NULL;
}

static const char *ipxe_match(const struct finder *f, const struct dhcpd_token *t, size_t n)
{
	bool iPXE = false;
	for (size_t i = 0; i < n; i++)
		if (t[i].kind == DHCPD_TOK_STRING && strcmp(t[i].text, "iPXE") == 0)
			iPXE = true;
	if (iPXE && has_word(t, n, "user-class"))
		return "user class iPXE";
	for (size_t i = 0; i < n; i++)
		if (t[i].kind == DHCPD_TOK_WORD && is_175_name(f, t[i].text))
			return "option 175 (iPXE)";
	return NULL;
}

/* After `NAME =` in t, the value's tokens up to the next `and`/`or`/`)`. */
static size_t value_after(const struct dhcpd_token *t, size_t n, size_t i, size_t *ret_start)
{
	if (i + 1 >= n || !dhcpd_tok_punct(&t[i + 1], '='))
		return 0;
	size_t s = i + 2, e = s;
	while (e < n && !dhcpd_tok_is(&t[e], "and") && !dhcpd_tok_is(&t[e], "or") &&
	       !dhcpd_tok_punct(&t[e], ')'))
		e++;
	*ret_start = s;
	return e - s;
}

/* Reads what a condition says about BSDP into a branch's context. */
static void read_condition(struct finder *f, struct ctx *c, const struct dhcpd_node *nd)
{
	const struct dhcpd_token *t = nd->toks;
	size_t n = nd->n_toks;
	struct bsdp_find_where at = where_of(nd);
	for (size_t i = 0; i < n; i++) {
		if (t[i].kind != DHCPD_TOK_WORD)
			continue;
		size_t s, vn;
		unsigned long num;
		int code = member_code(f, t[i].text);
		if (code == BSDP_OPT_MESSAGE_TYPE && !f->tests_space) {
			f->tests_space = true;
			f->tests_space_at = at;
		}
		if (code == BSDP_OPT_MESSAGE_TYPE && (vn = value_after(t, n, i, &s)) == 1 &&
		    parse_number(&t[s], 255, &num) == 0) {
			c->msg = num == 1 ? MSG_LIST : num == 2 ? MSG_SELECT : MSG_OTHER_DHCP;
		} else if (code == BSDP_OPT_SELECTED_BOOT_IMAGE && (vn = value_after(t, n, i, &s)) &&
			   parse_image_id(&t[s], vn, &c->cond_id) == 0) {
			c->has_cond_id = true;
			if (c->msg == MSG_NONE)
				c->msg = MSG_SELECT;
		} else if (dhcpd_tok_is(&t[i], "dhcp-message-type") &&
			   (vn = value_after(t, n, i, &s)) == 1 && parse_number(&t[s], 255, &num) == 0 &&
			   num != 8) {
			c->msg = MSG_OTHER_DHCP;
		} else if (dhcpd_tok_is(&t[i], "vendor-encapsulated-options") && i + 4 < n &&
			   dhcpd_tok_punct(&t[i + 1], ',')) {
			/* substring(option vendor-encapsulated-options, OFF, LEN) = HEX */
			size_t close = i + 2;
			while (close < n && !dhcpd_tok_punct(&t[close], ')'))
				close++;
			unsigned long off;
			uint8_t b[HEX_MAX];
			size_t len;
			if (close >= n || parse_number(&t[i + 2], 255, &off) < 0 ||
			    !(vn = value_after(t, n, close, &s)) || parse_hex(&t[s], vn, b, &len) < 0)
				continue;
			if (off == 0 && len >= 3 && b[0] == BSDP_OPT_MESSAGE_TYPE && b[1] == 1) {
				c->msg = b[2] == 1 ? MSG_LIST : b[2] == 2 ? MSG_SELECT : MSG_OTHER_DHCP;
			} else if (len == 6 && b[0] == BSDP_OPT_SELECTED_BOOT_IMAGE && b[1] == 4) {
				c->has_cond_id = true;
				c->cond_id = (uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 |
					     (uint32_t)b[4] << 8 | b[5];
				c->msg = MSG_SELECT;
			} else if (len == 4 && c->msg == MSG_SELECT) {
				c->has_cond_id = true;
				c->cond_id = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
					     (uint32_t)b[2] << 8 | b[3];
				char ids[12];
				id_str(c->cond_id, ids);
				note(f, &at, "4 bytes of option 43 at offset %lu compared with %s: taken as "
					     "the selected image ID", off, ids);
			}
		}
	}
}

/* ---- the walk ------------------------------------------------------------- */

static int walk_body(struct finder *f, const struct ctx *parent, const struct dhcpd_node *first,
		     const struct dhcpd_node *owner, unsigned depth, struct values *ret_vals);

static int add_class(struct finder *f, const struct dhcpd_node *nd, const char *name,
		     const struct dhcpd_token *match)
{
	struct bsdp_find_result *r = f->res;
	if (r->n_classes >= BSDP_FIND_CLASSES_MAX)
		return fail(f, nd->file, nd->line, "more than %d BSDP classes",
			    BSDP_FIND_CLASSES_MAX);
	struct bsdp_find_class *k = &r->classes[r->n_classes];
	copy_text(k->name, sizeof(k->name), name, strlen(name));
	copy_text(k->match, sizeof(k->match), match->text, match->len);
	if (match->len > 10 && match->text[9] == '/') {
		const char *a = match->text + 10;
		size_t al = strcspn(a, "/");
		copy_text(k->arch, sizeof(k->arch), a, al);
	}
	k->at = where_of(nd);
	return (int)r->n_classes++;
}

static int emit_select(struct finder *f, const struct ctx *c, const struct values *v,
		       const struct dhcpd_node *owner)
{
	struct bsdp_find_result *r = f->res;
	struct bsdp_find_where at = where_of(owner);
	if (r->n_selects >= BSDP_FIND_SELECTS_MAX)
		return fail(f, at.file, at.line, "more than %d SELECT branches",
			    BSDP_FIND_SELECTS_MAX);
	struct bsdp_find_select *s = &r->selects[r->n_selects];
	*s = (struct bsdp_find_select){ .class_idx = (size_t)c->cls, .at = at };
	char a[12], b[12];
	if (c->has_cond_id && v->has_selected && c->cond_id != v->selected_id) {
		id_str(c->cond_id, a);
		id_str(v->selected_id, b);
		note(f, &at, "the branch tests for image %s but answers %s; %s is kept", a, b, a);
	}
	if (c->has_cond_id)
		s->image_id = c->cond_id;
	else if (v->has_selected)
		s->image_id = v->selected_id;
	else
		return fail(f, at.file, at.line, "SELECT branch names no image ID");
	copy_text(s->next_server, sizeof(s->next_server), v->next_server, strlen(v->next_server));
	copy_text(s->filename, sizeof(s->filename), v->filename, strlen(v->filename));
	copy_text(s->root_path, sizeof(s->root_path), v->root_path, strlen(v->root_path));
	copy_text(s->machine_name, sizeof(s->machine_name), v->machine_name,
		  strlen(v->machine_name));
	r->n_selects++;
	return 1;
}

/* The image a host or group statement pins: `option BSDP.selected_boot_image_id
 * ID;` (or the default image ID), or option 43 in hex naming one. 1 and *id
 * set, 0 when the statement pins nothing, or -EINVAL when strict and its
 * option 43 is not BSDP's (who names the host or group in the message). A
 * group's option 43 may be another vendor's, for other hosts: not strict. */
static int pin_statement(struct finder *f, const struct dhcpd_node *s, const char *who,
			 bool strict, uint32_t *id)
{
	const struct dhcpd_token *t = s->toks;
	size_t n = s->n_toks;
	uint8_t b[HEX_MAX];
	size_t len;
	if (s->kind != DHCPD_NODE_STATEMENT || n < 3 || !dhcpd_tok_is(&t[0], "option"))
		return 0;
	int code = member_code(f, t[1].text);
	if ((code == BSDP_OPT_SELECTED_BOOT_IMAGE || code == BSDP_OPT_DEFAULT_BOOT_IMAGE) &&
	    parse_image_id(&t[2], n - 2, id) == 0) {
		if (code == BSDP_OPT_DEFAULT_BOOT_IMAGE)
			note(f, &(struct bsdp_find_where){ s->file, s->line },
			     "%s: its default image is taken as the image it is pinned to", who);
		return 1;
	}
	if (!dhcpd_tok_is(&t[1], "vendor-encapsulated-options") ||
	    parse_hex(&t[2], n - 2, b, &len) < 0)
		return 0;
	struct bsdp_reply rep;
	if (bsdp_codec_parse_reply(b, len, &rep) < 0)
		return strict ? fail(f, s->file, s->line, "%s: option 43 sub-option lengths do not "
				     "add up", who) : 0;
	if (rep.present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)) {
		*id = rep.selected_id;
		return 1;
	}
	if (rep.present & BSDP_HAS(BSDP_OPT_DEFAULT_BOOT_IMAGE)) {
		*id = rep.default_id;
		return 1;
	}
	return 0;
}

/* A group's pin: every host inside it gets the image (dhcpd's scopes). */
static int read_group_pin(struct finder *f, struct ctx *c, const struct dhcpd_node *nd)
{
	for (const struct dhcpd_node *s = nd->child; s; s = s->next) {
		uint32_t id;
		int r = pin_statement(f, s, "group", false, &id);
		if (r < 0)
			return r;
		if (r) {
			c->has_group_pin = true;
			c->group_pin = id;
			c->group_pin_at = where_of(s);
		}
	}
	return 0;
}

/* host NAME { hardware ethernet MAC; option BSDP.x ID; } */
static int read_host(struct finder *f, const struct ctx *c, const struct dhcpd_node *nd)
{
	struct bsdp_find_host h = { .at = where_of(nd) };
	bool has_image = false;
	char who[BSDP_FIND_NAME_LEN + 8];
	if (nd->n_toks >= 2)
		copy_text(h.name, sizeof(h.name), nd->toks[1].text, nd->toks[1].len);
	snprintf(who, sizeof(who), "host %s", h.name);
	for (const struct dhcpd_node *s = nd->child; s; s = s->next) {
		const struct dhcpd_token *t = s->toks;
		size_t n = s->n_toks;
		uint8_t b[HEX_MAX];
		size_t len;
		if (s->kind == DHCPD_NODE_STATEMENT && n >= 3 && dhcpd_tok_is(&t[0], "hardware") &&
		    dhcpd_tok_is(&t[1], "ethernet")) {
			if (parse_hex(&t[2], n - 2, b, &len) < 0 || len != 6)
				return fail(f, s->file, s->line, "host %s: hardware ethernet is not a MAC",
					    h.name);
			snprintf(h.mac, sizeof(h.mac), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2],
				 b[3], b[4], b[5]);
			continue;
		}
		int r = pin_statement(f, s, who, true, &h.image_id);
		if (r < 0)
			return r;
		has_image |= r == 1;
	}
	if (!has_image && c->has_group_pin) {
		char ids[12];
		h.image_id = c->group_pin;
		has_image = true;
		id_str(h.image_id, ids);
		note(f, &h.at, "host %s: pinned to %s by its group (%s:%u)", h.name, ids,
		     c->group_pin_at.file, c->group_pin_at.line);
	}
	if (!has_image)
		return 0;
	if (!h.mac[0])
		return fail(f, nd->file, nd->line, "host %s selects an image but has no hardware ethernet",
			    h.name);
	if (f->res->n_hosts >= BSDP_FIND_HOSTS_MAX)
		return fail(f, nd->file, nd->line, "more than %d hosts with an image",
			    BSDP_FIND_HOSTS_MAX);
	f->res->hosts[f->res->n_hosts++] = h;
	return 0;
}

static void found_ipxe(struct finder *f, const char *how, const struct values *v,
		       const struct dhcpd_node *owner)
{
	struct bsdp_find_result *r = f->res;
	struct bsdp_find_where at = where_of(owner);
	if (!v->filename[0])
		return;
	if (r->has_ipxe) {
		if (strcmp(r->ipxe_boot_file, v->filename) != 0)
			note(f, &at, "a second iPXE stage (\"%s\") left aside; the first is %s:%u",
			     v->filename, r->ipxe_at.file, r->ipxe_at.line);
		return;
	}
	if (strncasecmp(v->filename, "http://", 7) != 0 && strncasecmp(v->filename, "https://", 8) != 0)
		note(f, &at, "the iPXE stage's boot file \"%s\" is not an HTTP URL", v->filename);
	r->has_ipxe = true;
	copy_text(r->ipxe_boot_file, sizeof(r->ipxe_boot_file), v->filename, strlen(v->filename));
	copy_text(r->ipxe_how, sizeof(r->ipxe_how), how, strlen(how));
	r->ipxe_at = at;
}

/* An if/elsif/else chain: each branch with the condition's meaning. */
static int walk_if(struct finder *f, const struct ctx *c, const struct values *v,
		   const struct dhcpd_node *nd, unsigned depth)
{
	int emitted = 0;
	bool all_list = true; /* every branch so far tests for LIST */
	for (const struct dhcpd_node *br = nd; br; br = br->alt) {
		struct ctx bc = *c;
		bc.vals = *v;
		if (br->kind != DHCPD_NODE_ELSE) {
			const struct dhcpd_token *m = bsdp_match(br->toks, br->n_toks);
			if (m && bc.cls < 0) {
				char name[64];
				snprintf(name, sizeof(name), "if at line %u", br->line);
				int k = add_class(f, br, name, m);
				if (k < 0)
					return -EINVAL;
				bc.cls = k;
			}
			const char *how = ipxe_match(f, br->toks, br->n_toks);
			if (how)
				bc.ipxe = true;
			read_condition(f, &bc, br);
			if (bc.msg != MSG_LIST || c->msg == MSG_LIST)
				all_list = false;
		} else if (bc.cls >= 0 && c->msg == MSG_NONE && all_list && br != nd) {
			bc.msg = MSG_SELECT;
			note(f, &(struct bsdp_find_where){ br->file, br->line },
			     "the 'else' of a LIST test is taken as the SELECT branch");
		}
		struct values out;
		int r = walk_body(f, &bc, br->child, br, depth + 1, &out);
		if (r < 0)
			return r;
		emitted |= r;
		if (bc.ipxe && !c->ipxe)
			found_ipxe(f, ipxe_match(f, br->toks, br->n_toks), &out, br);
	}
	return emitted;
}

/* dhcpd runs a scope's statements in order and the last value given stays,
 * so a filename, next-server, root-path or machine name that follows the
 * SELECT branches in a body around them (the classic how-to puts filename
 * and root-path at class scope, after its if) is what those branches
 * answer. Applied to the branches recorded since `from`, said out loud. */
static void apply_late(struct finder *f, const struct dhcpd_node *nd, size_t from)
{
	const struct dhcpd_token *t = nd->toks;
	size_t n = nd->n_toks;
	bool is_option = n >= 2 && dhcpd_tok_is(&t[0], "option");
	if (n < 2 || !(dhcpd_tok_is(&t[0], "filename") || dhcpd_tok_is(&t[0], "next-server") ||
		       (is_option && (dhcpd_tok_is(&t[1], "root-path") ||
				      member_code(f, t[1].text) == BSDP_OPT_MACHINE_NAME))))
		return;
	for (size_t i = from; i < f->res->n_selects && !f->failed; i++) {
		struct bsdp_find_select *s = &f->res->selects[i];
		struct ctx tmp = { .cls = (int)s->class_idx, .msg = MSG_SELECT };
		copy_text(tmp.vals.next_server, sizeof(tmp.vals.next_server), s->next_server,
			  strlen(s->next_server));
		copy_text(tmp.vals.filename, sizeof(tmp.vals.filename), s->filename, strlen(s->filename));
		copy_text(tmp.vals.root_path, sizeof(tmp.vals.root_path), s->root_path,
			  strlen(s->root_path));
		copy_text(tmp.vals.machine_name, sizeof(tmp.vals.machine_name), s->machine_name,
			  strlen(s->machine_name));
		apply_statement(f, &tmp, nd);
		if (strcmp(tmp.vals.next_server, s->next_server) == 0 &&
		    strcmp(tmp.vals.filename, s->filename) == 0 &&
		    strcmp(tmp.vals.root_path, s->root_path) == 0 &&
		    strcmp(tmp.vals.machine_name, s->machine_name) == 0)
			continue;
		char ids[12];
		id_str(s->image_id, ids);
		note(f, &(struct bsdp_find_where){ nd->file, nd->line },
		     "%s %s follows the SELECT branch of image %s (%s:%u) in its scope: dhcpd runs it "
		     "after the branch, so that branch answers it", is_option ? t[1].text : t[0].text,
		     is_option ? (n >= 3 ? t[2].text : "") : t[1].text, ids, s->at.file, s->at.line);
		memcpy(s->next_server, tmp.vals.next_server, sizeof(s->next_server));
		memcpy(s->filename, tmp.vals.filename, sizeof(s->filename));
		memcpy(s->root_path, tmp.vals.root_path, sizeof(s->root_path));
		memcpy(s->machine_name, tmp.vals.machine_name, sizeof(s->machine_name));
	}
}

/* Returns 1 when a SELECT branch was recorded inside, 0, or -EINVAL; the
 * values in force at the body's end go to ret_vals when not NULL. */
static int walk_body(struct finder *f, const struct ctx *parent, const struct dhcpd_node *first,
		     const struct dhcpd_node *owner, unsigned depth, struct values *ret_vals)
{
	struct ctx c = *parent;
	int emitted = 0;
	bool own = c.has_cond_id && !parent->has_cond_id;
	size_t selects_before = f->res->n_selects;
	if (depth > DHCPD_CONF_NEST_MAX + DHCPD_CONF_INCLUDE_DEPTH)
		return fail(f, owner->file, owner->line, "nested too deep");
	for (const struct dhcpd_node *nd = first; nd && !f->failed; nd = nd->next) {
		int r = 0;
		if (nd->kind == DHCPD_NODE_STATEMENT) {
			bool had = c.vals.has_selected;
			char file_before[sizeof(c.vals.filename)];
			memcpy(file_before, c.vals.filename, sizeof(file_before));
			apply_statement(f, &c, nd);
			if (c.cls >= 0)
				apply_late(f, nd, selects_before);
			if (c.cls >= 0 && (had != c.vals.has_selected ||
					   strcmp(file_before, c.vals.filename) != 0))
				own = true;
		} else if (nd->kind == DHCPD_NODE_IF) {
			r = walk_if(f, &c, &c.vals, nd, depth);
		} else if (nd->kind == DHCPD_NODE_BLOCK && nd->n_toks >= 1) {
			const struct dhcpd_token *t = nd->toks;
			if (dhcpd_tok_is(&t[0], "host")) {
				r = read_host(f, &c, nd);
			} else if (dhcpd_tok_is(&t[0], "class") && nd->n_toks >= 2) {
				struct ctx k = { .cls = -1 };
				const char *ipxe_how = NULL;
				k.vals = c.vals;
				for (const struct dhcpd_node *s = nd->child; s; s = s->next) {
					if (s->kind != DHCPD_NODE_STATEMENT || !dhcpd_tok_is(&s->toks[0], "match"))
						continue;
					const struct dhcpd_token *m = bsdp_match(s->toks, s->n_toks);
					if (m) {
						int i = add_class(f, nd, t[1].text, m);
						if (i < 0)
							return -EINVAL;
						k.cls = i;
					} else if ((ipxe_how = ipxe_match(f, s->toks, s->n_toks))) {
						k.ipxe = true;
					}
				}
				struct values kv;
				r = walk_body(f, &k, nd->child, nd, depth + 1, &kv);
				if (r >= 0 && ipxe_how && !c.ipxe)
					found_ipxe(f, ipxe_how, &kv, nd);
			} else {
				/* subnet, shared-network, group, pool: same scope rules */
				struct ctx g = c;
				if (dhcpd_tok_is(&t[0], "group"))
					r = read_group_pin(f, &g, nd);
				if (r == 0)
					r = walk_body(f, &g, nd->child, nd, depth + 1, NULL);
			}
		}
		if (r < 0 || f->failed)
			return -EINVAL;
		emitted |= r;
	}
	if (ret_vals)
		*ret_vals = c.vals;
	if (c.cls >= 0 && c.msg == MSG_SELECT && !emitted && own)
		return emit_select(f, &c, &c.vals, owner);
	return emitted;
}

/* Declarations are read first, wherever they are (dhcpd needs them before
 * use, but an include may put them anywhere). */
static int walk_declarations(struct finder *f, const struct dhcpd_node *nd, unsigned depth)
{
	for (; nd && !f->failed; nd = nd->next) {
		if (nd->kind == DHCPD_NODE_STATEMENT && nd->n_toks >= 3 &&
		    dhcpd_tok_is(&nd->toks[0], "option"))
			read_declaration(f, nd);
		if (depth >= DHCPD_CONF_NEST_MAX + DHCPD_CONF_INCLUDE_DEPTH)
			continue; /* the parser allows no deeper tree */
		for (const struct dhcpd_node *br = nd; br; br = br->alt)
			walk_declarations(f, br->child, depth + 1);
	}
	return f->failed ? -EINVAL : 0;
}

static bool has_image(const struct bsdp_find_result *r, uint32_t id)
{
	for (size_t i = 0; i < r->n_images; i++)
		if (r->images[i].id == id)
			return true;
	return false;
}

static int check_result(struct finder *f)
{
	struct bsdp_find_result *r = f->res;
	char ids[12];
	if (r->n_images == 0)
		return fail(f, r->classes[0].at.file, r->classes[0].at.line,
			    "class %s matches %s but no LIST offers an image", r->classes[0].name,
			    r->classes[0].match);
	for (size_t i = 0; i < r->n_selects; i++) {
		struct bsdp_find_select *s = &r->selects[i];
		id_str(s->image_id, ids);
		if (!has_image(r, s->image_id))
			return fail(f, s->at.file, s->at.line,
				    "SELECT branch for image %s, which no LIST offers", ids);
		if (!s->next_server[0] && f->next_server_outside[0]) {
			copy_text(s->next_server, sizeof(s->next_server), f->next_server_outside,
				  strlen(f->next_server_outside));
			note(f, &s->at, "image %s: next-server %s taken from %s:%u, outside the class",
			     ids, s->next_server, f->next_server_outside_at.file,
			     f->next_server_outside_at.line);
		}
		if (!s->filename[0])
			note(f, &s->at, "image %s: no filename in its SELECT branch", ids);
	}
	for (size_t i = 0; i < r->n_hosts; i++) {
		id_str(r->hosts[i].image_id, ids);
		if (!has_image(r, r->hosts[i].image_id))
			return fail(f, r->hosts[i].at.file, r->hosts[i].at.line,
				    "host %s selects image %s, which no LIST offers", r->hosts[i].name,
				    ids);
	}
	for (size_t i = 0; i < r->n_images; i++) {
		bool selected = false;
		for (size_t k = 0; k < r->n_selects && !selected; k++)
			selected = r->selects[k].image_id == r->images[i].id;
		if (!selected) {
			id_str(r->images[i].id, ids);
			note(f, &r->images[i].at, "image %s is listed but no SELECT branch boots it", ids);
		}
	}
	if (r->has_default && !has_image(r, r->default_id)) {
		id_str(r->default_id, ids);
		note(f, &r->default_at, "the default image %s is not in the list", ids);
	}
	if (!r->has_default) {
		id_str(r->images[0].id, ids);
		note(f, NULL, "no default image ID: the first listed, %s, is taken", ids);
	}
	/* A static priority, a static selected image and a fixed machine name
	 * are found here and judged by migrate_plan (what Kea does instead). */
	if (r->space_old_form)
		note(f, &r->space_at, "option space %s uses the code/length width form (1 and 1: "
				      "the same bytes as the plain form)", r->space);
	return f->failed ? -EINVAL : 0;
}

/* Two things that make dhcpd 4.4 answer no BSDP at all, which a file copied
 * from a how-to often lacks: the operator should know the Kea side will
 * answer where dhcpd was silent. */
static void note_unanswered(struct finder *f)
{
	const struct bsdp_find_result *r = f->res;
	if (!f->authoritative)
		note(f, &r->classes[0].at,
		     "no `authoritative;` in this file: dhcpd ignores a DHCPINFORM from a subnet it is "
		     "not authoritative for (\"not authoritative for subnet\" in its log), so as "
		     "written it answered no BSDP LIST or SELECT; the hook answers them");
	if (f->tests_space && strcasecmp(f->encapsulated, r->space) != 0)
		note(f, &f->tests_space_at,
		     "%s.message_type is tested but option 43 is not declared `option "
		     "vendor-encapsulated-options code 43 = encapsulate %s;`: dhcpd then does not decode "
		     "the Mac's option 43 into %s, this test never matches and as written the file "
		     "answered no BSDP; the hook parses option 43 itself and answers",
		     r->space, r->space, r->space);
}

int bsdp_find(const struct dhcpd_conf *conf, struct bsdp_find_result *ret, char *err,
	      size_t err_size)
{
	struct finder *f = calloc(1, sizeof(*f));
	struct bsdp_find_result *res = calloc(1, sizeof(*res));
	int r = -ENOMEM;
	if (!f || !res || !conf || !ret)
		goto out;
	f->res = res;
	f->err = err;
	f->err_size = err_size;
	const struct dhcpd_node *root = dhcpd_conf_root(conf);
	r = walk_declarations(f, root, 0);
	if (r == 0)
		r = choose_space(f);
	if (r == 0) {
		struct ctx c = { .cls = -1 };
		r = walk_body(f, &c, root, root, 0, NULL);
		r = r < 0 ? r : 0;
	}
	if (r == 0 && res->n_classes == 0)
		r = -ENOENT;
	if (r == 0)
		r = check_result(f);
	if (r == 0)
		note_unanswered(f);
	for (size_t i = 0; r == 0 && i < dhcpd_conf_n_relative_includes(conf); i++) {
		const struct dhcpd_include *inc = dhcpd_conf_relative_include(conf, i);
		note(f, &(struct bsdp_find_where){ inc->file, inc->line },
		     "include \"%s\" is read as %s, next to the file naming it; dhcpd opens a "
		     "relative include from its working directory (/ under systemd): check that "
		     "is the file it reads", inc->name, inc->path);
	}
	if (r == 0)
		memcpy(ret, res, sizeof(*res));
out:
	if (r == -ENOMEM && err && err_size)
		snprintf(err, err_size, "out of memory");
	free(res);
	free(f);
	return r;
}
