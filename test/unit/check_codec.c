/* SPDX-License-Identifier: MPL-2.0 */
/* The BSDP codec: request parsing by code, vendor class, reply packing. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hook/bsdp_codec.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

struct vector {
	const char *name;
	const uint8_t *bytes;
	size_t len;
};
#define VEC(n, ...) { n, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }) }

/* Valid requests as real clients order them. */
static const struct vector valid_requests[] = {
	VEC("firmware LIST", 0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x01),
	VEC("firmware SELECT 3 then 8", 0x01, 0x01, 0x02, 0x02, 0x02, 0x01, 0x01, 0x03, 0x04, 198, 18,
	    0, 1, 0x08, 0x04, 0x01, 0x00, 0x00, 0x7b),
	VEC("SELECT 8 then 3", 0x08, 0x04, 0x01, 0x00, 0x00, 0x7b, 0x03, 0x04, 198, 18, 0, 1, 0x02,
	    0x02, 0x01, 0x01, 0x01, 0x01, 0x02),
	VEC("software LIST with port and size", 0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x01, 0x05, 0x02,
	    0x03, 0x20, 0x0c, 0x02, 0x05, 0xdc),
	VEC("LIST with filter and pad and end", 0x00, 0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x01, 0x0b,
	    0x04, 0x01, 0x00, 0x03, 0x00, 0x00, 0xff, 0x07),
	VEC("LIST with unknown and 1.0 firmware", 0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x00, 0x0a, 0x00,
	    0x63, 0x03, 0xaa, 0xbb, 0xcc, 0x06, 0x02, 'a', 'b'),
};

START_TEST(test_codec_parses_every_valid_vector)
{
	struct bsdp_request req;
	const struct vector *v = &valid_requests[_i];
	ck_assert_msg(bsdp_codec_parse_request(v->bytes, v->len, &req) == 0, "%s", v->name);
	ck_assert(req.present & BSDP_HAS(BSDP_OPT_MESSAGE_TYPE));
	ck_assert(req.present & BSDP_HAS(BSDP_OPT_VERSION));
}
END_TEST

START_TEST(test_codec_parses_select_by_code_not_position)
{
	struct bsdp_request a, b;
	ck_assert_int_eq(bsdp_codec_parse_request(valid_requests[1].bytes, valid_requests[1].len, &a), 0);
	ck_assert_int_eq(bsdp_codec_parse_request(valid_requests[2].bytes, valid_requests[2].len, &b), 0);
	ck_assert_uint_eq(a.msg_type, BSDP_MSGTYPE_SELECT);
	ck_assert_uint_eq(a.server_id, 0xc6120001u);
	ck_assert_uint_eq(a.selected_image, 0x0100007bu);
	ck_assert_uint_eq(a.version, BSDP_VERSION_1_1);
	ck_assert_uint_eq(a.present, b.present);
	ck_assert_uint_eq(a.server_id, b.server_id);
	ck_assert_uint_eq(a.selected_image, b.selected_image);
}
END_TEST

START_TEST(test_codec_reads_port_size_filters)
{
	struct bsdp_request r;
	ck_assert_int_eq(bsdp_codec_parse_request(valid_requests[3].bytes, valid_requests[3].len, &r), 0);
	ck_assert_uint_eq(r.reply_port, 800);
	ck_assert_uint_eq(r.max_message_size, 1500);
	ck_assert_int_eq(bsdp_codec_parse_request(valid_requests[4].bytes, valid_requests[4].len, &r), 0);
	ck_assert_uint_eq(r.n_filters, 2);
	ck_assert_uint_eq(r.filters[0], 0x0100);
	ck_assert_uint_eq(r.filters[1], 0x0300);
	ck_assert_int_eq(bsdp_codec_parse_request(valid_requests[5].bytes, valid_requests[5].len, &r), 0);
	ck_assert_uint_eq(r.version, BSDP_VERSION_1_0);
	ck_assert(r.present & BSDP_HAS(BSDP_OPT_NETBOOT_1_0_FIRMWARE));
}
END_TEST

/* Every prefix of a valid vector either parses (a shorter TLV list) or is
 * rejected as malformed; never read past the prefix (ASan watches that, the
 * prefix is copied into an exact-size heap block). */
START_TEST(test_codec_truncated_prefixes_rejected_or_ignored)
{
	for (size_t vi = 0; vi < LEN(valid_requests); vi++) {
		const struct vector *v = &valid_requests[vi];
		for (size_t n = 0; n < v->len; n++) {
			uint8_t *copy = malloc(n ? n : 1);
			memcpy(copy, v->bytes, n);
			struct bsdp_request req;
			memset(&req, 0x5a, sizeof(req));
			int r = bsdp_codec_parse_request(copy, n, &req);
			ck_assert_msg(r == 0 || r == -EBADMSG, "%s prefix %zu: %d", v->name, n, r);
			if (r == -EBADMSG)
				ck_assert_uint_eq(req.present, 0x5a5a5a5au); /* untouched */
			free(copy);
		}
	}
}
END_TEST

