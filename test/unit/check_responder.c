/* SPDX-License-Identifier: MPL-2.0 */
/* Responder and policy: the decisions of docs/bsdp.md §7-§8, end to end
 * from option 43/60 bytes to the option-43 bytes of the reply. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook/policy.h"
#include "hook/responder.h"

/* Image tables below leave trailing spec fields at their zero defaults. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define SERVER 0xc6120001u /* 198.18.0.1 */
#define OTHER 0xc6120002u
#define CLIENT_IP 0xc6120064u
#define MAC_A { 0x00, 0x16, 0xcb, 0x01, 0x02, 0x03 }
#define MAC_B { 0x00, 0x16, 0xcb, 0x0a, 0x0b, 0x0c }

static char *dup(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct spec {
	uint16_t index;
	uint8_t kind;
	bool install, is_default, enabled, filter_only;
	enum bsdp_image_type type;
	unsigned archs;
	const char *name, *set_dir, *boot_file, *root_path;
	const char *model;             /* one EnabledSystemIdentifier, or NULL */
	const uint8_t *disabled_mac;   /* one DisabledMACAddress, or NULL */
	uint32_t lbs;
};

static void add(struct bsdp_catalogue *c, struct spec s)
{
	struct bsdp_image img = {
		.id = BSDP_IMAGE_ID(s.install, s.kind, s.index),
		.index = s.index,
		.kind = s.kind,
		.install = s.install,
		.is_default = s.is_default,
		.is_enabled = s.enabled,
		.filter_only = s.filter_only,
		.type = s.type,
		.archs = s.archs,
		.name = dup(s.name),
		.name_len = strlen(s.name),
		.set_dir = dup(s.set_dir),
		.boot_file = dup(s.boot_file),
		.root_path = dup(s.root_path),
		.load_balance_server = s.lbs,
	};
	if (s.model) {
		img.enabled_models = calloc(1, sizeof(char *));
		img.enabled_models[0] = dup(s.model);
		img.n_enabled_models = 1;
	}
	if (s.disabled_mac) {
		img.disabled_macs = calloc(1, 6);
		memcpy(img.disabled_macs[0], s.disabled_mac, 6);
		img.n_disabled_macs = 1;
	}
	ck_assert_int_eq(bsdp_catalogue_add(c, &img), 0);
}

static const uint8_t mac_a[6] = MAC_A;

static struct bsdp_catalogue *cat;
static struct bsdp_bindings *bindings;
static struct bsdp_responder resp;

static void setup(void)
{
	cat = bsdp_catalogue_new("/srv/sets");
	add(cat, (struct spec){ 100, 1, false, false, true, false, BSDP_TYPE_HTTP, BSDP_ARCH_I386,
				"Catalina NetBoot", "Catalina.nbi", "booter", "NetBoot.dmg" });
	add(cat, (struct spec){ 200, 1, true, true, true, false, BSDP_TYPE_NFS, BSDP_ARCH_I386,
				"Install macOS", "Install macOS.nbi", "booter", "Install Disk.dmg" });
	add(cat, (struct spec){ 300, 3, false, false, true, true, BSDP_TYPE_BOOTFILEONLY,
				BSDP_ARCH_I386, "Diagnostics", "Diags.nbi", "diags.efi", NULL });
	add(cat, (struct spec){ 400, 1, false, false, false, false, BSDP_TYPE_HTTP, BSDP_ARCH_I386,
				"Disabled", "Disabled.nbi", "booter", "x.dmg" });
	add(cat, (struct spec){ 500, 1, false, false, true, false, BSDP_TYPE_HTTP, BSDP_ARCH_PPC,
				"PowerPC only", "PPC.nbi", "booter", "x.dmg" });
	add(cat, (struct spec){ 600, 1, false, false, true, false, BSDP_TYPE_HTTP, BSDP_ARCH_I386,
				"iMac only", "iMac.nbi", "booter", "x.dmg", "iMac14,2" });
	add(cat, (struct spec){ 700, 1, false, false, true, false, BSDP_TYPE_HTTP, BSDP_ARCH_I386,
				"Not for A", "NotA.nbi", "booter", "x.dmg", NULL, mac_a });
	bindings = bsdp_bindings_new(64);
	struct bsdp_responder_config cfg = {
		.server_address = 0,
		.priority = 32768,
		.nfs_url = "nfs:198.18.0.1:/srv/netboot/sets",
	};
	char err[128];
	ck_assert_int_eq(bsdp_responder_init(&resp, &cfg, err, sizeof(err)), 0);
}

static void teardown(void)
{
	bsdp_catalogue_free(cat);
	bsdp_bindings_free(bindings);
}

/* A request as a firmware client sends it. */
struct req {
	uint8_t type;
	uint16_t version;
	int server_id;      /* -1 = none */
	uint32_t image;     /* 0 = none */
	int reply_port;     /* 0 = none */
	int max_size;       /* 0 = none */
	const uint16_t *filters;
	size_t n_filters;
	const char *vc;     /* option 60 */
	const uint8_t *mac;
	bool not_sent;      /* the sender failed to send the reply: no commit */
};

static size_t encode(const struct req *r, uint8_t *out)
{
	size_t n = 0;
	out[n++] = 1; out[n++] = 1; out[n++] = r->type;
	out[n++] = 2; out[n++] = 2; out[n++] = (uint8_t)(r->version >> 8); out[n++] = (uint8_t)r->version;
	if (r->server_id >= 0 || r->server_id < -1) {
		uint32_t s = (uint32_t)r->server_id;
		out[n++] = 3; out[n++] = 4;
		out[n++] = (uint8_t)(s >> 24); out[n++] = (uint8_t)(s >> 16); out[n++] = (uint8_t)(s >> 8); out[n++] = (uint8_t)s;
	}
	if (r->image) {
		out[n++] = 8; out[n++] = 4;
		out[n++] = (uint8_t)(r->image >> 24); out[n++] = (uint8_t)(r->image >> 16);
		out[n++] = (uint8_t)(r->image >> 8); out[n++] = (uint8_t)r->image;
	}
	if (r->reply_port > 0) {
		out[n++] = 5; out[n++] = 2; out[n++] = (uint8_t)(r->reply_port >> 8); out[n++] = (uint8_t)r->reply_port;
	}
	if (r->max_size > 0) {
		out[n++] = 12; out[n++] = 2; out[n++] = (uint8_t)(r->max_size >> 8); out[n++] = (uint8_t)r->max_size;
	}
	if (r->n_filters) {
		out[n++] = 11; out[n++] = (uint8_t)(2 * r->n_filters);
		for (size_t i = 0; i < r->n_filters; i++) {
			out[n++] = (uint8_t)(r->filters[i] >> 8);
			out[n++] = (uint8_t)r->filters[i];
		}
	}
	return n;
}

/* Allocation counting (see test_responder_allocates_nothing_per_request). */
static volatile int counting, allocations, count_enabled;
static void set_counting(int on)
{
	counting = on && count_enabled;
}

static uint8_t reply_buf[9000];
static uint8_t fused[9000];

static struct bsdp_answer ask_q(struct req r, struct bsdp_query *override)
{
	uint8_t opt43[300];
	const char *vc = r.vc ? r.vc : "AAPLBSDPC/i386/MacBookPro11,1";
	struct bsdp_query q = {
		.opt43 = opt43,
		.opt43_len = encode(&r, opt43),
		.opt60 = vc,
		.opt60_len = strlen(vc),
		.mac_valid = true,
		.ciaddr = CLIENT_IP,
		.local_address = SERVER,
		.opt57 = -1,
		.reply_overhead = 260,
		.now = 1000,
	};
	memcpy(q.mac, r.mac ? r.mac : mac_a, 6);
	if (override) {
		override->opt43 = q.opt43;
		override->opt43_len = q.opt43_len;
		override->opt60 = q.opt60;
		override->opt60_len = q.opt60_len;
		q = *override;
	}
	struct bsdp_answer a;
	set_counting(1);
	int rc = bsdp_responder_answer(&resp, cat, bindings, &q, reply_buf, sizeof(reply_buf), 255, &a);
	if (!r.not_sent)
		bsdp_responder_commit(bindings, &q, &a); /* as a sender does once it went out */
	set_counting(0);
	ck_assert_int_eq(rc, 0);
	return a;
}

static struct bsdp_answer ask(struct req r)
{
	if (!r.version)
		r.version = BSDP_VERSION_1_1;
	return ask_q(r, NULL);
}

static struct bsdp_reply decode(const struct bsdp_answer *a)
{
	size_t at = 0, o = 0;
	while (at < a->opt43_len) {
		ck_assert_uint_eq(reply_buf[at], 43);
		ck_assert_uint_le(reply_buf[at + 1], 255);
		memcpy(fused + o, reply_buf + at + 2, reply_buf[at + 1]);
		o += reply_buf[at + 1];
		at += 2 + reply_buf[at + 1];
	}
	ck_assert_uint_eq(at, a->opt43_len);
	struct bsdp_reply rep;
	ck_assert_int_eq(bsdp_codec_parse_reply(fused, o, &rep), 0);
	return rep;
}

static size_t listed_ids(const struct bsdp_reply *rep, uint32_t *ids, size_t max)
{
	struct bsdp_image_iter it;
	uint32_t id;
	const uint8_t *name;
	size_t len, n = 0;
	bsdp_image_iter_init(&it, rep);
	while (bsdp_image_iter_next(&it, &id, &name, &len) && n < max)
		ids[n++] = id;
	return n;
}

#define ID_HTTP BSDP_IMAGE_ID(0, 1, 100)
#define ID_NFS BSDP_IMAGE_ID(1, 1, 200)
#define ID_DIAG BSDP_IMAGE_ID(0, 3, 300)
#define ID_OFF BSDP_IMAGE_ID(0, 1, 400)
#define ID_PPC BSDP_IMAGE_ID(0, 1, 500)
#define ID_IMAC BSDP_IMAGE_ID(0, 1, 600)
#define ID_NOTA BSDP_IMAGE_ID(0, 1, 700)

START_TEST(test_responder_list_default_first_and_applicable_only)
{
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1 });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_LIST);
	struct bsdp_reply rep = decode(&a);
	ck_assert_uint_eq(rep.msg_type, BSDP_MSGTYPE_LIST);
	ck_assert_uint_eq(rep.priority, 32768);
	ck_assert_uint_eq(rep.default_id, ID_NFS); /* the generic IsDefault */
	ck_assert(!(rep.present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)));
	uint32_t ids[16];
	size_t n = listed_ids(&rep, ids, 16);
	/* Not: disabled, ppc-only, iMac-only, MAC-disabled, FilterOnly diags. */
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(ids[0], ID_NFS);
	ck_assert_uint_eq(ids[1], ID_HTTP);
	ck_assert_uint_eq(a.images_listed, 2);
	ck_assert(!a.truncated);
}
END_TEST

