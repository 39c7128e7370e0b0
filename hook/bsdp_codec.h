/* SPDX-License-Identifier: MPL-2.0 */
/* BSDP wire codec: option 43 / option 60 bytes <-> plain structs.
 * Pure C11, no allocation, no globals, no logging. See docs/bsdp.md §3-§6. */
#ifndef BSDP_CODEC_H
#define BSDP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sub-option codes, Apple's names (bootplib/bsdp.h). */
enum {
	BSDP_OPT_PAD = 0,
	BSDP_OPT_MESSAGE_TYPE = 1,
	BSDP_OPT_VERSION = 2,
	BSDP_OPT_SERVER_IDENTIFIER = 3,
	BSDP_OPT_SERVER_PRIORITY = 4,
	BSDP_OPT_REPLY_PORT = 5,
	BSDP_OPT_BOOT_IMAGE_LIST_PATH = 6,
	BSDP_OPT_DEFAULT_BOOT_IMAGE = 7,
	BSDP_OPT_SELECTED_BOOT_IMAGE = 8,
	BSDP_OPT_BOOT_IMAGE_LIST = 9,
	BSDP_OPT_NETBOOT_1_0_FIRMWARE = 10,
	BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST = 11,
	BSDP_OPT_MAX_MESSAGE_SIZE = 12,
	BSDP_OPT_SHADOW_MOUNT_PATH = 128,
	BSDP_OPT_SHADOW_FILE_PATH = 129,
	BSDP_OPT_MACHINE_NAME = 130,
	BSDP_OPT_END = 255,
};

enum bsdp_msgtype {
	BSDP_MSGTYPE_NONE = 0,
	BSDP_MSGTYPE_LIST = 1,
	BSDP_MSGTYPE_SELECT = 2,
	BSDP_MSGTYPE_FAILED = 3,
};

#define BSDP_VERSION_1_0 0x0100u
#define BSDP_VERSION_1_1 0x0101u
#define BSDP_VERSION_0_0 0x0000u

/* boot_image_id layout (§5). */
#define BSDP_IMAGE_ID(install, kind, index) \
	((((uint32_t)((install) ? 0x80u : 0u) | ((uint32_t)(kind) & 0x7fu)) << 24) | \
	 ((uint32_t)(index) & 0xffffu))
#define BSDP_IMAGE_ID_INDEX(id) ((uint16_t)((id) & 0xffffu))
#define BSDP_IMAGE_ID_KIND(id) ((uint8_t)(((id) >> 24) & 0x7fu))
#define BSDP_IMAGE_ID_INSTALL(id) ((((id) >> 24) & 0x80u) != 0)
#define BSDP_IMAGE_ID_ATTRIBUTES(id) ((uint16_t)((id) >> 16))

#define BSDP_NAME_MAX 246        /* 255 - 2 - 2 - 5, as BOOTPD */
#define BSDP_BLOCK_MAX 255       /* payload of one option-43 instance */
#define BSDP_FILTERS_MAX 127     /* 2*N <= 255 */
#define BSDP_ARCH_MAX 31
#define BSDP_MODEL_MAX 255
#define BSDP_VENDOR_CLASS_PREFIX "AAPLBSDPC"

/* Bits of bsdp_request.present, one per sub-option seen. */
#define BSDP_HAS(code) (1u << (code))

/* A client request, parsed from option 43's exact bytes. */
struct bsdp_request {
	uint32_t present;          /* BSDP_HAS(code) for codes 1..12 */
	uint8_t msg_type;          /* enum bsdp_msgtype, or another value as sent */
	uint16_t version;
	uint32_t server_id;        /* host byte order */
	uint16_t reply_port;
	uint32_t selected_image;
	uint16_t max_message_size;
	uint8_t n_filters;
	uint16_t filters[BSDP_FILTERS_MAX];
};

/* Option 60 `AAPLBSDPC/<arch>/<model>`, split as BOOTPD does. */
struct bsdp_vendor_class {
	char arch[BSDP_ARCH_MAX + 1];
	char model[BSDP_MODEL_MAX + 1];
	size_t arch_len;
	size_t model_len;
};

/* Parses option 43 (all instances, fused) by code with a bounded cursor.
 * Returns 0, or -EBADMSG when a TLV overruns the data or a known sub-option
 * has a length its rule forbids. *ret is written only on success. */
