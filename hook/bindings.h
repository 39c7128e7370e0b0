/* SPDX-License-Identifier: MPL-2.0 */
/* Remembered selections: MAC -> image id, time, machine number. A fixed
 * table sized once, guarded by a mutex; no allocation per packet. */
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

struct bsdp_bindings;

/* capacity: most MACs remembered; the least recently selected is reused
 * beyond it. NULL on allocation failure. */
struct bsdp_bindings *bsdp_bindings_new(size_t capacity);
void bsdp_bindings_free(struct bsdp_bindings *b);

/* 0 and *ret, or -ENOENT. */
int bsdp_bindings_lookup(struct bsdp_bindings *b, const uint8_t mac[6], struct bsdp_binding *ret);
/* Records a SELECT; a new MAC gets the next machine number. ret may be NULL. */
int bsdp_bindings_record(struct bsdp_bindings *b, const uint8_t mac[6], uint32_t image_id,
			 int64_t now, struct bsdp_binding *ret);
/* Forgets the image of a MAC (it selected another server); keeps its number. */
int bsdp_bindings_forget(struct bsdp_bindings *b, const uint8_t mac[6]);
/* Inserts or replaces a whole entry (state file, commands). */
int bsdp_bindings_put(struct bsdp_bindings *b, const struct bsdp_binding *entry);
/* Removes a MAC entirely. 0 or -ENOENT. */
int bsdp_bindings_remove(struct bsdp_bindings *b, const uint8_t mac[6]);
/* Copies up to max entries (any order) into out; returns the total count. */
size_t bsdp_bindings_snapshot(struct bsdp_bindings *b, struct bsdp_binding *out, size_t max);
/* Increments on every change; lets a writer tell whether to save. */
uint64_t bsdp_bindings_generation(struct bsdp_bindings *b);

#ifdef __cplusplus
}
#endif
#endif
