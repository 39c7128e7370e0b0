/* SPDX-License-Identifier: MPL-2.0 */
/* MAC lists for bsdp-load --mac-file (make bench's "collide" rows):
 *   bench_macs old-fnv N   N MACs an attacker could compute against the
 *                          unkeyed hash the bindings index used before it
 *                          was keyed: FNV-1a, h ^ (h >> 29), masked to the
 *                          131,072 slots of a default table (max-bindings
 *                          65,536); every one's home slot is in 0..63
 *   bench_macs random N    N random MACs (the rate to compare with)
 * One per line, aa:bb:cc:dd:ee:ff, locally administered (06:...). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define OLD_INDEX_SLOTS (1u << 17)
#define WINDOW 64
#define MAX_MACS 1000000ul

static void print_mac(const uint8_t m[6])
{
	printf("%02x:%02x:%02x:%02x:%02x:%02x\n", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static uint64_t fnv1a_step(uint64_t h, uint8_t byte)
{
	return (h ^ byte) * 1099511628211ull;
}

/* Brute force over the last four bytes (2^32 candidates, about one in
 * 2,048 a hit, so up to about two million MACs), the hash of the first
 * five bytes kept per 256 candidates. */
static int old_fnv(unsigned long n)
{
	const uint8_t first[2] = { 0x06, 0xfe };
	uint64_t h2 = 1469598103934665603ull;
	for (int i = 0; i < 2; i++)
		h2 = fnv1a_step(h2, first[i]);
	unsigned long found = 0;
	for (uint32_t high = 0; found < n && high < (1u << 24); high++) {
		uint64_t h5 = fnv1a_step(fnv1a_step(fnv1a_step(h2, (uint8_t)(high >> 16)),
						    (uint8_t)(high >> 8)), (uint8_t)high);
		for (unsigned last = 0; last < 256 && found < n; last++) {
			uint64_t h = fnv1a_step(h5, (uint8_t)last);
			if (((h ^ (h >> 29)) & (OLD_INDEX_SLOTS - 1)) >= WINDOW)
				continue;
			uint8_t mac[6] = { first[0], first[1], (uint8_t)(high >> 16),
					   (uint8_t)(high >> 8), (uint8_t)high, (uint8_t)last };
			print_mac(mac);
			found++;
		}
	}
	if (found < n) {
		fprintf(stderr, "bench_macs: only %lu such MACs\n", found);
		return 1;
	}
	return 0;
}

static int random_macs(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		uint8_t mac[6] = { 0x06 };
		if (getrandom(mac + 1, 5, 0) != 5) {
			perror("bench_macs: getrandom");
			return 1;
		}
		print_mac(mac);
	}
	return 0;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long n = argc == 3 ? strtoul(argv[2], &end, 10) : 0;
	if (argc != 3 || *end || n == 0 || n > MAX_MACS ||
	    (strcmp(argv[1], "old-fnv") != 0 && strcmp(argv[1], "random") != 0)) {
		fprintf(stderr, "usage: bench_macs old-fnv|random N (1..%lu)\n", MAX_MACS);
		return 2;
	}
	int rc = strcmp(argv[1], "old-fnv") == 0 ? old_fnv(n) : random_macs(n);
	return fflush(stdout) == 0 && !ferror(stdout) ? rc : 1;
}
