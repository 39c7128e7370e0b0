/* SPDX-License-Identifier: MPL-2.0 */
/* The bindings table against a plain model: recency order, eviction of the
 * least recent entry, machine numbers, copies; and under threads that grow
 * it while others copy it (run under ASan and TSan by make check). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook/bindings.h"

#define MODEL_MACS 200
#define MODEL_CAPACITY 64

/* The model: per MAC whether it is held, its entry and a recency stamp. */
struct model {
	bool held[MODEL_MACS];
	struct bsdp_binding e[MODEL_MACS];
	uint64_t stamp[MODEL_MACS];
	uint64_t clock;
	size_t count;
	uint32_t next_number;
	uint64_t evictions;
};

static void mac_of(int i, uint8_t mac[6])
{
	uint8_t m[6] = { 2, 0xbd, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
	memcpy(mac, m, 6);
}

static void model_make_room(struct model *m)
{
	if (m->count < MODEL_CAPACITY)
		return;
	int oldest = -1;
	for (int i = 0; i < MODEL_MACS; i++)
		if (m->held[i] && (oldest < 0 || m->stamp[i] < m->stamp[oldest]))
			oldest = i;
	m->held[oldest] = false;
	m->count--;
	m->evictions++;
}

static void model_touch(struct model *m, int i, uint32_t number)
{
	if (!m->held[i]) {
		model_make_room(m);
		m->held[i] = true;
		m->count++;
		m->e[i] = (struct bsdp_binding){ .number = number ? number : m->next_number };
		mac_of(i, m->e[i].mac);
	} else if (number) {
		m->e[i].number = number;
	}
	if (m->e[i].number >= m->next_number)
		m->next_number = m->e[i].number + 1;
	m->stamp[i] = ++m->clock;
}

/* Plain comparisons, one assertion per call: each Check assertion is a
 * system call in forked mode, and this runs 20,000 times. */
static void check_same(struct bsdp_bindings *b, const struct model *m, int step)
{
	const char *why = NULL;
	if (bsdp_bindings_count(b) != m->count)
		why = "count";
	else if (bsdp_bindings_evictions(b) != m->evictions)
		why = "evictions";
	for (int i = 0; i < MODEL_MACS && !why; i++) {
		uint8_t mac[6];
		struct bsdp_binding got;
		mac_of(i, mac);
		int r = bsdp_bindings_lookup(b, mac, &got);
		if (r != (m->held[i] ? 0 : -ENOENT))
			why = "held";
		else if (m->held[i] && (got.image_id != m->e[i].image_id || got.time != m->e[i].time ||
					got.number != m->e[i].number))
			why = "entry";
	}
	/* The copy lists exactly the held entries, least recent first. */
	struct bsdp_binding *all;
	size_t n;
	ck_assert_int_eq(bsdp_bindings_copy(b, &all, &n), 0);
	if (!why && n != m->count)
		why = "copy count";
	uint64_t last = 0;
	for (size_t k = 0; k < n && !why; k++) {
		int i = all[k].mac[4] << 8 | all[k].mac[5];
		if (i >= MODEL_MACS || !m->held[i] || m->stamp[i] <= last)
			why = "copy order";
		else
			last = m->stamp[i];
	}
	free(all);
	ck_assert_msg(!why, "step %d: table and model differ in %s", step, why);
}

/* Thousands of random operations; the table and the model agree after each. */
START_TEST(test_bindings_match_the_model)
{
	struct bsdp_bindings *b = bsdp_bindings_new(MODEL_CAPACITY);
	struct model m = { .next_number = 1 };
	unsigned seed = 12345;
	for (int step = 0; step < 20000; step++) {
		seed = seed * 1103515245u + 12345u;
		int i = (int)((seed >> 8) % MODEL_MACS);
		int op = (int)((seed >> 20) % 10);
		uint8_t mac[6];
		mac_of(i, mac);
		if (op < 5) {
			uint32_t image = 0x01000001u + (uint32_t)(step % 9);
			bsdp_bindings_record(b, mac, image, step, 0, NULL);
			model_touch(&m, i, 0);
			m.e[i].image_id = image;
			m.e[i].time = step;
		} else if (op == 5) {
			bsdp_bindings_forget(b, mac);
			if (m.held[i])
				m.e[i].image_id = 0;
		} else if (op == 6) {
			ck_assert_int_eq(bsdp_bindings_remove(b, mac), m.held[i] ? 0 : -ENOENT);
			if (m.held[i])
				m.count--;
			m.held[i] = false;
		} else if (op == 7) {
			struct bsdp_binding put = { .image_id = 0x01000042u, .time = step,
						    .number = (uint32_t)(seed % 3 ? 0 : 500 + step) };
			memcpy(put.mac, mac, 6);
			bsdp_bindings_put(b, &put);
			model_touch(&m, i, put.number);
			m.e[i].image_id = put.image_id;
			m.e[i].time = step;
		} else {
			/* What a SELECT does: a number first, recorded once it fits. */
			uint32_t number = bsdp_bindings_number(b, mac);
			uint32_t expected = m.held[i] ? m.e[i].number : m.next_number++;
			ck_assert_uint_eq(number, expected);
			if (op == 8) {
				bsdp_bindings_record(b, mac, 0x01000007u, step, number, NULL);
				model_touch(&m, i, number);
				m.e[i].image_id = 0x01000007u;
				m.e[i].time = step;
			}
		}
		check_same(b, &m, step);
	}
	ck_assert_uint_gt(m.evictions, 100);
	bsdp_bindings_free(b);
}
END_TEST

/* A SELECT again makes a MAC the most recent, so a flood of new MACs
 * evicts the idle ones first. */
START_TEST(test_bindings_evict_least_recent_and_count)
{
	struct bsdp_bindings *b = bsdp_bindings_new(3);
	uint8_t mac[6];
	for (int i = 1; i <= 3; i++) {
		mac_of(i, mac);
		bsdp_bindings_record(b, mac, 0x01000001, 10, 0, NULL);
	}
	mac_of(1, mac);
	bsdp_bindings_record(b, mac, 0x01000001, 5, 0, NULL); /* recency, not the time field */
	mac_of(4, mac);
	bsdp_bindings_record(b, mac, 0x01000001, 11, 0, NULL);
	ck_assert_uint_eq(bsdp_bindings_evictions(b), 1);
	mac_of(2, mac);
	ck_assert_int_eq(bsdp_bindings_lookup(b, mac, NULL), -ENOENT);
	mac_of(1, mac);
	ck_assert_int_eq(bsdp_bindings_lookup(b, mac, NULL), 0);
	/* Lookups (LISTs) do not count as use. */
	mac_of(3, mac);
	ck_assert_int_eq(bsdp_bindings_lookup(b, mac, NULL), 0);
	mac_of(5, mac);
	bsdp_bindings_record(b, mac, 0x01000001, 12, 0, NULL);
	mac_of(3, mac);
	ck_assert_int_eq(bsdp_bindings_lookup(b, mac, NULL), -ENOENT);
	ck_assert_uint_eq(bsdp_bindings_evictions(b), 2);
	struct bsdp_binding *all;
	size_t n;
	ck_assert_int_eq(bsdp_bindings_copy(b, &all, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(all[0].mac[5], 1);
	ck_assert_uint_eq(all[1].mac[5], 4);
	ck_assert_uint_eq(all[2].mac[5], 5);
	free(all);
	bsdp_bindings_free(b);
}
END_TEST

START_TEST(test_bindings_capacity_limits_and_empty_copy)
{
	ck_assert_ptr_null(bsdp_bindings_new(0));
	ck_assert_ptr_null(bsdp_bindings_new(BSDP_BINDINGS_CAPACITY_MAX + 1));
	struct bsdp_bindings *b = bsdp_bindings_new(1);
	struct bsdp_binding *all = (struct bsdp_binding *)1;
	size_t n = 99;
	ck_assert_int_eq(bsdp_bindings_copy(b, &all, &n), 0);
	ck_assert_ptr_null(all);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(bsdp_bindings_copy(b, NULL, &n), -EINVAL);
	ck_assert_uint_eq(bsdp_bindings_number(NULL, (const uint8_t[6]){ 0 }), 0);
	bsdp_bindings_free(b);
}
END_TEST

/* ---- threads growing the table while others copy it ------------------- */

#define GROWERS 3
#define GROW_CAPACITY 2048

struct grower {
	struct bsdp_bindings *b;
	int id;
	bool *stop;
};

static void *grow_main(void *arg)
{
	struct grower *g = arg;
	for (uint32_t i = 0; !__atomic_load_n(g->stop, __ATOMIC_ACQUIRE) && i < 50000000u; i++) {
		uint8_t mac[6] = { 2, (uint8_t)g->id, (uint8_t)(i >> 24), (uint8_t)(i >> 16),
				   (uint8_t)(i >> 8), (uint8_t)i };
		uint32_t number = bsdp_bindings_number(g->b, mac);
		bsdp_bindings_record(g->b, mac, 0x01000001, i, number, NULL);
		if (i % 7 == 3)
			bsdp_bindings_remove(g->b, mac);
	}
	return NULL;
}

START_TEST(test_bindings_copy_while_growing)
{
	struct bsdp_bindings *b = bsdp_bindings_new(GROW_CAPACITY);
	bool stop = false;
	struct grower g[GROWERS];
	pthread_t t[GROWERS];
	for (int i = 0; i < GROWERS; i++) {
		g[i] = (struct grower){ .b = b, .id = i, .stop = &stop };
		ck_assert_int_eq(pthread_create(&t[i], NULL, grow_main, &g[i]), 0);
	}
	size_t largest = 0;
	/* At least 300 copies, and on until the growers have filled the table
	 * and evicted and a copy has seen entries (bounded: a loaded machine may
	 * be slow to get there, and may even run every early copy before the
	 * growers start and then fill the table between two copies). */
	for (int round = 0; round < 300 || ((bsdp_bindings_evictions(b) == 0 || largest == 0) &&
					   round < 1000000);
	     round++) {
		struct bsdp_binding *all;
		size_t n, bad = 0;
		ck_assert_int_eq(bsdp_bindings_copy(b, &all, &n), 0);
		ck_assert_uint_le(n, GROW_CAPACITY);
		/* Whole entries, numbers unique among neighbours. */
		for (size_t k = 1; k < n; k++)
			bad += all[k].mac[0] != 2 || all[k].number == all[k - 1].number;
		ck_assert_uint_eq(bad, 0);
		largest = n > largest ? n : largest;
		free(all);
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (int i = 0; i < GROWERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_gt(bsdp_bindings_evictions(b), 0);
	ck_assert_uint_gt(largest, 0);
	bsdp_bindings_free(b);
}
END_TEST

static Suite *bindings_suite(void)
{
	Suite *s = suite_create("bindings");
	TCase *t = tcase_create("table");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_bindings_match_the_model);
	tcase_add_test(t, test_bindings_evict_least_recent_and_count);
	tcase_add_test(t, test_bindings_capacity_limits_and_empty_copy);
	tcase_add_test(t, test_bindings_copy_while_growing);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bindings_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
