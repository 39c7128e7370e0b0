/* SPDX-License-Identifier: MPL-2.0 */
/* Remembered selections: MAC -> image id, time, machine number. A fixed
 * table sized once, guarded by a mutex; no allocation per packet, and no
 * operation under the lock that scans the table (eviction is O(1)), but
 * for a re-key of the MAC index (below), which MACs chosen without its
 * secret key cannot force. */
#ifndef BSDP_BINDINGS_H
#define BSDP_BINDINGS_H

#include <stdbool.h>
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
 * it the least recently recorded entry is reused. The MAC index is keyed
 * with a secret from getrandom(). NULL and errno on allocation failure
 * (ENOMEM), a capacity out of range (EINVAL) or no random secret
 * (getrandom's errno): never a guessable key. */
struct bsdp_bindings *bsdp_bindings_new(size_t capacity);
/* The same with the index keyed by key (re-keys derive from it too), for
 * tests that must know which MACs share a slot. */
#define BSDP_BINDINGS_KEY_SIZE 16
struct bsdp_bindings *bsdp_bindings_new_keyed(size_t capacity,
					     const uint8_t key[BSDP_BINDINGS_KEY_SIZE]);
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
/* Forgets the image of a MAC (its SELECT at now named another server);
 * keeps its number. The entry's time becomes one second after the
 * selection forgotten (unchanged if now is not later). */
int bsdp_bindings_forget(struct bsdp_bindings *b, const uint8_t mac[6], int64_t now);
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
/* Entries holding an image (a selection, not forgotten); read without the
 * lock. */
uint64_t bsdp_bindings_bound(const struct bsdp_bindings *b);
/* The server's load for "server-priority": "load": the count a bindings
 * database last published (every server's selections), else
 * bsdp_bindings_bound. Read without the lock, no allocation. */
uint64_t bsdp_bindings_load(const struct bsdp_bindings *b);
/* Publishes the database's count (known), or withdraws it (!known: the
 * database is unreachable, the table's own count stands in). */
void bsdp_bindings_share_bound(struct bsdp_bindings *b, bool known, uint64_t count);
/* Entries pushed out to make room so far; read without the lock. */
uint64_t bsdp_bindings_evictions(const struct bsdp_bindings *b);
/* The MAC index probes linearly from a MAC's home slot. No run of
 * occupied slots is let grow beyond BSDP_BINDINGS_RUN_MAX: the insert that
 * would make one re-keys the index (a new secret) and rebuilds it, so no
 * operation probes more slots than that, whatever MACs arrive. */
#define BSDP_BINDINGS_RUN_MAX 128
/* The MAC's home slot under the index's key now (for tests). */
size_t bsdp_bindings_home(struct bsdp_bindings *b, const uint8_t mac[6]);
/* The longest run an insert made since the index was last keyed (capped
 * at BSDP_BINDINGS_RUN_MAX + 1: longer is never measured); read without
 * the lock. */
unsigned bsdp_bindings_longest_run(const struct bsdp_bindings *b);
/* Re-keys so far (a statistic: stays 0 unless MACs were chosen to collide,
 * or astronomically bad luck); read without the lock. */
uint64_t bsdp_bindings_rekeys(const struct bsdp_bindings *b);
/* Increments on every change; lets a writer tell whether to save. */
uint64_t bsdp_bindings_generation(struct bsdp_bindings *b);

/* ---- Sharing with other servers (a bindings database) ----------------
 * Every change made through record, forget, put and remove is then also
 * appended to a journal (a ring of fixed size, allocated here once), which
 * a database writer drains off the packet path. Evictions are not changes:
 * the table only forgets what it has no room for. */
struct bsdp_change {
	struct bsdp_binding b;
	uint8_t removed;     /* bsdp-binding-del: the entry is gone */
};

/* Attaches a journal of capacity changes (1..BSDP_BINDINGS_CAPACITY_MAX).
 * 0, -EINVAL, -EEXIST or -ENOMEM. */
int bsdp_bindings_journal(struct bsdp_bindings *b, size_t capacity);
/* Moves up to max changes, oldest first, into out; returns how many. When
 * the journal overflowed since the last drain, *ret_lost is set (the
 * caller then writes the whole table, bsdp_bindings_copy) and the count
 * of changes that did not fit is added to *ret_overflowed. */
size_t bsdp_bindings_drain(struct bsdp_bindings *b, struct bsdp_change *out, size_t max,
			   bool *ret_lost, uint64_t *ret_overflowed);
/* Changes waiting in the journal. */
size_t bsdp_bindings_pending(struct bsdp_bindings *b);
/* A change another server made (read from the database): applied as put
 * or remove would, with the entry's own machine number, but not journaled.
 * An entry older (time) than the one held, or the same, is ignored unless
 * force is set; a removal applies only to an entry older than it (a
 * removal's time is just after the selection it removed; the journal
 * carries it), a forget (image 0) never over a selection of its time.
 * 1 when applied, 0 when ignored, or -EINVAL (number 0 or 4294967295, no
 * machine number). */
int bsdp_bindings_apply(struct bsdp_bindings *b, const struct bsdp_change *change, bool force);

/* Machine numbers unique across servers: once blocks are in use, fresh
 * numbers come only from blocks [first, first + count) handed in by the
 * database writer (one in use, up to BSDP_BINDINGS_SPARE_BLOCKS spares, so
 * a burst of new Macs does not wait for the writer). When all run out, the
 * table falls back to its own counter and counts each such number as
 * uncoordinated (the writer renumbers it if another server holds it). */
#define BSDP_BINDINGS_SPARE_BLOCKS 256
void bsdp_bindings_use_blocks(struct bsdp_bindings *b);
/* Offers a block; false when the spares are full (offer it later). */
bool bsdp_bindings_add_block(struct bsdp_bindings *b, uint32_t first, uint32_t count);
/* What is left of the block in use (the part not handed out) and every
 * spare, into out (at most max), emptied here: a server that stops gives
 * them back to the database for the next one. Returns how many. */
struct bsdp_number_block {
	uint32_t first, count;
};
size_t bsdp_bindings_return_blocks(struct bsdp_bindings *b, struct bsdp_number_block *out,
				   size_t max);
/* From now on a byte is written to fd (non-blocking, after the lock is
 * let go) each time a spare block is taken into use or the numbers ran out:
 * the database writer tops up at once instead of at its next round. */
void bsdp_bindings_wake_on_block(struct bsdp_bindings *b, int fd);
/* Spare blocks held now (not counting the one in use). */
unsigned bsdp_bindings_spares(struct bsdp_bindings *b);
/* Numbers handed out without a block so far. */
uint64_t bsdp_bindings_uncoordinated(struct bsdp_bindings *b);

/* A page of the table in MAC order: up to limit entries (into out, which
 * holds limit) whose MAC is above from (NULL: from the lowest), ascending,
 * and the entries held, in *ret_total (may be NULL). Reads the table in
 * bounded chunks, letting the lock go between them: see bindings.c for
 * what a page guarantees while the table changes. Returns how many. */
size_t bsdp_bindings_page(struct bsdp_bindings *b, const uint8_t from[6], struct bsdp_binding *out,
			  size_t limit, size_t *ret_total);

#ifdef __cplusplus
}
#endif
#endif