static const struct vector bad_lengths[] = {
	VEC("zero-length version", 0x01, 0x01, 0x01, 0x02, 0x00),
	VEC("three-byte version", 0x02, 0x03, 0x01, 0x01, 0x00),
	VEC("two-byte message type", 0x01, 0x02, 0x01, 0x01),
	VEC("short server id", 0x03, 0x03, 1, 2, 3),
	VEC("long server id", 0x03, 0x05, 1, 2, 3, 4, 5),
	VEC("short selected id", 0x08, 0x02, 1, 2),
	VEC("one-byte reply port", 0x05, 0x01, 0x03),
	VEC("odd filter", 0x0b, 0x03, 1, 0, 3),
	VEC("empty filter", 0x0b, 0x00),
	VEC("nonempty 1.0 firmware", 0x0a, 0x01, 0x00),
	VEC("three-byte max size", 0x0c, 0x03, 1, 2, 3),
	VEC("overrun", 0x01, 0x01, 0x01, 0x09, 0x10, 1, 2),
	VEC("lone code", 0x01, 0x01, 0x01, 0x02),
};

START_TEST(test_codec_rejects_wrong_lengths)
{
	struct bsdp_request req;
	const struct vector *v = &bad_lengths[_i];
	ck_assert_msg(bsdp_codec_parse_request(v->bytes, v->len, &req) == -EBADMSG, "%s", v->name);
}
END_TEST

START_TEST(test_codec_first_duplicate_wins)
{
	static const uint8_t b[] = { 0x01, 0x01, 0x01, 0x02, 0x02, 0x01, 0x01, 0x01, 0x01, 0x02,
				     0x05, 0x02, 0x00, 0x44, 0x05, 0x02, 0x10, 0x00 };
	struct bsdp_request r;
	ck_assert_int_eq(bsdp_codec_parse_request(b, sizeof(b), &r), 0);
	ck_assert_uint_eq(r.msg_type, BSDP_MSGTYPE_LIST);
	ck_assert_uint_eq(r.reply_port, 0x44);
}
END_TEST

START_TEST(test_codec_fused_instances_parse_as_one)
{
	/* Kea hands over every option-43 instance joined (RFC 3396). */
	static const uint8_t b[] = { 0x01, 0x01, 0x02, /* instance 1 */
				     0x02, 0x02, 0x01, 0x01, 0x08, 0x04, 0x81, 0, 0x03, 0x60 };
	struct bsdp_request r;
	ck_assert_int_eq(bsdp_codec_parse_request(b, sizeof(b), &r), 0);
	ck_assert_uint_eq(r.selected_image, 0x81000360u);
	ck_assert_int_eq(bsdp_codec_parse_request(NULL, 0, &r), 0);
	ck_assert_uint_eq(r.present, 0);
}
END_TEST

/* ---- vendor class ---- */

START_TEST(test_codec_vendor_class_splits_like_apple)
{
	struct bsdp_vendor_class vc;
	const char *s = "AAPLBSDPC/i386/MacBookPro11,1";
	ck_assert_int_eq(bsdp_codec_parse_vendor_class(s, strlen(s), &vc), 0);
	ck_assert_str_eq(vc.arch, "i386");
	ck_assert_str_eq(vc.model, "MacBookPro11,1");
	s = "AAPLBSDPC/arm/Vendor/Model/3";
	ck_assert_int_eq(bsdp_codec_parse_vendor_class(s, strlen(s), &vc), 0);
	ck_assert_str_eq(vc.arch, "arm");
	ck_assert_str_eq(vc.model, "Vendor/Model/3");
	s = "AAPLBSDPC/ppc";
	ck_assert_int_eq(bsdp_codec_parse_vendor_class(s, strlen(s), &vc), 0);
	ck_assert_str_eq(vc.arch, "ppc");
	ck_assert_uint_eq(vc.model_len, 0);
}
END_TEST

START_TEST(test_codec_vendor_class_rejects)
{
	struct bsdp_vendor_class vc;
	static const struct {
		const char *s;
		size_t len;
		int err;
	} cases[] = {
		{ "AAPLBSDPC", 9, -EPROTO },
		{ "AAPLBSDPC/", 10, -EPROTO },
		{ "AAPLBSDPC//Mac", 14, -EPROTO },
		{ "AAPLBSDP/i386/Mac", 17, -EPROTO },
		{ "AAPLBSDPC/i386/Mac\0x", 20, -EPROTO },
		{ "AAPLBSDPC/i386/Mac\nx", 20, -EPROTO },
		{ "aaplbsdpc/i386/Mac", 18, -EPROTO },
		{ "AAPLBSDPC/abcdefghijklmnopqrstuvwxyz0123456/M", 45, -ERANGE },
	};
	for (size_t i = 0; i < LEN(cases); i++)
		ck_assert_msg(bsdp_codec_parse_vendor_class(cases[i].s, cases[i].len, &vc) == cases[i].err,
			      "case %zu", i);
}
END_TEST

/* ---- sizes ---- */

