/* SPDX-License-Identifier: MPL-2.0 */
/* The bindings state file: CSV reader (every malformed line kind), writer,
 * atomic save, setting a damaged file aside, the coalescing writer. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/state_file.h"

static char dir[] = "/tmp/bsdp-state-XXXXXX";
static char path[256];

static void setup(void)
{
	strcpy(dir, "/tmp/bsdp-state-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bindings.csv", dir);
}

static void teardown(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Entries in the test folder other than . and .. */
static size_t files_in_dir(void)
{
	DIR *d = opendir(dir);
	ck_assert_ptr_nonnull(d);
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_state_parses_good_lines)
{
	struct bsdp_binding b;
	const char *why;
	const char *line = "00:16:cb:01:02:03,0x01000064,1700000000,7";
	ck_assert_int_eq(bsdp_state_parse_line(line, strlen(line), &b, &why), 0);
	ck_assert_uint_eq(b.mac[0], 0x00);
	ck_assert_uint_eq(b.mac[5], 0x03);
	ck_assert_uint_eq(b.image_id, 0x01000064);
	ck_assert_int_eq(b.time, 1700000000);
	ck_assert_uint_eq(b.number, 7);
	line = "0:16:CB:1:2:3,16777316,0,1"; /* no zero padding, decimal id */
	ck_assert_int_eq(bsdp_state_parse_line(line, strlen(line), &b, &why), 0);
	ck_assert_uint_eq(b.image_id, 0x01000064);
	line = "00:16:cb:01:02:03,0,5,2"; /* forgotten image: number kept */
	ck_assert_int_eq(bsdp_state_parse_line(line, strlen(line), &b, &why), 0);
	ck_assert_uint_eq(b.image_id, 0);
}
END_TEST

static const struct {
	const char *line;
	const char *why;
} bad_lines[] = {
	{ "", "too few fields (expected 4)" },
	{ "00:16:cb:01:02:03", "too few fields (expected 4)" },
	{ "00:16:cb:01:02:03,0x01000064,1", "too few fields (expected 4)" },
	{ "00:16:cb:01:02:03,0x01000064,1,2,", "too many fields (expected 4)" },
	{ "00:16:cb:01:02:03,0x01000064,1,2,3", "too many fields (expected 4)" },
	{ "00:16:cb:01:02,0x01000064,1,2", "hwaddr is not a MAC address" },
	{ "00:16:cb:01:02:0g,0x01000064,1,2", "hwaddr is not a MAC address" },
	{ "00:16:cb:01:02:03:04,0x01000064,1,2", "hwaddr is not a MAC address" },
	{ ",0x01000064,1,2", "hwaddr is not a MAC address" },
	{ "00:16:cb:01:02:03,,1,2", "image-id is not a 32-bit number" },
	{ "00:16:cb:01:02:03,0x100000000,1,2", "image-id is not a 32-bit number" },
	{ "00:16:cb:01:02:03,-1,1,2", "image-id is not a 32-bit number" },
	{ "00:16:cb:01:02:03, 5,1,2", "image-id is not a 32-bit number" },
	{ "00:16:cb:01:02:03,0x01000000,1,2", "image-id has index 0" },
	{ "00:16:cb:01:02:03,0x01000064,,2", "selected-at is not a time in seconds" },
	{ "00:16:cb:01:02:03,0x01000064,1.5,2", "selected-at is not a time in seconds" },
	{ "00:16:cb:01:02:03,0x01000064,99999999999999999999,2", "selected-at is not a time in seconds" },
	{ "00:16:cb:01:02:03,0x01000064,1,0", "machine-number is not a number from 1" },
	{ "00:16:cb:01:02:03,0x01000064,1,4294967295", "machine-number is not a number from 1" },
	{ "00:16:cb:01:02:03,0x01000064,1,x", "machine-number is not a number from 1" },
};

START_TEST(test_state_rejects_each_malformed_line_kind)
{
	struct bsdp_binding b;
	const char *why = NULL;
	const char *line = bad_lines[_i].line;
	ck_assert_int_eq(bsdp_state_parse_line(line, strlen(line), &b, &why), -EINVAL);
	ck_assert_str_eq(why, bad_lines[_i].why);
}
END_TEST

START_TEST(test_state_rejects_nul_byte)
{
	struct bsdp_binding b;
	const char *why = NULL;
	static const char line[] = "00:16:cb:01:02:03,0x0100\0" "0064,1,2";
	ck_assert_int_eq(bsdp_state_parse_line(line, sizeof(line) - 1, &b, &why), -EINVAL);
	ck_assert_str_eq(why, "line contains a NUL byte");
}
END_TEST

