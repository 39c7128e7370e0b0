/* SPDX-License-Identifier: MPL-2.0 */
/* The recent-Macs table (hook/recent.h): what bsdp-explain falls back on.
 * Bounded, keyed, and raced by packet threads while it grows; run under
 * ASan and TSan by make unit-asan / unit-tsan. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook/recent.h"

static const uint8_t key[BSDP_RECENT_KEY_SIZE] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static void mac_of(uint32_t n, uint8_t mac[6])
{
	mac[0] = 0x02;
	mac[1] = 0x42;
	mac[2] = (uint8_t)(n >> 24);
	mac[3] = (uint8_t)(n >> 16);
	mac[4] = (uint8_t)(n >> 8);
	mac[5] = (uint8_t)n;
}

/* A request whose every field is derived from its MAC and a round, so a
 * torn copy (half one write, half another) shows. */
static void request_of(const uint8_t mac[6], uint32_t round, struct bsdp_recent_request *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->mac, mac, 6);
	r->time = round;
	r->vc.arch_len = (size_t)snprintf(r->vc.arch, sizeof(r->vc.arch), "i386");
	r->vc.model_len = (size_t)snprintf(r->vc.model, sizeof(r->vc.model),
					   "Mac%02x%02x%02x-%u", mac[3], mac[4], mac[5], round);
	r->req.n_filters = (uint8_t)(1 + (mac[5] + round) % BSDP_FILTERS_MAX);
	for (size_t i = 0; i < r->req.n_filters; i++)
		r->req.filters[i] = (uint16_t)(mac[5] * 256 + round + i);
	r->reply_overhead = round;
	r->ciaddr = round;
}

static bool consistent(const struct bsdp_recent_request *r)
{
	struct bsdp_recent_request want;
	request_of(r->mac, (uint32_t)r->time, &want);
	return memcmp(r, &want, sizeof(want)) == 0;
}

START_TEST(test_recent_note_lookup_and_replace)
{
	struct bsdp_recent *t = bsdp_recent_new();
	ck_assert_ptr_nonnull(t);
	uint8_t mac[6];
	struct bsdp_recent_request r, got;
	mac_of(7, mac);
	ck_assert_int_eq(bsdp_recent_lookup(t, mac, &got), -ENOENT);
	request_of(mac, 1, &r);
	bsdp_recent_note(t, &r);
	request_of(mac, 2, &r);
	bsdp_recent_note(t, &r);
	ck_assert_uint_eq(bsdp_recent_count(t), 1);
	ck_assert_int_eq(bsdp_recent_lookup(t, mac, &got), 0);
	ck_assert_int_eq(got.time, 2);
	ck_assert(consistent(&got));
	bsdp_recent_free(t);
}
END_TEST

/* Five MACs of one group: the fifth replaces the least recently noted. */
START_TEST(test_recent_group_forgets_its_least_recent)
{
	struct bsdp_recent *t = bsdp_recent_new_keyed(key);
	uint8_t macs[BSDP_RECENT_WAYS + 1][6], first[6];
	size_t n = 0;
	mac_of(0, first);
	size_t g = bsdp_recent_group(t, first);
	for (uint32_t i = 0; n < BSDP_RECENT_WAYS + 1 && i < 1000000; i++) {
		mac_of(i, macs[n]);
		if (bsdp_recent_group(t, macs[n]) == g)
			n++;
	}
	ck_assert_uint_eq(n, BSDP_RECENT_WAYS + 1);
	struct bsdp_recent_request r, got;
	for (size_t i = 0; i < BSDP_RECENT_WAYS; i++) {
		request_of(macs[i], (uint32_t)i, &r);
		bsdp_recent_note(t, &r);
	}
	/* The first is seen again: the second is now the least recent. */
	request_of(macs[0], 9, &r);
	bsdp_recent_note(t, &r);
	request_of(macs[BSDP_RECENT_WAYS], 10, &r);
	bsdp_recent_note(t, &r);
	ck_assert_uint_eq(bsdp_recent_count(t), BSDP_RECENT_WAYS);
	ck_assert_int_eq(bsdp_recent_lookup(t, macs[1], &got), -ENOENT);
	ck_assert_int_eq(bsdp_recent_lookup(t, macs[0], &got), 0);
	ck_assert_int_eq(got.time, 9);
	for (size_t i = 2; i <= BSDP_RECENT_WAYS; i++)
		ck_assert_int_eq(bsdp_recent_lookup(t, macs[i], &got), 0);
	bsdp_recent_free(t);
}
END_TEST

