/* SPDX-License-Identifier: MPL-2.0 */
/* The bindings state file: CSV with a header line, like Kea's memfile lease
 * file. Saved atomically (temp file, fsync, rename, fsync of the folder) by
 * a writer thread that coalesces bursts of changes into one write. */
#ifndef BSDP_STATE_FILE_H
#define BSDP_STATE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "hook/bindings.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BSDP_STATE_HEADER "hwaddr,image-id,selected-at,machine-number"
#define BSDP_STATE_LINE_MAX 128

/* Called once per problem: line is 0 for the file as a whole. */
typedef void (*bsdp_state_report_fn)(void *ctx, const char *path, size_t line, const char *reason);

/* Parses one data line (no newline). 0, or -EINVAL with *ret_reason set to a
 * static text. */
int bsdp_state_parse_line(const char *line, size_t len, struct bsdp_binding *ret,
			  const char **ret_reason);
/* Formats one line with its newline; returns the length or -ENOBUFS. */
int bsdp_state_format_line(const struct bsdp_binding *b, char *out, size_t size);

struct bsdp_state_load_result {
	size_t loaded;   /* entries put into the bindings */
	size_t bad;      /* lines rejected (each reported) */
};

/* Loads every good line into b, each as more recent than the lines before
 * it (a later line for the same MAC replaces an earlier one); reports each
 * bad one. Returns 0 (even with
 * bad lines), -ENOENT when there is no file yet, or -errno when it cannot be
 * read at all. */
int bsdp_state_load(const char *path, struct bsdp_bindings *b, bsdp_state_report_fn report,
		    void *ctx, struct bsdp_state_load_result *ret);

/* Keeps a damaged file as "<path>.damaged-<unix time>" too (a hard link; a
 * rename where the filesystem has none), so that path stays in place until
 * a save replaces it; the new name goes into aside. 0 or -errno. */
int bsdp_state_set_aside(const char *path, int64_t now, char *aside, size_t aside_size);

/* Writes every binding to path atomically (a unique temporary file in the
 * same folder, then rename), least recent first. 0 or -errno (the old file
 * is then untouched). */
int bsdp_state_save(const char *path, struct bsdp_bindings *b);
/* The same for n entries given (in that order): the one writer of this
 * format, also for the bindings database's spill file. */
int bsdp_state_save_entries(const char *path, const struct bsdp_binding *entries, size_t n);

struct bsdp_state_writer;
/* Starts a thread that saves within interval_ms of any change made to b
 * after the start (never merely because it started). NULL on failure.
 * Errors are reported (once until the next success). */
struct bsdp_state_writer *bsdp_state_writer_start(const char *path, struct bsdp_bindings *b,
						  unsigned interval_ms, bsdp_state_report_fn report,
						  void *ctx);
/* Asks for a save at the next wake-up even if nothing changed. */
void bsdp_state_writer_request_save(struct bsdp_state_writer *w);
/* Told once, on the writer's thread, how setting a damaged file aside went:
 * aside is its new name (err 0), or NULL with err = -errno. */
typedef void (*bsdp_state_aside_fn)(void *ctx, const char *path, const char *aside, int err);
/* The file at path is damaged: the writer's first save sets it aside
 * (bsdp_state_set_aside, at that save's time) just before replacing it, and
 * calls fn. Until something changes, the file stays as it is: loading and
 * unloading alone never write (kea-dhcp4 -T loads the library as a check
 * while a server may own the file). */
void bsdp_state_writer_set_aside_first(struct bsdp_state_writer *w, bsdp_state_aside_fn fn,
				       void *ctx);
/* Saves made so far (a burst of changes must cost one). */
unsigned long bsdp_state_writer_saves(struct bsdp_state_writer *w);
/* Saves tried so far, failed ones too (each copies the table). A failed
 * save is tried again after a pause that doubles at each failure, from the
 * interval up to 30 s, and is none again after a success. */
unsigned long bsdp_state_writer_attempts(struct bsdp_state_writer *w);
/* Saves what is pending (nothing when nothing changed since start and no
 * save was asked for), stops and frees the writer. */
void bsdp_state_writer_stop(struct bsdp_state_writer *w);

#ifdef __cplusplus
}
#endif
#endif
