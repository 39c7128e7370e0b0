/* SPDX-License-Identifier: MPL-2.0 */
/* Remembered selections: MAC -> image id, time, machine number. A fixed
 * table sized once, guarded by a mutex; no allocation per packet, and no
 * operation under the lock that scans the table (eviction is O(1)). */
#ifndef BSDP_BINDINGS_H
#define BSDP_BINDINGS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bsdp_binding {
	uint8_t mac[6];
	uint32_t image_id;   /* 0 = none (forgotten; the number stays the MAC's) */
	int64_t time;        /* seconds since the epoch of the last SELECT */
	uint32_t number;     /* machine number, 1.. */
};

#define BSDP_BINDINGS_CAPACITY_MAX (1u << 24)

struct bsdp_bindings;

/* capacity (1 .. BSDP_BINDINGS_CAPACITY_MAX): most MACs remembered; beyond
 * it the least recently recorded entry is reused. NULL on allocation
 * failure or a capacity out of range. */
struct bsdp_bindings *bsdp_bindings_new(size_t capacity);
void bsdp_bindings_free(struct bsdp_bindings *b);

/* 0 and *ret, or -ENOENT. */
int bsdp_bindings_lookup(struct bsdp_bindings *b, const uint8_t mac[6], struct bsdp_binding *ret);
/* The MAC's machine number when it has one, else a fresh number reserved
 * for it (pass it to bsdp_bindings_record). A number reserved for a reply
 * that is then dropped is never handed out again. 0 on bad arguments. */
uint32_t bsdp_bindings_number(struct bsdp_bindings *b, const uint8_t mac[6]);
/* Records a SELECT with the MAC's machine number (0 = keep the MAC's own,
 * or take a fresh one), making it the most recent entry. ret may be NULL. */
int bsdp_bindings_record(struct bsdp_bindings *b, const uint8_t mac[6], uint32_t image_id,
			 int64_t now, uint32_t number, struct bsdp_binding *ret);
/* Forgets the image of a MAC (it selected another server); keeps its number. */
int bsdp_bindings_forget(struct bsdp_bindings *b, const uint8_t mac[6]);
/* Inserts or replaces a whole entry (state file, commands) as the most
 * recent one. */
int bsdp_bindings_put(struct bsdp_bindings *b, const struct bsdp_binding *entry);
/* Removes a MAC entirely. 0 or -ENOENT. */
int bsdp_bindings_remove(struct bsdp_bindings *b, const uint8_t mac[6]);
/* Copies every entry, least recent first, under one hold of the lock into
 * a new array of exactly *ret_count entries (free() it; NULL when there are
 * none). 0, or -ENOMEM. */
int bsdp_bindings_copy(struct bsdp_bindings *b, struct bsdp_binding **ret_entries, size_t *ret_count);
/* Entries held now. */
size_t bsdp_bindings_count(struct bsdp_bindings *b);
/* Entries pushed out to make room so far; read without the lock. */
uint64_t bsdp_bindings_evictions(const struct bsdp_bindings *b);
/* Increments on every change; lets a writer tell whether to save. */
uint64_t bsdp_bindings_generation(struct bsdp_bindings *b);

#ifdef __cplusplus
}
#endif
#endif