START_TEST(test_responder_list_model_and_mac_lists)
{
	static const uint8_t mac_b[6] = MAC_B;
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1,
						 .vc = "AAPLBSDPC/i386/iMac14,2", .mac = mac_b });
	uint32_t ids[16];
	struct bsdp_reply rep = decode(&a);
	size_t n = listed_ids(&rep, ids, 16);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(ids[2], ID_IMAC);
	ck_assert_uint_eq(ids[3], ID_NOTA);
}
END_TEST

START_TEST(test_responder_attribute_filter_and_filter_only)
{
	static const uint16_t diag[] = { 0x0300 };
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1,
						 .filters = diag, .n_filters = 1 });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	struct bsdp_reply rep = decode(&a);
	uint32_t ids[16];
	ck_assert_uint_eq(listed_ids(&rep, ids, 16), 1);
	ck_assert_uint_eq(ids[0], ID_DIAG);
	ck_assert_uint_eq(rep.default_id, ID_DIAG); /* 7 is filtered too */
	static const uint16_t none[] = { 0x7f00 };
	a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1, .filters = none, .n_filters = 1 });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
	ck_assert_int_eq(a.drop, BSDP_DROP_NO_IMAGE);
}
END_TEST

START_TEST(test_responder_version_1_0_gets_no_list)
{
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1,
						 .version = BSDP_VERSION_1_0 });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	struct bsdp_reply rep = decode(&a);
	ck_assert_uint_eq(rep.default_id, ID_NFS);
	ck_assert(!(rep.present & BSDP_HAS(BSDP_OPT_BOOT_IMAGE_LIST)));
}
END_TEST

START_TEST(test_responder_silences)
{
	struct bsdp_answer a;
	struct bsdp_query q = { .mac_valid = true, .ciaddr = 0, .local_address = SERVER, .opt57 = -1 };
	a = ask_q((struct req){ .type = BSDP_MSGTYPE_LIST, .version = 0x0101, .server_id = -1 }, &q);
	ck_assert_int_eq(a.drop, BSDP_DROP_NO_CIADDR);
	a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1, .reply_port = 1024 });
	ck_assert_int_eq(a.drop, BSDP_DROP_REPLY_PORT);
	a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1, .reply_port = 1023 });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	ck_assert_uint_eq(a.reply_port, 1023);
	a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = -1, .image = ID_HTTP });
	ck_assert_int_eq(a.drop, BSDP_DROP_NO_SERVER_ID);
	a = ask((struct req){ .type = BSDP_MSGTYPE_FAILED, .server_id = -1 });
	ck_assert_int_eq(a.drop, BSDP_DROP_MESSAGE_TYPE);
	a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1, .vc = "AAPLBSDPC/arm64/X" });
	ck_assert_int_eq(a.drop, BSDP_DROP_NO_IMAGE);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(a.opt43_len, 0);
}
END_TEST

START_TEST(test_responder_missing_version_or_type_is_silence)
{
	static const uint8_t only_type[] = { 1, 1, 1 };
	static const uint8_t only_version[] = { 2, 2, 1, 1 };
	const char *vc = "AAPLBSDPC/i386/Mac";
	struct bsdp_query q = { .opt43 = only_type, .opt43_len = 3, .opt60 = vc, .opt60_len = strlen(vc),
				.mac_valid = true, .ciaddr = CLIENT_IP, .local_address = SERVER, .opt57 = -1 };
	struct bsdp_answer a;
	ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, reply_buf, sizeof(reply_buf), 255, &a), 0);
	ck_assert_int_eq(a.drop, BSDP_DROP_INCOMPLETE);
	q.opt43 = only_version;
	q.opt43_len = 4;
	bsdp_responder_answer(&resp, cat, bindings, &q, reply_buf, sizeof(reply_buf), 255, &a);
	ck_assert_int_eq(a.drop, BSDP_DROP_INCOMPLETE);
}
END_TEST

START_TEST(test_responder_malformed_and_not_bsdp)
{
	static const uint8_t bad[] = { 1, 1, 1, 2, 3, 1, 1, 0 };
	static const uint8_t good[] = { 1, 1, 1, 2, 2, 1, 1 };
	struct bsdp_query q = { .opt43 = bad, .opt43_len = sizeof(bad), .opt60 = "AAPLBSDPC/i386/M",
				.opt60_len = 16, .ciaddr = CLIENT_IP, .local_address = SERVER, .opt57 = -1 };
	struct bsdp_answer a;
	bsdp_responder_answer(&resp, cat, bindings, &q, reply_buf, sizeof(reply_buf), 255, &a);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
	ck_assert_int_eq(a.drop, BSDP_DROP_MALFORMED);
	q.opt43 = good;
	q.opt43_len = sizeof(good);
	q.opt60 = "AAPLBSDPC/i386/M\nX";
	q.opt60_len = 18;
	bsdp_responder_answer(&resp, cat, bindings, &q, reply_buf, sizeof(reply_buf), 255, &a);
	ck_assert_int_eq(a.drop, BSDP_DROP_MALFORMED);
	q.opt60 = "PXEClient:Arch:00007";
	q.opt60_len = strlen(q.opt60);
	bsdp_responder_answer(&resp, cat, bindings, &q, reply_buf, sizeof(reply_buf), 255, &a);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_NOT_BSDP);
	q.opt60 = NULL;
	bsdp_responder_answer(&resp, cat, bindings, &q, reply_buf, sizeof(reply_buf), 255, &a);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_NOT_BSDP);
}
END_TEST

