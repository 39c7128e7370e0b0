/* SPDX-License-Identifier: MPL-2.0 */
/* bsdp-load: a BSDP load generator. It plays a relay agent (giaddr set,
 * source port 67) in front of N simulated Macs and sends INFORM[LIST],
 * INFORM[SELECT], a mix, or plain DHCPINFORMs (the baseline) at a fixed rate
 * or as fast as a bounded window of outstanding requests allows, for a
 * bounded time. Replies are matched by xid, then checked against the
 * request (chaddr, kind, content); what stays unanswered past the timeout
 * is lost. The Macs are a fixed set of N clients (default), or a new MAC
 * for every request, or a cycle through N MACs (--macs), which is how a
 * server's bindings table is made to grow or to evict, or a cycle through
 * the MACs of a file (--mac-file), e.g. ones chosen to collide in it.
 * Kea's perfdhcp cannot send DHCPINFORM, hence this tool.
 *
 * Where replies come back (the part that decides whether a benchmark
 * measures anything), as seen on the wire in namespaces:
 * - kea-dhcp4 2.2 answers a relayed INFORM at ciaddr:68 when ciaddr is set
 *   (with raw sockets as a frame to the MAC the query came from, i.e. ours),
 *   and at giaddr:67 only when ciaddr is 0. The BSDP hook keeps ciaddr and
 *   changes the port only for sub-option 5. ISC dhcpd 4.4 answers at
 *   ciaddr:68 through the kernel's routing.
 * - So we send from port 67 but bind INADDR_ANY (not giaddr) on 67 and on
 *   68: every datagram for giaddr or for any simulated ciaddr that this host
 *   accepts as local reaches us, whichever port the server picked.
 * - The simulated ciaddrs must therefore be local here: the bench gives the
 *   generator's namespace an "AnyIP" route (`ip route add local
 *   198.18.16.0/20 dev lo`), and the server's namespace a route to that
 *   range via the generator for servers that send through the kernel.
 *   Without --ciaddr-first every client uses giaddr as its ciaddr, which
 *   needs no routes at all (the Macs then differ only by MAC).
 * - ciaddr 0 (--no-ciaddr) reaches us at giaddr:67, but the hook, like
 *   Apple's bootpd, ignores BSDP requests with ciaddr 0: only for the plain
 *   baseline.
 *
 * Single thread, non-blocking sockets, sendmmsg/recvmmsg in batches, ppoll
 * for sub-millisecond pacing. Every buffer is allocated before the run. */
#include <arpa/inet.h>
#include <errno.h>
#include <ctype.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hook/bsdp_codec.h"
#include "tools/lib/cli_util.h"
#include "tools/lib/dhcp_msg.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define MAX_CLIENTS 16384
#define MAX_MAC_CYCLE 4294967296UL    /* --macs N: the 32-bit counter's range */
#define MAX_FILE_MACS (1u << 24)      /* --mac-file: as many as a bindings table holds */
#define MAX_LAST_SELECTS (1u << 24)   /* --last-selects */
#define MAX_SLOTS 65536            /* slot index travels in the xid's low 16 bits */
#define MAX_RATE 10000000UL
#define MAX_DURATION_MS 3600000L
#define MAX_TIMEOUT_MS 60000L
#define MAX_SERVERS 4              /* --server given up to this many times */
#define BATCH 64                   /* datagrams per sendmmsg/recvmmsg */
#define RECV_ROUNDS 8              /* recvmmsg calls per socket per wake-up */
#define TPL_SIZE 640               /* one prebuilt request; LIST is ~300 bytes */
#define RECV_SIZE 2048             /* a reply larger than this is still counted */
#define DISCOVER_TRIES 3
#define SOCK_BUF (4 << 20)
#define CHADDR_AT 28               /* BOOTP header offsets */
#define FILE_AT 108

/* Latency histogram: 2^HIST_SUB_BITS linear buckets per power of two
 * (under 0.8 % error) over microseconds, so percentiles need no per-reply
 * storage and cost nothing to record. */
#define HIST_SUB_BITS 7
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_SIZE ((64 - HIST_SUB_BITS + 1) * HIST_SUB)

enum mode { MODE_LIST, MODE_SELECT, MODE_MIX, MODE_INFORM };
/* Where a request's MAC comes from: its client, a counter that never
 * repeats (within 2^32 requests), a counter modulo --macs N, or the list
 * of --mac-file in turn. */
enum macs { MACS_CLIENTS, MACS_NEW, MACS_CYCLE, MACS_FILE };
enum req { REQ_LIST, REQ_SELECT, REQ_INFORM, REQ_TYPES };
enum kind { K_LIST, K_SELECT, K_FAILED, K_PLAIN, K_MALFORMED, K_OTHER, K_KINDS };
static const char *const kind_names[K_KINDS] = { "list", "select", "failed", "plain",
						 "malformed", "other" };

struct options {
	/* Each request goes to every server, as from a relay with several
	 * helper addresses (e.g. an HA pair). */
	struct in_addr servers[MAX_SERVERS];
	unsigned n_servers;
	struct in_addr giaddr;        /* 0 = the route's source address */
	uint32_t ciaddr_first;        /* host order; 0 = giaddr for every client */
	bool no_ciaddr;
	unsigned clients;
	enum mode mode;
	unsigned select_pct;          /* share of SELECTs in mix mode */
	unsigned long rate;           /* requests/s; 0 = window mode */
	unsigned window;              /* outstanding requests at most */
	long duration_ms;
	uint64_t max_requests;        /* stop sending after this many; 0 = no limit */
	long timeout_ms;
	bool has_server_id;
	uint32_t server_id;           /* host order */
	bool has_image;
	uint32_t image;               /* index (<= 0xffff) or full id */
	const char *arch;
	const char *model;
	unsigned max_size;            /* option 57 and sub-option 12; 0 = omitted */
	enum macs macs;
	uint64_t mac_cycle;           /* MACS_CYCLE, MACS_FILE: how many MACs */
	const char *mac_file;
	uint32_t last_selects;        /* ACK[SELECT]s whose MACs are reported, 0 = none */
	uint8_t (*file_macs)[6];      /* MACS_FILE: the file's MACs, in its order */
	int mac_prefix;               /* second MAC byte; -1 = random per run */
	bool listen68;
	bool json;
};

/* One outstanding request. Slots form a free stack and a send-ordered
 * doubly linked list, so the oldest request is always at the head and
 * timeouts cost O(1) each. */
struct slot {
	uint32_t xid;
	uint32_t done_xid;            /* the last answered use: its copies are duplicates */
	int64_t sent_ns;
	uint32_t prev, next;
	uint16_t gen;
	uint8_t req;
	uint8_t busy;
	uint8_t mac[6];               /* the request's chaddr */
};

struct stats {
	uint64_t sent, answered, answered_in_run, lost, late, foreign, send_errors, skipped;
	/* A second reply to an answered request; one that comes after the
	 * slot's next request was answered too counts as late. */
	uint64_t duplicate;
	uint64_t partial;              /* requests the socket took for some servers only */
	uint64_t by_server[MAX_SERVERS + 1];   /* replies matched to a request, by source;
						* the last: from another address */
	uint64_t unexpected;           /* bad: not the kind asked for */
	uint64_t bad_chaddr;           /* bad: our xid with another MAC */
	uint64_t bad_content;          /* bad: the right kind with the wrong content */
	uint64_t images;               /* descriptions in every ACK[LIST] */
	uint64_t kinds[K_KINDS];
	uint64_t max_us;
	uint64_t hist[HIST_SIZE];
};

