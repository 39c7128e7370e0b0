/* SPDX-License-Identifier: MPL-2.0 */
/* bsdpc and tools/lib/dhcp_msg: the OS X 10.11 ACK[LIST] vector decoded by
 * the library and by the built binary (--decode, text and JSON), INFORM
 * build -> parse round trips, and rejection of malformed input. No network:
 * every binary run is --decode or an argument error. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hook/bsdp_codec.h"
#include "tools/lib/dhcp_msg.h"
#include "tools/lib/kea_ctrl.h"

#define VECTOR "test/vectors/osx1011-ack-list.bin"
#define VECTOR_LEN 349
#define OUT_MAX 65536

static const uint8_t vector_chaddr[6] = {0x80, 0xe6, 0x50, 0x09, 0xed, 0xa2};
static const char name_1095[] = "DSR-1095";
static const char name_864[] = "NetInstall of Install OS X El Capitan 10.11.3 - 15D21";

/* ---- helpers ------------------------------------------------------------ */

static size_t load_vector(uint8_t *buf, size_t size)
{
	FILE *f = fopen(VECTOR, "rb");
	size_t n;

	ck_assert_msg(f != NULL, "cannot open %s (run from the source tree): %s", VECTOR,
		      strerror(errno));
	n = fread(buf, 1, size, f);
	fclose(f);
	ck_assert_uint_eq(n, VECTOR_LEN);
	return n;
}

static const char *bsdpc_path(void)
{
	const char *p = getenv("BSDPC");
	return p && *p ? p : "build/bsdpc";
}

struct run {
	int status;            /* exit code, or -1 when killed by a signal */
	char out[OUT_MAX];
	char err[OUT_MAX];
};

static void slurp(int fd, char *buf, size_t size)
{
	size_t n = 0;
	ssize_t r;

	lseek(fd, 0, SEEK_SET);
	while (n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	close(fd);
}

/* Runs bsdpc with args (NULL-terminated), stdout and stderr captured. */
static void run_bsdpc(struct run *r, const char *const *args)
{
	char out_name[] = "/tmp/check_bsdpc_out.XXXXXX";
	char err_name[] = "/tmp/check_bsdpc_err.XXXXXX";
	const char *argv[32];
	int out = mkstemp(out_name), err = mkstemp(err_name);
	size_t n = 0;
	pid_t pid;
	int st;

	ck_assert(out >= 0 && err >= 0);
	unlink(out_name);
	unlink(err_name);
	argv[n++] = bsdpc_path();
	while (args[n - 1] && n < 31) {
		argv[n] = args[n - 1];
		n++;
	}
	argv[n] = NULL;
	ck_assert_msg(access(argv[0], X_OK) == 0, "no bsdpc binary at %s (set BSDPC)", argv[0]);
	fflush(NULL);
	pid = fork();
	ck_assert(pid >= 0);
	if (pid == 0) {
		dup2(out, 1);
		dup2(err, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	ck_assert(waitpid(pid, &st, 0) == pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
	/* A sanitizer report also exits 1: never let it pass as a rejection. */
	ck_assert_msg(!strstr(r->err, "Sanitizer") && !strstr(r->err, "runtime error"),
		      "bsdpc crashed:\n%s", r->err);
}

/* Writes bytes to a temporary file; the caller unlinks path. */
static void write_temp(char *path, const uint8_t *data, size_t len)
{
	int fd = mkstemp(path);

	ck_assert(fd >= 0);
	if (len)
		ck_assert(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static void decode_bytes(struct run *r, const uint8_t *data, size_t len, bool json)
{
	char path[] = "/tmp/check_bsdpc_pkt.XXXXXX";
	const char *args[] = {"--decode", path, json ? "--json" : NULL, NULL};

	write_temp(path, data, len);
	run_bsdpc(r, args);
	unlink(path);
}

/* The image line of the text output that names id. */
static const char *line_of(const char *out, const char *id)
{
	static char line[1024];
	const char *p = strstr(out, id);
	const char *start, *end;

	if (!p)
		return "";
	start = p;
	while (start > out && start[-1] != '\n')
		start--;
	end = strchr(p, '\n');
	if (!end)
		end = p + strlen(p);
	snprintf(line, sizeof(line), "%.*s", (int)(end - start), start);
	return line;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A BSDP reply around option-43 TLVs as bsdp_writer_finish leaves them. */
static size_t make_reply(uint8_t *buf, size_t size, const uint8_t *opt43, size_t opt43_len,
			 uint32_t siaddr, const char *file, const char *root_path)
{
	uint8_t *p;

	ck_assert(size >= 300 + opt43_len + 300);
	memset(buf, 0, size);
	buf[0] = 2;
	buf[1] = 1;
	buf[2] = 6;
	put32(buf + 4, 0x11223344);
	put32(buf + 12, 0xc6120005);            /* ciaddr 198.18.0.5 */
	put32(buf + 20, siaddr);
	memcpy(buf + 28, vector_chaddr, 6);
	if (file)
		memcpy(buf + 108, file, strlen(file));
	memcpy(buf + 236, "\x63\x82\x53\x63", 4);
	p = buf + 240;
	memcpy(p, "\x35\x01\x05\x36\x04\xc6\x12\x00\x01\x3c\x09" "AAPLBSDPC", 20);
	p += 20;
	if (root_path) {
		*p++ = 17;
		*p++ = (uint8_t)strlen(root_path);
		memcpy(p, root_path, strlen(root_path));
		p += strlen(root_path);
	}
	memcpy(p, opt43, opt43_len);
	p += opt43_len;
	*p++ = 255;
	return (size_t)(p - buf) < 300 ? 300 : (size_t)(p - buf);
}

/* ---- the vector through the library ------------------------------------ */

START_TEST(test_dhcp_msg_parses_vector_header_and_options)
{
	uint8_t buf[512];
	size_t len = load_vector(buf, sizeof(buf));
	struct dhcp_reply *r = calloc(1, sizeof(*r));

	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), 0);
	ck_assert_uint_eq(r->op, DHCP_OP_REPLY);
	ck_assert_uint_eq(r->htype, 1);
	ck_assert_uint_eq(r->hlen, 6);
	ck_assert_uint_eq(r->xid, 0x0d6588a4);
	ck_assert_uint_eq(r->ciaddr, 0x0a00015d);
	ck_assert_uint_eq(r->yiaddr, 0);
	ck_assert_uint_eq(r->siaddr, 0);
	ck_assert_mem_eq(r->chaddr, vector_chaddr, 6);
	ck_assert_uint_eq(r->file_len, 0);
	ck_assert_int_eq(r->msg_type, DHCP_MSGTYPE_ACK);
	ck_assert(r->has_server_id);
	ck_assert_uint_eq(r->server_id, 0x0a000107);
	ck_assert(r->has_vendor_class);
	ck_assert_uint_eq(r->vendor_class_len, 9);
	ck_assert_str_eq((const char *)r->vendor_class, "AAPLBSDPC");
	ck_assert(!r->has_root_path);
	ck_assert_uint_eq(r->opt43_len, 86);
	ck_assert_uint_eq(r->opt43_instances, 1);
	ck_assert_mem_eq(r->opt43, buf + 262, 86);
	ck_assert_ptr_eq(dhcp_msg_bsdp_problem(r), NULL);
	free(r);
}
END_TEST

START_TEST(test_codec_decodes_vector_images_priority_and_default)
{
	uint8_t buf[512];
	size_t len = load_vector(buf, sizeof(buf));
	struct dhcp_reply *r = calloc(1, sizeof(*r));
	struct bsdp_reply b;
	struct bsdp_image_iter it;
	uint32_t id;
	const uint8_t *name;
	size_t name_len;

	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), 0);
	ck_assert_int_eq(bsdp_codec_parse_reply(r->opt43, r->opt43_len, &b), 0);
	ck_assert_uint_eq(b.msg_type, BSDP_MSGTYPE_LIST);
	ck_assert(b.present & BSDP_HAS(BSDP_OPT_SERVER_PRIORITY));
	ck_assert_uint_eq(b.priority, 32766);
	ck_assert(b.present & BSDP_HAS(BSDP_OPT_DEFAULT_BOOT_IMAGE));
	ck_assert_uint_eq(b.default_id, 0x82000447);
	ck_assert(!(b.present & BSDP_HAS(BSDP_OPT_SELECTED_BOOT_IMAGE)));
	ck_assert_uint_eq(b.n_images, 2);

	bsdp_image_iter_init(&it, &b);
	ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &name, &name_len), 1);
	ck_assert_uint_eq(id, 0x82000447);
	ck_assert_uint_eq(name_len, strlen(name_1095));
	ck_assert_mem_eq(name, name_1095, name_len);
	ck_assert(BSDP_IMAGE_ID_INSTALL(id));
	ck_assert_uint_eq(BSDP_IMAGE_ID_KIND(id), 2);
	ck_assert_uint_eq(BSDP_IMAGE_ID_INDEX(id), 1095);
	ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &name, &name_len), 1);
	ck_assert_uint_eq(id, 0x81000360);
	ck_assert_uint_eq(name_len, strlen(name_864));
	ck_assert_mem_eq(name, name_864, name_len);
	ck_assert_uint_eq(BSDP_IMAGE_ID_INDEX(id), 864);
	ck_assert_int_eq(bsdp_image_iter_next(&it, &id, &name, &name_len), 0);
	free(r);
}
END_TEST

