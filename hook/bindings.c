/* SPDX-License-Identifier: MPL-2.0 */
#include "hook/bindings.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "hook/siphash.h"

/* Entries live in a fixed array and never move, so a doubly linked list
 * through their indices keeps them in recency order: the head is the one
 * to evict, in O(1). A separate open-addressing index (linear probing,
 * backward-shift deletion, at most half full) finds a MAC's entry.
 *
 * Clients choose their MACs, and linear probing costs the length of the
 * run of occupied slots a MAC's home slot falls in; so the home comes from
 * SipHash under a secret key (unknown MACs spread as random ones do), and
 * no run may grow beyond BSDP_BINDINGS_RUN_MAX slots: the insert that would
 * make one re-keys the index and rebuilds it. Every lookup, insert and
 * removal then probes at most BSDP_BINDINGS_RUN_MAX slots, whatever MACs
 * came. Half full under a random key, the longest run is typically 30 to
 * 40 slots at 2^17 slots and about 50 at 2^22 (simulated); the share of
 * runs that long shrinks about 19-fold per 16 slots more, so a run past
 * 128 takes on the order of 10^12 inserts: re-keying is a defence against
 * chosen MACs, not a cost of normal operation. */
#define NIL UINT32_MAX
/* Keys tried in one rebuild before it keeps the last (the next insert over
 * the limit tries again); each is as likely to fit as the first. */
#define REKEY_ATTEMPTS 4
#define NO_SHARED_COUNT UINT64_MAX

struct entry {
	struct bsdp_binding b;
	uint32_t prev, next;  /* recency list, or next free entry */
};

struct bsdp_bindings {
	pthread_mutex_t lock;
	struct entry *entries;
	uint32_t *index;      /* entry number + 1; 0 = empty slot */
	size_t mask;
	struct bsdp_siphash_key key;   /* the index's hash key */
	struct bsdp_siphash_key seed;  /* secret the next keys are derived from */
	unsigned longest_run; /* an insert's longest since the last keying;
			       * written under the lock, read atomically */
	uint64_t rekeys;      /* written under the lock, read atomically */
	size_t count;
	size_t capacity;
	uint32_t head, tail;  /* least and most recent */
	uint32_t free_list;   /* entries freed by erase() */
	uint32_t unused;      /* entries from here on were never used */
	uint32_t next_number;
	uint64_t generation;
	uint64_t evictions;   /* written under the lock, read atomically */
	uint64_t bound;       /* entries with an image: under the lock, read atomically */
	uint64_t shared_bound; /* the database's count, or NO_SHARED_COUNT; atomic */
	/* Journal of changes for a database writer: a ring, NULL when none. */
	struct bsdp_change *journal;
	size_t journal_capacity, journal_head, journal_length;
	bool journal_lost;
	uint64_t journal_overflowed;
	/* Machine number blocks from the database: [next, end) in use, then
	 * spares in a ring, taken in the order they came. */
	bool blocks;
	uint32_t block_next, block_end;
	struct { uint32_t first, end; } spare[BSDP_BINDINGS_SPARE_BLOCKS];
	unsigned spare_head, spares;
	uint64_t uncoordinated;
	int wake_fd;          /* told when a block is taken into use; -1: none */
	bool wake_due;
};

/* A MAC's home slot in the index. */
static size_t home_of(const struct bsdp_bindings *b, const uint8_t mac[6])
{
	return (size_t)bsdp_siphash24(b->key, mac, 6) & b->mask;
}

struct bsdp_bindings *bsdp_bindings_new(size_t capacity)
{
	uint8_t secret[2 * BSDP_SIPHASH_KEY_SIZE];
	if (!bsdp_siphash_secret(secret, sizeof(secret)))
		return NULL;
	struct bsdp_bindings *b = bsdp_bindings_new_keyed(capacity, secret);
	if (b)
		b->seed = bsdp_siphash_key(secret + BSDP_SIPHASH_KEY_SIZE);
	explicit_bzero(secret, sizeof(secret));
	return b;
}

