/* SPDX-License-Identifier: MPL-2.0 */
#include "store/pg_probe.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

/* What bindings_pg.c does with each object: reads, inserts, updates and
 * deletes rows of both tables; nextval() on the sequence (USAGE or UPDATE). */
static const struct {
	const char *name;
	bool is_sequence;
} OBJECTS[BSDP_PG_PROBE_OBJECTS] = {
	{"bsdp_bindings", false},
	{"bsdp_machine_number_free", false},
	{"bsdp_machine_number_block", true},
};

static const char TABLE_QUERY[] =
	"SELECT c IS NOT NULL,"
	" coalesce(has_table_privilege(c, 'SELECT'), false),"
	" coalesce(has_table_privilege(c, 'INSERT'), false),"
	" coalesce(has_table_privilege(c, 'UPDATE'), false),"
	" coalesce(has_table_privilege(c, 'DELETE'), false)"
	" FROM (SELECT to_regclass($1) AS c) t";
static const char *const TABLE_PRIVILEGES[] = {"SELECT", "INSERT", "UPDATE", "DELETE"};

static const char SEQUENCE_QUERY[] =
	"SELECT c IS NOT NULL,"
	" coalesce(has_sequence_privilege(c, 'USAGE') OR has_sequence_privilege(c, 'UPDATE'),"
	" false)"
	" FROM (SELECT to_regclass($1) AS c) t";

static const char SESSION_QUERY[] =
	"SELECT current_user, current_database(), coalesce(current_schema(), ''),"
	" split_part(current_setting('server_version'), ' ', 1),"
	" coalesce(has_schema_privilege(current_schema(), 'CREATE'), false)";

static void ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
	/* libpq's messages end in a newline. */
	size_t n = strlen(dst);
	while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
		dst[--n] = '\0';
}

/* One statement, waited for at most until deadline (then cancelled): its
 * result on success (PGRES_COMMAND_OK or TUPLES_OK), NULL with ret->error. */
static PGresult *bounded(PGconn *conn, const char *sql, const char *param, long long deadline,
			 struct bsdp_pg_probe *ret)
{
	const char *params[1] = {param};
	if (!PQsendQueryParams(conn, sql, param ? 1 : 0, NULL, params, NULL, NULL, 0)) {
		copy_text(ret->error, sizeof(ret->error), PQerrorMessage(conn));
		return NULL;
	}
	while (PQisBusy(conn)) {
		long long left = deadline - now_ms();
		struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
		int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			PGcancel *cancel = PQgetCancel(conn);
			char why[256];
			if (cancel) {
				PQcancel(cancel, why, sizeof(why));
				PQfreeCancel(cancel);
			}
			snprintf(ret->error, sizeof(ret->error),
				 "no answer within the timeout (%s)", sql);
			return NULL;
		}
		if (!PQconsumeInput(conn)) {
			copy_text(ret->error, sizeof(ret->error), PQerrorMessage(conn));
			return NULL;
		}
	}
	PGresult *first = NULL, *r;
	while ((r = PQgetResult(conn)) != NULL) {
		if (!first)
			first = r;
		else
			PQclear(r);
	}
	ExecStatusType st = first ? PQresultStatus(first) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		copy_text(ret->error, sizeof(ret->error),
			  first ? PQresultErrorMessage(first) : PQerrorMessage(conn));
		PQclear(first);
		return NULL;
	}
	return first;
}

static bool command(PGconn *conn, const char *sql, long long deadline, struct bsdp_pg_probe *ret)
{
	PGresult *r = bounded(conn, sql, NULL, deadline, ret);
	PQclear(r);
	return r != NULL;
}

static bool yes(const PGresult *r, int column)
{
	return PQgetvalue(r, 0, column)[0] == 't';
}

static void add_need(struct bsdp_pg_probe_object *o, const char *privilege)
{
	size_t n = strlen(o->needs);
	snprintf(o->needs + n, sizeof(o->needs) - n, "%s%s", n ? ", " : "", privilege);
}

