/* SPDX-License-Identifier: MPL-2.0 */
#include "hook/bindings.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Open addressing with linear probing and backward-shift deletion: no
 * tombstones, so lookups stay short however many MACs come and go. The
 * table is at most half full. */
struct slot {
	bool used;
	struct bsdp_binding b;
};

struct bsdp_bindings {
	pthread_mutex_t lock;
	struct slot *slots;
	size_t mask;
	size_t count;
	size_t capacity;
	uint32_t next_number;
	uint64_t generation;
};

static size_t hash_mac(const uint8_t mac[6])
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (int i = 0; i < 6; i++)
		h = (h ^ mac[i]) * 1099511628211ull;
	return (size_t)(h ^ (h >> 29));
}

struct bsdp_bindings *bsdp_bindings_new(size_t capacity)
{
	if (capacity == 0 || capacity > (1u << 24))
		return NULL;
	size_t size = 16;
	while (size < capacity * 2)
		size <<= 1;
	struct bsdp_bindings *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->slots = calloc(size, sizeof(*b->slots));
	if (!b->slots || pthread_mutex_init(&b->lock, NULL) != 0) {
		free(b->slots);
		free(b);
		return NULL;
	}
	b->mask = size - 1;
	b->capacity = capacity;
	b->next_number = 1;
	return b;
}

void bsdp_bindings_free(struct bsdp_bindings *b)
{
	if (!b)
		return;
	pthread_mutex_destroy(&b->lock);
	free(b->slots);
	free(b);
}

static struct slot *find(struct bsdp_bindings *b, const uint8_t mac[6])
{
	for (size_t i = hash_mac(mac) & b->mask;; i = (i + 1) & b->mask) {
		if (!b->slots[i].used)
			return NULL;
		if (memcmp(b->slots[i].b.mac, mac, 6) == 0)
			return &b->slots[i];
	}
}

static void erase(struct bsdp_bindings *b, struct slot *s)
{
	size_t hole = (size_t)(s - b->slots);
	b->slots[hole].used = false;
	b->count--;
	/* Pull back later members of the run whose home is not between the hole
	 * and their slot, so every run stays contiguous. */
	for (size_t i = (hole + 1) & b->mask; b->slots[i].used; i = (i + 1) & b->mask) {
		size_t home = hash_mac(b->slots[i].b.mac) & b->mask;
		bool stays = hole <= i ? (hole < home && home <= i) : (hole < home || home <= i);
		if (stays)
			continue;
		b->slots[hole] = b->slots[i];
		b->slots[i].used = false;
		hole = i;
	}
}

static void evict_oldest(struct bsdp_bindings *b)
{
	struct slot *oldest = NULL;
	for (size_t i = 0; i <= b->mask; i++)
		if (b->slots[i].used && (!oldest || b->slots[i].b.time < oldest->b.time))
			oldest = &b->slots[i];
	if (oldest)
		erase(b, oldest);
}

/* Returns the MAC's slot, inserting an empty entry (with a fresh number
 * unless one is given) when absent. Caller holds the lock. */
static struct slot *find_or_insert(struct bsdp_bindings *b, const uint8_t mac[6], uint32_t number)
{
	struct slot *s = find(b, mac);
	if (s)
		return s;
	if (b->count >= b->capacity)
		evict_oldest(b);
	size_t i = hash_mac(mac) & b->mask;
	while (b->slots[i].used)
		i = (i + 1) & b->mask;
	s = &b->slots[i];
	*s = (struct slot){ .used = true };
	memcpy(s->b.mac, mac, 6);
	s->b.number = number ? number : b->next_number;
	if (s->b.number >= b->next_number)
		b->next_number = s->b.number + 1;
	b->count++;
	return s;
}

int bsdp_bindings_lookup(struct bsdp_bindings *b, const uint8_t mac[6], struct bsdp_binding *ret)
{
	if (!b || !mac)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct slot *s = find(b, mac);
	if (s && ret)
		*ret = s->b;
	pthread_mutex_unlock(&b->lock);
	return s ? 0 : -ENOENT;
}

int bsdp_bindings_record(struct bsdp_bindings *b, const uint8_t mac[6], uint32_t image_id,
			 int64_t now, struct bsdp_binding *ret)
{
	if (!b || !mac)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct slot *s = find_or_insert(b, mac, 0);
	s->b.image_id = image_id;
	s->b.time = now;
	b->generation++;
	if (ret)
		*ret = s->b;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int bsdp_bindings_forget(struct bsdp_bindings *b, const uint8_t mac[6])
{
	if (!b || !mac)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct slot *s = find(b, mac);
	if (s && s->b.image_id) {
		s->b.image_id = 0;
		b->generation++;
	}
	pthread_mutex_unlock(&b->lock);
	return s ? 0 : -ENOENT;
}

int bsdp_bindings_put(struct bsdp_bindings *b, const struct bsdp_binding *entry)
{
	if (!b || !entry)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct slot *s = find_or_insert(b, entry->mac, entry->number);
	uint32_t number = entry->number ? entry->number : s->b.number;
	s->b = *entry;
	s->b.number = number;
	if (number >= b->next_number)
		b->next_number = number + 1;
	b->generation++;
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int bsdp_bindings_remove(struct bsdp_bindings *b, const uint8_t mac[6])
{
	if (!b || !mac)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	struct slot *s = find(b, mac);
	if (s) {
		erase(b, s);
		b->generation++;
	}
	pthread_mutex_unlock(&b->lock);
	return s ? 0 : -ENOENT;
}

size_t bsdp_bindings_snapshot(struct bsdp_bindings *b, struct bsdp_binding *out, size_t max)
{
	size_t n = 0;
	if (!b)
		return 0;
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i <= b->mask; i++) {
		if (!b->slots[i].used)
			continue;
		if (out && n < max)
			out[n] = b->slots[i].b;
		n++;
	}
	pthread_mutex_unlock(&b->lock);
	return n;
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
