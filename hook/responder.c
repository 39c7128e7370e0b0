/* SPDX-License-Identifier: MPL-2.0 */
#include "hook/responder.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hook/policy.h"

/* ---- bounded string building ------------------------------------------ */

struct sbuf {
	char *buf;
	size_t cap; /* including the NUL */
	size_t len;
	bool overflow;
};

static void sb_putn(struct sbuf *s, const char *p, size_t n)
{
	if (s->overflow || n > s->cap - 1 - s->len) {
		s->overflow = true;
		return;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

static void sb_puts(struct sbuf *s, const char *p)
{
	sb_putn(s, p, strlen(p));
}

static void sb_ipv4(struct sbuf *s, uint32_t a)
{
	char tmp[16];
	int n = snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
			 a & 255);
	sb_putn(s, tmp, (size_t)n);
}

/* %-escapes what may not stand in a URL path as is (space first of all). */
static void sb_url_path(struct sbuf *s, const char *p)
{
	static const char safe[] = "-._~/!$&'()*+,;=:@";
	static const char hex[] = "0123456789ABCDEF";
	for (; *p; p++) {
		unsigned char c = (unsigned char)*p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  (c && strchr(safe, c));
		if (ok) {
			sb_putn(s, (const char *)&c, 1);
		} else {
			char esc[3] = { '%', hex[c >> 4], hex[c & 15] };
			sb_putn(s, esc, 3);
		}
	}
}

static int fail_msg(char *err, size_t size, const char *fmt, ...)
{
	if (err && size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);
	if (n >= size)
		return false;
	memcpy(dst, src, n + 1);
	return true;
}

/* ---- configuration ----------------------------------------------------- */

/* Walks a machine-name format; returns the conversion count or -EINVAL. */
static int scan_format(const char *fmt, char *err, size_t err_size)
{
	int conversions = 0;
	for (const char *p = fmt; *p; p++) {
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
			return fail_msg(err, err_size, "only printable ASCII is allowed");
		if (*p != '%')
			continue;
		p++;
		if (*p == '%')
			continue;
		if (*p == '0')
			p++;
		int width = 0;
		while (*p >= '0' && *p <= '9' && width < 100)
			width = width * 10 + (*p++ - '0');
		if (width > 20)
			return fail_msg(err, err_size, "field width %d is larger than 20", width);
		if (*p != 'd' && *p != 'u')
			return fail_msg(err, err_size, "only %%d (with an optional 0 flag and width) "
					"and %%%% are allowed");
		conversions++;
	}
	return conversions;
}

int bsdp_responder_check_name_format(const char *fmt, char *err, size_t err_size)
{
	if (!fmt || !*fmt)
		return fail_msg(err, err_size, "must not be empty");
	int n = scan_format(fmt, err, err_size);
	if (n < 0)
		return n;
	if (n != 1)
		return fail_msg(err, err_size, "must contain exactly one %%d conversion, found %d", n);
	char probe[BSDP_MACHINE_NAME_MAX + 1];
	if (bsdp_responder_format_name(fmt, UINT32_MAX, probe, sizeof(probe)) < 0)
		return fail_msg(err, err_size, "names would be longer than %d bytes",
				BSDP_MACHINE_NAME_MAX);
	return 0;
}

int bsdp_responder_format_name(const char *fmt, uint32_t number, char *out, size_t out_size)
{
	struct sbuf s = { out, out_size, 0, false };
	if (!fmt || !out || out_size == 0)
		return -EINVAL;
	out[0] = '\0';
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			sb_putn(&s, p, 1);
			continue;
		}
		p++;
		if (*p == '%') {
			sb_putn(&s, "%", 1);
			continue;
		}
		bool zero = *p == '0';
		if (zero)
			p++;
		int width = 0;
		while (*p >= '0' && *p <= '9' && width < 100)
			width = width * 10 + (*p++ - '0');
		if ((*p != 'd' && *p != 'u') || width > 20)
			return -EINVAL;
		char digits[24];
		int n = snprintf(digits, sizeof(digits), "%u", number);
		for (int pad = width - n; pad > 0; pad--)
			sb_putn(&s, zero ? "0" : " ", 1);
		sb_putn(&s, digits, (size_t)n);
	}
	return s.overflow ? -ENOBUFS : (int)s.len;
}

