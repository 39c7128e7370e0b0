/* SPDX-License-Identifier: MPL-2.0 */
/* The core's shared state under concurrency, as Kea's packet threads use
 * it: many threads answering LIST and SELECT against one catalogue snapshot
 * and one bindings table while the state writer saves. Run under
 * ThreadSanitizer by `make unit-tsan` (part of make check). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook/responder.h"
#include "store/state_file.h"

#define THREADS 4
#define ROUNDS 2000
#define MACS_PER_THREAD 50

static struct bsdp_catalogue *cat;
static struct bsdp_bindings *bindings;
static struct bsdp_responder resp;

static void build(void)
{
	cat = bsdp_catalogue_new("/srv");
	for (uint16_t i = 1; i <= 40; i++) {
		char name[32], dir[32];
		snprintf(name, sizeof(name), "Image %u", i);
		snprintf(dir, sizeof(dir), "Image%u.nbi", i);
		struct bsdp_image img = {
			.id = BSDP_IMAGE_ID(0, 1, i), .index = i, .kind = 1, .is_default = i == 1,
			.is_enabled = true, .type = BSDP_TYPE_HTTP, .archs = BSDP_ARCH_I386,
			.name = strdup(name), .name_len = strlen(name), .set_dir = strdup(dir),
			.boot_file = strdup("booter"), .root_path = strdup("NetBoot.dmg"),
		};
		ck_assert_int_eq(bsdp_catalogue_add(cat, &img), 0);
	}
	bindings = bsdp_bindings_new(1024);
	struct bsdp_responder_config cfg = { .priority = 1 };
	char err[64];
	ck_assert_int_eq(bsdp_responder_init(&resp, &cfg, err, sizeof(err)), 0);
}

struct worker {
	int id;
	int errors;
	uint32_t last_select[MACS_PER_THREAD];
};

static void *work(void *arg)
{
	struct worker *w = arg;
	static const char vc[] = "AAPLBSDPC/i386/Macmini6,1";
	uint8_t out[4096];
	for (int r = 0; r < ROUNDS; r++) {
		int m = (r / 2) % MACS_PER_THREAD; /* each MAC does SELECT then LIST */
		uint16_t index = (uint16_t)(1 + (r * 7 + w->id) % 40);
		uint8_t select[] = { 1, 1, 2, 2, 2, 1, 1, 3, 4, 198, 18, 0, 1, 8, 4, 1, 0, 0, (uint8_t)index };
		static const uint8_t list[] = { 1, 1, 1, 2, 2, 1, 1 };
		bool is_select = r % 2;
		struct bsdp_query q = {
			.opt43 = is_select ? select : list, .opt43_len = is_select ? sizeof(select) : sizeof(list),
			.opt60 = vc, .opt60_len = sizeof(vc) - 1, .mac = { 2, 0, 0, 0, (uint8_t)w->id, (uint8_t)m },
			.mac_valid = true, .ciaddr = 0xc6120064, .local_address = 0xc6120001, .opt57 = 1500,
			.reply_overhead = 261, .now = r,
		};
		struct bsdp_answer a;
		if (bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 253, &a) < 0 ||
		    a.verdict != BSDP_VERDICT_REPLY)
			w->errors++;
		else if (is_select && (a.sent != BSDP_MSGTYPE_SELECT || a.selected_id != BSDP_IMAGE_ID(0, 1, index)))
			w->errors++;
		else if (is_select)
			w->last_select[m] = a.selected_id;
		bsdp_responder_commit(bindings, &q, &a);
		/* A LIST after this MAC's SELECT shows what it selected. */
		if (!is_select && w->last_select[m] && a.selected_id != w->last_select[m])
			w->errors++;
	}
	return NULL;
}

START_TEST(test_concurrent_responders_share_catalogue_and_bindings)
{
	char dir[] = "/tmp/bsdp-conc-XXXXXX", path[64];
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bindings.csv", dir);
	build();
	struct bsdp_state_writer *sw = bsdp_state_writer_start(path, bindings, 20, NULL, NULL);
	ck_assert_ptr_nonnull(sw);
	pthread_t t[THREADS];
	struct worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(w[i].errors, 0);
	}
	bsdp_state_writer_stop(sw);
	/* The file holds exactly every MAC's last SELECT. */
	struct bsdp_bindings *back = bsdp_bindings_new(1024);
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(path, back, NULL, NULL, &res), 0);
	ck_assert_uint_eq(res.loaded, THREADS * MACS_PER_THREAD);
	for (int i = 0; i < THREADS; i++)
		for (int m = 0; m < MACS_PER_THREAD; m++) {
			struct bsdp_binding b;
			const uint8_t mac[6] = { 2, 0, 0, 0, (uint8_t)i, (uint8_t)m };
			ck_assert_int_eq(bsdp_bindings_lookup(back, mac, &b), 0);
			ck_assert_uint_eq(b.image_id, w[i].last_select[m]);
		}
	bsdp_bindings_free(back);
	bsdp_bindings_free(bindings);
	bsdp_catalogue_free(cat);
	unlink(path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("concurrency");
	TCase *t = tcase_create("threads");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_concurrent_responders_share_catalogue_and_bindings);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