/* Every proper prefix is cut inside a TLV or lacks a required option; the
 * last one only lacks END, which parsers tolerate. */
START_TEST(test_dhcp_msg_rejects_every_truncated_prefix_of_vector)
{
	uint8_t buf[512];
	size_t len = load_vector(buf, sizeof(buf));
	struct dhcp_reply *r = calloc(1, sizeof(*r));

	for (size_t n = 0; n < len - 1; n++) {
		struct bsdp_reply b;
		bool ok = dhcp_msg_parse(buf, n, r) == 0 && !dhcp_msg_bsdp_problem(r) &&
			  bsdp_codec_parse_reply(r->opt43, r->opt43_len, &b) == 0;
		ck_assert_msg(!ok, "prefix of %zu bytes accepted", n);
	}
	free(r);
}
END_TEST

START_TEST(test_dhcp_msg_rejects_malformed_headers_and_options)
{
	uint8_t good[512], buf[512];
	size_t len = load_vector(good, sizeof(good));
	struct dhcp_reply *r = calloc(1, sizeof(*r));

	memcpy(buf, good, len);
	buf[239] ^= 1;                           /* magic cookie */
	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), -EBADMSG);

	memcpy(buf, good, len);
	buf[2] = 17;                             /* hlen beyond chaddr */
	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), -EBADMSG);

	memcpy(buf, good, len);
	buf[241] = 2;                            /* option 53 of 2 bytes */
	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), -EBADMSG);

	memcpy(buf, good, len);
	buf[261] = 0x58;                         /* option 43 runs past the end */
	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), -EBADMSG);

	ck_assert_int_eq(dhcp_msg_parse(NULL, 0, r), -EBADMSG);
	free(r);
}
END_TEST

START_TEST(test_bsdp_problem_names_what_apple_rejects)
{
	uint8_t good[512], buf[512];
	size_t len = load_vector(good, sizeof(good));
	struct dhcp_reply *r = calloc(1, sizeof(*r));

	memcpy(buf, good, len);
	buf[0] = 1;
	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), 0);
	ck_assert_ptr_nonnull(dhcp_msg_bsdp_problem(r));

	memcpy(buf, good, len);
	buf[243] = 0x99;                         /* option 54 renamed: absent */
	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), 0);
	ck_assert_str_eq(dhcp_msg_bsdp_problem(r), "no server identifier (option 54)");

	memcpy(buf, good, len);
	buf[259] = 'X';                          /* "AAPLBSDPX" */
	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), 0);
	ck_assert_str_eq(dhcp_msg_bsdp_problem(r), "option 60 is not AAPLBSDPC");

	memcpy(buf, good, len);
	buf[260] = 0x99;                         /* option 43 renamed: absent */
	ck_assert_int_eq(dhcp_msg_parse(buf, len, r), 0);
	ck_assert_str_eq(dhcp_msg_bsdp_problem(r), "no BSDP options (option 43)");
	free(r);
}
END_TEST

