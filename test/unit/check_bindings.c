/* SPDX-License-Identifier: MPL-2.0 */
/* The bindings table against a plain model: recency order, eviction of the
 * least recent entry, machine numbers, copies; its keyed index against MACs
 * chosen to collide; and under threads that grow it while others copy it
 * or look up (run under ASan and TSan by make check). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hook/bindings.h"
#include "hook/siphash.h"

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
			bsdp_bindings_forget(b, mac, step);
			if (m.held[i] && m.e[i].image_id) {
				m.e[i].image_id = 0;
				if (step > m.e[i].time)
					m.e[i].time++; /* just after the selection forgotten */
			}
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

/* MACs the page walks check, spread among the growers' own (on every
 * page): kept recent by the growers (keep_stable), so eviction takes the
 * growers' MACs instead. */
#define STABLE_MACS 256

static void stable_mac(int i, uint8_t mac[6])
{
	uint8_t m[6] = { 2, (uint8_t)(i % 3), (uint8_t)(i * 0x9d), 0xc3, 0x3c, 2 };
	memcpy(mac, m, 6);
}

struct grower {
	struct bsdp_bindings *b;
	int id;
	bool *stop;
	bool keep_stable;
};

static void *grow_main(void *arg)
{
	struct grower *g = arg;
	for (uint32_t i = 0; !__atomic_load_n(g->stop, __ATOMIC_ACQUIRE) && i < 50000000u; i++) {
		/* Spread over the MAC space (an odd multiplier is a bijection), so
		 * that the MACs held lie on every page. */
		uint32_t h = i * 2654435761u;
		uint8_t mac[6] = { 2, (uint8_t)g->id, (uint8_t)(h >> 24), (uint8_t)(h >> 16),
				   (uint8_t)(h >> 8), (uint8_t)h };
		uint32_t number = bsdp_bindings_number(g->b, mac);
		bsdp_bindings_record(g->b, mac, 0x01000001, i, number, NULL);
		if (i % 7 == 3)
			bsdp_bindings_remove(g->b, mac);
		if (g->keep_stable) {
			/* Number 0: one evicted meanwhile comes back with a
			 * fresh number, which the walk notices. */
			stable_mac((int)((i * 7u + (uint32_t)g->id) % STABLE_MACS), mac);
			bsdp_bindings_record(g->b, mac, 0x01000002, i, 0, NULL);
		}
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
	/* At least 300 copies, and on until one saw entries and the growers
	 * have filled the table and evicted (bounded: a loaded machine may be
	 * slow to get there, or fill it all between two copies). */
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

START_TEST(test_journal_keeps_changes_in_order_and_reports_loss)
{
	struct bsdp_bindings *b = bsdp_bindings_new(8);
	uint8_t m1[6], m2[6];
	mac_of(1, m1);
	mac_of(2, m2);
	/* Nothing is journaled before a journal is attached. */
	bsdp_bindings_record(b, m1, 0x01000001, 10, 0, NULL);
	ck_assert_int_eq(bsdp_bindings_journal(b, 4), 0);
	ck_assert_int_eq(bsdp_bindings_journal(b, 4), -EEXIST);
	ck_assert_uint_eq(bsdp_bindings_pending(b), 0);
	bsdp_bindings_record(b, m2, 0x01000002, 11, 0, NULL);
	bsdp_bindings_forget(b, m1, 12);
	bsdp_bindings_remove(b, m2);
	struct bsdp_change out[8];
	bool lost = true;
	uint64_t overflowed = 0;
	ck_assert_uint_eq(bsdp_bindings_drain(b, out, 8, &lost, &overflowed), 3);
	ck_assert(!lost);
	ck_assert_uint_eq(overflowed, 0);
	ck_assert(memcmp(out[0].b.mac, m2, 6) == 0 && out[0].b.image_id == 0x01000002 &&
		  out[0].b.time == 11 && out[0].b.number == 2 && !out[0].removed);
	ck_assert(memcmp(out[1].b.mac, m1, 6) == 0 && out[1].b.image_id == 0 &&
		  out[1].b.time == 11 && out[1].b.number == 1 && !out[1].removed);
	ck_assert(memcmp(out[2].b.mac, m2, 6) == 0 && out[2].removed);
	/* Six changes into a ring of four: the oldest four stay, two are
	 * counted as lost, and the next drain says so once. */
	for (int i = 0; i < 6; i++) {
		uint8_t m[6];
		mac_of(10 + i, m);
		bsdp_bindings_record(b, m, 0x01000003, 20 + i, 0, NULL);
	}
	ck_assert_uint_eq(bsdp_bindings_pending(b), 4);
	ck_assert_uint_eq(bsdp_bindings_drain(b, out, 2, &lost, &overflowed), 2);
	ck_assert(lost);
	ck_assert_uint_eq(overflowed, 2);
	ck_assert_uint_eq(out[0].b.time, 20);
	ck_assert_uint_eq(out[1].b.time, 21);
	ck_assert_uint_eq(bsdp_bindings_drain(b, out, 8, &lost, &overflowed), 2);
	ck_assert(!lost);
	ck_assert_uint_eq(overflowed, 2);
	ck_assert_uint_eq(out[0].b.time, 22);
	ck_assert_uint_eq(out[1].b.time, 23);
	bsdp_bindings_free(b);
}
END_TEST

START_TEST(test_apply_takes_newer_partner_changes_without_journaling)
{
	struct bsdp_bindings *b = bsdp_bindings_new(8);
	ck_assert_int_eq(bsdp_bindings_journal(b, 8), 0);
	uint8_t m[6];
	mac_of(7, m);
	struct bsdp_change c = { .b = { .image_id = 0x01000005, .time = 100, .number = 40 } };
	memcpy(c.b.mac, m, 6);
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), 1);
	struct bsdp_binding got;
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_uint_eq(got.number, 40);
	ck_assert_uint_eq(got.image_id, 0x01000005);
	/* The same: ignored; older: ignored unless forced (the database's
	 * answer); a later forget: taken. */
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), 0);
	c.b.time = 99;
	c.b.image_id = 0x01000006;
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), 0);
	c.b.time = 101;
	c.b.image_id = 0;
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), 1);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_uint_eq(got.image_id, 0);
	c.b.time = 99;
	c.b.image_id = 0x01000006;
	c.b.number = 41;
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, true), 1);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_uint_eq(got.number, 41);
	/* The local counter stays above every number seen. */
	uint8_t other[6];
	mac_of(8, other);
	ck_assert_uint_eq(bsdp_bindings_number(b, other), 42);
	c.removed = 1;
	c.b.time = 100;
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), 1);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, NULL), -ENOENT);
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), 0);
	c.b.number = 0;
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), -EINVAL);
	ck_assert_uint_eq(bsdp_bindings_pending(b), 0);
	bsdp_bindings_free(b);
}
END_TEST

