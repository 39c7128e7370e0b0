/* SPDX-License-Identifier: MPL-2.0 */
/* C core benchmark: ACK[LIST] for 100 images and ACK[SELECT], through the
 * whole responder (parse, policy, pack). Prints numbers; asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hook/responder.h"

/* Counts allocations made while `counting` is set. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static volatile int counting;
static volatile long allocations;
void *malloc(size_t n) { if (counting) allocations++; return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { if (counting) allocations++; return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { if (counting) allocations++; return __libc_realloc(p, n); }

#ifdef __OPTIMIZE__
#define BENCH_BUILD "optimised"
#else
#define BENCH_BUILD "not optimised"
#endif

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct bsdp_catalogue *make_catalogue(unsigned n)
{
	struct bsdp_catalogue *c = bsdp_catalogue_new("/srv/netboot/sets");
	for (unsigned i = 1; i <= n; i++) {
		char name[64], dir[32];
		snprintf(name, sizeof(name), "macOS NetInstall image %u", i);
		snprintf(dir, sizeof(dir), "Image%03u.nbi", i);
		struct bsdp_image img = {
			.id = BSDP_IMAGE_ID(i % 2, 1, i),
			.index = (uint16_t)i,
			.kind = 1,
			.install = i % 2,
			.is_default = i == 1,
			.is_enabled = true,
			.type = BSDP_TYPE_HTTP,
			.archs = BSDP_ARCH_I386,
			.name = strdup(name),
			.name_len = strlen(name),
			.set_dir = strdup(dir),
			.boot_file = strdup("booter"),
			.root_path = strdup("NetInstall.dmg"),
		};
		if (bsdp_catalogue_add(c, &img) < 0)
			abort();
	}
	return c;
}

static void run(const char *label, const struct bsdp_responder *r, const struct bsdp_catalogue *c,
		struct bsdp_bindings *b, const uint8_t *opt43, size_t len, long iterations)
{
	static uint8_t out[8192];
	static const char vc[] = "AAPLBSDPC/i386/MacBookPro11,1";
	struct bsdp_query q = {
		.opt43 = opt43, .opt43_len = len, .opt60 = vc, .opt60_len = sizeof(vc) - 1,
		.mac = { 0, 0x16, 0xcb, 1, 2, 3 }, .mac_valid = true, .ciaddr = 0xc6120064,
		.local_address = 0xc6120001, .opt57 = -1, .reply_overhead = 261,
	};
	struct bsdp_answer a;
	size_t listed = 0, bytes = 0;

	allocations = 0;
	counting = 1;
	double t0 = now_ns();
	for (long i = 0; i < iterations; i++) {
		bsdp_responder_answer(r, c, b, &q, out, sizeof(out), 253, &a);
		listed = a.images_listed;
		bytes = a.opt43_len;
	}
	double t1 = now_ns();
	counting = 0;
	printf("%-34s %9.0f ns/reply  %5.2f allocations/reply  %zu images listed, %zu option-43 bytes\n",
	       label, (t1 - t0) / (double)iterations, (double)allocations / (double)iterations,
	       listed, bytes);
}

int main(int argc, char **argv)
{
	long iterations = argc > 1 ? atol(argv[1]) : 200000;
	struct bsdp_catalogue *c = make_catalogue(100);
	struct bsdp_bindings *b = bsdp_bindings_new(1024);
	struct bsdp_responder r;
	struct bsdp_responder_config cfg = { .priority = 32768 };
	char err[128];
	if (bsdp_responder_init(&r, &cfg, err, sizeof(err)) < 0)
		return 1;

	/* 8164-byte budget (sub-option 12 = 8192) so all 100 images are listed. */
	static const uint8_t list[] = { 1, 1, 1, 2, 2, 1, 1, 12, 2, 0x20, 0x00 };
	static const uint8_t list_small[] = { 1, 1, 1, 2, 2, 1, 1 };
	static const uint8_t select[] = { 1, 1, 2, 2, 2, 1, 1, 3, 4, 198, 18, 0, 1, 8, 4, 1, 0, 0, 50 };
	printf("C core, %ld iterations each (build: %s)\n", iterations, BENCH_BUILD);
	run("ACK[LIST], 100 images", &r, c, b, list, sizeof(list), iterations);
	run("ACK[LIST], 520-byte client", &r, c, b, list_small, sizeof(list_small), iterations);
	run("ACK[SELECT]", &r, c, b, select, sizeof(select), iterations);
	bsdp_bindings_free(b);
	bsdp_catalogue_free(c);
	return 0;
}