START_TEST(test_responder_select_http_escapes_spaces_and_names_machine)
{
	/* Default http-url: http://<server>/netboot. */
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_HTTP });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_SELECT);
	ck_assert_str_eq(a.file, "Catalina.nbi/i386/booter");
	ck_assert_str_eq(a.root_path, "http://198.18.0.1/netboot/Catalina.nbi/NetBoot.dmg");
	ck_assert_uint_eq(a.siaddr, SERVER);
	ck_assert_str_eq(a.machine_name, "NetBoot001");
	static const uint8_t expect[] = { 43, 21, 1, 1, 2, 8, 4, 0x01, 0, 0, 100, 130, 10,
					  'N', 'e', 't', 'B', 'o', 'o', 't', '0', '0', '1' };
	ck_assert_uint_eq(a.opt43_len, sizeof(expect));
	ck_assert_mem_eq(reply_buf, expect, sizeof(expect));

	struct bsdp_responder_config cfg = { .priority = 7, .http_url = "http://198.18.0.9:8080/net boot/",
					     .tftp_path_prefix = "netboot/" };
	char err[128];
	ck_assert_int_eq(bsdp_responder_init(&resp, &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "parameter 'http-url': must not contain spaces or control characters (write %20 for a space)");
	cfg.http_url = "http://198.18.0.9:8080/sets/";
	cfg.nfs_url = "nfs:198.18.0.1:/srv/netboot/sets";
	ck_assert_int_eq(bsdp_responder_init(&resp, &cfg, err, sizeof(err)), 0);
	static const uint8_t mac_b[6] = MAC_B;
	a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_NFS, .mac = mac_b });
	ck_assert_str_eq(a.file, "netboot/Install macOS.nbi/i386/booter");
	ck_assert_str_eq(a.root_path, "nfs:198.18.0.1:/srv/netboot/sets:Install macOS.nbi/Install Disk.dmg");
	ck_assert_str_eq(a.machine_name, "NetBoot002");
	/* An HTTP set with spaces in its folder, through a configured URL. */
	bsdp_catalogue_free(cat);
	cat = bsdp_catalogue_new("/srv");
	add(cat, (struct spec){ 9, 1, false, false, true, false, BSDP_TYPE_HTTP, BSDP_ARCH_I386,
				"x", "El Capitan #1.nbi", "booter", "Net Boot.dmg", .lbs = 0xc6120005 });
	a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = BSDP_IMAGE_ID(0, 1, 9) });
	ck_assert_str_eq(a.root_path, "http://198.18.0.5:8080/sets/El%20Capitan%20%231.nbi/Net%20Boot.dmg");
	ck_assert_uint_eq(a.siaddr, 0xc6120005);
	ck_assert_str_eq(a.machine_name, "NetBoot001"); /* MAC A keeps its number */
}
END_TEST

/* A URL RootPath (bsdp_root_path_is_url, the scan's rule too) is sent as
 * written, with or without nfs-url; any other is a file in the set. */
START_TEST(test_responder_select_sends_url_root_paths_as_written)
{
	static const struct {
		uint16_t index;
		enum bsdp_image_type type;
		const char *root_path, *sent;
	} rows[] = {
		{ 1, BSDP_TYPE_NFS, "nfs:198.18.0.9:/exports/netboot:Shared/NetBoot.dmg",
		  "nfs:198.18.0.9:/exports/netboot:Shared/NetBoot.dmg" },
		{ 2, BSDP_TYPE_HTTP, "nfs:198.18.0.9:/exports:x.dmg", "nfs:198.18.0.9:/exports:x.dmg" },
		{ 3, BSDP_TYPE_HTTP, "https://198.18.0.9/x.dmg", "https://198.18.0.9/x.dmg" },
		{ 4, BSDP_TYPE_NFS, "http://198.18.0.9/x.dmg", "http://198.18.0.9/x.dmg" },
		{ 5, BSDP_TYPE_HTTP, "nfs-like:x.dmg", "http://198.18.0.1/netboot/Set.nbi/nfs-like:x.dmg" },
	};
	struct bsdp_responder_config cfg = { .priority = 7 };
	char err[128];
	size_t i;

	ck_assert_int_eq(bsdp_responder_init(&resp, &cfg, err, sizeof(err)), 0);
	bsdp_catalogue_free(cat);
	cat = bsdp_catalogue_new("/srv");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		add(cat, (struct spec){ rows[i].index, 1, false, false, true, false, rows[i].type,
					BSDP_ARCH_I386, "x", "Set.nbi", "booter", rows[i].root_path });
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER,
							 .image = BSDP_IMAGE_ID(0, 1, rows[i].index) });
		ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
		ck_assert_str_eq(a.root_path, rows[i].sent);
	}
}
END_TEST

START_TEST(test_responder_select_bootfileonly_has_no_root_path_or_name)
{
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_DIAG });
	ck_assert_int_eq(a.sent, BSDP_MSGTYPE_SELECT); /* filter not applied to SELECT */
	ck_assert_str_eq(a.file, "Diags.nbi/i386/diags.efi");
	ck_assert_str_eq(a.root_path, "");
	struct bsdp_reply rep = decode(&a);
	ck_assert_ptr_null(rep.machine_name);
	ck_assert_uint_eq(rep.selected_id, ID_DIAG);
}
END_TEST

START_TEST(test_responder_select_failures)
{
	static const struct {
		uint32_t id;
		const char *why;
	} cases[] = {
		{ BSDP_IMAGE_ID(0, 1, 999), "unknown image" },
		{ ID_OFF, "image disabled" },
		{ ID_PPC, "image not applicable to this client" },
		{ ID_IMAC, "image not applicable to this client" },
		{ ID_NOTA, "image not applicable to this client" },
		{ BSDP_IMAGE_ID(1, 1, 100), "unknown image" }, /* same index, other id */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER,
							 .image = cases[i].id });
		ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
		ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_FAILED);
		ck_assert_str_eq(a.why, cases[i].why);
		ck_assert_uint_eq(a.opt43_len, 5);
		ck_assert_mem_eq(reply_buf, ((const uint8_t[]){ 43, 3, 1, 1, 3 }), 5);
	}
	struct bsdp_binding b;
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_a, &b), -ENOENT);
}
END_TEST

START_TEST(test_responder_booter_path_over_127_fails)
{
	char dir[200];
	bsdp_catalogue_free(cat);
	cat = bsdp_catalogue_new("/srv");
	for (size_t len = 110; len <= 111; len++) {
		/* file = dir + "/i386/booter" (12 bytes): 127 fits, 128 does not. */
		memset(dir, 'd', len - 4);
		memcpy(dir + len - 4, ".nbi", 5);
		add(cat, (struct spec){ (uint16_t)len, 1, false, false, true, false, BSDP_TYPE_BOOTFILEONLY,
					BSDP_ARCH_I386, "x", dir, "booter", NULL });
	}
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER,
						 .image = BSDP_IMAGE_ID(0, 1, 115 - 5) });
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_SELECT);
	ck_assert_uint_eq(strlen(a.file), 122);
	a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = BSDP_IMAGE_ID(0, 1, 111) });
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_SELECT);
	ck_assert_uint_eq(strlen(a.file), 123);
	/* Push the prefix so one is exactly 127 and the other 128. */
	struct bsdp_responder_config cfg = { .tftp_path_prefix = "ppppp" };
	char err[64];
	bsdp_responder_init(&resp, &cfg, err, sizeof(err));
	a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = BSDP_IMAGE_ID(0, 1, 110) });
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_SELECT);
	ck_assert_uint_eq(strlen(a.file), 127);
	a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = BSDP_IMAGE_ID(0, 1, 111) });
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_FAILED);
	ck_assert_str_eq(a.why, "booter path longer than 127 bytes");
}
END_TEST