/* A deletion wins only over older writes, here as in the database: its
 * time is just after the selection it deletes (so another server's write
 * of that same time does not bring the Mac back), and a deletion read
 * from another server never erases a newer local selection. */
START_TEST(test_deletion_wins_only_over_older_writes)
{
	struct bsdp_bindings *b = bsdp_bindings_new(8);
	ck_assert_int_eq(bsdp_bindings_journal(b, 8), 0);
	uint8_t m[6];
	mac_of(9, m);
	bsdp_bindings_record(b, m, 0x01000001, 500, 0, NULL);
	ck_assert_int_eq(bsdp_bindings_remove(b, m), 0);
	struct bsdp_change out[4];
	bool lost;
	uint64_t overflowed = 0;
	ck_assert_uint_eq(bsdp_bindings_drain(b, out, 4, &lost, &overflowed), 2);
	ck_assert(out[1].removed);
	ck_assert_int_eq(out[1].b.time, 501);
	/* (Another server's write of the deleted selection's time, 500, loses
	 * to the deletion, 501, in the database: test/pg.) A newer selection here, then another server's deletion of an older
	 * one (time 600 against the local 700): the local one stays. */
	bsdp_bindings_record(b, m, 0x01000002, 700, 0, NULL);
	struct bsdp_change del = { .b = { .time = 600, .number = 1 }, .removed = 1 };
	memcpy(del.b.mac, m, 6);
	ck_assert_int_eq(bsdp_bindings_apply(b, &del, false), 0);
	struct bsdp_binding got;
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_uint_eq(got.image_id, 0x01000002);
	/* At the same time the write stays too; a later deletion erases. */
	del.b.time = 700;
	ck_assert_int_eq(bsdp_bindings_apply(b, &del, false), 0);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, NULL), 0);
	del.b.time = 701;
	ck_assert_int_eq(bsdp_bindings_apply(b, &del, false), 1);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, NULL), -ENOENT);
	bsdp_bindings_free(b);
}
END_TEST

/* Servers A and B share a database; a Mac's broadcast SELECT names B. B
 * records the selection, A (which held the Mac's earlier selection of the
 * same second) forgets it at that time. Whichever reaches a table first,
 * the selection stays: a forget never replaces a selection of its own
 * time, and a selection replaces a forget of its time. */
START_TEST(test_forget_never_replaces_a_selection_of_its_time)
{
	struct bsdp_bindings *b = bsdp_bindings_new(8);
	uint8_t m[6];
	mac_of(3, m);
	bsdp_bindings_record(b, m, 0x01000007, 300, 0, NULL);
	uint32_t number = bsdp_bindings_number(b, m);
	struct bsdp_change forget = { .b = { .image_id = 0, .time = 300, .number = number } };
	memcpy(forget.b.mac, m, 6);
	ck_assert_int_eq(bsdp_bindings_apply(b, &forget, false), 0);
	struct bsdp_binding got;
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_uint_eq(got.image_id, 0x01000007);
	/* Here the forget came first: the selection of its time replaces it. */
	ck_assert_int_eq(bsdp_bindings_forget(b, m, 300), 0);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_uint_eq(got.image_id, 0);
	ck_assert_int_eq(got.time, 300);
	struct bsdp_change chosen = forget;
	chosen.b.image_id = 0x01000007;
	ck_assert_int_eq(bsdp_bindings_apply(b, &chosen, false), 1);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_uint_eq(got.image_id, 0x01000007);
	/* A forget of a later SELECT (one naming a server outside the
	 * database) replaces it, and carries that SELECT's time. */
	forget.b.time = 301;
	ck_assert_int_eq(bsdp_bindings_apply(b, &forget, false), 1);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_uint_eq(got.image_id, 0);
	/* A forget at 320 of a selection of 310 is of 311: a selection the
	 * named server records at 311..320 by its clock wins over it. */
	bsdp_bindings_record(b, m, 0x01000007, 310, 0, NULL);
	ck_assert_int_eq(bsdp_bindings_forget(b, m, 320), 0);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_int_eq(got.time, 311);
	chosen.b.time = 311;
	ck_assert_int_eq(bsdp_bindings_apply(b, &chosen, false), 1);
	ck_assert_int_eq(bsdp_bindings_lookup(b, m, &got), 0);
	ck_assert_uint_eq(got.image_id, 0x01000007);
	bsdp_bindings_free(b);
}
END_TEST

/* The count "server-priority": "load" reads: entries holding an image,
 * through every way an entry changes or goes. */
