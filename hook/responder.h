/* SPDX-License-Identifier: MPL-2.0 */
/* The request -> reply decision (docs/bsdp.md §7, §8): reply, drop, or not
 * ours. The caller owns every buffer; nothing is allocated per request. */
#ifndef BSDP_RESPONDER_H
#define BSDP_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bindings.h"
#include "bsdp_codec.h"
#include "catalogue.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BSDP_FILE_MAX 127          /* BOOTP file field, NUL excluded */
#define BSDP_ROOT_PATH_MAX 255     /* one option 17 */
#define BSDP_URL_MAX 200
#define BSDP_MACHINE_NAME_MAX 63
#define BSDP_DEFAULT_PRIORITY 32768
#define BSDP_DEFAULT_MACHINE_NAME_FORMAT "NetBoot%03d"

struct bsdp_responder_config {
	uint32_t server_address;           /* host order; 0 = the receiving address */
	uint16_t priority;
	bool priority_from_load;           /* priority from the bindings held (Apple's rule) */
	const char *tftp_path_prefix;      /* NULL = "" */
	const char *http_url;              /* NULL = http://<server>/netboot */
	const char *nfs_url;               /* "nfs:<host>:<export>", NULL = none */
	const char *machine_name_format;   /* NULL = NetBoot%03d */
};

/* Validated copy of the configuration. */
struct bsdp_responder {
	uint32_t server_address;
	uint16_t priority;
	bool priority_from_load;
	char tftp_path_prefix[BSDP_FILE_MAX + 1];
	bool has_http_url;
	char http_scheme[16];            /* "http://" or "https://" */
	char http_host[BSDP_URL_MAX + 1];  /* host[:port] */
	char http_path[BSDP_URL_MAX + 1];  /* "" or "/path", no trailing '/' */
	bool has_nfs_url;
	char nfs_host[BSDP_URL_MAX + 1];
	char nfs_export[BSDP_URL_MAX + 1];
	char name_format[BSDP_MACHINE_NAME_MAX + 1];
};

/* Returns 0, or -EINVAL with a one-line message naming the parameter. */
int bsdp_responder_init(struct bsdp_responder *r, const struct bsdp_responder_config *cfg,
			char *err, size_t err_size);

/* A format with literal text, %% and exactly one %d (optionally with a
 * zero flag and width): 0, or -EINVAL with the reason in err. */
int bsdp_responder_check_name_format(const char *fmt, char *err, size_t err_size);
/* Formats a machine name; returns its length or -ENOBUFS. */
int bsdp_responder_format_name(const char *fmt, uint32_t number, char *out, size_t out_size);

/* What the shim knows of one DHCPINFORM. */
struct bsdp_query {
	const uint8_t *opt43;      /* exact bytes, instances fused; NULL when absent */
	size_t opt43_len;
	const char *opt60;
	size_t opt60_len;
	uint8_t mac[6];
	bool mac_valid;            /* htype 1, hlen 6 */
	uint32_t ciaddr;           /* host order */
	uint32_t local_address;    /* address the query came in on */
	int opt57;                 /* option 57, or -1 */
	size_t reply_overhead;     /* bytes of the reply other than option 43 */
	size_t link_max;           /* largest DHCP message the link carries unfragmented, 0 = unknown */
	int64_t now;
	uint32_t pinned_image;     /* host reservation's bsdp-image index, 0 = none */
	/* Asked for the pinned index only when answering a LIST and
	 * pinned_image is 0, so other requests cost no host lookup. May be NULL. */
	uint32_t (*pin_lookup)(void *ctx);
	void *pin_ctx;
	/* When not NULL and rules_size >= the catalogue's n_images, a LIST
	 * writes here, for each catalogue image in order, the enum bsdp_rule
	 * that kept it out of the reply (BSDP_RULE_OFFERED when listed). */
	uint8_t *rules;
	size_t rules_size;
	/* bsdp-explain: change nothing (no binding forgotten, no machine
	 * number reserved; a Mac without one gets machine number 0). */
	bool dry_run;
	/* bsdp_responder_offer only: the whole DHCP message as received. */
	const uint8_t *msg;
	size_t msg_len;
};

/* Where a LIST's selected image (sub-option 8) comes from. */
enum bsdp_selected_by {
	BSDP_SELECTED_NONE = 0,
	BSDP_SELECTED_PIN,       /* a host reservation's bsdp-image */
	BSDP_SELECTED_BINDING,   /* the image this MAC last SELECTed */
};

enum bsdp_verdict {
	BSDP_VERDICT_NOT_BSDP = 0,   /* not ours: leave the packet alone */
	BSDP_VERDICT_REPLY,
	BSDP_VERDICT_DROP,
};

enum bsdp_drop_reason {
	BSDP_DROP_NONE = 0,
	BSDP_DROP_MALFORMED,       /* option 43 or 60 broken */
	BSDP_DROP_INCOMPLETE,      /* no message type or version */
	BSDP_DROP_NO_CIADDR,
	BSDP_DROP_REPLY_PORT,      /* reply port >= 1024 */
	BSDP_DROP_NO_SERVER_ID,    /* SELECT without sub-option 3 */
	BSDP_DROP_OTHER_SERVER,
	BSDP_DROP_NO_IMAGE,        /* LIST with nothing applicable */
	BSDP_DROP_MESSAGE_TYPE,    /* neither LIST nor SELECT */
	BSDP_DROP_NO_ROOM,         /* the reply cannot fit the client's size */
	BSDP_DROP_REASONS
};