struct gen {
	const struct options *o;
	int fd67, fd68;
	struct sockaddr_in dest[MAX_SERVERS];
	uint32_t giaddr;               /* host order */
	uint32_t salt;
	/* templates[(client * REQ_TYPES + req) * TPL_SIZE], xid patched at send */
	uint8_t *templates;
	uint16_t *tpl_len;
	uint8_t (*macs)[6];
	struct slot *slots;
	uint32_t *free_stack;
	uint32_t n_slots, n_free, head, tail, outstanding;
	uint32_t next_client;
	uint64_t mac_seq;              /* MACs handed out (new and cycle modes) */
	uint8_t mac_prefix;
	unsigned mix_acc;
	uint8_t (*sbuf)[TPL_SIZE];
	uint8_t (*rbuf)[RECV_SIZE];
	uint8_t opt43[DHCP_MSG_OPT43_MAX];
	/* --last-selects: the MACs of the last ACK[SELECT]s, in the order they
	 * came (a ring): a server records a SELECT before it sends the reply,
	 * so the MACs it keeps are among the last ones answered. */
	uint8_t (*last_sel)[6];
	uint32_t last_sel_next, last_sel_count;
	struct stats st;
};

#define NIL UINT32_MAX

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- latency histogram ------------------------------------------------- */

static unsigned hist_index(uint64_t us)
{
	unsigned top, shift;

	if (us < HIST_SUB)
		return (unsigned)us;
	top = 63u - (unsigned)__builtin_clzll(us);
	shift = top - (HIST_SUB_BITS - 1);
	/* us >> shift lies in [HIST_SUB/2, HIST_SUB): indices run on from
	 * the linear part without gaps. */
	return shift * (HIST_SUB / 2) + (unsigned)(us >> shift);
}

/* Upper edge of a bucket: what a percentile reports (never optimistic). */
static uint64_t hist_upper(unsigned idx)
{
	unsigned shift;

	if (idx < HIST_SUB)
		return idx;
	shift = (idx - HIST_SUB / 2) / (HIST_SUB / 2);
	return (((uint64_t)(idx - shift * (HIST_SUB / 2)) + 1) << shift) - 1;
}

static uint64_t hist_percentile(const struct stats *st, double p)
{
	uint64_t n = 0, want, seen = 0;

	for (unsigned i = 0; i < HIST_SIZE; i++)
		n += st->hist[i];
	if (n == 0)
		return 0;
	want = (uint64_t)ceil(p * (double)n);
	if (want == 0)
		want = 1;
	for (unsigned i = 0; i < HIST_SIZE; i++) {
		seen += st->hist[i];
		if (seen >= want) {
			uint64_t v = hist_upper(i);
			return v < st->max_us ? v : st->max_us;
		}
	}
	return st->max_us;
}

/* ---- requests ---------------------------------------------------------- */

/* Removes every instance of one option from a built request, keeping the
 * BOOTP minimum size; dhcp_msg_build_inform always writes option 60, which a
 * plain DHCPINFORM must not carry. Returns the new length. */
static size_t strip_option(uint8_t *msg, size_t len, uint8_t code)
{
	size_t at = DHCP_MSG_OPTIONS_AT;

	/* Each step consumes at least one byte: bounded by len. */
	while (at < len && msg[at] != DHCP_OPT_END) {
		size_t tl;

		if (msg[at] == DHCP_OPT_PAD) {
			at++;
			continue;
		}
		if (len - at < 2 || len - at - 2 < msg[at + 1])
			break;
		tl = 2u + msg[at + 1];
		if (msg[at] == code) {
			memmove(msg + at, msg + at + tl, len - at - tl);
			memset(msg + len - tl, 0, tl);
			continue;
		}
		at += tl;
	}
	return len;
}

static int build_request(const struct options *o, uint8_t req, const uint8_t mac[6],
			 uint32_t ciaddr, uint32_t giaddr, uint8_t *buf, size_t size)
{
	static const uint8_t plain_params[] = { 1, 3, 6, 15 };
	uint8_t opt43[2 * (BSDP_BLOCK_MAX + 2)];
	struct bsdp_writer w;
	struct dhcp_inform in;
	int r = 0, len;

	memset(&in, 0, sizeof(in));
	in.hops = 1;                   /* we are the relay */
	in.ciaddr = ciaddr;
	in.giaddr = giaddr;
	memcpy(in.chaddr, mac, 6);
	in.arch = o->arch;
	in.model = o->model;
	if (req == REQ_INFORM) {
		in.params = plain_params;
		in.n_params = sizeof(plain_params);
		len = dhcp_msg_build_inform(&in, buf, size);
		if (len < 0)
			return len;
		return (int)strip_option(buf, (size_t)len, DHCP_OPT_VENDOR_CLASS);
	}

	r = bsdp_writer_init(&w, opt43, sizeof(opt43), sizeof(opt43), BSDP_BLOCK_MAX);
	/* Firmware's order: message type, then version 1.1. */
	if (r == 0)
		r = bsdp_writer_put_u8(&w, BSDP_OPT_MESSAGE_TYPE,
				       req == REQ_LIST ? BSDP_MSGTYPE_LIST : BSDP_MSGTYPE_SELECT);
	if (r == 0)
		r = bsdp_writer_put_u16(&w, BSDP_OPT_VERSION, BSDP_VERSION_1_1);
	if (r == 0 && req == REQ_SELECT) {
		r = bsdp_writer_put_u32(&w, BSDP_OPT_SERVER_IDENTIFIER, o->server_id);
		if (r == 0)
			r = bsdp_writer_put_u32(&w, BSDP_OPT_SELECTED_BOOT_IMAGE, o->image);
	}
	/* A 40-image list needs more than the 520 bytes a client gets by
	 * default (bsdp.md §3): ask for it as a Mac with a big list would. */
	if (r == 0 && req == REQ_LIST && o->max_size)
		r = bsdp_writer_put_u16(&w, BSDP_OPT_MAX_MESSAGE_SIZE, (uint16_t)o->max_size);
	if (r < 0)
		return r;
	in.opt43 = opt43;
	in.opt43_len = bsdp_writer_finish(&w);
	in.max_size = o->max_size >= 576 ? (uint16_t)o->max_size : 0;
	return dhcp_msg_build_inform(&in, buf, size);
}

static int build_templates(struct gen *g, const bool need[REQ_TYPES])
{
	const struct options *o = g->o;

	for (uint32_t c = 0; c < o->clients; c++) {
		uint32_t ciaddr = o->no_ciaddr ? 0 : o->ciaddr_first ? o->ciaddr_first + c : g->giaddr;

		/* Locally administered unicast MACs, distinct per client. */
		g->macs[c][0] = 0x02;
		g->macs[c][1] = 0xb5;
		g->macs[c][2] = 0xd0;
		g->macs[c][3] = (uint8_t)(c >> 16);
		g->macs[c][4] = (uint8_t)(c >> 8);
		g->macs[c][5] = (uint8_t)c;
		for (uint8_t t = 0; t < REQ_TYPES; t++) {
			size_t at = (size_t)c * REQ_TYPES + t;
			int len;

			if (!need[t])
				continue;
			len = build_request(o, t, g->macs[c], ciaddr, g->giaddr,
					    g->templates + at * TPL_SIZE, TPL_SIZE);
			if (len < 0) {
				fprintf(stderr, "bsdp-load: cannot build a request: %s\n",
					strerror(-len));
				return -1;
			}
			g->tpl_len[at] = (uint16_t)len;
		}
	}
	return 0;
}

static uint8_t pick_request(struct gen *g)
{
	switch (g->o->mode) {
	case MODE_LIST: return REQ_LIST;
	case MODE_SELECT: return REQ_SELECT;
	case MODE_INFORM: return REQ_INFORM;
	case MODE_MIX:
	default:
		/* An error accumulator spreads the SELECTs evenly. */
		g->mix_acc += g->o->select_pct;
		if (g->mix_acc >= 100) {
			g->mix_acc -= 100;
			return REQ_SELECT;
		}
		return REQ_LIST;
	}
}

/* ---- slots --------------------------------------------------------------- */

static void slot_link_tail(struct gen *g, uint32_t i)
{
	g->slots[i].prev = g->tail;
	g->slots[i].next = NIL;
	if (g->tail != NIL)
		g->slots[g->tail].next = i;
	else
		g->head = i;
	g->tail = i;
	g->outstanding++;
}

static void slot_release(struct gen *g, uint32_t i)
{
	struct slot *s = &g->slots[i];

	if (s->prev != NIL)
		g->slots[s->prev].next = s->next;
	else
		g->head = s->next;
	if (s->next != NIL)
		g->slots[s->next].prev = s->prev;
	else
		g->tail = s->prev;
	s->busy = 0;
	s->gen++;
	g->outstanding--;
	g->free_stack[g->n_free++] = i;
}