START_TEST(test_bound_counts_entries_holding_an_image)
{
	struct bsdp_bindings *b = bsdp_bindings_new(3);
	uint8_t m[5][6];
	for (int i = 0; i < 5; i++)
		mac_of(20 + i, m[i]);
	ck_assert_uint_eq(bsdp_bindings_bound(b), 0);
	bsdp_bindings_record(b, m[0], 0x01000001, 1, 0, NULL);
	bsdp_bindings_record(b, m[1], 0x01000001, 2, 0, NULL);
	bsdp_bindings_record(b, m[1], 0x01000002, 3, 0, NULL);
	ck_assert_uint_eq(bsdp_bindings_bound(b), 2);
	bsdp_bindings_forget(b, m[1], 4);
	bsdp_bindings_forget(b, m[1], 5);
	ck_assert_uint_eq(bsdp_bindings_bound(b), 1);
	ck_assert_uint_eq(bsdp_bindings_count(b), 2);
	struct bsdp_binding e = { .image_id = 0x01000003, .time = 6, .number = 9 };
	memcpy(e.mac, m[1], 6);
	bsdp_bindings_put(b, &e);
	ck_assert_uint_eq(bsdp_bindings_bound(b), 2);
	e.image_id = 0;
	bsdp_bindings_put(b, &e);
	ck_assert_uint_eq(bsdp_bindings_bound(b), 1);
	struct bsdp_change c = { .b = { .image_id = 0x01000004, .time = 7, .number = 30 } };
	memcpy(c.b.mac, m[2], 6);
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), 1);
	ck_assert_uint_eq(bsdp_bindings_bound(b), 2);
	/* Full (3): a fourth pushes out the least recent, m[0], bound. */
	bsdp_bindings_record(b, m[3], 0x01000001, 8, 0, NULL);
	ck_assert_uint_eq(bsdp_bindings_evictions(b), 1);
	ck_assert_uint_eq(bsdp_bindings_bound(b), 2);
	c.removed = 1;
	c.b.time = 9;
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), 1);
	ck_assert_uint_eq(bsdp_bindings_bound(b), 1);
	ck_assert_int_eq(bsdp_bindings_remove(b, m[3]), 0);
	ck_assert_uint_eq(bsdp_bindings_bound(b), 0);
	ck_assert_uint_eq(bsdp_bindings_count(b), 1);
	/* The load: a database's count while published, else this one. */
	bsdp_bindings_record(b, m[4], 0x01000001, 10, 0, NULL);
	ck_assert_uint_eq(bsdp_bindings_load(b), 1);
	bsdp_bindings_share_bound(b, true, 70000);
	ck_assert_uint_eq(bsdp_bindings_load(b), 70000);
	bsdp_bindings_share_bound(b, true, 0);
	ck_assert_uint_eq(bsdp_bindings_load(b), 0);
	bsdp_bindings_share_bound(b, false, 5);
	ck_assert_uint_eq(bsdp_bindings_load(b), 1);
	ck_assert_uint_eq(bsdp_bindings_load(NULL), 0);
	bsdp_bindings_free(b);
}
END_TEST

/* The packet path reads the load without the lock while the table grows,
 * forgets, evicts and a store publishes and withdraws its count: never
 * more than the table holds, and at the end the count is the entries
 * with an image. */
struct load_racer {
	struct bsdp_bindings *b;
	bool *stop;
	uint64_t reads, over;
};

static void *forget_main(void *arg)
{
	struct load_racer *r = arg;
	for (uint32_t i = 0; !__atomic_load_n(r->stop, __ATOMIC_ACQUIRE) && i < 50000000u; i++) {
		uint32_t h = i * 2654435761u;
		uint8_t mac[6] = { 2, 0, (uint8_t)(h >> 24), (uint8_t)(h >> 16), (uint8_t)(h >> 8),
				   (uint8_t)h };
		bsdp_bindings_forget(r->b, mac, i);
		bsdp_bindings_share_bound(r->b, i % 2, i);
	}
	return NULL;
}

static void *load_main(void *arg)
{
	struct load_racer *r = arg;
	while (!__atomic_load_n(r->stop, __ATOMIC_ACQUIRE) && r->reads < 100000000u) {
		r->over += bsdp_bindings_bound(r->b) > GROW_CAPACITY;
		uint64_t load = bsdp_bindings_load(r->b);
		(void)load;
		r->reads++;
	}
	return NULL;
}

START_TEST(test_load_read_while_growing)
{
	struct bsdp_bindings *b = bsdp_bindings_new(GROW_CAPACITY);
	bool stop = false;
	struct grower g[GROWERS];
	struct load_racer r = { .b = b, .stop = &stop };
	pthread_t t[GROWERS + 2];
	ck_assert_int_eq(pthread_create(&t[GROWERS], NULL, forget_main, &r), 0);
	ck_assert_int_eq(pthread_create(&t[GROWERS + 1], NULL, load_main, &r), 0);
	for (int i = 0; i < GROWERS; i++) {
		g[i] = (struct grower){ .b = b, .id = i, .stop = &stop };
		ck_assert_int_eq(pthread_create(&t[i], NULL, grow_main, &g[i]), 0);
	}
	/* On until the table filled and evicted as much again (at most 20 s
	 * on a loaded machine). */
	for (int ms = 0; ms < 20000 && bsdp_bindings_evictions(b) < GROW_CAPACITY; ms++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000000 }, NULL);
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (int i = 0; i < GROWERS + 2; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_ge(bsdp_bindings_evictions(b), GROW_CAPACITY);
	ck_assert_uint_eq(r.over, 0);
	ck_assert_uint_gt(r.reads, 0);
	struct bsdp_binding *all;
	size_t n, with_image = 0;
	ck_assert_int_eq(bsdp_bindings_copy(b, &all, &n), 0);
	for (size_t i = 0; i < n; i++)
		with_image += all[i].image_id != 0;
	free(all);
	ck_assert_uint_eq(bsdp_bindings_bound(b), with_image);
	bsdp_bindings_share_bound(b, false, 0);
	ck_assert_uint_eq(bsdp_bindings_load(b), with_image);
	bsdp_bindings_free(b);
}
END_TEST

/* 4294967295 is no machine number: a row holding it (another program's)
 * is refused, and the local counter never wraps to 0. */
START_TEST(test_apply_refuses_number_that_would_wrap)
{
	struct bsdp_bindings *b = bsdp_bindings_new(8);
	struct bsdp_change c = { .b = { .mac = { 2, 0, 0, 0, 0, 1 }, .image_id = 0x01000001,
					.time = 5, .number = UINT32_MAX } };
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), -EINVAL);
	c.b.number = UINT32_MAX - 1;
	ck_assert_int_eq(bsdp_bindings_apply(b, &c, false), 1);
	uint32_t next = bsdp_bindings_number(b, (const uint8_t[]){ 2, 0, 0, 0, 0, 2 });
	ck_assert_uint_ne(next, 0);
	ck_assert_uint_lt(next, UINT32_MAX);
	bsdp_bindings_free(b);
}
END_TEST

