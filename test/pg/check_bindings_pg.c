/* SPDX-License-Identifier: MPL-2.0 */
/* The shared bindings store against a real PostgreSQL server: run under
 * test/pg/with-postgres.sh, which starts one and says where (PGHOST, ...). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/bindings_pg.h"
#include "store/bindings_pg_schema.h"
#include "store/spill.h"

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
static int events[3][BSDP_PG_SPILL_WRITTEN + 1];
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

/* The first column of the first row of a query, as a number. */
static long long sql_number(const char *query)
{
	PGconn *c = PQconnectdb("");
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PGresult *r = PQexec(c, query);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1, "%s: %s", query,
		      PQerrorMessage(c));
	long long v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return v;
}

/* Every test starts from an empty database and no events. */
static void fresh(void)
{
	sql("DROP TABLE IF EXISTS bsdp_bindings, bsdp_machine_number_free;"
	    " DROP SEQUENCE IF EXISTS bsdp_machine_number_block;"
	    " DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'bsdp_strict') THEN"
	    " DROP OWNED BY bsdp_strict; DROP ROLE bsdp_strict; END IF; END $$;"
	    " DROP ROLE IF EXISTS bsdp_nologin");
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
	bsdp_bindings_forget(a, mac, 1002);
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

/* Two servers, A (events 0) and B (events 1), on a fresh database. */
struct pair {
	struct bsdp_bindings *a, *b;
	struct bsdp_pg *pa, *pb;
};

static void pair_start(struct pair *p)
{
	fresh();
	struct bsdp_pg_config cfg = config();
	p->a = bsdp_bindings_new(64);
	p->b = bsdp_bindings_new(64);
	p->pa = bsdp_pg_start(&cfg, p->a, 64, report, (void *)0);
	p->pb = bsdp_pg_start(&cfg, p->b, 64, report, (void *)1);
	ck_assert(p->pa && p->pb);
	ck_assert(WAIT_UNTIL(connected(p->pa) && connected(p->pb), 10000));
}

static void pair_stop(struct pair *p)
{
	bsdp_pg_stop(p->pa, 1000);
	bsdp_pg_stop(p->pb, 1000);
	bsdp_bindings_free(p->a);
	bsdp_bindings_free(p->b);
}

/* Mac i SELECTs image through A at time at; B reads it. Its number. */
static uint32_t selected_on_both(struct pair *p, int i, uint32_t image, int64_t at)
{
	select_image(p->a, i, image, at);
	uint32_t number = number_of(p->a, i);
	ck_assert(WAIT_UNTIL(holds(p->b, i, image, number), 3000));
	return number;
}

/* B, the database and A all hold image for Mac i. */
static void all_hold(struct pair *p, int i, uint32_t image, uint32_t number)
{
	char sql[96];
	snprintf(sql, sizeof(sql), "SELECT image_id FROM bsdp_bindings"
		 " WHERE hw_address = '02:db:00:00:00:%02x'", i);
	ck_assert(WAIT_UNTIL(holds(p->b, i, image, number), 3000));
	ck_assert_int_eq(sql_number(sql), image);
	ck_assert(holds(p->a, i, image, number));
}

/* A Mac's broadcast SELECT names server A; server B, which holds the
 * Mac's earlier selection of the same second, forgets it at that time.
 * The database keeps the selection (a forget never replaces a selection of
 * its time) and B takes it back: all agree on the image. A later forget
 * (a SELECT naming a server outside the database) reaches both. */
START_TEST(test_forget_of_a_selection_of_its_time_loses)
{
	struct pair p;
	pair_start(&p);
	uint8_t mac[6];
	mac_of(5, mac);
	uint32_t number = selected_on_both(&p, 5, 0x01000009, 2000);
	/* The Mac's SELECT for A again, in the same second: A's record is
	 * written, then B's forget (the order where the forget comes last). */
	select_image(p.a, 5, 0x01000009, 2000);
	ck_assert(WAIT_UNTIL(pending(p.pa) == 0, 3000));
	ck_assert_int_eq(bsdp_bindings_forget(p.b, mac, 2000), 0);
	ck_assert(WAIT_UNTIL(pending(p.pb) == 0, 3000));
	all_hold(&p, 5, 0x01000009, number);
	ck_assert_int_eq(bsdp_bindings_forget(p.b, mac, 2001), 0);
	ck_assert(WAIT_UNTIL(holds(p.a, 5, 0, number), 3000));
	all_hold(&p, 5, 0, number);
	pair_stop(&p);
}
END_TEST

/* A Mac bound since 1000 SELECTs server A again at 2000 by A's clock;
 * server B, whose clock reads 2001 when it sees that broadcast SELECT (a
 * second ahead, or the second turned between the two), forgets the old
 * selection, as it sees the SELECT, before A's record of it. Its forget is
 * of the selection of 1000, one second after it: it must not erase A's new
 * selection, on the database or on either server. */
START_TEST(test_forget_loses_to_a_selection_it_did_not_see)
{
	struct pair p;
	pair_start(&p);
	uint8_t mac[6];
	mac_of(6, mac);
	uint32_t number = selected_on_both(&p, 6, 0x01000009, 1000);
	ck_assert_int_eq(bsdp_bindings_forget(p.b, mac, 2001), 0);
	ck_assert(WAIT_UNTIL(pending(p.pb) == 0, 3000));
	select_image(p.a, 6, 0x0100000a, 2000);
	ck_assert(WAIT_UNTIL(pending(p.pa) == 0, 3000));
	all_hold(&p, 6, 0x0100000a, number);
	pair_stop(&p);
}
END_TEST

/* "server-priority": "load" with a database: the load is every server's
 * selections (rows with an image, not deleted), counted by the store's
 * thread, even beyond what this table holds; while the database is
 * unreachable, the table's own count. */
START_TEST(test_store_publishes_the_shared_count)
{
	fresh();
	struct bsdp_pg_config cfg = config();
	cfg.count_bound = true;
	struct bsdp_bindings *a = bsdp_bindings_new(2), *b = bsdp_bindings_new(64);
	struct bsdp_pg *pa = bsdp_pg_start(&cfg, a, 64, report, (void *)0);
	cfg.count_bound = false;
	struct bsdp_pg *pb = bsdp_pg_start(&cfg, b, 64, report, (void *)1);
	ck_assert(pa && pb);
	ck_assert(WAIT_UNTIL(connected(pa) && connected(pb), 10000));
	for (int i = 0; i < 5; i++)
		select_image(b, 40 + i, 0x01000001, 5000 + i);
	uint8_t mac[6];
	mac_of(40, mac);
	bsdp_bindings_forget(b, mac, 5010);
	mac_of(41, mac);
	bsdp_bindings_remove(b, mac);
	ck_assert(WAIT_UNTIL(bsdp_bindings_load(a) == 3, 5000));
	ck_assert_uint_le(bsdp_bindings_bound(a), 2);
	/* The store not asked to count publishes nothing. */
	ck_assert_uint_eq(bsdp_bindings_load(b), bsdp_bindings_bound(b));
	ck_assert_uint_eq(bsdp_bindings_bound(b), 3);
	select_image(b, 50, 0x01000001, 5020);
	ck_assert(WAIT_UNTIL(bsdp_bindings_load(a) == 4, 5000));
	server("stop");
	ck_assert(WAIT_UNTIL(events_of(0, BSDP_PG_LOST) == 1, 5000));
	ck_assert_uint_eq(bsdp_bindings_load(a), bsdp_bindings_bound(a));
	server("start");
	ck_assert(WAIT_UNTIL(bsdp_bindings_load(a) == 4, 10000));
	bsdp_pg_stop(pa, 1000);
	bsdp_pg_stop(pb, 1000);
	ck_assert_uint_eq(bsdp_bindings_load(a), bsdp_bindings_bound(a));
	bsdp_bindings_free(a);
	bsdp_bindings_free(b);
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

/* ---- issue 20 ---------------------------------------------------------- */

static long long rows_in_database(void)
{
	return sql_number("SELECT count(*) FROM bsdp_bindings");
}

/* The database keeps the max_rows most recently selected Macs: a flood of
 * new ones is trimmed in batches soon after the table pushed them out.
 * Slack: between a write and the trim of the same round the database may
 * hold one round's writes more; once writes settle, at most max_rows. */
START_TEST(test_database_keeps_only_max_rows)
{
	enum { MAX = 300, MACS = 3000 };
	fresh();
	struct bsdp_pg_config cfg = config();
	cfg.max_rows = MAX;
	struct bsdp_bindings *t = bsdp_bindings_new(MAX);
	struct bsdp_pg *pg = bsdp_pg_start(&cfg, t, 4096, report, (void *)0);
	ck_assert(WAIT_UNTIL(connected(pg) && bsdp_bindings_spares(t), 10000));
	for (int i = 0; i < MACS; i++)
		select_image(t, i, 0x01000001, 10000 + i);
	bool settled = WAIT_UNTIL(pending(pg) == 0 && rows_in_database() <= MAX, 15000);
	long long rows = rows_in_database();
	printf("    %d new Macs, max %d: %lld rows in the database\n", MACS, MAX, rows);
	ck_assert_msg(settled, "%lld rows in the database, max %d", rows, MAX);
	/* The ones kept are the most recent. */
	ck_assert_int_eq(sql_number("SELECT count(*) FROM bsdp_bindings WHERE selected_at >= 12700"),
			 MAX);
	bsdp_pg_stop(pg, 1000);
	bsdp_bindings_free(t);
}
END_TEST

/* A start reads at most max_rows rows, the most recent ones. */
START_TEST(test_start_reads_at_most_max_rows)
{
	enum { MAX = 300, ROWS = 1000 };
	fresh();
	struct bsdp_pg_config cfg = config();
	struct bsdp_bindings *first = bsdp_bindings_new(16);
	struct bsdp_pg *pg = bsdp_pg_start(&cfg, first, 16, NULL, NULL);
	ck_assert(WAIT_UNTIL(connected(pg), 10000));
	bsdp_pg_stop(pg, 1000);
	bsdp_bindings_free(first);
	sql("INSERT INTO bsdp_bindings (hw_address, image_id, selected_at, machine_number,"
	    " changed_by) SELECT format('02:db:00:00:%s:%s', lpad(to_hex(i / 256), 2, '0'),"
	    " lpad(to_hex(i % 256), 2, '0')), 16777217, 20000 + i, 100000 + i, 'dba'"
	    " FROM generate_series(0, 999) AS i");
	cfg.max_rows = MAX;
	struct bsdp_bindings *t = bsdp_bindings_new(4096);
	pg = bsdp_pg_start(&cfg, t, 4096, report, (void *)0);
	ck_assert(WAIT_UNTIL(bsdp_bindings_count(t) >= MAX, 10000));
	ck_assert(!WAIT_UNTIL(bsdp_bindings_count(t) > MAX, 1500));
	struct bsdp_pg_stats s;
	bsdp_pg_stats(pg, &s);
	printf("    %d rows, max %d: %llu read at start\n", ROWS, MAX, (unsigned long long)s.applied);
	ck_assert_uint_eq(s.applied, MAX);
	ck_assert(holds(t, ROWS - 1, 0x01000001, 100000 + ROWS - 1));
	ck_assert(holds(t, ROWS - MAX, 0x01000001, 0));
	ck_assert(!holds(t, ROWS - MAX - 1, 0x01000001, 0));
	/* And the database is trimmed to them. */
	ck_assert(WAIT_UNTIL(rows_in_database() == MAX, 5000));
	bsdp_pg_stop(pg, 1000);
	bsdp_bindings_free(t);
}
END_TEST

/* Lines of the server's log (with-postgres.sh keeps it beside its socket)
 * containing text. */
static int server_log_lines(const char *text)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/server.log", getenv("PGHOST"));
	FILE *f = fopen(path, "r");
	ck_assert_msg(f, "no server log at %s", path);
	char line[2048];
	int n = 0;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, text) != NULL;
	fclose(f);
	return n;
}