static int parse_http_url(struct bsdp_responder *r, const char *url, char *err, size_t err_size)
{
	static const char *const schemes[] = { "http://", "https://" };
	const char *rest = NULL;

	for (size_t i = 0; i < 2 && !rest; i++)
		if (strncmp(url, schemes[i], strlen(schemes[i])) == 0) {
			copy_str(r->http_scheme, sizeof(r->http_scheme), schemes[i]);
			rest = url + strlen(schemes[i]);
		}
	if (!rest)
		return fail_msg(err, err_size, "parameter 'http-url': must start with http:// or https://");
	if (!printable(url))
		return fail_msg(err, err_size, "parameter 'http-url': must not contain spaces or "
				"control characters (write %%20 for a space)");
	const char *slash = strchr(rest, '/');
	size_t host_len = slash ? (size_t)(slash - rest) : strlen(rest);
	if (host_len == 0 || host_len > BSDP_URL_MAX)
		return fail_msg(err, err_size, "parameter 'http-url': has no host");
	memcpy(r->http_host, rest, host_len);
	r->http_host[host_len] = '\0';
	const char *path = slash ? slash : "";
	size_t path_len = strlen(path);
	while (path_len > 0 && path[path_len - 1] == '/')
		path_len--;
	if (path_len > BSDP_URL_MAX)
		return fail_msg(err, err_size, "parameter 'http-url': longer than %d bytes", BSDP_URL_MAX);
	memcpy(r->http_path, path, path_len);
	r->http_path[path_len] = '\0';
	r->has_http_url = true;
	return 0;
}

static int parse_nfs_url(struct bsdp_responder *r, const char *url, char *err, size_t err_size)
{
	const char *host = url + 4, *colon;

	if (strncmp(url, "nfs:", 4) != 0 || !(colon = strchr(host, ':')) || colon == host ||
	    colon[1] != '/')
		return fail_msg(err, err_size, "parameter 'nfs-url': must be nfs:<host>:/<export>");
	if (!printable(url))
		return fail_msg(err, err_size, "parameter 'nfs-url': must not contain spaces or "
				"control characters");
	size_t host_len = (size_t)(colon - host);
	const char *exp = colon + 1;
	size_t exp_len = strlen(exp);
	while (exp_len > 1 && exp[exp_len - 1] == '/')
		exp_len--;
	if (host_len > BSDP_URL_MAX || exp_len > BSDP_URL_MAX)
		return fail_msg(err, err_size, "parameter 'nfs-url': longer than %d bytes", BSDP_URL_MAX);
	memcpy(r->nfs_host, host, host_len);
	r->nfs_host[host_len] = '\0';
	memcpy(r->nfs_export, exp, exp_len);
	r->nfs_export[exp_len] = '\0';
	r->has_nfs_url = true;
	return 0;
}

int bsdp_responder_init(struct bsdp_responder *r, const struct bsdp_responder_config *cfg,
			char *err, size_t err_size)
{
	char why[128];

	if (!r || !cfg)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->server_address = cfg->server_address;
	r->priority = cfg->priority;
	r->priority_from_load = cfg->priority_from_load;
	if (cfg->tftp_path_prefix &&
	    !copy_str(r->tftp_path_prefix, sizeof(r->tftp_path_prefix), cfg->tftp_path_prefix))
		return fail_msg(err, err_size, "parameter 'tftp-path-prefix': longer than %d bytes",
				BSDP_FILE_MAX);
	if (cfg->http_url && parse_http_url(r, cfg->http_url, err, err_size) < 0)
		return -EINVAL;
	if (cfg->nfs_url && parse_nfs_url(r, cfg->nfs_url, err, err_size) < 0)
		return -EINVAL;
	const char *fmt = cfg->machine_name_format ? cfg->machine_name_format
						    : BSDP_DEFAULT_MACHINE_NAME_FORMAT;
	if (bsdp_responder_check_name_format(fmt, why, sizeof(why)) < 0)
		return fail_msg(err, err_size, "parameter 'machine-name-format': %s", why);
	copy_str(r->name_format, sizeof(r->name_format), fmt);
	return 0;
}

/* ---- decisions --------------------------------------------------------- */