/* The xid names the slot (low 16 bits) and its generation mixed with a
 * per-run salt (high 16), so a late reply to an earlier use of the slot or
 * to an earlier run never passes for the current request. */
static uint32_t slot_xid(const struct gen *g, uint32_t i)
{
	return ((uint32_t)(uint16_t)(g->slots[i].gen ^ g->salt) << 16) | i;
}

/* ---- sockets ------------------------------------------------------------- */

static int open_socket(uint16_t port, bool required)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, size = SOCK_BUF;

	if (fd < 0) {
		perror("bsdp-load: socket");
		return -1;
	}
	/* Force beats rmem_max as root; the plain call is the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* INADDR_ANY on purpose: replies go to ciaddr, not only to giaddr
	 * (see the top of this file). */
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		if (required || errno != EADDRINUSE)
			fprintf(stderr, "bsdp-load: cannot bind UDP port %u: %s%s\n", port,
				strerror(errno),
				errno == EACCES ? " (needs root or CAP_NET_BIND_SERVICE)" :
				errno == EADDRINUSE ? " (a DHCP server or relay runs here)" : "");
		else
			fprintf(stderr, "bsdp-load: port %u is taken: replies sent to ciaddr:%u (Kea, dhcpd) "
				"are lost; try --no-ciaddr\n", port, port);
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- replies ------------------------------------------------------------- */

/* The reply's kind; *b is its option 43 decoded for K_LIST, K_SELECT,
 * K_FAILED and K_OTHER. */
static enum kind classify(struct gen *g, const uint8_t *msg, size_t len, struct bsdp_reply *b)
{
	int n = bsdp_codec_dhcp_option(msg + DHCP_MSG_OPTIONS_AT, len - DHCP_MSG_OPTIONS_AT,
				       DHCP_OPT_VENDOR_SPECIFIC, g->opt43, sizeof(g->opt43), NULL);

	if (n == -ENOENT)
		return K_PLAIN;
	if (n < 0 || bsdp_codec_parse_reply(g->opt43, (size_t)n, b) < 0)
		return K_MALFORMED;
	switch (b->msg_type) {
	case BSDP_MSGTYPE_LIST:
		g->st.images += b->n_images;
		return K_LIST;
	case BSDP_MSGTYPE_SELECT: return K_SELECT;
	case BSDP_MSGTYPE_FAILED: return K_FAILED;
	default: return K_OTHER;
	}
}

/* The index of the server at addr (network order), or n_servers. */
static unsigned server_index(const struct options *o, uint32_t addr)
{
	unsigned j = 0;

	while (j < o->n_servers && o->servers[j].s_addr != addr)
		j++;
	return j;
}

/* Option 54 of a reply: with one server, the server id once known; with
 * several, any of them (each answers as the address it was asked at), so
 * whichever server answers the probe or a request passes. */
static bool server_id_ok(const struct options *o, const uint8_t *msg, size_t len)
{
	uint8_t sid[4];

	if (o->n_servers < 2 && !o->has_server_id)
		return true;
	if (bsdp_codec_dhcp_option(msg + DHCP_MSG_OPTIONS_AT, len - DHCP_MSG_OPTIONS_AT,
				   DHCP_OPT_SERVER_ID, sid, sizeof(sid), NULL) != 4)
		return false;
	if (o->n_servers < 2)
		return get_u32(sid) == o->server_id;
	return server_index(o, htonl(get_u32(sid))) < o->n_servers;
}

/* What a BSDP reply of the expected kind must carry for this request: the
 * server identifier (server_id_ok), and for ACK[SELECT] the image asked
 * for and a boot file. */
static bool content_ok(const struct gen *g, const uint8_t *msg, size_t len,
		       const struct bsdp_reply *b, uint8_t req)
{
	const struct options *o = g->o;

	if (req == REQ_INFORM)
		return true;
	if (!server_id_ok(o, msg, len))
		return false;
	if (req == REQ_SELECT)
		return (b->present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)) &&
		       b->selected_id == o->image && msg[FILE_AT] != 0;
	return true;
}

static bool kind_expected(uint8_t req, enum kind k)
{
	switch (req) {
	case REQ_LIST: return k == K_LIST;
	case REQ_SELECT: return k == K_SELECT;
	default: return k == K_PLAIN;
	}
}

/* from: the reply's source address (network order). */
static void on_reply(struct gen *g, const uint8_t *msg, size_t len, uint32_t from, int64_t t,
		     int64_t end_send)
{
	struct bsdp_reply b;
	uint32_t xid, i;
	struct slot *s;
	uint64_t us;
	enum kind k;

	if (len < DHCP_MSG_OPTIONS_AT || msg[0] != DHCP_OP_REPLY || msg[2] != 6) {
		g->st.foreign++;
		return;
	}
	xid = get_u32(msg + 4);
	i = xid & 0xffffu;
	if (i >= g->n_slots) {
		g->st.foreign++;
		return;
	}
	s = &g->slots[i];
	if (!s->busy || s->xid != xid) {
		/* Another server's reply to a request answered already (while the
		 * slot has not been answered again), else one past its timeout. */
		if (s->done_xid == xid && xid != 0) {
			g->st.duplicate++;
			g->st.by_server[server_index(g->o, from)]++;
		} else {
			g->st.late++;
		}
		return;
	}
	g->st.by_server[server_index(g->o, from)]++;
	s->done_xid = xid;
	us = t > s->sent_ns ? (uint64_t)(t - s->sent_ns) / 1000u : 0;
	g->st.hist[hist_index(us)]++;
	if (us > g->st.max_us)
		g->st.max_us = us;
	g->st.answered++;
	if (t <= end_send)
		g->st.answered_in_run++;
	/* Our xid names the request: it is answered, rightly or not. */
	if (memcmp(msg + CHADDR_AT, s->mac, 6) != 0) {
		g->st.bad_chaddr++;
		slot_release(g, i);
		return;
	}
	k = classify(g, msg, len, &b);
	g->st.kinds[k]++;
	if (k == K_SELECT && g->last_sel) {
		memcpy(g->last_sel[g->last_sel_next], s->mac, 6);
		g->last_sel_next = (g->last_sel_next + 1) % g->o->last_selects;
		if (g->last_sel_count < g->o->last_selects)
			g->last_sel_count++;
	}
	if (!kind_expected(s->req, k))
		g->st.unexpected++;
	else if (!content_ok(g, msg, len, &b, s->req))
		g->st.bad_content++;
	slot_release(g, i);
}

static void drain(struct gen *g, int fd, int64_t end_send)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in from[BATCH];

	for (int round = 0; round < RECV_ROUNDS; round++) {
		int n;
		int64_t t;

		for (int k = 0; k < BATCH; k++) {
			iov[k] = (struct iovec){ .iov_base = g->rbuf[k], .iov_len = RECV_SIZE };
			msgs[k] = (struct mmsghdr){ .msg_hdr = { .msg_name = &from[k],
								 .msg_namelen = sizeof(from[k]),
								 .msg_iov = &iov[k], .msg_iovlen = 1 } };
		}
		n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		/* One clock read per batch: the batch arrived together. */
		t = now_ns();
		for (int k = 0; k < n; k++) {
			size_t len = msgs[k].msg_len < RECV_SIZE ? msgs[k].msg_len : RECV_SIZE;
			on_reply(g, g->rbuf[k], len, from[k].sin_addr.s_addr, t, end_send);
		}
		if (n < BATCH)
			return;
	}
}

/* ---- sending ------------------------------------------------------------- */

/* The MAC of the next request in new and cycle modes: 06 (locally
 * administered, unicast), the run's prefix, then a 32-bit counter, so
 * that runs with different prefixes never share a MAC and a counter
 * value names its request's place in the run. */
