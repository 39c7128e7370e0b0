/* SPDX-License-Identifier: MPL-2.0 */
/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
 * 2012): a keyed hash for tables whose keys a client chooses, so that
 * without the secret key nobody can pick keys that share a slot. */
#ifndef BSDP_SIPHASH_H
#define BSDP_SIPHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BSDP_SIPHASH_KEY_SIZE 16

/* The 128-bit key as the paper's two little-endian words k0, k1. */
struct bsdp_siphash_key {
	uint64_t k0, k1;
};

struct bsdp_siphash_key bsdp_siphash_key(const uint8_t bytes[BSDP_SIPHASH_KEY_SIZE]);
/* Fills buf with len secret bytes from getrandom(): true, or false with
 * errno set (never a guessable key in their place). */
bool bsdp_siphash_secret(uint8_t *buf, size_t len);
/* The 64-bit SipHash-2-4 of len bytes at data under key. */
uint64_t bsdp_siphash24(struct bsdp_siphash_key key, const void *data, size_t len);

#ifdef __cplusplus
}
#endif
#endif