static bool same(const struct bsdp_binding *a, const struct bsdp_binding *b)
{
	return memcmp(a->mac, b->mac, 6) == 0 && a->image_id == b->image_id && a->time == b->time &&
	       a->number == b->number;
}

START_TEST(test_state_format_round_trips)
{
	struct bsdp_binding in = { .mac = { 0, 0x16, 0xcb, 0xa, 0xb, 0xc }, .image_id = 0x81000360,
				   .time = 1763900000, .number = 42 };
	char out[BSDP_STATE_LINE_MAX + 1];
	int n = bsdp_state_format_line(&in, out, sizeof(out));
	ck_assert_str_eq(out, "00:16:cb:0a:0b:0c,0x81000360,1763900000,42\n");
	struct bsdp_binding back;
	const char *why;
	ck_assert_int_eq(bsdp_state_parse_line(out, (size_t)n - 1, &back, &why), 0);
	ck_assert(same(&back, &in));
	ck_assert_int_eq(bsdp_state_format_line(&in, out, 10), -ENOBUFS);
}
END_TEST

struct reports {
	size_t n;
	size_t lines[16];
	char reasons[16][80];
};

static void collect(void *ctx, const char *p, size_t line, const char *reason)
{
	struct reports *r = ctx;
	(void)p;
	if (r->n < 16) {
		r->lines[r->n] = line;
		snprintf(r->reasons[r->n], sizeof(r->reasons[0]), "%s", reason);
	}
	/* Atomic: a test may poll it while the writer thread reports. */
	__atomic_store_n(&r->n, r->n + 1, __ATOMIC_RELEASE);
}

static size_t reported(struct reports *r)
{
	return __atomic_load_n(&r->n, __ATOMIC_ACQUIRE);
}

/* Loads the file at p into a fresh table: its entries, none of them bad. */
static size_t load_clean(const char *p, size_t capacity)
{
	struct bsdp_bindings *c = bsdp_bindings_new(capacity);
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(p, c, NULL, NULL, &res), 0);
	ck_assert_uint_eq(res.bad, 0);
	bsdp_bindings_free(c);
	return res.loaded;
}

START_TEST(test_state_load_keeps_good_lines_and_reports_bad)
{
	char longline[300];
	memset(longline, 'a', sizeof(longline) - 2);
	longline[sizeof(longline) - 2] = '\n';
	longline[sizeof(longline) - 1] = '\0';
	char text[1024];
	snprintf(text, sizeof(text),
		 "%s\n00:16:cb:01:02:03,0x01000064,100,1\r\n\nbroken\n%s"
		 "00:16:cb:01:02:04,0x01000065,200,2\n00:16:cb:01:02:03,0x01000066,300,1\n",
		 BSDP_STATE_HEADER, longline);
	write_file(text);
	struct bsdp_bindings *b = bsdp_bindings_new(16);
	struct reports rep = { 0 };
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(path, b, collect, &rep, &res), 0);
	ck_assert_uint_eq(res.loaded, 3);
	ck_assert_uint_eq(res.bad, 2);
	ck_assert_uint_eq(rep.n, 2);
	ck_assert_uint_eq(rep.lines[0], 4);
	ck_assert_str_eq(rep.reasons[0], "too few fields (expected 4)");
	ck_assert_uint_eq(rep.lines[1], 5);
	ck_assert_str_eq(rep.reasons[1], "line longer than 128 bytes");
	struct bsdp_binding got;
	ck_assert_int_eq(bsdp_bindings_lookup(b, (const uint8_t[]){ 0, 0x16, 0xcb, 1, 2, 3 }, &got), 0);
	ck_assert_uint_eq(got.image_id, 0x01000066); /* the later line wins */
	ck_assert_int_eq(bsdp_bindings_lookup(b, (const uint8_t[]){ 0, 0x16, 0xcb, 1, 2, 4 }, &got), 0);
	ck_assert_uint_eq(got.number, 2);
	/* New MACs get numbers after the loaded ones. */
	bsdp_bindings_record(b, (const uint8_t[]){ 9, 9, 9, 9, 9, 9 }, 0x01000001, 1, 0, &got);
	ck_assert_uint_eq(got.number, 3);
	bsdp_bindings_free(b);
}
END_TEST

START_TEST(test_state_missing_header_is_reported)
{
	write_file("00:16:cb:01:02:03,0x01000064,100,1\n");
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	struct reports rep = { 0 };
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(path, b, collect, &rep, &res), 0);
	ck_assert_uint_eq(res.bad, 1);
	ck_assert_str_eq(rep.reasons[0], "missing header line " BSDP_STATE_HEADER);
	bsdp_bindings_free(b);
}
END_TEST

