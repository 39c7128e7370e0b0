/* SPDX-License-Identifier: MPL-2.0 */
#include "hook/policy.h"

#include <string.h>

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

bool bsdp_policy_applicable(const struct bsdp_image *img, const struct bsdp_client *client)
{
	if (!img || !client || !img->is_enabled)
		return false;
	if (!(img->archs & client->arch))
		return false;
	if (img->n_enabled_models && !model_listed(img, client))
		return false;
	if (mac_listed((const uint8_t(*)[6])img->disabled_macs, img->n_disabled_macs, client->mac))
		return false;
	if (img->n_enabled_macs &&
	    !mac_listed((const uint8_t(*)[6])img->enabled_macs, img->n_enabled_macs, client->mac))
		return false;
	return true;
}

bool bsdp_policy_passes_filter(const struct bsdp_image *img, const struct bsdp_request *req)
{
	bool has_filter = req && (req->present & BSDP_HAS(BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST));

	if (!has_filter)
		return !img->filter_only;
	uint16_t attrs = BSDP_IMAGE_ID_ATTRIBUTES(img->id);
	for (size_t i = 0; i < req->n_filters; i++)
		if (req->filters[i] == attrs)
			return true;
	return false;
}

bool bsdp_policy_visible(const struct bsdp_image *img, const struct bsdp_client *client,
			 const struct bsdp_request *req)
{
	return bsdp_policy_applicable(img, client) && bsdp_policy_passes_filter(img, req);
}

const struct bsdp_image *bsdp_policy_default(const struct bsdp_catalogue *c,
					     const struct bsdp_client *client,
					     const struct bsdp_request *req)
{
	const struct bsdp_image *model_default = NULL, *first = NULL;

	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n_images; i++) {
		const struct bsdp_image *img = &c->images[i];
		if (!bsdp_policy_visible(img, client, req))
			continue;
		if (img->is_default && img->n_enabled_models == 0)
			return img; /* a generic default wins outright */
		if (img->is_default && !model_default)
			model_default = img;
		if (!first)
			first = img;
	}
	return model_default ? model_default : first;
}

uint16_t bsdp_policy_load_priority(uint64_t bound)
{
	return bound >= BSDP_LOAD_PRIORITY_BASE ? 0 : (uint16_t)(BSDP_LOAD_PRIORITY_BASE - bound);
}
