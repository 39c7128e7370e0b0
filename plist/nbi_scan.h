/* SPDX-License-Identifier: MPL-2.0 */
/* NetBoot set scanning: sets-directory/<name>.nbi/NBImageInfo.plist (XML or
 * binary, via libplist) -> catalogue entries, with a precise reason for
 * every set skipped. The only code that reads plists or walks the tree. */
#ifndef BSDP_NBI_SCAN_H
#define BSDP_NBI_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "../hook/catalogue.h"

#ifdef __cplusplus
extern "C" {
#endif

#define BSDP_PLIST_MAX_BYTES (1024 * 1024)

struct bsdp_scan_options {
	bool nfs_available;   /* nfs-url configured; else NFS sets are skipped */
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