int bsdp_codec_parse_request(const uint8_t *data, size_t len, struct bsdp_request *ret);

/* Returns 0, or -EPROTO when the string is not a BSDP client class
 * (wrong prefix, empty arch, NUL or LF), -ERANGE when a part is too long. */
int bsdp_codec_parse_vendor_class(const char *data, size_t len, struct bsdp_vendor_class *ret);

/* Largest reply (DHCP message, IP/UDP headers excluded) the client accepts,
 * as BOOTPD computes it: sub-option 12, else option 57 (opt57 <= 0 when
 * absent), at least 548, at most 8192, minus 28. */
size_t bsdp_codec_max_reply_size(const struct bsdp_request *req, int opt57);

/* Cuts a UTF-8 name to at most max bytes, never inside a character. */
size_t bsdp_codec_utf8_cut(const char *name, size_t len, size_t max);

/* Writer of option-43 instances, each emitted as a whole TLV
 * (43, length, payload) into a caller-owned buffer. Every instance holds
 * whole sub-options; the image list continues in a new sub-option 9 in the
 * next instance. */
struct bsdp_writer {
	uint8_t *buf;
	size_t cap;          /* min(buffer size, budget) */
	size_t len;          /* bytes written, closed instances and the open one */
	size_t block_size;   /* max payload of one instance, 2..255 */
	size_t block_at;     /* offset of the open instance's header, or SIZE_MAX */
	size_t list_at;      /* offset of the open sub-option 9 header, or SIZE_MAX */
	size_t images;       /* descriptions written */
};

/* Returns 0, or -EINVAL for a block size outside 8..255. */
int bsdp_writer_init(struct bsdp_writer *w, uint8_t *buf, size_t buf_size, size_t budget,
		     size_t block_size);
/* Appends one whole sub-option. -ENOBUFS (writer unchanged) when it does not fit,
 * -EINVAL when it cannot fit any block. */
int bsdp_writer_put(struct bsdp_writer *w, uint8_t code, const void *value, size_t len);
int bsdp_writer_put_u8(struct bsdp_writer *w, uint8_t code, uint8_t v);
int bsdp_writer_put_u16(struct bsdp_writer *w, uint8_t code, uint16_t v);
int bsdp_writer_put_u32(struct bsdp_writer *w, uint8_t code, uint32_t v);
/* Appends one image description to the list; the name is cut to
 * BSDP_NAME_MAX bytes on a character boundary. -ENOBUFS (writer unchanged)
 * when the budget is exhausted. */
int bsdp_writer_put_image(struct bsdp_writer *w, uint32_t id, const char *name, size_t name_len);
/* Closes the open instance; returns the total length written. */
size_t bsdp_writer_finish(struct bsdp_writer *w);

/* ACK[LIST] as BOOTPD orders it: 1, 4, 7, [8], then 9... */
struct bsdp_list_head {
	uint16_t priority;
	uint32_t default_id;
	uint32_t selected_id;   /* 0 = none */
};
int bsdp_codec_begin_list(struct bsdp_writer *w, const struct bsdp_list_head *head);
/* ACK[SELECT]: 1, 8, [130]. machine_name may be NULL. */
int bsdp_codec_build_select(struct bsdp_writer *w, uint32_t selected_id, const char *machine_name,
			    size_t machine_name_len);
/* ACK[FAILED]: exactly 01 01 03. */
int bsdp_codec_build_failed(struct bsdp_writer *w);

/* A server reply, decoded (bsdpc, tests). Strings point into the input. */
struct bsdp_reply {
	uint32_t present;
	uint8_t msg_type;
	uint32_t server_id;
	uint16_t priority;
	uint32_t default_id;
	uint32_t selected_id;
	const uint8_t *machine_name;
	size_t machine_name_len;
	size_t n_images;       /* descriptions across every sub-option 9 */
	const uint8_t *data;   /* the option-43 bytes, for the image iterator */
	size_t len;
};

/* Decodes a reply's option 43 (instances concatenated). -EBADMSG when any
 * TLV or image description is malformed. */
int bsdp_codec_parse_reply(const uint8_t *data, size_t len, struct bsdp_reply *ret);