/* A database that refuses the login sees at most one attempt per retry_ms,
 * though every SELECT from a new Mac (no numbers in hand) wakes the store. */
START_TEST(test_refused_login_tried_once_per_retry)
{
	enum { RETRY_MS = 500, DURATION_MS = 3000 };
	fresh();
	sql("CREATE ROLE bsdp_nologin NOLOGIN");
	const char *refused = "role \"bsdp_nologin\" is not permitted to log in";
	int before = server_log_lines(refused);
	struct bsdp_pg_config cfg = config();
	values[3] = "bsdp_nologin";
	cfg.retry_ms = RETRY_MS;
	struct bsdp_bindings *t = bsdp_bindings_new(65536);
	uint64_t start = ms_now();
	struct bsdp_pg *pg = bsdp_pg_start(&cfg, t, 65536, report, (void *)0);
	ck_assert_ptr_nonnull(pg);
	int i = 0;
	while (ms_now() - start < DURATION_MS) {
		select_image(t, i++, 0x01000001, 30000);
		nanosleep(&(struct timespec){ .tv_nsec = 1000000L }, NULL);
	}
	uint64_t took = ms_now() - start;
	struct bsdp_pg_stats s;
	bsdp_pg_stats(pg, &s);
	bsdp_pg_stop(pg, 500);
	int attempts = server_log_lines(refused) - before;
	printf("    %d new Macs in %llu ms: %d login attempts (store counts %llu), retry %d ms\n", i,
	       (unsigned long long)took, attempts, (unsigned long long)s.connect_attempts,
	       RETRY_MS);
	ck_assert_int_ge(attempts, 1);
	ck_assert_int_le(attempts, (int)(took / RETRY_MS) + 1);
	bsdp_bindings_free(t);
}
END_TEST

