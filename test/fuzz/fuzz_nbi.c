/* SPDX-License-Identifier: MPL-2.0 */
/* Fuzzes the NBImageInfo.plist reader and validator: the input becomes the
 * plist of a set folder that has booters for every arch, so validation goes
 * as deep as the bytes allow. A set either loads or gives a reason. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plist/nbi_scan.h"

static char base_dir[32];
static char set_dir[64];
static char plist_path[128];

static void touch(const char *rel)
{
	char p[160];
	snprintf(p, sizeof(p), "%s/%s", set_dir, rel);
	FILE *f = fopen(p, "w");
	if (!f)
		abort();
	fputs("x", f);
	fclose(f);
}

/* The replay runs inside make check: leave no folder behind. */
static void cleanup(void)
{
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_nbi: could not remove %s\n", base_dir);
}

static void init(void)
{
	/* tmpfs when there is one: each run rewrites the plist, and a disk
	 * file system makes that, not the parser, the cost. */
	strcpy(base_dir, "/dev/shm/fuzz-nbi-XXXXXX");
	if (!mkdtemp(base_dir)) {
		strcpy(base_dir, "/tmp/fuzz-nbi-XXXXXX");
		if (!mkdtemp(base_dir))
			abort();
	}
	atexit(cleanup);
	snprintf(set_dir, sizeof(set_dir), "%s/Fuzz.nbi", base_dir);
	snprintf(plist_path, sizeof(plist_path), "%s/NBImageInfo.plist", set_dir);
	static const char *const dirs[] = { "", "/i386", "/i386/x86_64", "/ppc", "/arm" };
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char p[160];
		snprintf(p, sizeof(p), "%s%s", set_dir, dirs[i]);
		mkdir(p, 0755);
	}
	static const char *const files[] = { "i386/booter", "ppc/booter", "arm/booter",
					     "i386/x86_64/kernelcache", "NetBoot.dmg" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		touch(files[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!set_dir[0])
		init();
	FILE *f = fopen(plist_path, "wb");
	if (!f)
		abort();
	if (size)
		fwrite(data, 1, size, f);
	fclose(f);

	struct bsdp_scan_options opts = { .nfs_available = size & 1 };
	struct bsdp_image img;
	char reason[512];
	reason[0] = '\0';
	struct bsdp_catalogue *warn = bsdp_catalogue_new(NULL);
	int r = bsdp_nbi_read_set(set_dir, &opts, &img, reason, sizeof(reason), warn);
	if (r == 0) {
		if (img.index == 0 || img.name_len == 0 || img.name_len > 246 || !img.archs)
			abort();
		bsdp_image_release(&img);
	} else if (!reason[0]) {
		abort(); /* every refusal says why */
	}
	bsdp_catalogue_free(warn);
	return 0;
}
