/* SPDX-License-Identifier: MPL-2.0 */
/* A cheap change fingerprint of sets-directory: what a periodic rescan
 * compares before it pays for a full scan. Only stat() calls, no file is
 * opened or read. */
#ifndef BSDP_NBI_WATCH_H
#define BSDP_NBI_WATCH_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Most directory entries looked at; a bigger folder still gets a
 * fingerprint (of its first entries and its own stat). */
#define BSDP_WATCH_MAX_ENTRIES 65536

/* Fingerprints dir: its own stat, and for every *.nbi entry its name and
 * the stat of the folder, of NBImageInfo.plist and of the arch folders
 * (i386, i386/x86_64, ppc, arm) that hold the booters. Modification and
 * change times (ns), size, inode and mode go in, so adding, removing,
 * renaming, rewriting or chmod-ing any of them changes the value; a missing
 * one counts as its errno. Independent of readdir order.
 * Returns 0 and *ret, -EINVAL, or -errno when dir itself cannot be read. */
int bsdp_nbi_fingerprint(const char *dir, uint64_t *ret);

#ifdef __cplusplus
}
#endif
#endif