static const char *const drop_names[BSDP_DROP_REASONS] = {
	[BSDP_DROP_NONE] = "none",
	[BSDP_DROP_MALFORMED] = "malformed",
	[BSDP_DROP_INCOMPLETE] = "incomplete",
	[BSDP_DROP_NO_CIADDR] = "no-ciaddr",
	[BSDP_DROP_REPLY_PORT] = "reply-port",
	[BSDP_DROP_NO_SERVER_ID] = "no-server-id",
	[BSDP_DROP_OTHER_SERVER] = "other-server",
	[BSDP_DROP_NO_IMAGE] = "no-image",
	[BSDP_DROP_MESSAGE_TYPE] = "message-type",
	[BSDP_DROP_NO_ROOM] = "no-room",
};

const char *bsdp_drop_reason_name(enum bsdp_drop_reason reason)
{
	return (unsigned)reason < BSDP_DROP_REASONS ? drop_names[reason] : "unknown";
}

static int drop(struct bsdp_answer *a, enum bsdp_drop_reason reason, const char *why)
{
	a->verdict = BSDP_VERDICT_DROP;
	a->drop = reason;
	a->why = why;
	a->opt43_len = 0;
	return 0;
}

static int reply(struct bsdp_answer *a, struct bsdp_writer *w, uint8_t sent)
{
	a->verdict = BSDP_VERDICT_REPLY;
	a->sent = sent;
	a->opt43_len = bsdp_writer_finish(w);
	return 0;
}

/* FAILED is a reply: the client learns its SELECT was refused. */
static int failed(struct bsdp_answer *a, struct bsdp_writer *w, const char *why)
{
	a->why = why;
	a->siaddr = 0;
	a->file[0] = a->root_path[0] = a->machine_name[0] = '\0';
	if (bsdp_codec_build_failed(w) < 0)
		return drop(a, BSDP_DROP_NO_ROOM, "no room for ACK[FAILED]");
	return reply(a, w, BSDP_MSGTYPE_FAILED);
}

/* The first visible image with this index (pinning names an index); when
 * none is, *ret_rule says why: of the images with this index, the rule of
 * the one that came furthest through the rules (BSDP_RULE_NO_IMAGE: none). */
static const struct bsdp_image *find_index(const struct bsdp_catalogue *c, uint16_t index,
					   const struct bsdp_client *client,
					   const struct bsdp_request *req, enum bsdp_rule *ret_rule)
{
	*ret_rule = BSDP_RULE_NO_IMAGE;
	for (size_t i = 0; i < c->n_images; i++) {
		if (c->images[i].index != index)
			continue;
		enum bsdp_rule r = bsdp_policy_rule(&c->images[i], client, req);
		if (r == BSDP_RULE_OFFERED)
			return &c->images[i];
		if (*ret_rule == BSDP_RULE_NO_IMAGE || r > *ret_rule)
			*ret_rule = r;
	}
	return NULL;
}

/* The image pinned to this client (asking pin_lookup only now), when it
 * may see it; a->pinned_image is the index asked for, 0 = none. */
static const struct bsdp_image *pinned_image(const struct bsdp_catalogue *c,
					     const struct bsdp_query *q,
					     const struct bsdp_client *client,
					     const struct bsdp_request *req, struct bsdp_answer *a)
{
	enum bsdp_rule why;
	uint32_t pinned = q->pinned_image;
	if (!pinned && q->pin_lookup)
		pinned = q->pin_lookup(q->pin_ctx);
	a->pinned_image = pinned;
	if (!pinned)
		return NULL;
	const struct bsdp_image *img = find_index(c, (uint16_t)pinned, client, req, &why);
	if (!img)
		a->pin_rule = (uint8_t)why;
	return img;
}

/* The image a Mac is told it selected: its pin when it may see it, else
 * the image it is bound to while it may still see it; NULL otherwise. Says
 * where it came from (a->selected_by) and what became of the binding
 * (a->bound_id, a->bound_rule), for LIST, OFFER* and bsdp-explain alike. */
