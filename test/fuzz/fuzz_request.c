/* SPDX-License-Identifier: MPL-2.0 */
/* Fuzzes the whole request path: the first byte splits the input into
 * option 60 and option 43, then the responder decides against a small
 * catalogue and the reply it wrote must decode. The input is also read as
 * the option area of a received message, to recognise a BSDP request
 * and, as a DISCOVER from a bound MAC, to build an OFFER* that must decode. */
#include <stdlib.h>
#include <string.h>

#include "hook/responder.h"

static struct bsdp_catalogue *cat;
static struct bsdp_bindings *bindings;
static struct bsdp_responder resp;
static const uint8_t DISCOVER_MAC[6] = { 2, 0, 0, 0, 0, 1 };

static void add(uint16_t index, uint8_t kind, bool def, const char *name, enum bsdp_image_type t)
{
	struct bsdp_image img = {
		.id = BSDP_IMAGE_ID(0, kind, index), .index = index, .kind = kind, .is_default = def,
		.is_enabled = true, .filter_only = kind == 3, .type = t,
		.archs = BSDP_ARCH_I386 | BSDP_ARCH_ARM, .name = strdup(name), .name_len = strlen(name),
		.set_dir = strdup("Set.nbi"), .boot_file = strdup("booter"),
		.root_path = t == BSDP_TYPE_BOOTFILEONLY ? NULL : strdup("Net Boot.dmg"),
	};
	bsdp_catalogue_add(cat, &img);
}

static void init(void)
{
	struct bsdp_responder_config cfg = { .priority = 1, .nfs_url = "nfs:198.18.0.1:/sets" };
	char err[128];
	cat = bsdp_catalogue_new("/sets");
	add(1, 1, true, "One", BSDP_TYPE_HTTP);
	add(2, 1, false, "Two", BSDP_TYPE_NFS);
	add(3, 3, false, "Diags", BSDP_TYPE_BOOTFILEONLY);
	bindings = bsdp_bindings_new(64);
	bsdp_bindings_record(bindings, DISCOVER_MAC, BSDP_IMAGE_ID(0, 1, 2), 1, 0, NULL);
	if (bsdp_responder_init(&resp, &cfg, err, sizeof(err)) < 0)
		abort();
}

/* The OFFER* for a DISCOVER from the bound MAC: a whole message whose
 * option 43 names the image the responder chose. */
static void offer(const uint8_t *msg, size_t len)
{
	static uint8_t out[BSDP_OFFER_MAX], o43[256];
	struct bsdp_query q = { .msg = msg, .msg_len = len, .local_address = 0xc6120001, .now = 2 };
	struct bsdp_answer a;
	struct bsdp_reply rep;

	if (bsdp_responder_offer(&resp, cat, bindings, &q, out, sizeof(out), &a) < 0)
		abort();
	if (a.verdict != BSDP_VERDICT_REPLY)
		return;
	int n = bsdp_codec_dhcp_option(out + 240, a.message_len - 240, 43, o43, sizeof(o43), NULL);
	if (a.message_len > sizeof(out) || a.message_len < 300 || out[0] != 2 || n < 6 ||
	    bsdp_codec_parse_reply(o43, (size_t)n, &rep) < 0 || rep.selected_id != a.selected_id)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[8192], fused[8192];
	if (!cat)
		init();
	if (size < 1)
		return 0;
	/* The whole input as the option area of a received request, in a
	 * buffer of exactly that size so that a read past it is caught. */
	uint8_t *msg = malloc(240 + size);
	if (!msg)
		abort();
	memset(msg, 0, 240);
	msg[0] = 1;
	memcpy(msg + 236, (const uint8_t[]){ 99, 130, 83, 99 }, 4);
	memcpy(msg + 240, data, size);
	(void)bsdp_codec_is_bsdp_inform(msg, 240 + size);
	msg[1] = 1;
	msg[2] = 6;
	memcpy(msg + 28, DISCOVER_MAC, 6);
	offer(msg, 240 + size);
	free(msg);
	size_t split = data[0] < size - 1 ? data[0] : size - 1;
	const uint8_t *rest = data + 1;
	struct bsdp_query q = {
		.opt60 = (const char *)rest, .opt60_len = split,
		.opt43 = rest + split, .opt43_len = size - 1 - split,
		.mac = { 0, 1, 2, 3, 4, (uint8_t)size }, .mac_valid = true, .ciaddr = 0xc6120064,
		.local_address = 0xc6120001, .opt57 = size > 3 ? (int)(data[1] << 4) : -1,
		.reply_overhead = 261, .now = 1,
	};
	struct bsdp_answer a;
	if (bsdp_responder_answer(&resp, cat, bindings, &q, out, sizeof(out), 253, &a) < 0)
		abort();
	bsdp_responder_commit(bindings, &q, &a);
	if (a.verdict != BSDP_VERDICT_REPLY)
		return 0;
	/* Every instance whole, and the fused reply decodes. */
	size_t at = 0, n = 0;
	while (at < a.opt43_len) {
		struct bsdp_reply one;
		if (out[at] != 43 || out[at + 1] > 253 || bsdp_codec_parse_reply(out + at + 2, out[at + 1], &one) < 0)
			abort();
		memcpy(fused + n, out + at + 2, out[at + 1]);
		n += out[at + 1];
		at += 2 + out[at + 1];
	}
	struct bsdp_reply rep;
	if (at != a.opt43_len || bsdp_codec_parse_reply(fused, n, &rep) < 0 || rep.msg_type != a.sent)
		abort();
	if (a.sent == BSDP_MSGTYPE_LIST && rep.n_images != a.images_listed)
		abort();
	return 0;
}
