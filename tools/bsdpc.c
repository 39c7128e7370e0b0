/* SPDX-License-Identifier: MPL-2.0 */
/* bsdpc: Apple's BSDP client for Linux. Asks NetBoot servers for their image
 * lists (INFORM[LIST]), optionally selects one (INFORM[SELECT]), and prints
 * what came back for a person or, with --json, for a script. --discover
 * sends the DHCPDISCOVER of a Mac told to NetBoot and prints the OFFERs and
 * OFFER*s that come back. --decode prints a captured reply without touching
 * the network. See docs/bsdp.md and docs/offer.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hook/bsdp_codec.h"
#include "hook/catalogue.h"
#include "tools/lib/cli_util.h"
#include "tools/lib/dhcp_msg.h"
#include "tools/lib/kea_ctrl.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define MAX_SERVERS 32          /* answers kept per LIST */
#define MAX_DATAGRAMS 4096      /* datagrams examined per phase */
#define RECV_BUF_SIZE 65536
#define FILE_MAX 65536          /* largest --decode input */
#define DEFAULT_TIMEOUT_MS 2000
#define MAX_TIMEOUT_MS 3600000

struct options {
	const char *ifname;
	bool has_server;
	struct in_addr server;
	const char *arch;
	const char *model;
	bool has_mac;
	uint8_t mac[6];
	bool has_ciaddr;
	struct in_addr ciaddr;
	bool has_reply_port;
	uint16_t reply_port;
	uint16_t max_size;              /* 0 = not sent */
	uint8_t n_filters;
	uint16_t filters[BSDP_FILTERS_MAX];
	bool list;
	const char *select;             /* INDEX, ID or "default" */
	int timeout_ms;
	bool json;
	bool discover;
	const char *decode;
	const char *explain;            /* MAC for bsdp-explain, or NULL */
	const char *socket;             /* Kea's control socket */
	bool arch_given, model_given, no_filter;
};

#define DEFAULT_CONTROL_SOCKET "/run/kea/kea4-ctrl-socket"
#define EXPLAIN_ANSWER_MAX (4u << 20)   /* bytes of bsdp-explain's answer read at most */

/* One server's answer. bsdp.data points into msg.opt43, so a slot is parsed
 * in place and never moved. */
struct answer {
	struct dhcp_reply msg;
	struct bsdp_reply bsdp;
	struct in_addr from;
};

/* ---- output helpers ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s, or 0 when s starts an invalid
 * one. Names come from the network: we never trust them to be text. */
static size_t utf8_seq(const uint8_t *s, size_t left)
{
	uint8_t c = s[0];
	size_t n;
	uint8_t lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;   /* no UTF-16 surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (left < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* Prints bytes for a terminal: valid UTF-8 as is, control characters
 * (C0, DEL, C1) and invalid bytes as \xNN so a server cannot drive the
 * terminal. */
static void print_text(FILE *f, const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n = utf8_seq(s + i, len - i);
		bool c1 = n == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0;

		if (n == 0 || (n == 1 && (s[i] < 0x20 || s[i] == 0x7f))) {
			fprintf(f, "\\x%02x", s[i]);
			i++;
		} else if (c1) {
			fprintf(f, "\\x%02x\\x%02x", s[i], s[i + 1]);
			i += 2;
		} else {
			fwrite(s + i, 1, n, f);
			i += n;
		}
	}
}

/* Prints a JSON string literal; invalid UTF-8 becomes U+FFFD so the output
 * is always valid JSON. */