static const struct bsdp_image *chosen_image(const struct bsdp_catalogue *c,
					     struct bsdp_bindings *bindings,
					     const struct bsdp_query *q, const uint8_t *mac,
					     const struct bsdp_client *client,
					     const struct bsdp_request *req, struct bsdp_answer *a)
{
	const struct bsdp_image *pin = pinned_image(c, q, client, req, a);
	if (pin) {
		a->selected_by = BSDP_SELECTED_PIN;
		return pin;
	}
	struct bsdp_binding b;
	if (!bindings || !mac || bsdp_bindings_lookup(bindings, mac, &b) < 0 || !b.image_id)
		return NULL;
	const struct bsdp_image *img = bsdp_catalogue_find(c, b.image_id);
	enum bsdp_rule why = img ? bsdp_policy_rule(img, client, req) : BSDP_RULE_NO_IMAGE;
	a->bound_id = b.image_id;
	a->bound_rule = (uint8_t)why;
	if (why != BSDP_RULE_OFFERED)
		return NULL;
	a->selected_by = BSDP_SELECTED_BINDING;
	return img;
}

static uint32_t selected_id_of(const struct bsdp_image *img)
{
	return img ? img->id : 0;
}

/* Notes why an image is or is not in the LIST, when the caller asked. */
static void trace(const struct bsdp_query *q, const struct bsdp_catalogue *c,
		  const struct bsdp_image *img, enum bsdp_rule rule)
{
	if (q->rules && q->rules_size >= c->n_images)
		q->rules[img - c->images] = (uint8_t)rule;
}

/* A LIST not sent: every image's rule, and `unlisted` for the visible ones. */
static int drop_list(const struct bsdp_catalogue *c, const struct bsdp_query *q,
		     const struct bsdp_client *client, struct bsdp_answer *a,
		     enum bsdp_drop_reason reason, const char *why)
{
	for (size_t i = 0; q->rules && i < c->n_images; i++) {
		enum bsdp_rule r = bsdp_policy_rule(&c->images[i], client, &a->req);
		trace(q, c, &c->images[i], r == BSDP_RULE_OFFERED ? BSDP_RULE_NO_ROOM : r);
	}
	return drop(a, reason, why);
}

/* Appends one description; false (and the reply marked truncated) when
 * the budget is spent. */
static bool list_image(struct bsdp_writer *w, const struct bsdp_image *img, struct bsdp_answer *a)
{
	if (bsdp_writer_put_image(w, img->id, img->name, img->name_len) < 0) {
		a->truncated = true;
		return false;
	}
	a->images_listed++;
	return true;
}

static int answer_list(const struct bsdp_responder *r, const struct bsdp_catalogue *c,
		       struct bsdp_bindings *bindings, const struct bsdp_query *q,
		       const struct bsdp_client *client, struct bsdp_writer *w, struct bsdp_answer *a)
{
	const struct bsdp_request *req = &a->req;
	enum bsdp_default_why why;
	const struct bsdp_image *def = bsdp_policy_default(c, client, req, &why);
	a->default_why = (uint8_t)why;
	if (!def)
		return drop_list(c, q, client, a, BSDP_DROP_NO_IMAGE, "no image for this client");

	struct bsdp_list_head head = {
		.priority = r->priority_from_load ?
			bsdp_policy_load_priority(bsdp_bindings_load(bindings)) : r->priority,
		.default_id = def->id,
		.selected_id = selected_id_of(chosen_image(c, bindings, q, q->mac_valid ? q->mac : NULL,
							   client, req, a)),
	};
	a->default_id = head.default_id;
	a->selected_id = head.selected_id;
	if (bsdp_codec_begin_list(w, &head) < 0)
		return drop_list(c, q, client, a, BSDP_DROP_NO_ROOM,
				 "reply does not fit the client's maximum size");

	/* 1.0 clients get no list. Otherwise the default goes first, as BOOTPD
	 * does, then the others in catalogue order until the budget is spent;
	 * the same pass counts what was visible. */
	bool v1_0 = req->version == BSDP_VERSION_1_0;
	enum bsdp_rule unlisted = v1_0 ? BSDP_RULE_NO_LIST : BSDP_RULE_NO_ROOM;
	bool listing = !v1_0 && list_image(w, def, a);
	trace(q, c, def, listing ? BSDP_RULE_OFFERED : unlisted);
	a->images_visible = 1;
	for (size_t i = 0; i < c->n_images; i++) {
		const struct bsdp_image *img = &c->images[i];
		if (img == def)
			continue;
		enum bsdp_rule rule = bsdp_policy_rule(img, client, req);
		if (rule == BSDP_RULE_OFFERED) {
			a->images_visible++;
			if (listing)
				listing = list_image(w, img, a);
			if (!listing)
				rule = unlisted;
		}
		trace(q, c, img, rule);
	}
	return reply(a, w, BSDP_MSGTYPE_LIST);
}