static bool ask_object(PGconn *conn, struct bsdp_pg_probe_object *o, long long deadline,
		       struct bsdp_pg_probe *ret)
{
	PGresult *r = bounded(conn, o->is_sequence ? SEQUENCE_QUERY : TABLE_QUERY, o->name,
			      deadline, ret);
	if (!r)
		return false;
	if (PQntuples(r) != 1) {
		snprintf(ret->error, sizeof(ret->error), "unexpected answer about %s", o->name);
		PQclear(r);
		return false;
	}
	o->present = yes(r, 0);
	if (o->present && o->is_sequence && !yes(r, 1))
		add_need(o, "USAGE");
	for (int i = 0; o->present && !o->is_sequence && i < 4; ++i) {
		if (!yes(r, 1 + i))
			add_need(o, TABLE_PRIVILEGES[i]);
	}
	PQclear(r);
	return true;
}

static bool ask(PGconn *conn, unsigned timeout_ms, struct bsdp_pg_probe *ret)
{
	long long deadline = now_ms() + timeout_ms;
	char set[64];
	/* The server gives up first (and releases what it waits for); the
	 * deadline here covers a server that does not answer at all. */
	snprintf(set, sizeof(set), "SET statement_timeout = %u", timeout_ms);
	if (!command(conn, set, deadline, ret))
		return false;
	snprintf(set, sizeof(set), "SET lock_timeout = %u", timeout_ms);
	if (!command(conn, set, deadline, ret) ||
	    !command(conn, "BEGIN TRANSACTION READ ONLY", deadline, ret))
		return false;
	PGresult *r = bounded(conn, SESSION_QUERY, NULL, deadline, ret);
	if (!r)
		return false;
	copy_text(ret->user, sizeof(ret->user), PQgetvalue(r, 0, 0));
	copy_text(ret->database, sizeof(ret->database), PQgetvalue(r, 0, 1));
	copy_text(ret->schema, sizeof(ret->schema), PQgetvalue(r, 0, 2));
	copy_text(ret->server_version, sizeof(ret->server_version), PQgetvalue(r, 0, 3));
	ret->can_create = yes(r, 4);
	PQclear(r);
	for (int i = 0; i < BSDP_PG_PROBE_OBJECTS; ++i) {
		if (!ask_object(conn, &ret->objects[i], deadline, ret))
			return false;
	}
	return command(conn, "ROLLBACK", deadline, ret);
}

int bsdp_pg_probe(const char *const *keywords, const char *const *values, unsigned timeout_ms,
		  struct bsdp_pg_probe *ret)
{
	if (!keywords || !values || !ret || timeout_ms == 0)
		return -EINVAL;
	memset(ret, 0, sizeof(*ret));
	for (int i = 0; i < BSDP_PG_PROBE_OBJECTS; ++i) {
		ret->objects[i].name = OBJECTS[i].name;
		ret->objects[i].is_sequence = OBJECTS[i].is_sequence;
	}
	PGconn *conn = PQconnectdbParams(keywords, values, 0);
	if (!conn || PQstatus(conn) != CONNECTION_OK) {
		copy_text(ret->error, sizeof(ret->error), conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		return 0;
	}
	ret->connected = true;
	PQsetNoticeProcessor(conn, ignore_notice, NULL);
	bool asked = ask(conn, timeout_ms, ret);
	PQfinish(conn);     /* also ends the transaction, if a step failed inside it */
	if (!asked)
		return 0;
	bool usable = true;
	for (int i = 0; i < BSDP_PG_PROBE_OBJECTS; ++i) {
		const struct bsdp_pg_probe_object *o = &ret->objects[i];
		usable = usable && (o->present ? o->needs[0] == '\0' : ret->can_create);
	}
	ret->usable = usable;
	return 0;
}
