/* SPDX-License-Identifier: MPL-2.0 */
/* Spill files: the bindings database's changes not yet written when a
 * server stops during an outage, kept in Kea's data directory in the state
 * file's format (and written by its atomic writer) until the next start
 * writes them to the database. Each stop writes a file of its own
 * ("kea-bsdp-spill-<database>-<pid>-<time>.csv"), so two servers sharing
 * the folder never overwrite each other's; a start reads every file of its
 * database (writing a change twice is harmless: the latest one wins). */
#ifndef BSDP_SPILL_H
#define BSDP_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hook/bindings.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Files read at one start, at most. */
#define BSDP_SPILL_FILES_MAX 16
#define BSDP_SPILL_PATH_MAX 4096

/* Writes n entries (oldest first) to a new spill file of the database
 * named tag in dir; its name goes into path. 0 or -errno. */
int bsdp_spill_write(const char *dir, const char *tag, const struct bsdp_binding *entries,
		     size_t n, char path[BSDP_SPILL_PATH_MAX]);

struct bsdp_spill_files {
	size_t count;
	char path[BSDP_SPILL_FILES_MAX][BSDP_SPILL_PATH_MAX];
	size_t entries[BSDP_SPILL_FILES_MAX];  /* good lines put into the table */
	bool damaged[BSDP_SPILL_FILES_MAX];    /* bad lines: kept aside, not removed */
};

/* Puts the entries of every spill file of the database named tag in dir
 * into b (oldest file first; each becomes a change the journal holds).
 * A file that cannot be read at all is left where it is (not listed). */
void bsdp_spill_load(const char *dir, const char *tag, struct bsdp_bindings *b,
		     struct bsdp_spill_files *ret);
/* The listed files' changes are in the database: removes them (a damaged
 * one is set aside as "<path>.damaged-<now>" instead, for the operator). */
void bsdp_spill_done(const struct bsdp_spill_files *files, int64_t now);

#ifdef __cplusplus
}
#endif
#endif
