/* SPDX-License-Identifier: MPL-2.0 */
/* DHCPINFORM builder and reply parser for the BSDP tools (see dhcp_msg.h). */
#include "tools/lib/dhcp_msg.h"

#include <errno.h>
#include <string.h>

#include "hook/bsdp_codec.h"

static const uint8_t magic_cookie[4] = {99, 130, 83, 99};

const uint8_t dhcp_msg_default_params[5] = {
	DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_ROOT_PATH,
	DHCP_OPT_VENDOR_SPECIFIC, DHCP_OPT_VENDOR_CLASS,
};

static void put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* True when data is a sequence of whole option-43 TLVs, so copying it
 * verbatim cannot corrupt the option area. */
static bool whole_opt43_tlvs(const uint8_t *data, size_t len)
{
	size_t left = len;

	while (left > 0) {
		if (left < 2 || data[0] != DHCP_OPT_VENDOR_SPECIFIC)
			return false;
		if (data[1] > left - 2)
			return false;
		left -= 2u + data[1];
		data += 2u + data[1];
	}
	return true;
}

int dhcp_msg_build_inform(const struct dhcp_inform *in, uint8_t *buf, size_t buf_size)
{
	const uint8_t *params = in->params ? in->params : dhcp_msg_default_params;
	size_t n_params = in->params ? in->n_params : sizeof(dhcp_msg_default_params);
	char vc[256];
	size_t vc_len;
	size_t need;
	uint8_t *p;

	if (n_params > 255 || (in->opt43_len > 0 && !in->opt43))
		return -EINVAL;
	if (in->opt43_len > 0 && !whole_opt43_tlvs(in->opt43, in->opt43_len))
		return -EINVAL;

	if (in->vendor_class) {
		vc_len = strnlen(in->vendor_class, sizeof(vc));
		if (vc_len > 255)
			return -EINVAL;
		memcpy(vc, in->vendor_class, vc_len);
	} else {
		const char *arch = in->arch ? in->arch : "";
		const char *model = in->model ? in->model : "";
		size_t arch_len = strnlen(arch, sizeof(vc));
		size_t model_len = strnlen(model, sizeof(vc));
		const size_t prefix = sizeof(BSDP_VENDOR_CLASS_PREFIX) - 1;

		/* BOOTPD splits at the first '/' after the prefix: an arch
		 * holding one would be read back differently. */
		if (arch_len == 0 || memchr(arch, '/', arch_len))
			return -EINVAL;
		/* strnlen bounds both by sizeof(vc), so the sum cannot wrap. */
		vc_len = prefix + 2 + arch_len + model_len;
		if (vc_len > 255)
			return -EINVAL;
		memcpy(vc, BSDP_VENDOR_CLASS_PREFIX, prefix);
		vc[prefix] = '/';
		memcpy(vc + prefix + 1, arch, arch_len);
		vc[prefix + 1 + arch_len] = '/';
		memcpy(vc + prefix + 2 + arch_len, model, model_len);
	}

	need = DHCP_MSG_OPTIONS_AT + 3;                 /* option 53 */
	if (n_params > 0)
		need += 2 + n_params;
	if (in->max_size)
		need += 4;
	need += 2 + vc_len + in->opt43_len + 1;         /* 60, 43..., end */
	if (need < DHCP_MSG_BOOTP_MIN)
		need = DHCP_MSG_BOOTP_MIN;
	if (need > buf_size)
		return -ENOBUFS;

	memset(buf, 0, need);
	buf[0] = DHCP_OP_REQUEST;
	buf[1] = 1;   /* Ethernet */
	buf[2] = 6;
	buf[3] = in->hops;
	put_u32(buf + 4, in->xid);
	put_u16(buf + 8, in->secs);
	put_u16(buf + 10, in->flags);
	put_u32(buf + 12, in->ciaddr);
	put_u32(buf + 24, in->giaddr);
	memcpy(buf + 28, in->chaddr, 6);
	memcpy(buf + DHCP_MSG_HEADER_LEN, magic_cookie, sizeof(magic_cookie));

	p = buf + DHCP_MSG_OPTIONS_AT;
	*p++ = DHCP_OPT_MESSAGE_TYPE;
	*p++ = 1;
	*p++ = in->type ? in->type : DHCP_MSGTYPE_INFORM;
	if (n_params > 0) {
		*p++ = DHCP_OPT_PARAMETER_LIST;
		*p++ = (uint8_t)n_params;
		memcpy(p, params, n_params);
		p += n_params;
	}
	if (in->max_size) {
		*p++ = DHCP_OPT_MAX_MESSAGE_SIZE;
		*p++ = 2;
		put_u16(p, in->max_size);
		p += 2;
	}
	*p++ = DHCP_OPT_VENDOR_CLASS;
	*p++ = (uint8_t)vc_len;
	memcpy(p, vc, vc_len);
	p += vc_len;
	if (in->opt43_len > 0) {
		memcpy(p, in->opt43, in->opt43_len);
		p += in->opt43_len;
	}
	*p = DHCP_OPT_END;
	return (int)need;
}