/* ---- build -> parse ------------------------------------------------------ */

START_TEST(test_dhcp_msg_inform_round_trip_relay_mode)
{
	uint8_t opt43[600], pkt[1500];
	const uint8_t filters[] = {0x81, 0x00, 0x01, 0x00};
	struct bsdp_writer w;
	struct dhcp_inform in = {0};
	struct dhcp_reply *r = calloc(1, sizeof(*r));
	struct bsdp_request req;
	struct bsdp_vendor_class vc;
	uint8_t params[64];
	size_t instances;
	int len, n;

	ck_assert_int_eq(bsdp_writer_init(&w, opt43, sizeof(opt43), sizeof(opt43), 255), 0);
	ck_assert_int_eq(bsdp_writer_put_u8(&w, BSDP_OPT_MESSAGE_TYPE, BSDP_MSGTYPE_LIST), 0);
	ck_assert_int_eq(bsdp_writer_put_u16(&w, BSDP_OPT_VERSION, BSDP_VERSION_1_1), 0);
	ck_assert_int_eq(bsdp_writer_put_u16(&w, BSDP_OPT_REPLY_PORT, 1000), 0);
	ck_assert_int_eq(bsdp_writer_put_u16(&w, BSDP_OPT_MAX_MESSAGE_SIZE, 1500), 0);
	ck_assert_int_eq(bsdp_writer_put(&w, BSDP_OPT_BOOT_IMAGE_ATTRIBUTES_FILTER_LIST, filters,
					 sizeof(filters)), 0);
	in.xid = 0xdeadbeef;
	in.hops = 1;
	in.ciaddr = 0xc6120005;
	in.giaddr = 0xc6120001;
	memcpy(in.chaddr, vector_chaddr, 6);
	in.max_size = 1500;
	in.arch = "i386";
	in.model = "MacBookPro11,1";
	in.opt43 = opt43;
	in.opt43_len = bsdp_writer_finish(&w);

	len = dhcp_msg_build_inform(&in, pkt, sizeof(pkt));
	ck_assert_int_ge(len, DHCP_MSG_BOOTP_MIN);
	ck_assert_int_eq(dhcp_msg_parse(pkt, (size_t)len, r), 0);
	ck_assert_uint_eq(r->op, DHCP_OP_REQUEST);
	ck_assert_uint_eq(r->htype, 1);
	ck_assert_uint_eq(r->hlen, 6);
	ck_assert_uint_eq(r->hops, 1);
	ck_assert_uint_eq(r->xid, 0xdeadbeef);
	ck_assert_uint_eq(r->ciaddr, 0xc6120005);
	ck_assert_uint_eq(r->giaddr, 0xc6120001);
	ck_assert_uint_eq(r->yiaddr, 0);
	ck_assert_mem_eq(r->chaddr, vector_chaddr, 6);
	ck_assert_int_eq(r->msg_type, DHCP_MSGTYPE_INFORM);
	ck_assert(!r->has_server_id);
	ck_assert_str_eq((const char *)r->vendor_class, "AAPLBSDPC/i386/MacBookPro11,1");
	ck_assert_int_eq(bsdp_codec_parse_vendor_class((const char *)r->vendor_class,
						       r->vendor_class_len, &vc), 0);
	ck_assert_str_eq(vc.arch, "i386");
	ck_assert_str_eq(vc.model, "MacBookPro11,1");

	ck_assert_uint_eq(r->opt43_instances, 1);
	ck_assert_int_eq(bsdp_codec_parse_request(r->opt43, r->opt43_len, &req), 0);
	ck_assert_uint_eq(req.msg_type, BSDP_MSGTYPE_LIST);
	ck_assert_uint_eq(req.version, BSDP_VERSION_1_1);
	ck_assert_uint_eq(req.reply_port, 1000);
	ck_assert_uint_eq(req.max_message_size, 1500);
	ck_assert_uint_eq(req.n_filters, 2);
	ck_assert_uint_eq(req.filters[0], 0x8100);
	ck_assert_uint_eq(req.filters[1], 0x0100);

	n = bsdp_codec_dhcp_option(r->opts, r->opts_len, DHCP_OPT_PARAMETER_LIST, params,
				   sizeof(params), &instances);
	ck_assert_int_eq(n, (int)sizeof(dhcp_msg_default_params));
	ck_assert(memchr(params, 43, (size_t)n) && memchr(params, 60, (size_t)n));
	n = bsdp_codec_dhcp_option(r->opts, r->opts_len, DHCP_OPT_MAX_MESSAGE_SIZE, params,
				   sizeof(params), NULL);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(params[0] << 8 | params[1], 1500);
	free(r);
}
END_TEST

START_TEST(test_dhcp_msg_inform_keeps_slash_in_model_and_omits_optional)
{
	uint8_t pkt[600];
	struct dhcp_inform in = {0};
	struct dhcp_reply *r = calloc(1, sizeof(*r));
	struct bsdp_vendor_class vc;
	uint8_t tmp[8];
	int len;

	in.xid = 7;
	in.ciaddr = 0xc6120005;
	in.arch = "arm";
	in.model = "Mac/14,2";
	len = dhcp_msg_build_inform(&in, pkt, sizeof(pkt));
	ck_assert_int_eq(len, DHCP_MSG_BOOTP_MIN);
	ck_assert_int_eq(dhcp_msg_parse(pkt, (size_t)len, r), 0);
	ck_assert_int_eq(bsdp_codec_parse_vendor_class((const char *)r->vendor_class,
						       r->vendor_class_len, &vc), 0);
	ck_assert_str_eq(vc.arch, "arm");
	ck_assert_str_eq(vc.model, "Mac/14,2");
	ck_assert_uint_eq(r->opt43_instances, 0);
	ck_assert_uint_eq(r->giaddr, 0);
	ck_assert_int_eq(bsdp_codec_dhcp_option(r->opts, r->opts_len, DHCP_OPT_MAX_MESSAGE_SIZE,
						tmp, sizeof(tmp), NULL), -ENOENT);
	free(r);
}
END_TEST

