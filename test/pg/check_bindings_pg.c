/* SPDX-License-Identifier: MPL-2.0 */
/* The shared bindings store against a real PostgreSQL server: run under
 * test/pg/with-postgres.sh, which starts one and says where (PGHOST, ...). */
#include <check.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/bindings_pg.h"

static const char *keywords[] = { "host", "port", "dbname", "user", "connect_timeout", NULL };
static const char *values[6];

static struct bsdp_pg_config config(void)
{
	values[0] = getenv("PGHOST");
	values[1] = getenv("PGPORT");
	values[2] = getenv("PGDATABASE");
	values[3] = getenv("PGUSER");
	values[4] = "2";
	ck_assert_msg(values[0] && values[1] && values[2] && values[3],
		      "run under test/pg/with-postgres.sh (no PGHOST, PGPORT, PGDATABASE, PGUSER)");
	return (struct bsdp_pg_config){ .keywords = keywords, .values = values, .poll_ms = 50,
					.retry_ms = 200 };
}

/* Events reported, per store (ctx is its slot). */
static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static int events[2][BSDP_PG_RENUMBERED + 1];
static char renumbered[64];

static void report(void *ctx, enum bsdp_pg_event event, const char *text)
{
	int who = (int)(size_t)ctx;
	pthread_mutex_lock(&events_lock);
	events[who][event]++;
	if (event == BSDP_PG_RENUMBERED)
		snprintf(renumbered, sizeof(renumbered), "%s", text);
	pthread_mutex_unlock(&events_lock);
}

static int events_of(int who, enum bsdp_pg_event event)
{
	pthread_mutex_lock(&events_lock);
	int n = events[who][event];
	pthread_mutex_unlock(&events_lock);
	return n;
}

static void sql(const char *statement)
{
	PGconn *c = PQconnectdb("");
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	PGresult *r = PQexec(c, statement);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK,
		      "%s: %s", statement, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
}

/* Every test starts from an empty database and no events. */
static void fresh(void)
{
	sql("DROP TABLE IF EXISTS bsdp_bindings, bsdp_machine_number_free;"
	    " DROP SEQUENCE IF EXISTS bsdp_machine_number_block");
	pthread_mutex_lock(&events_lock);
	memset(events, 0, sizeof(events));
	renumbered[0] = '\0';
	pthread_mutex_unlock(&events_lock);
}

static void server(const char *action)
{
	const char *ctl = getenv("BSDP_PG_CTL");
	ck_assert_msg(ctl, "no BSDP_PG_CTL");
	char command[1024];
	snprintf(command, sizeof(command), "%s %s >/dev/null", ctl, action);
	ck_assert_int_eq(system(command), 0);
}

static uint64_t ms_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Polls cond every 10 ms for at most ms; true when it held. */
#define WAIT_UNTIL(cond, ms) ({ \
	uint64_t until_ = ms_now() + (ms); \
	bool held_; \
	while (!(held_ = (cond)) && ms_now() < until_) \
		nanosleep(&(struct timespec){ .tv_nsec = 10000000L }, NULL); \
	held_; })

static bool connected(struct bsdp_pg *pg)
{
	struct bsdp_pg_stats s;
	bsdp_pg_stats(pg, &s);
	return s.connected;
}

static size_t pending(struct bsdp_pg *pg)
{
	struct bsdp_pg_stats s;
	bsdp_pg_stats(pg, &s);
	return s.pending;
}