START_TEST(test_responder_other_server_select_is_silent_and_forgets)
{
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_HTTP });
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_SELECT);
	a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1 });
	struct bsdp_reply rep = decode(&a);
	ck_assert_uint_eq(rep.selected_id, ID_HTTP); /* remembered: 8 in LIST */
	ck_assert_uint_eq(rep.default_id, ID_NFS);
	a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = OTHER, .image = ID_HTTP });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
	ck_assert_int_eq(a.drop, BSDP_DROP_OTHER_SERVER);
	a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1 });
	rep = decode(&a);
	ck_assert(!(rep.present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)));
	struct bsdp_binding b;
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_a, &b), 0);
	ck_assert_uint_eq(b.number, 1); /* the number stays */
}
END_TEST

START_TEST(test_policy_load_priority_is_32768_less_the_bindings_never_below_0)
{
	ck_assert_uint_eq(bsdp_policy_load_priority(0), 32768);
	ck_assert_uint_eq(bsdp_policy_load_priority(1), 32767);
	ck_assert_uint_eq(bsdp_policy_load_priority(32767), 1);
	ck_assert_uint_eq(bsdp_policy_load_priority(32768), 0);
	ck_assert_uint_eq(bsdp_policy_load_priority(65536 + 5), 0);
	ck_assert_uint_eq(bsdp_policy_load_priority(UINT64_MAX), 0);
}
END_TEST

static uint16_t listed_priority(void)
{
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1 });
	struct bsdp_reply rep = decode(&a);
	ck_assert(rep.present & BSDP_HAS(BSDP_OPT_SERVER_PRIORITY));
	return rep.priority;
}

/* "server-priority": "load": each LIST announces 32768 less the Macs
 * holding a selection now (not those forgotten), or less the count a
 * bindings database published; a fixed priority ignores both. */
START_TEST(test_responder_priority_from_load_follows_the_bindings)
{
	struct bsdp_responder_config cfg = { .priority = 100, .priority_from_load = true,
					     .nfs_url = "nfs:198.18.0.1:/srv/netboot/sets" };
	char err[128];
	ck_assert_int_eq(bsdp_responder_init(&resp, &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(listed_priority(), 32768);
	uint8_t macs[3][6] = { MAC_A, MAC_B, { 0x00, 0x16, 0xcb, 0x0d, 0x0e, 0x0f } };
	for (int i = 0; i < 3; i++) {
		struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER,
							 .image = ID_HTTP, .mac = macs[i] });
		ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_SELECT);
	}
	ck_assert_uint_eq(listed_priority(), 32765);
	/* A SELECT again is no new binding; one naming another server
	 * forgets it: the count falls. */
	ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_NFS, .mac = macs[1] });
	ck_assert_uint_eq(listed_priority(), 32765);
	ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = OTHER, .image = ID_HTTP, .mac = macs[1] });
	ck_assert_uint_eq(listed_priority(), 32766);
	bsdp_bindings_remove(bindings, macs[2]);
	ck_assert_uint_eq(listed_priority(), 32767);
	/* A database's count stands in while published. */
	bsdp_bindings_share_bound(bindings, true, 40000);
	ck_assert_uint_eq(listed_priority(), 0);
	bsdp_bindings_share_bound(bindings, true, 68);
	ck_assert_uint_eq(listed_priority(), 32700);
	bsdp_bindings_share_bound(bindings, false, 0);
	ck_assert_uint_eq(listed_priority(), 32767);
	/* The fixed priority whatever the load. */
	cfg.priority_from_load = false;
	ck_assert_int_eq(bsdp_responder_init(&resp, &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(listed_priority(), 100);
}
END_TEST

START_TEST(test_responder_select_without_image_takes_default)
{
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER });
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_SELECT);
	ck_assert_uint_eq(a.selected_id, ID_NFS);
	struct bsdp_binding b;
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_a, &b), 0);
	ck_assert_uint_eq(b.image_id, ID_NFS);
	ck_assert_int_eq(b.time, 1000);
}
END_TEST

START_TEST(test_responder_pinned_index_overrides_binding)
{
	ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_HTTP });
	struct bsdp_query q = { .mac_valid = true, .ciaddr = CLIENT_IP, .local_address = SERVER,
				.opt57 = -1, .pinned_image = 200 };
	memcpy(q.mac, mac_a, 6);
	struct bsdp_answer a = ask_q((struct req){ .type = BSDP_MSGTYPE_LIST, .version = 0x0101, .server_id = -1 }, &q);
	ck_assert_uint_eq(decode(&a).selected_id, ID_NFS);
	q.pinned_image = 400; /* disabled: ignored, the binding shows */
	a = ask_q((struct req){ .type = BSDP_MSGTYPE_LIST, .version = 0x0101, .server_id = -1 }, &q);
	ck_assert_uint_eq(decode(&a).selected_id, ID_HTTP);
}
END_TEST

/* A 576-byte client: the reply fits and keeps the default, truncated at a
 * description boundary. */
START_TEST(test_responder_list_fits_576_and_keeps_default)
{
	char name[64], dir[64];
	bsdp_catalogue_free(cat);
	cat = bsdp_catalogue_new("/srv");
	for (uint16_t i = 1; i <= 40; i++) {
		snprintf(name, sizeof(name), "NetBoot image %02u with a long descriptive name", i);
		snprintf(dir, sizeof(dir), "set%02u.nbi", i);
		add(cat, (struct spec){ i, 1, false, i == 40, true, false, BSDP_TYPE_HTTP, BSDP_ARCH_I386,
					name, dir, "booter", "x.dmg" });
	}
	struct bsdp_query q = { .mac_valid = true, .ciaddr = CLIENT_IP, .local_address = SERVER,
				.opt57 = 576, .reply_overhead = 240 + 3 + 6 + 11 + 1 };
	memcpy(q.mac, mac_a, 6);
	struct bsdp_answer a = ask_q((struct req){ .type = BSDP_MSGTYPE_LIST, .version = 0x0101, .server_id = -1 }, &q);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	ck_assert(a.truncated);
	ck_assert_uint_le(q.reply_overhead + a.opt43_len, 548);
	ck_assert_uint_eq(a.images_visible, 40);
	struct bsdp_reply rep = decode(&a);
	uint32_t ids[64];
	size_t n = listed_ids(&rep, ids, 64);
	ck_assert_uint_eq(n, a.images_listed);
	ck_assert_uint_gt(n, 3);
	ck_assert_uint_eq(ids[0], BSDP_IMAGE_ID(0, 1, 40));
	ck_assert_uint_eq(rep.default_id, BSDP_IMAGE_ID(0, 1, 40));
	/* The link caps what the client allows: 1500 allowed, 576 carried. */
	size_t listed_576 = a.images_listed;
	q.opt57 = 1500;
	q.link_max = 548;
	a = ask_q((struct req){ .type = BSDP_MSGTYPE_LIST, .version = 0x0101, .server_id = -1 }, &q);
	ck_assert_uint_le(q.reply_overhead + a.opt43_len, 548);
	ck_assert_uint_eq(a.images_listed, listed_576);
	q.link_max = 0;
	a = ask_q((struct req){ .type = BSDP_MSGTYPE_LIST, .version = 0x0101, .server_id = -1 }, &q);
	ck_assert_uint_gt(a.images_listed, listed_576);
	q.opt57 = 576;
	/* A budget too small for the head: silence, not a broken reply. */
	q.reply_overhead = 540;
	a = ask_q((struct req){ .type = BSDP_MSGTYPE_LIST, .version = 0x0101, .server_id = -1 }, &q);
	ck_assert_int_eq(a.drop, BSDP_DROP_NO_ROOM);
}
END_TEST