START_TEST(test_dhcp_msg_inform_refuses_what_it_cannot_encode)
{
	uint8_t pkt[600], before[600];
	const uint8_t half_tlv[] = {43, 5, 1, 1, 1};
	const uint8_t wrong_code[] = {44, 1, 0};
	char long_model[300];
	struct dhcp_inform in = {0};

	in.ciaddr = 1;
	in.arch = "i386";
	in.model = "MacBookPro11,1";
	memset(pkt, 0xa5, sizeof(pkt));
	memcpy(before, pkt, sizeof(pkt));
	ck_assert_int_eq(dhcp_msg_build_inform(&in, pkt, DHCP_MSG_BOOTP_MIN - 1), -ENOBUFS);
	ck_assert_mem_eq(pkt, before, sizeof(pkt));     /* untouched on failure */

	in.arch = "i3/86";
	ck_assert_int_eq(dhcp_msg_build_inform(&in, pkt, sizeof(pkt)), -EINVAL);
	in.arch = "";
	ck_assert_int_eq(dhcp_msg_build_inform(&in, pkt, sizeof(pkt)), -EINVAL);
	in.arch = "i386";
	memset(long_model, 'M', sizeof(long_model) - 1);
	long_model[sizeof(long_model) - 1] = 0;
	in.model = long_model;
	ck_assert_int_eq(dhcp_msg_build_inform(&in, pkt, sizeof(pkt)), -EINVAL);
	/* 9 + 1 + 4 + 1 + 240 = 255: the largest option 60. */
	long_model[240] = 0;
	ck_assert_int_gt(dhcp_msg_build_inform(&in, pkt, sizeof(pkt)), 0);
	long_model[240] = 'M';
	long_model[241] = 0;
	ck_assert_int_eq(dhcp_msg_build_inform(&in, pkt, sizeof(pkt)), -EINVAL);
	in.model = "MacBookPro11,1";

	in.opt43 = half_tlv;
	in.opt43_len = sizeof(half_tlv);
	ck_assert_int_eq(dhcp_msg_build_inform(&in, pkt, sizeof(pkt)), -EINVAL);
	in.opt43 = wrong_code;
	in.opt43_len = sizeof(wrong_code);
	ck_assert_int_eq(dhcp_msg_build_inform(&in, pkt, sizeof(pkt)), -EINVAL);
}
END_TEST

/* The image list continued in a second option-43 instance (BOOTPD's
 * packing) is joined and counted. */
START_TEST(test_dhcp_msg_joins_option43_instances)
{
	uint8_t opt43[1200], pkt[2000];
	char name[40];
	struct bsdp_writer w;
	struct bsdp_list_head head = {.priority = 100, .default_id = 0x01000001};
	struct dhcp_reply *r = calloc(1, sizeof(*r));
	struct bsdp_reply b;
	struct run *run = calloc(1, sizeof(*run));
	size_t len;

	ck_assert_int_eq(bsdp_writer_init(&w, opt43, sizeof(opt43), sizeof(opt43), 255), 0);
	ck_assert_int_eq(bsdp_codec_begin_list(&w, &head), 0);
	for (unsigned i = 1; i <= 20; i++) {
		int n = snprintf(name, sizeof(name), "Image number %02u of twenty", i);
		ck_assert_int_eq(bsdp_writer_put_image(&w, 0x01000000u | i, name, (size_t)n), 0);
	}
	len = make_reply(pkt, sizeof(pkt), opt43, bsdp_writer_finish(&w), 0, NULL, NULL);
	ck_assert_int_eq(dhcp_msg_parse(pkt, len, r), 0);
	ck_assert_uint_ge(r->opt43_instances, 2);
	ck_assert_ptr_eq(dhcp_msg_bsdp_problem(r), NULL);
	ck_assert_int_eq(bsdp_codec_parse_reply(r->opt43, r->opt43_len, &b), 0);
	ck_assert_uint_eq(b.n_images, 20);

	decode_bytes(run, pkt, len, false);
	ck_assert_int_eq(run->status, 0);
	ck_assert_ptr_nonnull(strstr(run->out, "20 images"));
	ck_assert_ptr_nonnull(strstr(run->out, "0x01000014"));
	ck_assert_ptr_nonnull(strstr(run->out, "Image number 20 of twenty"));
	free(run);
	free(r);
}
END_TEST

/* ---- the binary ---------------------------------------------------------- */

START_TEST(test_bsdpc_decode_prints_vector_for_people)
{
	struct run *r = calloc(1, sizeof(*r));
	const char *args[] = {"--decode", VECTOR, NULL};
	const char *line;

	run_bsdpc(r, args);
	ck_assert_msg(r->status == 0, "exit %d, stderr: %s", r->status, r->err);
	ck_assert_ptr_nonnull(strstr(r->out, "BSDP server 10.0.1.7"));
	ck_assert_ptr_nonnull(strstr(r->out, "priority 32766"));
	ck_assert_ptr_nonnull(strstr(r->out, "default 0x82000447"));
	ck_assert_ptr_nonnull(strstr(r->out, "2 images"));
	line = line_of(r->out, "  0x82000447");
	ck_assert_ptr_nonnull(strstr(line, name_1095));
	ck_assert_ptr_nonnull(strstr(line, "1095"));
	ck_assert_ptr_nonnull(strstr(line, "Mac OS X Server"));
	ck_assert_ptr_nonnull(strstr(line, "[default]"));
	line = line_of(r->out, "  0x81000360");
	ck_assert_ptr_nonnull(strstr(line, name_864));
	ck_assert_ptr_nonnull(strstr(line, "864"));
	ck_assert_ptr_null(strstr(line, "[default]"));
	ck_assert_ptr_nonnull(strstr(r->out, "xid 0x0d6588a4"));
	free(r);
}
END_TEST