struct bsdp_bindings *bsdp_bindings_new_keyed(size_t capacity,
					     const uint8_t key[BSDP_BINDINGS_KEY_SIZE])
{
	if (!key || capacity == 0 || capacity > BSDP_BINDINGS_CAPACITY_MAX) {
		errno = EINVAL;
		return NULL;
	}
	size_t size = 16;
	while (size < capacity * 2)
		size <<= 1;
	struct bsdp_bindings *b = calloc(1, sizeof(*b));
	if (!b) {
		errno = ENOMEM;
		return NULL;
	}
	b->entries = calloc(capacity, sizeof(*b->entries));
	b->index = calloc(size, sizeof(*b->index));
	if (!b->entries || !b->index || pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b->entries);
		free(b->index);
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	/* A given key also seeds the later ones: a test sees them repeat. */
	b->key = b->seed = bsdp_siphash_key(key);
	/* Entries are taken from the never-used end first, so a large table
	 * costs memory only as it fills (calloc's pages stay untouched). */
	b->free_list = NIL;
	b->head = b->tail = NIL;
	b->mask = size - 1;
	b->capacity = capacity;
	b->next_number = 1;
	b->wake_fd = -1;
	b->shared_bound = NO_SHARED_COUNT;
	return b;
}

void bsdp_bindings_free(struct bsdp_bindings *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->journal);
	free(b->entries);
	free(b->index);
	free(b);
}

/* The index slot holding mac, or the empty slot where it would go. */
static size_t slot_of(const struct bsdp_bindings *b, const uint8_t mac[6], bool *found)
{
	size_t i = home_of(b, mac);
	for (; b->index[i]; i = (i + 1) & b->mask)
		if (memcmp(b->entries[b->index[i] - 1].b.mac, mac, 6) == 0) {
			*found = true;
			return i;
		}
	*found = false;
	return i;
}

static struct entry *find(struct bsdp_bindings *b, const uint8_t mac[6])
{
	bool found;
	size_t i = slot_of(b, mac, &found);
	return found ? &b->entries[b->index[i] - 1] : NULL;
}

static void unlink_entry(struct bsdp_bindings *b, uint32_t e)
{
	struct entry *x = &b->entries[e];
	if (x->prev != NIL)
		b->entries[x->prev].next = x->next;
	else
		b->head = x->next;
	if (x->next != NIL)
		b->entries[x->next].prev = x->prev;
	else
		b->tail = x->prev;
}

static void link_tail(struct bsdp_bindings *b, uint32_t e)
{
	struct entry *x = &b->entries[e];
	x->prev = b->tail;
	x->next = NIL;
	if (b->tail != NIL)
		b->entries[b->tail].next = e;
	else
		b->head = e;
	b->tail = e;
}

/* Empties an index slot, pulling back later members of its run whose home
 * is not between the hole and their slot, so every run stays contiguous. */
static void unindex(struct bsdp_bindings *b, size_t hole)
{
	b->index[hole] = 0;
	for (size_t i = (hole + 1) & b->mask; b->index[i]; i = (i + 1) & b->mask) {
		size_t home = home_of(b, b->entries[b->index[i] - 1].b.mac);
		bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
		if (stays)
			continue;
		b->index[hole] = b->index[i];
		b->index[i] = 0;
		hole = i;
	}
}

/* An entry's image changes from was to now: the count of entries with an
 * image follows. Caller holds the lock. */
static void note_image(struct bsdp_bindings *b, uint32_t was, uint32_t now)
{
	if (!was != !now)
		__atomic_store_n(&b->bound, b->bound + (now ? 1 : (uint64_t)-1), __ATOMIC_RELAXED);
}

static void erase(struct bsdp_bindings *b, struct entry *x)
{
	note_image(b, x->b.image_id, 0);
	uint32_t e = (uint32_t)(x - b->entries);
	bool found;
	unindex(b, slot_of(b, x->b.mac, &found));
	unlink_entry(b, e);
	x->next = b->free_list;
	b->free_list = e;
	b->count--;
}

/* Lets go of the lock, then tells the writer a block was taken (one
 * syscall per block of numbers, outside the lock). */
static void unlock(struct bsdp_bindings *b)
{
	bool wake = b->wake_due;
	int fd = b->wake_fd;
	b->wake_due = false;
	pthread_mutex_unlock(&b->lock);
	if (wake && fd >= 0) {
		ssize_t w = write(fd, "", 1);
		(void)w;   /* a full pipe already wakes it */
	}
}

/* The oldest spare block, out of the ring. Caller holds the lock and has
 * checked b->spares. */
static struct bsdp_number_block take_spare(struct bsdp_bindings *b)
{
	unsigned at = b->spare_head;
	b->spare_head = (at + 1) % BSDP_BINDINGS_SPARE_BLOCKS;
	b->spares--;
	return (struct bsdp_number_block){ b->spare[at].first, b->spare[at].end - b->spare[at].first };
}