START_TEST(test_responder_name_format_rules)
{
	char err[128], out[64];
	ck_assert_int_eq(bsdp_responder_check_name_format("NetBoot%03d", err, sizeof(err)), 0);
	ck_assert_int_eq(bsdp_responder_check_name_format("lab-%d-mac%%", err, sizeof(err)), 0);
	ck_assert_int_eq(bsdp_responder_check_name_format("NetBoot", err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "must contain exactly one %d conversion, found 0");
	ck_assert_int_eq(bsdp_responder_check_name_format("%d%d", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(bsdp_responder_check_name_format("%s", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(bsdp_responder_check_name_format("%n", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(bsdp_responder_check_name_format("%99d", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(bsdp_responder_check_name_format("a b%d", err, sizeof(err)), 0);
	ck_assert_int_eq(bsdp_responder_check_name_format("", err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(bsdp_responder_format_name("NetBoot%03d", 7, out, sizeof(out)), 10);
	ck_assert_str_eq(out, "NetBoot007");
	ck_assert_int_eq(bsdp_responder_format_name("m%5d%%", 42, out, sizeof(out)), 7);
	ck_assert_str_eq(out, "m   42%");
	ck_assert_int_eq(bsdp_responder_format_name("NetBoot%03d", 1234, out, 8), -ENOBUFS);
	struct bsdp_responder r;
	struct bsdp_responder_config cfg = { .machine_name_format = "%x" };
	ck_assert_int_eq(bsdp_responder_init(&r, &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "parameter 'machine-name-format'"));
	cfg = (struct bsdp_responder_config){ .nfs_url = "nfs://host/export" };
	ck_assert_int_eq(bsdp_responder_init(&r, &cfg, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, "parameter 'nfs-url': must be nfs:<host>:/<export>");
	cfg = (struct bsdp_responder_config){ .http_url = "ftp://x/" };
	ck_assert_int_eq(bsdp_responder_init(&r, &cfg, err, sizeof(err)), -EINVAL);
}
END_TEST

/* ---- OFFER* (subsequent boot): bootpd's bsdpd.c, DISCOVER case ---------- */

static uint8_t offer_buf[BSDP_OFFER_MAX];

/* A DHCPDISCOVER as Mac firmware sends it once told to NetBoot: option 60
 * AAPLBSDPC/<arch>/<model>, option 43 with the version (and any extra
 * sub-options, e.g. an attribute filter). */
struct disc {
	const uint8_t *mac;
	uint32_t giaddr;
	uint16_t flags;
	const char *vc;
	const uint8_t *extra43;   /* appended to 02 02 01 01 */
	size_t extra43_len;
	bool no_version;
	uint8_t type;             /* option 53, 0 = DISCOVER */
	uint8_t htype;            /* 0 = 1 */
	uint32_t siaddr;
	uint16_t opt57;           /* 0 = 1500 */
	bool no_opt57;
};

static size_t discover(const struct disc *d, uint8_t *m)
{
	const char *vc = d->vc ? d->vc : "AAPLBSDPC/i386/MacBookPro11,1";
	size_t n = 240, vlen = strlen(vc);
	memset(m, 0, 240);
	m[0] = 1;
	m[1] = d->htype ? d->htype : 1;
	m[2] = 6;
	m[3] = d->giaddr ? 1 : 0; /* a relay's hop */
	m[4] = 0xde; m[5] = 0xad; m[6] = 0xbe; m[7] = 0xef;
	m[8] = 0; m[9] = 4; /* secs */
	m[10] = (uint8_t)(d->flags >> 8); m[11] = (uint8_t)d->flags;
	m[24] = (uint8_t)(d->giaddr >> 24); m[25] = (uint8_t)(d->giaddr >> 16);
	m[26] = (uint8_t)(d->giaddr >> 8); m[27] = (uint8_t)d->giaddr;
	m[20] = (uint8_t)(d->siaddr >> 24); m[21] = (uint8_t)(d->siaddr >> 16);
	m[22] = (uint8_t)(d->siaddr >> 8); m[23] = (uint8_t)d->siaddr;
	memcpy(m + 28, d->mac ? d->mac : mac_a, 6);
	m[236] = 99; m[237] = 130; m[238] = 83; m[239] = 99;
	m[n++] = 53; m[n++] = 1; m[n++] = d->type ? d->type : 1;
	if (!d->no_opt57) {
		uint16_t max = d->opt57 ? d->opt57 : 1500;
		m[n++] = 57; m[n++] = 2; m[n++] = (uint8_t)(max >> 8); m[n++] = (uint8_t)max;
	}
	m[n++] = 60; m[n++] = (uint8_t)vlen;
	memcpy(m + n, vc, vlen);
	n += vlen;
	m[n++] = 43;
	m[n++] = (uint8_t)((d->no_version ? 0 : 4) + d->extra43_len);
	if (!d->no_version) {
		m[n++] = 2; m[n++] = 2; m[n++] = 1; m[n++] = 1;
	}
	if (d->extra43_len)
		memcpy(m + n, d->extra43, d->extra43_len);
	n += d->extra43_len;
	m[n++] = 255;
	return n;
}

static struct bsdp_answer offer_raw(const uint8_t *msg, size_t len, uint32_t pinned)
{
	struct bsdp_query q = { .local_address = SERVER, .now = 2000, .pinned_image = pinned,
				.msg = msg, .msg_len = len };
	struct bsdp_answer a;
	set_counting(1);
	int rc = bsdp_responder_offer(&resp, cat, bindings, &q, offer_buf, sizeof(offer_buf), &a);
	bsdp_responder_commit(bindings, &q, &a);
	set_counting(0);
	ck_assert_int_eq(rc, 0);
	return a;
}

static struct bsdp_answer offer_q(const struct disc *d, uint32_t pinned)
{
	uint8_t msg[600];
	return offer_raw(msg, discover(d, msg), pinned);
}

static struct bsdp_answer offer(const struct disc *d)
{
	return offer_q(d, 0);
}

#define OPT_53_54_60 "\x35\x01\x02" "\x36\x04\xc6\x12\x00\x01" "\x3c\x09" "AAPLBSDPC"

/* The field list of bsdpd.c's DISCOVER case: make_dhcp_reply (the
 * request's header, hops and secs 0, op 2, options 53 OFFER and 54),
 * make_bsdp_reply (option 60 AAPLBSDPC), ciaddr and yiaddr 0, option 43
 * with sub-option 8, then S_client_update as for an ACK[SELECT] (option 17,
 * sub-option 130, the booter in file), siaddr, END, padded to 300 bytes. */
START_TEST(test_offer_bound_mac_gets_bootpds_fields)
{
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_HTTP });
	ck_assert_str_eq(a.machine_name, "NetBoot001");

	a = offer(&(struct disc){ .flags = 0x8000 });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	ck_assert(a.offer);
	static const char opts[] = OPT_53_54_60
		"\x11\x32" "http://198.18.0.1/netboot/Catalina.nbi/NetBoot.dmg"
		"\x2b\x12" "\x08\x04\x01\x00\x00\x64" "\x82\x0a" "NetBoot001"
		"\xff";
	ck_assert_uint_eq(a.message_len, 240 + sizeof(opts) - 1);
	const uint8_t *m = offer_buf;
	static const uint8_t head[] = { 2, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0x80, 0,
					0, 0, 0, 0, 0, 0, 0, 0, 198, 18, 0, 1, 0, 0, 0, 0,
					0x00, 0x16, 0xcb, 0x01, 0x02, 0x03 };
	ck_assert_mem_eq(m, head, sizeof(head));
	static const uint8_t zero[128] = { 0 };
	ck_assert_mem_eq(m + 34, zero, 10);          /* the rest of chaddr */
	ck_assert_mem_eq(m + 44, zero, 64);          /* sname */
	ck_assert_str_eq((const char *)m + 108, "Catalina.nbi/i386/booter");
	ck_assert_mem_eq(m + 108 + 24, zero, 128 - 24);
	static const uint8_t cookie[] = { 99, 130, 83, 99 };
	ck_assert_mem_eq(m + 236, cookie, 4);
	ck_assert_mem_eq(m + 240, opts, sizeof(opts) - 1);

	/* Relayed: giaddr echoed (the sender sends to it), hops 0. */
	a = offer(&(struct disc){ .giaddr = 0xc6130001 });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	static const uint8_t relay[] = { 198, 19, 0, 1 };
	ck_assert_uint_eq(offer_buf[3], 0);
	ck_assert_uint_eq(offer_buf[10], 0);
	ck_assert_mem_eq(offer_buf + 24, relay, 4);
	ck_assert_str_eq(a.file, "Catalina.nbi/i386/booter");
	ck_assert_uint_eq(a.siaddr, SERVER);
}
END_TEST

/* BootFileOnly: no option 17, no machine name; short, so padded to 300. */
START_TEST(test_offer_bootfileonly_is_padded_to_300)
{
	bsdp_bindings_record(bindings, mac_a, ID_DIAG, 100, 0, NULL);
	static const uint8_t filter[] = { 11, 2, 0x03, 0x00 }; /* Diagnostics is FilterOnly */
	struct bsdp_answer a = offer(&(struct disc){ .extra43 = filter, .extra43_len = sizeof(filter) });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	static const char opts[] = OPT_53_54_60 "\x2b\x06" "\x08\x04\x03\x00\x01\x2c" "\xff";
	ck_assert_uint_eq(a.message_len, 300);
	ck_assert_mem_eq(offer_buf + 240, opts, sizeof(opts) - 1);
	static const uint8_t zero[300] = { 0 };
	ck_assert_mem_eq(offer_buf + 240 + sizeof(opts) - 1, zero, 300 - 240 - (sizeof(opts) - 1));
	ck_assert_str_eq((const char *)offer_buf + 108, "Diags.nbi/i386/diags.efi");
}
END_TEST

/* No OFFER* without a binding, for an image gone or disabled, or one the
 * Mac's model, MAC or attribute filter no longer allows (bsdpd.c: "If the
 * image is no longer present, or the client's system identifier is not
 * supported by the image, or the image attributes don't match..."). */
START_TEST(test_offer_silences)
{
	static const uint8_t mac_b[6] = MAC_B;
	struct bsdp_answer a = offer(&(struct disc){ 0 });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
	ck_assert_str_eq(a.why, "no binding");
	ck_assert_int_eq(bsdp_bindings_count(bindings), 0); /* nothing recorded */

	struct { uint32_t id; const char *vc; const uint8_t *f; size_t nf; const char *why; } rows[] = {
		{ BSDP_IMAGE_ID(0, 1, 999), NULL, NULL, 0, "bound image no longer exists" },
		{ ID_OFF, NULL, NULL, 0, "bound image disabled" },
		{ ID_IMAC, NULL, NULL, 0, "bound image no longer allowed for this client (model, MAC or attribute filter)" },
		{ ID_NOTA, NULL, NULL, 0, "bound image no longer allowed for this client (model, MAC or attribute filter)" },
		{ ID_PPC, NULL, NULL, 0, "bound image no longer allowed for this client (model, MAC or attribute filter)" },
		{ ID_DIAG, NULL, NULL, 0, "bound image no longer allowed for this client (model, MAC or attribute filter)" },
		{ ID_HTTP, NULL, (const uint8_t[]){ 11, 2, 0x81, 0x00 }, 4, "bound image no longer allowed for this client (model, MAC or attribute filter)" },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		bsdp_bindings_record(bindings, mac_a, rows[i].id, 100, 0, NULL);
		a = offer(&(struct disc){ .vc = rows[i].vc, .extra43 = rows[i].f, .extra43_len = rows[i].nf });
		ck_assert_msg(a.verdict == BSDP_VERDICT_DROP, "row %zu", i);
		ck_assert_str_eq(a.why, rows[i].why);
	}
	/* The iMac-only image for an iMac, the "Not for A" one for MAC B: offered. */
	bsdp_bindings_record(bindings, mac_a, ID_IMAC, 100, 0, NULL);
	a = offer(&(struct disc){ .vc = "AAPLBSDPC/i386/iMac14,2" });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	bsdp_bindings_record(bindings, mac_b, ID_NOTA, 100, 0, NULL);
	a = offer(&(struct disc){ .mac = mac_b });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	/* A binding forgotten (the Mac SELECTed another server). */
	bsdp_bindings_forget(bindings, mac_b, 101);
	a = offer(&(struct disc){ .mac = mac_b });
	ck_assert_str_eq(a.why, "no binding");

	/* Not BSDP at all, or BSDP without the version sub-option. */
	bsdp_bindings_record(bindings, mac_a, ID_HTTP, 100, 0, NULL);
	ck_assert_int_eq(offer(&(struct disc){ .vc = "PXEClient:Arch:00007" }).verdict, BSDP_VERDICT_NOT_BSDP);
	ck_assert_int_eq(offer(&(struct disc){ .type = 3 }).verdict, BSDP_VERDICT_NOT_BSDP);
	ck_assert_int_eq(offer(&(struct disc){ .type = 8 }).verdict, BSDP_VERDICT_NOT_BSDP);
	ck_assert_int_eq(offer(&(struct disc){ .htype = 6 }).verdict, BSDP_VERDICT_NOT_BSDP);
	a = offer(&(struct disc){ .no_version = true });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
	ck_assert_str_eq(a.why, "no BSDP version");
	a = offer(&(struct disc){ .extra43 = (const uint8_t[]){ 8, 9 }, .extra43_len = 2 });
	ck_assert_int_eq(a.drop, BSDP_DROP_MALFORMED);
	a = offer(&(struct disc){ .vc = "AAPLBSDPC/" });
	ck_assert_int_eq(a.drop, BSDP_DROP_MALFORMED);
	ck_assert_int_eq(offer(&(struct disc){ 0 }).verdict, BSDP_VERDICT_REPLY);
}
END_TEST

/* bsdpd.c answers only a BSDP it knows (is_bsdp_packet: version 1.1, 1.0
 * or 0.0; sub-option 10, NetBoot 1.0 firmware, is old NetBoot's), and
 * bootpd.c only a request for no server or for it (siaddr). */
START_TEST(test_offer_only_known_versions)
{
	bsdp_bindings_record(bindings, mac_a, ID_HTTP, 100, 0, NULL);
	static const struct { uint8_t v[4]; bool sent; } rows[] = {
		{ { 2, 2, 0x01, 0x01 }, true }, { { 2, 2, 0x01, 0x00 }, true },
		{ { 2, 2, 0x00, 0x00 }, true }, { { 2, 2, 0x02, 0x00 }, false },
		{ { 2, 2, 0x01, 0x02 }, false }, { { 2, 2, 0xff, 0xff }, false },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct bsdp_answer a = offer(&(struct disc){ .no_version = true, .extra43 = rows[i].v,
							     .extra43_len = 4 });
		ck_assert_msg(a.verdict == (rows[i].sent ? BSDP_VERDICT_REPLY : BSDP_VERDICT_DROP),
			      "version %02x%02x", rows[i].v[2], rows[i].v[3]);
		if (!rows[i].sent)
			ck_assert_str_eq(a.why, "BSDP version not 1.1, 1.0 or 0.0");
	}
	/* bootpd.c drops a request whose siaddr is another server's. */
	ck_assert_int_eq(offer(&(struct disc){ .siaddr = SERVER }).verdict, BSDP_VERDICT_REPLY);
	struct bsdp_answer other = offer(&(struct disc){ .siaddr = OTHER });
	ck_assert_int_eq(other.verdict, BSDP_VERDICT_DROP);
	ck_assert_str_eq(other.why, "DISCOVER for another server (siaddr)");
	static const uint8_t firmware10[] = { 10, 0 };
	struct bsdp_answer a = offer(&(struct disc){ .extra43 = firmware10, .extra43_len = 2 });
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
	ck_assert_str_eq(a.why, "NetBoot 1.0 firmware");
}
END_TEST

/* bsdpd.c builds the OFFER* into dhcp_max_message_size() (option 57 when
 * above 548, else 548; at most 1500) less 28, and sends nothing when it
 * does not fit. A 240-byte root path and a 56-byte name make 569 bytes. */
START_TEST(test_offer_fits_the_macs_message_size)
{
	char url[241], fmt[58]; /* 53 bytes and %03d: the longest names allowed */
	memset(url, 'u', sizeof(url) - 1);
	memcpy(url, "http://198.18.0.1/", 18);
	url[sizeof(url) - 1] = '\0';
	memset(fmt, 'n', sizeof(fmt) - 1);
	memcpy(fmt + sizeof(fmt) - 5, "%03d", 5);
	add(cat, (struct spec){ 800, 1, false, false, true, false, BSDP_TYPE_HTTP, BSDP_ARCH_I386,
				"Long", "Long.nbi", "booter", url });
	struct bsdp_responder_config cfg = { .priority = 32768, .machine_name_format = fmt };
	char err[128];
	ck_assert_int_eq(bsdp_responder_init(&resp, &cfg, err, sizeof(err)), 0);
	const uint32_t id = BSDP_IMAGE_ID(0, 1, 800);
	bsdp_bindings_record(bindings, mac_a, id, 100, 0, NULL);

	struct bsdp_answer a = offer(&(struct disc){ 0 }); /* option 57: 1500 */
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	ck_assert_uint_eq(a.message_len, 240 + 3 + 6 + 11 + 2 + 240 + 2 + 6 + 2 + 56 + 1);
	static const struct { uint16_t opt57; bool none; } small[] = {
		{ 0, true }, { 576, false }, { 300, false }, { 596, false },
	};
	for (size_t i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		a = offer(&(struct disc){ .opt57 = small[i].opt57, .no_opt57 = small[i].none });
		ck_assert_msg(a.verdict == BSDP_VERDICT_DROP, "option 57 %u", small[i].opt57);
		ck_assert_int_eq(a.drop, BSDP_DROP_NO_ROOM);
		ck_assert_str_eq(a.why, "the OFFER* does not fit the Mac's message size");
	}
	ck_assert_int_eq(offer(&(struct disc){ .opt57 = 597 }).verdict, BSDP_VERDICT_REPLY);
	struct bsdp_binding b;
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_a, &b), 0);
	ck_assert_int_eq(b.time, 2000); /* the last one sent */
}
END_TEST

/* Hostile DISCOVERs from a bound MAC: every truncation (read from a heap
 * block of exactly that size, so ASan sees any read past it), option 43
 * in instances beyond what any DISCOVER needs, option 52 (overload, which
 * a Mac never sends: sname and file are not read), empty options 60 and 43. */
START_TEST(test_offer_hostile_discovers)
{
	bsdp_bindings_record(bindings, mac_a, ID_HTTP, 100, 0, NULL);
	uint8_t m[2560];
	size_t n = discover(&(struct disc){ 0 }, m);
	for (size_t cut = 0; cut < n; cut++) {
		uint8_t *exact = malloc(cut ? cut : 1);
		memcpy(exact, m, cut);
		struct bsdp_answer a = offer_raw(exact, cut, 0);
		free(exact);
		/* Only the END option may go: a DISCOVER without END still ends. */
		ck_assert_msg((a.verdict == BSDP_VERDICT_REPLY) == (cut == n - 1), "cut at %zu", cut);
	}

	/* Option 43 in instances of 230 bytes (RFC 3396), the version first. */
	for (size_t instances = 6; instances <= 8; instances++) {
		size_t at = 240;
		m[at++] = 53; m[at++] = 1; m[at++] = 1;
		m[at++] = 60; m[at++] = 29;
		memcpy(m + at, "AAPLBSDPC/i386/MacBookPro11,1", 29);
		at += 29;
		for (size_t i = 0; i < instances; i++) {
			m[at++] = 43; m[at++] = 230;
			size_t unknown = i ? 228 : 224;
			if (!i) {
				m[at++] = 2; m[at++] = 2; m[at++] = 1; m[at++] = 1;
			}
			m[at++] = 200; m[at++] = (uint8_t)unknown;
			memset(m + at, 0x41, unknown);
			at += unknown;
		}
		m[at++] = 255;
		struct bsdp_answer a = offer_raw(m, at, 0);
		if (instances == 6) { /* 1380 bytes of option 43 */
			ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
		} else {
			ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
			ck_assert_int_eq(a.drop, BSDP_DROP_MALFORMED);
		}
	}

	/* Option 52 says sname and file hold options: they are not read, nor echoed. */
	n = discover(&(struct disc){ 0 }, m);
	memset(m + 44, 0xfe, 64 + 128);
	memmove(m + 243, m + 240, n - 240);
	m[240] = 52; m[241] = 1; m[242] = 3;
	struct bsdp_answer a = offer_raw(m, n + 3, 0);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	static const uint8_t zero[64] = { 0 };
	ck_assert_mem_eq(offer_buf + 44, zero, 64);
	ck_assert_str_eq((const char *)offer_buf + 108, "Catalina.nbi/i386/booter");

	/* Empty option 60: not BSDP; empty option 43: no version. */
	ck_assert_int_eq(offer(&(struct disc){ .vc = "" }).verdict, BSDP_VERDICT_NOT_BSDP);
	a = offer(&(struct disc){ .no_version = true });
	ck_assert_str_eq(a.why, "no BSDP version");
}
END_TEST

/* A pinned Mac gets its pin, over its binding and without one, and the
 * OFFER* is recorded as a boot: the image and the time, the number kept. */
START_TEST(test_offer_pinned_and_recorded)
{
	struct bsdp_answer a = offer_q(&(struct disc){ 0 }, 200);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	ck_assert_uint_eq(a.selected_id, ID_NFS);
	ck_assert_str_eq(a.root_path, "nfs:198.18.0.1:/srv/netboot/sets:Install macOS.nbi/Install Disk.dmg");
	struct bsdp_binding b;
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_a, &b), 0);
	ck_assert_uint_eq(b.image_id, ID_NFS);
	ck_assert_int_eq(b.time, 2000);
	uint32_t number = b.number;

	bsdp_bindings_record(bindings, mac_a, ID_HTTP, 100, 0, NULL);
	a = offer_q(&(struct disc){ 0 }, 200);
	ck_assert_uint_eq(a.selected_id, ID_NFS);
	/* A pin this Mac may not see (PowerPC only) leaves the binding's image. */
	a = offer_q(&(struct disc){ 0 }, 500);
	ck_assert_uint_eq(a.selected_id, ID_NFS);
	ck_assert_uint_eq(a.pinned_image, 500);
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_a, &b), 0);
	ck_assert_uint_eq(b.number, number);
	ck_assert_uint_eq(a.machine_number, number);
	bsdp_bindings_remove(bindings, mac_a);
	a = offer_q(&(struct disc){ 0 }, 500);
	ck_assert_str_eq(a.why, "pinned image not available to this client, and no binding");
}
END_TEST


/* The packet path allocates nothing: count malloc around the calls. Not
 * under ASan, whose allocator this wrapper would bypass. */
#if !defined(__SANITIZE_ADDRESS__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
void *malloc(size_t n) { if (counting) allocations++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) allocations++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) allocations++; return __libc_realloc(p, n); }

START_TEST(test_responder_allocates_nothing_per_request)
{
	ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_HTTP });
	count_enabled = 1;
	for (int i = 0; i < 100; i++) {
		resp.priority_from_load = i % 2;
		ask((struct req){ .type = BSDP_MSGTYPE_LIST, .server_id = -1 });
		ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_NFS });
		ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = ID_OFF });
		offer(&(struct disc){ 0 });
	}
	count_enabled = 0;
	ck_assert_int_eq(allocations, 0);
}
END_TEST
#endif

