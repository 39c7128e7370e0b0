/* SPDX-License-Identifier: MPL-2.0 */
/* The Kea side of a migration as a JSON fragment to merge into kea-dhcp4's
 * configuration (keama's output or one's own):
 * {"Dhcp4": {"hooks-libraries": [{"library": ..., "parameters": {...}}],
 *            "reservations": [...]}} */
#ifndef BSDP_MIGRATE_KEA_H
#define BSDP_MIGRATE_KEA_H

#include <stdio.h>

#include "tools/migrate/migrate_plan.h"

/* sets_directory is written as the hook's sets-directory, library as the
 * hook entry's library. 0, or -1 when out could not be written. */
int migrate_kea_write(FILE *out, const struct migrate_plan *plan, const char *sets_directory,
		      const char *library);

#endif
