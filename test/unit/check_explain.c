/* SPDX-License-Identifier: MPL-2.0 */
/* bsdp-explain's core: the LIST a Mac would send, rebuilt from what it last
 * sent (hook/explain.h), answered by the responder itself, and the one rule
 * it reports per image. The catalogue is a row of traps: every image is an
 * enabled i386 HTTP image that would be offered but for ONE key. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook/explain.h"
#include "hook/policy.h"
#include "hook/recent.h"
#include "hook/responder.h"

#define SERVER 0xc6120001u /* 198.18.0.1 */

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x00, 0x00, 0x0a, 0x01 };
static const uint8_t mac_other[6] = { 0x02, 0x00, 0x00, 0x00, 0x0b, 0x02 };

/* One key that differs from a plain offered image. */
enum trap { PLAIN, DEFAULT, DISABLED, PPC, MODEL, DISABLED_MAC, ENABLED_MAC, FILTER_ONLY, DIAG };

static struct bsdp_catalogue *cat;
static struct bsdp_bindings *bindings;
static struct bsdp_responder resp;

static void add(uint16_t index, enum trap t)
{
	char name[32];
	snprintf(name, sizeof(name), "Image %u", index);
	struct bsdp_image img = {
		.kind = t == DIAG ? 3 : 1,
		.index = index,
		.is_enabled = t != DISABLED,
		.is_default = t == DEFAULT,
		.filter_only = t == FILTER_ONLY,
		.type = BSDP_TYPE_HTTP,
		.archs = t == PPC ? BSDP_ARCH_PPC : BSDP_ARCH_I386,
		.name = strdup(name),
		.name_len = strlen(name),
		.set_dir = strdup(name),
		.boot_file = strdup("booter"),
		.root_path = strdup("NetBoot.dmg"),
	};
	img.id = BSDP_IMAGE_ID(0, img.kind, index);
	if (t == MODEL) {
		img.enabled_models = calloc(1, sizeof(char *));
		img.enabled_models[0] = strdup("iMac14,2");
		img.n_enabled_models = 1;
	}
	if (t == DISABLED_MAC || t == ENABLED_MAC) {
		uint8_t (*m)[6] = calloc(1, 6);
		memcpy(m[0], t == DISABLED_MAC ? mac_a : mac_other, 6);
		if (t == DISABLED_MAC) {
			img.disabled_macs = m;
			img.n_disabled_macs = 1;
		} else {
			img.enabled_macs = m;
			img.n_enabled_macs = 1;
		}
	}
	ck_assert_int_eq(bsdp_catalogue_add(cat, &img), 0);
}

static void setup(void)
{
	cat = bsdp_catalogue_new("/srv/sets");
	add(1, PLAIN);
	add(2, DEFAULT);
	add(3, DISABLED);
	add(4, PPC);
	add(5, MODEL);
	add(6, DISABLED_MAC);
	add(7, ENABLED_MAC);
	add(8, FILTER_ONLY);
	add(9, DIAG);
	bindings = bsdp_bindings_new(64);
	struct bsdp_responder_config cfg = { .priority = 32768, .http_url = "http://198.18.0.1/nb" };
	char err[128];
	ck_assert_int_eq(bsdp_responder_init(&resp, &cfg, err, sizeof(err)), 0);
}

static void teardown(void)
{
	bsdp_catalogue_free(cat);
	bsdp_bindings_free(bindings);
}

/* What a MacBookPro11,1 sent: a plain BSDP 1.1 LIST. */
static struct bsdp_recent_request mac_request(void)
{
	struct bsdp_recent_request r;
	bsdp_explain_unknown(mac_a, &r);
	memcpy(r.vc.arch, "i386", 4);
	r.vc.arch_len = 4;
	memcpy(r.vc.model, "MacBookPro11,1", 14);
	r.vc.model_len = 14;
	r.local_address = SERVER;
	r.ciaddr = 0xc6120064u;
	return r;
}

static uint8_t rules[16];
static uint8_t out[9000];

static struct bsdp_answer explain_list(const struct bsdp_recent_request *r)
{
	struct bsdp_explain_buf buf;
	struct bsdp_query q;
	struct bsdp_answer a;
	ck_assert_int_eq(bsdp_explain_query(r, BSDP_MSGTYPE_LIST, 0, 0, 1000, &buf, &q), 0);
	memset(rules, 0xff, sizeof(rules));
	q.rules = rules;
	q.rules_size = sizeof(rules);
	ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 255, &a), 0);
	return a;
}

static void expect_rules(const enum bsdp_rule *want)
{
	for (size_t i = 0; i < cat->n_images; i++) {
		if (rules[i] != want[i])
			ck_abort_msg("image %u: rule %s, want %s", cat->images[i].index,
				     bsdp_rule_name(rules[i]), bsdp_rule_name(want[i]));
	}
}