/* An ACK[SELECT] that cannot fit is dropped and leaves no binding behind:
 * neither a new one nor a change to the MAC's old one. */
START_TEST(test_responder_dropped_select_records_nothing)
{
	struct bsdp_query q = { .mac_valid = true, .ciaddr = CLIENT_IP, .local_address = SERVER,
				.opt57 = 576, .reply_overhead = 546, .now = 1000 };
	memcpy(q.mac, mac_a, 6);
	struct req sel = { .type = BSDP_MSGTYPE_SELECT, .version = BSDP_VERSION_1_1,
			   .server_id = (int)SERVER, .image = BSDP_IMAGE_ID(0, 1, 100) };
	struct bsdp_answer a = ask_q(sel, &q);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
	ck_assert_int_eq(a.drop, BSDP_DROP_NO_ROOM);
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_a, NULL), -ENOENT);
	ck_assert_uint_eq(bsdp_bindings_count(bindings), 0);
	/* With room, it is recorded with the number its reply named. */
	q.reply_overhead = 260;
	a = ask_q(sel, &q);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	struct bsdp_binding got;
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_a, &got), 0);
	ck_assert_uint_eq(got.image_id, BSDP_IMAGE_ID(0, 1, 100));
	ck_assert_uint_eq(got.number, a.machine_number);
	ck_assert_int_eq(got.time, 1000);
	/* An ACK[SELECT] that its sender then failed to send (never committed)
	 * leaves the binding as it was. */
	static const uint8_t mac_b[6] = MAC_B;
	struct req unsent = sel;
	unsent.mac = mac_b;
	unsent.not_sent = true;
	struct bsdp_answer built = ask(unsent);
	ck_assert_int_eq(built.verdict, BSDP_VERDICT_REPLY);
	ck_assert(built.record);
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_b, NULL), -ENOENT);
	ck_assert_uint_eq(bsdp_bindings_count(bindings), 1);
	/* A later SELECT of another image that is dropped keeps the old one. */
	q.reply_overhead = 546;
	q.now = 2000;
	sel.image = BSDP_IMAGE_ID(0, 1, 200);
	a = ask_q(sel, &q);
	ck_assert_int_eq(a.drop, BSDP_DROP_NO_ROOM);
	struct bsdp_binding after;
	ck_assert_int_eq(bsdp_bindings_lookup(bindings, mac_a, &after), 0);
	ck_assert_uint_eq(after.image_id, got.image_id);
	ck_assert_int_eq(after.time, got.time);
	ck_assert_uint_eq(after.number, got.number);
}
END_TEST