static void print_json_string(FILE *f, const uint8_t *s, size_t len)
{
	size_t i = 0;

	fputc('"', f);
	while (i < len) {
		size_t n = utf8_seq(s + i, len - i);

		if (n == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		if (n == 1) {
			uint8_t c = s[i];
			switch (c) {
			case '"': fputs("\\\"", f); break;
			case '\\': fputs("\\\\", f); break;
			case '\n': fputs("\\n", f); break;
			case '\r': fputs("\\r", f); break;
			case '\t': fputs("\\t", f); break;
			default:
				if (c < 0x20 || c == 0x7f)
					fprintf(f, "\\u%04x", c);
				else
					fputc(c, f);
			}
		} else {
			fwrite(s + i, 1, n, f);
		}
		i += n;
	}
	fputc('"', f);
}

static void print_json_cstr(FILE *f, const char *s)
{
	print_json_string(f, (const uint8_t *)s, strlen(s));
}

static const char *mac_str(const uint8_t *mac, char *buf, size_t size)
{
	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
	return buf;
}

static const char *kind_name(uint8_t kind)
{
	switch (kind) {
	case 0: return "Mac OS 9";
	case 1: return "Mac OS X";
	case 2: return "Mac OS X Server";
	case 3: return "Hardware Diagnostics";
	default: return NULL;
	}
}

static const char *bsdp_type_name(uint8_t type)
{
	switch (type) {
	case BSDP_MSGTYPE_LIST: return "LIST";
	case BSDP_MSGTYPE_SELECT: return "SELECT";
	case BSDP_MSGTYPE_FAILED: return "FAILED";
	default: return "unknown";
	}
}

static bool has(const struct bsdp_reply *b, uint8_t code)
{
	return (b->present & BSDP_HAS(code)) != 0;
}

/* ---- human output ------------------------------------------------------- */

static void print_packet_line(const struct dhcp_reply *m, size_t size)
{
	char ci[INET_ADDRSTRLEN], mac[18];

	printf("Packet: %zu bytes, xid 0x%08x, chaddr %s, ciaddr %s, option 43: %zu bytes in %zu instance%s\n",
	       size, m->xid, mac_str(m->chaddr, mac, sizeof(mac)),
	       cli_ip_str(m->ciaddr, ci, sizeof(ci)), m->opt43_len, m->opt43_instances,
	       m->opt43_instances == 1 ? "" : "s");
}

static void print_list_text(const struct answer *a)
{
	const struct bsdp_reply *b = &a->bsdp;
	struct bsdp_image_iter it;
	uint32_t id;
	const uint8_t *name;
	size_t name_len;
	char addr[INET_ADDRSTRLEN];

	printf("BSDP server %s", cli_ip_str(a->msg.server_id, addr, sizeof(addr)));
	if (has(b, BSDP_OPT_SERVER_PRIORITY))
		printf("  priority %u", b->priority);
	else
		printf("  priority (none)");
	if (has(b, BSDP_OPT_DEFAULT_BOOT_IMAGE))
		printf("  default 0x%08x", b->default_id);
	if (has(b, BSDP_OPT_SELECTED_BOOT_IMAGE))
		printf("  selected 0x%08x", b->selected_id);
	printf("  %zu image%s\n", b->n_images, b->n_images == 1 ? "" : "s");
	if (b->n_images == 0)
		return;
	printf("  %-10s  %5s  %-20s  %-7s  %s\n", "ID", "Index", "Kind", "Install", "Name");
	bsdp_image_iter_init(&it, b);
	while (bsdp_image_iter_next(&it, &id, &name, &name_len) == 1) {
		const char *kind = kind_name(BSDP_IMAGE_ID_KIND(id));
		char kbuf[16];

		if (!kind) {
			snprintf(kbuf, sizeof(kbuf), "kind %u", BSDP_IMAGE_ID_KIND(id));
			kind = kbuf;
		}
		printf("  0x%08x  %5u  %-20s  %-7s  ", id, BSDP_IMAGE_ID_INDEX(id), kind,
		       BSDP_IMAGE_ID_INSTALL(id) ? "yes" : "no");
		print_text(stdout, name, name_len);
		if (has(b, BSDP_OPT_DEFAULT_BOOT_IMAGE) && id == b->default_id)
			printf("  [default]");
		if (has(b, BSDP_OPT_SELECTED_BOOT_IMAGE) && id == b->selected_id)
			printf("  [selected]");
		putchar('\n');
	}
}

static void print_boot_text(const struct answer *a);

/* An OFFER*: a server that remembers this Mac's image names it in its
 * answer to a DHCPDISCOVER (no address: yiaddr 0). */
static void print_offer_star_text(const struct answer *a)
{
	char addr[INET_ADDRSTRLEN];

	printf("OFFER* from %s: boot the selected image (no address offered)\n",
	       cli_ip_str(a->msg.server_id, addr, sizeof(addr)));
	print_boot_text(a);
}

/* requested: the id we asked for, 0 when unknown (--decode). */
static void print_select_text(const struct answer *a, uint32_t requested)
{
	const struct bsdp_reply *b = &a->bsdp;
	char addr[INET_ADDRSTRLEN];

	printf("SELECT");
	if (requested)
		printf(" 0x%08x (index %u)", requested, BSDP_IMAGE_ID_INDEX(requested));
	printf(" on %s: ", cli_ip_str(a->msg.server_id, addr, sizeof(addr)));
	if (b->msg_type == BSDP_MSGTYPE_FAILED) {
		printf("FAILED (the server refused this image)\n");
		return;
	}
	printf("ACK[SELECT]\n");
	print_boot_text(a);
}

/* What an ACK[SELECT] or an OFFER* gives the Mac to boot. */
static void print_boot_text(const struct answer *a)
{
	const struct bsdp_reply *b = &a->bsdp;
	char addr[INET_ADDRSTRLEN];

	if (has(b, BSDP_OPT_SELECTED_BOOT_IMAGE))
		printf("  selected image  0x%08x (index %u)\n", b->selected_id,
		       BSDP_IMAGE_ID_INDEX(b->selected_id));
	else
		printf("  selected image  (not stated)\n");
	printf("  TFTP server     %s (siaddr)\n", cli_ip_str(a->msg.siaddr, addr, sizeof(addr)));
	printf("  boot file       ");
	if (a->msg.file_len)
		print_text(stdout, (const uint8_t *)a->msg.file, a->msg.file_len);
	else
		printf("(none)");
	printf("\n  root path       ");
	if (a->msg.has_root_path)
		print_text(stdout, a->msg.root_path, a->msg.root_path_len);
	else
		printf("(none)");
	printf("\n  machine name    ");
	if (b->machine_name)
		print_text(stdout, b->machine_name, b->machine_name_len);
	else
		printf("(none)");
	putchar('\n');
}

/* ---- JSON output -------------------------------------------------------- */

static void json_id_or_null(const struct bsdp_reply *b, uint8_t code, uint32_t id)
{
	if (has(b, code))
		printf("\"0x%08x\"", id);
	else
		printf("null");
}

static void print_list_json(const struct answer *a)
{
	const struct bsdp_reply *b = &a->bsdp;
	struct bsdp_image_iter it;
	uint32_t id;
	const uint8_t *name;
	size_t name_len;
	char addr[INET_ADDRSTRLEN];
	bool first = true;

	printf("{\"address\":\"%s\",\"priority\":", cli_ip_str(a->msg.server_id, addr, sizeof(addr)));
	if (has(b, BSDP_OPT_SERVER_PRIORITY))
		printf("%u", b->priority);
	else
		printf("null");
	printf(",\"default_id\":");
	json_id_or_null(b, BSDP_OPT_DEFAULT_BOOT_IMAGE, b->default_id);
	printf(",\"selected_id\":");
	json_id_or_null(b, BSDP_OPT_SELECTED_BOOT_IMAGE, b->selected_id);
	printf(",\"images\":[");
	bsdp_image_iter_init(&it, b);
	while (bsdp_image_iter_next(&it, &id, &name, &name_len) == 1) {
		const char *kind = kind_name(BSDP_IMAGE_ID_KIND(id));

		printf("%s{\"id\":\"0x%08x\",\"index\":%u,\"kind\":%u,\"kind_name\":", first ? "" : ",",
		       id, BSDP_IMAGE_ID_INDEX(id), BSDP_IMAGE_ID_KIND(id));
		if (kind)
			print_json_cstr(stdout, kind);
		else
			printf("null");
		printf(",\"install\":%s,\"name\":", BSDP_IMAGE_ID_INSTALL(id) ? "true" : "false");
		print_json_string(stdout, name, name_len);
		printf(",\"default\":%s,\"selected\":%s}",
		       has(b, BSDP_OPT_DEFAULT_BOOT_IMAGE) && id == b->default_id ? "true" : "false",
		       has(b, BSDP_OPT_SELECTED_BOOT_IMAGE) && id == b->selected_id ? "true" : "false");
		first = false;
	}
	printf("]}");
}

static void print_boot_json(const struct answer *a);

static void print_offer_star_json(const struct answer *a)
{
	char addr[INET_ADDRSTRLEN];

	printf("{\"server\":\"%s\"", cli_ip_str(a->msg.server_id, addr, sizeof(addr)));
	print_boot_json(a);
	printf("}");
}

/* result: "ack", "failed" or "no-answer"; a may be NULL for no-answer. */
static void print_select_json(const struct answer *a, uint32_t server, uint32_t requested)
{
	char addr[INET_ADDRSTRLEN];

	printf("{\"server\":\"%s\",\"requested_id\":", cli_ip_str(server, addr, sizeof(addr)));
	if (requested)
		printf("\"0x%08x\"", requested);
	else
		printf("null");
	if (!a) {
		printf(",\"result\":\"no-answer\"}");
		return;
	}
	if (a->bsdp.msg_type == BSDP_MSGTYPE_FAILED) {
		printf(",\"result\":\"failed\"}");
		return;
	}
	printf(",\"result\":\"ack\"");
	print_boot_json(a);
	printf("}");
}

/* The fields of print_boot_text, each after a comma. */
static void print_boot_json(const struct answer *a)
{
	char addr[INET_ADDRSTRLEN];

	printf(",\"selected_id\":");
	json_id_or_null(&a->bsdp, BSDP_OPT_SELECTED_BOOT_IMAGE, a->bsdp.selected_id);
	printf(",\"siaddr\":\"%s\",\"file\":", cli_ip_str(a->msg.siaddr, addr, sizeof(addr)));
	print_json_string(stdout, (const uint8_t *)a->msg.file, a->msg.file_len);
	printf(",\"root_path\":");
	if (a->msg.has_root_path)
		print_json_string(stdout, a->msg.root_path, a->msg.root_path_len);
	else
		printf("null");
	printf(",\"machine_name\":");
	if (a->bsdp.machine_name)
		print_json_string(stdout, a->bsdp.machine_name, a->bsdp.machine_name_len);
	else
		printf("null");
}

static bool is_offer_star(const struct answer *a)
{
	return a->msg.msg_type == DHCP_MSGTYPE_OFFER;
}

static void print_packet_json(const struct answer *a, size_t size)
{
	const struct dhcp_reply *m = &a->msg;
	char ci[INET_ADDRSTRLEN], si[INET_ADDRSTRLEN], mac[18];

	printf("\"packet\":{\"size\":%zu,\"xid\":\"0x%08x\",\"chaddr\":\"%s\",\"ciaddr\":\"%s\","
	       "\"siaddr\":\"%s\",\"bsdp_type\":\"%s\",\"opt43_len\":%zu,\"opt43_instances\":%zu}",
	       size, m->xid, mac_str(m->chaddr, mac, sizeof(mac)), cli_ip_str(m->ciaddr, ci, sizeof(ci)),
	       cli_ip_str(m->siaddr, si, sizeof(si)),
	       is_offer_star(a) ? "OFFER*" : bsdp_type_name(a->bsdp.msg_type), m->opt43_len,
	       m->opt43_instances);
}

/* ---- validation shared by the network and --decode ---------------------- */

/* Fills a->msg and a->bsdp from a datagram. Returns NULL when it is a BSDP
 * answer, else why not. */
static const char *accept_answer(struct answer *a, const uint8_t *pkt, size_t len)
{
	const char *why;

	if (dhcp_msg_parse(pkt, len, &a->msg) < 0)
		return "malformed DHCP message (truncated or bad options)";
	why = dhcp_msg_bsdp_problem(&a->msg);
	if (why)
		return why;
	if (bsdp_codec_parse_reply(a->msg.opt43, a->msg.opt43_len, &a->bsdp) < 0)
		return "malformed BSDP options (option 43)";
	/* An OFFER* (bootpd's answer to a bound Mac's DISCOVER) carries no
	 * message type: the image it names is the point. */
	if (a->msg.msg_type == DHCP_MSGTYPE_OFFER) {
		if (!has(&a->bsdp, BSDP_OPT_SELECTED_BOOT_IMAGE))
			return "an OFFER without a selected image (sub-option 8)";
		if (a->msg.yiaddr != 0)
			return "an OFFER* offers no address (yiaddr is not 0)";
		return NULL;
	}
	if (!has(&a->bsdp, BSDP_OPT_MESSAGE_TYPE))
		return "no BSDP message type";
	return NULL;
}

/* ---- --decode ------------------------------------------------------------ */

static int run_decode(const struct options *o)
{
	FILE *f = fopen(o->decode, "rb");
	uint8_t *buf;
	size_t len;
	struct answer *a;
	const char *why;
	int rc = EXIT_OK;

	if (!f) {
		fprintf(stderr, "bsdpc: %s: %s\n", o->decode, strerror(errno));
		return EXIT_USAGE;
	}
	buf = malloc(FILE_MAX + 1);
	a = calloc(1, sizeof(*a));
	if (!buf || !a) {
		fclose(f);
		free(buf);
		free(a);
		fprintf(stderr, "bsdpc: out of memory\n");
		return EXIT_FAIL;
	}
	len = fread(buf, 1, FILE_MAX + 1, f);
	if (ferror(f)) {
		fprintf(stderr, "bsdpc: %s: read error\n", o->decode);
		rc = EXIT_USAGE;
		goto out;
	}
	if (len > FILE_MAX) {
		fprintf(stderr, "bsdpc: %s: larger than %d bytes, not a DHCP message\n", o->decode,
			FILE_MAX);
		rc = EXIT_FAIL;
		goto out;
	}
	why = accept_answer(a, buf, len);
	if (why) {
		fprintf(stderr, "bsdpc: %s: not a BSDP reply: %s\n", o->decode, why);
		rc = EXIT_FAIL;
		goto out;
	}
	if (o->json) {
		printf("{");
		print_packet_json(a, len);
		if (is_offer_star(a)) {
			printf(",\"offer_star\":");
			print_offer_star_json(a);
		} else if (a->bsdp.msg_type == BSDP_MSGTYPE_LIST) {
			printf(",\"servers\":[");
			print_list_json(a);
			printf("]");
		} else {
			printf(",\"select\":");
			print_select_json(a, a->msg.server_id, 0);
		}
		printf("}\n");
	} else {
		print_packet_line(&a->msg, len);
		if (is_offer_star(a))
			print_offer_star_text(a);
		else if (a->bsdp.msg_type == BSDP_MSGTYPE_LIST)
			print_list_text(a);
		else
			print_select_text(a, 0);
	}
	if (!is_offer_star(a) && a->bsdp.msg_type == BSDP_MSGTYPE_FAILED)
		rc = EXIT_FAIL;
out:
	fclose(f);
	free(buf);
	free(a);
	return rc;
}

/* ---- network ----------------------------------------------------------- */

struct client {
	int fd;
	uint32_t ciaddr;                /* host order */
	uint8_t mac[6];
	char ifname[IF_NAMESIZE];       /* "" when unknown */
	struct sockaddr_in dest;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One interface ioctl on a throwaway socket: 0, or -errno. */
static int iface_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (fd < 0)
		return -errno;
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	ifr->ifr_addr.sa_family = AF_INET;
	if (ioctl(fd, req, ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* Ethernet address of an interface; -1 with a message when unusable. */
static int iface_mac(const char *ifname, uint8_t mac[6])
{
	struct ifreq ifr;
	int r = iface_ioctl(ifname, SIOCGIFHWADDR, &ifr);

	if (r < 0) {
		fprintf(stderr, "bsdpc: %s: no hardware address: %s\n", ifname, strerror(-r));
		return -1;
	}
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
		fprintf(stderr, "bsdpc: %s is not Ethernet; give --mac\n", ifname);
		return -1;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/* IPv4 address of an interface; -1 (with a message unless quiet) when it
 * has none. */
static int iface_addr(const char *ifname, uint32_t *ret, bool quiet)
{
	struct ifreq ifr;
	struct sockaddr_in sin;
	int r = iface_ioctl(ifname, SIOCGIFADDR, &ifr);

	if (r < 0) {
		if (!quiet)
			fprintf(stderr, "bsdpc: %s: no IPv4 address (%s); give --ciaddr\n",
				ifname, strerror(-r));
		return -1;
	}
	memcpy(&sin, &ifr.ifr_addr, sizeof(sin));
	*ret = ntohl(sin.sin_addr.s_addr);
	return 0;
}

/* Name of the interface holding a local address, for its MAC. */
static int iface_of_addr(uint32_t addr, char name[IF_NAMESIZE])
{
	struct ifaddrs *list, *i;
	int rc = -1;

	if (getifaddrs(&list) < 0)
		return -1;
	for (i = list; i; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)(void *)i->ifa_addr;

		if (!sin || sin->sin_family != AF_INET || ntohl(sin->sin_addr.s_addr) != addr)
			continue;
		snprintf(name, IF_NAMESIZE, "%s", i->ifa_name);
		rc = 0;
		break;
	}
	freeifaddrs(list);
	return rc;
}

/* Resolves ciaddr and MAC, opens and binds the socket. Returns EXIT_OK, or
 * an exit code after printing why. */
static int client_open(const struct options *o, struct client *c)
{
	uint16_t port = o->has_reply_port ? o->reply_port : DHCP_CLIENT_PORT;
	uint32_t local = 0;
	struct sockaddr_in sin;
	int one = 1;
	int rcvbuf = 1 << 20;
	int rc;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (o->ifname) {
		if (strlen(o->ifname) >= IF_NAMESIZE || if_nametoindex(o->ifname) == 0) {
			fprintf(stderr, "bsdpc: no such interface: %s\n", o->ifname);
			return EXIT_USAGE;
		}
		snprintf(c->ifname, sizeof(c->ifname), "%s", o->ifname);
		/* A Mac that DISCOVERs has no address yet; nor need we. */
		if (iface_addr(o->ifname, &local, o->has_ciaddr || o->discover) < 0 &&
		    !o->has_ciaddr && !o->discover)
			return EXIT_FAIL;
	} else {
		if (cli_route_source("bsdpc", o->server, &local) < 0)
			return EXIT_FAIL;
		if (!o->has_mac && iface_of_addr(local, c->ifname) < 0) {
			fprintf(stderr, "bsdpc: cannot tell which interface reaches %s; give -i or --mac\n",
				inet_ntoa(o->server));
			return EXIT_FAIL;
		}
	}
	/* 0 for --discover: bound to every address, it gets the broadcast OFFERs. */
	c->ciaddr = o->discover ? 0 : o->has_ciaddr ? ntohl(o->ciaddr.s_addr) : local;
	if (o->has_mac)
		memcpy(c->mac, o->mac, 6);
	else if (iface_mac(c->ifname, c->mac) < 0)
		return EXIT_FAIL;

	c->dest = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(DHCP_SERVER_PORT) };
	c->dest.sin_addr.s_addr = o->has_server ? o->server.s_addr : htonl(INADDR_BROADCAST);

	c->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		perror("bsdpc: socket");
		return EXIT_FAIL;
	}
	/* A DHCP client may already hold *:68; a socket bound to our own
	 * address still gets the unicast replies, which go to ciaddr. */
	(void)setsockopt(c->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (setsockopt(c->fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0) {
		perror("bsdpc: SO_BROADCAST");
		return EXIT_FAIL;
	}
	/* Without it a broadcast leaves by whatever interface the default
	 * route names, not the one asked for. */
	if (o->ifname && setsockopt(c->fd, SOL_SOCKET, SO_BINDTODEVICE, o->ifname,
				    (socklen_t)strlen(o->ifname)) < 0) {
		fprintf(stderr, "bsdpc: SO_BINDTODEVICE %s: %s\n", o->ifname, strerror(errno));
		return EXIT_FAIL;
	}
	sin = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = htonl(c->ciaddr);
	rc = bind(c->fd, (struct sockaddr *)&sin, sizeof(sin));
	if (rc < 0 && errno == EADDRNOTAVAIL) {
		/* --ciaddr not configured here: listen on every address. */
		sin.sin_addr.s_addr = htonl(INADDR_ANY);
		rc = bind(c->fd, (struct sockaddr *)&sin, sizeof(sin));
	}
	if (rc == 0)
		return EXIT_OK;
	fprintf(stderr, "bsdpc: cannot bind UDP port %u: %s%s\n", port, strerror(errno),
		errno == EADDRINUSE ? " (a DHCP client? try --reply-port below 1024)" : "");
	return EXIT_FAIL;
}

/* Sub-option 11 when --filter was given. */
static int put_filters(struct bsdp_writer *w, const struct options *o)
{
	uint8_t filters[2 * BSDP_FILTERS_MAX];

	if (!o->n_filters)
		return 0;
	for (size_t i = 0; i < o->n_filters; i++) {
		filters[2 * i] = (uint8_t)(o->filters[i] >> 8);
		filters[2 * i + 1] = (uint8_t)o->filters[i];
	}
	return bsdp_writer_put(w, BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST, filters,
			       2u * o->n_filters);
}

/* Builds INFORM[LIST] or INFORM[SELECT]; returns the length or -errno. */
static int build_request(const struct options *o, const struct client *c, uint32_t xid,
			 uint8_t type, uint32_t server_id, uint32_t image_id, uint8_t *pkt,
			 size_t size)
{
	uint8_t opt43[2 * (BSDP_BLOCK_MAX + 2)];
	struct bsdp_writer w;
	struct dhcp_inform in;
	int r;

	r = bsdp_writer_init(&w, opt43, sizeof(opt43), sizeof(opt43), BSDP_BLOCK_MAX);
	/* Firmware's order: message type, then version 1.1. */
	if (r == 0)
		r = bsdp_writer_put_u8(&w, BSDP_OPT_MESSAGE_TYPE, type);
	if (r == 0)
		r = bsdp_writer_put_u16(&w, BSDP_OPT_VERSION, BSDP_VERSION_1_1);
	if (r == 0 && type == BSDP_MSGTYPE_SELECT) {
		r = bsdp_writer_put_u32(&w, BSDP_OPT_SERVER_IDENTIFIER, server_id);
		if (r == 0)
			r = bsdp_writer_put_u32(&w, BSDP_OPT_SELECTED_BOOT_IMAGE, image_id);
	}
	if (r == 0 && o->has_reply_port)
		r = bsdp_writer_put_u16(&w, BSDP_OPT_REPLY_PORT, o->reply_port);
	/* Sub-options 11 and 12 only belong to LIST (bsdp.md §4). */
	if (r == 0 && type == BSDP_MSGTYPE_LIST && o->max_size)
		r = bsdp_writer_put_u16(&w, BSDP_OPT_MAX_MESSAGE_SIZE, o->max_size);
	if (r == 0 && type == BSDP_MSGTYPE_LIST)
		r = put_filters(&w, o);
	if (r < 0)
		return r;

	memset(&in, 0, sizeof(in));
	in.xid = xid;
	in.ciaddr = c->ciaddr;
	memcpy(in.chaddr, c->mac, 6);
	/* Option 57 must be at least 576 (RFC 2132); sub-option 12 carries
	 * any smaller value on its own. */
	in.max_size = o->max_size >= 576 ? o->max_size : 0;
	in.arch = o->arch;
	in.model = o->model;
	in.opt43 = opt43;
	in.opt43_len = bsdp_writer_finish(&w);
	return dhcp_msg_build_inform(&in, pkt, size);
}

static int send_request(const struct client *c, const uint8_t *pkt, size_t len)
{
	if (sendto(c->fd, pkt, len, 0, (const struct sockaddr *)&c->dest, sizeof(c->dest)) < 0) {
		fprintf(stderr, "bsdpc: send to %s: %s\n", inet_ntoa(c->dest.sin_addr),
			strerror(errno));
		return -1;
	}
	return 0;
}

/* Waits for answers to the request in pkt until the timeout. LIST keeps
 * one answer per server (up to max); SELECT stops at the first answer from
 * want_server. The request is sent again once at half time if nothing came,
 * as a lost datagram is likelier than a slow server. Returns the count, or
 * -1 on a socket error. */
static int collect(const struct client *c, int timeout_ms, uint32_t xid, uint8_t type,
		   uint32_t want_server, struct answer *slots, size_t max, uint8_t *rbuf,
		   const uint8_t *pkt, size_t pkt_len)
{
	int64_t start = now_ms();
	int64_t deadline = start + timeout_ms;
	int64_t resend_at = start + timeout_ms / 2;
	bool resent = false;
	size_t n = 0;

	if (send_request(c, pkt, pkt_len) < 0)
		return -1;
	for (int k = 0; k < MAX_DATAGRAMS && n < max; k++) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		int64_t t = now_ms();
		int64_t until = (n == 0 && !resent) ? resend_at : deadline;
		struct answer *a = &slots[n];
		const char *why;
		ssize_t got;
		int pr;

		if (t >= deadline)
			break;
		if (n == 0 && !resent && t >= resend_at) {
			resent = true;
			if (send_request(c, pkt, pkt_len) < 0)
				return -1;
			continue;
		}
		pr = poll(&pfd, 1, (int)(until - t));
		if (pr < 0 && errno != EINTR) {
			perror("bsdpc: poll");
			return -1;
		}
		if (pr <= 0)
			continue;
		got = recvfrom(c->fd, rbuf, RECV_BUF_SIZE, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (got < 0)
			continue;
		/* Other clients' traffic: skip silently before any parsing. */
		if (got < DHCP_MSG_OPTIONS_AT || rbuf[0] != DHCP_OP_REPLY ||
		    ((uint32_t)rbuf[4] << 24 | (uint32_t)rbuf[5] << 16 | (uint32_t)rbuf[6] << 8 |
		     rbuf[7]) != xid ||
		    rbuf[2] != 6 || memcmp(rbuf + 28, c->mac, 6) != 0)
			continue;
		why = accept_answer(a, rbuf, (size_t)got);
		if (!why && a->msg.ciaddr != c->ciaddr)
			why = "ciaddr is not ours";
		if (!why && type == BSDP_MSGTYPE_LIST && a->bsdp.msg_type != BSDP_MSGTYPE_LIST)
			why = "not an ACK[LIST]";
		if (!why && type == BSDP_MSGTYPE_SELECT && a->bsdp.msg_type != BSDP_MSGTYPE_SELECT &&
		    a->bsdp.msg_type != BSDP_MSGTYPE_FAILED)
			why = "not an ACK[SELECT] or ACK[FAILED]";
		if (why) {
			fprintf(stderr, "bsdpc: ignoring reply from %s: %s\n", inet_ntoa(from.sin_addr),
				why);
			continue;
		}
		a->from = from.sin_addr;
		if (type == BSDP_MSGTYPE_SELECT) {
			if (a->msg.server_id != want_server)
				continue;
			return 1;
		}
		bool dup = false;
		for (size_t i = 0; i < n && !dup; i++)
			dup = slots[i].msg.server_id == a->msg.server_id;
		if (!dup)
			n++;
	}
	return (int)n;
}

/* Parses --select: "default", an index (<= 0xffff) or a full image id. */
static int parse_select(const char *s, bool *ret_default, uint32_t *ret_value);

/* Picks the server and image for --select among the LIST answers: the
 * highest priority server offering the image (the first answer on a tie),
 * as the Mac prefers it. Returns the answer's slot or -1. */
static int choose(const struct options *o, const struct answer *ans, const size_t *order,
		  size_t n, uint32_t *ret_id)
{
	bool want_default = false;
	uint32_t want = 0;

	(void)parse_select(o->select, &want_default, &want);
	/* order[] is sorted by priority, best first. */
	for (size_t k = 0; k < n; k++) {
		const struct answer *a = &ans[order[k]];
		struct bsdp_image_iter it;
		uint32_t id;
		const uint8_t *name;
		size_t name_len;

		if (want_default) {
			if (has(&a->bsdp, BSDP_OPT_DEFAULT_BOOT_IMAGE)) {
				*ret_id = a->bsdp.default_id;
				return (int)order[k];
			}
			continue;
		}
		bsdp_image_iter_init(&it, &a->bsdp);
		while (bsdp_image_iter_next(&it, &id, &name, &name_len) == 1) {
			if (want > 0xffff ? id == want : BSDP_IMAGE_ID_INDEX(id) == want) {
				*ret_id = id;
				return (int)order[k];
			}
		}
	}
	return -1;
}

static unsigned priority_of(const struct answer *a)
{
	return has(&a->bsdp, BSDP_OPT_SERVER_PRIORITY) ? a->bsdp.priority : 0;
}

/* Answer order for display and choice: priority, best first; stable. */
static void sort_answers(const struct answer *ans, size_t *order, size_t n)
{
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	for (size_t i = 1; i < n; i++) {
		size_t v = order[i], j = i;
		while (j > 0 && priority_of(&ans[order[j - 1]]) < priority_of(&ans[v])) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = v;
	}
}

static void print_client(const struct options *o, const struct client *c, bool json)
{
	char ci[INET_ADDRSTRLEN], mac[18];

	cli_ip_str(c->ciaddr, ci, sizeof(ci));
	mac_str(c->mac, mac, sizeof(mac));
	if (json) {
		printf("\"client\":{\"interface\":");
		if (c->ifname[0])
			print_json_cstr(stdout, c->ifname);
		else
			printf("null");
		printf(",\"ciaddr\":\"%s\",\"mac\":\"%s\",\"arch\":", ci, mac);
		print_json_cstr(stdout, o->arch);
		printf(",\"model\":");
		print_json_cstr(stdout, o->model);
		printf("}");
		return;
	}
	printf("Client %s (%s)%s%s, AAPLBSDPC/", ci, mac, c->ifname[0] ? " on " : "", c->ifname);
	print_text(stdout, (const uint8_t *)o->arch, strlen(o->arch));
	putchar('/');
	print_text(stdout, (const uint8_t *)o->model, strlen(o->model));
	putchar('\n');
}

/* Opens the client (allocated: whether the caller's buffers exist) and
 * draws a transaction id. EXIT_OK, or an exit code after saying why. */
static int start_client(const struct options *o, struct client *c, bool allocated,
			uint32_t *ret_xid)
{
	int rc;

	c->fd = -1;
	if (!allocated) {
		fprintf(stderr, "bsdpc: out of memory\n");
		return EXIT_FAIL;
	}
	rc = client_open(o, c);
	if (rc != EXIT_OK)
		return rc;
	if (getrandom(ret_xid, sizeof(*ret_xid), 0) != sizeof(*ret_xid))
		*ret_xid = (uint32_t)now_ms() ^ (uint32_t)getpid();
	return EXIT_OK;
}

static int run_network(const struct options *o)
{
	struct client c;
	struct answer *ans = calloc(MAX_SERVERS + 1, sizeof(*ans));
	struct answer *sel = ans ? &ans[MAX_SERVERS] : NULL;
	uint8_t *rbuf = malloc(RECV_BUF_SIZE);
	uint8_t pkt[1500];
	size_t order[MAX_SERVERS];
	uint32_t xid = 0, chosen_id = 0;
	int n = 0, slot = -1, got_select = 0, len;
	int rc;

	rc = start_client(o, &c, ans && rbuf, &xid);
	if (rc != EXIT_OK)
		goto out;

	len = build_request(o, &c, xid, BSDP_MSGTYPE_LIST, 0, 0, pkt, sizeof(pkt));
	if (len < 0) {
		fprintf(stderr, "bsdpc: cannot build INFORM[LIST]: %s\n", strerror(-len));
		rc = EXIT_USAGE;
		goto out;
	}
	/* Asked by unicast, one server answers: its answer ends the wait. */
	n = collect(&c, o->timeout_ms, xid, BSDP_MSGTYPE_LIST, 0, ans, o->has_server ? 1 : MAX_SERVERS,
		    rbuf, pkt, (size_t)len);
	if (n < 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	sort_answers(ans, order, (size_t)n);

	if (o->select && n > 0) {
		slot = choose(o, ans, order, (size_t)n, &chosen_id);
		if (slot >= 0) {
			uint32_t server = ans[slot].msg.server_id;

			/* A fresh xid so late LIST answers cannot pass for this one. */
			xid++;
			len = build_request(o, &c, xid, BSDP_MSGTYPE_SELECT, server, chosen_id, pkt,
					    sizeof(pkt));
			if (len < 0) {
				fprintf(stderr, "bsdpc: cannot build INFORM[SELECT]: %s\n",
					strerror(-len));
				rc = EXIT_FAIL;
				goto out;
			}
			got_select = collect(&c, o->timeout_ms, xid, BSDP_MSGTYPE_SELECT, server, sel,
					     1, rbuf, pkt, (size_t)len);
			if (got_select < 0) {
				rc = EXIT_FAIL;
				goto out;
			}
		}
	}

	if (o->json) {
		printf("{");
		print_client(o, &c, true);
		printf(",\"servers\":[");
		for (int k = 0; k < n; k++) {
			if (k)
				putchar(',');
			print_list_json(&ans[order[k]]);
		}
		printf("]");
		if (o->select && slot >= 0) {
			printf(",\"select\":");
			print_select_json(got_select ? sel : NULL, ans[slot].msg.server_id, chosen_id);
		}
		printf("}\n");
	} else {
		print_client(o, &c, false);
		for (int k = 0; k < n; k++) {
			putchar('\n');
			print_list_text(&ans[order[k]]);
		}
		if (o->select && slot >= 0) {
			putchar('\n');
			if (got_select) {
				print_select_text(sel, chosen_id);
			} else {
				char addr[INET_ADDRSTRLEN];
				printf("SELECT 0x%08x (index %u) on %s: no answer\n", chosen_id,
				       BSDP_IMAGE_ID_INDEX(chosen_id),
				       cli_ip_str(ans[slot].msg.server_id, addr, sizeof(addr)));
			}
		}
	}
	fflush(stdout);

	if (n == 0) {
		fprintf(stderr, "bsdpc: no BSDP server answered within %d.%03d s\n",
			o->timeout_ms / 1000, o->timeout_ms % 1000);
		rc = EXIT_FAIL;
	} else if (o->select && slot < 0) {
		fprintf(stderr, "bsdpc: no server offers image %s\n", o->select);
		rc = EXIT_FAIL;
	} else if (o->select && !got_select) {
		fprintf(stderr, "bsdpc: the server did not answer the SELECT\n");
		rc = EXIT_FAIL;
	} else if (o->select && sel->bsdp.msg_type == BSDP_MSGTYPE_FAILED) {
		rc = EXIT_FAIL;
	} else {
		rc = EXIT_OK;
	}
out:
	if (c.fd >= 0)
		close(c.fd);
	free(ans);
	free(rbuf);
	return rc;
}

/* ---- --discover ---------------------------------------------------------- */

#define MAX_OFFERS 32

/* The DHCPDISCOVER Mac firmware sends once told to NetBoot (Startup Disk,
 * bless --netboot): option 57 1500 (an OFFER* must fit it), option 60
 * AAPLBSDPC/<arch>/<model>, option 43 with the BSDP version (and an
 * attribute filter when asked), no address yet. The broadcast flag makes
 * every answer a broadcast a plain socket receives. */
static int build_discover(const struct options *o, const struct client *c, uint32_t xid,
			  uint8_t *pkt, size_t size)
{
	uint8_t opt43[2 * (BSDP_BLOCK_MAX + 2)];
	struct bsdp_writer w;
	struct dhcp_inform in;
	int r = bsdp_writer_init(&w, opt43, sizeof(opt43), sizeof(opt43), BSDP_BLOCK_MAX);

	if (r == 0)
		r = bsdp_writer_put_u16(&w, BSDP_OPT_VERSION, BSDP_VERSION_1_1);
	if (r == 0)
		r = put_filters(&w, o);
	if (r < 0)
		return r;
	memset(&in, 0, sizeof(in));
	in.type = DHCP_MSGTYPE_DISCOVER;
	in.xid = xid;
	in.flags = 0x8000;
	in.max_size = 1500;
	memcpy(in.chaddr, c->mac, 6);
	in.arch = o->arch;
	in.model = o->model;
	in.opt43 = opt43;
	in.opt43_len = bsdp_writer_finish(&w);
	return dhcp_msg_build_inform(&in, pkt, size);
}

/* Sends the DISCOVER and prints every OFFER for it until the timeout: the
 * DHCP servers' OFFERs of an address, and the OFFER*s of BSDP servers that
 * hold a binding for this MAC. Exit 0 when an OFFER* came. */
static int run_discover(const struct options *o)
{
	struct client c;
	struct answer *got = calloc(MAX_OFFERS, sizeof(*got));
	uint8_t *rbuf = malloc(RECV_BUF_SIZE);
	uint8_t pkt[1500];
	uint32_t xid = 0;
	size_t n = 0, stars = 0;
	int len, rc;

	rc = start_client(o, &c, got && rbuf, &xid);
	if (rc != EXIT_OK)
		goto out;
	len = build_discover(o, &c, xid, pkt, sizeof(pkt));
	if (len < 0 || send_request(&c, pkt, (size_t)len) < 0) {
		rc = EXIT_FAIL;
		goto out;
	}
	int64_t deadline = now_ms() + o->timeout_ms;
	for (int k = 0; k < MAX_DATAGRAMS && n < MAX_OFFERS; k++) {
		struct pollfd pfd = { .fd = c.fd, .events = POLLIN };
		struct answer *a = &got[n];
		int64_t t = now_ms();
		ssize_t r;

		if (t >= deadline)
			break;
		if (poll(&pfd, 1, (int)(deadline - t)) <= 0)
			continue;
		r = recv(c.fd, rbuf, RECV_BUF_SIZE, MSG_DONTWAIT);
		if (r < DHCP_MSG_OPTIONS_AT || rbuf[0] != DHCP_OP_REPLY ||
		    ((uint32_t)rbuf[4] << 24 | (uint32_t)rbuf[5] << 16 | (uint32_t)rbuf[6] << 8 |
		     rbuf[7]) != xid ||
		    memcmp(rbuf + 28, c.mac, 6) != 0 || dhcp_msg_parse(rbuf, (size_t)r, &a->msg) < 0 ||
		    a->msg.msg_type != DHCP_MSGTYPE_OFFER)
			continue;
		/* An OFFER* when it is BSDP's; any other OFFER is a DHCP server's. */
		if (accept_answer(a, rbuf, (size_t)r) == NULL)
			stars++;
		else
			memset(&a->bsdp, 0, sizeof(a->bsdp));
		n++;
	}
	if (o->json) {
		printf("{");
		print_client(o, &c, true);
		printf(",\"offers\":[");
		for (size_t i = 0, first = 1; i < n; i++) {
			char yi[INET_ADDRSTRLEN], sid[INET_ADDRSTRLEN];
			if (got[i].bsdp.present)
				continue;
			printf("%s{\"server\":\"%s\",\"yiaddr\":\"%s\"}", first ? "" : ",",
			       cli_ip_str(got[i].msg.server_id, sid, sizeof(sid)),
			       cli_ip_str(got[i].msg.yiaddr, yi, sizeof(yi)));
			first = 0;
		}
		printf("],\"offer_stars\":[");
		for (size_t i = 0, first = 1; i < n; i++) {
			if (!got[i].bsdp.present)
				continue;
			printf("%s", first ? "" : ",");
			print_offer_star_json(&got[i]);
			first = 0;
		}
		printf("]}\n");
	} else {
		print_client(o, &c, false);
		for (size_t i = 0; i < n; i++) {
			char yi[INET_ADDRSTRLEN], sid[INET_ADDRSTRLEN];
			putchar('\n');
			if (got[i].bsdp.present)
				print_offer_star_text(&got[i]);
			else
				printf("OFFER from %s: address %s\n",
				       cli_ip_str(got[i].msg.server_id, sid, sizeof(sid)),
				       cli_ip_str(got[i].msg.yiaddr, yi, sizeof(yi)));
		}
	}
	fflush(stdout);
	if (stars == 0)
		fprintf(stderr, "bsdpc: no OFFER* within %d.%03d s: no server holds a binding for %s\n",
			o->timeout_ms / 1000, o->timeout_ms % 1000, o->has_mac ? "this MAC" : "this Mac");
	rc = stars ? EXIT_OK : EXIT_FAIL;
out:
	if (c.fd >= 0)
		close(c.fd);
	free(got);
	free(rbuf);
	return rc;
}

/* ---- arguments ---------------------------------------------------------- */

static int parse_select(const char *s, bool *ret_default, uint32_t *ret_value)
{
	unsigned long v;

	if (strcmp(s, "default") == 0) {
		*ret_default = true;
		return 0;
	}
	/* Index 0 is never sent (bsdp.md §5). */
	if (cli_parse_uint(s, 0xffffffffUL, &v) < 0 || v == 0)
		return -1;
	*ret_default = false;
	*ret_value = (uint32_t)v;
	return 0;
}

/* aa:bb:cc:dd:ee:ff or with '-', one or two hex digits per byte. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++) {
		int hi = bsdp_hex_digit(s[0]), lo;

		if (hi < 0)
			return -1;
		lo = bsdp_hex_digit(s[1]);
		if (lo >= 0) {
			mac[i] = (uint8_t)(hi << 4 | lo);
			s += 2;
		} else {
			mac[i] = (uint8_t)hi;
			s += 1;
		}
		if (i < 5) {
			if (*s != ':' && *s != '-')
				return -1;
			s++;
		}
	}
	return *s ? -1 : 0;
}

static int parse_filters(const char *s, struct options *o)
{
	/* 2 + 2N bytes must fit one option-43 instance of 255 bytes. */
	const size_t max = (BSDP_BLOCK_MAX - 2) / 2;
	char item[16];

	o->n_filters = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		unsigned long v;

		if (n == 0 || n >= sizeof(item) || o->n_filters >= max)
			return -1;
		memcpy(item, s, n);
		item[n] = 0;
		if (cli_parse_uint(item, 0xffff, &v) < 0)
			return -1;
		o->filters[o->n_filters++] = (uint16_t)v;
		s += n;
		if (*s == ',' && *++s == 0)
			return -1;
	}
	return o->n_filters ? 0 : -1;
}

static int parse_timeout(const char *s, int *ret_ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v * 1000 > MAX_TIMEOUT_MS)
		return -1;
	*ret_ms = (int)(v * 1000 + 0.5);
	if (*ret_ms < 1)
		*ret_ms = 1;
	return 0;
}

/* This machine's model when it is a Mac ("MacBookPro11,1" in DMI), so a
 * Mac running Linux asks as itself; else a common Intel model. */
static const char *default_model(char *buf, size_t size)
{
	FILE *f = fopen("/sys/class/dmi/id/product_name", "r");
	size_t n = 0, i = 0;

	if (f) {
		if (fgets(buf, (int)size, f))
			n = strcspn(buf, "\n");
		fclose(f);
	}
	buf[n] = 0;
	/* Letters, digits, comma, digits: Apple's model identifier shape. */
	while (i < n && ((buf[i] >= 'A' && buf[i] <= 'Z') || (buf[i] >= 'a' && buf[i] <= 'z')))
		i++;
	if (i == 0 || i == n || !strchr(buf + i, ',') || strspn(buf + i, "0123456789,") != n - i)
		return "MacBookPro11,1";
	return buf;
}

/* ---- --explain: ask the hook itself, over Kea's control socket ------- */

static int explain_request(const struct options *o, char *buf, size_t size)
{
	size_t n = 0;
	bool ok = true;
	int k = snprintf(buf, size, "{ \"command\": \"bsdp-explain\", \"arguments\": "
			 "{ \"hw-address\": ");
	if (k < 0 || (size_t)k >= size)
		return -1;
	n = (size_t)k;
	ok = kea_ctrl_json_string(buf, size, &n, o->explain);
	if (ok && o->model_given) {
		n += (size_t)snprintf(buf + n, size - n, ", \"model\": ");
		ok = kea_ctrl_json_string(buf, size, &n, o->model);
	}
	if (ok && o->arch_given) {
		n += (size_t)snprintf(buf + n, size - n, ", \"architecture\": ");
		ok = kea_ctrl_json_string(buf, size, &n, o->arch);
	}
	if (ok && o->no_filter)
		n += (size_t)snprintf(buf + n, size - n, ", \"attribute-filter\": null");
	for (size_t i = 0; ok && i < o->n_filters; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%u", i ? ", " : ", \"attribute-filter\": [ ",
				      o->filters[i]);
	if (ok && o->n_filters)
		n += (size_t)snprintf(buf + n, size - n, " ]");
	if (ok && o->max_size)
		n += (size_t)snprintf(buf + n, size - n, ", \"message-size\": %u", o->max_size);
	if (ok && n + 5 < size)
		n += (size_t)snprintf(buf + n, size - n, " } }");
	else
		ok = false;
	return ok ? 0 : -1;
}

static int run_explain(const struct options *o)
{
	char request[4096], err[256];
	const char *at;
	size_t len;
	int rc = EXIT_FAIL;

	if (explain_request(o, request, sizeof(request)) < 0) {
		fprintf(stderr, "bsdpc: the bsdp-explain request is too long\n");
		return EXIT_USAGE;
	}
	char *answer = malloc(EXPLAIN_ANSWER_MAX);
	char *text = malloc(EXPLAIN_ANSWER_MAX);
	if (!answer || !text) {
		fprintf(stderr, "bsdpc: out of memory\n");
		goto out;
	}
	if (kea_ctrl_call(o->socket, request, o->timeout_ms, answer, EXPLAIN_ANSWER_MAX, err,
			  sizeof(err)) < 0) {
		fprintf(stderr, "bsdpc: %s\n", err);
		goto out;
	}
	if (!kea_ctrl_member(answer, "result", &at, &len)) {
		fprintf(stderr, "bsdpc: the answer has no result: %.200s\n", answer);
		goto out;
	}
	bool ok = len == 1 && at[0] == '0';
	if (o->json)
		printf("%s\n", answer);
	if (!kea_ctrl_member(answer, "text", &at, &len) ||
	    !kea_ctrl_string(at, len, text, EXPLAIN_ANSWER_MAX))
		snprintf(text, EXPLAIN_ANSWER_MAX, "(no text)");
	if (!o->json && ok)
		printf("%s\n", text);
	else if (!ok)
		fprintf(stderr, "bsdpc: bsdp-explain: %s\n", text);
	rc = ok ? EXIT_OK : EXIT_FAIL;
out:
	free(answer);
	free(text);
	return rc;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bsdpc [-i IFACE] [--server ADDR] [--arch ARCH] [--model MODEL]\n"
		"             [--mac MAC] [--ciaddr ADDR] [--reply-port N] [--max-size N]\n"
		"             [--filter ATTR[,ATTR...]]\n"
		"             [--list | --select INDEX|ID|default | --discover]\n"
		"             [--timeout SEC] [--json]\n"
		"       bsdpc --decode FILE [--json]\n"
		"       bsdpc --explain MAC [--socket PATH] [--model MODEL] [--arch ARCH]\n"
		"             [--filter ATTR[,ATTR...] | --no-filter] [--max-size N] [--json]\n"
		"\n"
		"Asks NetBoot (BSDP) servers for their boot images, as a Mac does.\n"
		"Needs root: it binds UDP port 68 (the DHCP client port, or --reply-port) to\n"
		"receive the answers, and -i binds to the interface. --decode needs no privilege,\n"
		"--explain only access to Kea's control socket.\n"
		"  -i, --interface IFACE  broadcast on IFACE (its address and MAC by default)\n"
		"  -s, --server ADDR      ask this server only (unicast to ADDR:67; its first\n"
		"                         answer ends the wait)\n"
		"  -a, --arch ARCH        client architecture: i386 (default), ppc, arm\n"
		"  -m, --model MODEL      model identifier (default: this Mac's, else MacBookPro11,1)\n"
		"      --mac MAC          client hardware address\n"
		"      --ciaddr ADDR      client address (default: the interface's)\n"
		"      --reply-port N     receive replies on port N (sent as sub-option 5), default 68\n"
		"      --max-size N       maximum reply size (sub-option 12)\n"
		"      --filter LIST      image attributes to ask for, e.g. 0x8100,0x0100\n"
		"  -l, --list             list the images (default)\n"
		"      --select IMAGE     LIST, then SELECT IMAGE: an index (e.g. 1095), a full\n"
		"                         id (0x82000447) or 'default'\n"
		"      --discover         send the DHCPDISCOVER of a Mac told to NetBoot and print\n"
		"                         every OFFER and OFFER* (the image a server remembers)\n"
		"  -t, --timeout SEC      wait this long for answers (default 2)\n"
		"  -j, --json             print one JSON object\n"
		"  -d, --decode FILE      decode a captured reply or OFFER* (BOOTP header onward)\n"
		"  -e, --explain MAC      ask the hook (bsdp-explain, over Kea's control socket)\n"
		"                         why this Mac is or is not offered each image; without\n"
		"                         --model etc., what it last sent\n"
		"      --socket PATH      Kea's unix control socket (default\n"
		"                         " DEFAULT_CONTROL_SOCKET ")\n"
		"      --no-filter        with --explain: as if the Mac sent no attribute filter\n"
		"\n"
		"Exit status: 0 ok, 1 no answer (--discover: no OFFER*), FAILED, malformed\n"
		"packet or a command error, 2 usage.\n");
}

static int bad(const char *what, const char *value)
{
	fprintf(stderr, "bsdpc: invalid %s: '%s'\n", what, value);
	usage(stderr);
	return EXIT_USAGE;
}

enum {
	OPT_MAC = 256,
	OPT_CIADDR,
	OPT_REPLY_PORT,
	OPT_MAX_SIZE,
	OPT_FILTER,
	OPT_SELECT,
	OPT_SOCKET,
	OPT_NO_FILTER,
	OPT_DISCOVER,
};

/* Returns -1 when the options are fine, else the exit code. */
static int parse_args(int argc, char **argv, struct options *o, char *model_buf, size_t model_size)
{
	static const struct option longopts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "server", required_argument, NULL, 's' },
		{ "arch", required_argument, NULL, 'a' },
		{ "model", required_argument, NULL, 'm' },
		{ "mac", required_argument, NULL, OPT_MAC },
		{ "ciaddr", required_argument, NULL, OPT_CIADDR },
		{ "reply-port", required_argument, NULL, OPT_REPLY_PORT },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "filter", required_argument, NULL, OPT_FILTER },
		{ "list", no_argument, NULL, 'l' },
		{ "select", required_argument, NULL, OPT_SELECT },
		{ "discover", no_argument, NULL, OPT_DISCOVER },
		{ "timeout", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "decode", required_argument, NULL, 'd' },
		{ "explain", required_argument, NULL, 'e' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "no-filter", no_argument, NULL, OPT_NO_FILTER },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	bool dflt;
	uint32_t sel;
	int ch;

	memset(o, 0, sizeof(*o));
	o->arch = "i386";
	o->timeout_ms = DEFAULT_TIMEOUT_MS;
	o->socket = DEFAULT_CONTROL_SOCKET;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:s:a:m:lt:jd:e:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			o->ifname = optarg;
			break;
		case 's':
			if (inet_pton(AF_INET, optarg, &o->server) != 1)
				return bad("server address", optarg);
			o->has_server = true;
			break;
		case 'a':
			/* BOOTPD reads the arch up to the next '/'. */
			if (!optarg[0] || strchr(optarg, '/') || strlen(optarg) > BSDP_ARCH_MAX)
				return bad("arch", optarg);
			o->arch = optarg;
			o->arch_given = true;
			break;
		case 'm':
			/* A LF makes BOOTPD treat the class as not BSDP. */
			if (!optarg[0] || strlen(optarg) > BSDP_MODEL_MAX || strchr(optarg, '\n'))
				return bad("model", optarg);
			o->model = optarg;
			o->model_given = true;
			break;
		case OPT_MAC:
			if (parse_mac(optarg, o->mac) < 0)
				return bad("MAC address", optarg);
			o->has_mac = true;
			break;
		case OPT_CIADDR:
			if (inet_pton(AF_INET, optarg, &o->ciaddr) != 1 || o->ciaddr.s_addr == 0)
				return bad("client address", optarg);
			o->has_ciaddr = true;
			break;
		case OPT_REPLY_PORT:
			if (cli_parse_uint(optarg, 0xffff, &v) < 0 || v == 0)
				return bad("reply port", optarg);
			o->reply_port = (uint16_t)v;
			o->has_reply_port = true;
			break;
		case OPT_MAX_SIZE:
			if (cli_parse_uint(optarg, 0xffff, &v) < 0 || v == 0)
				return bad("maximum size", optarg);
			o->max_size = (uint16_t)v;
			break;
		case OPT_FILTER:
			if (parse_filters(optarg, o) < 0)
				return bad("attribute filter (up to 126 16-bit values, comma separated)",
					   optarg);
			break;
		case 'l':
			o->list = true;
			break;
		case OPT_SELECT:
			if (parse_select(optarg, &dflt, &sel) < 0)
				return bad("image (index, 0x id or 'default')", optarg);
			o->select = optarg;
			break;
		case OPT_DISCOVER:
			o->discover = true;
			break;
		case 't':
			if (parse_timeout(optarg, &o->timeout_ms) < 0)
				return bad("timeout (seconds, up to 3600)", optarg);
			break;
		case 'j':
			o->json = true;
			break;
		case 'd':
			o->decode = optarg;
			break;
		case 'e':
			if (parse_mac(optarg, o->mac) < 0)
				return bad("MAC address", optarg);
			o->explain = optarg;
			break;
		case OPT_SOCKET:
			if (!optarg[0])
				return bad("control socket", optarg);
			o->socket = optarg;
			break;
		case OPT_NO_FILTER:
			o->no_filter = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case ':':
			fprintf(stderr, "bsdpc: option needs a value: %s\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "bsdpc: unknown option: %s\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bsdpc: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o->list + !!o->select + o->discover > 1) {
		fprintf(stderr, "bsdpc: --list, --select and --discover exclude each other\n");
		return EXIT_USAGE;
	}
	if (o->discover && (o->has_ciaddr || o->has_reply_port || o->max_size)) {
		fprintf(stderr, "bsdpc: --discover asks as a Mac with no address yet: no --ciaddr, "
			"--reply-port or --max-size\n");
		return EXIT_USAGE;
	}
	if (o->explain) {
		if (o->decode || o->select || o->list || o->discover || o->ifname || o->has_server || o->has_mac ||
		    o->has_ciaddr || o->has_reply_port || (o->no_filter && o->n_filters)) {
			fprintf(stderr, "bsdpc: --explain asks Kea, not the network: it takes --socket, "
				"--model, --arch, --filter or --no-filter, --max-size, --timeout, --json\n");
			return EXIT_USAGE;
		}
		return -1;
	}
	if (o->no_filter) {
		fprintf(stderr, "bsdpc: --no-filter goes with --explain\n");
		return EXIT_USAGE;
	}
	if (o->decode) {
		if (o->select || o->list || o->discover || o->ifname || o->has_server) {
			fprintf(stderr, "bsdpc: --decode works offline; it takes only --json\n");
			return EXIT_USAGE;
		}
		return -1;
	}
	if (!o->ifname && !o->has_server) {
		fprintf(stderr, "bsdpc: give -i IFACE (broadcast) or --server ADDR (unicast)\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!o->model)
		o->model = default_model(model_buf, model_size);
	/* arch and model together must fit option 60 (255 bytes). */
	if (11 + strlen(o->arch) + strlen(o->model) > 255) {
		fprintf(stderr, "bsdpc: --arch and --model are too long for option 60\n");
		return EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct options o;
	char model[64];
	int rc = parse_args(argc, argv, &o, model, sizeof(model));

	if (rc >= 0)
		return rc;
	if (o.decode)
		return run_decode(&o);
	if (o.explain)
		return run_explain(&o);
	if (o.discover)
		return run_discover(&o);
	return run_network(&o);
}
