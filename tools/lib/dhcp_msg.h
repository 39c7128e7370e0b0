/* SPDX-License-Identifier: MPL-2.0 */
/* DHCP messages for BSDP tools: build a DHCPINFORM, parse a reply.
 * No sockets here so the same code serves bsdpc (client mode) and the load
 * generator (relay mode: giaddr set, sent from port 67). Option overload
 * (option 52, sname/file as options) is not supported. */
#ifndef DHCP_MSG_H
#define DHCP_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

#define DHCP_MSG_HEADER_LEN 236   /* fixed BOOTP header, up to `file` included */
#define DHCP_MSG_OPTIONS_AT 240   /* header + magic cookie */
#define DHCP_MSG_BOOTP_MIN 300    /* BOOTP minimum; requests are padded to it */
#define DHCP_MSG_OPT43_MAX 8192   /* BOOTPD never sends more than 8192 bytes */
#define DHCP_MSG_STR_MAX 1023     /* option 60 / 17 after RFC 3396 joining */

enum {
	DHCP_OP_REQUEST = 1,
	DHCP_OP_REPLY = 2,
};

enum {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_ROOT_PATH = 17,
	DHCP_OPT_VENDOR_SPECIFIC = 43,
	DHCP_OPT_MESSAGE_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAMETER_LIST = 55,
	DHCP_OPT_MAX_MESSAGE_SIZE = 57,
	DHCP_OPT_VENDOR_CLASS = 60,
	DHCP_OPT_END = 255,
};

enum {
	DHCP_MSGTYPE_DISCOVER = 1,
	DHCP_MSGTYPE_OFFER = 2,
	DHCP_MSGTYPE_ACK = 5,
	DHCP_MSGTYPE_INFORM = 8,
};

/* What goes into one DHCPINFORM (or, with type, another request such as
 * the DISCOVER of a Mac told to NetBoot). Addresses in host byte order. */
struct dhcp_inform {
	uint8_t type;              /* option 53; 0 = DHCPINFORM */
	uint32_t xid;
	uint16_t secs;
	uint16_t flags;
	uint8_t hops;              /* 1 when acting as a relay */
	uint32_t ciaddr;           /* BOOTPD drops an INFORM with ciaddr 0 */
	uint32_t giaddr;           /* 0 = not relayed */
	uint8_t chaddr[6];         /* htype 1, hlen 6 */
	/* Option 55. params == NULL sends dhcp_msg_default_params; otherwise
	 * exactly n_params codes (0 = option omitted). */
	const uint8_t *params;
	size_t n_params;
	uint16_t max_size;         /* option 57; 0 = omitted */
	/* Option 60: vendor_class verbatim when not NULL (tests of odd classes),
	 * else "AAPLBSDPC/<arch>/<model>". */
	const char *vendor_class;
	const char *arch;
	const char *model;
	/* Whole option-43 TLVs (43, length, payload)... as bsdp_writer_finish
	 * leaves them; copied verbatim. NULL/0 = no option 43. */
	const uint8_t *opt43;
	size_t opt43_len;
};

/* 1 (subnet mask), 3 (router), 17 (root path), 43, 60: what a NetBoot
 * client needs back. */
extern const uint8_t dhcp_msg_default_params[5];

/* Writes the INFORM into buf, zero-padded to DHCP_MSG_BOOTP_MIN bytes.
 * Returns its length, -ENOBUFS (buf untouched) when it does not fit, or
 * -EINVAL for an option that cannot be encoded (option 60 over 255 bytes,
 * empty arch or one with '/', opt43 not made of whole option-43 TLVs,
 * more than 255 parameters). */
int dhcp_msg_build_inform(const struct dhcp_inform *in, uint8_t *buf, size_t buf_size);

/* A parsed DHCP message (normally a server's reply). Addresses in host
 * byte order. `opts` points into the parsed input; everything else is a
 * copy, so the struct outlives the input except for `opts`. */
struct dhcp_reply {
	uint8_t op;
	uint8_t htype;
	uint8_t hlen;              /* <= 16 */
	uint8_t hops;
	uint32_t xid;
	uint16_t secs;
	uint16_t flags;
	uint32_t ciaddr;
	uint32_t yiaddr;
	uint32_t siaddr;
	uint32_t giaddr;
	uint8_t chaddr[16];
	char sname[65];            /* cut at the first NUL, always terminated */
	char file[129];
	size_t file_len;
	const uint8_t *opts;       /* options after the magic cookie (input) */
	size_t opts_len;
	int msg_type;              /* option 53, -1 when absent */
	bool has_server_id;
	uint32_t server_id;        /* option 54 */
	bool has_vendor_class;
	uint8_t vendor_class[DHCP_MSG_STR_MAX + 1]; /* option 60 bytes, NUL added */
	size_t vendor_class_len;
	bool has_root_path;
	uint8_t root_path[DHCP_MSG_STR_MAX + 1];    /* option 17 bytes, NUL added */
	size_t root_path_len;
	uint8_t opt43[DHCP_MSG_OPT43_MAX];          /* every instance, joined */
	size_t opt43_len;
	size_t opt43_instances;    /* 0 = option 43 absent */
};

/* Parses msg with bounded reads. Returns 0, or -EBADMSG when it is shorter
 * than header + cookie, the cookie is wrong, hlen > 16, the options are
 * malformed, option 53 is not 1 byte or 54 not 4 bytes, or option 17/43/60
 * is larger than its buffer above. *ret is written only on success. The op
 * is reported, not checked, so requests parse too. */
int dhcp_msg_parse(const uint8_t *msg, size_t len, struct dhcp_reply *ret);

/* NULL when the message is what Apple's client accepts as a BSDP answer
 * (op 2, DHCPACK or, an OFFER*, DHCPOFFER, option 54, option 60 exactly
 * "AAPLBSDPC", option 43);
 * otherwise a short static reason. xid/chaddr are the caller's to compare. */
const char *dhcp_msg_bsdp_problem(const struct dhcp_reply *r);

#ifdef __cplusplus
}
#endif
#endif