static void next_mac(struct gen *g, uint8_t mac[6])
{
	if (g->o->macs == MACS_FILE) {
		memcpy(mac, g->o->file_macs[g->mac_seq++ % g->o->mac_cycle], 6);
		return;
	}
	uint64_t n = g->o->macs == MACS_CYCLE ? g->mac_seq % g->o->mac_cycle : g->mac_seq;

	g->mac_seq++;
	mac[0] = 0x06;
	mac[1] = g->mac_prefix;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

/* Takes back n requests prepared but never sent (the tail of a batch):
 * their slots, clients, kinds and MACs go to the next requests, so the
 * k-th request sent is the same whatever the socket refused (new mode:
 * MAC counter k; mix: SELECT whenever k * share / 100 steps up). */
static void unwind(struct gen *g, const uint32_t *idx, unsigned n)
{
	const struct options *o = g->o;

	for (unsigned k = n; k-- > 0;) {
		g->free_stack[g->n_free++] = idx[k];
		g->next_client = g->next_client ? g->next_client - 1 : o->clients - 1;
		if (o->mode == MODE_MIX) {
			/* The inverse of pick_request's step. */
			if (g->slots[idx[k]].req == REQ_SELECT)
				g->mix_acc += 100;
			g->mix_acc -= o->select_pct;
		}
		if (o->macs != MACS_CLIENTS)
			g->mac_seq--;
	}
}

/* Sends up to n new requests, each to every server (one datagram each);
 * returns how many went out. A request counts as sent once its first
 * datagram went (a reply may come); one the socket took for some servers
 * only is counted in partial. */
static unsigned send_batch(struct gen *g, unsigned n, int64_t t)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint32_t idx[BATCH];
	const unsigned ns = g->o->n_servers;
	int sent;

	if (n > BATCH / ns)
		n = BATCH / ns;
	if (n > g->n_free)
		n = g->n_free;
	if (g->o->max_requests && n > g->o->max_requests - g->st.sent)
		n = (unsigned)(g->o->max_requests - g->st.sent);
	for (unsigned k = 0; k < n; k++) {
		uint32_t i = g->free_stack[--g->n_free];
		struct slot *s = &g->slots[i];
		uint32_t c = g->next_client;
		uint8_t req = pick_request(g);
		size_t at = (size_t)c * REQ_TYPES + req;
		uint16_t len = g->tpl_len[at];

		g->next_client = c + 1 < g->o->clients ? c + 1 : 0;
		s->req = req;
		s->xid = slot_xid(g, i);
		if (g->o->macs == MACS_CLIENTS)
			memcpy(s->mac, g->macs[c], 6);
		else
			next_mac(g, s->mac);
		/* A copy per datagram: one client may appear twice in a batch. */
		memcpy(g->sbuf[k], g->templates + at * TPL_SIZE, len);
		g->sbuf[k][4] = (uint8_t)(s->xid >> 24);
		g->sbuf[k][5] = (uint8_t)(s->xid >> 16);
		g->sbuf[k][6] = (uint8_t)(s->xid >> 8);
		g->sbuf[k][7] = (uint8_t)s->xid;
		memcpy(g->sbuf[k] + CHADDR_AT, s->mac, 6);
		iov[k] = (struct iovec){ .iov_base = g->sbuf[k], .iov_len = len };
		/* The same bytes to each server. */
		for (unsigned j = 0; j < ns; j++)
			msgs[k * ns + j] = (struct mmsghdr){ .msg_hdr = {
				.msg_name = &g->dest[j], .msg_namelen = sizeof(g->dest[j]),
				.msg_iov = &iov[k], .msg_iovlen = 1 } };
		idx[k] = i;
	}
	if (n == 0)
		return 0;
	sent = sendmmsg(g->fd67, msgs, n * ns, 0);
	if (sent < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)
			g->st.send_errors++;
		sent = 0;
	}
	if (sent % ns)
		g->st.partial++;
	sent = (int)((unsigned)sent + ns - 1) / (int)ns;   /* datagrams to requests */
	for (unsigned k = 0; k < (unsigned)sent; k++) {
		g->slots[idx[k]].busy = 1;
		g->slots[idx[k]].sent_ns = t;
		slot_link_tail(g, idx[k]);
	}
	unwind(g, idx + sent, n - (unsigned)sent);
	g->st.sent += (unsigned)sent;
	return (unsigned)sent;
}

/* ---- the run ------------------------------------------------------------- */

static void expire(struct gen *g, int64_t t, int64_t timeout_ns)
{
	/* At most n_slots requests can be outstanding. */
	for (uint32_t k = 0; k < g->n_slots && g->head != NIL; k++) {
		if (g->slots[g->head].sent_ns + timeout_ns > t)
			return;
		g->st.lost++;
		slot_release(g, g->head);
	}
}