START_TEST(test_numbers_come_from_blocks_then_fall_back_counted)
{
	struct bsdp_bindings *b = bsdp_bindings_new(64);
	uint8_t m[6];
	bsdp_bindings_use_blocks(b);
	ck_assert_uint_eq(bsdp_bindings_spares(b), 0);
	ck_assert(!bsdp_bindings_add_block(b, 0, 2));
	ck_assert(!bsdp_bindings_add_block(b, UINT32_MAX, 2));
	/* Spares are taken in the order they came, up to the limit. */
	for (unsigned k = 0; k < BSDP_BINDINGS_SPARE_BLOCKS; k++)
		ck_assert(bsdp_bindings_add_block(b, 129 + 64 * k, k ? 1 : 2));
	ck_assert_uint_eq(bsdp_bindings_spares(b), BSDP_BINDINGS_SPARE_BLOCKS);
	ck_assert(!bsdp_bindings_add_block(b, 9999, 2));
	uint32_t want[] = { 129, 130, 193 };
	for (int i = 0; i < 3; i++) {
		mac_of(i, m);
		ck_assert_uint_eq(bsdp_bindings_number(b, m), want[i]);
		bsdp_bindings_record(b, m, 0x01000001, i, want[i], NULL);
	}
	ck_assert_uint_eq(bsdp_bindings_spares(b), BSDP_BINDINGS_SPARE_BLOCKS - 2);
	/* record() with number 0 takes a fresh number too. */
	struct bsdp_binding got;
	mac_of(3, m);
	bsdp_bindings_record(b, m, 0x01000001, 3, 0, &got);
	ck_assert_uint_eq(got.number, 257);
	/* What was not handed out goes back (for the next server start). */
	ck_assert(bsdp_bindings_add_block(b, 1000, 5));
	mac_of(4, m);
	ck_assert_uint_eq(bsdp_bindings_number(b, m), 321);
	struct bsdp_number_block back[BSDP_BINDINGS_SPARE_BLOCKS + 1];
	const size_t left = BSDP_BINDINGS_SPARE_BLOCKS - 4;   /* spares 4.. and 1000 */
	ck_assert_uint_eq(bsdp_bindings_return_blocks(b, back, BSDP_BINDINGS_SPARE_BLOCKS + 1),
			  left + 1);
	for (unsigned k = 0; k < left; k++)
		ck_assert(back[k].first == 385 + 64 * k && back[k].count == 1);
	ck_assert(back[left].first == 1000 && back[left].count == 5);
	ck_assert_uint_eq(bsdp_bindings_return_blocks(b, back, 8), 0);
	ck_assert_uint_eq(bsdp_bindings_spares(b), 0);
	ck_assert_uint_eq(bsdp_bindings_uncoordinated(b), 0);
	/* Blocks used up: the table's own counter, above every number seen. */
	mac_of(20, m);
	ck_assert_uint_eq(bsdp_bindings_number(b, m), 258);
	ck_assert_uint_eq(bsdp_bindings_uncoordinated(b), 1);
	bsdp_bindings_free(b);
}
END_TEST

/* The database writer drains while threads change the table: every change
 * comes out exactly once, whole, until the ring overflows (then it says so). */
struct journal_writer {
	struct bsdp_bindings *b;
	int id;
	unsigned changes;
};

static void *journal_main(void *arg)
{
	struct journal_writer *w = arg;
	for (unsigned i = 0; i < w->changes; i++) {
		uint8_t mac[6] = { 2, (uint8_t)w->id, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8),
				   (uint8_t)i };
		bsdp_bindings_record(w->b, mac, 0x01000000u | (uint32_t)w->id, i, 0, NULL);
	}
	return NULL;
}

START_TEST(test_journal_drained_while_growing)
{
	enum { WRITERS = 3, CHANGES = 20000 };
	struct bsdp_bindings *b = bsdp_bindings_new(1024);
	ck_assert_int_eq(bsdp_bindings_journal(b, 4096), 0);
	struct journal_writer w[WRITERS];
	pthread_t t[WRITERS];
	for (int i = 0; i < WRITERS; i++) {
		w[i] = (struct journal_writer){ .b = b, .id = i + 1, .changes = CHANGES };
		ck_assert_int_eq(pthread_create(&t[i], NULL, journal_main, &w[i]), 0);
	}
	static struct bsdp_change out[512];
	uint64_t drained = 0, overflowed = 0;
	unsigned next[WRITERS + 1] = { 0 };
	bool ordered = true;
	for (int round = 0; round < 10000000; round++) {
		bool lost = false;
		size_t n = bsdp_bindings_drain(b, out, 512, &lost, &overflowed);
		for (size_t k = 0; k < n; k++) {
			int id = out[k].b.mac[1];
			ck_assert(id >= 1 && id <= WRITERS);
			ck_assert_uint_eq(out[k].b.image_id, 0x01000000u | (uint32_t)id);
			/* Per writer, times only go up (a lost stretch skips some). */
			ordered &= out[k].b.time >= next[id];
			next[id] = (unsigned)out[k].b.time + 1;
		}
		drained += n;
		if (drained + overflowed == (uint64_t)WRITERS * CHANGES)
			break;
	}
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	ck_assert(ordered);
	ck_assert_uint_eq(drained + overflowed, (uint64_t)WRITERS * CHANGES);
	bsdp_bindings_free(b);
}
END_TEST

/* ---- the keyed index ---------------------------------------------------- */

/* The reference implementation's vectors.h (github.com/veorq/SipHash),
 * vectors_sip64: SipHash-2-4 under key 00 01 .. 0f of the messages
 * 00 01 .. len-1 for len 0..63, each output as its 8 bytes, least
 * significant first. */