START_TEST(test_bsdpc_decode_json_has_same_values)
{
	struct run *r = calloc(1, sizeof(*r));
	const char *args[] = {"--decode", VECTOR, "--json", NULL};

	run_bsdpc(r, args);
	ck_assert_msg(r->status == 0, "exit %d, stderr: %s", r->status, r->err);
	ck_assert(r->out[0] == '{');
	ck_assert_ptr_nonnull(strstr(r->out, "\"address\":\"10.0.1.7\""));
	ck_assert_ptr_nonnull(strstr(r->out, "\"priority\":32766"));
	ck_assert_ptr_nonnull(strstr(r->out, "\"default_id\":\"0x82000447\""));
	ck_assert_ptr_nonnull(strstr(r->out, "{\"id\":\"0x82000447\",\"index\":1095,\"kind\":2"));
	ck_assert_ptr_nonnull(strstr(r->out, "\"name\":\"DSR-1095\",\"default\":true"));
	ck_assert_ptr_nonnull(strstr(r->out, "{\"id\":\"0x81000360\",\"index\":864,\"kind\":1"));
	ck_assert_ptr_nonnull(strstr(r->out, "\"name\":\"NetInstall of Install OS X El Capitan "
					     "10.11.3 - 15D21\",\"default\":false"));
	ck_assert_ptr_nonnull(strstr(r->out, "}\n"));
	ck_assert_ptr_null(strchr(strstr(r->out, "}\n") + 2, '{'));   /* one object */
	free(r);
}
END_TEST

START_TEST(test_bsdpc_decode_escapes_hostile_names)
{
	uint8_t opt43[300], pkt[1000];
	const char evil[] = "A\"B\\C\x1b[2J\xff\xc3\xa9";   /* quote, backslash, ESC, bad byte, é */
	struct bsdp_writer w;
	struct bsdp_list_head head = {.priority = 1, .default_id = 0x01000002};
	struct run *r = calloc(1, sizeof(*r));
	size_t len;

	ck_assert_int_eq(bsdp_writer_init(&w, opt43, sizeof(opt43), sizeof(opt43), 255), 0);
	ck_assert_int_eq(bsdp_codec_begin_list(&w, &head), 0);
	ck_assert_int_eq(bsdp_writer_put_image(&w, 0x01000002, evil, strlen(evil)), 0);
	len = make_reply(pkt, sizeof(pkt), opt43, bsdp_writer_finish(&w), 0, NULL, NULL);

	decode_bytes(r, pkt, len, false);
	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_null(strchr(r->out, 0x1b));
	ck_assert_ptr_nonnull(strstr(r->out, "A\"B\\C\\x1b[2J\\xff\xc3\xa9"));

	decode_bytes(r, pkt, len, true);
	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_nonnull(strstr(r->out, "\"name\":\"A\\\"B\\\\C\\u001b[2J\\ufffd\xc3\xa9\""));
	free(r);
}
END_TEST

START_TEST(test_bsdpc_decode_prints_select_answer)
{
	uint8_t opt43[300], pkt[1000];
	struct bsdp_writer w;
	struct run *r = calloc(1, sizeof(*r));
	size_t len;

	ck_assert_int_eq(bsdp_writer_init(&w, opt43, sizeof(opt43), sizeof(opt43), 255), 0);
	ck_assert_int_eq(bsdp_codec_build_select(&w, 0x81000360, "NetBoot001", 10), 0);
	len = make_reply(pkt, sizeof(pkt), opt43, bsdp_writer_finish(&w), 0xc6120001,
			 "sets/El Capitan.nbi/i386/booter",
			 "http://198.18.0.1/netboot/El%20Capitan.nbi/NetInstall.dmg");
	decode_bytes(r, pkt, len, false);
	ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
	ck_assert_ptr_nonnull(strstr(r->out, "ACK[SELECT]"));
	ck_assert_ptr_nonnull(strstr(r->out, "0x81000360"));
	ck_assert_ptr_nonnull(strstr(r->out, "198.18.0.1 (siaddr)"));
	ck_assert_ptr_nonnull(strstr(r->out, "sets/El Capitan.nbi/i386/booter"));
	ck_assert_ptr_nonnull(strstr(r->out, "http://198.18.0.1/netboot/El%20Capitan.nbi/"));
	ck_assert_ptr_nonnull(strstr(r->out, "NetBoot001"));

	decode_bytes(r, pkt, len, true);
	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_nonnull(strstr(r->out, "\"result\":\"ack\",\"selected_id\":\"0x81000360\""));
	ck_assert_ptr_nonnull(strstr(r->out, "\"machine_name\":\"NetBoot001\""));

	ck_assert_int_eq(bsdp_writer_init(&w, opt43, sizeof(opt43), sizeof(opt43), 255), 0);
	ck_assert_int_eq(bsdp_codec_build_failed(&w), 0);
	len = make_reply(pkt, sizeof(pkt), opt43, bsdp_writer_finish(&w), 0, NULL, NULL);
	decode_bytes(r, pkt, len, false);
	ck_assert_int_eq(r->status, 1);
	ck_assert_ptr_nonnull(strstr(r->out, "FAILED"));
	free(r);
}
END_TEST

/* An OFFER* as the hook writes it (bsdp_codec_build_offer, answering the
 * DISCOVER bsdpc --discover sends): decoded for people and in JSON; an
 * OFFER that offers an address is no OFFER*. */