static struct timespec ns_to_ts(int64_t ns)
{
	if (ns < 0)
		ns = 0;
	return (struct timespec){ .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
}

static double run(struct gen *g)
{
	const struct options *o = g->o;
	const int64_t timeout_ns = o->timeout_ms * 1000000;
	const int64_t start = now_ns();
	int64_t end_send = start + o->duration_ms * 1000000;
	int64_t hard_end = end_send + timeout_ns;
	const int64_t interval = o->rate ? (int64_t)(1000000000.0 / (double)o->rate) : 0;
	int64_t next_due = start;
	struct pollfd pfd[2] = { { .fd = g->fd67, .events = POLLIN },
				 { .fd = g->fd68, .events = POLLIN } };
	nfds_t nfds = g->fd68 >= 0 ? 2 : 1;

	/* Ends by the clock: hard_end is at most duration + timeout away. */
	for (;;) {
		int64_t t = now_ns(), wake;
		bool sending = t < end_send && !interrupted;
		struct timespec ts;

		expire(g, t, timeout_ns);
		if (sending && o->max_requests && g->st.sent >= o->max_requests) {
			/* --requests reached: the run's sending time ends here. */
			end_send = t;
			hard_end = t + timeout_ns;
			sending = false;
		}
		if (!sending && (g->outstanding == 0 || t >= hard_end || interrupted))
			break;
		wake = hard_end;
		if (sending) {
			if (!o->rate) {
				/* Window mode: refill as soon as slots free up. */
				while (g->n_free > 0 && send_batch(g, g->n_free, t) > 0)
					;
				if (g->n_free > 0)
					wake = t + 100000;   /* socket full: retry soon */
			} else if (t >= next_due) {
				int64_t due = (t - next_due) / interval + 1;
				unsigned want = due > BATCH ? BATCH : (unsigned)due;
				unsigned out = send_batch(g, want, t);

				/* A request the window had no room for is skipped, not
				 * queued: a fixed rate is an open loop. */
				if (out < want && g->n_free == 0) {
					g->st.skipped += want - out;
					out = want;
				}
				next_due += (int64_t)out * interval;
				/* Far behind (a stall): resume the schedule from now
				 * rather than bursting to catch up. */
				if (t - next_due > 100000000) {
					g->st.skipped += (uint64_t)((t - next_due) / interval);
					next_due = t;
				}
			}
			if (o->rate && next_due < wake)
				wake = next_due;
			if (end_send < wake)
				wake = end_send;
		}
		if (g->head != NIL && g->slots[g->head].sent_ns + timeout_ns < wake)
			wake = g->slots[g->head].sent_ns + timeout_ns;
		ts = ns_to_ts(wake - now_ns());
		if (ppoll(pfd, nfds, &ts, NULL) > 0) {
			if (pfd[0].revents & POLLIN)
				drain(g, g->fd67, end_send);
			if (nfds > 1 && (pfd[1].revents & POLLIN))
				drain(g, g->fd68, end_send);
		}
	}
	/* Whatever is still outstanding at the end was never answered. */
	g->st.lost += g->outstanding;
	return (double)(end_send - start) / 1e9;
}

/* ---- discovery of server id and image (SELECT needs both) --------------- */

static int discover(struct gen *g, struct options *o)
{
	struct dhcp_reply *m = calloc(1, sizeof(*m));
	uint8_t pkt[TPL_SIZE];
	char a[INET_ADDRSTRLEN];
	int rc = -1;

	if (!m) {
		fprintf(stderr, "bsdp-load: out of memory\n");
		return -1;
	}
	for (int attempt = 0; attempt < DISCOVER_TRIES && rc < 0 && !interrupted; attempt++) {
		uint32_t xid = 0xb5d00000u | ((g->salt & 0xffffu) ^ (uint32_t)attempt);
		uint32_t ciaddr = o->no_ciaddr ? 0 : o->ciaddr_first ? o->ciaddr_first : g->giaddr;
		int64_t deadline = now_ns() + o->timeout_ms * 1000000;
		int len = build_request(o, REQ_LIST, g->macs[0], ciaddr, g->giaddr, pkt, sizeof(pkt));

		if (len < 0) {
			fprintf(stderr, "bsdp-load: cannot build INFORM[LIST]: %s\n", strerror(-len));
			break;
		}
		pkt[4] = (uint8_t)(xid >> 24);
		pkt[5] = (uint8_t)(xid >> 16);
		pkt[6] = (uint8_t)(xid >> 8);
		pkt[7] = (uint8_t)xid;
		/* Every server is asked; the first ACK[LIST] teaches. */
		for (unsigned j = 0; j < o->n_servers && len > 0; j++)
			if (sendto(g->fd67, pkt, (size_t)len, 0, (struct sockaddr *)&g->dest[j],
				   sizeof(g->dest[j])) < 0) {
				fprintf(stderr, "bsdp-load: send to %s: %s\n",
					inet_ntoa(g->dest[j].sin_addr), strerror(errno));
				len = -1;
			}
		if (len < 0)
			break;
		/* Bounded: each pass either waits until the deadline or reads one
		 * datagram, and at most 1024 datagrams are examined. */
		for (int k = 0; k < 1024 && rc < 0; k++) {
			struct pollfd pfd[2] = { { .fd = g->fd67, .events = POLLIN },
						 { .fd = g->fd68, .events = POLLIN } };
			int64_t left = deadline - now_ns();
			struct timespec ts = ns_to_ts(left);
			struct bsdp_reply b;
			ssize_t got = -1;

			if (left <= 0 || ppoll(pfd, g->fd68 >= 0 ? 2 : 1, &ts, NULL) <= 0)
				break;
			for (int f = 0; f < 2 && got < 0; f++)
				if (pfd[f].revents & POLLIN)
					got = recv(pfd[f].fd, g->rbuf[0], RECV_SIZE, MSG_DONTWAIT);
			if (got < DHCP_MSG_OPTIONS_AT || get_u32(g->rbuf[0] + 4) != xid ||
			    dhcp_msg_parse(g->rbuf[0], (size_t)got, m) < 0 || dhcp_msg_bsdp_problem(m) ||
			    bsdp_codec_parse_reply(m->opt43, m->opt43_len, &b) < 0 ||
			    b.msg_type != BSDP_MSGTYPE_LIST ||
			    (o->n_servers > 1 && !server_id_ok(o, g->rbuf[0], (size_t)got)))
				continue;
			if (!o->has_server_id) {
				o->server_id = m->server_id;
				o->has_server_id = true;
			}
			if (o->has_image && o->image <= 0xffff) {
				/* An index: the full id (kind, install bit) comes from the list. */
				struct bsdp_image_iter it;
				uint32_t id;
				const uint8_t *name;
				size_t nl;
				bool found = false;

				bsdp_image_iter_init(&it, &b);
				while (!found && bsdp_image_iter_next(&it, &id, &name, &nl) == 1)
					found = BSDP_IMAGE_ID_INDEX(id) == o->image;
				if (!found) {
					fprintf(stderr, "bsdp-load: the server lists no image with index %u\n",
						o->image);
					rc = -2;
					break;
				}
				o->image = id;
			} else if (!o->has_image) {
				if (!(b.present & BSDP_HAS(BSDP_OPT_DEFAULT_BOOT_IMAGE))) {
					fprintf(stderr, "bsdp-load: the LIST answer names no default image; give --image\n");
					rc = -2;
					break;
				}
				o->image = b.default_id;
				o->has_image = true;
			}
			rc = 0;
		}
	}
	free(m);
	if (rc == -1)
		fprintf(stderr, "bsdp-load: no ACK[LIST] from %s%s to learn the server id and image; "
			"give --server-id and --image\n", inet_ntoa(g->dest[0].sin_addr),
			o->n_servers > 1 ? " or the other servers" : "");
	else if (rc == 0 && !o->json)
		fprintf(stderr, "bsdp-load: SELECT uses server id %s, image 0x%08x\n",
			cli_ip_str(o->server_id, a, sizeof(a)), o->image);
	return rc == 0 ? 0 : -1;
}

/* ---- output -------------------------------------------------------------- */

static const char *mode_name(enum mode m)
{
	switch (m) {
	case MODE_LIST: return "list";
	case MODE_SELECT: return "select";
	case MODE_MIX: return "mix";
	default: return "inform";
	}
}

/* "clients", "new" or the cycle length, for the report. */
static const char *macs_name(const struct options *o, char *buf, size_t size)
{
	if (o->macs == MACS_CLIENTS)
		return "clients";
	if (o->macs == MACS_NEW)
		return "new";
	snprintf(buf, size, o->macs == MACS_FILE ? "file %" PRIu64 : "%" PRIu64, o->mac_cycle);
	return buf;
}

/* The servers as "A, B" (text) or "\"A\",\"B\"" (JSON). */
static void print_servers(const struct options *o, bool json)
{
	for (unsigned j = 0; j < o->n_servers; j++)
		printf(json ? "%s\"%s\"" : "%s%s", j ? (json ? "," : ", ") : "",
		       inet_ntoa(o->servers[j]));
}

/* Replies by source, duplicates and partial sends: JSON members, or a line. */
static void print_by_server(const struct options *o, const struct stats *st, bool json)
{
	printf(json ? ",\"by_server\":{" : "  by server ");
	for (unsigned j = 0; j < o->n_servers; j++)
		printf(json ? "%s\"%s\":%" PRIu64 : "%s %s %" PRIu64, j && json ? "," : "",
		       inet_ntoa(o->servers[j]), st->by_server[j]);
	printf(json ? ",\"other\":%" PRIu64 "},\"duplicate\":%" PRIu64 ",\"partial\":%" PRIu64 :
	       "  other %" PRIu64 "  duplicates %" PRIu64 "  partial sends %" PRIu64 "\n",
	       st->by_server[o->n_servers], st->duplicate, st->partial);
}

static void report(const struct gen *g, double secs)
{
	const struct options *o = g->o;
	const struct stats *st = &g->st;
	uint64_t bad = st->bad_chaddr + st->unexpected + st->bad_content;
	char macs[24];
	double rps = secs > 0 ? (double)st->answered_in_run / secs : 0;
	uint64_t p50 = hist_percentile(st, 0.50), p99 = hist_percentile(st, 0.99);
	double per_list = st->kinds[K_LIST] ? (double)st->images / (double)st->kinds[K_LIST] : 0;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (o->json) {
		printf("{\"server\":\"%s\",\"giaddr\":\"%s\",\"mode\":\"%s\",\"clients\":%u,"
		       "\"window\":%u,\"rate\":%lu,\"duration_s\":%.3f,\"timeout_ms\":%ld,"
		       "\"sent\":%" PRIu64 ",\"answered\":%" PRIu64 ",\"lost\":%" PRIu64
		       ",\"late\":%" PRIu64 ",\"foreign\":%" PRIu64 ",\"skipped\":%" PRIu64
		       ",\"send_errors\":%" PRIu64 ",\"unexpected\":%" PRIu64
		       ",\"unanswered\":%" PRIu64 ",\"bad\":%" PRIu64 ",\"bad_reasons\":{\"chaddr\":%"
		       PRIu64 ",\"kind\":%" PRIu64 ",\"content\":%" PRIu64 "},\"macs\":\"%s\""
		       ",\"mac_prefix\":\"%02x\""
		       ",\"replies_per_s\":%.1f,\"latency_us\":{\"p50\":%" PRIu64 ",\"p99\":%" PRIu64
		       ",\"max\":%" PRIu64 "},\"replies\":{",
		       inet_ntoa(o->servers[0]), cli_ip_str(g->giaddr, b, sizeof(b)), mode_name(o->mode),
		       o->clients, g->n_slots, o->rate, secs, o->timeout_ms, st->sent, st->answered,
		       st->lost, st->late, st->foreign, st->skipped, st->send_errors, st->unexpected,
		       st->lost, bad, st->bad_chaddr, st->unexpected, st->bad_content,
		       macs_name(o, macs, sizeof(macs)), g->mac_prefix, rps, p50, p99, st->max_us);
		for (int k = 0; k < K_KINDS; k++)
			printf("%s\"%s\":%" PRIu64, k ? "," : "", kind_names[k], st->kinds[k]);
		printf("},\"images_per_list\":%.1f,\"servers\":[", per_list);
		print_servers(o, true);
		printf("]");
		print_by_server(o, st, true);
		if (o->mode == MODE_SELECT || o->mode == MODE_MIX)
			printf(",\"server_id\":\"%s\",\"image_id\":\"0x%08x\"",
			       cli_ip_str(o->server_id, a, sizeof(a)), o->image);
		if (g->last_sel) {
			printf(",\"last_selects\":[");
			uint32_t first = (g->last_sel_next + o->last_selects - g->last_sel_count) %
					 o->last_selects;
			for (uint32_t j = 0; j < g->last_sel_count; j++) {
				const uint8_t *m = g->last_sel[(first + j) % o->last_selects];
				printf("%s\"%02x:%02x:%02x:%02x:%02x:%02x\"", j ? "," : "", m[0], m[1],
				       m[2], m[3], m[4], m[5]);
			}
			printf("]");
		}
		printf("}\n");
		return;
	}
	printf("bsdp-load: %s to ", mode_name(o->mode));
	print_servers(o, false);
	printf(" from %s, %u clients, ", cli_ip_str(g->giaddr, b, sizeof(b)), o->clients);
	if (o->macs == MACS_NEW)
		printf("a new MAC per request (06:%02x:..), ", g->mac_prefix);
	else if (o->macs == MACS_CYCLE)
		printf("%" PRIu64 " MACs in turn (06:%02x:..), ", o->mac_cycle, g->mac_prefix);
	else if (o->macs == MACS_FILE)
		printf("%" PRIu64 " MACs from %s in turn, ", o->mac_cycle, o->mac_file);
	if (o->rate)
		printf("%lu/s (window %u)", o->rate, g->n_slots);
	else
		printf("window %u", g->n_slots);
	printf(", %.1f s\n", secs);
	printf("  sent %" PRIu64 "  answered %" PRIu64 "  unanswered %" PRIu64 "  bad %" PRIu64
	       "  late %" PRIu64, st->sent, st->answered, st->lost, bad, st->late);
	if (st->skipped)
		printf("  skipped %" PRIu64 " (rate not reached)", st->skipped);
	if (st->send_errors)
		printf("  send errors %" PRIu64, st->send_errors);
	if (st->foreign)
		printf("  foreign %" PRIu64, st->foreign);
	printf("\n  replies/s %.0f\n", rps);
	if (o->n_servers > 1 || st->duplicate || st->partial)
		print_by_server(o, st, false);
	printf("  latency  p50 %.3f ms  p99 %.3f ms  max %.3f ms\n", (double)p50 / 1000,
	       (double)p99 / 1000, (double)st->max_us / 1000);
	printf("  replies ");
	for (int k = 0; k < K_KINDS; k++)
		printf(" %s %" PRIu64, kind_names[k], st->kinds[k]);
	printf("\n  bad: not the expected kind %" PRIu64 ", another chaddr %" PRIu64
	       ", wrong content %" PRIu64 "\n", st->unexpected, st->bad_chaddr, st->bad_content);
	if (st->kinds[K_LIST])
		printf("  images per ACK[LIST] %.1f\n", per_list);
}

/* ---- arguments ----------------------------------------------------------- */

/* Seconds (fractions allowed) to milliseconds, within (0, max_ms]. */
static int parse_seconds(const char *s, long max_ms, long *ret_ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v * 1000 > (double)max_ms)
		return -1;
	*ret_ms = (long)(v * 1000 + 0.5);
	if (*ret_ms < 1)
		*ret_ms = 1;
	return 0;
}