static PGconn *dba_holding_lock(void)
{
	PGconn *c = PQconnectdb("");
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "%s", PQerrorMessage(c));
	PGresult *r = PQexec(c, "BEGIN; LOCK TABLE bsdp_bindings IN ACCESS EXCLUSIVE MODE");
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s", PQerrorMessage(c));
	PQclear(r);
	return c;
}

static void make_tables(void)
{
	sql(BSDP_PG_SCHEMA);
}

/* config() with spill files in a new folder made from the template dir. */
static struct bsdp_pg_config spilling_config(char *dir, const char *tag)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	struct bsdp_pg_config cfg = config();
	cfg.spill_dir = dir;
	cfg.spill_tag = tag;
	return cfg;
}

/* A lock someone else holds on the table never holds the store's owner:
 * the start waits at most connect_timeout (2 s here) and the stop its
 * flush time, and what could not be written goes to the spill file. */
START_TEST(test_lock_held_elsewhere_never_hangs)
{
	fresh();
	make_tables();
	char dir[] = "/tmp/bsdp-spill-XXXXXX";
	struct bsdp_pg_config cfg = spilling_config(dir, "kea@locked");
	PGconn *dba = dba_holding_lock();
	struct bsdp_bindings *t = bsdp_bindings_new(1024);
	uint64_t at = ms_now();
	struct bsdp_pg *pg = bsdp_pg_start(&cfg, t, 1024, report, (void *)0);
	uint64_t start_ms = ms_now() - at;
	ck_assert_ptr_nonnull(pg);
	for (int i = 0; i < 10; i++)
		select_image(t, i, 0x01000001, 40000 + i);
	at = ms_now();
	bsdp_pg_stop(pg, 1000);
	uint64_t stop_ms = ms_now() - at;
	printf("    table locked: start took %llu ms, stop %llu ms (connect_timeout 2 s)\n",
	       (unsigned long long)start_ms, (unsigned long long)stop_ms);
	ck_assert_uint_le(start_ms, 2000 + 300);
	ck_assert_uint_le(stop_ms, 1000 + 500);
	ck_assert_int_eq(events_of(0, BSDP_PG_SPILLED), 1);
	PQclear(PQexec(dba, "ROLLBACK"));
	PQfinish(dba);
	/* The next start writes them. */
	struct bsdp_bindings *u = bsdp_bindings_new(1024);
	pg = bsdp_pg_start(&cfg, u, 1024, report, (void *)1);
	ck_assert(WAIT_UNTIL(rows_in_database() == 10 && events_of(1, BSDP_PG_SPILL_WRITTEN) == 1,
			     10000));
	bsdp_pg_stop(pg, 1000);
	bsdp_bindings_free(t);
	bsdp_bindings_free(u);
	ck_assert_int_eq(rmdir(dir), 0);  /* the spill file is gone */
}
END_TEST

