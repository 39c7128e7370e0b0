/* SPDX-License-Identifier: MPL-2.0 */
/* What the shared bindings store (bindings_pg.c) needs of a PostgreSQL
 * database, asked without changing it: kea-bsdp-check connects, reads the
 * catalogue inside a READ ONLY transaction it rolls back, and says whether
 * the library could work there (tables present or creatable, privileges).
 * Nothing is created, no machine number taken, nothing written. */
#ifndef BSDP_PG_PROBE_H
#define BSDP_PG_PROBE_H

#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* bsdp_bindings, bsdp_machine_number_free, bsdp_machine_number_block. */
#define BSDP_PG_PROBE_OBJECTS 3

struct bsdp_pg_probe_object {
	const char *name;       /* static: the table's or sequence's name */
	bool is_sequence;
	bool present;           /* found through the role's search_path */
	char needs[40];         /* privileges it needs and lacks: "INSERT, DELETE"; "" all held */
};

struct bsdp_pg_probe {
	bool connected;
	char error[512];        /* why it could not connect or ask; "" otherwise */
	char user[64];
	char database[64];
	char schema[64];        /* where missing tables would go; "" none (search_path) */
	char server_version[32];
	bool can_create;        /* CREATE on that schema */
	struct bsdp_pg_probe_object objects[BSDP_PG_PROBE_OBJECTS];
	bool usable;            /* connected, and every object present with the
	                         * privileges it needs, or creatable */
};

/* Connects with libpq's keywords and values (NULL-terminated, as
 * PQconnectdbParams takes them; its connect_timeout bounds the connection)
 * and asks. Every statement is bounded by statement_timeout and
 * lock_timeout of timeout_ms on the server, and by timeout_ms here (then
 * cancelled). Returns 0 with ret filled (connected or not), -EINVAL on bad
 * arguments. */
int bsdp_pg_probe(const char *const *keywords, const char *const *values, unsigned timeout_ms,
		  struct bsdp_pg_probe *ret);

#ifdef __cplusplus
}
#endif
#endif
