/* SPDX-License-Identifier: MPL-2.0 */
#include "hook/policy.h"

#include <string.h>

static const struct {
	const char *name, *text;
} rules[BSDP_RULES] = {
	[BSDP_RULE_OFFERED] = { "offered", "listed in the client's LIST" },
	[BSDP_RULE_DISABLED] = { "disabled", "IsEnabled is false" },
	[BSDP_RULE_ARCHITECTURE] = { "architecture",
				     "the client's architecture is not in Architectures" },
	[BSDP_RULE_SYSTEM_IDENTIFIERS] = { "enabled-system-identifiers",
					   "the client's model is not in EnabledSystemIdentifiers" },
	[BSDP_RULE_DISABLED_MAC] = { "disabled-mac-addresses",
				     "the client's MAC address is in DisabledMACAddresses" },
	[BSDP_RULE_ENABLED_MAC] = { "enabled-mac-addresses",
				    "the client's MAC address is not in EnabledMACAddresses" },
	[BSDP_RULE_FILTER_ONLY] = { "filter-only",
				    "FilterOnly is true and the client sent no attribute filter" },
	[BSDP_RULE_ATTRIBUTE_FILTER] = { "attribute-filter",
					 "the client's attribute filter does not list the image's "
					 "attributes" },
	[BSDP_RULE_NO_ROOM] = { "no-room", "no room left in the client's maximum message size" },
	[BSDP_RULE_NO_LIST] = { "bsdp-1.0", "a BSDP 1.0 client is sent no list of images" },
	[BSDP_RULE_NO_IMAGE] = { "no-image", "no image with that index or id in the catalogue" },
};

const char *bsdp_rule_name(enum bsdp_rule rule)
{
	return (unsigned)rule < BSDP_RULES ? rules[rule].name : "unknown";
}

const char *bsdp_rule_text(enum bsdp_rule rule)
{
	return (unsigned)rule < BSDP_RULES ? rules[rule].text : "unknown";
}

static bool mac_listed(const uint8_t (*macs)[6], size_t n, const uint8_t mac[6])
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(macs[i], mac, 6) == 0)
			return true;
	return false;
}

static bool model_listed(const struct bsdp_image *img, const struct bsdp_client *client)
{
	for (size_t i = 0; i < img->n_enabled_models; i++) {
		const char *m = img->enabled_models[i];
		if (strlen(m) == client->model_len && memcmp(m, client->model, client->model_len) == 0)
			return true;
	}
	return false;
}

static enum bsdp_rule applicability(const struct bsdp_image *img, const struct bsdp_client *client)
{
	if (!img->is_enabled)
		return BSDP_RULE_DISABLED;
	if (!(img->archs & client->arch))
		return BSDP_RULE_ARCHITECTURE;
	if (img->n_enabled_models && !model_listed(img, client))
		return BSDP_RULE_SYSTEM_IDENTIFIERS;
	if (mac_listed((const uint8_t(*)[6])img->disabled_macs, img->n_disabled_macs, client->mac))
		return BSDP_RULE_DISABLED_MAC;
	if (img->n_enabled_macs &&
	    !mac_listed((const uint8_t(*)[6])img->enabled_macs, img->n_enabled_macs, client->mac))
		return BSDP_RULE_ENABLED_MAC;
	return BSDP_RULE_OFFERED;
}

static enum bsdp_rule filtering(const struct bsdp_image *img, const struct bsdp_request *req)
{
	bool has_filter = req && (req->present & BSDP_HAS(BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST));

	if (!has_filter)
		return img->filter_only ? BSDP_RULE_FILTER_ONLY : BSDP_RULE_OFFERED;
	uint16_t attrs = BSDP_IMAGE_ID_ATTRIBUTES(img->id);
	for (size_t i = 0; i < req->n_filters; i++)
		if (req->filters[i] == attrs)
			return BSDP_RULE_OFFERED;
	return BSDP_RULE_ATTRIBUTE_FILTER;
}

enum bsdp_rule bsdp_policy_rule(const struct bsdp_image *img, const struct bsdp_client *client,
				const struct bsdp_request *req)
{
	if (!img || !client)
		return BSDP_RULE_NO_IMAGE;
	enum bsdp_rule r = applicability(img, client);
	return r != BSDP_RULE_OFFERED ? r : filtering(img, req);
}

bool bsdp_policy_applicable(const struct bsdp_image *img, const struct bsdp_client *client)
{
	return img && client && applicability(img, client) == BSDP_RULE_OFFERED;
}

bool bsdp_policy_passes_filter(const struct bsdp_image *img, const struct bsdp_request *req)
{
	return img && filtering(img, req) == BSDP_RULE_OFFERED;
}

bool bsdp_policy_visible(const struct bsdp_image *img, const struct bsdp_client *client,
			 const struct bsdp_request *req)
{
	return bsdp_policy_rule(img, client, req) == BSDP_RULE_OFFERED;
}

const char *bsdp_default_why_text(enum bsdp_default_why why)
{
	switch (why) {
	case BSDP_DEFAULT_GENERIC:
		return "IsDefault (for every model)";
	case BSDP_DEFAULT_MODEL:
		return "IsDefault for this model (EnabledSystemIdentifiers)";
	case BSDP_DEFAULT_FIRST:
		return "no offered image is IsDefault: the first offered one";
	case BSDP_DEFAULT_NONE:
		break;
	}
	return "no image is offered";
}

const struct bsdp_image *bsdp_policy_default(const struct bsdp_catalogue *c,
					     const struct bsdp_client *client,
					     const struct bsdp_request *req,
					     enum bsdp_default_why *ret_why)
{
	const struct bsdp_image *model_default = NULL, *first = NULL;
	enum bsdp_default_why dummy;
	enum bsdp_default_why *why = ret_why ? ret_why : &dummy;

	*why = BSDP_DEFAULT_NONE;
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_images; i++) {
		const struct bsdp_image *img = &c->images[i];
		if (!bsdp_policy_visible(img, client, req))
			continue;
		if (img->is_default && img->n_enabled_models == 0) {
			*why = BSDP_DEFAULT_GENERIC;
			return img; /* a generic default wins outright */
		}
		if (img->is_default && !model_default)
			model_default = img;
		if (!first)
			first = img;
	}
	if (model_default || first)
		*why = model_default ? BSDP_DEFAULT_MODEL : BSDP_DEFAULT_FIRST;
	return model_default ? model_default : first;
}

uint16_t bsdp_policy_load_priority(uint64_t bound)
{
	return bound >= BSDP_LOAD_PRIORITY_BASE ? 0 : (uint16_t)(BSDP_LOAD_PRIORITY_BASE - bound);
}