/* A strictly run database: a DBA made the tables from bindings_pg.sql and
 * granted the role only what docs/bindings.md lists. */
START_TEST(test_strict_role_reads_and_writes)
{
	fresh();
	make_tables();
	sql("CREATE ROLE bsdp_strict LOGIN;"
	    " GRANT SELECT, INSERT, UPDATE, DELETE ON bsdp_bindings, bsdp_machine_number_free"
	    " TO bsdp_strict;"
	    " GRANT USAGE ON SEQUENCE bsdp_machine_number_block TO bsdp_strict");
	struct bsdp_pg_config cfg = config();
	values[3] = "bsdp_strict";
	cfg.max_rows = 2;
	struct bsdp_bindings *a = bsdp_bindings_new(2), *b = bsdp_bindings_new(2);
	struct bsdp_pg *pa = bsdp_pg_start(&cfg, a, 256, report, (void *)0);
	struct bsdp_pg *pb = bsdp_pg_start(&cfg, b, 256, report, (void *)1);
	ck_assert(WAIT_UNTIL(connected(pa) && connected(pb) && bsdp_bindings_spares(a), 10000));
	/* Three Macs into max 2: one row removed too. */
	for (int i = 0; i < 3; i++)
		select_image(a, i, 0x01000001, 50000 + i);
	ck_assert(WAIT_UNTIL(holds(b, 2, 0x01000001, number_of(a, 2)), 5000));
	ck_assert(WAIT_UNTIL(rows_in_database() == 2, 5000));
	uint8_t mac[6];
	mac_of(2, mac);
	bsdp_bindings_remove(b, mac);
	ck_assert(WAIT_UNTIL(bsdp_bindings_lookup(a, mac, NULL) == -ENOENT, 5000));
	bsdp_pg_stop(pa, 1000);
	bsdp_pg_stop(pb, 1000);
	ck_assert_int_eq(events_of(0, BSDP_PG_LOST) + events_of(1, BSDP_PG_LOST), 0);
	ck_assert_int_eq(events_of(0, BSDP_PG_SCHEMA_CREATED) + events_of(1, BSDP_PG_SCHEMA_CREATED), 0);
	bsdp_bindings_free(a);
	bsdp_bindings_free(b);
}
END_TEST

