/* SPDX-License-Identifier: MPL-2.0 */
/* Helpers shared by the suites that build folders of fixtures. */
#ifndef BSDP_TEST_FIXTURE_UTIL_H
#define BSDP_TEST_FIXTURE_UTIL_H

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* snprintf for test paths and texts; a cut one would make a test lie. */
static inline void textf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void textf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "test path too long\n");
		abort();
	}
}

static inline int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes a tree, deepest first, without following symbolic links. */
static inline int remove_tree(const char *path)
{
	return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