static void root_path_http(const struct bsdp_responder *r, const struct bsdp_image *img,
			   uint32_t host, struct sbuf *s)
{
	if (r->has_http_url) {
		sb_puts(s, r->http_scheme);
		if (img->load_balance_server) {
			const char *port = strrchr(r->http_host, ':');
			sb_ipv4(s, img->load_balance_server);
			if (port && !strchr(r->http_host, ']'))
				sb_puts(s, port);
		} else {
			sb_puts(s, r->http_host);
		}
		sb_puts(s, r->http_path);
	} else {
		sb_puts(s, "http://");
		sb_ipv4(s, host);
		sb_puts(s, "/netboot");
	}
	sb_puts(s, "/");
	sb_url_path(s, img->set_dir);
	sb_puts(s, "/");
	sb_url_path(s, img->root_path);
}

/* Returns NULL, or why the root path cannot be made. */
static const char *make_root_path(const struct bsdp_responder *r, const struct bsdp_image *img,
				  uint32_t server_id, char *out, size_t size)
{
	struct sbuf s = { out, size, 0, false };
	uint32_t host = img->load_balance_server ? img->load_balance_server : server_id;

	out[0] = '\0';
	if (img->type == BSDP_TYPE_BOOTFILEONLY || !img->root_path)
		return NULL;
	if (bsdp_root_path_is_url(img->root_path)) {
		sb_puts(&s, img->root_path); /* an indirect URL, used as written */
	} else if (img->type == BSDP_TYPE_HTTP) {
		root_path_http(r, img, host, &s);
	} else {
		if (!r->has_nfs_url)
			return "NFS image but no nfs-url configured";
		sb_puts(&s, "nfs:");
		if (img->load_balance_server)
			sb_ipv4(&s, host);
		else
			sb_puts(&s, r->nfs_host);
		sb_puts(&s, ":");
		sb_puts(&s, r->nfs_export);
		sb_puts(&s, ":");
		sb_puts(&s, img->set_dir);
		sb_puts(&s, "/");
		sb_puts(&s, img->root_path);
	}
	return s.overflow ? "root path longer than 255 bytes" : NULL;
}

/* What an ACK[SELECT] or an OFFER* gives for img: file, root path, siaddr
 * and (but for BootFileOnly images) the machine name of number. NULL, or
 * why it cannot be given. */
static const char *boot_info(const struct bsdp_responder *r, const struct bsdp_image *img,
			     const struct bsdp_client *client, uint32_t number, struct bsdp_answer *a)
{
	struct sbuf f = { a->file, sizeof(a->file), 0, false };
	sb_puts(&f, r->tftp_path_prefix);
	sb_puts(&f, img->set_dir);
	sb_puts(&f, "/");
	sb_puts(&f, bsdp_arch_name(client->arch));
	sb_puts(&f, "/");
	sb_puts(&f, img->boot_file);
	if (f.overflow)
		return "booter path longer than 127 bytes";
	const char *why = make_root_path(r, img, a->server_id, a->root_path, sizeof(a->root_path));
	if (why)
		return why;
	a->siaddr = img->load_balance_server ? img->load_balance_server : a->server_id;
	a->machine_number = number;
	if (img->type != BSDP_TYPE_BOOTFILEONLY &&
	    bsdp_responder_format_name(r->name_format, number, a->machine_name,
				       sizeof(a->machine_name)) < 0)
		return "machine name does not fit";
	return NULL;
}

