/* SPDX-License-Identifier: MPL-2.0 */
#include "hook/explain.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

void bsdp_explain_unknown(const uint8_t mac[6], struct bsdp_recent_request *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->mac, mac, 6);
	ret->req.present = BSDP_HAS(BSDP_OPT_MESSAGE_TYPE) | BSDP_HAS(BSDP_OPT_VERSION);
	ret->req.msg_type = BSDP_MSGTYPE_LIST;
	ret->req.version = BSDP_VERSION_1_1;
	ret->opt57 = -1;
	ret->reply_overhead = BSDP_EXPLAIN_OVERHEAD_GUESS;
}

void bsdp_explain_note(const struct bsdp_query *q, const struct bsdp_answer *a,
		       struct bsdp_recent_request *ret)
{
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->mac, q->mac, 6);
	ret->time = q->now;
	ret->vc = a->vc;
	ret->req = a->req;
	ret->opt57 = q->opt57;
	ret->reply_overhead = q->reply_overhead > UINT32_MAX ? UINT32_MAX : (uint32_t)q->reply_overhead;
	ret->link_max = q->link_max > UINT32_MAX ? UINT32_MAX : (uint32_t)q->link_max;
	ret->local_address = q->local_address;
	ret->ciaddr = q->ciaddr;
	if (a->verdict == BSDP_VERDICT_DROP) {
		ret->drop = (uint8_t)a->drop;
		ret->why = a->why;
	}
}

/* Appends one sub-option (option 43's payload, as a Mac's instances fuse
 * into); false when it does not fit. */
static bool put(uint8_t *buf, size_t size, size_t *at, uint8_t code, const uint8_t *v, size_t len)
{
	if (len > 255 || size - *at < 2 + len)
		return false;
	buf[(*at)++] = code;
	buf[(*at)++] = (uint8_t)len;
	memcpy(buf + *at, v, len);
	*at += len;
	return true;
}

static bool put_u(uint8_t *buf, size_t size, size_t *at, uint8_t code, uint32_t v, size_t len)
{
	uint8_t be[4];
	for (size_t i = 0; i < len; i++)
		be[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
	return put(buf, size, at, code, be, len);
}

int bsdp_explain_query(const struct bsdp_recent_request *r, uint8_t msg_type, uint32_t server_id,
		       uint32_t image_id, int64_t now, struct bsdp_explain_buf *buf,
		       struct bsdp_query *q)
{
	uint8_t filters[2 * BSDP_FILTERS_MAX];
	size_t at = 0, size = sizeof(buf->opt43);

	if (!r || !buf || !q || r->vc.arch_len > BSDP_ARCH_MAX || r->vc.model_len > BSDP_MODEL_MAX ||
	    r->req.n_filters > BSDP_FILTERS_MAX)
		return -EINVAL;
	const struct bsdp_request *req = &r->req;
	uint16_t version = (req->present & BSDP_HAS(BSDP_OPT_VERSION)) ? req->version
								       : BSDP_VERSION_1_1;
	/* Firmware's order: message type, version, then the rest. */
	bool ok = put_u(buf->opt43, size, &at, BSDP_OPT_MESSAGE_TYPE, msg_type, 1) &&
		  put_u(buf->opt43, size, &at, BSDP_OPT_VERSION, version, 2);
	if (ok && msg_type == BSDP_MSGTYPE_SELECT)
		ok = put_u(buf->opt43, size, &at, BSDP_OPT_SERVER_IDENTIFIER, server_id, 4) &&
		     put_u(buf->opt43, size, &at, BSDP_OPT_SELECTED_BOOT_IMAGE, image_id, 4);
	if (ok && msg_type == BSDP_MSGTYPE_LIST &&
	    (req->present & BSDP_HAS(BSDP_OPT_MAX_MESSAGE_SIZE)))
		ok = put_u(buf->opt43, size, &at, BSDP_OPT_MAX_MESSAGE_SIZE, req->max_message_size, 2);
	if (ok && msg_type == BSDP_MSGTYPE_LIST &&
	    (req->present & BSDP_HAS(BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST))) {
		for (size_t i = 0; i < req->n_filters; i++) {
			filters[2 * i] = (uint8_t)(req->filters[i] >> 8);
			filters[2 * i + 1] = (uint8_t)req->filters[i];
		}
		ok = put(buf->opt43, size, &at, BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST, filters,
			 2u * req->n_filters);
	}
	if (!ok)
		return -ENOBUFS;
	int n = snprintf(buf->opt60, sizeof(buf->opt60), BSDP_VENDOR_CLASS_PREFIX "/%.*s/%.*s",
			 (int)r->vc.arch_len, r->vc.arch, (int)r->vc.model_len, r->vc.model);
	if (n < 0 || (size_t)n >= sizeof(buf->opt60))
		return -ENOBUFS;

	memset(q, 0, sizeof(*q));
	q->opt43 = buf->opt43;
	q->opt43_len = at;
	q->opt60 = buf->opt60;
	q->opt60_len = (size_t)n;
	memcpy(q->mac, r->mac, 6);
	q->mac_valid = true;
	q->ciaddr = r->ciaddr ? r->ciaddr : 1;
	q->local_address = r->local_address;
	q->opt57 = r->opt57;
	q->reply_overhead = r->reply_overhead;
	q->link_max = r->link_max;
	q->now = now;
	q->dry_run = true;
	return 0;
}
