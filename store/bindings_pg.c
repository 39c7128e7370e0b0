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
#include "store/monotonic_cond.h"
#include "store/spill.h"

/* Rows written per statement, and rows read per query. */
#define BATCH 1024
/* Longest array parameter: BATCH values of "xx:xx:xx:xx:xx:xx," or
 * "4294967295," plus braces. */
#define ARRAY_TEXT (BATCH * 19 + 3)
/* Other servers' rows are read at least this often, and at once when they
 * notify. */
#define READ_EVERY_MS 1000
#define CHANNEL "bsdp_bindings"
/* Rows beyond max_rows removed per statement, and statements per round: a
 * flood of new Macs is trimmed a batch at a time, never in one long
 * statement; what is left waits for the next round. */
#define TRIM_BATCH 1024
#define TRIM_ROUNDS 8
/* Waits are cut in slices this long to see a stop. */
#define SLICE_MS 50
/* libpq's connect_timeout when none is given (seconds). */
#define CONNECT_TIMEOUT_DEFAULT 5

struct row;

struct bsdp_pg {
	pthread_t thread;
	pthread_mutex_t lock;   /* guards stop, stop_by, started and stats */
	pthread_cond_t started_cond;
	bool started;           /* the first connection and read are over */
	int wake[2];            /* a byte here wakes the thread */
	bool stop;
	uint64_t stop_by;       /* once stopping: the last moment to write */
	struct bsdp_pg_stats stats;

	/* Everything below belongs to the store's thread (and to start before
	 * it runs and stop after it ended). */
	struct bsdp_pg_config config;
	const char **keywords, **values;  /* the config's, and "options" */
	char options[96];
	char user_timeout[16];  /* tcp_user_timeout when the config has none */
	unsigned connect_ms;    /* connect_timeout: bounds connections, statements */
	struct bsdp_bindings *b;
	bsdp_pg_report_fn report;
	void *ctx;
	PGconn *conn;
	char me[40];            /* changed_by of this process's rows */
	bool ever_connected, outage_reported, write_all;
	bool loaded;            /* the most recent rows were read once */
	bool supplied;          /* blocks were handed to the table before */
	bool trim_due;          /* rows beyond max_rows may be left */
	uint64_t evictions_seen;
	unsigned target;        /* spare blocks to keep in the table */
	unsigned spares_after;  /* spare blocks it held after the last top-up */
	uint64_t uncoordinated_seen;
	uint64_t read_from_xid; /* the snapshot's xmin at the last read */
	uint64_t last_attempt_ms;
	struct bsdp_change *pending;  /* drained, not yet written */
	struct row *rows;             /* the same, as written */
	size_t pending_count, journal_capacity;
	struct bsdp_spill_files spill;  /* read at start, removed once written */
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

static void count(struct bsdp_pg *pg, uint64_t *stat, uint64_t n)
{
	pthread_mutex_lock(&pg->lock);
	*stat += n;
	pthread_mutex_unlock(&pg->lock);
}

/* Waits up to ms for the wake pipe, or for the database's socket (a
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

/* Waits for the connection's socket until deadline (or, once stopping,
 * the stop's own), in slices so a stop is seen. False when time is up. */
static bool wait_socket(struct bsdp_pg *pg, bool for_write, uint64_t deadline)
{
	for (;;) {
		pthread_mutex_lock(&pg->lock);
		uint64_t limit = pg->stop && pg->stop_by < deadline ? pg->stop_by : deadline;
		pthread_mutex_unlock(&pg->lock);
		uint64_t now = now_ms();
		if (now >= limit)
			return false;
		struct pollfd p = { .fd = PQsocket(pg->conn), .events = for_write ? POLLOUT : POLLIN };
		int n = poll(&p, 1, (int)(limit - now < SLICE_MS ? limit - now : SLICE_MS));
		if (n != 0 && !(n < 0 && errno == EINTR))
			return true;   /* ready, or an error libpq will name */
	}
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
		count(pg, &pg->stats.outages, 1);
	}
	if (pg->conn) {
		PQfinish(pg->conn);
		pg->conn = NULL;
	}
	pthread_mutex_lock(&pg->lock);
	pg->stats.connected = false;
	pthread_mutex_unlock(&pg->lock);
	bsdp_bindings_share_bound(pg->b, false, 0);
}