START_TEST(test_state_missing_and_unreadable_files)
{
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	ck_assert_int_eq(bsdp_state_load(path, b, NULL, NULL, NULL), -ENOENT);
	ck_assert_int_eq(mkdir(path, 0700), 0); /* a folder where the file should be */
	ck_assert_int_lt(bsdp_state_load(path, b, NULL, NULL, NULL), 0);
	bsdp_bindings_free(b);
}
END_TEST

/* The damaged file gets its second name while path stays, until the save
 * that replaces it: no moment without a state file. */
START_TEST(test_state_set_aside_renames)
{
	write_file("garbage\n");
	char aside[512];
	ck_assert_int_eq(bsdp_state_set_aside(path, 1234, aside, sizeof(aside)), 0);
	ck_assert_ptr_nonnull(strstr(aside, "bindings.csv.damaged-1234"));
	ck_assert_int_eq(access(path, F_OK), 0);
	ck_assert_int_eq(access(aside, F_OK), 0);
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	ck_assert_int_eq(bsdp_state_save(path, b), 0);
	FILE *f = fopen(aside, "r");
	char line[32] = "";
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	ck_assert_str_eq(line, "garbage\n"); /* the damaged bytes kept aside */
	ck_assert_int_eq(bsdp_state_load(path, b, NULL, NULL, NULL), 0);
	bsdp_bindings_free(b);
}
END_TEST