/* The group comes from the secret key, not from the MAC alone: MACs that
 * share a group under one key are spread under another. */
START_TEST(test_recent_groups_depend_on_the_key)
{
	struct bsdp_recent *a = bsdp_recent_new_keyed(key), *b = bsdp_recent_new();
	uint8_t mac[6], first[6];
	size_t same_a = 0, same_b_too = 0;
	mac_of(0, first);
	for (uint32_t i = 1; i < 200000; i++) {
		mac_of(i, mac);
		if (bsdp_recent_group(a, mac) != bsdp_recent_group(a, first))
			continue;
		same_a++;
		same_b_too += bsdp_recent_group(b, mac) == bsdp_recent_group(b, first);
	}
	ck_assert_uint_gt(same_a, 100);
	ck_assert_uint_lt(same_b_too, same_a / 10);
	bsdp_recent_free(a);
	bsdp_recent_free(b);
}
END_TEST

START_TEST(test_recent_never_holds_more_than_its_capacity)
{
	struct bsdp_recent *t = bsdp_recent_new();
	uint8_t mac[6];
	struct bsdp_recent_request r, got;
	for (uint32_t i = 0; i < 3 * BSDP_RECENT_CAPACITY; i++) {
		mac_of(i, mac);
		request_of(mac, i, &r);
		bsdp_recent_note(t, &r);
		ck_assert_uint_le(bsdp_recent_count(t), BSDP_RECENT_CAPACITY);
		ck_assert_int_eq(bsdp_recent_lookup(t, mac, &got), 0);
	}
	/* Twelve MACs a group on average: all but a few groups are full. */
	ck_assert_uint_ge(bsdp_recent_count(t), BSDP_RECENT_CAPACITY - 64);
	bsdp_recent_free(t);
}
END_TEST

#define WRITERS 4
#define READERS 2
#define NOTES 20000

static struct bsdp_recent *shared;
static atomic_uint written[WRITERS];   /* MACs a writer has noted so far */
static atomic_int torn, found;

static void *writer(void *arg)
{
	uint32_t id = (uint32_t)(uintptr_t)arg;
	struct bsdp_recent_request r;
	uint8_t mac[6];
	for (uint32_t i = 0; i < NOTES; i++) {
		/* Mostly new MACs (the table grows and evicts), some seen again. */
		uint32_t n = i % 5 == 4 ? i / 2 : i;
		mac_of(id << 20 | n, mac);
		request_of(mac, i, &r);
		bsdp_recent_note(shared, &r);
		atomic_store(&written[id], i + 1);
	}
	return NULL;
}

static void *reader(void *arg)
{
	uint32_t seed = (uint32_t)(uintptr_t)arg + 1;
	struct bsdp_recent_request got;
	uint8_t mac[6];
	for (int i = 0; i < 2 * NOTES; i++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t w = (seed >> 8) % WRITERS;
		uint32_t upto = atomic_load(&written[w]);
		if (!upto)
			continue;
		mac_of(w << 20 | (seed >> 4) % upto, mac);
		if (bsdp_recent_lookup(shared, mac, &got) == 0) {
			atomic_fetch_add(&found, 1);
			if (!consistent(&got) || memcmp(got.mac, mac, 6) != 0)
				atomic_fetch_add(&torn, 1);
		}
		if (bsdp_recent_count(shared) > BSDP_RECENT_CAPACITY)
			atomic_fetch_add(&torn, 1);
	}
	return NULL;
}

START_TEST(test_recent_raced_while_growing)
{
	pthread_t t[WRITERS + READERS];
	shared = bsdp_recent_new();
	ck_assert_ptr_nonnull(shared);
	for (uintptr_t i = 0; i < WRITERS; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, writer, (void *)i), 0);
	for (uintptr_t i = 0; i < READERS; i++)
		ck_assert_int_eq(pthread_create(&t[WRITERS + i], NULL, reader, (void *)i), 0);
	for (size_t i = 0; i < WRITERS + READERS; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(atomic_load(&torn), 0);
	ck_assert_int_gt(atomic_load(&found), 0);
	ck_assert_uint_le(bsdp_recent_count(shared), BSDP_RECENT_CAPACITY);
	bsdp_recent_free(shared);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("recent");
	TCase *tc = tcase_create("recent");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_recent_note_lookup_and_replace);
	tcase_add_test(tc, test_recent_group_forgets_its_least_recent);
	tcase_add_test(tc, test_recent_groups_depend_on_the_key);
	tcase_add_test(tc, test_recent_never_holds_more_than_its_capacity);
	tcase_add_test(tc, test_recent_raced_while_growing);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