static int parse_ip(const char *s, uint32_t *ret)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*ret = ntohl(a.s_addr);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bsdp-load --server ADDR [--server ADDR]... [--mode list|select|mix|inform]\n"
		"                 [--rate N | --window W] [--duration SEC] [--requests N]\n"
		"                 [--timeout SEC]\n"
		"                 [--clients N] [--macs new|N | --mac-file FILE] [--mac-prefix XX]\n"
		"                 [--ciaddr-first ADDR | --no-ciaddr] [--giaddr ADDR]\n"
		"                 [--server-id ADDR] [--image INDEX|ID] [--select-share PCT]\n"
		"                 [--arch ARCH] [--model MODEL] [--max-size N] [--no-port-68] [--json]\n"
		"\n"
		"Loads a DHCP/BSDP server with INFORMs as a relay agent for N simulated Macs\n"
		"(binds UDP ports 67 and 68 on every address: run it as root, in a namespace\n"
		"with no DHCP server or relay).\n"
		"  -s, --server ADDR        the server (port 67); given up to 4 times, each request\n"
		"                           goes to every one, as from a relay with several helper\n"
		"                           addresses (e.g. an HA pair); replies are counted by\n"
		"                           source, and a second one to a request as a duplicate\n"
		"                           (late if its slot was answered again meanwhile)\n"
		"  -m, --mode MODE          list: INFORM[LIST] (default); select: INFORM[SELECT];\n"
		"                           mix: both (see --select-share); inform: plain DHCPINFORM\n"
		"                           without options 43/60 (the baseline)\n"
		"  -r, --rate N             N requests/s (open loop; the window bounds what is\n"
		"                           outstanding and defaults to rate x timeout)\n"
		"  -w, --window W           at most W requests outstanding (default 64); without\n"
		"                           --rate, send as fast as replies allow\n"
		"  -d, --duration SEC       send for SEC seconds (default 5, at most 3600)\n"
		"      --requests N         stop sending after N requests (and before SEC), e.g.\n"
		"                           to fill a server's bindings table with --macs new\n"
		"  -t, --timeout SEC        unanswered after SEC is lost (default 1)\n"
		"  -n, --clients N          simulated Macs, distinct MACs 02:b5:d0:..  (default 256)\n"
		"      --macs new           a new MAC for every request, 06:XX: then a 32-bit\n"
		"                           counter (request 0, 1, ...): a server's bindings table\n"
		"                           grows by every SELECT. The clients still give ciaddr\n"
		"      --macs N             N MACs in turn (06:XX: then 0 .. N-1, N up to 2^32)\n"
		"      --mac-prefix XX      the XX of --macs, hex (default random per run)\n"
		"      --mac-file FILE      the MACs of FILE in turn, one per line as\n"
		"                           aa:bb:cc:dd:ee:ff (up to 16777216; blank lines skipped),\n"
		"                           e.g. MACs chosen to collide in a server's hash table\n"
		"      --ciaddr-first ADDR  client i has ciaddr ADDR+i; this host must accept\n"
		"                           those addresses as local (e.g. ip route add local\n"
		"                           RANGE dev lo). Default: every client uses giaddr\n"
		"      --no-ciaddr          ciaddr 0 (BSDP servers ignore such requests)\n"
		"      --giaddr ADDR        relay address (default: our source address to the\n"
		"                           first --server)\n"
		"      --server-id ADDR     SELECT's sub-option 3 (default: option 54 of a LIST answer)\n"
		"      --image INDEX|ID     image to SELECT (default: the LIST answer's default)\n"
		"      --select-share PCT   SELECTs in mix mode, percent (default 50)\n"
		"      --arch ARCH          client architecture (default i386)\n"
		"      --model MODEL        model identifier (default MacBookPro11,1)\n"
		"      --max-size N         option 57 and sub-option 12 in LIST (default 1500, 0 = none)\n"
		"      --no-port-68         do not listen on port 68 (where Kea and dhcpd answer\n"
		"                           a request with ciaddr set)\n"
		"      --last-selects N     with --json: the MACs of the last N ACK[SELECT]s, in\n"
		"                           the order they came (\"last_selects\", oldest first)\n"
		"  -j, --json               one JSON object\n"
		"\n"
		"Every reply is matched to its request by xid and checked: the request's chaddr,\n"
		"the kind asked for (ACK[LIST], ACK[SELECT], plain ACK), and its content (option 54\n"
		"is the server id once known; ACK[SELECT] names the image asked for and a boot\n"
		"file; with several servers option 54 is any of them). Prints sent, answered,\n"
		"unanswered (lost: no reply within the timeout), bad (answered but failing a\n"
		"check, by reason), replies/s (answers received while sending, over the sending\n"
		"time), latency p50/p99/max, and with several servers the replies by server and\n"
		"the duplicates (a request answered twice counts once as answered). Exit status:\n"
		"0 some answers, 1 none, 2 usage.\n");
}

