/* SPDX-License-Identifier: MPL-2.0 */
#include "store/bindings_pg.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/bindings_pg_schema.h"

/* Rows written per statement, and rows read per query. */
#define BATCH 1024
/* Longest array parameter: BATCH values of "xx:xx:xx:xx:xx:xx," or
 * "4294967295," plus braces. */
#define ARRAY_TEXT (BATCH * 19 + 3)
/* Other servers' rows are read at least this often, and at once when they
 * notify. */
#define READ_EVERY_MS 1000
#define CHANNEL "bsdp_bindings"

struct row;

struct bsdp_pg {
	pthread_t thread;
	pthread_mutex_t lock;   /* guards stop and stats */
	int wake[2];            /* a byte here wakes the thread to stop */
	bool stop;
	unsigned flush_ms;
	struct bsdp_pg_stats stats;

	/* Everything below belongs to the store's thread. */
	struct bsdp_pg_config config;
	struct bsdp_bindings *b;
	bsdp_pg_report_fn report;
	void *ctx;
	PGconn *conn;
	char me[40];            /* changed_by of this process's rows */
	bool ever_connected, outage_reported, write_all;
	bool supplied;          /* blocks were handed to the table before */
	unsigned target;        /* spare blocks to keep in the table */
	unsigned spares_after;  /* spare blocks it held after the last top-up */
	uint64_t uncoordinated_seen;
	uint64_t read_from_xid; /* the snapshot's xmin at the last read */
	struct bsdp_change *pending;  /* drained, not yet written */
	struct row *rows;             /* the same, as written */
	size_t pending_count, journal_capacity;
	char arrays[5][ARRAY_TEXT];
};

