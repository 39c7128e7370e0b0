/* SPDX-License-Identifier: MPL-2.0 */
#include "hook/bsdp_codec.h"

#include <errno.h>
#include <string.h>

/* Length rule of a known sub-option in a request. */
enum len_rule { LEN_ANY, LEN_EXACT, LEN_PAIRS };
struct rule {
	enum len_rule kind;
	uint8_t len;
};

static struct rule request_rule(uint8_t code)
{
	switch (code) {
	case BSDP_OPT_MESSAGE_TYPE: return (struct rule){ LEN_EXACT, 1 };
	case BSDP_OPT_VERSION: return (struct rule){ LEN_EXACT, 2 };
	case BSDP_OPT_SERVER_IDENTIFIER: return (struct rule){ LEN_EXACT, 4 };
	case BSDP_OPT_SERVER_PRIORITY: return (struct rule){ LEN_EXACT, 2 };
	case BSDP_OPT_REPLY_PORT: return (struct rule){ LEN_EXACT, 2 };
	case BSDP_OPT_DEFAULT_BOOT_IMAGE: return (struct rule){ LEN_EXACT, 4 };
	case BSDP_OPT_SELECTED_BOOT_IMAGE: return (struct rule){ LEN_EXACT, 4 };
	case BSDP_OPT_NETBOOT_1_0_FIRMWARE: return (struct rule){ LEN_EXACT, 0 };
	case BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST: return (struct rule){ LEN_PAIRS, 0 };
	case BSDP_OPT_MAX_MESSAGE_SIZE: return (struct rule){ LEN_EXACT, 2 };
	default: return (struct rule){ LEN_ANY, 0 };
	}
}