START_TEST(test_bsdpc_decode_prints_offer_star)
{
	uint8_t opt43[] = { 43, 4, 2, 2, 1, 1 }, disc[600], pkt[BSDP_OFFER_MAX];
	struct dhcp_inform in = { .type = DHCP_MSGTYPE_DISCOVER, .xid = 0x0ffe0001, .flags = 0x8000,
				  .chaddr = { 2, 0x0f, 0xfe, 0, 0, 1 }, .arch = "i386",
				  .model = "MacBookPro11,1", .opt43 = opt43, .opt43_len = sizeof(opt43) };
	struct run *r = calloc(1, sizeof(*r));
	int dlen = dhcp_msg_build_inform(&in, disc, sizeof(disc));
	ck_assert_int_gt(dlen, 0);
	ck_assert_int_eq(bsdp_codec_bsdp_dhcp_type(disc, (size_t)dlen), DHCP_MSGTYPE_DISCOVER);
	struct bsdp_offer o = { .server_id = 0xc6120001, .siaddr = 0xc6120005,
				.file = "sets/El Capitan.nbi/i386/booter",
				.root_path = "http://198.18.0.5/netboot/El%20Capitan.nbi/NetInstall.dmg",
				.selected_id = 0x81000360, .machine_name = "NetBoot007",
				.machine_name_len = 10 };
	int len = bsdp_codec_build_offer(disc, (size_t)dlen, &o, pkt, sizeof(pkt));
	ck_assert_int_gt(len, 300);
	decode_bytes(r, pkt, (size_t)len, false);
	ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
	ck_assert_ptr_nonnull(strstr(r->out, "OFFER* from 198.18.0.1"));
	ck_assert_ptr_nonnull(strstr(r->out, "0x81000360"));
	ck_assert_ptr_nonnull(strstr(r->out, "198.18.0.5 (siaddr)"));
	ck_assert_ptr_nonnull(strstr(r->out, "sets/El Capitan.nbi/i386/booter"));
	ck_assert_ptr_nonnull(strstr(r->out, "El%20Capitan.nbi/NetInstall.dmg"));
	ck_assert_ptr_nonnull(strstr(r->out, "NetBoot007"));
	ck_assert_ptr_nonnull(strstr(r->out, "xid 0x0ffe0001, chaddr 02:0f:fe:00:00:01, ciaddr 0.0.0.0"));

	decode_bytes(r, pkt, (size_t)len, true);
	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_nonnull(strstr(r->out, "\"bsdp_type\":\"OFFER*\""));
	ck_assert_ptr_nonnull(strstr(r->out, "\"offer_star\":{\"server\":\"198.18.0.1\",\"selected_id\":\"0x81000360\","
					     "\"siaddr\":\"198.18.0.5\",\"file\":\"sets/El Capitan.nbi/i386/booter\""));
	ck_assert_ptr_nonnull(strstr(r->out, "\"machine_name\":\"NetBoot007\"}"));

	pkt[16] = 198; /* yiaddr set: a DHCP server's OFFER, not an OFFER* */
	decode_bytes(r, pkt, (size_t)len, false);
	ck_assert_int_eq(r->status, 1);
	ck_assert_ptr_nonnull(strstr(r->err, "yiaddr is not 0"));
	free(r);
}
END_TEST

START_TEST(test_bsdpc_decode_rejects_truncated_files_with_exit_1)
{
	static const size_t cuts[] = {0, 1, 100, 235, 239, 240, 243, 250, 260, 261, 262, 270,
				      300, 347};
	uint8_t buf[512];
	struct run *r = calloc(1, sizeof(*r));

	load_vector(buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		decode_bytes(r, buf, cuts[i], false);
		ck_assert_msg(r->status == 1, "prefix %zu: exit %d", cuts[i], r->status);
		ck_assert_msg(strstr(r->err, "not a BSDP reply"), "prefix %zu: stderr %s", cuts[i],
			      r->err);
		ck_assert_str_eq(r->out, "");
	}
	free(r);
}
END_TEST

START_TEST(test_bsdpc_decode_rejects_corrupt_bsdp_options_with_exit_1)
{
	uint8_t good[512], buf[512];
	size_t len;
	struct run *r = calloc(1, sizeof(*r));

	len = load_vector(good, sizeof(good));
	/* Second image's name length one past the end of sub-option 9. */
	memcpy(buf, good, len);
	buf[294] = 0x36;
	decode_bytes(r, buf, len, false);
	ck_assert_int_eq(r->status, 1);
	ck_assert_ptr_nonnull(strstr(r->err, "malformed BSDP options"));

	/* Priority sub-option of 3 bytes. */
	memcpy(buf, good, len);
	buf[266] = 3;
	decode_bytes(r, buf, len, true);
	ck_assert_int_eq(r->status, 1);
	ck_assert_str_eq(r->out, "");

	/* A request is not a reply. */
	memcpy(buf, good, len);
	buf[0] = 1;
	decode_bytes(r, buf, len, false);
	ck_assert_int_eq(r->status, 1);
	ck_assert_ptr_nonnull(strstr(r->err, "not a BOOTREPLY"));
	free(r);
}
END_TEST

START_TEST(test_bsdpc_decode_unreadable_file_exits_2)
{
	struct run *r = calloc(1, sizeof(*r));
	const char *args[] = {"--decode", "/nonexistent/bsdpc/reply.bin", NULL};

	run_bsdpc(r, args);
	ck_assert_int_eq(r->status, 2);
	ck_assert_ptr_nonnull(strstr(r->err, "reply.bin"));
	free(r);
}
END_TEST