static const char *const sip64_vectors[64] = {
	"310e0edd47db6f72", "fd67dc93c539f874", "5a4fa9d909806c0d", "2d7efbd796666785",
	"b7877127e09427cf", "8da699cd64557618", "cee3fe586e46c9cb", "37d1018bf50002ab",
	"6224939a79f5f593", "b0e4a90bdf82009e", "f3b9dd94c5bb5d7a", "a7ad6b22462fb3f4",
	"fbe50e86bc8f1e75", "903d84c02756ea14", "eef27a8e90ca23f7", "e545be4961ca29a1",
	"db9bc2577fcc2a3f", "9447be2cf5e99a69", "9cd38d96f0b3c14b", "bd6179a71dc96dbb",
	"98eea21af25cd6be", "c7673b2eb0cbf2d0", "883ea3e395675393", "c8ce5ccd8c030ca8",
	"94af49f6c650adb8", "eab8858ade92e1bc", "f315bb5bb835d817", "adcf6b0763612e2f",
	"a5c91da7acaa4dde", "716595876650a2a6", "28ef495c53a387ad", "42c341d8fa92d832",
	"ce7cf2722f512771", "e37859f94623f3a7", "381205bb1ab0e012", "ae97a10fd434e015",
	"b4a31508beff4d31", "81396229f0907902", "4d0cf49ee5d4dcca", "5c73336a76d8bf9a",
	"d0a704536ba93e0e", "925958fcd6420cad", "a915c29bc8067318", "952b79f3bc0aa6d4",
	"f21df2e41d4535f9", "87577519048f53a9", "10a56cf5dfcd9adb", "eb75095ccd986cd0",
	"51a9cb9ecba312e6", "96afadfc2ce666c7", "72fe52975a4364ee", "5a1645b276d592a1",
	"b274cb8ebf87870a", "6f9bb4203de7b381", "eaecb2a30b22a87f", "9924a43cc1315724",
	"bd838d3aafbf8db7", "0b1a2a3265d51aea", "135079a3231ce660", "932b2846e4d70666",
	"e1915f5cb1eca46c", "f325965ca16d629f", "575ff28e60381be5", "724506eb4c328a95",
};

static void hex_bytes(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
}