/* A machine number never handed out before: from the database's blocks
 * once they are in use (the spare becomes the current block when that runs
 * out), else the table's own counter. Caller holds the lock. */
static uint32_t take_number(struct bsdp_bindings *b)
{
	if (b->blocks) {
		if (b->block_next == b->block_end)
			b->wake_due = true;
		if (b->block_next == b->block_end && b->spares) {
			struct bsdp_number_block next = take_spare(b);
			b->block_next = next.first;
			b->block_end = next.first + next.count;
		}
		if (b->block_next != b->block_end)
			return b->block_next++;
		b->uncoordinated++;
	}
	return b->next_number++;
}

/* The length of the run of occupied slots through slot, counted only up
 * to limit + 1 (whether it is over is all an insert needs to know), so
 * this probes at most limit + 1 slots. */
static unsigned run_through(const struct bsdp_bindings *b, size_t slot, unsigned limit)
{
	unsigned n = 1;
	for (size_t i = (slot - 1) & b->mask; n <= limit && b->index[i]; i = (i - 1) & b->mask)
		n++;
	for (size_t i = (slot + 1) & b->mask; n <= limit && b->index[i]; i = (i + 1) & b->mask)
		n++;
	return n;
}

/* Puts entry e, whose MAC the index does not hold, in the first empty slot
 * from its home (no MAC to compare on the way, so a rebuild reads no other
 * entry); false when that made a run longer than BSDP_BINDINGS_RUN_MAX. */
static bool index_entry(struct bsdp_bindings *b, uint32_t e)
{
	size_t slot = home_of(b, b->entries[e].b.mac);
	while (b->index[slot])
		slot = (slot + 1) & b->mask;
	b->index[slot] = e + 1;
	unsigned run = run_through(b, slot, BSDP_BINDINGS_RUN_MAX);
	if (run > b->longest_run)
		__atomic_store_n(&b->longest_run, run, __ATOMIC_RELAXED);
	return run <= BSDP_BINDINGS_RUN_MAX;
}

/* A new key, derived from the secret seed (no system call under the lock,
 * nothing to fail), and every entry indexed again under it: O(count), and
 * only when a run grew past the limit, which a random key practically
 * never lets happen; so whoever chose the MACs of that run, they now
 * spread. Caller holds the lock. */
static void rekey(struct bsdp_bindings *b)
{
	for (int attempt = 0; attempt < REKEY_ATTEMPTS; attempt++) {
		uint64_t n = __atomic_add_fetch(&b->rekeys, 1, __ATOMIC_RELAXED);
		uint64_t words[2][2] = { { n, 0 }, { n, 1 } };
		b->key.k0 = bsdp_siphash24(b->seed, words[0], sizeof(words[0]));
		b->key.k1 = bsdp_siphash24(b->seed, words[1], sizeof(words[1]));
		memset(b->index, 0, (b->mask + 1) * sizeof(*b->index));
		__atomic_store_n(&b->longest_run, 0, __ATOMIC_RELAXED);
		bool fits = true;
		for (uint32_t e = b->head; e != NIL; e = b->entries[e].next)
			fits &= index_entry(b, e);
		if (fits)
			return;
	}
}

/* Caller holds the lock; counts the eviction when the table is full. */
static struct entry *insert(struct bsdp_bindings *b, const uint8_t mac[6], uint32_t number)
{
	if (b->count >= b->capacity) {
		erase(b, &b->entries[b->head]);
		__atomic_add_fetch(&b->evictions, 1, __ATOMIC_RELAXED);
	}
	uint32_t e = b->free_list != NIL ? b->free_list : b->unused++;
	struct entry *x = &b->entries[e];
	if (e == b->free_list)
		b->free_list = x->next;
	x->b = (struct bsdp_binding){ .number = number ? number : take_number(b) };
	memcpy(x->b.mac, mac, 6);
	link_tail(b, e);
	b->count++;
	if (!index_entry(b, e))
		rekey(b);
	return x;
}

/* Moves an entry to the most recent end, inserting it when absent. */
static struct entry *touch(struct bsdp_bindings *b, const uint8_t mac[6], uint32_t number)
{
	struct entry *x = find(b, mac);
	if (!x)
		return insert(b, mac, number);
	uint32_t e = (uint32_t)(x - b->entries);
	if (e != b->tail) {
		unlink_entry(b, e);
		link_tail(b, e);
	}
	if (number)
		x->b.number = number;
	return x;
}