START_TEST(test_explain_each_trap_names_its_one_rule)
{
	struct bsdp_recent_request r = mac_request();
	struct bsdp_answer a = explain_list(&r);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	enum bsdp_rule want[] = {
		BSDP_RULE_OFFERED, BSDP_RULE_OFFERED, BSDP_RULE_DISABLED, BSDP_RULE_ARCHITECTURE,
		BSDP_RULE_SYSTEM_IDENTIFIERS, BSDP_RULE_DISABLED_MAC, BSDP_RULE_ENABLED_MAC,
		BSDP_RULE_FILTER_ONLY, BSDP_RULE_OFFERED,
	};
	expect_rules(want);
	ck_assert_uint_eq(a.images_listed, 3);
	ck_assert_uint_eq(a.default_id, BSDP_IMAGE_ID(0, 1, 2));
	ck_assert_uint_eq(a.default_why, BSDP_DEFAULT_GENERIC);
	ck_assert_str_eq(bsdp_rule_name(BSDP_RULE_SYSTEM_IDENTIFIERS), "enabled-system-identifiers");
}
END_TEST

START_TEST(test_explain_model_mac_and_filter_change_the_rules)
{
	struct bsdp_recent_request r = mac_request();
	/* The iMac: its image is offered; the other MAC: it gains 7, loses 6 never. */
	memcpy(r.vc.model, "iMac14,2", 8);
	r.vc.model_len = 8;
	memcpy(r.mac, mac_other, 6);
	/* A filter of kind 1 (not install): image 9 (kind 3) and FilterOnly 8 both
	 * depend on it. */
	r.req.present |= BSDP_HAS(BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST);
	r.req.n_filters = 1;
	r.req.filters[0] = BSDP_IMAGE_ID_ATTRIBUTES(BSDP_IMAGE_ID(0, 1, 0));
	struct bsdp_answer a = explain_list(&r);
	enum bsdp_rule want[] = {
		BSDP_RULE_OFFERED, BSDP_RULE_OFFERED, BSDP_RULE_DISABLED, BSDP_RULE_ARCHITECTURE,
		BSDP_RULE_OFFERED, BSDP_RULE_OFFERED, BSDP_RULE_OFFERED,
		BSDP_RULE_OFFERED, BSDP_RULE_ATTRIBUTE_FILTER,
	};
	expect_rules(want);
	ck_assert_uint_eq(a.images_listed, 6);
}
END_TEST

START_TEST(test_explain_no_room_in_the_message_size)
{
	struct bsdp_recent_request r = mac_request();
	/* 548 bytes (the floor) less 28 and an overhead that leaves room for the
	 * head (1, 4, 7: 17 bytes), one sub-option 9 header and two images of
	 * 5 + 7 bytes, not a third. */
	r.req.present |= BSDP_HAS(BSDP_OPT_MAX_MESSAGE_SIZE);
	r.req.max_message_size = 548;
	r.reply_overhead = 548 - 28 - (2 + 17 + 2 + 2 * 12 + 5);
	struct bsdp_answer a = explain_list(&r);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	ck_assert(a.truncated);
	enum bsdp_rule want[] = {
		BSDP_RULE_OFFERED, BSDP_RULE_OFFERED, BSDP_RULE_DISABLED, BSDP_RULE_ARCHITECTURE,
		BSDP_RULE_SYSTEM_IDENTIFIERS, BSDP_RULE_DISABLED_MAC, BSDP_RULE_ENABLED_MAC,
		BSDP_RULE_FILTER_ONLY, BSDP_RULE_NO_ROOM,
	};
	expect_rules(want);
	/* No room even for the head: every offered image says so. */
	r.reply_overhead = 548 - 28;
	a = explain_list(&r);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
	ck_assert_int_eq(a.drop, BSDP_DROP_NO_ROOM);
	ck_assert_uint_eq(rules[0], BSDP_RULE_NO_ROOM);
	ck_assert_uint_eq(rules[2], BSDP_RULE_DISABLED);
}
END_TEST

START_TEST(test_explain_bsdp_1_0_gets_no_list)
{
	struct bsdp_recent_request r = mac_request();
	r.req.version = BSDP_VERSION_1_0;
	struct bsdp_answer a = explain_list(&r);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_REPLY);
	ck_assert_uint_eq(rules[0], BSDP_RULE_NO_LIST);
	ck_assert_uint_eq(rules[1], BSDP_RULE_NO_LIST);
	ck_assert_uint_eq(rules[3], BSDP_RULE_ARCHITECTURE);
}
END_TEST

