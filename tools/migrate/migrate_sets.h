/* SPDX-License-Identifier: MPL-2.0 */
/* The migration against the NetBoot sets on disk: each image of the plan
 * matched by image ID with the set the hook's own scanner (plist/) serves,
 * what Kea would answer for it compared with dhcpd's answer (through the
 * hook's own responder), and the sets that are missing written as
 * NBImageInfo.plist files (libplist, XML), never over anything. */
#ifndef BSDP_MIGRATE_SETS_H
#define BSDP_MIGRATE_SETS_H

#include <stdio.h>

#include "hook/catalogue.h"
#include "tools/migrate/bsdp_find.h"
#include "tools/migrate/migrate_plan.h"

/* The set of the catalogue serving this image's ID, or NULL. */
const struct bsdp_image *migrate_sets_match(const struct bsdp_catalogue *c,
					    const struct migrate_image *im);

/* One block per image on out: its set and what differs, or that it has
 * none. found gives dhcpd's default and iPXE stage. Returns how many
 * images have no set. */
size_t migrate_sets_report(FILE *out, const struct migrate_plan *plan,
			   const struct bsdp_find_result *found, const char *dir,
			   const struct bsdp_catalogue *c);

/* The NBImageInfo.plist of one image, as XML (malloc'd, NUL-terminated):
 * 0, or -1. */
int migrate_set_plist_xml(const struct migrate_image *im, char **ret_xml, size_t *ret_len);

/* For each image without a set (by ID) and without a folder of its name in
 * dir: creates dir/<set>.nbi/ with its architecture folders and the plist
 * (O_EXCL), then says on out what to copy where (found: each
 * architecture's SELECT branch). A folder that exists is
 * left alone and said. Returns how many sets were written, or -1 when one
 * could not be (the reason on out, file and errno). */
int migrate_sets_write(FILE *out, const struct migrate_plan *plan,
		       const struct bsdp_find_result *found, const char *dir,
		       const struct bsdp_catalogue *c);

#endif