static void note_number(struct bsdp_bindings *b, uint32_t number)
{
	/* The counter never reaches UINT32_MAX (no machine number: apply
	 * refuses it) nor wraps to 0. */
	if (number >= b->next_number && number < UINT32_MAX - 1)
		b->next_number = number + 1;
}

/* Caller holds the lock. A full journal keeps its older changes and
 * remembers that it lost some: the writer then writes the whole table. */
static void journal(struct bsdp_bindings *b, const struct bsdp_binding *entry, bool removed)
{
	if (!b->journal)
		return;
	if (b->journal_length == b->journal_capacity) {
		b->journal_lost = true;
		b->journal_overflowed++;
		return;
	}
	size_t at = (b->journal_head + b->journal_length) % b->journal_capacity;
	b->journal[at] = (struct bsdp_change){ .b = *entry, .removed = removed };
	b->journal_length++;
}

int bsdp_bindings_lookup(struct bsdp_bindings *b, const uint8_t mac[6], struct bsdp_binding *ret)
{
	if (!b || !mac)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct entry *x = find(b, mac);
	if (x && ret)
		*ret = x->b;
	pthread_mutex_unlock(&b->lock);
	return x ? 0 : -ENOENT;
}

uint32_t bsdp_bindings_number(struct bsdp_bindings *b, const uint8_t mac[6])
{
	if (!b || !mac)
		return 0;
	pthread_mutex_lock(&b->lock);
	struct entry *x = find(b, mac);
	uint32_t number = x ? x->b.number : take_number(b);
	unlock(b);
	return number;
}

int bsdp_bindings_record(struct bsdp_bindings *b, const uint8_t mac[6], uint32_t image_id,
			 int64_t now, uint32_t number, struct bsdp_binding *ret)
{
	if (!b || !mac)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct entry *x = touch(b, mac, number);
	note_number(b, x->b.number);
	note_image(b, x->b.image_id, image_id);
	x->b.image_id = image_id;
	x->b.time = now;
	b->generation++;
	journal(b, &x->b, false);
	if (ret)
		*ret = x->b;
	unlock(b);
	return 0;
}

int bsdp_bindings_forget(struct bsdp_bindings *b, const uint8_t mac[6], int64_t now)
{
	if (!b || !mac)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct entry *x = find(b, mac);
	if (x && x->b.image_id) {
		note_image(b, x->b.image_id, 0);
		x->b.image_id = 0;
		/* Just after the selection it forgets, so it wins over that one
		 * and loses to (or ties with: a selection wins) any the server
		 * the SELECT named records, when that server shares our
		 * bindings-database: not our clock's now, which a second turned
		 * or a clock ahead of that server's puts after its record. */
		if (now > x->b.time)
			x->b.time++;
		b->generation++;
		journal(b, &x->b, false);
	}
	pthread_mutex_unlock(&b->lock);
	return x ? 0 : -ENOENT;
}

int bsdp_bindings_put(struct bsdp_bindings *b, const struct bsdp_binding *entry)
{
	if (!b || !entry)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct entry *x = touch(b, entry->mac, entry->number);
	uint32_t number = x->b.number;
	note_image(b, x->b.image_id, entry->image_id);
	x->b = *entry;
	x->b.number = number;
	note_number(b, number);
	b->generation++;
	journal(b, &x->b, false);
	unlock(b);
	return 0;
}

int bsdp_bindings_remove(struct bsdp_bindings *b, const uint8_t mac[6])
{
	if (!b || !mac)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct entry *x = find(b, mac);
	if (x) {
		/* A deletion has a time of its own, just after the selection it
		 * deletes: it wins over that one (and another server's write at
		 * the same time), never over a later one. */
		struct bsdp_binding gone = x->b;
		gone.time = x->b.time < INT64_MAX ? x->b.time + 1 : INT64_MAX;
		journal(b, &gone, true);
		erase(b, x);
		b->generation++;
	}
	pthread_mutex_unlock(&b->lock);
	return x ? 0 : -ENOENT;
}