static int answer_select(const struct bsdp_responder *r, const struct bsdp_catalogue *c,
			 struct bsdp_bindings *bindings, const struct bsdp_query *q,
			 const struct bsdp_client *client, struct bsdp_writer *w, struct bsdp_answer *a)
{
	const struct bsdp_request *req = &a->req;
	const struct bsdp_image *img;

	if (!(req->present & BSDP_HAS(BSDP_OPT_SERVER_IDENTIFIER)))
		return drop(a, BSDP_DROP_NO_SERVER_ID, "SELECT without a server identifier");
	if (req->server_id != a->server_id) {
		if (bindings && q->mac_valid && !q->dry_run)
			bsdp_bindings_forget(bindings, q->mac, q->now);
		return drop(a, BSDP_DROP_OTHER_SERVER, "SELECT for another server");
	}
	if (req->present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)) {
		img = bsdp_catalogue_find(c, req->selected_image);
		if (!img)
			return failed(a, w, "unknown image");
		if (!img->is_enabled)
			return failed(a, w, "image disabled");
		if (!bsdp_policy_applicable(img, client))
			return failed(a, w, "image not applicable to this client");
	} else {
		/* No filter when validating a SELECT (BOOTPD). */
		img = bsdp_policy_default(c, client, NULL, NULL);
		if (!img)
			return failed(a, w, "no default image for this client");
	}
	a->selected_id = img->id;
	a->image = img;

	/* The binding is recorded by bsdp_responder_commit once the reply is
	 * sent: a dropped reply must leave no binding behind (nor evict one). */
	bool remember = bindings && q->mac_valid;
	uint32_t number = 0;
	struct bsdp_binding known;
	if (remember && !q->dry_run)
		number = bsdp_bindings_number(bindings, q->mac);
	else if (remember && bsdp_bindings_lookup(bindings, q->mac, &known) == 0)
		number = known.number;
	const char *why = boot_info(r, img, client, number, a);
	if (why)
		return failed(a, w, why);
	if (bsdp_codec_build_select(w, img->id, a->machine_name, strlen(a->machine_name)) < 0)
		return drop(a, BSDP_DROP_NO_ROOM, "no room for ACK[SELECT]");
	a->record = remember && !q->dry_run;
	return reply(a, w, BSDP_MSGTYPE_SELECT);
}

/* The image an OFFER* names (chosen_image), or NULL with *why. */
static const struct bsdp_image *offered_image(const struct bsdp_catalogue *c,
					      struct bsdp_bindings *bindings,
					      const struct bsdp_query *q,
					      const struct bsdp_client *client,
					      struct bsdp_answer *a, const char **why)
{
	const struct bsdp_image *img = chosen_image(c, bindings, q, client->mac, client, &a->req, a);
	if (img)
		return img;
	if (!a->bound_id)
		*why = a->pinned_image ? "pinned image not available to this client, and no binding"
				       : "no binding";
	else if (a->bound_rule == BSDP_RULE_NO_IMAGE)
		*why = "bound image no longer exists";
	else if (a->bound_rule == BSDP_RULE_DISABLED)
		*why = "bound image disabled";
	else
		*why = "bound image no longer allowed for this client (model, MAC or attribute filter)";
	return NULL;
}