START_TEST(test_codec_max_reply_size_as_bootpd)
{
	struct bsdp_request r = { 0 };
	ck_assert_uint_eq(bsdp_codec_max_reply_size(&r, -1), 520);
	ck_assert_uint_eq(bsdp_codec_max_reply_size(&r, 300), 520);
	ck_assert_uint_eq(bsdp_codec_max_reply_size(&r, 576), 548);
	ck_assert_uint_eq(bsdp_codec_max_reply_size(&r, 1500), 1472);
	ck_assert_uint_eq(bsdp_codec_max_reply_size(&r, 65535), 8164);
	r.present = BSDP_HAS(BSDP_OPT_MAX_MESSAGE_SIZE);
	r.max_message_size = 1024;
	ck_assert_uint_eq(bsdp_codec_max_reply_size(&r, 1500), 996); /* 12 beats 57 */
	r.max_message_size = 100;
	ck_assert_uint_eq(bsdp_codec_max_reply_size(&r, 1500), 520);
}
END_TEST

START_TEST(test_codec_utf8_cut_on_character_boundary)
{
	char name[300];
	memset(name, 'a', sizeof(name));
	ck_assert_uint_eq(bsdp_codec_utf8_cut(name, 245, 246), 245);
	ck_assert_uint_eq(bsdp_codec_utf8_cut(name, 246, 246), 246);
	ck_assert_uint_eq(bsdp_codec_utf8_cut(name, 247, 246), 246);
	/* "é" (c3 a9) at 245..246 straddles the limit: cut before it. */
	name[245] = (char)0xc3;
	name[246] = (char)0xa9;
	ck_assert_uint_eq(bsdp_codec_utf8_cut(name, 260, 246), 245);
	/* A 4-byte character ending exactly at the limit stays. */
	memcpy(name + 242, "\xf0\x9f\x98\x80", 4);
	name[246] = 'a';
	ck_assert_uint_eq(bsdp_codec_utf8_cut(name, 260, 246), 246);
}
END_TEST

/* ---- writer ---- */

/* Seed 003: exact description bytes for its two sets. */
START_TEST(test_codec_seed003_list_bytes_exact)
{
	static const char n1[] = "Orchard Primary 10.8.4 NetBoot";
	static const char n2[] = "10.9.0 NetBoot for Testing Only";
	uint8_t expect[128], buf[512];
	size_t e = 0;
	expect[e++] = 0x01; expect[e++] = 0x00; expect[e++] = 0x00; expect[e++] = 0x7b;
	expect[e++] = 0x1e; memcpy(expect + e, n1, 30); e += 30;
	expect[e++] = 0x01; expect[e++] = 0x00; expect[e++] = 0x01; expect[e++] = 0xc8;
	expect[e++] = 0x1f; memcpy(expect + e, n2, 31); e += 31;

	struct bsdp_writer w;
	ck_assert_int_eq(bsdp_writer_init(&w, buf, sizeof(buf), 520, 255), 0);
	ck_assert_int_eq(bsdp_writer_put_image(&w, BSDP_IMAGE_ID(0, 1, 123), n1, strlen(n1)), 0);
	ck_assert_int_eq(bsdp_writer_put_image(&w, BSDP_IMAGE_ID(0, 1, 456), n2, strlen(n2)), 0);
	size_t len = bsdp_writer_finish(&w);
	ck_assert_uint_eq(len, 2 + 2 + e);
	ck_assert_uint_eq(buf[0], 43);
	ck_assert_uint_eq(buf[1], 2 + e);
	ck_assert_uint_eq(buf[2], BSDP_OPT_BOOT_IMAGE_LIST);
	ck_assert_uint_eq(buf[3], e);
	ck_assert_mem_eq(buf + 4, expect, e);
}
END_TEST

START_TEST(test_codec_failed_is_exactly_010103)
{
	uint8_t buf[16];
	struct bsdp_writer w;
	bsdp_writer_init(&w, buf, sizeof(buf), 520, 255);
	ck_assert_int_eq(bsdp_codec_build_failed(&w), 0);
	ck_assert_uint_eq(bsdp_writer_finish(&w), 5);
	ck_assert_mem_eq(buf, ((const uint8_t[]){ 43, 3, 1, 1, 3 }), 5);
}
END_TEST

START_TEST(test_codec_select_layout)
{
	uint8_t buf[64];
	struct bsdp_writer w;
	bsdp_writer_init(&w, buf, sizeof(buf), 520, 255);
	ck_assert_int_eq(bsdp_codec_build_select(&w, 0x81000360, "NetBoot001", 10), 0);
	static const uint8_t expect[] = { 43, 21, 1, 1, 2, 8, 4, 0x81, 0, 3, 0x60, 130, 10,
					  'N', 'e', 't', 'B', 'o', 'o', 't', '0', '0', '1' };
	ck_assert_uint_eq(bsdp_writer_finish(&w), sizeof(expect));
	ck_assert_mem_eq(buf, expect, sizeof(expect));
}
END_TEST