static int bad(const char *what, const char *value)
{
	fprintf(stderr, "bsdp-load: invalid %s: '%s'\n", what, value);
	return EXIT_USAGE;
}

enum {
	OPT_CIADDR_FIRST = 256,
	OPT_NO_CIADDR,
	OPT_GIADDR,
	OPT_SERVER_ID,
	OPT_IMAGE,
	OPT_SELECT_SHARE,
	OPT_ARCH,
	OPT_MODEL,
	OPT_MAX_SIZE,
	OPT_NO_68,
	OPT_MACS,
	OPT_REQUESTS,
	OPT_MAC_PREFIX,
	OPT_MAC_FILE,
	OPT_LAST_SELECTS,
};

/* Exactly six two-digit hex bytes joined by ':'. 0 or -1. */
static int parse_mac(const char *s, uint8_t mac[6])
{
	for (int i = 0; i < 6; i++, s += 3) {
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]) ||
		    s[2] != (i < 5 ? ':' : '\0'))
			return -1;
		char byte[3] = { s[0], s[1], 0 };
		mac[i] = (uint8_t)strtoul(byte, NULL, 16);
	}
	return 0;
}

/* --mac-file: every MAC into o->file_macs (before the run, like every
 * other buffer). -1 when the options are fine, else the exit code. */
