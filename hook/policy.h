/* SPDX-License-Identifier: MPL-2.0 */
/* Which images a client may see and boot (docs/bsdp.md §5, §7). Every
 * decision goes through bsdp_policy_rule, so the LIST, the SELECT check and
 * bsdp-explain give the same answer and the same reason. */
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

/* The one rule that keeps an image out of a client's LIST, in the order the
 * rules are tried (the first that applies is the one given). */
enum bsdp_rule {
	BSDP_RULE_OFFERED = 0,
	BSDP_RULE_DISABLED,             /* IsEnabled false */
	BSDP_RULE_ARCHITECTURE,         /* the client's arch is not in Architectures */
	BSDP_RULE_SYSTEM_IDENTIFIERS,   /* its model is not in EnabledSystemIdentifiers */
	BSDP_RULE_DISABLED_MAC,         /* its MAC is in DisabledMACAddresses */
	BSDP_RULE_ENABLED_MAC,          /* its MAC is not in EnabledMACAddresses */
	BSDP_RULE_FILTER_ONLY,          /* FilterOnly, and the client sent no filter */
	BSDP_RULE_ATTRIBUTE_FILTER,     /* the client's filter does not list its attributes */
	/* Set by the responder for an image the rules let through: */
	BSDP_RULE_NO_ROOM,              /* the client's message size was spent before it */
	BSDP_RULE_NO_LIST,              /* a BSDP 1.0 client is sent no list */
	BSDP_RULE_NO_IMAGE,             /* (a pin or binding) no image with that index or id */
	BSDP_RULES
};

/* Short name ("architecture", "enabled-mac-addresses"...) and a sentence. */
const char *bsdp_rule_name(enum bsdp_rule rule);
const char *bsdp_rule_text(enum bsdp_rule rule);

/* The first rule that removes img for this client and request (req may be
 * NULL: no filter), or BSDP_RULE_OFFERED. DisabledSystemIdentifiers is
 * ignored, as BOOTPD does. */
enum bsdp_rule bsdp_policy_rule(const struct bsdp_image *img, const struct bsdp_client *client,
				const struct bsdp_request *req);

/* Arch, EnabledSystemIdentifiers, Disabled/EnabledMACAddresses, IsEnabled. */
bool bsdp_policy_applicable(const struct bsdp_image *img, const struct bsdp_client *client);

/* Attribute filter (sub-option 11) and FilterOnly: with no filter, every
 * image but FilterOnly ones passes; with one, only images whose attributes
 * are listed. req may be NULL (no filter). */
bool bsdp_policy_passes_filter(const struct bsdp_image *img, const struct bsdp_request *req);

/* Applicable and passes the filter. */
bool bsdp_policy_visible(const struct bsdp_image *img, const struct bsdp_client *client,
			 const struct bsdp_request *req);

/* Why an image is the default. */
enum bsdp_default_why {
	BSDP_DEFAULT_NONE = 0,          /* nothing is visible */
	BSDP_DEFAULT_GENERIC,           /* IsDefault, no EnabledSystemIdentifiers */
	BSDP_DEFAULT_MODEL,             /* IsDefault, for listed models */
	BSDP_DEFAULT_FIRST,             /* no IsDefault image: the first visible */
};
const char *bsdp_default_why_text(enum bsdp_default_why why);

/* The default image: a generic IsDefault image first, then a model-specific
 * IsDefault one, then the first visible image; NULL when none is visible.
 * ret_why may be NULL. */
const struct bsdp_image *bsdp_policy_default(const struct bsdp_catalogue *c,
					     const struct bsdp_client *client,
					     const struct bsdp_request *req,
					     enum bsdp_default_why *ret_why);

/* Apple's priority from load: BSDP_LOAD_PRIORITY_BASE less one per Mac
 * holding a selection, never below 0, so the Mac picks the server with the
 * fewest among several that answer its LIST. */
#define BSDP_LOAD_PRIORITY_BASE 32768u
uint16_t bsdp_policy_load_priority(uint64_t bound);

#ifdef __cplusplus
}
#endif
#endif