START_TEST(test_codec_list_head_order_1_4_7_8_9)
{
	uint8_t buf[64];
	struct bsdp_writer w;
	struct bsdp_list_head h = { .priority = 0x7ffe, .default_id = 0x82000447, .selected_id = 0x81000360 };
	bsdp_writer_init(&w, buf, sizeof(buf), 520, 255);
	ck_assert_int_eq(bsdp_codec_begin_list(&w, &h), 0);
	ck_assert_int_eq(bsdp_writer_put_image(&w, 0x82000447, "DSR", 3), 0);
	static const uint8_t expect[] = { 43, 29, 1, 1, 1, 4, 2, 0x7f, 0xfe, 7, 4, 0x82, 0, 4, 0x47,
					  8, 4, 0x81, 0, 3, 0x60, 9, 8, 0x82, 0, 4, 0x47, 3,
					  'D', 'S', 'R' };
	ck_assert_uint_eq(bsdp_writer_finish(&w), sizeof(expect));
	ck_assert_mem_eq(buf, expect, sizeof(expect));
	/* Without a binding there is no 8. */
	h.selected_id = 0;
	bsdp_writer_init(&w, buf, sizeof(buf), 520, 255);
	bsdp_codec_begin_list(&w, &h);
	ck_assert_uint_eq(bsdp_writer_finish(&w), 2 + 3 + 4 + 6);
}
END_TEST

START_TEST(test_codec_enobufs_leaves_writer_unchanged)
{
	uint8_t buf[32];
	struct bsdp_writer w;
	bsdp_writer_init(&w, buf, sizeof(buf), 20, 255);
	ck_assert_int_eq(bsdp_writer_put_u8(&w, 1, 1), 0);
	ck_assert_int_eq(bsdp_writer_put_image(&w, 1, "abcdef", 6), 0); /* 5 + 13 = 18 */
	struct bsdp_writer before = w;
	ck_assert_int_eq(bsdp_writer_put_image(&w, 2, "x", 1), -ENOBUFS);
	ck_assert_mem_eq(&before, &w, sizeof(w));
	ck_assert_int_eq(bsdp_writer_put_u16(&w, 4, 7), -ENOBUFS);
	ck_assert_uint_eq(w.len, before.len);
	ck_assert_int_eq(bsdp_writer_put_u8(&w, 1, 1), -ENOBUFS); /* 18 + 3 > 20 */
	ck_assert_uint_eq(bsdp_writer_finish(&w), 18);
}
END_TEST

START_TEST(test_codec_block_size_bounds)
{
	uint8_t buf[8];
	struct bsdp_writer w;
	ck_assert_int_eq(bsdp_writer_init(&w, buf, sizeof(buf), 8, 256), -EINVAL);
	ck_assert_int_eq(bsdp_writer_init(&w, buf, sizeof(buf), 8, 255), 0);
	ck_assert_int_eq(bsdp_writer_init(&w, buf, sizeof(buf), 8, 7), -EINVAL);
}
END_TEST

/* Each instance must parse on its own, as Apple's parsers read them. */
static void assert_instances_whole(const uint8_t *buf, size_t len, size_t block_size, size_t *ret_n)
{
	size_t at = 0, n = 0;
	while (at < len) {
		ck_assert_uint_eq(buf[at], 43);
		ck_assert_uint_ge(len - at, 2);
		size_t plen = buf[at + 1];
		ck_assert_uint_le(plen, block_size);
		ck_assert_uint_le(plen, len - at - 2);
		struct bsdp_reply rep;
		ck_assert_int_eq(bsdp_codec_parse_reply(buf + at + 2, plen, &rep), 0);
		at += 2 + plen;
		n++;
	}
	if (ret_n)
		*ret_n = n;
}

/* Concatenates the payloads for the decoder. */
static size_t fuse(const uint8_t *buf, size_t len, uint8_t *out)
{
	size_t at = 0, o = 0;
	while (at < len) {
		memcpy(out + o, buf + at + 2, buf[at + 1]);
		o += buf[at + 1];
		at += 2 + buf[at + 1];
	}
	return o;
}

START_TEST(test_codec_names_245_246_247_and_block_sizes_252_to_255)
{
	static const size_t name_lens[] = { 245, 246, 247 };
	char name[300];
	memset(name, 'n', sizeof(name));
	for (size_t bs = 252; bs <= 255; bs++) {
		for (size_t k = 0; k < LEN(name_lens); k++) {
			uint8_t buf[2048], fused[2048];
			struct bsdp_writer w;
			struct bsdp_list_head h = { .priority = 1, .default_id = 0x01000001 };
			ck_assert_int_eq(bsdp_writer_init(&w, buf, sizeof(buf), 1472, bs), 0);
			ck_assert_int_eq(bsdp_codec_begin_list(&w, &h), 0);
			for (uint32_t i = 1; i <= 3; i++)
				ck_assert_int_eq(bsdp_writer_put_image(&w, 0x01000000 | i, name, name_lens[k]), 0);
			size_t len = bsdp_writer_finish(&w), n;
			assert_instances_whole(buf, len, bs, &n);
			ck_assert_uint_eq(n, 4); /* head, then one description per instance */
			struct bsdp_reply rep;
			ck_assert_int_eq(bsdp_codec_parse_reply(fused, fuse(buf, len, fused), &rep), 0);
			ck_assert_uint_eq(rep.n_images, 3);
			struct bsdp_image_iter it;
			bsdp_image_iter_init(&it, &rep);
			uint32_t id;
			const uint8_t *nm;
			size_t nl;
			size_t want = name_lens[k] > 246 ? 246 : name_lens[k];
			if (want > bs - 7)
				want = bs - 7;
			for (uint32_t i = 1; i <= 3; i++) {
				ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &nm, &nl), 1);
				ck_assert_uint_eq(id, 0x01000000 | i);
				ck_assert_uint_eq(nl, want);
			}
			ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &nm, &nl), 0);
		}
	}
}
END_TEST

