/* SPDX-License-Identifier: MPL-2.0 */
/* bsdp-explain's questions, asked of the responder itself: the LIST (and
 * each SELECT) a Mac would send, rebuilt from what it last sent (hook/
 * recent.h), so the answer comes from the code that answers the Mac. */
#ifndef BSDP_EXPLAIN_H
#define BSDP_EXPLAIN_H

#include <stdint.h>

#include "recent.h"
#include "responder.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of the reply other than option 43 assumed for a Mac never seen:
 * BOOTP header and cookie (240), options 53, 54, 60 and END (21), and
 * room for a few of Kea's own options. */
#define BSDP_EXPLAIN_OVERHEAD_GUESS 300

struct bsdp_explain_buf {
	uint8_t opt43[3 + 4 + 4 + 2 + 2 * BSDP_FILTERS_MAX + 6 + 6];
	char opt60[sizeof(BSDP_VENDOR_CLASS_PREFIX) + BSDP_ARCH_MAX + 1 + BSDP_MODEL_MAX + 1];
};

/* A request as a Mac never seen would send it: BSDP 1.1, arch and model
 * given, no filter, no message size, the overhead guessed. */
void bsdp_explain_unknown(const uint8_t mac[6], struct bsdp_recent_request *ret);

/* Fills *q (pointing into *buf) with the LIST (msg_type BSDP_MSGTYPE_LIST)
 * or SELECT of image_id for server_id that r describes, as a dry run
 * (q->dry_run). A ciaddr of 0 is replaced by 0.0.0.1: the explanation is
 * of the catalogue, not of that drop. 0, or -EINVAL / -ENOBUFS. */
int bsdp_explain_query(const struct bsdp_recent_request *r, uint8_t msg_type, uint32_t server_id,
		       uint32_t image_id, int64_t now, struct bsdp_explain_buf *buf,
		       struct bsdp_query *q);

/* What a packet's answer tells of the request, to remember for explain. */
void bsdp_explain_note(const struct bsdp_query *q, const struct bsdp_answer *a,
		       struct bsdp_recent_request *ret);

#ifdef __cplusplus
}
#endif
#endif