START_TEST(test_explain_nothing_offered_still_names_every_rule)
{
	struct bsdp_recent_request r = mac_request();
	memcpy(r.vc.arch, "arm", 3);
	r.vc.arch_len = 3;
	struct bsdp_answer a = explain_list(&r);
	ck_assert_int_eq(a.verdict, BSDP_VERDICT_DROP);
	ck_assert_int_eq(a.drop, BSDP_DROP_NO_IMAGE);
	ck_assert_uint_eq(a.default_why, BSDP_DEFAULT_NONE);
	ck_assert_uint_eq(rules[0], BSDP_RULE_ARCHITECTURE);
	ck_assert_uint_eq(rules[2], BSDP_RULE_DISABLED); /* tried before the architecture */
}
END_TEST

START_TEST(test_explain_default_and_selected_say_why)
{
	struct bsdp_recent_request r = mac_request();
	/* Without the generic default, the first offered image is the default. */
	cat->images[1].is_default = false;
	struct bsdp_answer a = explain_list(&r);
	ck_assert_uint_eq(a.default_id, cat->images[0].id);
	ck_assert_uint_eq(a.default_why, BSDP_DEFAULT_FIRST);
	ck_assert_uint_eq(a.selected_by, BSDP_SELECTED_NONE);
	/* A binding to an image the Mac is offered: selected by the binding. */
	ck_assert_int_eq(bsdp_bindings_record(bindings, mac_a, cat->images[8].id, 900, 0, NULL), 0);
	a = explain_list(&r);
	ck_assert_uint_eq(a.selected_by, BSDP_SELECTED_BINDING);
	ck_assert_uint_eq(a.selected_id, cat->images[8].id);
	/* A binding to one it is not: not followed, and why. */
	ck_assert_int_eq(bsdp_bindings_record(bindings, mac_a, cat->images[3].id, 901, 0, NULL), 0);
	a = explain_list(&r);
	ck_assert_uint_eq(a.selected_by, BSDP_SELECTED_NONE);
	ck_assert_uint_eq(a.bound_id, cat->images[3].id);
	ck_assert_uint_eq(a.bound_rule, BSDP_RULE_ARCHITECTURE);
}
END_TEST

static uint32_t pin_of(void *ctx)
{
	return *(uint32_t *)ctx;
}

START_TEST(test_explain_pin_followed_or_why_not)
{
	struct bsdp_recent_request r = mac_request();
	struct bsdp_explain_buf buf;
	struct bsdp_query q;
	struct bsdp_answer a;
	uint32_t pin = 9;
	ck_assert_int_eq(bsdp_explain_query(&r, BSDP_MSGTYPE_LIST, 0, 0, 1000, &buf, &q), 0);
	q.pin_lookup = pin_of;
	q.pin_ctx = &pin;
	ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 255, &a), 0);
	ck_assert_uint_eq(a.selected_by, BSDP_SELECTED_PIN);
	ck_assert_uint_eq(a.selected_id, cat->images[8].id);
	pin = 6;
	ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 255, &a), 0);
	ck_assert_uint_eq(a.selected_by, BSDP_SELECTED_NONE);
	ck_assert_uint_eq(a.pinned_image, 6);
	ck_assert_uint_eq(a.pin_rule, BSDP_RULE_DISABLED_MAC);
	pin = 4242;
	ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 255, &a), 0);
	ck_assert_uint_eq(a.pin_rule, BSDP_RULE_NO_IMAGE);
}
END_TEST

START_TEST(test_explain_select_is_a_dry_run)
{
	struct bsdp_recent_request r = mac_request();
	struct bsdp_explain_buf buf;
	struct bsdp_query q;
	struct bsdp_answer a;
	ck_assert_int_eq(bsdp_explain_query(&r, BSDP_MSGTYPE_SELECT, SERVER, cat->images[0].id, 1000,
					    &buf, &q), 0);
	ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 255, &a), 0);
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_SELECT);
	ck_assert_str_eq(a.file, "Image 1/i386/booter");
	ck_assert_str_eq(a.root_path, "http://198.18.0.1/nb/Image%201/NetBoot.dmg");
	ck_assert_uint_eq(a.siaddr, SERVER);
	/* No machine number reserved, nothing to record. */
	ck_assert_uint_eq(a.machine_number, 0);
	ck_assert(!a.record);
	bsdp_responder_commit(bindings, &q, &a);
	ck_assert_uint_eq(bsdp_bindings_count(bindings), 0);
	/* A Mac that has a number is shown it. */
	ck_assert_int_eq(bsdp_bindings_record(bindings, mac_a, cat->images[0].id, 900, 0, NULL), 0);
	ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 255, &a), 0);
	ck_assert_uint_eq(a.machine_number, 1);
	ck_assert_str_eq(a.machine_name, "NetBoot001");
	/* Refused images say why, as a Mac's SELECT would be refused. */
	ck_assert_int_eq(bsdp_explain_query(&r, BSDP_MSGTYPE_SELECT, SERVER, cat->images[3].id, 1000,
					    &buf, &q), 0);
	ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 255, &a), 0);
	ck_assert_uint_eq(a.sent, BSDP_MSGTYPE_FAILED);
	ck_assert_str_eq(a.why, "image not applicable to this client");
}
END_TEST