START_TEST(test_codec_index_boundaries_round_trip)
{
	static const uint32_t indexes[] = { 1, 4095, 4096, 65535 };
	uint8_t buf[256], fused[256];
	struct bsdp_writer w;
	bsdp_writer_init(&w, buf, sizeof(buf), 520, 255);
	for (size_t i = 0; i < LEN(indexes); i++)
		bsdp_writer_put_image(&w, BSDP_IMAGE_ID(i & 1, 3, indexes[i]), "x", 1);
	size_t len = bsdp_writer_finish(&w);
	struct bsdp_reply rep;
	ck_assert_int_eq(bsdp_codec_parse_reply(fused, fuse(buf, len, fused), &rep), 0);
	struct bsdp_image_iter it;
	bsdp_image_iter_init(&it, &rep);
	for (size_t i = 0; i < LEN(indexes); i++) {
		uint32_t id;
		const uint8_t *nm;
		size_t nl;
		ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &nm, &nl), 1);
		ck_assert_uint_eq(BSDP_IMAGE_ID_INDEX(id), indexes[i]);
		ck_assert_uint_eq(BSDP_IMAGE_ID_KIND(id), 3);
		ck_assert(BSDP_IMAGE_ID_INSTALL(id) == (bool)(i & 1));
	}
	/* Index 0 and 65536 cannot be expressed: 65536 wraps to 0, which the
	 * catalogue rejects before any id is built. */
	ck_assert_uint_eq(BSDP_IMAGE_ID_INDEX(BSDP_IMAGE_ID(0, 1, 65536)), 0);
}
END_TEST

/* 300 images under each budget: blocks <= 255, no sub-option split, the
 * decoder reads back exactly the images that fit, in order. */
START_TEST(test_codec_300_images_pack_within_budgets)
{
	static const size_t budgets[] = { 520, 548, 1472, 8164 };
	static uint8_t buf[9000], fused[9000];
	for (size_t b = 0; b < LEN(budgets); b++) {
		struct bsdp_writer w;
		struct bsdp_list_head h = { .priority = 32768, .default_id = 0x01000001 };
		ck_assert_int_eq(bsdp_writer_init(&w, buf, sizeof(buf), budgets[b], 255), 0);
		ck_assert_int_eq(bsdp_codec_begin_list(&w, &h), 0);
		size_t fit = 0, refused = 0;
		for (uint32_t i = 1; i <= 300; i++) {
			char name[64];
			int n = snprintf(name, sizeof(name), "Image number %u of the big catalogue", i);
			if (bsdp_writer_put_image(&w, 0x01000000 | i, name, (size_t)n) < 0) {
				refused = (size_t)n;
				break;
			}
			fit++;
		}
		ck_assert_uint_eq(fit, w.images);
		size_t len = bsdp_writer_finish(&w);
		ck_assert_uint_le(len, budgets[b]);
		ck_assert_uint_lt(fit, 300); /* even 8164 cannot hold 300 such names */
		/* Truncated at a description boundary: the refused description would
		 * not have fit even in a fresh instance. */
		ck_assert_uint_gt(refused, 0);
		ck_assert_uint_lt(budgets[b] - len, 2 + 2 + 5 + refused);
		assert_instances_whole(buf, len, 255, NULL);
		struct bsdp_reply rep;
		ck_assert_int_eq(bsdp_codec_parse_reply(fused, fuse(buf, len, fused), &rep), 0);
		ck_assert_uint_eq(rep.n_images, fit);
		ck_assert_uint_eq(rep.default_id, 0x01000001);
		struct bsdp_image_iter it;
		bsdp_image_iter_init(&it, &rep);
		for (uint32_t i = 1; i <= fit; i++) {
			uint32_t id;
			const uint8_t *nm;
			size_t nl;
			char name[64];
			int n = snprintf(name, sizeof(name), "Image number %u of the big catalogue", i);
			ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &nm, &nl), 1);
			ck_assert_uint_eq(id, 0x01000000 | i);
			ck_assert_uint_eq(nl, (size_t)n);
			ck_assert_mem_eq(nm, name, nl);
		}
	}
}
END_TEST