/* A statement ran out of time (a lock held elsewhere beyond the server's
 * own timeouts, or a stop): the server is asked to cancel it and the
 * caller drops the connection. */
static bool cancel(struct bsdp_pg *pg)
{
	PGcancel *c = PQgetCancel(pg->conn);
	if (c) {
		char err[256];
		PQcancel(c, err, sizeof(err));
		PQfreeCancel(c);
	}
	return false;
}

/* Runs a statement (several when there are no parameters) without ever
 * blocking past its time: the session's statement_timeout and lock_timeout
 * end it on the server; a second more, or a stop's end, cancels it here.
 * True when every statement did what it should; *res (when asked) gets
 * the last result. On failure *sqlstate (when asked) gets the first
 * error's code. */
static bool run(struct bsdp_pg *pg, PGresult **res, const char *sql, int n,
		const char *const *values, char sqlstate[6])
{
	if (sqlstate)
		sqlstate[0] = '\0';
	if (res)
		*res = NULL;
	int sent = n ? PQsendQueryParams(pg->conn, sql, n, NULL, values, NULL, NULL, 0) :
		       PQsendQuery(pg->conn, sql);
	if (!sent)
		return false;
	uint64_t deadline = now_ms() + pg->connect_ms + 1000;
	/* A non-blocking connection: what did not fit the socket yet. */
	for (int f; (f = PQflush(pg->conn)) != 0;)
		if (f < 0 || !wait_socket(pg, true, deadline))
			return f < 0 ? false : cancel(pg);
	bool ok = true;
	PGresult *last = NULL;
	for (;;) {
		while (PQisBusy(pg->conn)) {
			if (!wait_socket(pg, false, deadline)) {
				PQclear(last);
				return cancel(pg);
			}
			if (!PQconsumeInput(pg->conn)) {
				PQclear(last);
				return false;
			}
		}
		PGresult *r = PQgetResult(pg->conn);
		if (!r)
			break;
		ExecStatusType st = PQresultStatus(r);
		if (ok && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) {
			PQclear(last);
			last = r;
			continue;
		}
		if (ok && sqlstate) {
			const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
			snprintf(sqlstate, 6, "%s", code ? code : "");
		}
		ok = false;
		PQclear(r);
	}
	if (ok && res)
		*res = last;
	else
		PQclear(last);
	return ok;
}

/* Is every object of bindings_pg.sql there? DDL (which takes locks, and
 * rights a strictly run database does not give) only runs when one is
 * missing: the tables first, the index (newer) on its own. */
static const char SCHEMA_PRESENT[] =
	"SELECT to_regclass('bsdp_bindings') IS NOT NULL"
	" AND to_regclass('bsdp_machine_number_free') IS NOT NULL"
	" AND to_regclass('bsdp_machine_number_block') IS NOT NULL,"
	" to_regclass('bsdp_bindings_by_time') IS NOT NULL";

static bool ensure_schema(struct bsdp_pg *pg)
{
	PGresult *r;
	if (!run(pg, &r, SCHEMA_PRESENT, 0, NULL, NULL))
		return false;
	bool tables = PQgetvalue(r, 0, 0)[0] == 't', index = PQgetvalue(r, 0, 1)[0] == 't';
	PQclear(r);
	if (tables && index)
		return true;
	/* Two servers starting at once: one creates, the other waits (for at
	 * most the session's lock_timeout) and finds them made. */
	bool made = run(pg, NULL, "BEGIN", 0, NULL, NULL) &&
		    run(pg, NULL, "SELECT pg_advisory_xact_lock(1651733616)", 0, NULL, NULL) &&
		    run(pg, NULL, BSDP_PG_SCHEMA, 0, NULL, NULL) &&
		    run(pg, NULL, "COMMIT", 0, NULL, NULL);
	if (made && !tables)
		say(pg, BSDP_PG_SCHEMA_CREATED, PQdb(pg->conn));
	if (made || !tables)
		return made;
	/* Tables a DBA made before the index existed, and no right to add
	 * it: the store works without (removing old rows costs more). */
	return PQstatus(pg->conn) == CONNECTION_OK && run(pg, NULL, "ROLLBACK", 0, NULL, NULL);
}

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