static void mac_of(int i, uint8_t mac[6])
{
	uint8_t m[6] = { 2, 0xdb, 0, (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i };
	memcpy(mac, m, 6);
}

static void select_image(struct bsdp_bindings *b, int i, uint32_t image, int64_t at)
{
	uint8_t mac[6];
	mac_of(i, mac);
	bsdp_bindings_record(b, mac, image, at, bsdp_bindings_number(b, mac), NULL);
}

static bool holds(struct bsdp_bindings *b, int i, uint32_t image, uint32_t number)
{
	uint8_t mac[6];
	struct bsdp_binding got;
	mac_of(i, mac);
	return bsdp_bindings_lookup(b, mac, &got) == 0 && got.image_id == image &&
	       (!number || got.number == number);
}

static uint32_t number_of(struct bsdp_bindings *b, int i)
{
	uint8_t mac[6];
	struct bsdp_binding got;
	mac_of(i, mac);
	return bsdp_bindings_lookup(b, mac, &got) == 0 ? got.number : 0;
}

START_TEST(test_selection_reaches_the_other_server)
{
	fresh();
	struct bsdp_pg_config cfg = config();
	struct bsdp_bindings *a = bsdp_bindings_new(1024), *b = bsdp_bindings_new(1024);
	struct bsdp_pg *pa = bsdp_pg_start(&cfg, a, 256, report, (void *)0);
	struct bsdp_pg *pb = bsdp_pg_start(&cfg, b, 256, report, (void *)1);
	ck_assert(pa && pb);
	ck_assert(WAIT_UNTIL(connected(pa) && connected(pb), 10000));
	/* The empty database got its tables from exactly one of them. */
	ck_assert_int_eq(events_of(0, BSDP_PG_SCHEMA_CREATED) + events_of(1, BSDP_PG_SCHEMA_CREATED), 1);
	ck_assert_int_eq(events_of(0, BSDP_PG_CONNECTED), 1);
	ck_assert(WAIT_UNTIL(bsdp_bindings_spares(a) && bsdp_bindings_spares(b), 5000));

	select_image(a, 1, 0x01000001, 1000);
	uint32_t number = number_of(a, 1);
	ck_assert(WAIT_UNTIL(holds(b, 1, 0x01000001, number), 3000));
	/* A SELECT through the other server later: both agree, same number. */
	select_image(b, 1, 0x01000002, 1001);
	ck_assert(WAIT_UNTIL(holds(a, 1, 0x01000002, number), 3000));
	/* Forgotten (the Mac chose another server) and removed (a command). */
	uint8_t mac[6];
	mac_of(1, mac);
	bsdp_bindings_forget(a, mac);
	ck_assert(WAIT_UNTIL(holds(b, 1, 0, number), 3000));
	bsdp_bindings_remove(b, mac);
	ck_assert(WAIT_UNTIL(bsdp_bindings_lookup(a, mac, NULL) == -ENOENT, 3000));
	/* A server started later reads everything there is. */
	select_image(a, 2, 0x01000003, 1002);
	ck_assert(WAIT_UNTIL(pending(pa) == 0, 3000));
	struct bsdp_bindings *c = bsdp_bindings_new(1024);
	struct bsdp_pg *pc = bsdp_pg_start(&cfg, c, 256, NULL, NULL);
	ck_assert(WAIT_UNTIL(holds(c, 2, 0x01000003, number_of(a, 2)), 5000));
	ck_assert_int_eq(bsdp_bindings_lookup(c, mac, NULL), -ENOENT);
	bsdp_pg_stop(pc, 0);
	bsdp_pg_stop(pa, 1000);
	bsdp_pg_stop(pb, 1000);
	ck_assert_int_eq(events_of(0, BSDP_PG_LOST) + events_of(1, BSDP_PG_LOST), 0);
	bsdp_bindings_free(a);
	bsdp_bindings_free(b);
	bsdp_bindings_free(c);
}
END_TEST

/* Two servers hand out machine numbers at once, each to Macs of its own
 * and both to some shared ones: no number twice, and both agree. */
struct selector {
	struct bsdp_bindings *b;
	int first, count;
};

static void *select_main(void *arg)
{
	struct selector *s = arg;
	for (int i = s->first; i < s->first + s->count; i++)
		select_image(s->b, i, 0x01000001, 2000 + i);
	return NULL;
}

static int by_value(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return (a > b) - (a < b);
}

START_TEST(test_machine_numbers_unique_across_servers)
{
	enum { OWN = 300, SHARED = 50 };
	fresh();
	struct bsdp_pg_config cfg = config();
	struct bsdp_bindings *t[2] = { bsdp_bindings_new(4096), bsdp_bindings_new(4096) };
	struct bsdp_pg *pg[2];
	for (int k = 0; k < 2; k++)
		pg[k] = bsdp_pg_start(&cfg, t[k], 4096, report, (void *)(size_t)k);
	ck_assert(WAIT_UNTIL(connected(pg[0]) && connected(pg[1]) &&
			     bsdp_bindings_spares(t[0]) && bsdp_bindings_spares(t[1]),
			     10000));
	struct selector s[4] = { { t[0], 0, OWN }, { t[1], OWN, OWN },
				 { t[0], 2 * OWN, SHARED }, { t[1], 2 * OWN, SHARED } };
	pthread_t th[4];
	for (int k = 0; k < 4; k++)
		ck_assert_int_eq(pthread_create(&th[k], NULL, select_main, &s[k]), 0);
	for (int k = 0; k < 4; k++)
		pthread_join(th[k], NULL);
	const int all = 2 * OWN + SHARED;
	ck_assert(WAIT_UNTIL(bsdp_bindings_count(t[0]) == all && bsdp_bindings_count(t[1]) == all &&
			     pending(pg[0]) == 0 && pending(pg[1]) == 0, 10000));
	/* Both hold the same number for each Mac once the shared ones settle. */
	bool agree = WAIT_UNTIL(({
		bool same = true;
		for (int i = 0; i < all && same; i++)
			same = number_of(t[0], i) && number_of(t[0], i) == number_of(t[1], i);
		same; }), 5000);
	ck_assert(agree);
	uint32_t numbers[2 * OWN + SHARED];
	for (int i = 0; i < all; i++)
		numbers[i] = number_of(t[0], i);
	qsort(numbers, all, sizeof(numbers[0]), by_value);
	for (int i = 1; i < all; i++)
		ck_assert_msg(numbers[i] != numbers[i - 1], "number %u twice", numbers[i]);
	/* A burst faster than the writer tops up the spare blocks may run
	 * out of them: those numbers were renumbered where they collided. */
	printf("    %d Macs, numbers %u..%u, %llu handed out without a block\n", all, numbers[0],
	       numbers[all - 1], (unsigned long long)(bsdp_bindings_uncoordinated(t[0]) +
						     bsdp_bindings_uncoordinated(t[1])));
	for (int k = 0; k < 2; k++) {
		bsdp_pg_stop(pg[k], 1000);
		bsdp_bindings_free(t[k]);
	}
}
END_TEST

START_TEST(test_outage_queues_then_catches_up)
{
	enum { MACS = 100 };
	fresh();
	struct bsdp_pg_config cfg = config();
	/* One store with room for every change, one whose journal overflows. */
	struct bsdp_bindings *t[2] = { bsdp_bindings_new(1024), bsdp_bindings_new(1024) };
	struct bsdp_pg *pg[2] = { bsdp_pg_start(&cfg, t[0], 4096, report, (void *)0),
				  bsdp_pg_start(&cfg, t[1], 16, report, (void *)1) };
	ck_assert(WAIT_UNTIL(connected(pg[0]) && connected(pg[1]) &&
			     bsdp_bindings_spares(t[0]) && bsdp_bindings_spares(t[1]),
			     10000));
	server("stop");
	ck_assert(WAIT_UNTIL(events_of(0, BSDP_PG_LOST) == 1 && events_of(1, BSDP_PG_LOST) == 1,
			     5000));
	for (int i = 0; i < MACS; i++) {
		select_image(t[0], i, 0x01000001, 3000);
		select_image(t[1], 1000 + i, 0x01000002, 3000);
	}
	struct bsdp_pg_stats s0, s1;
	bsdp_pg_stats(pg[0], &s0);
	ck_assert_uint_eq(s0.pending, MACS);
	ck_assert(!s0.connected);
	/* Still one report per outage while it retries. */
	ck_assert(!WAIT_UNTIL(events_of(0, BSDP_PG_LOST) > 1, 600));
	server("start");
	ck_assert(WAIT_UNTIL(pending(pg[0]) == 0 && pending(pg[1]) == 0 &&
			     events_of(0, BSDP_PG_RESTORED) == 1 && events_of(1, BSDP_PG_RESTORED) == 1,
			     15000));
	bsdp_pg_stats(pg[1], &s1);
	ck_assert_uint_eq(s1.overflowed, MACS - 16);
	/* Nothing lost: each server now holds the other's Macs too. */
	ck_assert(WAIT_UNTIL(bsdp_bindings_count(t[0]) == 2 * MACS &&
			     bsdp_bindings_count(t[1]) == 2 * MACS, 5000));
	for (int i = 0; i < MACS; i++) {
		ck_assert(holds(t[1], i, 0x01000001, number_of(t[0], i)));
		ck_assert(holds(t[0], 1000 + i, 0x01000002, number_of(t[1], 1000 + i)));
	}
	for (int k = 0; k < 2; k++) {
		bsdp_pg_stop(pg[k], 1000);
		bsdp_bindings_free(t[k]);
	}
}
END_TEST

/* A server that started while the database was down handed out numbers
 * of its own; one of them is another server's: that Mac is renumbered. */
START_TEST(test_uncoordinated_number_renumbered)
{
	fresh();
	struct bsdp_pg_config cfg = config();
	struct bsdp_bindings *a = bsdp_bindings_new(1024), *b = bsdp_bindings_new(1024);
	struct bsdp_pg *pb = bsdp_pg_start(&cfg, b, 256, report, (void *)1);
	ck_assert(WAIT_UNTIL(connected(pb) && bsdp_bindings_spares(b), 10000));
	select_image(b, 1, 0x01000001, 4000);
	ck_assert_uint_eq(number_of(b, 1), 1);
	ck_assert(WAIT_UNTIL(pending(pb) == 0, 3000));
	server("stop");
	struct bsdp_pg *pa = bsdp_pg_start(&cfg, a, 256, report, (void *)0);
	ck_assert(WAIT_UNTIL(events_of(0, BSDP_PG_LOST) == 1, 5000));
	select_image(a, 2, 0x01000002, 4001);
	ck_assert_uint_eq(number_of(a, 2), 1);
	ck_assert_uint_eq(bsdp_bindings_uncoordinated(a), 1);
	server("start");
	ck_assert(WAIT_UNTIL(events_of(0, BSDP_PG_RENUMBERED) == 1, 15000));
	ck_assert_str_eq(renumbered, "02:db:00:00:00:02");
	uint32_t fresh_number = number_of(a, 2);
	ck_assert_uint_ne(fresh_number, 1);
	ck_assert(WAIT_UNTIL(holds(b, 2, 0x01000002, fresh_number) && holds(a, 1, 0x01000001, 1),
			     5000));
	bsdp_pg_stop(pa, 1000);
	bsdp_pg_stop(pb, 1000);
	bsdp_bindings_free(a);
	bsdp_bindings_free(b);
}
END_TEST

/* A server that stops gives back the numbers it did not hand out: the
 * next one (a restart, a configuration check) goes on from there. */
START_TEST(test_numbers_given_back_at_stop)
{
	fresh();
	struct bsdp_pg_config cfg = config();
	for (int round = 0; round < 3; round++) {
		struct bsdp_bindings *b = bsdp_bindings_new(1024);
		struct bsdp_pg *pg = bsdp_pg_start(&cfg, b, 256, report, (void *)0);
		ck_assert(WAIT_UNTIL(connected(pg) && bsdp_bindings_spares(b), 10000));
		select_image(b, round, 0x01000001, 5000 + round);
		ck_assert_uint_eq(number_of(b, round), (uint32_t)round + 1);
		bsdp_pg_stop(pg, 2000);
		bsdp_bindings_free(b);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bindings_pg");
	TCase *t = tcase_create("postgresql");
	tcase_set_timeout(t, 120);
	tcase_add_test(t, test_selection_reaches_the_other_server);
	tcase_add_test(t, test_machine_numbers_unique_across_servers);
	tcase_add_test(t, test_outage_queues_then_catches_up);
	tcase_add_test(t, test_uncoordinated_number_renumbered);
	tcase_add_test(t, test_numbers_given_back_at_stop);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