START_TEST(test_codec_300_images_all_fit_in_large_buffer)
{
	static uint8_t buf[40000], fused[40000];
	struct bsdp_writer w;
	bsdp_writer_init(&w, buf, sizeof(buf), sizeof(buf), 255);
	for (uint32_t i = 1; i <= 300; i++)
		ck_assert_int_eq(bsdp_writer_put_image(&w, 0x01000000 | i, "Some image name", 15), 0);
	size_t len = bsdp_writer_finish(&w), n;
	assert_instances_whole(buf, len, 255, &n);
	ck_assert_uint_eq(n, 25); /* 12 descriptions of 20 bytes fill 244 of 255 */
	struct bsdp_reply rep;
	ck_assert_int_eq(bsdp_codec_parse_reply(fused, fuse(buf, len, fused), &rep), 0);
	ck_assert_uint_eq(rep.n_images, 300);
}
END_TEST

/* ---- reply decoding ---- */

/* The OS X 10.11 server's ACK[LIST] (test/vectors/README.md); the suites run
 * from the source tree. */
static size_t read_osx1011_ack_list(uint8_t *buf, size_t size)
{
	FILE *f = fopen("test/vectors/osx1011-ack-list.bin", "rb");
	ck_assert_msg(f != NULL, "test/vectors/osx1011-ack-list.bin: %s", strerror(errno));
	size_t n = fread(buf, 1, size, f);
	fclose(f);
	ck_assert_uint_eq(n, 349);
	return n;
}

START_TEST(test_codec_decodes_osx1011_ack_list)
{
	uint8_t pkt[512], opt43[512];
	size_t n = read_osx1011_ack_list(pkt, sizeof(pkt));
	size_t instances;
	int len = bsdp_codec_dhcp_option(pkt + 240, n - 240, 43, opt43, sizeof(opt43), &instances);
	ck_assert_int_eq(len, 86);
	ck_assert_uint_eq(instances, 1);
	struct bsdp_reply rep;
	ck_assert_int_eq(bsdp_codec_parse_reply(opt43, (size_t)len, &rep), 0);
	ck_assert_uint_eq(rep.msg_type, BSDP_MSGTYPE_LIST);
	ck_assert_uint_eq(rep.priority, 32766);
	ck_assert_uint_eq(rep.default_id, 0x82000447);
	ck_assert_uint_eq(rep.n_images, 2);
	struct bsdp_image_iter it;
	bsdp_image_iter_init(&it, &rep);
	uint32_t id;
	const uint8_t *nm;
	size_t nl;
	ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &nm, &nl), 1);
	ck_assert_uint_eq(id, 0x82000447);
	ck_assert_mem_eq(nm, "DSR-1095", 8);
	ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &nm, &nl), 1);
	ck_assert_uint_eq(id, 0x81000360);
	ck_assert_uint_eq(nl, 53);
	ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &nm, &nl), 0);
	/* Option 60 is exactly AAPLBSDPC. */
	uint8_t v60[16];
	ck_assert_int_eq(bsdp_codec_dhcp_option(pkt + 240, n - 240, 60, v60, sizeof(v60), NULL), 9);
	ck_assert_mem_eq(v60, "AAPLBSDPC", 9);
}
END_TEST

START_TEST(test_codec_reply_rejects_broken_descriptions)
{
	static const uint8_t short_desc[] = { 1, 1, 1, 9, 4, 1, 0, 0, 1 };
	static const uint8_t long_name[] = { 1, 1, 1, 9, 6, 1, 0, 0, 1, 5, 'a' };
	struct bsdp_reply rep;
	ck_assert_int_eq(bsdp_codec_parse_reply(short_desc, sizeof(short_desc), &rep), -EBADMSG);
	ck_assert_int_eq(bsdp_codec_parse_reply(long_name, sizeof(long_name), &rep), -EBADMSG);
}
END_TEST

START_TEST(test_codec_dhcp_option_joins_instances)
{
	static const uint8_t opts[] = { 53, 1, 5, 43, 3, 1, 1, 1, 0, 43, 2, 9, 0, 255, 43, 1, 7 };
	uint8_t out[16];
	size_t inst;
	ck_assert_int_eq(bsdp_codec_dhcp_option(opts, sizeof(opts), 43, out, sizeof(out), &inst), 5);
	ck_assert_uint_eq(inst, 2); /* nothing after END */
	ck_assert_mem_eq(out, ((const uint8_t[]){ 1, 1, 1, 9, 0 }), 5);
	ck_assert_int_eq(bsdp_codec_dhcp_option(opts, sizeof(opts), 43, out, 4, NULL), -ENOBUFS);
	ck_assert_int_eq(bsdp_codec_dhcp_option(opts, sizeof(opts), 17, out, sizeof(out), NULL), -ENOENT);
	ck_assert_int_eq(bsdp_codec_dhcp_option(opts, 5, 43, out, sizeof(out), NULL), -EBADMSG);
}
END_TEST

/* ---- recognising a BSDP request in a received message ---- */

/* A DHCPINFORM as a Mac sends it: header, cookie, then `opts`. */
static size_t raw_inform(uint8_t *pkt, const uint8_t *opts, size_t opts_len)
{
	memset(pkt, 0, 240);
	pkt[0] = 1; /* BOOTREQUEST */
	pkt[1] = 1;
	pkt[2] = 6;
	memcpy(pkt + 236, (const uint8_t[]){ 99, 130, 83, 99 }, 4);
	memcpy(pkt + 240, opts, opts_len);
	return 240 + opts_len;
}

