/* SPDX-License-Identifier: MPL-2.0 */
/* The bindings table shared through PostgreSQL (libpq). A thread of its own
 * writes the table's journal to the database and applies what other servers
 * wrote; the packet path only ever touches the in-memory table. While the
 * database is unreachable the journal keeps the changes (bounded: beyond it
 * the whole table is written once the database is back). */
#ifndef BSDP_BINDINGS_PG_H
#define BSDP_BINDINGS_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hook/bindings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Machine numbers per block taken from bsdp_machine_number_block. */
#define BSDP_PG_BLOCK 64u

/* libpq connection keywords and values (host, port, dbname, user, password,
 * connect_timeout, ...), NULL-terminated like PQconnectdbParams wants.
 * connect_timeout (seconds, 5 when absent) bounds everything the store
 * waits for: a connection, each statement (the session's statement_timeout
 * and lock_timeout), the start's first read. */
struct bsdp_pg_config {
	const char *const *keywords;
	const char *const *values;
	unsigned poll_ms;       /* longest wait between rounds (writes, reads) */
	unsigned retry_ms;      /* least time between two connection attempts */
	/* Rows the database keeps: the most recently selected; older ones are
	 * removed in batches soon after, and a start reads at most these.
	 * 0: no limit. */
	size_t max_rows;
	/* Where changes not written at stop go (a spill file, read back and
	 * written at the next start); NULL: nowhere. spill_tag names the
	 * database in the files' names, so a folder may serve several. */
	const char *spill_dir;
	const char *spill_tag;
	/* Counts the rows holding a selection (every server's) once every
	 * BSDP_PG_COUNT_EVERY_MS and publishes it to the table
	 * (bsdp_bindings_share_bound), for "server-priority": "load"; while
	 * the database is unreachable the table's own count stands in. */
	bool count_bound;
};

#define BSDP_PG_COUNT_EVERY_MS 1000u

enum bsdp_pg_event {
	BSDP_PG_CONNECTED,      /* first connection: text = server version */
	BSDP_PG_SCHEMA_CREATED, /* the tables were missing and were created */
	BSDP_PG_LOST,           /* unreachable or failing: text = why (once per outage) */
	BSDP_PG_RESTORED,       /* back after an outage: text = changes written */
	BSDP_PG_RENUMBERED,     /* a Mac's number was taken by another server: text = MAC */
	BSDP_PG_REFUSED,        /* the database refused a change for good: text = "MAC: why" */
	BSDP_PG_SPILLED,        /* at stop: text = "N path", N changes not written kept there */
	BSDP_PG_SPILL_FAILED,   /* at stop: text = "N path: why", N changes lost */
	BSDP_PG_UNSPILLED,      /* at start: text = "N path", N changes read from a spill file */
	BSDP_PG_SPILL_WRITTEN,  /* a spill file's changes are in the database: text = path */
};

/* Called on the store's thread; must not block for long. */
typedef void (*bsdp_pg_report_fn)(void *ctx, enum bsdp_pg_event event, const char *text);

struct bsdp_pg_stats {
	bool connected;
	uint64_t written;       /* changes written */
	uint64_t applied;       /* other servers' changes applied */
	uint64_t overflowed;    /* changes that did not fit the journal */
	uint64_t outages;
	size_t pending;         /* changes not yet written */
	uint64_t connect_attempts;
	uint64_t refused;       /* changes the database refused for good (dropped) */
	uint64_t trimmed;       /* rows removed beyond max_rows */
	uint64_t unspilled;     /* changes read from spill files at start */
};

struct bsdp_pg;

/* Attaches a journal of journal_capacity changes to b (which must not have
 * one), loads the spill files of an earlier stop into b (journaled, so
 * they are written), and starts the thread. Waits at most connect_timeout
 * for the first connection and read, then lets the thread go on alone.
 * NULL on bad arguments or when a thread or memory cannot be had. */
struct bsdp_pg *bsdp_pg_start(const struct bsdp_pg_config *config, struct bsdp_bindings *b,
			      size_t journal_capacity, bsdp_pg_report_fn report, void *ctx);
/* Tries once more to write what is pending (for at most flush_ms; a
 * statement still running then is cancelled), stops the thread, writes
 * what is still not written to a spill file, and frees the store. Returns
 * within about flush_ms plus half a second. b is left to its owner. */
void bsdp_pg_stop(struct bsdp_pg *pg, unsigned flush_ms);
void bsdp_pg_stats(struct bsdp_pg *pg, struct bsdp_pg_stats *ret);

#ifdef __cplusplus
}
#endif
#endif