static void say(struct bsdp_pg *pg, enum bsdp_pg_event event, const char *text)
{
	if (pg->report)
		pg->report(pg->ctx, event, text);
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static bool stopping(struct bsdp_pg *pg)
{
	pthread_mutex_lock(&pg->lock);
	bool stop = pg->stop;
	pthread_mutex_unlock(&pg->lock);
	return stop;
}

/* Waits up to ms for the stop pipe, or for the database's socket (a
 * notification) when fd >= 0; true when the socket has something. */
static bool wait_for(struct bsdp_pg *pg, int fd, unsigned ms)
{
	struct pollfd p[2] = { { .fd = pg->wake[0], .events = POLLIN },
			       { .fd = fd, .events = POLLIN } };
	int n = poll(p, fd >= 0 ? 2 : 1, (int)ms);
	if (n > 0 && (p[0].revents & POLLIN)) {
		/* A stop, or the table took a block of numbers: empty the pipe
		 * (non-blocking); the caller looks at both. */
		char bytes[64];
		for (int i = 0; i < 16 && read(pg->wake[0], bytes, sizeof(bytes)) > 0; i++)
			;
	}
	return n > 0 && fd >= 0 && (p[1].revents & (POLLIN | POLLERR | POLLHUP));
}

/* The connection is gone or a statement failed: drop the connection, say
 * so once per outage, and let the next round reconnect. */
static void lose(struct bsdp_pg *pg, const char *why)
{
	if (!pg->outage_reported) {
		char text[512];
		snprintf(text, sizeof(text), "%s", why && *why ? why : "connection lost");
		/* libpq's messages end in a newline. */
		size_t n = strlen(text);
		while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
			text[--n] = '\0';
		say(pg, BSDP_PG_LOST, text);
		pg->outage_reported = true;
		pthread_mutex_lock(&pg->lock);
		pg->stats.outages++;
		pthread_mutex_unlock(&pg->lock);
	}
	if (pg->conn) {
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
	pthread_mutex_lock(&pg->lock);
	pg->stats.connected = false;
	pthread_mutex_unlock(&pg->lock);
}

/* Runs a statement; true when it did what it should. On failure the
 * result is cleared; *sqlstate (when asked) gets the error's code. */
static bool run(struct bsdp_pg *pg, PGresult **res, const char *sql, int n,
		const char *const *values, char sqlstate[6])
{
	PGresult *r = PQexecParams(pg->conn, sql, n, NULL, values, NULL, NULL, 0);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		if (res)
			*res = r;
		else
			PQclear(r);
		return true;
	}
	if (sqlstate) {
		const char *code = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
		snprintf(sqlstate, 6, "%s", code ? code : "");
	}
	PQclear(r);
	return false;
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static bool connect_db(struct bsdp_pg *pg)
{
	pg->conn = PQconnectdbParams(pg->config.keywords, pg->config.values, 0);
	if (!pg->conn || PQstatus(pg->conn) != CONNECTION_OK) {
		lose(pg, pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
		return false;
	}
	/* NOTICEs ("relation already exists, skipping") are no news. */
	PQsetNoticeProcessor(pg->conn, ignore_notice, NULL);
	/* Two servers starting at once: one creates, the other waits. */
	PGresult *r = NULL;
	bool existed;
	if (!run(pg, NULL, "BEGIN", 0, NULL, NULL) ||
	    !run(pg, NULL, "SELECT pg_advisory_xact_lock(1651733616)", 0, NULL, NULL) ||
	    !run(pg, &r, "SELECT to_regclass('bsdp_bindings') IS NOT NULL", 0, NULL, NULL))
		goto failed;
	existed = PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	/* Several statements: only PQexec takes those. */
	r = PQexec(pg->conn, BSDP_PG_SCHEMA);
	bool created = r && PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!created || !run(pg, NULL, "COMMIT", 0, NULL, NULL) ||
	    !run(pg, NULL, "LISTEN " CHANNEL, 0, NULL, NULL))
		goto failed;
	if (!existed)
		say(pg, BSDP_PG_SCHEMA_CREATED, PQdb(pg->conn));
	if (!pg->ever_connected) {
		char version[32];
		snprintf(version, sizeof(version), "%d", PQserverVersion(pg->conn));
		say(pg, BSDP_PG_CONNECTED, version);
		pg->ever_connected = true;
	}
	pthread_mutex_lock(&pg->lock);
	pg->stats.connected = true;
	pthread_mutex_unlock(&pg->lock);
	return true;
failed:
	lose(pg, PQerrorMessage(pg->conn));
	return false;
}

static int parse_mac(const char *text, uint8_t mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
		   &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

/* Applies one page of rows (the query's columns below; the query leaves
 * out this process's own rows); returns the rows read, and the page's last key in last_xid and
 * last_mac. */
static int apply_page(struct bsdp_pg *pg, PGresult *r, char *last_xid, char *last_mac)
{
	int rows = PQntuples(r);
	uint64_t applied = 0;
	for (int i = 0; i < rows; i++) {
		struct bsdp_change c = { .removed = PQgetvalue(r, i, 4)[0] == 't' };
		if (parse_mac(PQgetvalue(r, i, 0), c.b.mac) != 0)
			continue;
		c.b.image_id = (uint32_t)strtoul(PQgetvalue(r, i, 1), NULL, 10);
		c.b.time = strtoll(PQgetvalue(r, i, 2), NULL, 10);
		c.b.number = (uint32_t)strtoul(PQgetvalue(r, i, 3), NULL, 10);
		applied += bsdp_bindings_apply(pg->b, &c, false) == 1;
	}
	if (rows > 0) {
		snprintf(last_xid, 24, "%s", PQgetvalue(r, rows - 1, 6));
		snprintf(last_mac, 18, "%s", PQgetvalue(r, rows - 1, 0));
	}
	pthread_mutex_lock(&pg->lock);
	pg->stats.applied += applied;
	pthread_mutex_unlock(&pg->lock);
	return rows;
}

#define ROW_COLUMNS "SELECT hw_address, image_id, selected_at, machine_number, deleted," \
	" changed_by, written_by_xid::text FROM bsdp_bindings WHERE changed_by <> $1 AND "

/* Reads the rows of every transaction that may not have committed at the
 * last read (and everything newer), and applies those of other servers.
 * The horizon is taken first, so any transaction older than it had ended
 * before the read began: its rows are in this read. Rows read again are
 * applied only when newer than what the table holds. */
static bool read_others(struct bsdp_pg *pg)
{
	PGresult *r;
	if (!run(pg, &r, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text", 0, NULL, NULL))
		return false;
	uint64_t horizon = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	char from[24], last_xid[24] = "", last_mac[18] = "";
	snprintf(from, sizeof(from), "%" PRIu64, pg->read_from_xid);
	const char *first[] = { pg->me, from };
	if (!run(pg, &r, ROW_COLUMNS "written_by_xid >= $2::xid8"
		 " ORDER BY written_by_xid, hw_address LIMIT 1024", 2, first, NULL))
		return false;
	int rows = apply_page(pg, r, last_xid, last_mac);
	PQclear(r);
	/* Further pages by key (a transaction may have written many rows). */
	for (int page = 0; rows == 1024 && page < 100000 && !stopping(pg); page++) {
		const char *next[] = { pg->me, last_xid, last_mac };
		if (!run(pg, &r, ROW_COLUMNS "(written_by_xid, hw_address) > ($2::xid8, $3)"
			 " ORDER BY written_by_xid, hw_address LIMIT 1024", 3, next, NULL))
			return false;
		rows = apply_page(pg, r, last_xid, last_mac);
		PQclear(r);
	}
	if (rows < 1024)
		pg->read_from_xid = horizon;
	return true;
}

/* A change as written: the MAC's text once, the order it was made in. */
struct row {
	struct bsdp_change c;
	char mac[18];
	size_t order;
};

static int by_mac_then_order(const void *x, const void *y)
{
	const struct row *a = x, *b = y;
	int d = memcmp(a->c.b.mac, b->c.b.mac, 6);
	return d ? d : (a->order > b->order) - (a->order < b->order);
}

static int by_mac(const void *key, const void *elem)
{
	return strcmp(key, ((const struct row *)elem)->mac);
}

/* Keeps the last change of each MAC (one statement may not touch a row
 * twice); rows end up sorted by MAC. Returns how many are left. */
static size_t compact(struct row *rows, size_t n)
{
	qsort(rows, n, sizeof(*rows), by_mac_then_order);
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		if (i + 1 < n && memcmp(rows[i].c.b.mac, rows[i + 1].c.b.mac, 6) == 0)
			continue;
		rows[kept++] = rows[i];
	}
	return kept;
}

static void array_text(char *out, size_t size, const struct row *rows, size_t n, int column)
{
	size_t at = 0;
	out[at++] = '{';
	for (size_t i = 0; i < n && at < size; i++) {
		const struct bsdp_binding *e = &rows[i].c.b;
		int w;
		switch (column) {
		case 0: w = snprintf(out + at, size - at, "%s", rows[i].mac); break;
		case 1: w = snprintf(out + at, size - at, "%" PRIu32, e->image_id); break;
		case 2: w = snprintf(out + at, size - at, "%" PRId64, e->time); break;
		case 3: w = snprintf(out + at, size - at, "%" PRIu32, e->number); break;
		default: w = snprintf(out + at, size - at, "%c", rows[i].c.removed ? 't' : 'f'); break;
		}
		at += (size_t)w;
		if (at < size)
			out[at++] = i + 1 < n ? ',' : '}';
	}
	if (n == 0 && at < size)
		out[at++] = '}';
	out[at < size ? at : size - 1] = '\0';
}

/* The latest SELECT wins; a Mac keeps the number the database holds for it
 * (a deleted row's number is given up). */
static const char UPSERT[] =
	"INSERT INTO bsdp_bindings AS t (hw_address, image_id, selected_at, machine_number,"
	" deleted, changed_by, written_by_xid)"
	" SELECT u.hw, u.img, u.at, u.num, u.del, $6, pg_current_xact_id()"
	" FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::boolean[])"
	" AS u(hw, img, at, num, del)"
	" ON CONFLICT (hw_address) DO UPDATE SET image_id = EXCLUDED.image_id,"
	" selected_at = EXCLUDED.selected_at, deleted = EXCLUDED.deleted,"
	" machine_number = CASE WHEN t.deleted THEN EXCLUDED.machine_number"
	" ELSE t.machine_number END,"
	" changed_by = EXCLUDED.changed_by, written_by_xid = EXCLUDED.written_by_xid"
	" WHERE t.selected_at <= EXCLUDED.selected_at"
	" RETURNING hw_address, machine_number";

/* Up to want blocks of numbers no server holds, into out: blocks given
 * back first, then new ones from the sequence, one statement each. */
static bool take_blocks(struct bsdp_pg *pg, unsigned want, struct bsdp_number_block *out,
			unsigned *ret_n)
{
	char n_text[16];
	snprintf(n_text, sizeof(n_text), "%u", want);
	const char *values[] = { n_text };
	PGresult *r;
	unsigned n = 0;
	if (!run(pg, &r, "DELETE FROM bsdp_machine_number_free WHERE first IN (SELECT first"
		 " FROM bsdp_machine_number_free ORDER BY first LIMIT $1 FOR UPDATE SKIP LOCKED)"
		 " RETURNING first, count", 1, values, NULL))
		return false;
	for (int i = 0; i < PQntuples(r) && n < want; i++) {
		out[n].first = (uint32_t)strtoul(PQgetvalue(r, i, 0), NULL, 10);
		out[n].count = (uint32_t)strtoul(PQgetvalue(r, i, 1), NULL, 10);
		n += out[n].first && out[n].count;
	}
	PQclear(r);
	if (n < want) {
		snprintf(n_text, sizeof(n_text), "%u", want - n);
		if (!run(pg, &r, "SELECT nextval('bsdp_machine_number_block')"
			 " FROM generate_series(1, $1)", 1, values, NULL))
			return false;
		for (int i = 0; i < PQntuples(r) && n < want; i++) {
			unsigned long long k = strtoull(PQgetvalue(r, i, 0), NULL, 10);
			if (k == 0 || k > UINT32_MAX / BSDP_PG_BLOCK)
				continue;
			out[n++] = (struct bsdp_number_block){ (uint32_t)(k - 1) * BSDP_PG_BLOCK + 1,
							       BSDP_PG_BLOCK };
		}
		PQclear(r);
	}
	*ret_n = n;
	return true;
}

/* Gives the numbers the table did not hand out back to the database. */
static void return_blocks(struct bsdp_pg *pg)
{
	struct bsdp_number_block back[BSDP_BINDINGS_SPARE_BLOCKS + 1];
	size_t n = bsdp_bindings_return_blocks(pg->b, back, BSDP_BINDINGS_SPARE_BLOCKS + 1);
	for (size_t i = 0; i < n; i++) {
		char first[16], count[16];
		snprintf(first, sizeof(first), "%" PRIu32, back[i].first);
		snprintf(count, sizeof(count), "%" PRIu32, back[i].count);
		const char *values[] = { first, count };
		if (!run(pg, NULL, "INSERT INTO bsdp_machine_number_free (first, count)"
			 " VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, values, NULL))
			return;
	}
}

/* Keeps the table supplied with blocks of machine numbers: eight while
 * it is quiet, more as it uses them (twice what went between two top-ups,
 * four times as many after it ran dry or handed out a number without a
 * block), up to its limit, so a burst of new Macs finds numbers in hand. With ret_number, one more number for the writer itself. */
static bool supply_blocks(struct bsdp_pg *pg, uint32_t *ret_number)
{
	unsigned spares = bsdp_bindings_spares(pg->b);
	uint64_t uncoordinated = bsdp_bindings_uncoordinated(pg->b);
	/* At least twice what went since the last top-up, so the next one
	 * comes before they run out. */
	unsigned used = pg->spares_after > spares ? pg->spares_after - spares : 0;
	unsigned target = pg->target > 2 * used + 2 ? pg->target : 2 * used + 2;
	if ((spares == 0 && pg->supplied) || uncoordinated != pg->uncoordinated_seen)
		target = pg->target * 4 > target ? pg->target * 4 : target;
	pg->target = target < BSDP_BINDINGS_SPARE_BLOCKS ? target : BSDP_BINDINGS_SPARE_BLOCKS;
	pg->uncoordinated_seen = uncoordinated;
	unsigned want = (pg->target > spares ? pg->target - spares : 0) + (ret_number != NULL);
	if (want == 0)
		return true;
	struct bsdp_number_block got[BSDP_BINDINGS_SPARE_BLOCKS + 1];
	unsigned n;
	if (!take_blocks(pg, want, got, &n))
		return false;
	for (unsigned i = 0; i < n; i++) {
		if (ret_number) {
			/* The writer's own number: the block's first. */
			*ret_number = got[i].first++;
			got[i].count--;
			ret_number = NULL;
		}
		if (got[i].count)
			bsdp_bindings_add_block(pg->b, got[i].first, got[i].count);
	}
	pg->supplied = true;
	pg->spares_after = bsdp_bindings_spares(pg->b);
	return ret_number == NULL;
}

/* The database kept another number for a MAC (another server wrote it
 * first): the table takes it. */
static void adopt_numbers(struct bsdp_pg *pg, PGresult *r, struct row *rows, size_t n)
{
	for (int i = 0; i < PQntuples(r); i++) {
		struct row *w = bsearch(PQgetvalue(r, i, 0), rows, n, sizeof(*rows), by_mac);
		uint32_t number = (uint32_t)strtoul(PQgetvalue(r, i, 1), NULL, 10);
		if (w && number && number != w->c.b.number) {
			struct bsdp_change c = w->c;
			c.b.number = number;
			bsdp_bindings_apply(pg->b, &c, true);
		}
	}
}

static bool upsert(struct bsdp_pg *pg, struct row *rows, size_t n, char sqlstate[6])
{
	for (int col = 0; col < 5; col++)
		array_text(pg->arrays[col], ARRAY_TEXT, rows, n, col);
	const char *values[] = { pg->arrays[0], pg->arrays[1], pg->arrays[2], pg->arrays[3],
				 pg->arrays[4], pg->me };
	PGresult *r;
	if (!run(pg, &r, UPSERT, 6, values, sqlstate))
		return false;
	adopt_numbers(pg, r, rows, n);
	PQclear(r);
	return true;
}

/* One change at a time, for a batch that hit a number another server
 * holds (a number handed out while no block was at hand): that Mac gets a
 * number of a fresh block, here and in the table. */
static bool upsert_one_by_one(struct bsdp_pg *pg, struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char sqlstate[6] = "";
		for (int attempt = 0; !upsert(pg, &rows[i], 1, sqlstate); attempt++) {
			uint32_t number;
			if (strcmp(sqlstate, "23505") != 0 || attempt == 3 ||
			    !supply_blocks(pg, &number))
				return false;
			rows[i].c.b.number = number;
			bsdp_bindings_apply(pg->b, &rows[i].c, true);
			say(pg, BSDP_PG_RENUMBERED, rows[i].mac);
		}
	}
	return true;
}

/* Writes changes (at most BATCH per statement) and tells the other
 * servers. rows has room for n. */
static bool write_rows(struct bsdp_pg *pg, struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *m = rows[i].c.b.mac;
		snprintf(rows[i].mac, sizeof(rows[i].mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
		rows[i].order = i;
	}
	n = compact(rows, n);
	for (size_t at = 0; at < n; at += BATCH) {
		size_t k = n - at < BATCH ? n - at : BATCH;
		char sqlstate[6] = "";
		/* A long write must not leave the table without numbers. */
		if (!supply_blocks(pg, NULL))
			return false;
		if (!upsert(pg, rows + at, k, sqlstate) &&
		    (strcmp(sqlstate, "23505") != 0 || !upsert_one_by_one(pg, rows + at, k)))
			return false;
		pthread_mutex_lock(&pg->lock);
		pg->stats.written += k;
		pthread_mutex_unlock(&pg->lock);
	}
	return n == 0 || run(pg, NULL, "NOTIFY " CHANNEL, 0, NULL, NULL);
}

static bool write_pending(struct bsdp_pg *pg)
{
	if (pg->pending_count == 0) {
		bool lost = false;
		uint64_t overflowed = 0;
		pg->pending_count = bsdp_bindings_drain(pg->b, pg->pending, pg->journal_capacity,
							&lost, &overflowed);
		/* Drained changes stay pending until they are written. */
		pthread_mutex_lock(&pg->lock);
		pg->stats.overflowed += overflowed;
		pg->stats.pending = pg->pending_count;
		pthread_mutex_unlock(&pg->lock);
		pg->write_all |= lost;
	}
	size_t n = pg->pending_count;
	for (size_t i = 0; i < n; i++)
		pg->rows[i].c = pg->pending[i];
	if (n && !write_rows(pg, pg->rows, n))
		return false;
	pg->pending_count = 0;
	pthread_mutex_lock(&pg->lock);
	pg->stats.pending = 0;
	pthread_mutex_unlock(&pg->lock);
	return true;
}

/* The journal overflowed: some changes were never queued, so the whole
 * table is written (what it holds now is what they led to). */
static bool write_table(struct bsdp_pg *pg)
{
	struct bsdp_binding *all;
	size_t n;
	if (bsdp_bindings_copy(pg->b, &all, &n) != 0)
		return true;    /* no memory now: the next round tries again */
	bool ok = true;
	size_t chunk = pg->journal_capacity < BATCH ? pg->journal_capacity : BATCH;
	for (size_t at = 0; ok && at < n; at += chunk) {
		size_t k = n - at < chunk ? n - at : chunk;
		for (size_t i = 0; i < k; i++)
			pg->rows[i].c = (struct bsdp_change){ .b = all[at + i] };
		ok = write_rows(pg, pg->rows, k);
	}
	free(all);
	if (ok)
		pg->write_all = false;
	return ok;
}

/* True when another server announced writes (our own NOTIFYs come back
 * to us too: those need no read). */
static bool notified(struct bsdp_pg *pg)
{
	bool any = false;
	if (!PQconsumeInput(pg->conn))
		return false;
	int self = PQbackendPID(pg->conn);
	for (PGnotify *n; (n = PQnotifies(pg->conn)) != NULL; PQfreemem(n))
		any |= n->be_pid != self;
	return any;
}

static void *store_main(void *arg)
{
	struct bsdp_pg *pg = arg;
	uint64_t last_read = pg->conn ? now_ms() : 0;
	bool read_now = !pg->conn;
	while (!stopping(pg)) {
		if (!pg->conn) {
			if (!connect_db(pg)) {
				wait_for(pg, -1, pg->config.retry_ms);
				continue;
			}
			read_now = true;
			if (pg->outage_reported) {
				char text[32];
				snprintf(text, sizeof(text), "%zu",
					 pg->pending_count + bsdp_bindings_pending(pg->b));
				say(pg, BSDP_PG_RESTORED, text);
				pg->outage_reported = false;
			}
		}
		bool ok = supply_blocks(pg, NULL) && write_pending(pg) &&
			  (!pg->write_all || write_table(pg));
		if (ok && (read_now || now_ms() - last_read >= READ_EVERY_MS)) {
			ok = read_others(pg);
			last_read = now_ms();
		}
		if (!ok) {
			lose(pg, PQerrorMessage(pg->conn));
			continue;
		}
		read_now = wait_for(pg, PQsocket(pg->conn), pg->config.poll_ms) && notified(pg);
		if (PQstatus(pg->conn) != CONNECTION_OK)
			lose(pg, PQerrorMessage(pg->conn));
	}
	/* Stopping: one last try at what is pending, within flush_ms. */
	if (pg->conn && pg->flush_ms) {
		char timeout[64];
		snprintf(timeout, sizeof(timeout), "SET statement_timeout = %u", pg->flush_ms);
		if (run(pg, NULL, timeout, 0, NULL, NULL) && write_pending(pg))
			return_blocks(pg);
	}
	if (pg->conn)
		PQfinish(pg->conn);
	pg->conn = NULL;
	return NULL;
}

struct bsdp_pg *bsdp_pg_start(const struct bsdp_pg_config *config, struct bsdp_bindings *b,
			      size_t journal_capacity, bsdp_pg_report_fn report, void *ctx)
{
	if (!config || !config->keywords || !config->values || !b || journal_capacity == 0)
		return NULL;
	struct bsdp_pg *pg = calloc(1, sizeof(*pg));
	if (!pg)
		return NULL;
	pg->config = *config;
	if (!pg->config.poll_ms)
		pg->config.poll_ms = 100;
	if (!pg->config.retry_ms)
		pg->config.retry_ms = 1000;
	pg->b = b;
	pg->report = report;
	pg->ctx = ctx;
	pg->journal_capacity = journal_capacity;
	pg->target = 8;
	pg->wake[0] = pg->wake[1] = -1;
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(pg->me, sizeof(pg->me), "%ld-%ld-%ld", (long)getpid(), (long)t.tv_sec,
		 (long)t.tv_nsec);
	pg->pending = calloc(journal_capacity, sizeof(*pg->pending));
	pg->rows = calloc(journal_capacity, sizeof(*pg->rows));
	if (!pg->pending || !pg->rows || pipe2(pg->wake, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    pthread_mutex_init(&pg->lock, NULL) != 0)
		goto failed;
	if (bsdp_bindings_journal(b, journal_capacity) != 0)
		goto failed_lock;
	bsdp_bindings_use_blocks(b);
	bsdp_bindings_wake_on_block(b, pg->wake[1]);
	/* The first connection here, before any packet: numbers in hand and
	 * every Mac the database knows loaded. An unreachable database costs
	 * at most its connect timeout, and the thread keeps trying. */
	if (connect_db(pg) && !(supply_blocks(pg, NULL) && read_others(pg)))
		lose(pg, PQerrorMessage(pg->conn));
	if (pthread_create(&pg->thread, NULL, store_main, pg) != 0)
		goto failed_conn;
	return pg;
failed_conn:
	if (pg->conn)
		PQfinish(pg->conn);
	bsdp_bindings_wake_on_block(b, -1);
failed_lock:
	pthread_mutex_destroy(&pg->lock);
failed:
	if (pg->wake[0] >= 0) {
		close(pg->wake[0]);
		close(pg->wake[1]);
	}
	free(pg->pending);
	free(pg->rows);
	free(pg);
	return NULL;
}

void bsdp_pg_stop(struct bsdp_pg *pg, unsigned flush_ms)
{
	if (!pg)
		return;
	pthread_mutex_lock(&pg->lock);
	pg->stop = true;
	pg->flush_ms = flush_ms;
	pthread_mutex_unlock(&pg->lock);
	ssize_t w = write(pg->wake[1], "", 1);
	(void)w;
	pthread_join(pg->thread, NULL);
	bsdp_bindings_wake_on_block(pg->b, -1);
	pthread_mutex_destroy(&pg->lock);
	close(pg->wake[0]);
	close(pg->wake[1]);
	free(pg->pending);
	free(pg->rows);
	free(pg);
}

void bsdp_pg_stats(struct bsdp_pg *pg, struct bsdp_pg_stats *ret)
{
	if (!pg || !ret)
		return;
	pthread_mutex_lock(&pg->lock);
	*ret = pg->stats;
	pthread_mutex_unlock(&pg->lock);
	ret->pending += bsdp_bindings_pending(pg->b);
}