START_TEST(test_explain_note_keeps_what_the_mac_sent)
{
	/* A real LIST through the responder, noted, then rebuilt: the same bytes. */
	uint8_t opt43[] = { 1, 1, 1, 2, 2, 1, 1, 12, 2, 0x05, 0xdc, 11, 2, 0x01, 0x00 };
	const char *vc = "AAPLBSDPC/i386/iMac14,2";
	struct bsdp_query q = { .opt43 = opt43, .opt43_len = sizeof(opt43), .opt60 = vc,
				.opt60_len = strlen(vc), .mac_valid = true, .ciaddr = 5,
				.local_address = SERVER, .opt57 = 1500, .reply_overhead = 280,
				.now = 77 };
	memcpy(q.mac, mac_a, 6);
	struct bsdp_answer a;
	ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 255, &a), 0);
	struct bsdp_recent_request noted;
	bsdp_explain_note(&q, &a, &noted);
	struct bsdp_explain_buf buf;
	struct bsdp_query again;
	ck_assert_int_eq(bsdp_explain_query(&noted, BSDP_MSGTYPE_LIST, 0, 0, 78, &buf, &again), 0);
	ck_assert_uint_eq(again.opt43_len, sizeof(opt43));
	ck_assert_mem_eq(again.opt43, opt43, sizeof(opt43));
	ck_assert_uint_eq(again.opt60_len, strlen(vc));
	ck_assert_mem_eq(again.opt60, vc, strlen(vc));
	ck_assert_int_eq(again.opt57, 1500);
	ck_assert_uint_eq(again.reply_overhead, 280);
	ck_assert_uint_eq(again.ciaddr, 5);
	ck_assert(again.dry_run);
}
END_TEST

START_TEST(test_explain_note_keeps_how_the_list_fared)
{
	/* A LIST dropped before the catalogue is asked (no ciaddr, a reply port
	 * of 1024 or more) is noted with its reason; an answered one with none. */
	uint8_t high_port[] = { 1, 1, 1, 2, 2, 1, 1, 5, 2, 0x07, 0xd0 };
	uint8_t plain[] = { 1, 1, 1, 2, 2, 1, 1 };
	const char *vc = "AAPLBSDPC/i386/iMac14,2";
	const struct { uint8_t *o43; size_t len; uint32_t ciaddr; uint8_t drop; const char *why; }
	cases[] = {
		{ plain, sizeof(plain), 0, BSDP_DROP_NO_CIADDR, "ciaddr is 0" },
		{ high_port, sizeof(high_port), 5, BSDP_DROP_REPLY_PORT, "reply port 1024 or above" },
		{ plain, sizeof(plain), 5, BSDP_DROP_NONE, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bsdp_query q = { .opt43 = cases[i].o43, .opt43_len = cases[i].len, .opt60 = vc,
					.opt60_len = strlen(vc), .mac_valid = true,
					.ciaddr = cases[i].ciaddr, .local_address = SERVER,
					.opt57 = -1, .reply_overhead = 280, .now = 77 };
		memcpy(q.mac, mac_a, 6);
		struct bsdp_answer a;
		ck_assert_int_eq(bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 255,
						       &a), 0);
		struct bsdp_recent_request noted;
		bsdp_explain_note(&q, &a, &noted);
		ck_assert_uint_eq(noted.drop, cases[i].drop);
		if (cases[i].why)
			ck_assert_str_eq(noted.why, cases[i].why);
		else
			ck_assert_ptr_null(noted.why);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("explain");
	TCase *tc = tcase_create("explain");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_explain_each_trap_names_its_one_rule);
	tcase_add_test(tc, test_explain_model_mac_and_filter_change_the_rules);
	tcase_add_test(tc, test_explain_no_room_in_the_message_size);
	tcase_add_test(tc, test_explain_bsdp_1_0_gets_no_list);
	tcase_add_test(tc, test_explain_nothing_offered_still_names_every_rule);
	tcase_add_test(tc, test_explain_default_and_selected_say_why);
	tcase_add_test(tc, test_explain_pin_followed_or_why_not);
	tcase_add_test(tc, test_explain_select_is_a_dry_run);
	tcase_add_test(tc, test_explain_note_keeps_what_the_mac_sent);
	tcase_add_test(tc, test_explain_note_keeps_how_the_list_fared);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