struct bsdp_answer {
	enum bsdp_verdict verdict;
	enum bsdp_drop_reason drop;
	uint8_t sent;                     /* enum bsdp_msgtype of the reply */
	const char *why;                  /* static text for a drop or FAILED */
	struct bsdp_request req;
	struct bsdp_vendor_class vc;
	size_t opt43_len;                 /* option-43 TLVs written to the buffer */
	uint32_t server_id;               /* option 54 and sub-option 3 */
	uint16_t reply_port;              /* 0 = the usual 68 */
	size_t budget;                    /* bytes option 43 may take in the reply */
	/* LIST */
	uint32_t default_id;
	uint32_t selected_id;             /* LIST: bound or pinned; SELECT: chosen */
	uint32_t pinned_image;            /* LIST: the pinned index asked for, 0 = none */
	uint8_t default_why;              /* LIST: enum bsdp_default_why */
	uint8_t selected_by;              /* LIST: enum bsdp_selected_by */
	uint8_t pin_rule;                 /* LIST: why the pin was not followed (enum bsdp_rule) */
	uint32_t bound_id;                /* LIST: the MAC's binding, 0 = none */
	uint8_t bound_rule;               /* LIST: why the binding was not followed */
	const struct bsdp_image *image;   /* SELECT: the image chosen (in the catalogue) */
	size_t images_visible;
	size_t images_listed;
	bool truncated;
	/* SELECT */
	uint32_t siaddr;
	char file[BSDP_FILE_MAX + 1];
	char root_path[BSDP_ROOT_PATH_MAX + 1];
	char machine_name[BSDP_MACHINE_NAME_MAX + 1];
	uint32_t machine_number;
	bool record;                      /* SELECT, OFFER*: a binding to record once sent */
	/* OFFER* */
	bool offer;                       /* the reply is an OFFER* (sent is NONE) */
	size_t message_len;               /* the whole DHCP message written */
};

/* Decides on one query. opt43_out receives the reply's option-43 TLVs
 * (instances of at most block_size payload bytes). bindings may be NULL.
 * Returns 0 (see ret->verdict) or -EINVAL on bad arguments. */
int bsdp_responder_answer(const struct bsdp_responder *r, const struct bsdp_catalogue *c,
			  struct bsdp_bindings *bindings, const struct bsdp_query *q,
			  uint8_t *opt43_out, size_t opt43_size, size_t block_size,
			  struct bsdp_answer *ret);

/* The subsequent boot (docs/offer.md): a DHCPDISCOVER from a BSDP client
 * (q->msg: option 60 "AAPLBSDPC/<arch>/<model>", option 43 with the BSDP
 * version) whose MAC is pinned or bound to an image it may still boot gets
 * an OFFER*, written whole into out (BSDP_OFFER_MAX bytes suffice):
 * verdict REPLY with offer set. The pin wins over the binding, as in LIST;
 * the filters are LIST's (model, MAC lists, attribute filter, FilterOnly,
 * IsEnabled); the DISCOVER's BSDP version is 1.1, 1.0 or 0.0, without
 * NetBoot 1.0 firmware's sub-option 10, and the OFFER* fits the DISCOVER's
 * option 57 (548 without it). Anything else that is BSDP: verdict DROP with why (the
 * DISCOVER itself is Kea's: only no OFFER* is sent). Not a BSDP DISCOVER:
 * NOT_BSDP. Returns 0, or -EINVAL on bad arguments. */
int bsdp_responder_offer(const struct bsdp_responder *r, const struct bsdp_catalogue *c,
			 struct bsdp_bindings *bindings, const struct bsdp_query *q,
			 uint8_t *out, size_t out_size, struct bsdp_answer *ret);

/* Records the binding of an ACK[SELECT] or an OFFER* (the image it names,
 * now: the Mac boots it), a no-op for any other answer.
 * The caller calls it only once the reply is on its way: a reply dropped
 * after bsdp_responder_answer, for whatever reason, leaves no binding. */
void bsdp_responder_commit(struct bsdp_bindings *bindings, const struct bsdp_query *q,
			   const struct bsdp_answer *a);

const char *bsdp_drop_reason_name(enum bsdp_drop_reason reason);

/* iPXE announces itself with user class (option 77) "iPXE", raw as iPXE
 * sends it or RFC 3004 length-prefixed, or with its option 175. */
bool bsdp_responder_is_ipxe(const uint8_t *opt77, size_t opt77_len, bool has_opt175);

/* The iPXE stage: the ChainURL of the image this MAC SELECTed less than
 * window seconds ago, or NULL. The string lives as long as the catalogue. */
const char *bsdp_responder_chain_url(const struct bsdp_catalogue *c, struct bsdp_bindings *bindings,
				     const uint8_t mac[6], int64_t now, int64_t window);

#ifdef __cplusplus
}
#endif
#endif
