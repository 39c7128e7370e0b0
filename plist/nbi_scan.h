/* SPDX-License-Identifier: MPL-2.0 */
/* NetBoot set scanning: sets-directory/<name>.nbi/NBImageInfo.plist (XML or
 * binary, via libplist) -> catalogue entries, with a precise reason for
 * every set skipped. The only code that reads plists or walks the tree. */
#ifndef BSDP_NBI_SCAN_H
#define BSDP_NBI_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../hook/catalogue.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BSDP_PLIST_MAX_BYTES (1024 * 1024)

struct bsdp_scan_options {
	bool nfs_available;   /* nfs-url configured; else NFS sets are skipped */
	/* The catalogue served now, or NULL. A set it serves whose folder is
	 * still there but no longer reads (an operator rewriting its plist in
	 * place, say) is served on from it, marked stale (bsdp_image.stale),
	 * instead of being skipped; stale_since is kept from it when it was
	 * already stale. A removed folder drops the set. Only used when its
	 * sets_directory is the directory scanned. */
	const struct bsdp_catalogue *previous;
	int64_t now;          /* seconds since the epoch for stale_since; 0 = the clock */
};

/* Reads one set folder (absolute or relative path ending in ".nbi").
 * On success fills *ret (caller releases it with bsdp_image_release or
 * hands it to bsdp_catalogue_add) and returns 0; warnings about a served set
 * are appended to warn (may be NULL). On a defect returns a negative errno
 * and writes the reason (one line, no path) into reason. */
int bsdp_nbi_read_set(const char *set_path, const struct bsdp_scan_options *opts,
		      struct bsdp_image *ret, char *reason, size_t reason_size,
		      struct bsdp_catalogue *warn);

/* Scans dir for *.nbi folders in byte order of name. Returns a catalogue
 * (possibly with no image) or NULL with -errno in *ret_err when dir itself
 * cannot be read. */
struct bsdp_catalogue *bsdp_nbi_scan(const char *dir, const struct bsdp_scan_options *opts,
				     int *ret_err);

#ifdef __cplusplus
}
#endif
#endif