/* Connects without blocking (a stop ends the attempt), within
 * connect_timeout, then makes sure of the schema and listens. */
static bool connect_db(struct bsdp_pg *pg)
{
	pg->last_attempt_ms = now_ms();
	count(pg, &pg->stats.connect_attempts, 1);
	uint64_t deadline = pg->last_attempt_ms + pg->connect_ms;
	pg->conn = PQconnectStartParams(pg->keywords, pg->values, 0);
	if (!pg->conn || PQstatus(pg->conn) == CONNECTION_BAD) {
		lose(pg, pg->conn ? PQerrorMessage(pg->conn) : "out of memory");
		return false;
	}
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		if (!wait_socket(pg, st == PGRES_POLLING_WRITING, deadline)) {
			lose(pg, "connection timeout expired");
			return false;
		}
		st = PQconnectPoll(pg->conn);
	}
	/* NOTICEs ("relation already exists, skipping") are no news. Sends
	 * never block either (nor PQfinish on a dead network). */
	if (st == PGRES_POLLING_OK) {
		PQsetNoticeProcessor(pg->conn, ignore_notice, NULL);
		PQsetnonblocking(pg->conn, 1);
	}
	if (st == PGRES_POLLING_FAILED || !ensure_schema(pg) ||
	    !run(pg, NULL, "LISTEN " CHANNEL, 0, NULL, NULL)) {
		lose(pg, PQerrorMessage(pg->conn));
		return false;
	}
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

/* Applies one page of rows (COLUMNS below); returns the rows read. A row
 * with a machine number no table can hold (0, or 4294967295, which would
 * wrap the counter) is skipped: it is some other program's. */
static int apply_page(struct bsdp_pg *pg, PGresult *r)
{
	int rows = PQntuples(r);
	uint64_t applied = 0;
	for (int i = 0; i < rows; i++) {
		struct bsdp_change c = { .removed = PQgetvalue(r, i, 4)[0] == 't' };
		unsigned long long number = strtoull(PQgetvalue(r, i, 3), NULL, 10);
		if (parse_mac(PQgetvalue(r, i, 0), c.b.mac) != 0 || number == 0 ||
		    number >= UINT32_MAX)
			continue;
		c.b.image_id = (uint32_t)strtoul(PQgetvalue(r, i, 1), NULL, 10);
		c.b.time = strtoll(PQgetvalue(r, i, 2), NULL, 10);
		c.b.number = (uint32_t)number;
		applied += bsdp_bindings_apply(pg->b, &c, false) == 1;
	}
	count(pg, &pg->stats.applied, applied);
	return rows;
}

#define COLUMNS "SELECT hw_address, image_id, selected_at, machine_number, deleted," \
	" changed_by, written_by_xid::text FROM bsdp_bindings WHERE "
#define ROW_COLUMNS COLUMNS "changed_by <> $1 AND "

/* The snapshot's xmin, taken before a read: every transaction older than
 * it had ended before the read began. */