/* Joins every instance of a string-like option into out (NUL added).
 * Absent is not an error; too long or malformed is -EBADMSG. */
static int get_string_option(const uint8_t *opts, size_t len, uint8_t code, uint8_t *out,
			     size_t out_size, bool *ret_has, size_t *ret_len)
{
	int n = bsdp_codec_dhcp_option(opts, len, code, out, out_size - 1, NULL);

	if (n == -ENOENT) {
		*ret_has = false;
		*ret_len = 0;
		out[0] = 0;
		return 0;
	}
	if (n < 0)
		return -EBADMSG;
	out[n] = 0;
	*ret_has = true;
	*ret_len = (size_t)n;
	return 0;
}

int dhcp_msg_parse(const uint8_t *msg, size_t len, struct dhcp_reply *ret)
{
	/* Parsed on the side so *ret stays untouched on failure. */
	static const struct dhcp_reply empty;
	struct dhcp_reply r = empty;
	uint8_t small[4];
	size_t instances = 0;
	int n;

	if (!msg || len < DHCP_MSG_OPTIONS_AT)
		return -EBADMSG;
	if (memcmp(msg + DHCP_MSG_HEADER_LEN, magic_cookie, sizeof(magic_cookie)) != 0)
		return -EBADMSG;

	r.op = msg[0];
	r.htype = msg[1];
	r.hlen = msg[2];
	r.hops = msg[3];
	if (r.hlen > sizeof(r.chaddr))
		return -EBADMSG;
	r.xid = get_u32(msg + 4);
	r.secs = get_u16(msg + 8);
	r.flags = get_u16(msg + 10);
	r.ciaddr = get_u32(msg + 12);
	r.yiaddr = get_u32(msg + 16);
	r.siaddr = get_u32(msg + 20);
	r.giaddr = get_u32(msg + 24);
	memcpy(r.chaddr, msg + 28, sizeof(r.chaddr));
	/* sname (64 bytes at 44) and file (128 at 108) need not be terminated. */
	memcpy(r.sname, msg + 44, 64);
	r.sname[64] = 0;
	memcpy(r.file, msg + 108, 128);
	r.file[128] = 0;
	r.file_len = strlen(r.file);

	r.opts = msg + DHCP_MSG_OPTIONS_AT;
	r.opts_len = len - DHCP_MSG_OPTIONS_AT;

	n = bsdp_codec_dhcp_option(r.opts, r.opts_len, DHCP_OPT_MESSAGE_TYPE, small,
				   sizeof(small), NULL);
	if (n == -ENOENT)
		r.msg_type = -1;
	else if (n == 1)
		r.msg_type = small[0];
	else
		return -EBADMSG;

	n = bsdp_codec_dhcp_option(r.opts, r.opts_len, DHCP_OPT_SERVER_ID, small, sizeof(small),
				   NULL);
	if (n == 4) {
		r.has_server_id = true;
		r.server_id = get_u32(small);
	} else if (n != -ENOENT) {
		return -EBADMSG;
	}

	if (get_string_option(r.opts, r.opts_len, DHCP_OPT_VENDOR_CLASS, r.vendor_class,
			      sizeof(r.vendor_class), &r.has_vendor_class, &r.vendor_class_len) < 0)
		return -EBADMSG;
	if (get_string_option(r.opts, r.opts_len, DHCP_OPT_ROOT_PATH, r.root_path,
			      sizeof(r.root_path), &r.has_root_path, &r.root_path_len) < 0)
		return -EBADMSG;

	n = bsdp_codec_dhcp_option(r.opts, r.opts_len, DHCP_OPT_VENDOR_SPECIFIC, r.opt43,
				   sizeof(r.opt43), &instances);
	if (n >= 0) {
		r.opt43_len = (size_t)n;
		/* A zero-length instance still counts as present. */
		r.opt43_instances = instances > 0 ? instances : 1;
	} else if (n != -ENOENT) {
		return -EBADMSG;
	}

	*ret = r;
	return 0;
}

const char *dhcp_msg_bsdp_problem(const struct dhcp_reply *r)
{
	static const char bsdpc[] = BSDP_VENDOR_CLASS_PREFIX;

	if (r->op != DHCP_OP_REPLY)
		return "not a BOOTREPLY";
	if (r->msg_type != DHCP_MSGTYPE_ACK && r->msg_type != DHCP_MSGTYPE_OFFER)
		return "not a DHCPACK or DHCPOFFER";
	if (!r->has_server_id)
		return "no server identifier (option 54)";
	/* Servers answer with exactly "AAPLBSDPC" (length 9). */
	if (!r->has_vendor_class || r->vendor_class_len != sizeof(bsdpc) - 1 ||
	    memcmp(r->vendor_class, bsdpc, sizeof(bsdpc) - 1) != 0)
		return "option 60 is not AAPLBSDPC";
	if (r->opt43_instances == 0)
		return "no BSDP options (option 43)";
	return NULL;
}
