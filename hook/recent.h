/* SPDX-License-Identifier: MPL-2.0 */
/* The last LIST request of the most recent Macs, so bsdp-explain can answer
 * for a MAC with what that Mac itself sent (architecture, model, attribute
 * filter, message size). A fixed table allocated once: BSDP_RECENT_GROUPS
 * groups of BSDP_RECENT_WAYS entries; a MAC lives in the group a keyed
 * SipHash picks (clients cannot choose MACs that share a group), and a new
 * MAC there replaces the group's least recently noted one. Each group has
 * its own lock: packet threads noting different Macs rarely meet, and no
 * operation touches more than one group's BSDP_RECENT_WAYS entries. */
#ifndef BSDP_RECENT_H
#define BSDP_RECENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsdp_codec.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BSDP_RECENT_WAYS 4
#define BSDP_RECENT_GROUPS 1024
/* At most this many Macs are remembered (about 2.4 MiB, allocated once). */
#define BSDP_RECENT_CAPACITY (BSDP_RECENT_WAYS * BSDP_RECENT_GROUPS)
#define BSDP_RECENT_KEY_SIZE 16

/* What a Mac sent in its last LIST, and what the reply had to fit. */
struct bsdp_recent_request {
	uint8_t mac[6];
	int64_t time;                       /* seconds since the epoch */
	struct bsdp_vendor_class vc;        /* option 60: arch and model */
	struct bsdp_request req;            /* option 43: version, filter, sub-option 12 */
	int32_t opt57;                      /* option 57, or -1 */
	uint32_t reply_overhead;            /* bytes of the reply other than option 43 */
	uint32_t link_max;                  /* 0 = unknown */
	uint32_t local_address;             /* the address the LIST came in on */
	uint32_t ciaddr;
	/* How that LIST itself fared: a drop before the catalogue is asked
	 * (no ciaddr, a reply port of 1024 or more...) leaves the Mac with
	 * nothing whatever its images; why is a static string or NULL. */
	uint8_t drop;                       /* enum bsdp_drop_reason, 0 = answered */
	const char *why;
	/* The subnet Kea selected for that LIST (from Kea 2.6, Kea's path):
	 * its reservation's pin is the one the LIST followed. */
	bool has_subnet;
	uint32_t subnet_id;
};

struct bsdp_recent;

/* A table keyed with a secret from getrandom(); NULL and errno (ENOMEM or
 * getrandom's) on failure. */
struct bsdp_recent *bsdp_recent_new(void);
/* The same with a given key, for tests that must know which MACs share a
 * group. */
struct bsdp_recent *bsdp_recent_new_keyed(const uint8_t key[BSDP_RECENT_KEY_SIZE]);
void bsdp_recent_free(struct bsdp_recent *t);

/* Remembers r as its MAC's latest request (copied; no allocation). */
void bsdp_recent_note(struct bsdp_recent *t, const struct bsdp_recent_request *r);
/* 0 and a copy in *ret, or -ENOENT. */
int bsdp_recent_lookup(struct bsdp_recent *t, const uint8_t mac[6], struct bsdp_recent_request *ret);
/* Macs remembered now (read without a lock). */
size_t bsdp_recent_count(const struct bsdp_recent *t);
/* The group a MAC lives in under the table's key (for tests). */
size_t bsdp_recent_group(const struct bsdp_recent *t, const uint8_t mac[6]);

#ifdef __cplusplus
}
#endif
#endif