static int read_mac_file(struct options *o)
{
	FILE *f = fopen(o->mac_file, "r");
	if (!f) {
		fprintf(stderr, "bsdp-load: %s: %s\n", o->mac_file, strerror(errno));
		return EXIT_USAGE;
	}
	char *line = NULL;
	size_t cap = 0, room = 0;
	unsigned long lineno = 0;
	int rc = -1;
	ssize_t len;
	while (rc < 0 && (len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (o->mac_cycle == MAX_FILE_MACS) {
			fprintf(stderr, "bsdp-load: %s: more than %u MACs\n", o->mac_file, MAX_FILE_MACS);
			rc = EXIT_USAGE;
			break;
		}
		if (o->mac_cycle == room) {
			room = room ? 2 * room : 4096;
			void *grown = realloc(o->file_macs, room * sizeof(*o->file_macs));
			if (!grown) {
				fprintf(stderr, "bsdp-load: out of memory\n");
				rc = EXIT_FAIL;
				break;
			}
			o->file_macs = grown;
		}
		if (parse_mac(line, o->file_macs[o->mac_cycle]) < 0) {
			fprintf(stderr, "bsdp-load: %s:%lu: not a MAC (aa:bb:cc:dd:ee:ff): '%.40s'\n",
				o->mac_file, lineno, line);
			rc = EXIT_USAGE;
		}
		o->mac_cycle++;
	}
	if (rc < 0 && ferror(f)) {
		fprintf(stderr, "bsdp-load: %s: %s\n", o->mac_file, strerror(errno));
		rc = EXIT_USAGE;
	}
	if (rc < 0 && o->mac_cycle == 0) {
		fprintf(stderr, "bsdp-load: %s: no MACs\n", o->mac_file);
		rc = EXIT_USAGE;
	}
	free(line);
	fclose(f);
	return rc;
}

/* Returns -1 when the options are fine, else the exit code. */
static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ "clients", required_argument, NULL, 'n' },
		{ "ciaddr-first", required_argument, NULL, OPT_CIADDR_FIRST },
		{ "no-ciaddr", no_argument, NULL, OPT_NO_CIADDR },
		{ "giaddr", required_argument, NULL, OPT_GIADDR },
		{ "server-id", required_argument, NULL, OPT_SERVER_ID },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "select-share", required_argument, NULL, OPT_SELECT_SHARE },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "model", required_argument, NULL, OPT_MODEL },
		{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
		{ "no-port-68", no_argument, NULL, OPT_NO_68 },
		{ "macs", required_argument, NULL, OPT_MACS },
		{ "requests", required_argument, NULL, OPT_REQUESTS },
		{ "mac-prefix", required_argument, NULL, OPT_MAC_PREFIX },
		{ "mac-file", required_argument, NULL, OPT_MAC_FILE },
		{ "last-selects", required_argument, NULL, OPT_LAST_SELECTS },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	bool has_window = false;
	int ch;

	memset(o, 0, sizeof(*o));
	o->mode = MODE_LIST;
	o->window = 64;
	o->duration_ms = 5000;
	o->timeout_ms = 1000;
	o->clients = 256;
	o->select_pct = 50;
	o->arch = "i386";
	o->model = "MacBookPro11,1";
	o->max_size = 1500;
	o->listen68 = true;
	o->mac_prefix = -1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":s:m:r:w:d:t:n:jh", longopts, NULL)) != -1) {
		uint32_t ip;

		switch (ch) {
		case 's': {
			struct in_addr a;

			if (inet_pton(AF_INET, optarg, &a) != 1 || a.s_addr == 0)
				return bad("server address", optarg);
			if (server_index(o, a.s_addr) < o->n_servers)
				return bad("server address (given twice)", optarg);
			if (o->n_servers == MAX_SERVERS) {
				fprintf(stderr, "bsdp-load: at most %d --server\n", MAX_SERVERS);
				return EXIT_USAGE;
			}
			o->servers[o->n_servers++] = a;
			break;
		}
		case 'm':
			if (strcmp(optarg, "list") == 0)
				o->mode = MODE_LIST;
			else if (strcmp(optarg, "select") == 0)
				o->mode = MODE_SELECT;
			else if (strcmp(optarg, "mix") == 0)
				o->mode = MODE_MIX;
			else if (strcmp(optarg, "inform") == 0)
				o->mode = MODE_INFORM;
			else
				return bad("mode (list, select, mix, inform)", optarg);
			break;
		case 'r':
			if (cli_parse_uint(optarg, MAX_RATE, &v) < 0 || v == 0)
				return bad("rate (1..10000000 requests/s)", optarg);
			o->rate = v;
			break;
		case 'w':
			if (cli_parse_uint(optarg, MAX_SLOTS, &v) < 0 || v == 0)
				return bad("window (1..65536)", optarg);
			o->window = (unsigned)v;
			has_window = true;
			break;
		case 'd':
			if (parse_seconds(optarg, MAX_DURATION_MS, &o->duration_ms) < 0)
				return bad("duration (seconds, up to 3600)", optarg);
			break;
		case 't':
			if (parse_seconds(optarg, MAX_TIMEOUT_MS, &o->timeout_ms) < 0)
				return bad("timeout (seconds, up to 60)", optarg);
			break;
		case 'n':
			if (cli_parse_uint(optarg, MAX_CLIENTS, &v) < 0 || v == 0)
				return bad("client count (1..16384)", optarg);
			o->clients = (unsigned)v;
			break;
		case OPT_CIADDR_FIRST:
			if (parse_ip(optarg, &ip) < 0 || ip == 0)
				return bad("first client address", optarg);
			o->ciaddr_first = ip;
			break;
		case OPT_NO_CIADDR:
			o->no_ciaddr = true;
			break;
		case OPT_GIADDR:
			if (inet_pton(AF_INET, optarg, &o->giaddr) != 1 || o->giaddr.s_addr == 0)
				return bad("relay address", optarg);
			break;
		case OPT_SERVER_ID:
			if (parse_ip(optarg, &ip) < 0 || ip == 0)
				return bad("server id", optarg);
			o->server_id = ip;
			o->has_server_id = true;
			break;
		case OPT_IMAGE:
			/* Index 0 is never sent (bsdp.md §5). */
			if (cli_parse_uint(optarg, 0xffffffffUL, &v) < 0 || v == 0)
				return bad("image (index or 0x id)", optarg);
			o->image = (uint32_t)v;
			o->has_image = true;
			break;
		case OPT_SELECT_SHARE:
			if (cli_parse_uint(optarg, 100, &v) < 0)
				return bad("select share (0..100)", optarg);
			o->select_pct = (unsigned)v;
			break;
		case OPT_ARCH:
			if (!optarg[0] || strchr(optarg, '/') || strlen(optarg) > BSDP_ARCH_MAX)
				return bad("arch", optarg);
			o->arch = optarg;
			break;
		case OPT_MODEL:
			if (!optarg[0] || strlen(optarg) > 64 || strchr(optarg, '\n'))
				return bad("model (up to 64 bytes)", optarg);
			o->model = optarg;
			break;
		case OPT_MAX_SIZE:
			if (cli_parse_uint(optarg, 8192, &v) < 0 || (v != 0 && v < 548))
				return bad("maximum size (0, or 548..8192)", optarg);
			o->max_size = (unsigned)v;
			break;
		case OPT_NO_68:
			o->listen68 = false;
			break;
		case OPT_MACS:
			if (o->mac_file)
				return bad("macs (--mac-file gives them already)", optarg);
			if (strcmp(optarg, "new") == 0) {
				o->macs = MACS_NEW;
				break;
			}
			if (cli_parse_uint(optarg, MAX_MAC_CYCLE, &v) < 0 || v == 0)
				return bad("macs (new, or 1..4294967296)", optarg);
			o->macs = MACS_CYCLE;
			o->mac_cycle = v;
			break;
		case OPT_MAC_FILE:
			if (o->macs != MACS_CLIENTS)
				return bad("mac file (--macs gives them already)", optarg);
			o->macs = MACS_FILE;
			o->mac_file = optarg;
			break;
		case OPT_LAST_SELECTS:
			if (cli_parse_uint(optarg, MAX_LAST_SELECTS, &v) < 0 || v == 0)
				return bad("count of last selects (1..16777216)", optarg);
			o->last_selects = (uint32_t)v;
			break;
		case OPT_REQUESTS:
			if (cli_parse_uint(optarg, ULONG_MAX, &v) < 0 || v == 0)
				return bad("request count (1..)", optarg);
			o->max_requests = v;
			break;
		case OPT_MAC_PREFIX:
			/* One byte as a MAC writes it: 1 or 2 hex digits, nothing else. */
			if (!optarg[0] || strlen(optarg) > 2 || strspn(optarg, "0123456789abcdefABCDEF") !=
			    strlen(optarg))
				return bad("MAC prefix (00..ff)", optarg);
			o->mac_prefix = (int)strtoul(optarg, NULL, 16);
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case ':':
			fprintf(stderr, "bsdp-load: option needs a value: %s\n", argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "bsdp-load: unknown option: %s\n", argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bsdp-load: unexpected argument: %s\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (o->n_servers == 0) {
		fprintf(stderr, "bsdp-load: give --server ADDR\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	if (o->no_ciaddr && o->ciaddr_first) {
		fprintf(stderr, "bsdp-load: --no-ciaddr and --ciaddr-first exclude each other\n");
		return EXIT_USAGE;
	}
	if (o->ciaddr_first && (uint64_t)o->ciaddr_first + o->clients - 1 > 0xfffffffeULL) {
		fprintf(stderr, "bsdp-load: the client address range runs past 255.255.255.254\n");
		return EXIT_USAGE;
	}
	if (o->rate && !has_window) {
		/* Room for every request of one timeout period, plus a batch. */
		double w = (double)o->rate * (double)o->timeout_ms / 1000.0 + BATCH;
		o->window = w > MAX_SLOTS ? MAX_SLOTS : (unsigned)w;
	}
	if (o->mode == MODE_MIX && o->select_pct == 0)
		o->mode = MODE_LIST;
	return o->mac_file ? read_mac_file(o) : -1;
}

/* ---- main ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct options o;
	struct gen g;
	bool need[REQ_TYPES] = { false, false, false };
	struct sigaction sa;
	double secs;
	int rc = parse_args(argc, argv, &o);

	if (rc >= 0) {
		free(o.file_macs);
		return rc;
	}
	memset(&g, 0, sizeof(g));
	g.o = &o;
	g.fd67 = g.fd68 = -1;
	rc = EXIT_FAIL;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (o.giaddr.s_addr)
		g.giaddr = ntohl(o.giaddr.s_addr);
	else if (cli_route_source("bsdp-load", o.servers[0], &g.giaddr) < 0)
		return EXIT_FAIL;
	if (getrandom(&g.salt, sizeof(g.salt), 0) != sizeof(g.salt))
		g.salt = (uint32_t)now_ns() ^ (uint32_t)getpid();
	g.mac_prefix = o.mac_prefix >= 0 ? (uint8_t)o.mac_prefix : (uint8_t)(g.salt >> 24);
	for (unsigned j = 0; j < o.n_servers; j++)
		g.dest[j] = (struct sockaddr_in){ .sin_family = AF_INET,
						  .sin_port = htons(DHCP_SERVER_PORT),
						  .sin_addr = o.servers[j] };

	need[REQ_LIST] = o.mode == MODE_LIST || o.mode == MODE_MIX;
	need[REQ_SELECT] = o.mode == MODE_SELECT || o.mode == MODE_MIX;
	need[REQ_INFORM] = o.mode == MODE_INFORM;
	g.n_slots = o.window;
	/* Everything the run touches, allocated once, here. */
	g.templates = calloc((size_t)o.clients * REQ_TYPES, TPL_SIZE);
	g.tpl_len = calloc((size_t)o.clients * REQ_TYPES, sizeof(*g.tpl_len));
	g.macs = calloc(o.clients, sizeof(*g.macs));
	g.slots = calloc(g.n_slots, sizeof(*g.slots));
	g.free_stack = calloc(g.n_slots, sizeof(*g.free_stack));
	g.sbuf = calloc(BATCH, sizeof(*g.sbuf));
	g.rbuf = calloc(BATCH, sizeof(*g.rbuf));
	if (o.last_selects)
		g.last_sel = calloc(o.last_selects, sizeof(*g.last_sel));
	if (!g.templates || !g.tpl_len || !g.macs || !g.slots || !g.free_stack || !g.sbuf ||
	    !g.rbuf || (o.last_selects && !g.last_sel)) {
		fprintf(stderr, "bsdp-load: out of memory\n");
		goto out;
	}
	for (uint32_t i = 0; i < g.n_slots; i++)
		g.free_stack[i] = g.n_slots - 1 - i;
	g.n_free = g.n_slots;
	g.head = g.tail = NIL;

	g.fd67 = open_socket(DHCP_SERVER_PORT, true);
	if (g.fd67 < 0)
		goto out;
	if (o.listen68)
		g.fd68 = open_socket(DHCP_CLIENT_PORT, false);

	/* MACs first: discovery asks as client 0. */
	{
		bool none[REQ_TYPES] = { false, false, false };
		if (build_templates(&g, none) < 0)
			goto out;
	}
	if (need[REQ_SELECT] && (!o.has_server_id || !o.has_image || o.image <= 0xffff) &&
	    discover(&g, &o) < 0)
		goto out;
	if (build_templates(&g, need) < 0)
		goto out;

	secs = run(&g);
	report(&g, secs);
	rc = g.st.answered > 0 ? EXIT_OK : EXIT_FAIL;
out:
	if (g.fd67 >= 0)
		close(g.fd67);
	if (g.fd68 >= 0)
		close(g.fd68);
	free(g.templates);
	free(g.tpl_len);
	free(g.macs);
	free(g.slots);
	free(g.free_stack);
	free(g.sbuf);
	free(g.rbuf);
	free(g.last_sel);
	free(o.file_macs);
	return rc;
}