int bsdp_bindings_copy(struct bsdp_bindings *b, struct bsdp_binding **ret_entries, size_t *ret_count)
{
	if (!b || !ret_entries || !ret_count)
		return -EINVAL;
	*ret_entries = NULL;
	*ret_count = 0;
	/* Allocate outside the lock with some room for growth; the last try
	 * sizes for the whole capacity, which the table never exceeds. */
	size_t room = bsdp_bindings_count(b);
	for (int attempt = 0;; attempt++) {
		room = attempt < 2 ? room + room / 8 + 16 : b->capacity;
		if (room > b->capacity)
			room = b->capacity;
		struct bsdp_binding *all = malloc(room * sizeof(*all));
		if (!all)
			return -ENOMEM;
		pthread_mutex_lock(&b->lock);
		size_t n = b->count;
		if (n <= room) {
			size_t i = 0;
			for (uint32_t e = b->head; e != NIL; e = b->entries[e].next)
				all[i++] = b->entries[e].b;
		}
		pthread_mutex_unlock(&b->lock);
		if (n <= room) {
			if (n == 0) {
				free(all);
				all = NULL;
			}
			*ret_entries = all;
			*ret_count = n;
			return 0;
		}
		free(all);
		room = n;
	}
}

size_t bsdp_bindings_count(struct bsdp_bindings *b)
{
	if (!b)
		return 0;
	pthread_mutex_lock(&b->lock);
	size_t n = b->count;
	pthread_mutex_unlock(&b->lock);
	return n;
}

uint64_t bsdp_bindings_evictions(const struct bsdp_bindings *b)
{
	return b ? __atomic_load_n(&b->evictions, __ATOMIC_RELAXED) : 0;
}

size_t bsdp_bindings_home(struct bsdp_bindings *b, const uint8_t mac[6])
{
	if (!b || !mac)
		return 0;
	pthread_mutex_lock(&b->lock);
	size_t home = home_of(b, mac);
	pthread_mutex_unlock(&b->lock);
	return home;
}

unsigned bsdp_bindings_longest_run(const struct bsdp_bindings *b)
{
	return b ? __atomic_load_n(&b->longest_run, __ATOMIC_RELAXED) : 0;
}

uint64_t bsdp_bindings_rekeys(const struct bsdp_bindings *b)
{
	return b ? __atomic_load_n(&b->rekeys, __ATOMIC_RELAXED) : 0;
}

uint64_t bsdp_bindings_generation(struct bsdp_bindings *b)
{
	if (!b)
		return 0;
	pthread_mutex_lock(&b->lock);
	uint64_t g = b->generation;
	pthread_mutex_unlock(&b->lock);
	return g;
}

int bsdp_bindings_journal(struct bsdp_bindings *b, size_t capacity)
{
	if (!b || capacity == 0 || capacity > BSDP_BINDINGS_CAPACITY_MAX)
		return -EINVAL;
	struct bsdp_change *ring = calloc(capacity, sizeof(*ring));
	if (!ring)
		return -ENOMEM;
	pthread_mutex_lock(&b->lock);
	bool attached = b->journal == NULL;
	if (attached) {
		b->journal = ring;
		b->journal_capacity = capacity;
	}
	pthread_mutex_unlock(&b->lock);
	if (!attached) {
		free(ring);
		return -EEXIST;
	}
	return 0;
}

size_t bsdp_bindings_drain(struct bsdp_bindings *b, struct bsdp_change *out, size_t max,
			   bool *ret_lost, uint64_t *ret_overflowed)
{
	if (!b || (!out && max))
		return 0;
	pthread_mutex_lock(&b->lock);
	size_t n = b->journal_length < max ? b->journal_length : max;
	for (size_t i = 0; i < n; i++)
		out[i] = b->journal[(b->journal_head + i) % b->journal_capacity];
	if (n) {
		b->journal_head = (b->journal_head + n) % b->journal_capacity;
		b->journal_length -= n;
	}
	if (ret_lost)
		*ret_lost = b->journal_lost;
	if (ret_overflowed)
		*ret_overflowed += b->journal_overflowed;
	b->journal_lost = false;
	b->journal_overflowed = 0;
	pthread_mutex_unlock(&b->lock);
	return n;
}

size_t bsdp_bindings_pending(struct bsdp_bindings *b)
{
	if (!b)
		return 0;
	pthread_mutex_lock(&b->lock);
	size_t n = b->journal_length;
	pthread_mutex_unlock(&b->lock);
	return n;
}