int bsdp_responder_offer(const struct bsdp_responder *r, const struct bsdp_catalogue *c,
			 struct bsdp_bindings *bindings, const struct bsdp_query *q,
			 uint8_t *out, size_t out_size, struct bsdp_answer *ret)
{
	struct bsdp_answer *a = ret;
	/* Option 43 and 60 of the DISCOVER, fused: never longer than it. */
	uint8_t o43[1536], o60[BSDP_ARCH_MAX + BSDP_MODEL_MAX + sizeof(BSDP_VENDOR_CLASS_PREFIX) + 2];
	const char *why = NULL;

	if (!r || !c || !q || !ret || !out)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (bsdp_codec_bsdp_dhcp_type(q->msg, q->msg_len) != BSDP_DHCP_DISCOVER ||
	    q->msg[1] != 1 || q->msg[2] != 6)
		return 0; /* BSDP_VERDICT_NOT_BSDP: BOOTPD ignores all but Ethernet */
	const uint8_t *opts = q->msg + BSDP_DHCP_OPTIONS_AT;
	size_t opts_len = q->msg_len - BSDP_DHCP_OPTIONS_AT;
	int n60 = bsdp_codec_dhcp_option(opts, opts_len, 60, o60, sizeof(o60), NULL);
	if (n60 < 0 || bsdp_codec_parse_vendor_class((const char *)o60, (size_t)n60, &a->vc) < 0)
		return drop(a, BSDP_DROP_MALFORMED, "malformed option 60");
	int n43 = bsdp_codec_dhcp_option(opts, opts_len, 43, o43, sizeof(o43), NULL);
	if (n43 == -ENOENT)
		return drop(a, BSDP_DROP_INCOMPLETE, "no option 43");
	if (n43 < 0 || bsdp_codec_parse_request(o43, (size_t)n43, &a->req) < 0)
		return drop(a, BSDP_DROP_MALFORMED, "malformed option 43");
	/* BOOTPD: without the version sub-option the packet is not BSDP. */
	if (!(a->req.present & BSDP_HAS(BSDP_OPT_VERSION)))
		return drop(a, BSDP_DROP_INCOMPLETE, "no BSDP version");
	/* is_bsdp_packet() knows these versions only; NetBoot 1.0 firmware
	 * (sub-option 10) is left to old NetBoot, which we do not serve. */
	if (a->req.version != BSDP_VERSION_1_1 && a->req.version != BSDP_VERSION_1_0 &&
	    a->req.version != BSDP_VERSION_0_0)
		return drop(a, BSDP_DROP_NONE, "BSDP version not 1.1, 1.0 or 0.0");
	if (a->req.present & BSDP_HAS(BSDP_OPT_NETBOOT_1_0_FIRMWARE))
		return drop(a, BSDP_DROP_NONE, "NetBoot 1.0 firmware");
	a->server_id = r->server_address ? r->server_address : q->local_address;
	if (!a->server_id)
		return drop(a, BSDP_DROP_NONE, "no server address known");
	/* BOOTPD ignores a request whose siaddr names another server. */
	const uint8_t *si = q->msg + 20;
	uint32_t siaddr = (uint32_t)si[0] << 24 | (uint32_t)si[1] << 16 | (uint32_t)si[2] << 8 | si[3];
	if (siaddr && siaddr != a->server_id && siaddr != q->local_address)
		return drop(a, BSDP_DROP_NONE, "DISCOVER for another server (siaddr)");

	struct bsdp_client client = {
		.arch = bsdp_arch_from_name(a->vc.arch, a->vc.arch_len),
		.model = a->vc.model,
		.model_len = a->vc.model_len,
	};
	memcpy(client.mac, q->msg + 28, 6);
	const struct bsdp_image *img = offered_image(c, bindings, q, &client, a, &why);
	if (!img)
		return drop(a, BSDP_DROP_NONE, why);
	a->selected_id = img->id;
	a->image = img;
	uint32_t number = bindings ? bsdp_bindings_number(bindings, client.mac) : 0;
	why = boot_info(r, img, &client, number, a);
	if (why)
		return drop(a, BSDP_DROP_NONE, why);

	struct bsdp_offer offer = {
		.server_id = a->server_id,
		.siaddr = a->siaddr,
		.file = a->file,
		.root_path = a->root_path,
		.selected_id = img->id,
		.machine_name = a->machine_name,
		.machine_name_len = strlen(a->machine_name),
	};
	/* BOOTPD sends it in one frame: the DISCOVER's option 57 (548 without
	 * it), at most an Ethernet MTU, less IP and UDP; else no OFFER* at all. */
	uint8_t o57[2];
	int n57 = bsdp_codec_dhcp_option(opts, opts_len, 57, o57, sizeof(o57), NULL);
	size_t max = bsdp_codec_max_reply_size(NULL, n57 == 2 ? (o57[0] << 8) | o57[1] : 0);
	if (max > BSDP_OFFER_FRAME_MAX)
		max = BSDP_OFFER_FRAME_MAX;
	int n = bsdp_codec_build_offer(q->msg, q->msg_len, &offer, out, out_size < max ? out_size : max);
	if (n < 0)
		return drop(a, BSDP_DROP_NO_ROOM, "the OFFER* does not fit the Mac's message size");
	a->verdict = BSDP_VERDICT_REPLY;
	a->offer = true;
	a->message_len = (size_t)n;
	a->record = bindings != NULL;
	return 0;
}

void bsdp_responder_commit(struct bsdp_bindings *bindings, const struct bsdp_query *q,
			   const struct bsdp_answer *a)
{
	if (!bindings || !q || !a || !a->record || a->verdict != BSDP_VERDICT_REPLY)
		return;
	if (a->offer && q->msg && q->msg_len >= BSDP_DHCP_HEADER_LEN)
		bsdp_bindings_record(bindings, q->msg + 28, a->selected_id, q->now,
				     a->machine_number, NULL);
	else if (a->sent == BSDP_MSGTYPE_SELECT && q->mac_valid)
		bsdp_bindings_record(bindings, q->mac, a->selected_id, q->now,
				     a->machine_number, NULL);
}