static bool horizon(struct bsdp_pg *pg, uint64_t *ret)
{
	PGresult *r;
	if (!run(pg, &r, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text", 0, NULL, NULL))
		return false;
	*ret = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	return true;
}

/* Reads the rows of every transaction that may not have committed at the
 * last read (and everything newer), and applies those of other servers.
 * The horizon is taken first, so any transaction older than it had ended
 * before the read began: its rows are in this read. Rows read again are
 * applied only when newer than what the table holds. */
static bool read_others(struct bsdp_pg *pg)
{
	PGresult *r;
	uint64_t next_from;
	if (!horizon(pg, &next_from))
		return false;
	char from[24], last_xid[24] = "", last_mac[18] = "";
	snprintf(from, sizeof(from), "%" PRIu64, pg->read_from_xid);
	const char *first[] = { pg->me, from };
	if (!run(pg, &r, ROW_COLUMNS "written_by_xid >= $2::xid8"
		 " ORDER BY written_by_xid, hw_address LIMIT 1024", 2, first, NULL))
		return false;
	/* Further pages by key (a transaction may have written many rows). */
	for (int page = 0;; page++) {
		int rows = apply_page(pg, r);
		if (rows > 0) {
			snprintf(last_xid, sizeof(last_xid), "%s", PQgetvalue(r, rows - 1, 6));
			snprintf(last_mac, sizeof(last_mac), "%s", PQgetvalue(r, rows - 1, 0));
		}
		PQclear(r);
		if (rows < 1024) {
			pg->read_from_xid = next_from;
			return true;
		}
		if (page == 100000 || stopping(pg))
			return true;
		const char *next[] = { pg->me, last_xid, last_mac };
		if (!run(pg, &r, ROW_COLUMNS "(written_by_xid, hw_address) > ($2::xid8, $3)"
			 " ORDER BY written_by_xid, hw_address LIMIT 1024", 3, next, NULL))
			return false;
	}
}

/* Every server's selections (rows with an image, not deleted), for
 * "server-priority": "load": one statement, bounded like every other, off
 * the packet path, which reads the count published here. */
static bool count_bound(struct bsdp_pg *pg)
{
	PGresult *r;
	if (!run(pg, &r, "SELECT count(*) FROM bsdp_bindings WHERE image_id <> 0 AND NOT deleted",
		 0, NULL, NULL))
		return false;
	bsdp_bindings_share_bound(pg->b, true, strtoull(PQgetvalue(r, 0, 0), NULL, 10));
	PQclear(r);
	return true;
}

/* The key (selected_at, hw_address) of the newest row beyond the
 * max_rows most recent, if there is one: it and everything older go. */
static bool oldest_kept(struct bsdp_pg *pg, bool *beyond, char at[24], char mac[18])
{
	char offset[24];
	snprintf(offset, sizeof(offset), "%zu", pg->config.max_rows);
	const char *values[] = { offset };
	PGresult *r;
	if (!run(pg, &r, "SELECT selected_at::text, hw_address FROM bsdp_bindings"
		 " ORDER BY selected_at DESC, hw_address DESC OFFSET $1 LIMIT 1", 1, values, NULL))
		return false;
	*beyond = PQntuples(r) == 1;
	if (*beyond) {
		snprintf(at, 24, "%s", PQgetvalue(r, 0, 0));
		snprintf(mac, 18, "%s", PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	return true;
}

/* At start: the max_rows most recently selected rows, oldest first (so
 * the table's recency order follows theirs), and no others; later reads
 * go by transaction from the horizon taken here. */
static bool read_recent(struct bsdp_pg *pg)
{
	uint64_t next_from;
	bool beyond = false;
	char at[24] = "", mac[18] = "";
	if (!horizon(pg, &next_from) ||
	    (pg->config.max_rows && !oldest_kept(pg, &beyond, at, mac)))
		return false;
	if (!beyond)
		snprintf(at, sizeof(at), "%" PRId64, INT64_MIN);
	size_t limit = pg->config.max_rows ? pg->config.max_rows : SIZE_MAX, read = 0;
	for (int rows = BATCH; rows == BATCH && read < limit && !stopping(pg);) {
		char page[24];
		snprintf(page, sizeof(page), "%zu", limit - read < BATCH ? limit - read : BATCH);
		const char *values[] = { at, mac, page };
		PGresult *r;
		if (!run(pg, &r, COLUMNS "(selected_at, hw_address) > ($1::bigint, $2)"
			 " ORDER BY selected_at, hw_address LIMIT $3", 3, values, NULL))
			return false;
		rows = apply_page(pg, r);
		if (rows > 0) {
			snprintf(at, sizeof(at), "%s", PQgetvalue(r, rows - 1, 2));
			snprintf(mac, sizeof(mac), "%s", PQgetvalue(r, rows - 1, 0));
		}
		read += (size_t)rows;
		PQclear(r);
	}
	pg->read_from_xid = next_from;
	pg->loaded = true;
	return true;
}

/* Removes the rows beyond the max_rows most recently selected, soon after
 * the table pushed Macs out (every server does, each up to its own
 * max_rows: the smallest one holds). evictions is the table's count read
 * before this round drained its journal: the changes that pushed those
 * Macs out are written by now, and a later push-out trims again. A removed row is no deletion: a
 * server that still holds the Mac keeps it, and writes it back when the
 * Mac selects again, with its number (numbers are never handed out twice,
 * so that one is still the Mac's). SKIP LOCKED: two servers trimming at
 * once never wait for each other. */
static bool trim(struct bsdp_pg *pg, uint64_t evictions)
{
	if (!pg->config.max_rows || (!pg->trim_due && evictions == pg->evictions_seen))
		return true;
	pg->evictions_seen = evictions;
	pg->trim_due = false;
	bool beyond;
	char at[24], mac[18];
	if (!oldest_kept(pg, &beyond, at, mac))
		return false;
	const char *values[] = { at, mac };
	for (int round = 0; beyond && round < TRIM_ROUNDS; round++) {
		PGresult *r;
		if (!run(pg, &r, "DELETE FROM bsdp_bindings WHERE hw_address IN (SELECT hw_address"
			 " FROM bsdp_bindings WHERE (selected_at, hw_address) <= ($1::bigint, $2)"
			 " ORDER BY selected_at, hw_address LIMIT 1024 FOR UPDATE SKIP LOCKED)",
			 2, values, NULL))
			return false;
		unsigned long removed = strtoul(PQcmdTuples(r), NULL, 10);
		PQclear(r);
		count(pg, &pg->stats.trimmed, removed);
		beyond = removed == TRIM_BATCH;
	}
	pg->trim_due = beyond;
	return true;
}

/* A change as written: the MAC's text once, the order it was made in. */
struct row {
	struct bsdp_change c;
	char mac[18];
	size_t order;
	bool taken;     /* the database took it (else it holds a newer row) */
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

/* The latest change wins; at the same time a write wins over a deletion
 * (a deletion carries a time after the selection it deletes, so it wins
 * only over older writes) and a selection over a forget (the forget of a
 * server that saw the Mac's SELECT name another server sharing this
 * database, which recorded it at that time), as in bsdp_bindings_apply.
 * A Mac keeps the number the database holds for it (a deleted row's
 * number is given up). */
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
	" WHERE t.selected_at < EXCLUDED.selected_at OR (t.selected_at = EXCLUDED.selected_at"
	" AND (t.deleted OR (NOT EXCLUDED.deleted AND (EXCLUDED.image_id <> 0 OR t.image_id = 0))))"
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
		if (w)
			w->taken = true;
		if (w && number && number != w->c.b.number) {
			struct bsdp_change c = w->c;
			c.b.number = number;
			bsdp_bindings_apply(pg->b, &c, true);
		}
	}
}

/* Changes the database did not take lost to a newer row (or a deletion
 * to a write at its time): the table takes that row, so both agree. */
static bool take_newer(struct bsdp_pg *pg, const struct row *rows, size_t n)
{
	char *text = pg->arrays[0];  /* the upsert's parameters are done with */
	size_t at = 0;
	text[at++] = '{';
	for (size_t i = 0; i < n; i++)
		if (!rows[i].taken)
			at += (size_t)snprintf(text + at, ARRAY_TEXT - at, "%s,", rows[i].mac);
	if (at == 1)
		return true;
	text[at - 1] = '}';
	text[at] = '\0';
	const char *values[] = { text };
	PGresult *r;
	if (!run(pg, &r, COLUMNS "hw_address = ANY($1::text[])", 1, values, NULL))
		return false;
	apply_page(pg, r);
	PQclear(r);
	return true;
}

static bool upsert(struct bsdp_pg *pg, struct row *rows, size_t n, char sqlstate[6])
{
	for (int col = 0; col < 5; col++)
		array_text(pg->arrays[col], ARRAY_TEXT, rows, n, col);
	const char *values[] = { pg->arrays[0], pg->arrays[1], pg->arrays[2], pg->arrays[3],
				 pg->arrays[4], pg->me };
	PGresult *r;
	for (size_t i = 0; i < n; i++)
		rows[i].taken = false;
	if (!run(pg, &r, UPSERT, 6, values, sqlstate))
		return false;
	adopt_numbers(pg, r, rows, n);
	PQclear(r);
	return take_newer(pg, rows, n);
}

/* A change the database refuses for good (a constraint a DBA added, a
 * value out of range): dropped and reported, never retried forever. */
static void refuse(struct bsdp_pg *pg, const struct row *w, const char *sqlstate)
{
	char text[600];
	snprintf(text, sizeof(text), "%s: SQLSTATE %s, %s", w->mac, sqlstate,
		 PQerrorMessage(pg->conn));
	size_t len = strlen(text);
	while (len && (text[len - 1] == '\n' || text[len - 1] == ' '))
		text[--len] = '\0';
	say(pg, BSDP_PG_REFUSED, text);
	count(pg, &pg->stats.refused, 1);
}

/* Data exceptions and integrity violations come back whatever the retry;
 * a taken number (23505) is mended by renumbering. */
static bool permanent(const char *sqlstate)
{
	return sqlstate[0] == '2' && (sqlstate[1] == '2' || sqlstate[1] == '3') &&
	       strcmp(sqlstate, "23505") != 0;
}

/* One change at a time, for a batch the database refused: a Mac whose
 * number another server holds (a number handed out while no block was at
 * hand) gets a number of a fresh block, here and in the table; a change
 * refused for good is dropped. False on any other failure (retried). */
static bool upsert_one_by_one(struct bsdp_pg *pg, struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char sqlstate[6] = "";
		for (int attempt = 0; !upsert(pg, &rows[i], 1, sqlstate); attempt++) {
			uint32_t number;
			if (permanent(sqlstate)) {
				refuse(pg, &rows[i], sqlstate);
				break;
			}
			/* Fresh numbers may still be ones handed out without a
			 * block: after a few, the next round goes on (each
			 * attempt moves the sequence on, so it ends). */
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
		    ((strcmp(sqlstate, "23505") != 0 && !permanent(sqlstate)) ||
		     !upsert_one_by_one(pg, rows + at, k)))
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

static void mark_started(struct bsdp_pg *pg)
{
	pthread_mutex_lock(&pg->lock);
	pg->started = true;
	pthread_cond_broadcast(&pg->started_cond);
	pthread_mutex_unlock(&pg->lock);
}

/* The spill files read at start are in the database now. */
static void spill_written(struct bsdp_pg *pg)
{
	bsdp_spill_done(&pg->spill, (int64_t)time(NULL));
	for (size_t i = 0; i < pg->spill.count; i++)
		say(pg, BSDP_PG_SPILL_WRITTEN, pg->spill.path[i]);
	pg->spill.count = 0;
}

static void *store_main(void *arg)
{
	struct bsdp_pg *pg = arg;
	uint64_t last_read = 0, last_count = 0;
	bool read_now = true;
	while (!stopping(pg)) {
		if (!pg->conn) {
			/* At most one attempt per retry_ms, whatever wakes the
			 * thread meanwhile (a table out of numbers does, at each
			 * new Mac). */
			uint64_t due = pg->last_attempt_ms + pg->config.retry_ms, now = now_ms();
			if (pg->last_attempt_ms && now < due) {
				wait_for(pg, -1, (unsigned)(due - now));
				continue;
			}
			if (!connect_db(pg)) {
				mark_started(pg);
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
		/* Numbers in hand and the most recent rows read first: a start
		 * waits for those (bounded), not for the writes. */
		bool ok = supply_blocks(pg, NULL) && (pg->loaded || read_recent(pg));
		if (ok)
			mark_started(pg);
		uint64_t evictions = bsdp_bindings_evictions(pg->b);
		ok = ok && write_pending(pg) && (!pg->write_all || write_table(pg));
		if (ok && pg->spill.count)
			spill_written(pg);
		ok = ok && trim(pg, evictions);
		if (ok && (read_now || now_ms() - last_read >= READ_EVERY_MS)) {
			ok = read_others(pg);
			last_read = now_ms();
		}
		if (ok && pg->config.count_bound &&
		    (!last_count || now_ms() - last_count >= BSDP_PG_COUNT_EVERY_MS)) {
			ok = count_bound(pg);
			last_count = now_ms();
		}
		if (!ok) {
			lose(pg, pg->conn ? PQerrorMessage(pg->conn) : NULL);
			mark_started(pg);
			continue;
		}
		read_now = wait_for(pg, PQsocket(pg->conn), pg->config.poll_ms) && notified(pg);
		if (PQstatus(pg->conn) != CONNECTION_OK)
			lose(pg, PQerrorMessage(pg->conn));
	}
	/* Stopping: one last try at what is pending, until stop_by (run()
	 * cancels what is still running then); the rest goes to a spill file. */
	pthread_mutex_lock(&pg->lock);
	bool time_left = now_ms() < pg->stop_by;
	pthread_mutex_unlock(&pg->lock);
	if (pg->conn && time_left && write_pending(pg) && (!pg->write_all || write_table(pg))) {
		if (pg->spill.count)
			spill_written(pg);
		return_blocks(pg);
	}
	if (pg->conn)
		PQfinish(pg->conn);
	pg->conn = NULL;
	mark_started(pg);
	return NULL;
}

/* The config's keywords, and "options" with the session's timeouts: a
 * statement waiting on a lock someone else holds ends on the server within
 * connect_timeout (the outage path then takes over). Without a
 * tcp_user_timeout of the operator's, connect_timeout is that too: libpq
 * (15 on) gives it to PQcancel's own connection, whose blocking connect()
 * would otherwise wait out the kernel's SYN retries (about two minutes)
 * for a server that became unreachable mid-statement, at a stop. */
static bool session_keywords(struct bsdp_pg *pg)
{
	size_t n = 0;
	unsigned seconds = CONNECT_TIMEOUT_DEFAULT;
	bool user_timeout = false;
	for (; pg->config.keywords[n]; n++) {
		if (strcmp(pg->config.keywords[n], "connect_timeout") == 0 && pg->config.values[n] &&
		    atoi(pg->config.values[n]) > 0)
			seconds = (unsigned)atoi(pg->config.values[n]);
		user_timeout |= strcmp(pg->config.keywords[n], "tcp_user_timeout") == 0;
	}
	pg->connect_ms = seconds * 1000u;
	pg->keywords = calloc(n + 3, sizeof(*pg->keywords));
	pg->values = calloc(n + 3, sizeof(*pg->values));
	if (!pg->keywords || !pg->values)
		return false;
	for (size_t i = 0; i < n; i++) {
		pg->keywords[i] = pg->config.keywords[i];
		pg->values[i] = pg->config.values[i];
	}
	snprintf(pg->options, sizeof(pg->options), "-c statement_timeout=%u -c lock_timeout=%u",
		 pg->connect_ms, pg->connect_ms);
	pg->keywords[n] = "options";
	pg->values[n++] = pg->options;
	if (!user_timeout) {
		snprintf(pg->user_timeout, sizeof(pg->user_timeout), "%u", pg->connect_ms);
		pg->keywords[n] = "tcp_user_timeout";
		pg->values[n] = pg->user_timeout;
	}
	return true;
}

/* What the last stop's spill files hold goes into the table (and so into
 * the journal, to be written). */
static void unspill(struct bsdp_pg *pg)
{
	if (!pg->config.spill_dir)
		return;
	bsdp_spill_load(pg->config.spill_dir, pg->config.spill_tag, pg->b, &pg->spill);
	for (size_t i = 0; i < pg->spill.count; i++) {
		char text[BSDP_SPILL_PATH_MAX + 32];
		snprintf(text, sizeof(text), "%zu %s", pg->spill.entries[i], pg->spill.path[i]);
		say(pg, BSDP_PG_UNSPILLED, text);
		count(pg, &pg->stats.unspilled, pg->spill.entries[i]);
	}
}

static void free_store(struct bsdp_pg *pg)
{
	if (pg->wake[0] >= 0) {
		close(pg->wake[0]);
		close(pg->wake[1]);
	}
	free(pg->keywords);
	free(pg->values);
	free(pg->pending);
	free(pg->rows);
	free(pg);
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
	pg->trim_due = true;   /* max_rows may have been lowered */
	pg->wake[0] = pg->wake[1] = -1;
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	snprintf(pg->me, sizeof(pg->me), "%ld-%ld-%ld", (long)getpid(), (long)t.tv_sec,
		 (long)t.tv_nsec);
	pg->pending = calloc(journal_capacity, sizeof(*pg->pending));
	pg->rows = calloc(journal_capacity, sizeof(*pg->rows));
	if (!pg->pending || !pg->rows || !session_keywords(pg) ||
	    pipe2(pg->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
		free_store(pg);
		return NULL;
	}
	bsdp_monotonic_cond_init(&pg->started_cond);
	pthread_mutex_init(&pg->lock, NULL);
	if (bsdp_bindings_journal(b, journal_capacity) != 0)
		goto failed;
	bsdp_bindings_use_blocks(b);
	unspill(pg);
	bsdp_bindings_wake_on_block(b, pg->wake[1]);
	if (pthread_create(&pg->thread, NULL, store_main, pg) != 0) {
		bsdp_bindings_wake_on_block(b, -1);
		goto failed;
	}
	/* The first connection and read, before any packet when they come in
	 * time: numbers in hand and the Macs the database knows. A database
	 * slower than connect_timeout (unreachable, a lock held) costs at most
	 * that; the thread goes on trying. */
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += pg->connect_ms / 1000u;
	pthread_mutex_lock(&pg->lock);
	while (!pg->started &&
	       pthread_cond_timedwait(&pg->started_cond, &pg->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&pg->lock);
	return pg;
failed:
	pthread_cond_destroy(&pg->started_cond);
	pthread_mutex_destroy(&pg->lock);
	free_store(pg);
	return NULL;
}

/* After the thread ended: what it could not write goes to a spill file
 * (the whole table when the journal lost changes, as write_table would).
 * Deletions are not kept (the file has no column for them). */
static void spill_unwritten(struct bsdp_pg *pg)
{
	bool lost = false;
	uint64_t overflowed = 0;
	size_t n = pg->pending_count, kept = 0;
	struct bsdp_change *changes = malloc((n + pg->journal_capacity) * sizeof(*changes));
	struct bsdp_binding *entries = NULL;
	if (changes) {
		memcpy(changes, pg->pending, n * sizeof(*changes));
		n += bsdp_bindings_drain(pg->b, changes + n, pg->journal_capacity, &lost, &overflowed);
	}
	if (pg->write_all || lost || !changes) {
		if (bsdp_bindings_copy(pg->b, &entries, &kept) != 0)
			kept = 0;
	} else if (n && (entries = malloc(n * sizeof(*entries))) != NULL) {
		for (size_t i = 0; i < n; i++)
			if (!changes[i].removed)
				entries[kept++] = changes[i].b;
	}
	free(changes);
	if (kept) {
		char path[BSDP_SPILL_PATH_MAX], text[BSDP_SPILL_PATH_MAX + 128];
		int r = bsdp_spill_write(pg->config.spill_dir, pg->config.spill_tag, entries, kept,
					 path);
		snprintf(text, sizeof(text), "%zu %s%s%s", kept, path, r ? ": " : "",
			 r ? strerror(-r) : "");
		say(pg, r ? BSDP_PG_SPILL_FAILED : BSDP_PG_SPILLED, text);
		/* The files read at start are in the new one. */
		if (r == 0)
			bsdp_spill_done(&pg->spill, (int64_t)time(NULL));
	}
	free(entries);
}

void bsdp_pg_stop(struct bsdp_pg *pg, unsigned flush_ms)
{
	if (!pg)
		return;
	pthread_mutex_lock(&pg->lock);
	pg->stop = true;
	pg->stop_by = now_ms() + flush_ms;
	pthread_mutex_unlock(&pg->lock);
	ssize_t w = write(pg->wake[1], "", 1);
	(void)w;
	pthread_join(pg->thread, NULL);
	bsdp_bindings_wake_on_block(pg->b, -1);
	bsdp_bindings_share_bound(pg->b, false, 0);
	if (pg->config.spill_dir)
		spill_unwritten(pg);
	pthread_cond_destroy(&pg->started_cond);
	pthread_mutex_destroy(&pg->lock);
	free_store(pg);
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