#define VC60 60, 30, 'A', 'A', 'P', 'L', 'B', 'S', 'D', 'P', 'C', '/', 'i', '3', '8', '6', '/', \
	'M', 'a', 'c', 'B', 'o', 'o', 'k', 'P', 'r', 'o', '1', '1', ',', '1'
static const uint8_t bsdp_inform_opts[] = { 53, 1, 8, 55, 3, 1, 43, 60, 57, 2, 5, 220, VC60,
					    43, 15, 1, 1, 1, 2, 2, 1, 1, 5, 2, 3, 0xf3, 12, 2, 5, 220,
					    255 };

START_TEST(test_codec_recognises_bsdp_inform)
{
	uint8_t pkt[512];
	size_t n = raw_inform(pkt, bsdp_inform_opts, sizeof(bsdp_inform_opts));
	ck_assert(bsdp_codec_is_bsdp_inform(pkt, n));
	/* Option order does not matter; option 43 is not needed to decide. */
	static const uint8_t reversed[] = { VC60, 0, 0, 53, 1, 8, 255 };
	ck_assert(bsdp_codec_is_bsdp_inform(pkt, raw_inform(pkt, reversed, sizeof(reversed))));
	/* Every prefix of the message is read without going past it, and is a
	 * BSDP request exactly when options 53 and 60 are whole in it. */
	n = raw_inform(pkt, bsdp_inform_opts, sizeof(bsdp_inform_opts));
	size_t whole = 240 + 12 + 32; /* through option 60 */
	for (size_t len = 0; len <= n; len++) {
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, pkt, len);
		ck_assert_msg(bsdp_codec_is_bsdp_inform(copy, len) == (len >= whole), "prefix %zu", len);
		free(copy);
	}
	ck_assert(!bsdp_codec_is_bsdp_inform(NULL, n));
}
END_TEST

START_TEST(test_codec_tells_other_messages_apart)
{
	uint8_t pkt[512];
	static const struct {
		const char *what;
		uint8_t opts[48];
		size_t len;
	} other[] = {
		{ "DHCPREQUEST", { 53, 1, 3, VC60, 255 }, 36 },
		{ "no option 53", { VC60, 255 }, 33 },
		{ "option 53 of 2 bytes", { 53, 2, 8, 0, VC60, 255 }, 37 },
		{ "no option 60", { 53, 1, 8, 255 }, 4 },
		{ "option 60 without the slash", { 53, 1, 8, 60, 9, 'A', 'A', 'P', 'L', 'B', 'S', 'D', 'P', 'C', 255 }, 15 },
		{ "another vendor", { 53, 1, 8, 60, 10, 'P', 'X', 'E', 'C', 'l', 'i', 'e', 'n', 't', ':', 255 }, 16 },
		{ "options after END", { 53, 1, 8, 255, VC60 }, 36 },
		{ "a broken option before 60", { 53, 1, 8, 12, 200, 'x', VC60 }, 38 },
		{ "the first option 53 counts", { 53, 1, 3, 53, 1, 8, VC60, 255 }, 39 },
	};
	for (size_t i = 0; i < LEN(other); i++)
		ck_assert_msg(!bsdp_codec_is_bsdp_inform(pkt, raw_inform(pkt, other[i].opts, other[i].len)),
			      "%s", other[i].what);
	size_t n = raw_inform(pkt, bsdp_inform_opts, sizeof(bsdp_inform_opts));
	pkt[0] = 2; /* a BOOTREPLY */
	ck_assert(!bsdp_codec_is_bsdp_inform(pkt, n));
	pkt[0] = 1;
	pkt[239] = 0x64; /* no magic cookie */
	ck_assert(!bsdp_codec_is_bsdp_inform(pkt, n));
	/* The real OS X server's ACK[LIST] is a reply, not a request. */
	n = read_osx1011_ack_list(pkt, sizeof(pkt));
	ck_assert(!bsdp_codec_is_bsdp_inform(pkt, n));
}
END_TEST

/* The message type of a BSDP client's message, whatever it is; 0 for the rest. */
START_TEST(test_codec_bsdp_dhcp_type)
{
	uint8_t m[300] = { 1, 1, 6 };
	static const uint8_t opts[] = { 99, 130, 83, 99, 53, 1, 1, 60, 14, 'A', 'A', 'P', 'L', 'B', 'S',
					'D', 'P', 'C', '/', 'i', '3', '8', '6', 255 };
	memcpy(m + 236, opts, sizeof(opts));
	ck_assert_int_eq(bsdp_codec_bsdp_dhcp_type(m, 236 + sizeof(opts)), 1);
	ck_assert(!bsdp_codec_is_bsdp_inform(m, sizeof(m)));
	m[242] = 8;
	ck_assert_int_eq(bsdp_codec_bsdp_dhcp_type(m, sizeof(m)), 8);
	ck_assert(bsdp_codec_is_bsdp_inform(m, sizeof(m)));
	m[246] = 'X'; /* XAPLBSDPC/ */
	ck_assert_int_eq(bsdp_codec_bsdp_dhcp_type(m, sizeof(m)), 0);
	m[246] = 'A';
	m[0] = 2;
	ck_assert_int_eq(bsdp_codec_bsdp_dhcp_type(m, sizeof(m)), 0);
	ck_assert_int_eq(bsdp_codec_bsdp_dhcp_type(m, 239), 0);
}
END_TEST