START_TEST(test_siphash_matches_the_reference_vectors)
{
	uint8_t key[16], msg[64];
	for (int i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	for (int i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	struct bsdp_siphash_key k = bsdp_siphash_key(key);
	/* The paper's Appendix A: 15 bytes, k0 and k1 as it prints them. */
	ck_assert_uint_eq(k.k0, 0x0706050403020100ull);
	ck_assert_uint_eq(k.k1, 0x0f0e0d0c0b0a0908ull);
	ck_assert_uint_eq(bsdp_siphash24(k, msg, 15), 0xa129ca6149be45e5ull);
	for (size_t len = 0; len < 64; len++) {
		uint8_t want[8];
		hex_bytes(sip64_vectors[len], want, 8);
		uint64_t h = bsdp_siphash24(k, msg, len), w = 0;
		for (int i = 0; i < 8; i++)
			w |= (uint64_t)want[i] << (8 * i);
		ck_assert_msg(h == w, "length %zu: %016llx, want %016llx", len,
			      (unsigned long long)h, (unsigned long long)w);
	}
}
END_TEST

static const uint8_t key_one[BSDP_BINDINGS_KEY_SIZE] = { 1, 2, 3, 4, 5, 6, 7, 8,
							  9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t key_two[BSDP_BINDINGS_KEY_SIZE] = { 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5,
							  0x06, 0x17, 0x28, 0x39, 0x4a, 0x5b,
							  0x6c, 0x7d, 0x8e, 0x9f };

/* What an attacker who knew the key would do: brute force n MACs whose
 * home slot under b's key is below window. Bounded: 2^32 candidates. */
static void choose_colliding(struct bsdp_bindings *b, size_t window, uint8_t (*macs)[6], size_t n)
{
	size_t found = 0;
	for (uint64_t c = 0; found < n && c < (1ull << 32); c++) {
		uint8_t mac[6] = { 0x06, 0xc0, (uint8_t)(c >> 24), (uint8_t)(c >> 16),
				   (uint8_t)(c >> 8), (uint8_t)c };
		if (bsdp_bindings_home(b, mac) < window)
			memcpy(macs[found++], mac, 6);
	}
	ck_assert_uint_eq(found, n);
}

/* A SELECT's way into the table: a number, then the record. */
static uint32_t select_mac(struct bsdp_bindings *b, const uint8_t mac[6], int64_t now)
{
	uint32_t number = bsdp_bindings_number(b, mac);
	bsdp_bindings_record(b, mac, 0x01000001, now, number, NULL);
	return number;
}

/* MACs that share one home slot under one key form one long run there;
 * under another key the same MACs spread like any others. */
START_TEST(test_macs_chosen_for_one_key_spread_under_another)
{
	enum { N = 100 };
	static uint8_t macs[N][6];
	struct bsdp_bindings *one = bsdp_bindings_new_keyed(1024, key_one);
	struct bsdp_bindings *two = bsdp_bindings_new_keyed(1024, key_two);
	choose_colliding(one, 1, macs, N);
	for (int i = 0; i < N; i++) {
		ck_assert_uint_eq(bsdp_bindings_home(one, macs[i]), 0);
		select_mac(one, macs[i], i);
		select_mac(two, macs[i], i);
	}
	ck_assert_uint_eq(bsdp_bindings_longest_run(one), N);
	unsigned spread = bsdp_bindings_longest_run(two);
	ck_assert_msg(spread <= 4, "under another key the longest run is %u slots", spread);
	for (int i = 0; i < N; i++) {
		struct bsdp_binding got;
		ck_assert_int_eq(bsdp_bindings_lookup(one, macs[i], &got), 0);
		ck_assert_uint_eq(got.number, (uint32_t)i + 1);
		ck_assert_int_eq(bsdp_bindings_lookup(two, macs[i], &got), 0);
		ck_assert_uint_eq(got.number, (uint32_t)i + 1);
	}
	ck_assert_uint_eq(bsdp_bindings_rekeys(one), 0);
	ck_assert_uint_eq(bsdp_bindings_rekeys(two), 0);
	bsdp_bindings_free(one);
	bsdp_bindings_free(two);
}
END_TEST

/* Each table draws its own secret: the same MACs land elsewhere in two
 * tables (all 32 homes equal by chance: 2048^-32). A bad constructor
 * argument says why. */
START_TEST(test_each_table_draws_its_own_key)
{
	struct bsdp_bindings *a = bsdp_bindings_new(1024), *b = bsdp_bindings_new(1024);
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(b);
	int same = 0;
	for (int i = 0; i < 32; i++) {
		uint8_t mac[6];
		mac_of(i, mac);
		same += bsdp_bindings_home(a, mac) == bsdp_bindings_home(b, mac);
	}
	ck_assert_int_lt(same, 32);
	bsdp_bindings_free(a);
	bsdp_bindings_free(b);
	errno = 0;
	ck_assert_ptr_null(bsdp_bindings_new_keyed(8, NULL));
	ck_assert_int_eq(errno, EINVAL);
	errno = 0;
	ck_assert_ptr_null(bsdp_bindings_new(0));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

/* The worst case forced: far more MACs in one 64-slot window than the run
 * limit. The table re-keys instead of letting the run grow, and stays the
 * same table: every MAC found with its number, removals, eviction order. */
START_TEST(test_runs_stay_bounded_when_macs_are_chosen_to_collide)
{
	enum { CAPACITY = 4096, N = 1500, OTHERS = 4000 };
	static uint8_t macs[N][6];
	struct bsdp_bindings *b = bsdp_bindings_new_keyed(CAPACITY, key_one);
	choose_colliding(b, 64, macs, N);
	for (int i = 0; i < N; i++)
		ck_assert_uint_eq(select_mac(b, macs[i], i), (uint32_t)i + 1);
	ck_assert_uint_ge(bsdp_bindings_rekeys(b), 1);
	unsigned run = bsdp_bindings_longest_run(b);
	ck_assert_msg(run <= BSDP_BINDINGS_RUN_MAX, "a run of %u slots", run);
	size_t in_window = 0;
	for (int i = 0; i < N; i++) {
		struct bsdp_binding got;
		ck_assert_int_eq(bsdp_bindings_lookup(b, macs[i], &got), 0);
		ck_assert_uint_eq(got.number, (uint32_t)i + 1);
		in_window += bsdp_bindings_home(b, macs[i]) < 64;
	}
	/* Under the new key they spread: about 64/8192 of them stay. */
	ck_assert_uint_lt(in_window, 60);
	ck_assert_uint_eq(bsdp_bindings_count(b), N);
	/* Every third removed; the rest still found, the removed not. */
	for (int i = 0; i < N; i += 3)
		ck_assert_int_eq(bsdp_bindings_remove(b, macs[i]), 0);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(bsdp_bindings_lookup(b, macs[i], NULL), i % 3 ? 0 : -ENOENT);
	/* Other MACs past the capacity evict the least recent: the colliding
	 * ones, oldest first. */
	size_t kept = N - (N + 2) / 3;
	for (int i = 0; i < OTHERS; i++) {
		uint8_t mac[6] = { 0x06, 0xd0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		select_mac(b, mac, N + i);
	}
	size_t evicted = kept + OTHERS - CAPACITY;
	ck_assert_uint_eq(bsdp_bindings_evictions(b), evicted);
	ck_assert_uint_eq(bsdp_bindings_count(b), CAPACITY);
	size_t seen = 0;
	for (int i = 0; i < N; i++) {
		if (i % 3 == 0)
			continue;
		int want = seen++ < evicted ? -ENOENT : 0;
		ck_assert_int_eq(bsdp_bindings_lookup(b, macs[i], NULL), want);
	}
	run = bsdp_bindings_longest_run(b);
	ck_assert_msg(run <= BSDP_BINDINGS_RUN_MAX, "a run of %u slots", run);
	bsdp_bindings_free(b);
}
END_TEST

/* Lookups, numbers and copies race inserts of colliding MACs that make the
 * index re-key while the table grows: whole entries, every MAC where it
 * should be at the end. */
#define RACE_MACS 1200
#define RACE_WRITERS 2

struct racer {
	struct bsdp_bindings *b;
	uint8_t (*macs)[6];
	int id;
	bool *stop;
	unsigned mismatches;
};

static void *race_write(void *arg)
{
	struct racer *r = arg;
	for (int i = r->id; i < RACE_MACS; i += RACE_WRITERS) {
		select_mac(r->b, r->macs[i], i);
		uint8_t plain[6] = { 0x06, 0xe0, (uint8_t)r->id, 0, (uint8_t)(i >> 8), (uint8_t)i };
		select_mac(r->b, plain, i);
		if (i % 5 == 0)
			bsdp_bindings_remove(r->b, r->macs[i]);
	}
	return NULL;
}

static void *race_read(void *arg)
{
	struct racer *r = arg;
	for (unsigned n = 0; !__atomic_load_n(r->stop, __ATOMIC_ACQUIRE) && n < 100000000u; n++) {
		const uint8_t *mac = r->macs[n % RACE_MACS];
		struct bsdp_binding got;
		if (bsdp_bindings_lookup(r->b, mac, &got) == 0 &&
		    (memcmp(got.mac, mac, 6) != 0 || got.image_id != 0x01000001))
			r->mismatches++;
	}
	return NULL;
}

START_TEST(test_lookups_race_inserts_that_rekey)
{
	static uint8_t macs[RACE_MACS][6];
	struct bsdp_bindings *b = bsdp_bindings_new_keyed(4096, key_two);
	choose_colliding(b, 64, macs, RACE_MACS);
	bool stop = false;
	struct racer w[RACE_WRITERS], reader = { .b = b, .macs = macs, .stop = &stop };
	pthread_t tw[RACE_WRITERS], tr;
	ck_assert_int_eq(pthread_create(&tr, NULL, race_read, &reader), 0);
	for (int i = 0; i < RACE_WRITERS; i++) {
		w[i] = (struct racer){ .b = b, .macs = macs, .id = i, .stop = &stop };
		ck_assert_int_eq(pthread_create(&tw[i], NULL, race_write, &w[i]), 0);
	}
	/* Copies meanwhile: whole entries only. */
	size_t bad = 0;
	for (int round = 0; round < 200; round++) {
		struct bsdp_binding *all;
		size_t n;
		ck_assert_int_eq(bsdp_bindings_copy(b, &all, &n), 0);
		for (size_t k = 0; k < n; k++)
			bad += all[k].mac[0] != 0x06 || all[k].image_id != 0x01000001;
		free(all);
	}
	for (int i = 0; i < RACE_WRITERS; i++)
		pthread_join(tw[i], NULL);
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	pthread_join(tr, NULL);
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(reader.mismatches, 0);
	ck_assert_uint_ge(bsdp_bindings_rekeys(b), 1);
	ck_assert_uint_le(bsdp_bindings_longest_run(b), BSDP_BINDINGS_RUN_MAX);
	for (int i = 0; i < RACE_MACS; i++)
		ck_assert_int_eq(bsdp_bindings_lookup(b, macs[i], NULL), i % 5 ? 0 : -ENOENT);
	ck_assert_uint_eq(bsdp_bindings_count(b), 2 * RACE_MACS - (RACE_MACS + 4) / 5);
	bsdp_bindings_free(b);
}
END_TEST

/* ---- pages in MAC order ------------------------------------------------ */

static int mac_order(const void *a, const void *b)
{
	return memcmp(((const struct bsdp_binding *)a)->mac, ((const struct bsdp_binding *)b)->mac, 6);
}

/* Walks the table in pages of limit, checking each page is ascending and
 * above its from; returns the concatenation (free() it) and its length. */
static struct bsdp_binding *walk_pages(struct bsdp_bindings *b, size_t limit, size_t *ret_n,
				       size_t *ret_pages)
{
	size_t cap = bsdp_bindings_count(b) + 1, n = 0, pages = 0;
	struct bsdp_binding *all = malloc(cap * sizeof(*all));
	struct bsdp_binding *page = malloc(limit * sizeof(*page));
	ck_assert_ptr_nonnull(all);
	ck_assert_ptr_nonnull(page);
	uint8_t from[6];
	size_t bad = 0;
	for (bool first = true;; first = false) {
		size_t total = 0;
		size_t got = bsdp_bindings_page(b, first ? NULL : from, page, limit, &total);
		ck_assert_uint_le(got, limit);
		if (got == 0)
			break;
		pages++;
		for (size_t k = 0; k < got; k++) {
			const uint8_t *prev = k ? page[k - 1].mac : first ? NULL : from;
			bad += (prev && memcmp(prev, page[k].mac, 6) >= 0) || page[k].number == 0;
		}
		if (n + got > cap) {
			cap = (n + got) * 2;
			all = realloc(all, cap * sizeof(*all));
			ck_assert_ptr_nonnull(all);
		}
		memcpy(all + n, page, got * sizeof(*page));
		n += got;
		memcpy(from, page[got - 1].mac, 6);
		ck_assert_uint_le(pages, 1000000);
	}
	free(page);
	ck_assert_msg(bad == 0, "%zu entries out of MAC order or whole-less in pages of %zu", bad, limit);
	*ret_n = n;
	if (ret_pages)
		*ret_pages = pages;
	return all;
}

/* More entries than one chunk, some removed (their freed entries keep the
 * old MAC) and some evicted: every page size walks exactly the held
 * entries in MAC order, and the total is the count. */
START_TEST(test_pages_walk_the_table_in_mac_order)
{
	enum { CAP = 9000 };
	struct bsdp_bindings *b = bsdp_bindings_new(CAP);
	unsigned seed = 777;
	for (int i = 0; i < 12000; i++) {
		seed = seed * 1103515245u + 12345u;
		uint8_t mac[6] = { 2, (uint8_t)(seed >> 24), (uint8_t)(seed >> 16), (uint8_t)(seed >> 8),
				   (uint8_t)i, (uint8_t)(i >> 8) };
		ck_assert_int_eq(bsdp_bindings_record(b, mac, 0x01000001, i, 0, NULL), 0);
		if (i % 5 == 0)
			ck_assert_int_eq(bsdp_bindings_remove(b, mac), 0);
	}
	ck_assert_uint_gt(bsdp_bindings_evictions(b), 0);
	/* Freed entries that are not reused: their old MACs stay behind. */
	struct bsdp_binding *held;
	size_t n_held;
	ck_assert_int_eq(bsdp_bindings_copy(b, &held, &n_held), 0);
	for (size_t k = 0; k < n_held; k += 3)
		ck_assert_int_eq(bsdp_bindings_remove(b, held[k].mac), 0);
	free(held);
	struct bsdp_binding *want;
	size_t n_want;
	ck_assert_int_eq(bsdp_bindings_copy(b, &want, &n_want), 0);
	ck_assert_uint_gt(n_want, 4096);
	qsort(want, n_want, sizeof(*want), mac_order);
	static const size_t limits[] = { 1, 7, 1000, 4096, 8999, 20000 };
	for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
		size_t n, pages;
		struct bsdp_binding *got = walk_pages(b, limits[l], &n, &pages);
		ck_assert_uint_eq(n, n_want);
		ck_assert_uint_eq(pages, (n_want + limits[l] - 1) / limits[l]);
		ck_assert_int_eq(memcmp(got, want, n * sizeof(*got)), 0);
		free(got);
	}
	/* The total, a from between MACs, after the last, and bad arguments. */
	struct bsdp_binding page[3];
	size_t total = 0;
	uint8_t between[6];
	memcpy(between, want[10].mac, 6);
	for (int k = 5; k >= 0 && ++between[k] == 0; k--)
		;
	ck_assert_int_lt(memcmp(between, want[11].mac, 6), 0);
	ck_assert_uint_eq(bsdp_bindings_page(b, want[10].mac, page, 3, &total), 3);
	ck_assert_int_eq(memcmp(page, want + 11, sizeof(page)), 0);
	ck_assert_uint_eq(bsdp_bindings_page(b, between, page, 3, &total), 3);
	ck_assert_uint_eq(total, n_want);
	ck_assert_int_eq(memcmp(page, want + 11, sizeof(page)), 0);
	ck_assert_uint_eq(bsdp_bindings_page(b, want[n_want - 1].mac, page, 3, &total), 0);
	ck_assert_uint_eq(total, n_want);
	ck_assert_uint_eq(bsdp_bindings_page(b, NULL, page, 0, &total), 0);
	ck_assert_uint_eq(bsdp_bindings_page(b, NULL, NULL, 3, &total), 0);
	ck_assert_uint_eq(bsdp_bindings_page(NULL, NULL, page, 3, &total), 0);
	ck_assert_uint_eq(total, 0);
	free(want);
	bsdp_bindings_free(b);
}
END_TEST

/* ---- walking pages while threads grow, evict and move entries ----------- */

#define WALK_CAPACITY 40000

struct mover {
	struct bsdp_bindings *b;
	bool *stop;
};

/* Moves MACs between entries again and again (removed, the entry taken by
 * a filler, added again into another entry): a walk may read one in two
 * entries, and a page must still hold it once. They are spread among the
 * growers' MACs, so that most pages hold one. */
static void *move_main(void *arg)
{
	struct mover *m = arg;
	for (uint32_t i = 0; !__atomic_load_n(m->stop, __ATOMIC_ACQUIRE) && i < 50000000u; i++) {
		uint8_t k = (uint8_t)(i % 64);
		const uint8_t mac[6] = { 2, (uint8_t)(k % GROWERS), (uint8_t)(k * 12), 0x5a, 0xa5, 1 };
		uint8_t filler[6] = { 2, 0xfd, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8),
				      (uint8_t)i };
		bsdp_bindings_remove(m->b, mac);
		bsdp_bindings_record(m->b, filler, 0x01000003, i, 0, NULL);
		bsdp_bindings_record(m->b, mac, 0x01000003, i, 0, NULL);
		bsdp_bindings_remove(m->b, filler);
	}
	return NULL;
}

/* Pages walked while three threads insert, remove, (once the table is
 * full) evict and keep the stable MACs recent, and one moves MACs between
 * entries: every page ascending, no MAC twice in a walk, and every stable
 * MAC held from the walk's start to its end (same machine number at both:
 * one evicted and added again gets a fresh number) is seen. */
START_TEST(test_pages_walked_while_growing)
{
	struct bsdp_bindings *b = bsdp_bindings_new(WALK_CAPACITY);
	bool stop = false;
	struct grower g[GROWERS];
	pthread_t t[GROWERS + 1];
	struct mover mv = { .b = b, .stop = &stop };
	for (int i = 0; i < STABLE_MACS; i++) {
		uint8_t mac[6];
		stable_mac(i, mac);
		ck_assert_int_eq(bsdp_bindings_record(b, mac, 0x01000002, 0, 0, NULL), 0);
	}
	ck_assert_int_eq(pthread_create(&t[GROWERS], NULL, move_main, &mv), 0);
	for (int i = 0; i < GROWERS; i++) {
		g[i] = (struct grower){ .b = b, .id = i, .stop = &stop, .keep_stable = true };
		ck_assert_int_eq(pthread_create(&t[i], NULL, grow_main, &g[i]), 0);
	}
	size_t checked = 0, walks = 0, busy = 0;
	/* On until 24 walks started on a table of several chunks (the
	 * growers running), the growers have evicted, and stable MACs held
	 * throughout a busy walk were checked (bounded). */
	for (; (busy < 24 || bsdp_bindings_evictions(b) == 0 || checked == 0) && walks < 5000;
	     walks++) {
		uint32_t before[STABLE_MACS], after[STABLE_MACS];
		size_t count_before = bsdp_bindings_count(b);
		bool is_busy = count_before > 4096;
		for (int i = 0; i < STABLE_MACS; i++) {
			uint8_t mac[6];
			struct bsdp_binding e;
			stable_mac(i, mac);
			before[i] = bsdp_bindings_lookup(b, mac, &e) == 0 ? e.number : 0;
		}
		size_t n;
		struct bsdp_binding *all = walk_pages(b, 1000, &n, NULL);
		for (int i = 0; i < STABLE_MACS; i++) {
			uint8_t mac[6];
			struct bsdp_binding e;
			stable_mac(i, mac);
			after[i] = bsdp_bindings_lookup(b, mac, &e) == 0 ? e.number : 0;
		}
		/* The walk is ascending as a whole: no MAC twice. */
		size_t twice = 0, missed = 0;
		for (size_t k = 1; k < n; k++)
			twice += memcmp(all[k - 1].mac, all[k].mac, 6) >= 0;
		for (int i = 0; i < STABLE_MACS; i++) {
			if (!before[i] || before[i] != after[i])
				continue;
			struct bsdp_binding key;
			stable_mac(i, key.mac);
			missed += bsearch(&key, all, n, sizeof(*all), mac_order) == NULL;
			checked += is_busy;
		}
		ck_assert_msg(twice == 0 && missed == 0, "walk %zu: %zu MACs twice, %zu held throughout missed",
			      walks, twice, missed);
		busy += is_busy;
		free(all);
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	for (int i = 0; i <= GROWERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_uint_gt(bsdp_bindings_evictions(b), 0);
	ck_assert_uint_gt(checked, 0);
	ck_assert_uint_ge(busy, 24);
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
	tcase_add_test(t, test_journal_keeps_changes_in_order_and_reports_loss);
	tcase_add_test(t, test_apply_takes_newer_partner_changes_without_journaling);
	tcase_add_test(t, test_deletion_wins_only_over_older_writes);
	tcase_add_test(t, test_forget_never_replaces_a_selection_of_its_time);
	tcase_add_test(t, test_bound_counts_entries_holding_an_image);
	tcase_add_test(t, test_load_read_while_growing);
	tcase_add_test(t, test_apply_refuses_number_that_would_wrap);
	tcase_add_test(t, test_numbers_come_from_blocks_then_fall_back_counted);
	tcase_add_test(t, test_journal_drained_while_growing);
	tcase_add_test(t, test_pages_walk_the_table_in_mac_order);
	tcase_add_test(t, test_pages_walked_while_growing);
	suite_add_tcase(s, t);
	TCase *k = tcase_create("keyed index");
	tcase_set_timeout(k, 120);
	tcase_add_test(k, test_siphash_matches_the_reference_vectors);
	tcase_add_test(k, test_macs_chosen_for_one_key_spread_under_another);
	tcase_add_test(k, test_each_table_draws_its_own_key);
	tcase_add_test(k, test_runs_stay_bounded_when_macs_are_chosen_to_collide);
	tcase_add_test(k, test_lookups_race_inserts_that_rekey);
	suite_add_tcase(s, k);
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
