/* SPDX-License-Identifier: MPL-2.0 */
/* The change fingerprint of sets-directory (plist/nbi_watch.h): every change
 * a rescan must see moves it, things a scan never reads do not, and an
 * unchanged tree gives the same value. Times are set with utimensat so no
 * test depends on the clock's granularity. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plist/nbi_watch.h"

#include "fixture_util.h"

static char root[PATH_MAX];

static void write_file(const char *rel, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	textf(p, sizeof(p), "%s/%s", root, rel);
	f = fopen(p, "w");
	ck_assert_msg(f != NULL, "fopen %s: %s", p, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void make_dir(const char *rel)
{
	char p[PATH_MAX];

	textf(p, sizeof(p), "%s/%s", root, rel);
	ck_assert_msg(mkdir(p, 0755) == 0, "mkdir %s: %s", p, strerror(errno));
}

/* Sets both times of a path to a fixed second, so "touch" is exact. */
static void set_mtime(const char *rel, time_t sec)
{
	char p[PATH_MAX];
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	textf(p, sizeof(p), "%s/%s", root, rel);
	ck_assert_msg(utimensat(AT_FDCWD, p, ts, 0) == 0, "utimensat %s", p);
}

static void make_set(const char *name)
{
	char rel[PATH_MAX];

	make_dir(name);
	textf(rel, sizeof(rel), "%s/i386", name);
	make_dir(rel);
	textf(rel, sizeof(rel), "%s/i386/x86_64", name);
	make_dir(rel);
	textf(rel, sizeof(rel), "%s/i386/booter", name);
	write_file(rel, "booter");
	textf(rel, sizeof(rel), "%s/NBImageInfo.plist", name);
	write_file(rel, "<plist/>");
	textf(rel, sizeof(rel), "%s/NetInstall.dmg", name);
	write_file(rel, "dmg");
}

static uint64_t fp(void)
{
	uint64_t v = 0;
	int r = bsdp_nbi_fingerprint(root, &v);

	ck_assert_msg(r == 0, "fingerprint: %d", r);
	return v;
}

static void setup(void)
{
	char tmpl[] = "/tmp/bsdp-check-watch.XXXXXX";

	ck_assert(mkdtemp(tmpl) != NULL);
	textf(root, sizeof(root), "%s", tmpl);
	make_set("A.nbi");
	make_set("B.nbi");
	write_file("README.txt", "not a set");
}

static void teardown(void)
{
	remove_tree(root);
}

START_TEST(test_watch_is_stable_for_an_unchanged_tree)
{
	uint64_t a = fp();

	ck_assert(a == fp());
	ck_assert(a == fp());
}
END_TEST

START_TEST(test_watch_rejects_null_arguments)
{
	uint64_t v = 7;

	ck_assert_int_eq(bsdp_nbi_fingerprint(NULL, &v), -EINVAL);
	ck_assert_int_eq(bsdp_nbi_fingerprint(root, NULL), -EINVAL);
	ck_assert(v == 7);
}
END_TEST

START_TEST(test_watch_of_missing_or_non_directory_returns_errno)
{
	char p[PATH_MAX];
	uint64_t v = 7;

	textf(p, sizeof(p), "%s/absent", root);
	ck_assert_int_eq(bsdp_nbi_fingerprint(p, &v), -ENOENT);
	textf(p, sizeof(p), "%s/README.txt", root);
	ck_assert_int_eq(bsdp_nbi_fingerprint(p, &v), -ENOTDIR);
	ck_assert(v == 7);
}
END_TEST

START_TEST(test_watch_sees_a_set_added_and_removed)
{
	uint64_t before = fp(), added;
	char p[PATH_MAX];

	make_set("C.nbi");
	added = fp();
	ck_assert(added != before);
	textf(p, sizeof(p), "%s/C.nbi", root);
	ck_assert_int_eq(remove_tree(p), 0);
	ck_assert(fp() != added);
}
END_TEST

/* The folder's own mtime is pinned so only the entry names differ. */
START_TEST(test_watch_sees_a_set_renamed)
{
	char a[PATH_MAX], b[PATH_MAX];
	uint64_t before;

	set_mtime(".", 1000000000);
	before = fp();
	textf(a, sizeof(a), "%s/B.nbi", root);
	textf(b, sizeof(b), "%s/Z.nbi", root);
	ck_assert_int_eq(rename(a, b), 0);
	set_mtime(".", 1000000000);
	ck_assert(fp() != before);
}
END_TEST

START_TEST(test_watch_sees_a_plist_touched_in_place)
{
	uint64_t before;

	set_mtime("A.nbi/NBImageInfo.plist", 1000000000);
	before = fp();
	set_mtime("A.nbi/NBImageInfo.plist", 1000000001);
	ck_assert(fp() != before);
}
END_TEST

START_TEST(test_watch_sees_a_booter_removed)
{
	char p[PATH_MAX];
	uint64_t before = fp();

	textf(p, sizeof(p), "%s/A.nbi/i386/booter", root);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert(fp() != before);
}
END_TEST

START_TEST(test_watch_sees_a_kernelcache_added)
{
	uint64_t before = fp();

	write_file("B.nbi/i386/x86_64/kernelcache", "kernel");
	ck_assert(fp() != before);
}
END_TEST

START_TEST(test_watch_sees_a_plist_made_unreadable)
{
	char p[PATH_MAX];
	uint64_t before = fp();

	textf(p, sizeof(p), "%s/A.nbi/NBImageInfo.plist", root);
	ck_assert_int_eq(chmod(p, 0), 0);
	ck_assert(fp() != before);
}
END_TEST

START_TEST(test_watch_sees_a_plist_removed_from_its_set)
{
	char p[PATH_MAX];
	uint64_t before;

	set_mtime("A.nbi", 1000000000);
	before = fp();
	textf(p, sizeof(p), "%s/A.nbi/NBImageInfo.plist", root);
	ck_assert_int_eq(unlink(p), 0);
	set_mtime("A.nbi", 1000000000);
	ck_assert(fp() != before);
}
END_TEST

/* Disk images can be gigabytes and are never read by a scan: rewriting one
 * must not cost a rescan. */
START_TEST(test_watch_ignores_disk_image_contents)
{
	uint64_t before = fp();

	write_file("A.nbi/NetInstall.dmg", "a new disk image of another size");
	ck_assert(fp() == before);
}
END_TEST

static Suite *nbi_watch_suite(void)
{
	Suite *s = suite_create("nbi_watch");
	TCase *tc = tcase_create("fingerprint");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_watch_is_stable_for_an_unchanged_tree);
	tcase_add_test(tc, test_watch_rejects_null_arguments);
	tcase_add_test(tc, test_watch_of_missing_or_non_directory_returns_errno);
	tcase_add_test(tc, test_watch_sees_a_set_added_and_removed);
	tcase_add_test(tc, test_watch_sees_a_set_renamed);
	tcase_add_test(tc, test_watch_sees_a_plist_touched_in_place);
	tcase_add_test(tc, test_watch_sees_a_booter_removed);
	tcase_add_test(tc, test_watch_sees_a_kernelcache_added);
	tcase_add_test(tc, test_watch_sees_a_plist_made_unreadable);
	tcase_add_test(tc, test_watch_sees_a_plist_removed_from_its_set);
	tcase_add_test(tc, test_watch_ignores_disk_image_contents);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nbi_watch_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