START_TEST(test_state_save_then_load_round_trips)
{
	struct bsdp_bindings *b = bsdp_bindings_new(1000), *c = bsdp_bindings_new(1000);
	for (unsigned i = 0; i < 500; i++) {
		uint8_t mac[6] = { 2, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		bsdp_bindings_record(b, mac, 0x01000000u | (i + 1), 1000 + i, 0, NULL);
	}
	ck_assert_int_eq(bsdp_state_save(path, b), 0);
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(path, c, NULL, NULL, &res), 0);
	ck_assert_uint_eq(res.loaded, 500);
	ck_assert_uint_eq(res.bad, 0);
	struct bsdp_binding x, y;
	for (unsigned i = 0; i < 500; i++) {
		uint8_t mac[6] = { 2, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		ck_assert_int_eq(bsdp_bindings_lookup(b, mac, &x), 0);
		ck_assert_int_eq(bsdp_bindings_lookup(c, mac, &y), 0);
		ck_assert(same(&x, &y));
	}
	ck_assert_uint_eq(files_in_dir(), 1); /* no temporary file left */
	bsdp_bindings_free(b);
	bsdp_bindings_free(c);
}
END_TEST

START_TEST(test_state_save_failure_keeps_old_file)
{
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	bsdp_bindings_record(b, (const uint8_t[]){ 1, 2, 3, 4, 5, 6 }, 0x01000001, 1, 0, NULL);
	ck_assert_int_eq(bsdp_state_save(path, b), 0);
	char bad[300];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.csv", dir);
	ck_assert_int_eq(bsdp_state_save(bad, b), -ENOENT);
	bsdp_bindings_free(b);
}
END_TEST

START_TEST(test_state_writer_coalesces_a_burst)
{
	struct bsdp_bindings *b = bsdp_bindings_new(2048);
	struct reports rep = { 0 };
	struct bsdp_state_writer *w = bsdp_state_writer_start(path, b, 400, collect, &rep);
	ck_assert_ptr_nonnull(w);
	for (unsigned i = 0; i < 1000; i++) {
		uint8_t mac[6] = { 2, 0, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
		bsdp_bindings_record(b, mac, 0x01000001, i, 0, NULL);
	}
	/* Bounded wait for the first save. */
	for (int i = 0; i < 100 && bsdp_state_writer_saves(w) == 0; i++)
		usleep(20000);
	unsigned long saves = bsdp_state_writer_saves(w);
	ck_assert_uint_ge(saves, 1);
	ck_assert_uint_le(saves, 2); /* 1000 changes, at most two writes */
	usleep(900000); /* nothing changed: no more writes */
	ck_assert_uint_eq(bsdp_state_writer_saves(w), saves);
	bsdp_bindings_record(b, (const uint8_t[]){ 7, 7, 7, 7, 7, 7 }, 0x01000002, 5, 0, NULL);
	bsdp_state_writer_stop(w); /* saves what is pending */
	ck_assert_uint_eq(load_clean(path, 2048), 1001);
	ck_assert_uint_eq(rep.n, 0);
	bsdp_bindings_free(b);
}
END_TEST

START_TEST(test_state_writer_reports_errors_once)
{
	char bad[300];
	snprintf(bad, sizeof(bad), "%s/missing/x.csv", dir);
	struct bsdp_bindings *b = bsdp_bindings_new(16);
	struct reports rep = { 0 };
	struct bsdp_state_writer *w = bsdp_state_writer_start(bad, b, 50, collect, &rep);
	for (int i = 0; i < 5; i++) {
		bsdp_bindings_record(b, (const uint8_t[]){ 1, 1, 1, 1, 1, (uint8_t)i }, 0x01000001, i, 0, NULL);
		usleep(120000);
	}
	bsdp_state_writer_stop(w);
	ck_assert_uint_eq(rep.n, 1);
	ck_assert_str_eq(rep.reasons[0], strerror(ENOENT));
	bsdp_bindings_free(b);
}
END_TEST

/* A save that keeps failing (a folder gone, a full disk) is not tried at
 * every wake-up, each copying the whole table under its lock: the pauses
 * double up to a bound, and a success ends them. */
START_TEST(test_state_writer_backs_off_while_saves_fail)
{
	char sub[300], inside[320];
	snprintf(sub, sizeof(sub), "%s/gone", dir);
	snprintf(inside, sizeof(inside), "%s/x.csv", sub);
	struct bsdp_bindings *b = bsdp_bindings_new(64);
	struct reports rep = { 0 };
	struct bsdp_state_writer *w = bsdp_state_writer_start(inside, b, 20, collect, &rep);
	ck_assert_ptr_nonnull(w);
	/* 2 s of changes every 10 ms: a try at every 20 ms wake-up would be
	 * about 100; doubling pauses from 20 ms make 7 (20 + 40 + ... + 1280). */
	for (int i = 0; i < 200; i++) {
		bsdp_bindings_record(b, (const uint8_t[]){ 1, 1, 1, 1, 1, (uint8_t)i }, 0x01000001, i,
				     0, NULL);
		usleep(10000);
	}
	unsigned long tried = bsdp_state_writer_attempts(w);
	printf("    %lu save attempts in 2 s of failures\n", tried);
	ck_assert_uint_ge(tried, 3);
	ck_assert_uint_le(tried, 10);
	ck_assert_uint_eq(bsdp_state_writer_saves(w), 0);
	ck_assert_uint_eq(reported(&rep), 1);
	/* The folder is back: saved within the pause reached (at most 2.6 s). */
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	for (int i = 0; i < 400 && bsdp_state_writer_saves(w) == 0; i++)
		usleep(10000);
	ck_assert_uint_eq(bsdp_state_writer_saves(w), 1);
	/* A success ends the pauses: the next change is saved at once. */
	bsdp_bindings_record(b, (const uint8_t[]){ 2, 2, 2, 2, 2, 2 }, 0x01000001, 300, 0, NULL);
	for (int i = 0; i < 20 && bsdp_state_writer_saves(w) == 1; i++)
		usleep(10000);
	ck_assert_uint_eq(bsdp_state_writer_saves(w), 2);
	bsdp_state_writer_stop(w);
	bsdp_bindings_free(b);
}
END_TEST

/* 128 bytes is the longest line read: such a line is parsed (and here
 * rejected for its content); one byte more is rejected for its length. */
START_TEST(test_state_line_of_128_bytes_is_parsed_and_129_is_too_long)
{
	char l128[BSDP_STATE_LINE_MAX + 1], l129[BSDP_STATE_LINE_MAX + 2];
	memset(l128, 'x', sizeof(l128) - 1);
	l128[sizeof(l128) - 1] = '\0';
	memset(l129, 'x', sizeof(l129) - 1);
	l129[sizeof(l129) - 1] = '\0';
	char text[512];
	snprintf(text, sizeof(text), "%s\n%s\n00:16:cb:01:02:03,0x01000064,100,1\n%s\n",
		 BSDP_STATE_HEADER, l128, l129);
	write_file(text);
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	struct reports rep = { 0 };
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(path, b, collect, &rep, &res), 0);
	ck_assert_uint_eq(res.loaded, 1);
	ck_assert_uint_eq(res.bad, 2);
	ck_assert_uint_eq(rep.lines[0], 2);
	ck_assert_str_eq(rep.reasons[0], "too few fields (expected 4)");
	ck_assert_uint_eq(rep.lines[1], 4);
	ck_assert_str_eq(rep.reasons[1], "line longer than 128 bytes");
	bsdp_bindings_free(b);
}
END_TEST

/* A last line cut short (no newline) is reported, the lines before kept. */
START_TEST(test_state_cut_last_line_is_reported)
{
	char text[256];
	snprintf(text, sizeof(text), "%s\n00:16:cb:01:02:03,0x01000064,100,1\n00:16:cb:01:02:04,0x0100",
		 BSDP_STATE_HEADER);
	write_file(text);
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	struct reports rep = { 0 };
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(path, b, collect, &rep, &res), 0);
	ck_assert_uint_eq(res.loaded, 1);
	ck_assert_uint_eq(res.bad, 1);
	ck_assert_uint_eq(rep.lines[0], 3);
	ck_assert_str_eq(rep.reasons[0], "too few fields (expected 4)");
	bsdp_bindings_free(b);
}
END_TEST

