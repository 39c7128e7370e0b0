/* SPDX-License-Identifier: MPL-2.0 */
#include "store/spill.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/state_file.h"

#define PREFIX "kea-bsdp-spill-"

/* The database's part of a file name: a hash of tag, so any text fits. */
static void name_prefix(const char *tag, char out[64])
{
	uint64_t h = 1469598103934665603ull;  /* FNV-1a: names, not secrets */
	for (const char *p = tag ? tag : ""; *p; p++)
		h = (h ^ (uint8_t)*p) * 1099511628211ull;
	snprintf(out, 64, PREFIX "%016" PRIx64 "-", h);
}

int bsdp_spill_write(const char *dir, const char *tag, const struct bsdp_binding *entries,
		     size_t n, char path[BSDP_SPILL_PATH_MAX])
{
	char prefix[64];
	name_prefix(tag, prefix);
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	int w = snprintf(path, BSDP_SPILL_PATH_MAX, "%s/%s%ld-%ld%09ld.csv", dir, prefix,
			 (long)getpid(), (long)t.tv_sec, t.tv_nsec);
	if (w < 0 || w >= BSDP_SPILL_PATH_MAX)
		return -ENAMETOOLONG;
	return bsdp_state_save_entries(path, entries, n);
}

struct bad_lines {
	size_t count;
};

static void count_bad(void *ctx, const char *path, size_t line, const char *reason)
{
	(void)path;
	(void)line;
	(void)reason;
	((struct bad_lines *)ctx)->count++;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void bsdp_spill_load(const char *dir, const char *tag, struct bsdp_bindings *b,
		     struct bsdp_spill_files *ret)
{
	ret->count = 0;
	char prefix[64];
	name_prefix(tag, prefix);
	DIR *d = opendir(dir);
	if (!d)
		return;
	/* Names only (a temporary file of a save under way ends otherwise). */
	char *names[BSDP_SPILL_FILES_MAX];
	size_t n = 0;
	for (struct dirent *e; n < BSDP_SPILL_FILES_MAX && (e = readdir(d)) != NULL;) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && len > 4 &&
		    strcmp(e->d_name + len - 4, ".csv") == 0 && (names[n] = strdup(e->d_name)))
			n++;
	}
	closedir(d);
	/* Oldest first (pid-time sorts by neither, but the time in each line
	 * decides between two changes of one Mac in the database anyway). */
	qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char *path = ret->path[ret->count];
		int w = snprintf(path, BSDP_SPILL_PATH_MAX, "%s/%s", dir, names[i]);
		free(names[i]);
		if (w < 0 || w >= BSDP_SPILL_PATH_MAX)
			continue;
		struct bad_lines bad = { 0 };
		struct bsdp_state_load_result res = { 0 };
		if (bsdp_state_load(path, b, count_bad, &bad, &res) != 0)
			continue;
		ret->entries[ret->count] = res.loaded;
		ret->damaged[ret->count] = res.bad > 0;
		ret->count++;
	}
}

void bsdp_spill_done(const struct bsdp_spill_files *files, int64_t now)
{
	for (size_t i = 0; i < files->count; i++) {
		char aside[BSDP_SPILL_PATH_MAX + 32];
		/* Another server that read the same file may have removed it. */
		if (files->damaged[i] &&
		    bsdp_state_set_aside(files->path[i], now, aside, sizeof(aside)) != 0)
			continue;
		unlink(files->path[i]);
	}
}