static int files_in(const char *dir, const char *part)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strstr(e->d_name, part) != NULL;
	closedir(d);
	return n;
}

/* Stopped during an outage: the changes not written go to a spill file,
 * which the next start writes and then removes; a damaged one is set
 * aside after its good lines are written. */
START_TEST(test_stop_in_outage_spills_then_next_start_writes)
{
	enum { MACS = 40 };
	fresh();
	char dir[] = "/tmp/bsdp-spill-XXXXXX";
	struct bsdp_pg_config cfg = spilling_config(dir, "kea@outage");
	struct bsdp_bindings *t = bsdp_bindings_new(1024);
	struct bsdp_pg *pg = bsdp_pg_start(&cfg, t, 1024, report, (void *)0);
	ck_assert(WAIT_UNTIL(connected(pg) && bsdp_bindings_spares(t), 10000));
	server("stop");
	ck_assert(WAIT_UNTIL(events_of(0, BSDP_PG_LOST) == 1, 5000));
	for (int i = 0; i < MACS; i++)
		select_image(t, i, 0x01000001, 60000 + i);
	bsdp_pg_stop(pg, 500);
	ck_assert_int_eq(events_of(0, BSDP_PG_SPILLED), 1);
	ck_assert_int_eq(files_in(dir, "kea-bsdp-spill-"), 1);
	/* Another database's spill file in the same folder is not this one's. */
	char other[BSDP_SPILL_PATH_MAX];
	struct bsdp_binding e = { .mac = { 2, 0xee, 0, 0, 0, 1 }, .image_id = 0x01000001,
				  .time = 1, .number = 7 };
	ck_assert_int_eq(bsdp_spill_write(dir, "kea@elsewhere", &e, 1, other), 0);
	server("start");
	struct bsdp_bindings *u = bsdp_bindings_new(1024);
	pg = bsdp_pg_start(&cfg, u, 1024, report, (void *)1);
	struct bsdp_pg_stats s;
	bsdp_pg_stats(pg, &s);
	ck_assert_uint_eq(s.unspilled, MACS);
	ck_assert_int_eq(events_of(1, BSDP_PG_UNSPILLED), 1);
	ck_assert(WAIT_UNTIL(rows_in_database() == MACS && events_of(1, BSDP_PG_SPILL_WRITTEN) == 1,
			     10000));
	for (int i = 0; i < MACS; i++)
		ck_assert(holds(u, i, 0x01000001, number_of(t, i)));
	ck_assert_int_eq(files_in(dir, "kea-bsdp-spill-"), 1);   /* the other one */
	bsdp_pg_stop(pg, 1000);
	/* A damaged file: its good line is written, the file set aside. */
	char path[BSDP_SPILL_PATH_MAX];
	e.mac[1] = 0xdd;
	ck_assert_int_eq(bsdp_spill_write(dir, "kea@outage", &e, 1, path), 0);
	FILE *f = fopen(path, "a");
	fputs("not,a,line\n", f);
	fclose(f);
	struct bsdp_bindings *v = bsdp_bindings_new(1024);
	pg = bsdp_pg_start(&cfg, v, 1024, report, (void *)2);
	ck_assert(WAIT_UNTIL(rows_in_database() == MACS + 1 &&
			     events_of(2, BSDP_PG_SPILL_WRITTEN) == 1, 10000));
	ck_assert_int_eq(files_in(dir, ".damaged-"), 1);
	bsdp_pg_stop(pg, 1000);
	bsdp_bindings_free(t);
	bsdp_bindings_free(u);
	bsdp_bindings_free(v);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* A deletion wins over another server's write of the deleted selection's
 * time (it no longer comes back), in the database and in every table. */
START_TEST(test_deletion_not_undone_by_write_of_same_time)
{
	fresh();
	struct bsdp_pg_config cfg = config();
	struct bsdp_bindings *a = bsdp_bindings_new(64), *b = bsdp_bindings_new(64),
			     *c = bsdp_bindings_new(64);
	struct bsdp_pg *pa = bsdp_pg_start(&cfg, a, 64, report, (void *)0);
	struct bsdp_pg *pb = bsdp_pg_start(&cfg, b, 64, report, (void *)1);
	ck_assert(WAIT_UNTIL(connected(pa) && connected(pb) && bsdp_bindings_spares(a), 10000));
	select_image(a, 1, 0x01000001, 70000);
	uint32_t number = number_of(a, 1);
	ck_assert(WAIT_UNTIL(holds(b, 1, 0x01000001, number), 5000));
	uint8_t mac[6];
	mac_of(1, mac);
	bsdp_bindings_remove(b, mac);
	ck_assert(WAIT_UNTIL(bsdp_bindings_lookup(a, mac, NULL) == -ENOENT, 5000));
	/* A third server that held the same selection (time 70000) writes it
	 * late, e.g. the whole table after its journal overflowed. */
	struct bsdp_pg *pc = bsdp_pg_start(&cfg, c, 64, report, (void *)2);
	ck_assert(WAIT_UNTIL(connected(pc), 10000));
	struct bsdp_binding same = { .image_id = 0x01000001, .time = 70000, .number = number };
	memcpy(same.mac, mac, 6);
	bsdp_bindings_put(c, &same);
	ck_assert(WAIT_UNTIL(pending(pc) == 0, 5000));
	ck_assert_int_eq(sql_number("SELECT count(*) FROM bsdp_bindings WHERE deleted"), 1);
	ck_assert(!WAIT_UNTIL(bsdp_bindings_lookup(a, mac, NULL) == 0 ||
			      bsdp_bindings_lookup(b, mac, NULL) == 0, 2000));
	ck_assert(WAIT_UNTIL(bsdp_bindings_lookup(c, mac, NULL) == -ENOENT, 3000));
	bsdp_pg_stop(pa, 1000);
	bsdp_pg_stop(pb, 1000);
	bsdp_pg_stop(pc, 1000);
	bsdp_bindings_free(a);
	bsdp_bindings_free(b);
	bsdp_bindings_free(c);
}
END_TEST

/* A row holding machine number 4294967295 (another program's) is not
 * taken into the table (it would wrap its counter to 0), and a change the
 * database refuses for good (here a CHECK a DBA added, SQLSTATE 23514) is
 * dropped and reported instead of retried forever with its batch. */
START_TEST(test_permanent_refusals_block_nothing)
{
	enum { MACS = 10 };
	fresh();
	make_tables();
	sql("INSERT INTO bsdp_bindings (hw_address, image_id, selected_at, machine_number,"
	    " changed_by) VALUES ('02:db:00:ff:ff:ff', 16777217, 80000, 4294967295, 'dba');"
	    " ALTER TABLE bsdp_bindings ADD CONSTRAINT not_five"
	    " CHECK (hw_address <> '02:db:00:00:00:05')");
	struct bsdp_pg_config cfg = config();
	struct bsdp_bindings *t = bsdp_bindings_new(64);
	struct bsdp_pg *pg = bsdp_pg_start(&cfg, t, 64, report, (void *)0);
	ck_assert(WAIT_UNTIL(connected(pg) && bsdp_bindings_spares(t), 10000));
	ck_assert_int_eq(bsdp_bindings_count(t), 0);
	for (int i = 0; i < MACS; i++)
		select_image(t, i, 0x01000001, 80001 + i);
	bool written = WAIT_UNTIL(pending(pg) == 0, 5000);
	struct bsdp_pg_stats s;
	bsdp_pg_stats(pg, &s);
	printf("    pending %zu, refused %llu, rows %lld\n", s.pending,
	       (unsigned long long)s.refused, rows_in_database());
	ck_assert(written);
	ck_assert_uint_eq(s.refused, 1);
	ck_assert_int_eq(events_of(0, BSDP_PG_REFUSED), 1);
	ck_assert_int_eq(rows_in_database(), MACS);   /* 9 of ours and the other one */
	bsdp_pg_stop(pg, 1000);
	bsdp_bindings_free(t);
}
END_TEST

/* BSDP_PG_ONLY=part runs only the tests whose name contains part. */
#define ADD(tcase, test) do { \
	const char *only_ = getenv("BSDP_PG_ONLY"); \
	if (!only_ || strstr(#test, only_)) \
		tcase_add_test(tcase, test); \
} while (0)

int main(void)
{
	Suite *s = suite_create("bindings_pg");
	TCase *t = tcase_create("postgresql");
	tcase_set_timeout(t, 120);
	ADD(t, test_selection_reaches_the_other_server);
	ADD(t, test_forget_of_a_selection_of_its_time_loses);
	ADD(t, test_forget_loses_to_a_selection_it_did_not_see);
	ADD(t, test_store_publishes_the_shared_count);
	ADD(t, test_machine_numbers_unique_across_servers);
	ADD(t, test_outage_queues_then_catches_up);
	ADD(t, test_uncoordinated_number_renumbered);
	ADD(t, test_numbers_given_back_at_stop);
	ADD(t, test_database_keeps_only_max_rows);
	ADD(t, test_start_reads_at_most_max_rows);
	ADD(t, test_refused_login_tried_once_per_retry);
	ADD(t, test_lock_held_elsewhere_never_hangs);
	ADD(t, test_strict_role_reads_and_writes);
	ADD(t, test_stop_in_outage_spills_then_next_start_writes);
	ADD(t, test_deletion_not_undone_by_write_of_same_time);
	ADD(t, test_permanent_refusals_block_nothing);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