struct bsdp_image_iter {
	const uint8_t *data;
	size_t len;
	size_t at;          /* cursor in data */
	size_t list_left;   /* bytes left in the current sub-option 9 */
};
void bsdp_image_iter_init(struct bsdp_image_iter *it, const struct bsdp_reply *reply);
/* Returns 1 with the next description, 0 at the end. The reply must have
 * been validated by bsdp_codec_parse_reply. */
int bsdp_image_iter_next(struct bsdp_image_iter *it, uint32_t *ret_id, const uint8_t **ret_name,
			 size_t *ret_name_len);

/* Walks the options of a DHCP message's option area (after the magic
 * cookie) and copies the payloads of every instance of `code` end to end
 * into out (RFC 3396 order). Returns the byte count, -ENOENT when absent,
 * -EBADMSG when malformed, -ENOBUFS when out is too small. Sets
 * *ret_instances to the number of instances when not NULL. */
int bsdp_codec_dhcp_option(const uint8_t *opts, size_t len, uint8_t code, uint8_t *out,
			   size_t out_size, size_t *ret_instances);

/* Whether a whole DHCP message, as received, is a BSDP request: a
 * BOOTREQUEST with the magic cookie whose option area (well formed up to
 * the options that decide) holds DHCPINFORM in option 53 and an option 60
 * starting with "AAPLBSDPC/". The first instance of each counts; overloaded
 * file and sname fields are not searched. It lets the shim recognise BSDP
 * before Kea parses anything, reading nothing past len. */
bool bsdp_codec_is_bsdp_inform(const uint8_t *msg, size_t len);

/* The same test for any message type: option 53's value (1 DISCOVER,
 * 8 INFORM...) when the message is a BOOTREQUEST whose option 60 starts with
 * "AAPLBSDPC/", else 0. */
int bsdp_codec_bsdp_dhcp_type(const uint8_t *msg, size_t len);

#define BSDP_DHCP_DISCOVER 1
#define BSDP_DHCP_OFFER 2
#define BSDP_DHCP_INFORM 8
#define BSDP_DHCP_HEADER_LEN 236   /* the BOOTP header, up to the magic cookie */
#define BSDP_DHCP_OPTIONS_AT 240   /* the first option, after the cookie */
#define BSDP_BOOTP_MIN 300         /* BOOTPD pads shorter replies to this */

/* OFFER*: the answer Apple's server (bootpd's bsdpd.c, DISCOVER case)
 * gives a DHCPDISCOVER from a client it holds a binding for. */
struct bsdp_offer {
	uint32_t server_id;          /* option 54, host order */
	uint32_t siaddr;             /* host order */
	const char *file;            /* the booter path, at most 127 bytes */
	const char *root_path;       /* option 17; NULL or "" = none */
	uint32_t selected_id;        /* sub-option 8 */
	const char *machine_name;    /* sub-option 130; NULL = none */
	size_t machine_name_len;
};
/* Largest OFFER* bsdp_codec_build_offer writes: header, cookie, 53, 54, 60,
 * a full option 17, option 43 with 8 and a 255-byte 130, END. */
#define BSDP_OFFER_MAX (BSDP_DHCP_OPTIONS_AT + 3 + 6 + 11 + 257 + 2 + 255 + 1)
/* Largest OFFER* sent: BOOTPD's, one Ethernet frame (1500) less IP and UDP. */
#define BSDP_OFFER_FRAME_MAX (1500 - 28)
/* Writes the whole OFFER* answering request (the DISCOVER as received, at
 * least its header) into out, in BOOTPD's layout: op 2, the request's
 * htype, hlen, xid, flags, giaddr and chaddr, hops, secs, ciaddr and yiaddr
 * 0, siaddr, sname empty, file; options 53 (OFFER), 54, 60 "AAPLBSDPC",
 * [17], 43 { 8, [130] }, END; padded with zeros to 300 bytes. Returns the
 * length, -EBADMSG for a request shorter than the header, -EINVAL for a
 * field longer than its room, -ENOBUFS (out unchanged past out_size) when
 * out is too small. */
int bsdp_codec_build_offer(const uint8_t *request, size_t request_len, const struct bsdp_offer *o,
			   uint8_t *out, size_t out_size);

#ifdef __cplusplus
}
#endif
#endif