int bsdp_responder_answer(const struct bsdp_responder *r, const struct bsdp_catalogue *c,
			  struct bsdp_bindings *bindings, const struct bsdp_query *q,
			  uint8_t *opt43_out, size_t opt43_size, size_t block_size,
			  struct bsdp_answer *ret)
{
	static const char prefix[] = BSDP_VENDOR_CLASS_PREFIX "/";
	struct bsdp_answer *a = ret;
	struct bsdp_writer w;

	if (!r || !c || !q || !ret || !opt43_out)
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (!q->opt60 || q->opt60_len < sizeof(prefix) - 1 ||
	    memcmp(q->opt60, prefix, sizeof(prefix) - 1) != 0)
		return 0; /* BSDP_VERDICT_NOT_BSDP */
	if (bsdp_codec_parse_vendor_class(q->opt60, q->opt60_len, &a->vc) < 0)
		return drop(a, BSDP_DROP_MALFORMED, "malformed option 60");
	if (bsdp_codec_parse_request(q->opt43, q->opt43_len, &a->req) < 0)
		return drop(a, BSDP_DROP_MALFORMED, "malformed option 43");
	const struct bsdp_request *req = &a->req;
	if (!(req->present & BSDP_HAS(BSDP_OPT_MESSAGE_TYPE)) ||
	    !(req->present & BSDP_HAS(BSDP_OPT_VERSION)))
		return drop(a, BSDP_DROP_INCOMPLETE, "no BSDP message type or version");
	if (q->ciaddr == 0)
		return drop(a, BSDP_DROP_NO_CIADDR, "ciaddr is 0");
	if (req->present & BSDP_HAS(BSDP_OPT_REPLY_PORT)) {
		if (req->reply_port >= 1024)
			return drop(a, BSDP_DROP_REPLY_PORT, "reply port 1024 or above");
		a->reply_port = req->reply_port;
	}
	a->server_id = r->server_address ? r->server_address : q->local_address;

	/* Kea sends through raw sockets that cannot fragment: a reply larger
	 * than the link carries would be lost, so the link caps the budget too. */
	size_t max = bsdp_codec_max_reply_size(req, q->opt57);
	if (q->link_max && q->link_max < max)
		max = q->link_max;
	size_t budget = max > q->reply_overhead ? max - q->reply_overhead : 0;
	a->budget = budget;
	if (bsdp_writer_init(&w, opt43_out, opt43_size, budget, block_size) < 0)
		return -EINVAL;

	struct bsdp_client client = {
		.arch = bsdp_arch_from_name(a->vc.arch, a->vc.arch_len),
		.model = a->vc.model,
		.model_len = a->vc.model_len,
	};
	if (q->mac_valid)
		memcpy(client.mac, q->mac, 6);

	switch (req->msg_type) {
	case BSDP_MSGTYPE_LIST: return answer_list(r, c, bindings, q, &client, &w, a);
	case BSDP_MSGTYPE_SELECT: return answer_select(r, c, bindings, q, &client, &w, a);
	default: return drop(a, BSDP_DROP_MESSAGE_TYPE, "neither LIST nor SELECT");
	}
}

bool bsdp_responder_is_ipxe(const uint8_t *opt77, size_t opt77_len, bool has_opt175)
{
	static const char ipxe[] = "iPXE";
	if (has_opt175)
		return true;
	if (!opt77)
		return false;
	if (opt77_len == 4 && memcmp(opt77, ipxe, 4) == 0)
		return true;
	/* RFC 3004: a list of length-prefixed class names. */
	for (size_t at = 0; at < opt77_len;) {
		size_t n = opt77[at];
		if (n > opt77_len - at - 1)
			return false;
		if (n == 4 && memcmp(opt77 + at + 1, ipxe, 4) == 0)
			return true;
		at += 1 + n;
	}
	return false;
}

const char *bsdp_responder_chain_url(const struct bsdp_catalogue *c, struct bsdp_bindings *bindings,
				     const uint8_t mac[6], int64_t now, int64_t window)
{
	struct bsdp_binding b;
	if (!c || !bindings || !mac || bsdp_bindings_lookup(bindings, mac, &b) < 0 || !b.image_id)
		return NULL;
	if (b.time > now || now - b.time >= window)
		return NULL;
	const struct bsdp_image *img = bsdp_catalogue_find(c, b.image_id);
	return img && img->is_enabled ? img->chain_url : NULL;
}