static bool length_ok(struct rule r, size_t len)
{
	switch (r.kind) {
	case LEN_EXACT: return len == r.len;
	case LEN_PAIRS: return len >= 2 && len % 2 == 0;
	default: return true;
	}
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* One TLV step over a bounded cursor. Returns 1 with code/value, 0 at the end
 * (no data left or END), -EBADMSG when the TLV overruns. Pads are skipped. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static int next_tlv(struct cursor *c, uint8_t *ret_code, const uint8_t **ret_val, size_t *ret_len)
{
	while (c->left > 0 && c->p[0] == BSDP_OPT_PAD) {
		c->p++;
		c->left--;
	}
	if (c->left == 0 || c->p[0] == BSDP_OPT_END)
		return 0;
	if (c->left < 2)
		return -EBADMSG;
	size_t len = c->p[1];
	if (len > c->left - 2)
		return -EBADMSG;
	*ret_code = c->p[0];
	*ret_val = c->p + 2;
	*ret_len = len;
	c->p += 2 + len;
	c->left -= 2 + len;
	return 1;
}

int bsdp_codec_parse_request(const uint8_t *data, size_t len, struct bsdp_request *ret)
{
	struct bsdp_request req = { 0 };
	struct cursor c = { data, data ? len : 0 };
	uint8_t code;
	const uint8_t *v;
	size_t vlen;
	int r;

	if (!ret)
		return -EINVAL;
	while ((r = next_tlv(&c, &code, &v, &vlen)) > 0) {
		if (!length_ok(request_rule(code), vlen))
			return -EBADMSG;
		if (code >= 32 || (req.present & BSDP_HAS(code)))
			continue; /* unknown, or a duplicate: the first wins */
		switch (code) {
		case BSDP_OPT_MESSAGE_TYPE: req.msg_type = v[0]; break;
		case BSDP_OPT_VERSION: req.version = be16(v); break;
		case BSDP_OPT_SERVER_IDENTIFIER: req.server_id = be32(v); break;
		case BSDP_OPT_REPLY_PORT: req.reply_port = be16(v); break;
		case BSDP_OPT_SELECTED_BOOT_IMAGE: req.selected_image = be32(v); break;
		case BSDP_OPT_MAX_MESSAGE_SIZE: req.max_message_size = be16(v); break;
		case BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST:
			req.n_filters = (uint8_t)(vlen / 2);
			for (size_t i = 0; i < req.n_filters; i++)
				req.filters[i] = be16(v + 2 * i);
			break;
		default: break;
		}
		req.present |= BSDP_HAS(code);
	}
	if (r < 0)
		return r;
	*ret = req;
	return 0;
}

int bsdp_codec_parse_vendor_class(const char *data, size_t len, struct bsdp_vendor_class *ret)
{
	static const char prefix[] = BSDP_VENDOR_CLASS_PREFIX "/";
	const size_t plen = sizeof(prefix) - 1;

	if (!data || !ret)
		return -EINVAL;
	if (len < plen || memcmp(data, prefix, plen) != 0)
		return -EPROTO;
	if (memchr(data, '\0', len) || memchr(data, '\n', len))
		return -EPROTO;
	const char *arch = data + plen;
	size_t rest = len - plen;
	const char *slash = memchr(arch, '/', rest);
	size_t arch_len = slash ? (size_t)(slash - arch) : rest;
	const char *model = slash ? slash + 1 : arch + rest;
	size_t model_len = slash ? rest - arch_len - 1 : 0;
	if (arch_len == 0)
		return -EPROTO;
	if (arch_len > BSDP_ARCH_MAX || model_len > BSDP_MODEL_MAX)
		return -ERANGE;
	memcpy(ret->arch, arch, arch_len);
	ret->arch[arch_len] = '\0';
	memcpy(ret->model, model, model_len);
	ret->model[model_len] = '\0';
	ret->arch_len = arch_len;
	ret->model_len = model_len;
	return 0;
}

size_t bsdp_codec_max_reply_size(const struct bsdp_request *req, int opt57)
{
	size_t size = 0;

	if (req && (req->present & BSDP_HAS(BSDP_OPT_MAX_MESSAGE_SIZE)))
		size = req->max_message_size;
	else if (opt57 > 0)
		size = (size_t)opt57;
	if (size < 548)
		size = 548;
	if (size > 8192)
		size = 8192;
	return size - 28;
}

size_t bsdp_codec_utf8_cut(const char *name, size_t len, size_t max)
{
	if (len <= max)
		return len;
	/* Step back over continuation bytes (10xxxxxx) so the cut lands before
	 * the lead byte of the character that would straddle it. */
	size_t cut = max;
	while (cut > 0 && ((unsigned char)name[cut] & 0xc0) == 0x80)
		cut--;
	return cut;
}

/* ---- writer ---------------------------------------------------------- */

#define NO_OFFSET ((size_t)-1)

int bsdp_writer_init(struct bsdp_writer *w, uint8_t *buf, size_t buf_size, size_t budget,
		     size_t block_size)
{
	if (!w || (!buf && buf_size) || block_size < 8 || block_size > BSDP_BLOCK_MAX)
		return -EINVAL;
	*w = (struct bsdp_writer){
		.buf = buf,
		.cap = buf_size < budget ? buf_size : budget,
		.block_size = block_size,
		.block_at = NO_OFFSET,
		.list_at = NO_OFFSET,
	};
	return 0;
}

static size_t block_used(const struct bsdp_writer *w)
{
	return w->block_at == NO_OFFSET ? 0 : w->len - w->block_at - 2;
}

static void close_list(struct bsdp_writer *w)
{
	if (w->list_at != NO_OFFSET) {
		w->buf[w->list_at + 1] = (uint8_t)(w->len - w->list_at - 2);
		w->list_at = NO_OFFSET;
	}
}

static void close_block(struct bsdp_writer *w)
{
	close_list(w);
	if (w->block_at != NO_OFFSET) {
		w->buf[w->block_at + 1] = (uint8_t)(w->len - w->block_at - 2);
		w->block_at = NO_OFFSET;
	}
}

/* Makes room for `need` more payload bytes in the open instance, starting a
 * new one if needed. Checks before it writes: on -ENOBUFS nothing changed. */
static int reserve(struct bsdp_writer *w, size_t need)
{
	if (need > w->block_size)
		return -EINVAL;
	if (w->block_at != NO_OFFSET && block_used(w) + need <= w->block_size) {
		if (w->len + need > w->cap)
			return -ENOBUFS;
		return 0;
	}
	if (w->len + 2 + need > w->cap)
		return -ENOBUFS;
	close_block(w);
	w->block_at = w->len;
	w->buf[w->len++] = 43;
	w->buf[w->len++] = 0;
	return 0;
}

int bsdp_writer_put(struct bsdp_writer *w, uint8_t code, const void *value, size_t len)
{
	if (!w || (!value && len) || len > 255)
		return -EINVAL;
	/* A sub-option after the list must not be absorbed into it. */
	size_t save_list = w->list_at;
	close_list(w);
	int r = reserve(w, 2 + len);
	if (r < 0) {
		w->list_at = save_list;
		return r;
	}
	w->buf[w->len++] = code;
	w->buf[w->len++] = (uint8_t)len;
	if (len)
		memcpy(w->buf + w->len, value, len);
	w->len += len;
	return 0;
}

int bsdp_writer_put_u8(struct bsdp_writer *w, uint8_t code, uint8_t v)
{
	return bsdp_writer_put(w, code, &v, 1);
}

int bsdp_writer_put_u16(struct bsdp_writer *w, uint8_t code, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	return bsdp_writer_put(w, code, b, sizeof(b));
}

int bsdp_writer_put_u32(struct bsdp_writer *w, uint8_t code, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	return bsdp_writer_put(w, code, b, sizeof(b));
}

int bsdp_writer_put_image(struct bsdp_writer *w, uint32_t id, const char *name, size_t name_len)
{
	if (!w || (!name && name_len))
		return -EINVAL;
	/* A description must fit one sub-option 9 in one instance: 246 bytes
	 * of name with 255-byte instances, fewer with smaller ones. */
	size_t name_max = w->block_size - 2 - 5 < BSDP_NAME_MAX ? w->block_size - 2 - 5 : BSDP_NAME_MAX;
	name_len = bsdp_codec_utf8_cut(name, name_len, name_max);
	size_t desc = 5 + name_len;
	bool in_list = w->list_at != NO_OFFSET;
	size_t list_len = in_list ? w->len - w->list_at - 2 : 0;

	/* Append to the open sub-option 9 when both it and the instance have
	 * room; otherwise open a new sub-option 9, in a new instance if needed. */
	if (in_list && list_len + desc <= 255 && block_used(w) + desc <= w->block_size) {
		if (w->len + desc > w->cap)
			return -ENOBUFS;
	} else {
		size_t save_list = w->list_at;
		close_list(w);
		int r = reserve(w, 2 + desc);
		if (r < 0) {
			w->list_at = save_list;
			return r;
		}
		w->list_at = w->len;
		w->buf[w->len++] = BSDP_OPT_BOOT_IMAGE_LIST;
		w->buf[w->len++] = 0;
	}
	uint8_t *p = w->buf + w->len;
	p[0] = (uint8_t)(id >> 24);
	p[1] = (uint8_t)(id >> 16);
	p[2] = (uint8_t)(id >> 8);
	p[3] = (uint8_t)id;
	p[4] = (uint8_t)name_len;
	if (name_len)
		memcpy(p + 5, name, name_len);
	w->len += desc;
	w->images++;
	return 0;
}

size_t bsdp_writer_finish(struct bsdp_writer *w)
{
	close_block(w);
	return w->len;
}

int bsdp_codec_begin_list(struct bsdp_writer *w, const struct bsdp_list_head *head)
{
	int r;

	if (!w || !head)
		return -EINVAL;
	if ((r = bsdp_writer_put_u8(w, BSDP_OPT_MESSAGE_TYPE, BSDP_MSGTYPE_LIST)) < 0 ||
	    (r = bsdp_writer_put_u16(w, BSDP_OPT_SERVER_PRIORITY, head->priority)) < 0 ||
	    (r = bsdp_writer_put_u32(w, BSDP_OPT_DEFAULT_BOOT_IMAGE, head->default_id)) < 0)
		return r;
	if (head->selected_id &&
	    (r = bsdp_writer_put_u32(w, BSDP_OPT_SELECTED_BOOT_IMAGE, head->selected_id)) < 0)
		return r;
	return 0;
}

int bsdp_codec_build_select(struct bsdp_writer *w, uint32_t selected_id, const char *machine_name,
			    size_t machine_name_len)
{
	int r;

	if (!w)
		return -EINVAL;
	if ((r = bsdp_writer_put_u8(w, BSDP_OPT_MESSAGE_TYPE, BSDP_MSGTYPE_SELECT)) < 0 ||
	    (r = bsdp_writer_put_u32(w, BSDP_OPT_SELECTED_BOOT_IMAGE, selected_id)) < 0)
		return r;
	if (machine_name && machine_name_len &&
	    (r = bsdp_writer_put(w, BSDP_OPT_MACHINE_NAME, machine_name, machine_name_len)) < 0)
		return r;
	return 0;
}

int bsdp_codec_build_failed(struct bsdp_writer *w)
{
	return bsdp_writer_put_u8(w, BSDP_OPT_MESSAGE_TYPE, BSDP_MSGTYPE_FAILED);
}

/* ---- reply decoder --------------------------------------------------- */

static int count_descriptions(const uint8_t *v, size_t len, size_t *count)
{
	size_t at = 0;
	while (at < len) {
		if (len - at < 5)
			return -EBADMSG;
		size_t name_len = v[at + 4];
		if (name_len > len - at - 5)
			return -EBADMSG;
		at += 5 + name_len;
		(*count)++;
	}
	return 0;
}

int bsdp_codec_parse_reply(const uint8_t *data, size_t len, struct bsdp_reply *ret)
{
	struct bsdp_reply rep = { .data = data, .len = len };
	struct cursor c = { data, data ? len : 0 };
	uint8_t code;
	const uint8_t *v;
	size_t vlen;
	int r;

	if (!ret)
		return -EINVAL;
	while ((r = next_tlv(&c, &code, &v, &vlen)) > 0) {
		if (code == BSDP_OPT_BOOT_IMAGE_LIST) {
			if (count_descriptions(v, vlen, &rep.n_images) < 0)
				return -EBADMSG;
			rep.present |= BSDP_HAS(code);
			continue;
		}
		if (code == BSDP_OPT_MACHINE_NAME) {
			if (!rep.machine_name) {
				rep.machine_name = v;
				rep.machine_name_len = vlen;
			}
			continue;
		}
		if (!length_ok(request_rule(code), vlen))
			return -EBADMSG;
		if (code >= 32 || (rep.present & BSDP_HAS(code)))
			continue;
		switch (code) {
		case BSDP_OPT_MESSAGE_TYPE: rep.msg_type = v[0]; break;
		case BSDP_OPT_SERVER_IDENTIFIER: rep.server_id = be32(v); break;
		case BSDP_OPT_SERVER_PRIORITY: rep.priority = be16(v); break;
		case BSDP_OPT_DEFAULT_BOOT_IMAGE: rep.default_id = be32(v); break;
		case BSDP_OPT_SELECTED_BOOT_IMAGE: rep.selected_id = be32(v); break;
		default: break;
		}
		rep.present |= BSDP_HAS(code);
	}
	if (r < 0)
		return r;
	*ret = rep;
	return 0;
}

void bsdp_image_iter_init(struct bsdp_image_iter *it, const struct bsdp_reply *reply)
{
	*it = (struct bsdp_image_iter){ .data = reply->data, .len = reply->data ? reply->len : 0 };
}

int bsdp_image_iter_next(struct bsdp_image_iter *it, uint32_t *ret_id, const uint8_t **ret_name,
			 size_t *ret_name_len)
{
	while (it->list_left == 0) {
		struct cursor c = { it->data + it->at, it->len - it->at };
		uint8_t code;
		const uint8_t *v;
		size_t vlen;
		if (next_tlv(&c, &code, &v, &vlen) <= 0)
			return 0;
		it->at = (size_t)(c.p - it->data);
		if (code == BSDP_OPT_BOOT_IMAGE_LIST) {
			it->list_left = vlen;
			it->at = (size_t)(v - it->data);
		}
	}
	const uint8_t *p = it->data + it->at;
	if (it->list_left < 5 || p[4] > it->list_left - 5)
		return 0; /* not validated by parse_reply: stop rather than overrun */
	size_t name_len = p[4];
	*ret_id = be32(p);
	*ret_name = p + 5;
	*ret_name_len = name_len;
	it->at += 5 + name_len;
	it->list_left -= 5 + name_len;
	return 1;
}

int bsdp_codec_dhcp_option(const uint8_t *opts, size_t len, uint8_t code, uint8_t *out,
			   size_t out_size, size_t *ret_instances)
{
	struct cursor c = { opts, opts ? len : 0 };
	uint8_t oc;
	const uint8_t *v;
	size_t vlen, total = 0, instances = 0;
	int r;

	if (code == BSDP_OPT_PAD || code == BSDP_OPT_END)
		return -EINVAL;
	while ((r = next_tlv(&c, &oc, &v, &vlen)) > 0) {
		if (oc != code)
			continue;
		if (vlen > out_size - total)
			return -ENOBUFS;
		if (vlen)
			memcpy(out + total, v, vlen);
		total += vlen;
		instances++;
	}
	if (r < 0)
		return r;
	if (ret_instances)
		*ret_instances = instances;
	if (instances == 0)
		return -ENOENT;
	return (int)total;
}

/* Fixed BOOTP header, then the magic cookie (RFC 2131 section 3). */
#define DHCP_OPTIONS_OFFSET 240
#define DHCP_COOKIE_OFFSET 236
#define DHCP_OPT_MESSAGE_TYPE 53
#define DHCP_OPT_VENDOR_CLASS 60
#define DHCP_BOOTREQUEST 1
#define DHCP_INFORM 8

int bsdp_codec_bsdp_dhcp_type(const uint8_t *msg, size_t len)
{
	static const uint8_t cookie[4] = { 99, 130, 83, 99 };
	static const char prefix[] = BSDP_VENDOR_CLASS_PREFIX "/";
	const size_t prefix_len = sizeof(prefix) - 1;
	struct cursor c;
	uint8_t code;
	const uint8_t *v;
	size_t vlen;
	int type = -1, vendor = -1; /* -1 unseen, else type 0..255, vendor 0 or 1 */

	if (!msg || len < DHCP_OPTIONS_OFFSET || msg[0] != DHCP_BOOTREQUEST ||
	    memcmp(msg + DHCP_COOKIE_OFFSET, cookie, sizeof(cookie)) != 0)
		return 0;
	c = (struct cursor){ msg + DHCP_OPTIONS_OFFSET, len - DHCP_OPTIONS_OFFSET };
	while ((type < 0 || vendor < 0) && next_tlv(&c, &code, &v, &vlen) > 0) {
		if (code == DHCP_OPT_MESSAGE_TYPE && type < 0)
			type = vlen == 1 ? v[0] : 0;
		else if (code == DHCP_OPT_VENDOR_CLASS && vendor < 0)
			vendor = vlen >= prefix_len && memcmp(v, prefix, prefix_len) == 0;
	}
	return type > 0 && vendor == 1 ? type : 0;
}

bool bsdp_codec_is_bsdp_inform(const uint8_t *msg, size_t len)
{
	return bsdp_codec_bsdp_dhcp_type(msg, len) == DHCP_INFORM;
}

/* Appends one DHCP option; false when it does not fit. */
static bool put_option(uint8_t *out, size_t size, size_t *at, uint8_t code, const void *v,
		       size_t len)
{
	if (len > 255 || size - *at < 2 + len)
		return false;
	out[*at] = code;
	out[*at + 1] = (uint8_t)len;
	if (len)
		memcpy(out + *at + 2, v, len);
	*at += 2 + len;
	return true;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#define DHCP_SNAME_OFFSET 44
#define DHCP_FILE_OFFSET 108
#define DHCP_FILE_SIZE 128

int bsdp_codec_build_offer(const uint8_t *request, size_t request_len, const struct bsdp_offer *o,
			   uint8_t *out, size_t out_size)
{
	static const uint8_t cookie[4] = { 99, 130, 83, 99 };
	static const char vendor[] = BSDP_VENDOR_CLASS_PREFIX;
	const uint8_t msgtype = BSDP_DHCP_OFFER;
	uint8_t sid[4], vendor_opts[2 + 4 + 2 + 255];
	size_t file_len, root_len, at = BSDP_DHCP_OPTIONS_AT, vlen = 0;

	if (!request || !o || !out)
		return -EINVAL;
	if (request_len < BSDP_DHCP_HEADER_LEN)
		return -EBADMSG;
	file_len = o->file ? strlen(o->file) : 0;
	root_len = o->root_path ? strlen(o->root_path) : 0;
	if (file_len >= DHCP_FILE_SIZE || root_len > 255 ||
	    (o->machine_name && o->machine_name_len > 255))
		return -EINVAL;
	if (out_size < BSDP_DHCP_OPTIONS_AT)
		return -ENOBUFS;

	/* Sub-options 8 then 130: BOOTPD's order (no message type in an OFFER*). */
	vendor_opts[vlen++] = BSDP_OPT_SELECTED_BOOT_IMAGE;
	vendor_opts[vlen++] = 4;
	put_be32(vendor_opts + vlen, o->selected_id);
	vlen += 4;
	if (o->machine_name && o->machine_name_len) {
		if (vlen + 2 + o->machine_name_len > 255)
			return -EINVAL;
		vendor_opts[vlen++] = BSDP_OPT_MACHINE_NAME;
		vendor_opts[vlen++] = (uint8_t)o->machine_name_len;
		memcpy(vendor_opts + vlen, o->machine_name, o->machine_name_len);
		vlen += o->machine_name_len;
	}

	/* The header: the request's identity, no address for the client. */
	memset(out, 0, BSDP_DHCP_OPTIONS_AT);
	out[0] = 2; /* BOOTREPLY */
	memcpy(out + 1, request + 1, 2);   /* htype, hlen; hops 0 */
	memcpy(out + 4, request + 4, 4);   /* xid; secs 0 */
	memcpy(out + 10, request + 10, 2); /* flags; ciaddr, yiaddr 0 */
	put_be32(out + 20, o->siaddr);
	memcpy(out + 24, request + 24, 4 + 16); /* giaddr, chaddr */
	if (file_len)
		memcpy(out + DHCP_FILE_OFFSET, o->file, file_len);
	memcpy(out + DHCP_COOKIE_OFFSET, cookie, sizeof(cookie));

	put_be32(sid, o->server_id);
	if (!put_option(out, out_size, &at, DHCP_OPT_MESSAGE_TYPE, &msgtype, 1) ||
	    !put_option(out, out_size, &at, 54, sid, 4) ||
	    !put_option(out, out_size, &at, DHCP_OPT_VENDOR_CLASS, vendor, sizeof(vendor) - 1) ||
	    (root_len && !put_option(out, out_size, &at, 17, o->root_path, root_len)) ||
	    !put_option(out, out_size, &at, 43, vendor_opts, vlen) || out_size - at < 1)
		return -ENOBUFS;
	out[at++] = BSDP_OPT_END;
	if (at < BSDP_BOOTP_MIN) {
		if (out_size < BSDP_BOOTP_MIN)
			return -ENOBUFS;
		memset(out + at, 0, BSDP_BOOTP_MIN - at);
		at = BSDP_BOOTP_MIN;
	}
	return (int)at;
}
