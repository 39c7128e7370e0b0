/* SPDX-License-Identifier: MPL-2.0 */
#include "nbi_watch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FNV_OFFSET 1469598103934665603ull
#define FNV_PRIME 1099511628211ull

/* Paths under a set folder whose stat matters: the plist, and the folders
 * whose entries (booters, kernelcache) decide whether a set is served. */
static const char *const WATCHED[] = {
	"NBImageInfo.plist", "i386", "i386/x86_64", "ppc", "arm",
};

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	return h;
}

static uint64_t fnv_u64(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		h = (h ^ (v & 0xff)) * FNV_PRIME;
	return h;
}

/* Spreads an entry's hash before the order-independent sum, so that two
 * entries' changes cannot cancel out by simple arithmetic. */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	x ^= x >> 31;
	return x;
}

/* Hashes one stat result, or the errno that replaced it. */
static uint64_t hash_stat(uint64_t h, int rc, const struct stat *st)
{
	if (rc != 0)
		return fnv_u64(h ^ 0x5a, (uint64_t)(unsigned)errno);
	h = fnv_u64(h, (uint64_t)st->st_dev);
	h = fnv_u64(h, (uint64_t)st->st_ino);
	h = fnv_u64(h, (uint64_t)st->st_mode);
	h = fnv_u64(h, (uint64_t)st->st_size);
	h = fnv_u64(h, (uint64_t)st->st_mtim.tv_sec);
	h = fnv_u64(h, (uint64_t)st->st_mtim.tv_nsec);
	h = fnv_u64(h, (uint64_t)st->st_ctim.tv_sec);
	h = fnv_u64(h, (uint64_t)st->st_ctim.tv_nsec);
	return h;
}

static bool is_set_name(const char *name, size_t len)
{
	return len > 4 && memcmp(name + len - 4, ".nbi", 4) == 0;
}

static uint64_t hash_set(int dfd, const char *name, size_t len)
{
	uint64_t h = fnv(FNV_OFFSET, name, len);
	struct stat st;
	int sfd, rc;

	rc = fstatat(dfd, name, &st, 0);
	h = hash_stat(h, rc, &st);
	if (rc != 0 || !S_ISDIR(st.st_mode))
		return mix(h);
	sfd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return mix(fnv_u64(h ^ 0xa5, (uint64_t)(unsigned)errno));
	for (size_t i = 0; i < sizeof(WATCHED) / sizeof(WATCHED[0]); i++) {
		rc = fstatat(sfd, WATCHED[i], &st, 0);
		h = hash_stat(h, rc, &st);
	}
	close(sfd);
	return mix(h);
}

int bsdp_nbi_fingerprint(const char *dir, uint64_t *ret)
{
	struct stat st;
	struct dirent *de;
	uint64_t sum = 0, count = 0, h;
	size_t seen = 0;
	int dfd, err = 0;
	DIR *d;

	if (!dir || !ret)
		return -EINVAL;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fstat(dfd, &st) != 0) {
		err = -errno;
		close(dfd);
		return err;
	}
	h = hash_stat(FNV_OFFSET, 0, &st);
	d = fdopendir(dfd);
	if (!d) {
		err = -errno;
		close(dfd);
		return err;
	}
	for (;;) {
		size_t len;

		errno = 0;
		de = readdir(d);
		if (!de) {
			err = -errno;
			break;
		}
		if (++seen > BSDP_WATCH_MAX_ENTRIES)
			break;
		len = strlen(de->d_name);
		if (!is_set_name(de->d_name, len))
			continue;
		sum += hash_set(dirfd(d), de->d_name, len);
		count++;
	}
	closedir(d);
	if (err < 0)
		return err;
	h = fnv_u64(h, count);
	*ret = fnv_u64(h, sum);
	return 0;
}