/* OFFER* limits: file 127 bytes fit, 128 do not; option 17 up to 255; a
 * request shorter than the header; an output too small. */
START_TEST(test_codec_offer_bounds)
{
	uint8_t req[236] = { 1, 1, 6 }, out[BSDP_OFFER_MAX];
	char file[129], root[257];
	memset(file, 'f', 128);
	file[128] = '\0';
	memset(root, 'r', 256);
	root[256] = '\0';
	struct bsdp_offer o = { .server_id = 1, .siaddr = 2, .file = file + 1, .root_path = root + 1,
				.selected_id = 3, .machine_name = root, .machine_name_len = 247 };
	int n = bsdp_codec_build_offer(req, sizeof(req), &o, out, sizeof(out));
	ck_assert_int_eq(n, BSDP_OFFER_MAX);
	ck_assert_uint_eq(out[108 + 126], 'f');
	ck_assert_uint_eq(out[108 + 127], 0);
	o.machine_name_len = 248;   /* 8 takes 6 bytes: 6 + 2 + 248 > 255 */
	ck_assert_int_eq(bsdp_codec_build_offer(req, sizeof(req), &o, out, sizeof(out)), -EINVAL);
	o.machine_name_len = 247;
	o.file = file;
	ck_assert_int_eq(bsdp_codec_build_offer(req, sizeof(req), &o, out, sizeof(out)), -EINVAL);
	o.file = file + 1;
	o.root_path = root;
	ck_assert_int_eq(bsdp_codec_build_offer(req, sizeof(req), &o, out, sizeof(out)), -EINVAL);
	o.root_path = NULL;
	ck_assert_int_eq(bsdp_codec_build_offer(req, 235, &o, out, sizeof(out)), -EBADMSG);
	ck_assert_int_eq(bsdp_codec_build_offer(req, sizeof(req), &o, out, 400), -ENOBUFS);
	o.machine_name = NULL;
	ck_assert_int_eq(bsdp_codec_build_offer(req, sizeof(req), &o, out, 299), -ENOBUFS);
	ck_assert_int_eq(bsdp_codec_build_offer(req, sizeof(req), &o, out, 300), 300);
}
END_TEST

static Suite *codec_suite(void)
{
	Suite *s = suite_create("codec");
	TCase *t = tcase_create("request");
	tcase_add_loop_test(t, test_codec_parses_every_valid_vector, 0, LEN(valid_requests));
	tcase_add_test(t, test_codec_parses_select_by_code_not_position);
	tcase_add_test(t, test_codec_reads_port_size_filters);
	tcase_add_test(t, test_codec_truncated_prefixes_rejected_or_ignored);
	tcase_add_loop_test(t, test_codec_rejects_wrong_lengths, 0, LEN(bad_lengths));
	tcase_add_test(t, test_codec_first_duplicate_wins);
	tcase_add_test(t, test_codec_fused_instances_parse_as_one);
	tcase_add_test(t, test_codec_vendor_class_splits_like_apple);
	tcase_add_test(t, test_codec_vendor_class_rejects);
	tcase_add_test(t, test_codec_max_reply_size_as_bootpd);
	suite_add_tcase(s, t);
	t = tcase_create("reply");
	tcase_add_test(t, test_codec_utf8_cut_on_character_boundary);
	tcase_add_test(t, test_codec_seed003_list_bytes_exact);
	tcase_add_test(t, test_codec_failed_is_exactly_010103);
	tcase_add_test(t, test_codec_select_layout);
	tcase_add_test(t, test_codec_list_head_order_1_4_7_8_9);
	tcase_add_test(t, test_codec_enobufs_leaves_writer_unchanged);
	tcase_add_test(t, test_codec_block_size_bounds);
	tcase_add_test(t, test_codec_names_245_246_247_and_block_sizes_252_to_255);
	tcase_add_test(t, test_codec_index_boundaries_round_trip);
	tcase_add_test(t, test_codec_300_images_pack_within_budgets);
	tcase_add_test(t, test_codec_300_images_all_fit_in_large_buffer);
	tcase_add_test(t, test_codec_decodes_osx1011_ack_list);
	tcase_add_test(t, test_codec_reply_rejects_broken_descriptions);
	tcase_add_test(t, test_codec_dhcp_option_joins_instances);
	tcase_add_test(t, test_codec_recognises_bsdp_inform);
	tcase_add_test(t, test_codec_tells_other_messages_apart);
	tcase_add_test(t, test_codec_bsdp_dhcp_type);
	tcase_add_test(t, test_codec_offer_bounds);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(codec_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