/* Each row is invalid on its own; none reaches the network. */
static const char *const usage_rows[][6] = {
	{NULL},                                          /* neither -i nor --server */
	{"--bogus", NULL},
	{"--select", NULL},                              /* missing value */
	{"--server", "198.18.0.1", "--select", "abc", NULL},
	{"--server", "198.18.0.1", "--select", "0", NULL},
	{"--server", "198.18.0.1", "--select", "0x100000000", NULL},
	{"--server", "198.18.0.1", "--list", "--select", "1", NULL},
	{"--server", "198.18.0.300", NULL},
	{"--server", "198.18.0.1", "--reply-port", "70000", NULL},
	{"--server", "198.18.0.1", "--reply-port", "-5", NULL},
	{"--server", "198.18.0.1", "--mac", "aa:bb:cc:dd:ee", NULL},
	{"--server", "198.18.0.1", "--mac", "aa:bb:cc:dd:ee:fg", NULL},
	{"--server", "198.18.0.1", "--timeout", "0", NULL},
	{"--server", "198.18.0.1", "--timeout", "soon", NULL},
	{"--server", "198.18.0.1", "--filter", "0x8100,", NULL},
	{"--server", "198.18.0.1", "--filter", "0x18100", NULL},
	{"--server", "198.18.0.1", "--arch", "i3/86", NULL},
	{"--server", "198.18.0.1", "--max-size", "65536", NULL},
	{"--server", "198.18.0.1", "extra", NULL},
	{"--decode", VECTOR, "--select", "1", NULL},
	{"--decode", VECTOR, "--discover", NULL},
	{"--server", "198.18.0.1", "--discover", "--select", "1", NULL},
	{"--server", "198.18.0.1", "--discover", "--ciaddr", "198.18.0.9", NULL},
	{"-i", "bsdpc-no-such-if0", "--timeout", "0.1", NULL},
	{"--explain", "02:00:00:00:00:zz", NULL},
	{"--explain", "02:00:00:00:00:01", "--select", "1", NULL},
	{"--explain", "02:00:00:00:00:01", "-i", "eth0", NULL},
	{"--explain", "02:00:00:00:00:01", "--filter", "0x100", "--no-filter", NULL},
	{"--server", "198.18.0.1", "--no-filter", NULL},
};

START_TEST(test_bsdpc_usage_errors_exit_2)
{
	struct run *r = calloc(1, sizeof(*r));

	run_bsdpc(r, usage_rows[_i]);
	ck_assert_msg(r->status == 2, "row %d: exit %d, stderr: %s", _i, r->status, r->err);
	ck_assert_msg(r->err[0] != 0, "row %d: no message", _i);
	ck_assert_str_eq(r->out, "");
	free(r);
}
END_TEST

START_TEST(test_bsdpc_help_exits_0)
{
	struct run *r = calloc(1, sizeof(*r));
	const char *args[] = {"--help", NULL};

	run_bsdpc(r, args);
	ck_assert_int_eq(r->status, 0);
	ck_assert_ptr_nonnull(strstr(r->out, "usage: bsdpc"));
	free(r);
}
END_TEST

/* ---- --explain: a stand-in for Kea's control socket --------------------- */

struct fake_kea {
	char path[108];
	int listener;
	const char *answer;       /* sent in two writes, then the connection closes */
	char request[4096];
};

static void *fake_kea_serve(void *arg)
{
	struct fake_kea *k = arg;
	struct pollfd p = { .fd = k->listener, .events = POLLIN };
	size_t n = 0;

	if (poll(&p, 1, 10000) != 1)
		return NULL;
	int fd = accept(k->listener, NULL, NULL);
	if (fd < 0)
		return NULL;
	/* The request is one JSON object: read until its braces balance. */
	for (int depth = -1; depth != 0 && n + 1 < sizeof(k->request);) {
		struct pollfd q = { .fd = fd, .events = POLLIN };
		if (poll(&q, 1, 10000) != 1)
			break;
		ssize_t r = read(fd, k->request + n, sizeof(k->request) - 1 - n);
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			char c = k->request[n + (size_t)i];
			depth += c == '{' ? (depth < 0 ? 2 : 1) : c == '}' ? -1 : 0;
		}
		n += (size_t)r;
	}
	k->request[n] = 0;
	size_t half = strlen(k->answer) / 2;
	if (write(fd, k->answer, half) < 0 ||
	    write(fd, k->answer + half, strlen(k->answer) - half) < 0)
		perror("fake kea write");
	close(fd);
	return NULL;
}

