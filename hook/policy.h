/* SPDX-License-Identifier: MPL-2.0 */
/* Which images a client may see and boot (docs/bsdp.md §5, §7). */
#ifndef BSDP_POLICY_H
#define BSDP_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bsdp_codec.h"
#include "catalogue.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bsdp_client {
	unsigned arch;          /* enum bsdp_arch bit; 0 = an arch we serve nothing for */
	const char *model;
	size_t model_len;
	uint8_t mac[6];
};

/* Arch, EnabledSystemIdentifiers, Disabled/EnabledMACAddresses, IsEnabled.
 * DisabledSystemIdentifiers is ignored, as BOOTPD does. */
bool bsdp_policy_applicable(const struct bsdp_image *img, const struct bsdp_client *client);

/* Attribute filter (sub-option 11) and FilterOnly: with no filter, every
 * image but FilterOnly ones passes; with one, only images whose attributes
 * are listed. req may be NULL (no filter). */
bool bsdp_policy_passes_filter(const struct bsdp_image *img, const struct bsdp_request *req);

/* Applicable and passes the filter. */
bool bsdp_policy_visible(const struct bsdp_image *img, const struct bsdp_client *client,
			 const struct bsdp_request *req);

/* The default image: a generic IsDefault image first, then a model-specific
 * IsDefault one, then the first visible image; NULL when none is visible. */
const struct bsdp_image *bsdp_policy_default(const struct bsdp_catalogue *c,
					     const struct bsdp_client *client,
					     const struct bsdp_request *req);

/* Apple's priority from load: BSDP_LOAD_PRIORITY_BASE less one per Mac
 * holding a selection, never below 0, so the Mac picks the server with the
 * fewest among several that answer its LIST. */
#define BSDP_LOAD_PRIORITY_BASE 32768u
uint16_t bsdp_policy_load_priority(uint64_t bound);

#ifdef __cplusplus
}
#endif
#endif