START_TEST(test_bindings_numbers_eviction_and_removal)
{
	struct bsdp_bindings *b = bsdp_bindings_new(3);
	uint8_t mac[6] = { 0 };
	struct bsdp_binding got;
	for (uint8_t i = 1; i <= 3; i++) {
		mac[5] = i;
		bsdp_bindings_record(b, mac, 0x01000000u | i, 100 + i, 0, &got);
		ck_assert_uint_eq(got.number, i);
	}
	mac[5] = 4; /* full: the least recently selected (1) makes room */
	bsdp_bindings_record(b, mac, 0x01000004u, 200, 0, &got);
	ck_assert_uint_eq(got.number, 4);
	mac[5] = 1;
	ck_assert_int_eq(bsdp_bindings_lookup(b, mac, &got), -ENOENT);
	mac[5] = 2;
	ck_assert_int_eq(bsdp_bindings_remove(b, mac), 0);
	ck_assert_int_eq(bsdp_bindings_lookup(b, mac, &got), -ENOENT);
	ck_assert_uint_eq(bsdp_bindings_count(b), 2);
	mac[5] = 3;
	ck_assert_int_eq(bsdp_bindings_lookup(b, mac, &got), 0);
	ck_assert_uint_eq(got.image_id, 0x01000003u);
	struct bsdp_binding put = { .mac = { 9, 9, 9, 9, 9, 9 }, .image_id = 5, .time = 7, .number = 40 };
	uint64_t gen = bsdp_bindings_generation(b);
	ck_assert_int_eq(bsdp_bindings_put(b, &put), 0);
	ck_assert_uint_gt(bsdp_bindings_generation(b), gen);
	mac[5] = 5;
	bsdp_bindings_record(b, mac, 1, 300, 0, &got);
	ck_assert_uint_eq(got.number, 41);
	bsdp_bindings_free(b);
}
END_TEST