/* An empty file has nothing to lose: no report. */
START_TEST(test_state_empty_file_loads_nothing_silently)
{
	write_file("");
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	struct reports rep = { 0 };
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(path, b, collect, &rep, &res), 0);
	ck_assert_uint_eq(res.loaded + res.bad + rep.n, 0);
	bsdp_bindings_free(b);
}
END_TEST

/* A requested save happens with no change, and a failed one is retried
 * until it succeeds (reported once). */
START_TEST(test_state_writer_requested_save_is_retried)
{
	char sub[300], inside[320];
	snprintf(sub, sizeof(sub), "%s/later", dir);
	snprintf(inside, sizeof(inside), "%s/x.csv", sub);
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	bsdp_bindings_record(b, (const uint8_t[]){ 1, 2, 3, 4, 5, 6 }, 0x01000001, 1, 0, NULL);
	struct reports rep = { 0 };
	struct bsdp_state_writer *w = bsdp_state_writer_start(inside, b, 50, collect, &rep);
	ck_assert_ptr_nonnull(w);
	usleep(200000);
	ck_assert_uint_eq(bsdp_state_writer_saves(w), 0); /* nothing changed, nothing asked */
	bsdp_state_writer_request_save(w);
	for (int i = 0; i < 100 && reported(&rep) == 0; i++)
		usleep(20000);
	ck_assert_uint_eq(reported(&rep), 1);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	for (int i = 0; i < 100 && bsdp_state_writer_saves(w) == 0; i++)
		usleep(20000);
	ck_assert_uint_eq(bsdp_state_writer_saves(w), 1);
	ck_assert_uint_eq(reported(&rep), 1);
	bsdp_state_writer_stop(w);
	struct bsdp_bindings *c = bsdp_bindings_new(4);
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(inside, c, NULL, NULL, &res), 0);
	ck_assert_uint_eq(res.loaded, 1);
	bsdp_bindings_free(b);
	bsdp_bindings_free(c);
}
END_TEST

/* ---- loading and unloading alone never write --------------------------- */

/* What a check (kea-dhcp4 -T) must leave as it was: the bytes, the inode
 * (no rename) and the modification time. */
struct snapshot {
	char text[1024];
	ino_t ino;
	struct timespec mtime;
};

static void take_snapshot(struct snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(snap->text, 1, sizeof(snap->text) - 1, f);
	ck_assert(!ferror(f));
	fclose(f);
	snap->text[n] = '\0';
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	snap->ino = st.st_ino;
	snap->mtime = st.st_mtim;
}

static void assert_untouched(const struct snapshot *before)
{
	struct snapshot now;
	take_snapshot(&now);
	ck_assert_str_eq(now.text, before->text);
	ck_assert_uint_eq(now.ino, before->ino);
	ck_assert_int_eq(now.mtime.tv_sec, before->mtime.tv_sec);
	ck_assert_int_eq(now.mtime.tv_nsec, before->mtime.tv_nsec);
	ck_assert_uint_eq(files_in_dir(), 1); /* no temporary or set-aside file */
}

struct aside_reports {
	int n;
	int err;
	bool path_ok;
	char name[600];
};

static void collect_aside(void *ctx, const char *p, const char *aside, int err)
{
	struct aside_reports *r = ctx;
	r->path_ok = strcmp(p, path) == 0; /* checked by the test's thread */
	snprintf(r->name, sizeof(r->name), "%s", aside ? aside : "");
	r->err = err;
	__atomic_add_fetch(&r->n, 1, __ATOMIC_RELEASE);
}

#define GOOD_LINE "00:16:cb:01:02:03,0x01000064,100,1"

/* Load, start the writer, stop it with no change: nothing written, also
 * when the file was damaged (it is only set aside by a save). */
