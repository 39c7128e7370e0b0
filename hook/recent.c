/* SPDX-License-Identifier: MPL-2.0 */
#include "hook/recent.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "hook/siphash.h"

struct way {
	bool used;
	uint64_t stamp;      /* the group's clock when last noted: lowest is evicted */
	struct bsdp_recent_request r;
};

struct group {
	pthread_mutex_t lock;
	uint64_t clock;
	struct way way[BSDP_RECENT_WAYS];
};

struct bsdp_recent {
	struct bsdp_siphash_key key;
	atomic_size_t count;
	struct group group[BSDP_RECENT_GROUPS];
};

struct bsdp_recent *bsdp_recent_new(void)
{
	uint8_t secret[BSDP_RECENT_KEY_SIZE];
	if (!bsdp_siphash_secret(secret, sizeof(secret)))
		return NULL;
	struct bsdp_recent *t = bsdp_recent_new_keyed(secret);
	explicit_bzero(secret, sizeof(secret));
	return t;
}

struct bsdp_recent *bsdp_recent_new_keyed(const uint8_t key[BSDP_RECENT_KEY_SIZE])
{
	struct bsdp_recent *t;
	size_t i;

	if (!key) {
		errno = EINVAL;
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->key = bsdp_siphash_key(key);
	atomic_init(&t->count, 0);
	for (i = 0; i < BSDP_RECENT_GROUPS; i++)
		if (pthread_mutex_init(&t->group[i].lock, NULL) != 0)
			break;
	if (i < BSDP_RECENT_GROUPS) {
		while (i-- > 0)
			pthread_mutex_destroy(&t->group[i].lock);
		free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

void bsdp_recent_free(struct bsdp_recent *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < BSDP_RECENT_GROUPS; i++)
		pthread_mutex_destroy(&t->group[i].lock);
	free(t);
}

size_t bsdp_recent_group(const struct bsdp_recent *t, const uint8_t mac[6])
{
	return (size_t)(bsdp_siphash24(t->key, mac, 6) % BSDP_RECENT_GROUPS);
}

void bsdp_recent_note(struct bsdp_recent *t, const struct bsdp_recent_request *r)
{
	if (!t || !r)
		return;
	struct group *g = &t->group[bsdp_recent_group(t, r->mac)];
	pthread_mutex_lock(&g->lock);
	struct way *slot = NULL, *oldest = NULL;
	for (size_t i = 0; i < BSDP_RECENT_WAYS && !slot; i++) {
		struct way *w = &g->way[i];
		if (w->used && memcmp(w->r.mac, r->mac, 6) == 0)
			slot = w;
		else if (!oldest || !w->used || (oldest->used && w->stamp < oldest->stamp))
			oldest = w;
	}
	if (!slot) {
		slot = oldest;
		if (!slot->used)
			atomic_fetch_add_explicit(&t->count, 1, memory_order_relaxed);
		slot->used = true;
	}
	slot->stamp = ++g->clock;
	slot->r = *r;
	pthread_mutex_unlock(&g->lock);
}

int bsdp_recent_lookup(struct bsdp_recent *t, const uint8_t mac[6], struct bsdp_recent_request *ret)
{
	int rc = -ENOENT;

	if (!t || !mac || !ret)
		return -EINVAL;
	struct group *g = &t->group[bsdp_recent_group(t, mac)];
	pthread_mutex_lock(&g->lock);
	for (size_t i = 0; i < BSDP_RECENT_WAYS; i++)
		if (g->way[i].used && memcmp(g->way[i].r.mac, mac, 6) == 0) {
			*ret = g->way[i].r;
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&g->lock);
	return rc;
}

size_t bsdp_recent_count(const struct bsdp_recent *t)
{
	return t ? atomic_load_explicit(&((struct bsdp_recent *)t)->count, memory_order_relaxed) : 0;
}