static void explain_with(struct fake_kea *k, const char *answer, const char *const *args,
			 struct run *r)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *argv[16];
	size_t n = 0;
	pthread_t t;

	snprintf(k->path, sizeof(k->path), "/tmp/check_bsdpc_kea.%d.sock", (int)getpid());
	unlink(k->path);
	memcpy(sa.sun_path, k->path, strlen(k->path) + 1);
	k->listener = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert(k->listener >= 0);
	ck_assert_int_eq(bind(k->listener, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(k->listener, 1), 0);
	k->answer = answer;
	ck_assert_int_eq(pthread_create(&t, NULL, fake_kea_serve, k), 0);
	argv[n++] = "--socket";
	argv[n++] = k->path;
	for (size_t i = 0; args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	run_bsdpc(r, argv);
	pthread_join(t, NULL);
	close(k->listener);
	unlink(k->path);
}

START_TEST(test_bsdpc_explain_sends_the_command_and_prints_its_text)
{
	struct fake_kea *k = calloc(1, sizeof(*k));
	struct run *r = calloc(1, sizeof(*r));
	const char *args[] = {"--explain", "02:00:00:00:0A:01", "--model", "iMac\"14,2",
			      "--arch", "ppc", "--filter", "0x8100,256", "--max-size", "1500", NULL};
	/* "text" also inside arguments: only the top-level one is printed. */
	const char *answer = "{ \"arguments\": { \"text\": \"inner\", \"images\": [ { \"x\": "
			     "\"}]\" } ] }, \"result\": 0, \"text\": \"02:00:00:00:0a:01: 1 of 2\\n"
			     "  101 \\\"A\\\" \\u00e9 [A.nbi]: offered\" }";

	explain_with(k, answer, args, r);
	ck_assert_msg(r->status == 0, "exit %d: %s", r->status, r->err);
	ck_assert_str_eq(k->request, "{ \"command\": \"bsdp-explain\", \"arguments\": { "
			 "\"hw-address\": \"02:00:00:00:0A:01\", \"model\": \"iMac\\\"14,2\", "
			 "\"architecture\": \"ppc\", \"attribute-filter\": [ 33024, 256 ], "
			 "\"message-size\": 1500 } }");
	ck_assert_str_eq(r->out, "02:00:00:00:0a:01: 1 of 2\n  101 \"A\" \xc3\xa9 [A.nbi]: offered\n");

	/* --no-filter says null; --json prints Kea's answer as it came. */
	const char *json_args[] = {"--explain", "02:00:00:00:0a:01", "--no-filter", "--json", NULL};
	explain_with(k, answer, json_args, r);
	ck_assert_int_eq(r->status, 0);
	ck_assert_str_eq(k->request, "{ \"command\": \"bsdp-explain\", \"arguments\": { "
			 "\"hw-address\": \"02:00:00:00:0a:01\", \"attribute-filter\": null } }");
	ck_assert_uint_eq(strlen(r->out), strlen(answer) + 1);
	ck_assert_mem_eq(r->out, answer, strlen(answer));
	ck_assert_int_eq(r->out[strlen(answer)], '\n');
	free(k);
	free(r);
}
END_TEST

START_TEST(test_bsdpc_explain_error_answer_exits_1)
{
	struct fake_kea *k = calloc(1, sizeof(*k));
	struct run *r = calloc(1, sizeof(*r));
	const char *args[] = {"--explain", "02:00:00:00:99:99", NULL};

	explain_with(k, "[ { \"result\": 1, \"text\": \"bsdp-explain: no LIST from 02:00:00:00:99:99 "
		     "is remembered\" } ]", args, r);
	ck_assert_int_eq(r->status, 1);
	ck_assert_str_eq(r->out, "");
	ck_assert_str_eq(r->err, "bsdpc: bsdp-explain: bsdp-explain: no LIST from 02:00:00:00:99:99 "
			 "is remembered\n");
	/* Nobody listening: a clear error, exit 1. */
	const char *none[] = {"--explain", "02:00:00:00:99:99", "--socket", "/nonexistent/kea.sock",
			      NULL};
	run_bsdpc(r, none);
	ck_assert_int_eq(r->status, 1);
	ck_assert_str_eq(r->err, "bsdpc: cannot connect to /nonexistent/kea.sock: No such file or "
			 "directory\n");
	free(k);
	free(r);
}
END_TEST

START_TEST(test_kea_ctrl_member_reads_the_top_level_only)
{
	const char *json = " [ { \"arguments\": { \"result\": 7, \"text\": \"in\" }, "
			   "\"result\": 3 , \"text\": \"a\\\"b\\\\c\\/\\u0041\" } ]";
	const char *at;
	size_t len;
	char out[32];

	ck_assert(kea_ctrl_member(json, "result", &at, &len));
	ck_assert_uint_eq(len, 1);
	ck_assert_int_eq(at[0], '3');
	ck_assert(kea_ctrl_member(json, "text", &at, &len));
	ck_assert(kea_ctrl_string(at, len, out, sizeof(out)));
	ck_assert_str_eq(out, "a\"b\\c/A");
	ck_assert(!kea_ctrl_string(at, len, out, 4));
	ck_assert(!kea_ctrl_member(json, "missing", &at, &len));
	ck_assert(!kea_ctrl_member("{ \"result\": ", "result", &at, &len));
	ck_assert(!kea_ctrl_member("not json", "result", &at, &len));
}
END_TEST

static Suite *bsdpc_suite(void)
{
	Suite *s = suite_create("bsdpc");
	TCase *lib = tcase_create("dhcp_msg");
	TCase *bin = tcase_create("binary");

	tcase_add_test(lib, test_dhcp_msg_parses_vector_header_and_options);
	tcase_add_test(lib, test_codec_decodes_vector_images_priority_and_default);
	tcase_add_test(lib, test_dhcp_msg_rejects_every_truncated_prefix_of_vector);
	tcase_add_test(lib, test_dhcp_msg_rejects_malformed_headers_and_options);
	tcase_add_test(lib, test_bsdp_problem_names_what_apple_rejects);
	tcase_add_test(lib, test_dhcp_msg_inform_round_trip_relay_mode);
	tcase_add_test(lib, test_dhcp_msg_inform_keeps_slash_in_model_and_omits_optional);
	tcase_add_test(lib, test_dhcp_msg_inform_refuses_what_it_cannot_encode);
	suite_add_tcase(s, lib);

	/* Runs of an ASan build take a while each. */
	tcase_set_timeout(bin, 60);
	tcase_add_test(bin, test_dhcp_msg_joins_option43_instances);
	tcase_add_test(bin, test_bsdpc_decode_prints_vector_for_people);
	tcase_add_test(bin, test_bsdpc_decode_json_has_same_values);
	tcase_add_test(bin, test_bsdpc_decode_escapes_hostile_names);
	tcase_add_test(bin, test_bsdpc_decode_prints_select_answer);
	tcase_add_test(bin, test_bsdpc_decode_prints_offer_star);
	tcase_add_test(bin, test_bsdpc_decode_rejects_truncated_files_with_exit_1);
	tcase_add_test(bin, test_bsdpc_decode_rejects_corrupt_bsdp_options_with_exit_1);
	tcase_add_test(bin, test_bsdpc_decode_unreadable_file_exits_2);
	tcase_add_loop_test(bin, test_bsdpc_usage_errors_exit_2, 0,
			    (int)(sizeof(usage_rows) / sizeof(usage_rows[0])));
	tcase_add_test(bin, test_bsdpc_help_exits_0);
	tcase_add_test(bin, test_bsdpc_explain_sends_the_command_and_prints_its_text);
	tcase_add_test(bin, test_bsdpc_explain_error_answer_exits_1);
	tcase_add_test(lib, test_kea_ctrl_member_reads_the_top_level_only);
	suite_add_tcase(s, bin);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(bsdpc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