START_TEST(test_state_load_and_stop_without_change_write_nothing)
{
	const char *texts[] = { BSDP_STATE_HEADER "\n" GOOD_LINE "\n",
				BSDP_STATE_HEADER "\n" GOOD_LINE "\ngarbage\n" };
	for (int damaged = 0; damaged < 2; damaged++) {
		write_file(texts[damaged]);
		struct snapshot before;
		take_snapshot(&before);
		struct bsdp_bindings *b = bsdp_bindings_new(16);
		struct bsdp_state_load_result res;
		ck_assert_int_eq(bsdp_state_load(path, b, NULL, NULL, &res), 0);
		ck_assert_uint_eq(res.bad, (size_t)damaged);
		struct reports rep = { 0 };
		struct aside_reports ar = { 0 };
		struct bsdp_state_writer *w = bsdp_state_writer_start(path, b, 20, collect, &rep);
		ck_assert_ptr_nonnull(w);
		if (damaged)
			bsdp_state_writer_set_aside_first(w, collect_aside, &ar);
		usleep(150000); /* several wake-ups of the writer */
		ck_assert_uint_eq(bsdp_state_writer_saves(w), 0);
		bsdp_state_writer_stop(w);
		ck_assert_uint_eq(reported(&rep), 0);
		ck_assert_int_eq(__atomic_load_n(&ar.n, __ATOMIC_ACQUIRE), 0);
		assert_untouched(&before);
		bsdp_bindings_free(b);
	}
	/* No file: none is created. */
	ck_assert_int_eq(unlink(path), 0);
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	ck_assert_int_eq(bsdp_state_load(path, b, NULL, NULL, NULL), -ENOENT);
	bsdp_state_writer_stop(bsdp_state_writer_start(path, b, 20, NULL, NULL));
	ck_assert_uint_eq(files_in_dir(), 0);
	bsdp_bindings_free(b);
}
END_TEST

/* A damaged file stays until the first change; that save sets it aside
 * (reported once, with its new name) and writes the good entries and the
 * change. Later saves set nothing aside. */
START_TEST(test_state_damaged_file_set_aside_at_first_save)
{
	const char *text = BSDP_STATE_HEADER "\n" GOOD_LINE "\nbroken\n";
	write_file(text);
	struct snapshot before;
	take_snapshot(&before);
	struct bsdp_bindings *b = bsdp_bindings_new(16);
	struct bsdp_state_load_result res;
	ck_assert_int_eq(bsdp_state_load(path, b, NULL, NULL, &res), 0);
	ck_assert_uint_eq(res.loaded, 1);
	struct aside_reports ar = { 0 };
	struct bsdp_state_writer *w = bsdp_state_writer_start(path, b, 20, NULL, NULL);
	ck_assert_ptr_nonnull(w);
	bsdp_state_writer_set_aside_first(w, collect_aside, &ar);
	usleep(100000);
	assert_untouched(&before);
	bsdp_bindings_record(b, (const uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 0x01000065, 200, 0, NULL);
	for (int i = 0; i < 100 && bsdp_state_writer_saves(w) == 0; i++)
		usleep(20000);
	ck_assert_uint_eq(bsdp_state_writer_saves(w), 1);
	ck_assert_int_eq(__atomic_load_n(&ar.n, __ATOMIC_ACQUIRE), 1);
	ck_assert_int_eq(ar.err, 0);
	ck_assert(ar.path_ok);
	char want[300];
	snprintf(want, sizeof(want), "%s.damaged-", path);
	ck_assert_msg(strncmp(ar.name, want, strlen(want)) == 0, "set aside as %s", ar.name);
	FILE *f = fopen(ar.name, "r");
	ck_assert_ptr_nonnull(f);
	char kept[256] = "";
	size_t n = fread(kept, 1, sizeof(kept) - 1, f);
	fclose(f);
	kept[n] = '\0';
	ck_assert_str_eq(kept, text);
	/* A second change: saved, nothing more set aside. */
	bsdp_bindings_record(b, (const uint8_t[]){ 2, 0, 0, 0, 0, 2 }, 0x01000065, 300, 0, NULL);
	bsdp_state_writer_stop(w);
	ck_assert_int_eq(__atomic_load_n(&ar.n, __ATOMIC_ACQUIRE), 1);
	ck_assert_uint_eq(files_in_dir(), 2);
	ck_assert_uint_eq(load_clean(path, 16), 3);
	bsdp_bindings_free(b);
}
END_TEST

/* A file that cannot be set aside (gone by then) is reported, and the save
 * still writes the bindings. */
START_TEST(test_state_failed_set_aside_is_reported_and_save_goes_on)
{
	write_file("garbage\n");
	struct bsdp_bindings *b = bsdp_bindings_new(4);
	struct aside_reports ar = { 0 };
	struct bsdp_state_writer *w = bsdp_state_writer_start(path, b, 20, NULL, NULL);
	bsdp_state_writer_set_aside_first(w, collect_aside, &ar);
	ck_assert_int_eq(unlink(path), 0);
	bsdp_bindings_record(b, (const uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 0x01000065, 200, 0, NULL);
	bsdp_state_writer_stop(w);
	ck_assert_int_eq(ar.n, 1);
	ck_assert_int_eq(ar.err, -ENOENT);
	ck_assert(ar.path_ok);
	ck_assert_str_eq(ar.name, "");
	ck_assert_uint_eq(load_clean(path, 4), 1);
	ck_assert_uint_eq(files_in_dir(), 1);
	bsdp_bindings_free(b);
}
END_TEST

/* ---- saving while the table changes ------------------------------------ */

#define CHURN_THREADS 3
#define CHURN_CAPACITY 4096

struct churn {
	struct bsdp_bindings *b;
	int id;
	bool *stop;
	unsigned long changes;
};

/* New MACs all the time (so the table grows, then evicts), with some
 * forgotten and some removed, as a flood of clients would. */
static void *churn_main(void *arg)
{
	struct churn *c = arg;
	for (uint32_t i = 0; !__atomic_load_n(c->stop, __ATOMIC_ACQUIRE) && i < 50000000u; i++) {
		uint8_t mac[6] = { 2, (uint8_t)c->id, (uint8_t)(i >> 24), (uint8_t)(i >> 16),
				   (uint8_t)(i >> 8), (uint8_t)i };
		bsdp_bindings_record(c->b, mac, 0x01000001u + (i % 7), i, 0, NULL);
		if (i % 5 == 1)
			bsdp_bindings_forget(c->b, mac, i);
		if (i % 11 == 2) {
			mac[5]--;
			bsdp_bindings_remove(c->b, mac);
		}
		c->changes++;
	}
	return NULL;
}

/* Every save while the table changes is a whole file: a header, lines that
 * parse, no MAC twice, no more entries than the table holds. */
START_TEST(test_state_save_while_table_grows)
{
	struct bsdp_bindings *b = bsdp_bindings_new(CHURN_CAPACITY);
	bool stop = false;
	struct churn c[CHURN_THREADS];
	pthread_t t[CHURN_THREADS];
	for (int i = 0; i < CHURN_THREADS; i++) {
		c[i] = (struct churn){ .b = b, .id = i, .stop = &stop };
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn_main, &c[i]), 0);
	}
	size_t saves = 0, largest = 0;
	for (int round = 0; round < 150; round++) {
		ck_assert_int_eq(bsdp_state_save(path, b), 0);
		saves++;
		struct bsdp_bindings *back = bsdp_bindings_new(CHURN_CAPACITY * 2);
		struct reports rep = { 0 };
		struct bsdp_state_load_result res;
		ck_assert_int_eq(bsdp_state_load(path, back, collect, &rep, &res), 0);
		ck_assert_msg(rep.n == 0, "save %zu: line %zu: %s", saves, rep.lines[0], rep.reasons[0]);
		ck_assert_uint_eq(res.bad, 0);
		/* A MAC written twice would load as one entry. */
		ck_assert_uint_eq(res.loaded, bsdp_bindings_count(back));
		ck_assert_uint_le(res.loaded, CHURN_CAPACITY);
		if (res.loaded > largest)
			largest = res.loaded;
		bsdp_bindings_free(back);
	}
	__atomic_store_n(&stop, true, __ATOMIC_RELEASE);
	unsigned long changes = 0;
	for (int i = 0; i < CHURN_THREADS; i++) {
		pthread_join(t[i], NULL);
		changes += c[i].changes;
	}
	/* The race was real: the table changed and filled while it was saved. */
	ck_assert_uint_gt(changes, saves);
	ck_assert_uint_gt(largest, 0);
	ck_assert_uint_eq(files_in_dir(), 1);
	bsdp_bindings_free(b);
}
END_TEST