int bsdp_bindings_apply(struct bsdp_bindings *b, const struct bsdp_change *change, bool force)
{
	if (!b || !change || !change->b.number || change->b.number == UINT32_MAX)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct entry *x = find(b, change->b.mac);
	int applied = 0;
	if (change->removed) {
		/* A deletion wins only over older writes (as the database's
		 * upsert decides). */
		if (x && (force || x->b.time < change->b.time)) {
			erase(b, x);
			applied = 1;
		}
	} else if (!x || force || change->b.time > x->b.time ||
		   (change->b.time == x->b.time && !(x->b.image_id && !change->b.image_id) &&
		    (change->b.image_id != x->b.image_id || change->b.number != x->b.number))) {
		/* At the same time the database's row is the later write, but
		 * for a forget over a selection: that selection was recorded by
		 * the server the Mac's SELECT named, the forget by a server that
		 * saw the same SELECT (as the database's upsert decides). */
		x = touch(b, change->b.mac, change->b.number);
		note_image(b, x->b.image_id, change->b.image_id);
		x->b = change->b;
		note_number(b, change->b.number);
		applied = 1;
	}
	if (applied)
		b->generation++;
	pthread_mutex_unlock(&b->lock);
	return applied;
}

void bsdp_bindings_use_blocks(struct bsdp_bindings *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->blocks = true;
	pthread_mutex_unlock(&b->lock);
}

bool bsdp_bindings_add_block(struct bsdp_bindings *b, uint32_t first, uint32_t count)
{
	if (!b || !first || !count || first > UINT32_MAX - count)
		return false;
	pthread_mutex_lock(&b->lock);
	bool taken = b->spares < BSDP_BINDINGS_SPARE_BLOCKS;
	if (taken) {
		unsigned at = (b->spare_head + b->spares++) % BSDP_BINDINGS_SPARE_BLOCKS;
		b->spare[at].first = first;
		b->spare[at].end = first + count;
	}
	pthread_mutex_unlock(&b->lock);
	return taken;
}

void bsdp_bindings_wake_on_block(struct bsdp_bindings *b, int fd)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->wake_fd = fd;
	pthread_mutex_unlock(&b->lock);
}

unsigned bsdp_bindings_spares(struct bsdp_bindings *b)
{
	if (!b)
		return 0;
	pthread_mutex_lock(&b->lock);
	unsigned n = b->spares;
	pthread_mutex_unlock(&b->lock);
	return n;
}

size_t bsdp_bindings_return_blocks(struct bsdp_bindings *b, struct bsdp_number_block *out,
				   size_t max)
{
	if (!b || !out)
		return 0;
	size_t n = 0;
	pthread_mutex_lock(&b->lock);
	if (b->block_next != b->block_end && n < max) {
		out[n++] = (struct bsdp_number_block){ b->block_next, b->block_end - b->block_next };
		b->block_next = b->block_end = 0;
	}
	while (b->spares && n < max)
		out[n++] = take_spare(b);
	pthread_mutex_unlock(&b->lock);
	return n;
}

uint64_t bsdp_bindings_uncoordinated(struct bsdp_bindings *b)
{
	if (!b)
		return 0;
	pthread_mutex_lock(&b->lock);
	uint64_t n = b->uncoordinated;
	pthread_mutex_unlock(&b->lock);
	return n;
}

/* ---- Pages in MAC order (bsdp-bindings-list) -------------------------- */

/* Entries looked at per hold of the lock: a page reads the whole entry
 * array, but only this many entries between letting the lock go, so a
 * packet thread waits for at most one chunk, whatever the table's size. */
#define PAGE_CHUNK 4096
#define PAGE_YIELD_NS 1000000L

static bool mac_above(const struct bsdp_binding *a, const struct bsdp_binding *b)
{
	return memcmp(a->mac, b->mac, 6) > 0;
}

