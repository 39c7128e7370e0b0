/* SPDX-License-Identifier: MPL-2.0 */
/* Fuzzes the reply decoder bsdpc relies on, and the DHCP option walker:
 * whatever validates must iterate to exactly the counted images. */
#include <stdlib.h>

#include "hook/bsdp_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t joined[65536];
	struct bsdp_reply rep;
	if (bsdp_codec_parse_reply(data, size, &rep) == 0) {
		struct bsdp_image_iter it;
		uint32_t id;
		const uint8_t *name;
		size_t len, n = 0;
		bsdp_image_iter_init(&it, &rep);
		while (bsdp_image_iter_next(&it, &id, &name, &len) == 1) {
			if (name < data || name + len > data + size)
				abort();
			n++;
		}
		if (n != rep.n_images)
			abort();
	}
	size_t instances;
	int r = bsdp_codec_dhcp_option(data, size, 43, joined, sizeof(joined), &instances);
	if (r > (int)size)
		abort();
	return 0;
}