struct saver {
	struct bsdp_bindings *b;
	int errors;
	bool done;
};

static void *saver_main(void *arg)
{
	struct saver *s = arg;
	for (int i = 0; i < 200; i++)
		s->errors += bsdp_state_save(path, s->b) != 0;
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Two writers saving to one path at once (a second server, a restart that
 * overlaps): the file is always one of the two whole tables. */
START_TEST(test_state_two_writers_never_mix_files)
{
	struct saver s[2];
	pthread_t t[2];
	for (int k = 0; k < 2; k++) {
		s[k] = (struct saver){ .b = bsdp_bindings_new(512) };
		for (unsigned i = 0; i < 300; i++) {
			uint8_t mac[6] = { 2, (uint8_t)k, 0, 0, (uint8_t)(i >> 8), (uint8_t)i };
			bsdp_bindings_record(s[k].b, mac, 0x01000001, i, 0, NULL);
		}
	}
	for (int k = 0; k < 2; k++)
		ck_assert_int_eq(pthread_create(&t[k], NULL, saver_main, &s[k]), 0);
	int whole = 0;
	/* Reads while both write (bounded), so reads overlap the renames. */
	for (int round = 0; round < 100000 && !(__atomic_load_n(&s[0].done, __ATOMIC_ACQUIRE) &&
						  __atomic_load_n(&s[1].done, __ATOMIC_ACQUIRE));
	     round++) {
		struct bsdp_bindings *back = bsdp_bindings_new(1024);
		struct reports rep = { 0 };
		struct bsdp_state_load_result res = { 0 };
		int r = bsdp_state_load(path, back, collect, &rep, &res);
		if (r == 0) {
			ck_assert_msg(rep.n == 0, "line %zu: %s", rep.lines[0], rep.reasons[0]);
			ck_assert_uint_eq(res.loaded, 300);
			struct bsdp_binding *all;
			size_t n;
			ck_assert_int_eq(bsdp_bindings_copy(back, &all, &n), 0);
			for (size_t i = 1; i < n; i++)
				ck_assert_uint_eq(all[i].mac[1], all[0].mac[1]); /* one writer's */
			free(all);
			whole++;
		} else {
			ck_assert_int_eq(r, -ENOENT); /* before the first rename */
		}
		bsdp_bindings_free(back);
	}
	for (int k = 0; k < 2; k++) {
		pthread_join(t[k], NULL);
		ck_assert_int_eq(s[k].errors, 0);
		bsdp_bindings_free(s[k].b);
	}
	ck_assert_int_gt(whole, 0);
	ck_assert_uint_eq(files_in_dir(), 1);
}
END_TEST

/* The file lists the least recent first, so a load keeps eviction order. */
START_TEST(test_state_save_keeps_recency_order)
{
	struct bsdp_bindings *b = bsdp_bindings_new(3);
	for (uint8_t i = 1; i <= 3; i++)
		bsdp_bindings_record(b, (const uint8_t[]){ 2, 0, 0, 0, 0, i }, 0x01000001, 10, 0, NULL);
	/* 1 selects again: 2 is now the least recent. */
	bsdp_bindings_record(b, (const uint8_t[]){ 2, 0, 0, 0, 0, 1 }, 0x01000002, 11, 0, NULL);
	ck_assert_int_eq(bsdp_state_save(path, b), 0);
	struct bsdp_bindings *c = bsdp_bindings_new(3);
	ck_assert_int_eq(bsdp_state_load(path, c, NULL, NULL, NULL), 0);
	bsdp_bindings_record(c, (const uint8_t[]){ 2, 0, 0, 0, 0, 9 }, 0x01000001, 12, 0, NULL);
	ck_assert_int_eq(bsdp_bindings_lookup(c, (const uint8_t[]){ 2, 0, 0, 0, 0, 2 }, NULL), -ENOENT);
	ck_assert_int_eq(bsdp_bindings_lookup(c, (const uint8_t[]){ 2, 0, 0, 0, 0, 1 }, NULL), 0);
	ck_assert_int_eq(bsdp_bindings_lookup(c, (const uint8_t[]){ 2, 0, 0, 0, 0, 3 }, NULL), 0);
	bsdp_bindings_free(b);
	bsdp_bindings_free(c);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state_file");
	TCase *t = tcase_create("csv");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 20);
	tcase_add_test(t, test_state_parses_good_lines);
	tcase_add_loop_test(t, test_state_rejects_each_malformed_line_kind, 0,
			    sizeof(bad_lines) / sizeof(bad_lines[0]));
	tcase_add_test(t, test_state_rejects_nul_byte);
	tcase_add_test(t, test_state_format_round_trips);
	tcase_add_test(t, test_state_load_keeps_good_lines_and_reports_bad);
	tcase_add_test(t, test_state_missing_header_is_reported);
	tcase_add_test(t, test_state_missing_and_unreadable_files);
	tcase_add_test(t, test_state_set_aside_renames);
	tcase_add_test(t, test_state_save_then_load_round_trips);
	tcase_add_test(t, test_state_save_failure_keeps_old_file);
	tcase_add_test(t, test_state_writer_coalesces_a_burst);
	tcase_add_test(t, test_state_writer_reports_errors_once);
	tcase_add_test(t, test_state_line_of_128_bytes_is_parsed_and_129_is_too_long);
	tcase_add_test(t, test_state_cut_last_line_is_reported);
	tcase_add_test(t, test_state_empty_file_loads_nothing_silently);
	tcase_add_test(t, test_state_writer_requested_save_is_retried);
	tcase_add_test(t, test_state_writer_backs_off_while_saves_fail);
	tcase_add_test(t, test_state_load_and_stop_without_change_write_nothing);
	tcase_add_test(t, test_state_damaged_file_set_aside_at_first_save);
	tcase_add_test(t, test_state_failed_set_aside_is_reported_and_save_goes_on);
	suite_add_tcase(s, t);
	TCase *race = tcase_create("race");
	tcase_add_checked_fixture(race, setup, teardown);
	tcase_set_timeout(race, 120);
	tcase_add_test(race, test_state_save_while_table_grows);
	tcase_add_test(race, test_state_two_writers_never_mix_files);
	tcase_add_test(race, test_state_save_keeps_recency_order);
	suite_add_tcase(s, race);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(state_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