/* h[0..n) is a max-heap on MAC: h[0] is the largest MAC kept so far. */
static void page_sift_up(struct bsdp_binding *h, size_t i)
{
	while (i > 0 && mac_above(&h[i], &h[(i - 1) / 2])) {
		struct bsdp_binding t = h[i];
		h[i] = h[(i - 1) / 2];
		h[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static void page_sift_down(struct bsdp_binding *h, size_t n, size_t i)
{
	for (;;) {
		size_t big = i, l = 2 * i + 1, r = l + 1;
		if (l < n && mac_above(&h[l], &h[big]))
			big = l;
		if (r < n && mac_above(&h[r], &h[big]))
			big = r;
		if (big == i)
			return;
		struct bsdp_binding t = h[i];
		h[i] = h[big];
		h[big] = t;
		i = big;
	}
}

/* Keeps the entries of chunk [start, end) that belong among the limit
 * smallest MACs above from. Caller holds the lock. */
static void page_scan_chunk(struct bsdp_bindings *b, size_t start, size_t end, const uint8_t *from,
			   struct bsdp_binding *out, size_t limit, size_t *n)
{
	for (size_t e = start; e < end; e++) {
		struct entry *x = &b->entries[e];
		if (from && memcmp(x->b.mac, from, 6) <= 0)
			continue;
		if (*n == limit && !mac_above(&out[0], &x->b))
			continue;
		/* A freed entry keeps its old MAC: live only when the index
		 * leads to this very entry. */
		if (find(b, x->b.mac) != x)
			continue;
		if (*n < limit) {
			out[*n] = x->b;
			page_sift_up(out, (*n)++);
		} else {
			out[0] = x->b;
			page_sift_down(out, limit, 0);
		}
	}
}

/* Consistency: the entry array is read in chunks, each under the lock, so
 * every entry returned is whole and was held when its chunk was read, but
 * the page is no snapshot. An entry never moves while its MAC is held, so
 * a MAC held from the start to the end of the call is read exactly once
 * and is returned if it is among the limit smallest above from. A MAC
 * added or removed meanwhile may be missing or present; one removed and
 * added again into a later chunk is read twice and returned once (the
 * later time). Pages are strictly ascending and above from, so a walk
 * that passes each page's last MAC as the next from never repeats a MAC
 * and sees every MAC held throughout the walk. */
size_t bsdp_bindings_page(struct bsdp_bindings *b, const uint8_t from[6], struct bsdp_binding *out,
			  size_t limit, size_t *ret_total)
{
	if (ret_total)
		*ret_total = 0;
	if (!b || !out || limit == 0)
		return 0;
	size_t n = 0;
	struct timespec yielded;
	clock_gettime(CLOCK_MONOTONIC, &yielded);
	for (size_t start = 0;; start += PAGE_CHUNK) {
		pthread_mutex_lock(&b->lock);
		size_t used = b->unused;   /* entries at or past it were never used */
		if (start >= used) {
			if (ret_total)
				*ret_total = b->count;
			pthread_mutex_unlock(&b->lock);
			break;
		}
		size_t end = used - start > PAGE_CHUNK ? start + PAGE_CHUNK : used;
		page_scan_chunk(b, start, end, from, out, limit, &n);
		pthread_mutex_unlock(&b->lock);
		/* A mutex let go is most often taken back at once by the same
		 * thread: give the packet threads waiting on it their turn, but
		 * at most once a millisecond, as each yield may cost a time
		 * slice on a busy machine and this runs on Kea's main thread. */
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if ((now.tv_sec - yielded.tv_sec) * 1000000000L + (now.tv_nsec - yielded.tv_nsec) >=
		    PAGE_YIELD_NS) {
			sched_yield();
			yielded = now;
		}
	}
	/* Heap to ascending order, then one copy of each MAC. */
	for (size_t k = n; k > 1; k--) {
		struct bsdp_binding t = out[0];
		out[0] = out[k - 1];
		out[k - 1] = t;
		page_sift_down(out, k - 1, 0);
	}
	size_t kept = 0;
	for (size_t k = 0; k < n; k++) {
		if (kept && memcmp(out[kept - 1].mac, out[k].mac, 6) == 0) {
			if (out[k].time >= out[kept - 1].time)
				out[kept - 1] = out[k];
			continue;
		}
		out[kept++] = out[k];
	}
	return kept;
}

uint64_t bsdp_bindings_bound(const struct bsdp_bindings *b)
{
	return b ? __atomic_load_n(&b->bound, __ATOMIC_RELAXED) : 0;
}

void bsdp_bindings_share_bound(struct bsdp_bindings *b, bool known, uint64_t count)
{
	if (b)
		__atomic_store_n(&b->shared_bound, known && count != NO_SHARED_COUNT ? count :
				 NO_SHARED_COUNT, __ATOMIC_RELAXED);
}

uint64_t bsdp_bindings_load(const struct bsdp_bindings *b)
{
	if (!b)
		return 0;
	uint64_t shared = __atomic_load_n(&b->shared_bound, __ATOMIC_RELAXED);
	return shared != NO_SHARED_COUNT ? shared : bsdp_bindings_bound(b);
}