START_TEST(test_responder_ipxe_detection)
{
	ck_assert(bsdp_responder_is_ipxe((const uint8_t *)"iPXE", 4, false));
	ck_assert(bsdp_responder_is_ipxe((const uint8_t[]){ 4, 'i', 'P', 'X', 'E' }, 5, false));
	ck_assert(bsdp_responder_is_ipxe((const uint8_t[]){ 2, 'a', 'b', 4, 'i', 'P', 'X', 'E' }, 8, false));
	ck_assert(bsdp_responder_is_ipxe(NULL, 0, true));
	ck_assert(!bsdp_responder_is_ipxe((const uint8_t *)"ipxe", 4, false));
	ck_assert(!bsdp_responder_is_ipxe((const uint8_t[]){ 9, 'i', 'P', 'X', 'E' }, 5, false));
	ck_assert(!bsdp_responder_is_ipxe(NULL, 0, false));
}
END_TEST

START_TEST(test_responder_chain_url_within_window_only)
{
	bsdp_catalogue_free(cat);
	cat = bsdp_catalogue_new("/srv");
	add(cat, (struct spec){ 42, 1, false, true, true, false, BSDP_TYPE_BOOTFILEONLY, BSDP_ARCH_I386,
				"ESXi", "ESXi.nbi", "snponly.efi", NULL });
	cat->images[0].chain_url = strdup("http://198.18.0.1/esxi/mboot.efi");
	const uint32_t esxi = BSDP_IMAGE_ID(0, 1, 42);
	ck_assert_ptr_null(bsdp_responder_chain_url(cat, bindings, mac_a, 1000, 600)); /* no SELECT yet */
	struct bsdp_answer a = ask((struct req){ .type = BSDP_MSGTYPE_SELECT, .server_id = SERVER, .image = esxi });
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_SELECT);
	ck_assert_str_eq(a.file, "ESXi.nbi/i386/snponly.efi");
	ck_assert_str_eq(bsdp_responder_chain_url(cat, bindings, mac_a, 1000, 600), "http://198.18.0.1/esxi/mboot.efi");
	ck_assert_str_eq(bsdp_responder_chain_url(cat, bindings, mac_a, 1599, 600), "http://198.18.0.1/esxi/mboot.efi");
	ck_assert_ptr_null(bsdp_responder_chain_url(cat, bindings, mac_a, 1600, 600)); /* window over */
	ck_assert_ptr_null(bsdp_responder_chain_url(cat, bindings, mac_a, 999, 600)); /* clock went back */
	static const uint8_t mac_b[6] = MAC_B;
	ck_assert_ptr_null(bsdp_responder_chain_url(cat, bindings, mac_b, 1000, 600));
}
END_TEST


static Suite *responder_suite(void)
{
	Suite *s = suite_create("responder");
	TCase *t = tcase_create("decisions");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_responder_list_default_first_and_applicable_only);
	tcase_add_test(t, test_responder_list_model_and_mac_lists);
	tcase_add_test(t, test_responder_attribute_filter_and_filter_only);
	tcase_add_test(t, test_responder_version_1_0_gets_no_list);
	tcase_add_test(t, test_responder_silences);
	tcase_add_test(t, test_responder_missing_version_or_type_is_silence);
	tcase_add_test(t, test_responder_malformed_and_not_bsdp);
	tcase_add_test(t, test_responder_select_http_escapes_spaces_and_names_machine);
	tcase_add_test(t, test_responder_select_sends_url_root_paths_as_written);
	tcase_add_test(t, test_responder_select_bootfileonly_has_no_root_path_or_name);
	tcase_add_test(t, test_responder_select_failures);
	tcase_add_test(t, test_responder_booter_path_over_127_fails);
	tcase_add_test(t, test_responder_other_server_select_is_silent_and_forgets);
	tcase_add_test(t, test_policy_load_priority_is_32768_less_the_bindings_never_below_0);
	tcase_add_test(t, test_responder_priority_from_load_follows_the_bindings);
	tcase_add_test(t, test_responder_select_without_image_takes_default);
	tcase_add_test(t, test_responder_pinned_index_overrides_binding);
	tcase_add_test(t, test_responder_list_fits_576_and_keeps_default);
	tcase_add_test(t, test_responder_name_format_rules);
#if !defined(__SANITIZE_ADDRESS__)
	tcase_add_test(t, test_responder_allocates_nothing_per_request);
#endif
	tcase_add_test(t, test_bindings_numbers_eviction_and_removal);
	tcase_add_test(t, test_responder_dropped_select_records_nothing);
	tcase_add_test(t, test_responder_ipxe_detection);
	tcase_add_test(t, test_responder_chain_url_within_window_only);
	tcase_add_test(t, test_offer_bound_mac_gets_bootpds_fields);
	tcase_add_test(t, test_offer_bootfileonly_is_padded_to_300);
	tcase_add_test(t, test_offer_silences);
	tcase_add_test(t, test_offer_pinned_and_recorded);
	tcase_add_test(t, test_offer_only_known_versions);
	tcase_add_test(t, test_offer_hostile_discovers);
	tcase_add_test(t, test_offer_fits_the_macs_message_size);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(responder_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
