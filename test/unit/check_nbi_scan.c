/* SPDX-License-Identifier: MPL-2.0 */
/* NetBoot set scanning and the catalogue. Fixtures are generated once per
 * run by test/fixtures/make-fixtures.py (tests run from the source tree)
 * into a temporary folder under /tmp, in XML, binary (plistlib) and
 * plistutil-written binary variants. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hook/bsdp_codec.h"
#include "hook/catalogue.h"
#include "plist/nbi_scan.h"

#include "fixture_util.h"

#define NOBODY 65534

static char fixtures[PATH_MAX];
static const char *const formats[] = { "xml", "binary" };
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

static const struct bsdp_scan_options with_nfs = { .nfs_available = true };
static const struct bsdp_scan_options without_nfs = { .nfs_available = false };

/* ---- fixture tree ------------------------------------------------------ */

static void restore_perms(void)
{
	static const struct {
		const char *sub;
		mode_t mode;
	} modes[] = {
		{ "perm", 0755 },
		{ "perm/perm-unreadable-folder.nbi", 0755 },
		{ "perm/perm-unreadable-plist.nbi/NBImageInfo.plist", 0644 },
	};
	char p[PATH_MAX];
	size_t f, i;

	for (f = 0; f < N_FORMATS; f++)
		for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			textf(p, sizeof(p), "%s/%s/%s", fixtures, formats[f], modes[i].sub);
			chmod(p, modes[i].mode);
		}
}

static void fixtures_setup(void)
{
	char cmd[PATH_MAX + 128];

	/* Under /tmp, not in the tree: the permission tests read it as nobody,
	 * who may not enter the clone (a clone in root's home, or any folder
	 * only root may enter; `make unit-private` runs this suite so). */
	textf(fixtures, sizeof(fixtures), "%s", "/tmp/check_nbi_scan.XXXXXX");
	if (!mkdtemp(fixtures)) {
		perror("mkdtemp");
		exit(1);
	}
	chmod(fixtures, 0755);
	textf(cmd, sizeof(cmd), "/usr/bin/python3 test/fixtures/make-fixtures.py '%s'", fixtures);
	if (system(cmd) != 0) {
		fprintf(stderr, "make-fixtures.py failed (run from the source tree)\n");
		exit(1);
	}
}

static void fixtures_teardown(void)
{
	restore_perms();
	remove_tree(fixtures);
}

static char *fx(char *buf, const char *fmt, const char *sub, const char *name)
{
	if (name)
		textf(buf, PATH_MAX, "%s/%s/%s/%s", fixtures, fmt, sub, name);
	else
		textf(buf, PATH_MAX, "%s/%s/%s", fixtures, fmt, sub);
	return buf;
}

static struct bsdp_catalogue *scan(const char *fmt, const char *sub,
				   const struct bsdp_scan_options *opts)
{
	char dir[PATH_MAX];
	int err = 1;
	struct bsdp_catalogue *c = bsdp_nbi_scan(fx(dir, fmt, sub, NULL), opts, &err);

	ck_assert_msg(c != NULL, "scan of %s failed: %d", dir, err);
	ck_assert_int_eq(err, 0);
	return c;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);

	return n >= m && strcmp(s + n - m, tail) == 0;
}

/* The diagnostic whose path is that of set `name`. */
static const struct bsdp_diag *diag_for(const struct bsdp_diag *d, size_t n, const char *name)
{
	char tail[PATH_MAX];
	size_t i;

	textf(tail, sizeof(tail), "/%s", name);
	for (i = 0; i < n; i++)
		if (ends_with(d[i].path, tail))
			return &d[i];
	return NULL;
}

static const struct bsdp_image *image_in(const struct bsdp_catalogue *c, const char *set_dir)
{
	size_t i;

	for (i = 0; i < c->n_images; i++)
		if (strcmp(c->images[i].set_dir, set_dir) == 0)
			return &c->images[i];
	return NULL;
}

/* ---- one row per defect fixture ---------------------------------------- */

struct defect {
	const char *set;
	const char *reason;     /* exact reason, or its prefix when tail is set */
	const char *tail;       /* reason ends with <set path> + tail */
	bool nfs;               /* scanned with nfs-url configured */
};

static const struct defect defects[] = {
	{ "missing-plist.nbi", "NBImageInfo.plist is missing", NULL, true },
	{ "empty-plist.nbi", "NBImageInfo.plist is empty", NULL, true },
	{ "malformed.nbi", "NBImageInfo.plist is not a valid XML or binary property list", NULL, true },
	{ "oversize.nbi", "NBImageInfo.plist is 1048577 bytes, over the 1048576-byte limit", NULL, true },
	{ "plist-is-directory.nbi", "NBImageInfo.plist is not a regular file", NULL, true },
	{ "not-a-dict.nbi", "NBImageInfo.plist must hold a dictionary, found array", NULL, true },
	{ "missing-name.nbi", "key \"Name\" is missing", NULL, true },
	{ "name-empty.nbi", "key \"Name\" is empty", NULL, true },
	{ "name-wrong-type.nbi", "key \"Name\" must be a string, found integer", NULL, true },
	{ "name-invalid-utf8.nbi", "key \"Name\" is not valid UTF-8", NULL, true },
	{ "index-missing.nbi", "key \"Index\" is missing", NULL, true },
	{ "index-string.nbi", "key \"Index\" must be an integer, found string", NULL, true },
	{ "index-real.nbi", "key \"Index\" must be an integer, found real", NULL, true },
	{ "index-zero.nbi", "Index 0 is out of range 1..65535", NULL, true },
	{ "index-negative.nbi", "Index -1 is out of range 1..65535", NULL, true },
	{ "type-missing.nbi", "key \"Type\" is missing", NULL, true },
	{ "type-unknown.nbi", "key \"Type\" must be NFS, HTTP or BootFileOnly, found \"FTP\"", NULL, true },
	{ "type-classic.nbi", "Type \"Classic\" (Mac OS 9) is not supported", NULL, true },
	{ "type-wrong-type.nbi", "key \"Type\" must be a string, found integer", NULL, true },
	{ "kind-out-of-range.nbi", "Kind 128 is out of range 0..127", NULL, true },
	{ "kind-string.nbi", "key \"Kind\" must be an integer, found string", NULL, true },
	{ "bootfileonly-without-kind.nbi",
	  "key \"Kind\" is missing (required for Type BootFileOnly)", NULL, true },
	{ "isinstall-string.nbi", "key \"IsInstall\" must be a boolean, found string", NULL, true },
	{ "isenabled-integer.nbi", "key \"IsEnabled\" must be a boolean, found integer", NULL, true },
	{ "isdefault-string.nbi", "key \"IsDefault\" must be a boolean, found string", NULL, true },
	{ "filteronly-integer.nbi", "key \"FilterOnly\" must be a boolean, found integer", NULL, true },
	{ "supportsdiskless-string.nbi", "key \"SupportsDiskless\" must be a boolean, found string",
	  NULL, true },
	{ "bootfile-missing-key.nbi", "key \"BootFile\" is missing", NULL, true },
	{ "bootfile-wrong-type.nbi", "key \"BootFile\" must be a string, found array", NULL, true },
	{ "bootfile-escapes.nbi",
	  "BootFile \"../../../etc/passwd\" escapes the set folder: \"..\" component", NULL, true },
	{ "bootfile-absolute.nbi", "BootFile \"/etc/passwd\" escapes the set folder: absolute path",
	  NULL, true },
	{ "bootfile-symlink-out.nbi",
	  "BootFile \"booter\" for architecture i386 escapes the set folder: resolves to /etc/passwd",
	  NULL, true },
	{ "bootfile-dir-symlink-out.nbi",
	  "BootFile \"boot/booter\" for architecture i386 escapes the set folder: resolves to /etc",
	  NULL, true },
	{ "no-bootfile-for-arch.nbi", "BootFile \"booter\" missing for architecture ppc: ",
	  "/ppc/booter", true },
	{ "bootfile-is-directory.nbi",
	  "BootFile \"booter\" for architecture i386 is not a regular file: ", "/i386/booter", true },
	{ "wrong-type-archs.nbi", "key \"Architectures\" must be an array, found string", NULL, true },
	{ "archs-empty.nbi", "key \"Architectures\" is empty", NULL, true },
	{ "archs-unknown.nbi",
	  "key \"Architectures\" has unknown architecture \"x86_64\" (known: ppc, i386, arm)", NULL,
	  true },
	{ "archs-item-wrong-type.nbi",
	  "key \"Architectures\" item 1 must be a string, found integer", NULL, true },
	{ "rootpath-missing.nbi", "key \"RootPath\" is missing (required for Type HTTP)", NULL, true },
	{ "rootpath-escapes.nbi",
	  "RootPath \"../other.nbi/NetBoot.dmg\" escapes the set folder: \"..\" component", NULL,
	  true },
	{ "rootpath-absolute.nbi",
	  "RootPath \"/srv/NetBoot.dmg\" escapes the set folder: absolute path", NULL, true },
	{ "rootpath-symlink-out.nbi",
	  "RootPath \"NetBoot.dmg\" escapes the set folder: resolves to /etc/passwd", NULL, true },
	{ "rootpath-wrong-type.nbi", "key \"RootPath\" must be a string, found integer", NULL, true },
	{ "enabled-macs-bad.nbi",
	  "key \"EnabledMACAddresses\" item 0 must be a MAC address, found \"00:11:22:33:44\"", NULL,
	  true },
	{ "disabled-macs-wrong-type.nbi",
	  "key \"DisabledMACAddresses\" must be an array, found string", NULL, true },
	{ "enabled-models-item-wrong-type.nbi",
	  "key \"EnabledSystemIdentifiers\" item 1 must be a string, found integer", NULL, true },
	{ "disabled-models-wrong-type.nbi",
	  "key \"DisabledSystemIdentifiers\" must be an array, found dictionary", NULL, true },
	{ "loadbalance-hostname.nbi",
	  "key \"LoadBalanceServer\" must be a dotted IPv4 address, found \"netboot.example\"", NULL,
	  true },
	{ "chainurl-not-http.nbi",
	  "key \"ChainURL\" must be an http:// or https:// URL, found \"tftp://198.18.0.1/mboot.efi\"",
	  NULL, true },
	{ "chainurl-wrong-type.nbi", "key \"ChainURL\" must be a string, found boolean", NULL, true },
	/* A valid NFS set is a defect only while no nfs-url is configured. */
	{ "good-nfs.nbi", "Type NFS needs nfs-url, which is not configured", NULL, false },
};
#define N_DEFECTS (sizeof(defects) / sizeof(defects[0]))

static void assert_reason(const struct defect *d, const char *fmt, const char *set_path,
			  const char *reason)
{
	char want[PATH_MAX * 2];

	if (d->tail)
		textf(want, sizeof(want), "%s%s%s", d->reason, set_path, d->tail);
	else
		textf(want, sizeof(want), "%s", d->reason);
	ck_assert_msg(strcmp(reason, want) == 0, "%s (%s): reason \"%s\", want \"%s\"", d->set, fmt,
		      reason, want);
	ck_assert_msg(!strchr(reason, '\n'), "reason is not one line");
}

START_TEST(test_read_set_rejects_each_defect_with_its_reason)
{
	const struct defect *d = &defects[_i / N_FORMATS];
	const char *fmt = formats[_i % N_FORMATS];
	char path[PATH_MAX], reason[1024];
	struct bsdp_image img;
	int r;

	memset(&img, 0xa5, sizeof(img));
	r = bsdp_nbi_read_set(fx(path, fmt, "mixed", d->set), d->nfs ? &with_nfs : &without_nfs, &img,
			      reason, sizeof(reason), NULL);
	ck_assert_msg(r < 0, "%s (%s) was accepted", d->set, fmt);
	assert_reason(d, fmt, path, reason);
	/* ret_* is written only on success. */
	ck_assert_uint_eq(img.id, 0xa5a5a5a5u);
}
END_TEST

START_TEST(test_scan_skips_each_defect_with_its_reason_and_serves_the_rest)
{
	const char *fmt = formats[_i];
	struct bsdp_catalogue *c = scan(fmt, "mixed", &with_nfs);
	char path[PATH_MAX];
	size_t i, expected_skips = 1; /* dangling.nbi */

	for (i = 0; i < N_DEFECTS; i++) {
		const struct bsdp_diag *d;

		if (!defects[i].nfs)
			continue;
		expected_skips++;
		d = diag_for(c->skipped, c->n_skipped, defects[i].set);
		ck_assert_msg(d != NULL, "%s (%s) not reported", defects[i].set, fmt);
		ck_assert_ptr_null(image_in(c, defects[i].set));
		assert_reason(&defects[i], fmt, fx(path, fmt, "mixed", defects[i].set), d->reason);
	}
	ck_assert_uint_eq(c->n_skipped, expected_skips);
	ck_assert_uint_eq(c->n_images, 11);
	ck_assert_str_eq(c->sets_directory, fx(path, fmt, "mixed", NULL));
	/* Served in byte order of folder name. */
	for (i = 1; i < c->n_images; i++)
		ck_assert_int_lt(strcmp(c->images[i - 1].set_dir, c->images[i].set_dir), 0);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_reports_dangling_set_link)
{
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	const struct bsdp_diag *d = diag_for(c->skipped, c->n_skipped, "dangling.nbi");

	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->reason, "cannot stat set folder: No such file or directory");
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_ignores_entries_that_are_not_sets)
{
	static const char *const ignored[] = { "README.txt", "file.nbi", "notaset", ".nbi" };
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	char longest[128], too_long[128];
	size_t i;

	for (i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
		ck_assert_ptr_null(diag_for(c->skipped, c->n_skipped, ignored[i]));
		ck_assert_ptr_null(image_in(c, ignored[i]));
	}
	/* 120 bytes is the longest name "<set>/i386/<BootFile>" leaves room for. */
	memset(longest, 'L', 116);
	strcpy(longest + 116, ".nbi");
	memset(too_long, 'L', 117);
	strcpy(too_long + 117, ".nbi");
	ck_assert_ptr_nonnull(image_in(c, longest));
	ck_assert_ptr_null(image_in(c, too_long));
	ck_assert_ptr_null(diag_for(c->skipped, c->n_skipped, too_long));
	bsdp_catalogue_free(c);
}
END_TEST

/* ---- good sets ---------------------------------------------------------- */

START_TEST(test_scan_reads_every_key_of_a_full_http_set)
{
	static const uint8_t en_mac[6] = { 0x00, 0x1b, 0x63, 0x0a, 0x0b, 0x0c };
	static const uint8_t dis_mac[6] = { 0x00, 0x1b, 0x63, 0x0a, 0x0b, 0x0d };
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	const struct bsdp_image *img = image_in(c, "good-http-i386.nbi");

	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->id, 0x8100044du);
	ck_assert_ptr_eq(bsdp_catalogue_find(c, 0x8100044du), img);
	ck_assert_uint_eq(img->index, 1101);
	ck_assert_uint_eq(img->kind, 1);
	ck_assert(img->install);
	ck_assert(img->is_default);
	ck_assert(img->is_enabled);
	ck_assert(!img->filter_only);
	ck_assert(!img->supports_diskless);
	ck_assert_int_eq(img->type, BSDP_TYPE_HTTP);
	ck_assert_uint_eq(img->archs, BSDP_ARCH_I386);
	ck_assert_str_eq(img->name, "Mac OS X 10.11 NetInstall");
	ck_assert_uint_eq(img->name_len, strlen("Mac OS X 10.11 NetInstall"));
	ck_assert_str_eq(img->boot_file, "booter");
	ck_assert_str_eq(img->root_path, "NetInstall.dmg");
	ck_assert_str_eq(img->chain_url, "http://198.18.0.1/esxi/mboot.efi");
	ck_assert_uint_eq(img->load_balance_server, 0xc6120002u);
	ck_assert_uint_eq(img->n_enabled_models, 2);
	ck_assert_str_eq(img->enabled_models[0], "MacBookPro11,1");
	ck_assert_str_eq(img->enabled_models[1], "iMac14,2");
	ck_assert_uint_eq(img->n_enabled_macs, 1);
	ck_assert_mem_eq(img->enabled_macs[0], en_mac, 6);
	ck_assert_uint_eq(img->n_disabled_macs, 1);
	ck_assert_mem_eq(img->disabled_macs[0], dis_mac, 6);
	/* Kernelcache present: no warning. */
	ck_assert_ptr_null(diag_for(c->warnings, c->n_warnings, "good-http-i386.nbi"));
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_defaults_kind_1_and_arch_ppc_for_nfs)
{
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	const struct bsdp_image *img = image_in(c, "good-nfs.nbi");

	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->id, 0x0100007bu);
	ck_assert_int_eq(img->type, BSDP_TYPE_NFS);
	ck_assert_uint_eq(img->kind, 1);
	ck_assert_uint_eq(img->archs, BSDP_ARCH_PPC);
	ck_assert(!img->install);
	ck_assert(!img->is_default);
	ck_assert(img->is_enabled);
	ck_assert(!img->filter_only);
	ck_assert_str_eq(img->root_path, "NetBoot.sparseimage");
	ck_assert_ptr_null(img->chain_url);
	ck_assert_uint_eq(img->load_balance_server, 0);
	ck_assert_uint_eq(img->n_enabled_models + img->n_enabled_macs + img->n_disabled_macs, 0);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_filteronly_defaults_true_for_kind_3)
{
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	const struct bsdp_image *diag = image_in(c, "good-diag.nbi");
	const struct bsdp_image *listed = image_in(c, "good-diag-visible.nbi");
	const struct bsdp_image *kind0 = image_in(c, "good-kind0.nbi");

	ck_assert_ptr_nonnull(diag);
	ck_assert_uint_eq(diag->id, 0x03000fa1u);
	ck_assert_int_eq(diag->type, BSDP_TYPE_BOOTFILEONLY);
	ck_assert(diag->filter_only);
	ck_assert_uint_eq(diag->archs, BSDP_ARCH_I386 | BSDP_ARCH_ARM);
	ck_assert_ptr_null(diag->root_path);
	ck_assert_str_eq(diag->boot_file, "diags.efi");
	/* BootFileOnly i386: no kernelcache is fetched, so no warning. */
	ck_assert_ptr_null(diag_for(c->warnings, c->n_warnings, "good-diag.nbi"));
	ck_assert_ptr_nonnull(listed);
	ck_assert(!listed->filter_only);
	ck_assert_ptr_nonnull(kind0);
	ck_assert_uint_eq(kind0->id, 0x000000cdu);
	ck_assert(!kind0->filter_only);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_keeps_disabled_set_marked_disabled)
{
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	const struct bsdp_image *img = image_in(c, "good-disabled.nbi");

	ck_assert_ptr_nonnull(img);
	ck_assert(!img->is_enabled);
	ck_assert_ptr_eq(bsdp_catalogue_find(c, 0x010000c8u), img);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_keeps_indirect_rootpath_verbatim_without_file_check)
{
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	const struct bsdp_image *img = image_in(c, "good-indirect-root.nbi");

	ck_assert_ptr_nonnull(img);
	ck_assert_str_eq(img->root_path, "http://198.18.0.9/images/x.dmg");
	ck_assert_ptr_null(diag_for(c->warnings, c->n_warnings, "good-indirect-root.nbi"));
	bsdp_catalogue_free(c);
}
END_TEST

/* The scan and the responder share one rule (bsdp_root_path_is_url): a URL
 * RootPath, nfs: included, is nobody's file to check, and an NFS set that
 * names its own URL needs no nfs-url; a file RootPath is checked. */
START_TEST(test_scan_checks_rootpath_files_but_not_urls)
{
	static const struct {
		const char *set, *root_path;
	} urls[] = {
		{ "nfs-url.nbi", "nfs:198.18.0.9:/exports/netboot:Shared/NetBoot.dmg" },
		{ "http-url.nbi", "http://198.18.0.9/x.dmg" },
		{ "https-url.nbi", "HTTPS://198.18.0.9/x.dmg" },
	};
	static const char *const missing[] = { "file-missing.nbi", "file-with-colon.nbi" };
	struct bsdp_catalogue *c = scan(formats[_i], "rooturl", &without_nfs);
	char path[PATH_MAX], want[PATH_MAX * 2];
	const struct bsdp_image *img;
	const struct bsdp_diag *d;
	size_t i;

	for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
		img = image_in(c, urls[i].set);
		ck_assert_msg(img != NULL, "%s not served", urls[i].set);
		ck_assert_str_eq(img->root_path, urls[i].root_path);
		ck_assert_ptr_null(diag_for(c->warnings, c->n_warnings, urls[i].set));
	}
	for (i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		img = image_in(c, missing[i]);
		d = diag_for(c->warnings, c->n_warnings, missing[i]);
		ck_assert_ptr_nonnull(img);
		ck_assert_msg(d != NULL, "no warning for %s", missing[i]);
		fx(path, formats[_i], "rooturl", missing[i]);
		textf(want, sizeof(want), "RootPath \"%s\" does not exist: %s/%s", img->root_path,
		      path, img->root_path);
		ck_assert_str_eq(d->reason, want);
	}
	ck_assert_uint_eq(c->n_warnings, 2);
	/* A file RootPath of an NFS set is served through nfs-url only. */
	d = diag_for(c->skipped, c->n_skipped, "file-nfs-type.nbi");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->reason, "Type NFS needs nfs-url, which is not configured");
	ck_assert_uint_eq(c->n_skipped, 1);
	ck_assert_uint_eq(c->n_images, 5);
	bsdp_catalogue_free(c);

	c = scan(formats[_i], "rooturl", &with_nfs);
	img = image_in(c, "file-nfs-type.nbi");
	ck_assert_ptr_nonnull(img);
	ck_assert_str_eq(img->root_path, "NetBoot.dmg");
	ck_assert_uint_eq(c->n_images, 6);
	ck_assert_uint_eq(c->n_skipped, 0);
	ck_assert_uint_eq(c->n_warnings, 2);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_accepts_booter_symlink_inside_the_set)
{
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	const struct bsdp_image *img = image_in(c, "good-symlink-inside.nbi");

	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->archs, BSDP_ARCH_I386 | BSDP_ARCH_PPC);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_warns_when_local_rootpath_is_absent)
{
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	const struct bsdp_diag *w = diag_for(c->warnings, c->n_warnings, "good-root-absent.nbi");
	char path[PATH_MAX], want[PATH_MAX * 2];

	ck_assert_ptr_nonnull(image_in(c, "good-root-absent.nbi"));
	ck_assert_ptr_nonnull(w);
	textf(want, sizeof(want), "RootPath \"NetBoot.dmg\" does not exist: %s/NetBoot.dmg",
		 fx(path, formats[_i], "mixed", "good-root-absent.nbi"));
	ck_assert_str_eq(w->reason, want);
	ck_assert_str_eq(w->path, path);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_warns_when_i386_kernelcache_is_missing)
{
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &with_nfs);
	const struct bsdp_diag *w = diag_for(c->warnings, c->n_warnings, "good-no-kernelcache.nbi");
	char path[PATH_MAX], want[PATH_MAX * 2];

	ck_assert_ptr_nonnull(image_in(c, "good-no-kernelcache.nbi"));
	ck_assert_ptr_nonnull(w);
	textf(want, sizeof(want), "kernelcache missing for architecture i386: %s/i386/x86_64/kernelcache",
		 fx(path, formats[_i], "mixed", "good-no-kernelcache.nbi"));
	ck_assert_str_eq(w->reason, want);
	/* The two warned sets, nothing else. */
	ck_assert_uint_eq(c->n_warnings, 2);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_skips_nfs_sets_without_nfs_url)
{
	struct bsdp_catalogue *c = scan(formats[_i], "mixed", &without_nfs);
	const struct bsdp_diag *d = diag_for(c->skipped, c->n_skipped, "good-nfs.nbi");

	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->reason, "Type NFS needs nfs-url, which is not configured");
	ck_assert_ptr_null(image_in(c, "good-nfs.nbi"));
	ck_assert_ptr_nonnull(image_in(c, "good-http-i386.nbi"));
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_reads_binary_plists_written_by_plistutil)
{
	struct bsdp_catalogue *c = scan("plistutil", "", &with_nfs);
	const struct bsdp_image *http = image_in(c, "good-http-i386.nbi");
	const struct bsdp_image *cut = image_in(c, "name-utf8-cut-4byte.nbi");
	const struct bsdp_diag *d = diag_for(c->skipped, c->n_skipped, "index-string.nbi");

	ck_assert_uint_eq(c->n_images, 3);
	ck_assert_ptr_nonnull(http);
	ck_assert_uint_eq(http->id, 0x8100044du);
	ck_assert_str_eq(http->name, "Mac OS X 10.11 NetInstall");
	ck_assert_uint_eq(http->n_enabled_macs, 1);
	ck_assert_ptr_nonnull(image_in(c, "good-nfs.nbi"));
	ck_assert_ptr_nonnull(cut);
	ck_assert_uint_eq(cut->name_len, 243);
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->reason, "key \"Index\" must be an integer, found string");
	bsdp_catalogue_free(c);
}
END_TEST

/* ---- duplicates and boundaries ------------------------------------------ */

START_TEST(test_scan_earlier_folder_in_byte_order_wins_a_duplicate_id)
{
	static const char *const later[] = { "duplicate-id-B.nbi", "duplicate-id-a.nbi" };
	struct bsdp_catalogue *c = scan(formats[_i], "dups", &with_nfs);
	const struct bsdp_image *img = bsdp_catalogue_find(c, 0x01000007u);
	size_t i;

	/* The broken "0" set comes first but is skipped, so it takes no id. */
	ck_assert_ptr_nonnull(diag_for(c->skipped, c->n_skipped, "duplicate-id-0-broken.nbi"));
	ck_assert_ptr_nonnull(img);
	ck_assert_str_eq(img->set_dir, "duplicate-id-A.nbi");
	ck_assert_str_eq(img->name, "first");
	/* strcmp order: 'B' (0x42) sorts before 'a' (0x61), unlike most locales. */
	for (i = 0; i < 2; i++) {
		const struct bsdp_diag *d = diag_for(c->skipped, c->n_skipped, later[i]);

		ck_assert_ptr_nonnull(d);
		ck_assert_str_eq(d->reason, "image id 0x01000007 (Index 7, Kind 1) is already served by "
					    "\"duplicate-id-A.nbi\", which comes first in byte order");
		ck_assert_ptr_null(image_in(c, later[i]));
	}
	/* Same index with another kind or the install bit is another id. */
	ck_assert_ptr_nonnull(bsdp_catalogue_find(c, 0x02000007u));
	ck_assert_ptr_nonnull(bsdp_catalogue_find(c, 0x81000007u));
	ck_assert_uint_eq(c->n_images, 3);
	ck_assert_uint_eq(c->n_skipped, 3);
	ck_assert_uint_eq(c->n_warnings, 0);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_cuts_names_to_246_bytes_on_a_character_boundary)
{
	static const struct {
		const char *set;
		size_t len;
		bool warned;
	} rows[] = {
		{ "name-245.nbi", 245, false },           { "name-246.nbi", 246, false },
		{ "name-247.nbi", 246, true },            { "name-utf8-cut-2byte.nbi", 245, true },
		{ "name-utf8-cut-3byte.nbi", 244, true }, { "name-utf8-fits.nbi", 246, false },
		{ "name-utf8-cut-4byte.nbi", 243, true },
	};
	struct bsdp_catalogue *c = scan(formats[_i], "bounds", &with_nfs);
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct bsdp_image *img = image_in(c, rows[i].set);
		const struct bsdp_diag *w = diag_for(c->warnings, c->n_warnings, rows[i].set);

		ck_assert_msg(img != NULL, "%s not served", rows[i].set);
		ck_assert_msg(img->name_len == rows[i].len, "%s: %zu bytes", rows[i].set, img->name_len);
		ck_assert_uint_eq(strlen(img->name), img->name_len);
		ck_assert_msg((w != NULL) == rows[i].warned, "%s: warning", rows[i].set);
		if (w)
			ck_assert(strncmp(w->reason, "Name is 247 bytes, cut to ", 26) == 0);
	}
	/* The cut multi-byte name ends right before its last character. */
	ck_assert_uint_eq((unsigned char)image_in(c, "name-utf8-fits.nbi")->name[243], 0xe2);
	ck_assert_uint_eq((unsigned char)image_in(c, "name-utf8-cut-2byte.nbi")->name[244], 'A');
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_accepts_index_1_to_65535_only)
{
	static const struct {
		unsigned index;
		bool served;
	} rows[] = { { 0, false }, { 1, true }, { 4095, true }, { 4096, true }, { 65535, true },
		     { 65536, false } };
	struct bsdp_catalogue *c = scan(formats[_i], "bounds", &with_nfs);
	char set[32], want[64];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct bsdp_image *img;
		const struct bsdp_diag *d;

		textf(set, sizeof(set), "index-%u.nbi", rows[i].index);
		img = image_in(c, set);
		d = diag_for(c->skipped, c->n_skipped, set);
		if (rows[i].served) {
			ck_assert_msg(img != NULL, "%s not served", set);
			ck_assert_uint_eq(img->index, rows[i].index);
			ck_assert_uint_eq(img->id, BSDP_IMAGE_ID(0, 1, rows[i].index));
			ck_assert_ptr_null(d);
		} else {
			ck_assert_ptr_null(img);
			ck_assert_ptr_nonnull(d);
			textf(want, sizeof(want), "Index %u is out of range 1..65535", rows[i].index);
			ck_assert_str_eq(d->reason, want);
		}
	}
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_scan_accepts_a_plist_of_exactly_1_mib)
{
	struct bsdp_catalogue *c = scan(formats[_i], "bounds", &with_nfs);

	ck_assert_ptr_nonnull(image_in(c, "plist-1mib.nbi"));
	/* index-0 and index-65536 only. */
	ck_assert_uint_eq(c->n_skipped, 2);
	bsdp_catalogue_free(c);
}
END_TEST

/* ---- the directory itself, permissions ---------------------------------- */

START_TEST(test_scan_of_missing_or_non_directory_returns_null_with_err)
{
	char path[PATH_MAX];
	int err = 0;

	ck_assert_ptr_null(bsdp_nbi_scan(fx(path, "xml", "no-such-dir", NULL), &with_nfs, &err));
	ck_assert_int_eq(err, -ENOENT);
	ck_assert_ptr_null(bsdp_nbi_scan(fx(path, "xml", "mixed", "README.txt"), &with_nfs, &err));
	ck_assert_int_eq(err, -ENOTDIR);
	ck_assert_ptr_null(bsdp_nbi_scan(NULL, &with_nfs, &err));
	ck_assert_int_eq(err, -EINVAL);
}
END_TEST

START_TEST(test_scan_of_empty_directory_gives_empty_catalogue)
{
	char path[PATH_MAX];
	struct bsdp_catalogue *c;
	int err = 1;

	fx(path, "xml", "empty", NULL);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	c = bsdp_nbi_scan(path, &without_nfs, &err);
	rmdir(path);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(c->n_images + c->n_skipped + c->n_warnings, 0);
	bsdp_catalogue_free(c);
}
END_TEST

/* Runs fn in a child as an unprivileged user (root ignores file modes) and
 * returns its exit status; the child leaves with _exit, skipping leak checks
 * that cannot run after setuid. */
static int as_nobody(int (*fn)(const char *), const char *arg)
{
	int status = 0;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
			_exit(100);
		_exit(fn(arg));
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static int scan_unreadable_dir(const char *dir)
{
	int err = 0;
	struct bsdp_catalogue *c = bsdp_nbi_scan(dir, &with_nfs, &err);

	if (c)
		return 1;
	return err == -EACCES ? 0 : 2;
}

START_TEST(test_scan_of_unreadable_directory_returns_null_with_eacces)
{
	char path[PATH_MAX];

	fx(path, "xml", "perm", NULL);
	/* nobody reads it while its mode allows: EACCES below is the mode's. */
	ck_assert_int_eq(as_nobody(scan_unreadable_dir, path), 1);
	ck_assert_int_eq(chmod(path, 0), 0);
	ck_assert_int_eq(as_nobody(scan_unreadable_dir, path), 0);
	ck_assert_int_eq(chmod(path, 0755), 0);
}
END_TEST

static int scan_perm_sets(const char *dir)
{
	static const char want[] = "cannot open NBImageInfo.plist: Permission denied";
	int err = 0;
	struct bsdp_catalogue *c = bsdp_nbi_scan(dir, &with_nfs, &err);
	const struct bsdp_diag *plist, *folder;
	int r = 0;

	if (!c)
		return 1;
	plist = diag_for(c->skipped, c->n_skipped, "perm-unreadable-plist.nbi");
	folder = diag_for(c->skipped, c->n_skipped, "perm-unreadable-folder.nbi");
	if (c->n_images != 1 || !image_in(c, "perm-good.nbi"))
		r = 2;
	else if (!plist || strcmp(plist->reason, want) != 0)
		r = 3;
	else if (!folder || strcmp(folder->reason, want) != 0)
		r = 4;
	bsdp_catalogue_free(c);
	return r;
}

START_TEST(test_scan_skips_unreadable_sets_and_serves_the_others)
{
	char dir[PATH_MAX], path[PATH_MAX];

	fx(dir, formats[_i], "perm", NULL);
	ck_assert_int_eq(chmod(fx(path, formats[_i], "perm", "perm-unreadable-folder.nbi"), 0), 0);
	textf(path, sizeof(path), "%s/perm-unreadable-plist.nbi/NBImageInfo.plist", dir);
	ck_assert_int_eq(chmod(path, 0), 0);
	ck_assert_int_eq(as_nobody(scan_perm_sets, dir), 0);
	restore_perms();
}
END_TEST

START_TEST(test_read_set_requires_a_folder_ending_in_nbi)
{
	char path[PATH_MAX], reason[256];
	struct bsdp_image img;

	ck_assert_int_eq(bsdp_nbi_read_set(fx(path, "xml", "mixed", "notaset"), &with_nfs, &img,
					   reason, sizeof(reason), NULL),
			 -EINVAL);
	ck_assert_str_eq(reason, "set folder name does not end in .nbi");
}
END_TEST

START_TEST(test_read_set_accepts_trailing_slash_and_fills_ret)
{
	char path[PATH_MAX], reason[256];
	struct bsdp_image img;
	struct bsdp_catalogue *warn = bsdp_catalogue_new(NULL);

	strcat(fx(path, "binary", "mixed", "good-no-kernelcache.nbi"), "/");
	ck_assert_int_eq(bsdp_nbi_read_set(path, &with_nfs, &img, reason, sizeof(reason), warn), 0);
	ck_assert_str_eq(img.set_dir, "good-no-kernelcache.nbi");
	ck_assert_uint_eq(img.id, 0x010000cbu);
	ck_assert_uint_eq(warn->n_warnings, 1);
	bsdp_image_release(&img);
	ck_assert_ptr_null(img.name);
	bsdp_catalogue_free(warn);
}
END_TEST

/* ---- catalogue ---------------------------------------------------------- */

static struct bsdp_image make_image(uint32_t id, const char *name)
{
	struct bsdp_image img;

	memset(&img, 0, sizeof(img));
	img.id = id;
	img.name = strdup(name);
	img.name_len = strlen(name);
	img.set_dir = strdup("x.nbi");
	return img;
}

START_TEST(test_catalogue_add_find_and_reject_duplicate_full_id)
{
	struct bsdp_catalogue *c = bsdp_catalogue_new("/srv/netboot");
	struct bsdp_image a = make_image(BSDP_IMAGE_ID(0, 1, 7), "a");
	struct bsdp_image same = make_image(BSDP_IMAGE_ID(0, 1, 7), "same id");
	struct bsdp_image install = make_image(BSDP_IMAGE_ID(1, 1, 7), "install bit");
	uint32_t i;

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->sets_directory, "/srv/netboot");
	ck_assert_int_eq(bsdp_catalogue_add(c, &a), 0);
	ck_assert_int_eq(bsdp_catalogue_add(c, &same), -EEXIST);
	bsdp_image_release(&same);
	ck_assert_int_eq(bsdp_catalogue_add(c, &install), 0);
	/* Enough to grow the array several times. */
	for (i = 100; i < 140; i++) {
		struct bsdp_image img = make_image(BSDP_IMAGE_ID(0, 2, i), "more");

		ck_assert_int_eq(bsdp_catalogue_add(c, &img), 0);
	}
	ck_assert_uint_eq(c->n_images, 42);
	ck_assert_str_eq(bsdp_catalogue_find(c, 0x01000007u)->name, "a");
	ck_assert_str_eq(bsdp_catalogue_find(c, 0x81000007u)->name, "install bit");
	ck_assert_ptr_nonnull(bsdp_catalogue_find(c, BSDP_IMAGE_ID(0, 2, 139)));
	ck_assert_ptr_null(bsdp_catalogue_find(c, 0x02000007u));
	ck_assert_ptr_null(bsdp_catalogue_find(NULL, 1));
	ck_assert_int_eq(bsdp_catalogue_add(c, NULL), -EINVAL);
	bsdp_catalogue_free(c);
	bsdp_catalogue_free(NULL);
}
END_TEST

START_TEST(test_catalogue_records_skips_and_warnings_as_copies)
{
	struct bsdp_catalogue *c = bsdp_catalogue_new(NULL);
	char path[] = "/srv/a.nbi", reason[] = "bad";
	int i;

	ck_assert_ptr_null(c->sets_directory);
	for (i = 0; i < 9; i++)
		ck_assert_int_eq(bsdp_catalogue_skip(c, path, reason), 0);
	ck_assert_int_eq(bsdp_catalogue_warn(c, path, "careful"), 0);
	path[1] = 'X';
	reason[0] = 'X';
	ck_assert_uint_eq(c->n_skipped, 9);
	ck_assert_str_eq(c->skipped[8].path, "/srv/a.nbi");
	ck_assert_str_eq(c->skipped[8].reason, "bad");
	ck_assert_uint_eq(c->n_warnings, 1);
	ck_assert_str_eq(c->warnings[0].reason, "careful");
	ck_assert_int_eq(bsdp_catalogue_skip(NULL, path, reason), -EINVAL);
	bsdp_catalogue_free(c);
}
END_TEST

START_TEST(test_root_path_is_url_for_a_scheme_and_slashes_or_nfs)
{
	static const struct {
		const char *root_path;
		bool url;
	} rows[] = {
		{ "http://198.18.0.9/x.dmg", true },
		{ "https://198.18.0.9/x.dmg", true },
		{ "HTTP://198.18.0.9/x.dmg", true },
		{ "nfs:198.18.0.9:/exports:NetBoot.dmg", true },
		{ "NFS:198.18.0.9:/exports:NetBoot.dmg", true },
		{ "nfs://198.18.0.9/exports/NetBoot.dmg", true },
		{ "ftp+x-y.z://host/x", true },
		{ "NetBoot.dmg", false },
		{ "Shared/NetBoot.dmg", false },
		{ "nfs", false },
		{ "nfsx:NetBoot.dmg", false },
		{ "nf:NetBoot.dmg", false },
		{ "a:b.dmg", false },
		{ "http:x.dmg", false },
		{ "dir/http://x", false },
		{ "1http://x", false },
		{ "://x", false },
		{ "", false },
	};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		ck_assert_msg(bsdp_root_path_is_url(rows[i].root_path) == rows[i].url, "%s",
			      rows[i].root_path);
	ck_assert(!bsdp_root_path_is_url(NULL));
}
END_TEST

START_TEST(test_catalogue_names_archs_and_types)
{
	ck_assert_uint_eq(bsdp_arch_from_name("ppc", 3), BSDP_ARCH_PPC);
	ck_assert_uint_eq(bsdp_arch_from_name("i386", 4), BSDP_ARCH_I386);
	ck_assert_uint_eq(bsdp_arch_from_name("arm", 3), BSDP_ARCH_ARM);
	ck_assert_uint_eq(bsdp_arch_from_name("i386x", 4), BSDP_ARCH_I386);
	ck_assert_uint_eq(bsdp_arch_from_name("i38", 3), 0);
	ck_assert_uint_eq(bsdp_arch_from_name("I386", 4), 0);
	ck_assert_uint_eq(bsdp_arch_from_name("x86_64", 6), 0);
	ck_assert_uint_eq(bsdp_arch_from_name("", 0), 0);
	ck_assert_str_eq(bsdp_arch_name(BSDP_ARCH_I386), "i386");
	ck_assert_str_eq(bsdp_arch_name(BSDP_ARCH_PPC), "ppc");
	ck_assert_str_eq(bsdp_arch_name(BSDP_ARCH_ARM), "arm");
	ck_assert_str_eq(bsdp_arch_name(0), "unknown");
	ck_assert_str_eq(bsdp_image_type_name(BSDP_TYPE_NFS), "NFS");
	ck_assert_str_eq(bsdp_image_type_name(BSDP_TYPE_HTTP), "HTTP");
	ck_assert_str_eq(bsdp_image_type_name(BSDP_TYPE_BOOTFILEONLY), "BootFileOnly");
}
END_TEST

static const struct {
	const char *text;
	uint8_t mac[6];
} good_macs[] = {
	{ "00:1b:63:0a:0b:0c", { 0x00, 0x1b, 0x63, 0x0a, 0x0b, 0x0c } },
	{ "00:1B:63:0A:0B:0C", { 0x00, 0x1b, 0x63, 0x0a, 0x0b, 0x0c } },
	{ "0:1b:63:a:b:c", { 0x00, 0x1b, 0x63, 0x0a, 0x0b, 0x0c } },
	{ "00-1b-63-0A-0b-0C", { 0x00, 0x1b, 0x63, 0x0a, 0x0b, 0x0c } },
	{ "0-0-0-0-0-0", { 0, 0, 0, 0, 0, 0 } },
	{ "ff:FF:fF:Ff:ff:ff", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
};

static const char *const bad_macs[] = {
	"",                   "00:1b:63:0a:0b",       "00:1b:63:0a:0b:0c:0d", "001b630a0b0c",
	"00:1b:63:0a:0b:0c:", ":00:1b:63:0a:0b:0c",  "00::1b:63:0a:0b",       "000:1b:63:0a:0b:0c",
	"00:1b:63:0a:0b:0g",  "00:1b-63:0a:0b:0c",   "00 1b 63 0a 0b 0c",     "00:1b:63:0a:0b:0c ",
	"00.1b.63.0a.0b.0c",  "+0:1b:63:0a:0b:0c",
};

START_TEST(test_mac_parse_accepts_either_separator_case_and_zero_padding)
{
	uint8_t mac[6];

	ck_assert_int_eq(bsdp_mac_parse(good_macs[_i].text, strlen(good_macs[_i].text), mac), 0);
	ck_assert_mem_eq(mac, good_macs[_i].mac, 6);
}
END_TEST

START_TEST(test_mac_parse_rejects_malformed_and_leaves_output)
{
	uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };
	static const uint8_t orig[6] = { 1, 2, 3, 4, 5, 6 };

	ck_assert_msg(bsdp_mac_parse(bad_macs[_i], strlen(bad_macs[_i]), mac) == -EINVAL, "\"%s\"",
		      bad_macs[_i]);
	ck_assert_mem_eq(mac, orig, 6);
}
END_TEST

START_TEST(test_mac_parse_honours_length_not_nul)
{
	uint8_t mac[6];

	ck_assert_int_eq(bsdp_mac_parse("00:1b:63:0a:0b:0c:ff", 17, mac), 0);
	ck_assert_int_eq(bsdp_mac_parse("00:1b:63:0a:0b:0c", 16, mac), 0);
	ck_assert_uint_eq(mac[5], 0x00);
	ck_assert_int_eq(bsdp_mac_parse("00:1b:63:0a:0b:0c", 15, mac), -EINVAL);
	ck_assert_int_eq(bsdp_mac_parse(NULL, 0, mac), -EINVAL);
}
END_TEST

/* Writes a minimal BootFileOnly set with this index under dir. */
static void write_min_set(const char *dir, int index)
{
	char path[PATH_MAX];
	FILE *f;

	textf(path, sizeof(path), "%s/Set%02d.nbi", dir, index);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	textf(path, sizeof(path), "%s/Set%02d.nbi/i386", dir, index);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	textf(path, sizeof(path), "%s/Set%02d.nbi/i386/booter", dir, index);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("booter", f);
	fclose(f);
	textf(path, sizeof(path), "%s/Set%02d.nbi/NBImageInfo.plist", dir, index);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
		   "<key>Name</key><string>Set %d</string><key>Index</key><integer>%d</integer>"
		   "<key>Type</key><string>BootFileOnly</string><key>Kind</key><integer>1</integer>"
		   "<key>BootFile</key><string>booter</string><key>Architectures</key>"
		   "<array><string>i386</string></array></dict></plist>\n", index, index);
	fclose(f);
}

/* An operator swaps sets.new into place (rename) while a rescan runs: every
 * scan gives the whole catalogue or fails, never a mix of the two states. */
START_TEST(test_scan_never_publishes_a_directory_swapped_mid_scan)
{
	char base[PATH_MAX], a[PATH_MAX], b[PATH_MAX], t[PATH_MAX];
	int complete = 0, refused = 0;

	textf(base, sizeof(base), "%s/race", fixtures);
	ck_assert_int_eq(mkdir(base, 0755), 0);
	textf(a, sizeof(a), "%s/sets", base);
	textf(b, sizeof(b), "%s/sets.new", base);
	textf(t, sizeof(t), "%s/sets.old", base);
	ck_assert_int_eq(mkdir(a, 0755), 0);
	ck_assert_int_eq(mkdir(b, 0755), 0);
	for (int i = 1; i <= 12; i++) {
		write_min_set(a, i);
		write_min_set(b, i);
	}
	pid_t child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0) {
		/* Bounded: 3000 swaps, then the directory stays put. */
		for (int i = 0; i < 3000; i++) {
			if (rename(a, t) || rename(b, a) || rename(t, b))
				_exit(1);
		}
		_exit(0);
	}
	/* While the swaps go on (bounded by count), no scan may mix states. */
	bool swapping = true;
	for (int i = 0; i < 5000 && swapping; i++) {
		int err = 0;
		struct bsdp_catalogue *c = bsdp_nbi_scan(a, NULL, &err);
		if (!c) {
			ck_assert_msg(err == -EAGAIN || err == -ENOENT, "scan %d: err %d", i, err);
			refused++;
		} else {
			ck_assert_msg(c->n_images == 12 && c->n_skipped == 0,
				      "scan %d published %zu images, %zu skipped", i, c->n_images,
				      c->n_skipped);
			complete++;
			bsdp_catalogue_free(c);
		}
		swapping = waitpid(child, NULL, WNOHANG) == 0;
	}
	/* The child's loop is bounded and always ends with every rename done:
	 * wait for it rather than kill it halfway through a swap. */
	int status = 0;
	if (swapping)
		ck_assert_int_eq(waitpid(child, &status, 0), child);
	/* Once the directory is still, a scan gives the whole catalogue. */
	int err = 0;
	struct bsdp_catalogue *c = bsdp_nbi_scan(a, NULL, &err);
	ck_assert_msg(c != NULL, "scan after the swaps: err %d", err);
	ck_assert_uint_eq(c->n_images, 12);
	ck_assert_uint_eq(c->n_skipped, 0);
	bsdp_catalogue_free(c);
	ck_assert_int_gt(complete + refused, 0);
}
END_TEST

/* ---- a served set that breaks keeps its last good version --------------- */

static const char *const stale_trees[] = { "xml", "binary", "plistutil" };

static size_t read_all(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, size, f);
	ck_assert(feof(f));
	fclose(f);
	return n;
}

/* In place, as an editor that truncates and writes would leave it. */
static void write_all(const char *path, const char *buf, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_msg(f != NULL, "cannot open %s", path);
	ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

static struct bsdp_catalogue *rescan(const char *dir, const struct bsdp_catalogue *previous,
				     int64_t now)
{
	struct bsdp_scan_options opts = { .nfs_available = true, .previous = previous, .now = now };
	int err = 1;
	struct bsdp_catalogue *c = bsdp_nbi_scan(dir, &opts, &err);

	ck_assert_msg(c != NULL, "scan of %s failed: %d", dir, err);
	return c;
}

/* Flappy served fresh, with the plist's own values and no skip. */
static void assert_fresh(const struct bsdp_catalogue *c)
{
	const struct bsdp_image *img = image_in(c, "Flappy.nbi");

	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->id, BSDP_IMAGE_ID(0, 1, 2050));
	ck_assert_str_eq(img->name, "HTTP set 2050");
	ck_assert_ptr_null(img->stale.path);
	ck_assert_ptr_null(img->stale.reason);
	ck_assert_int_eq(img->stale_since, 0);
	ck_assert_ptr_null(diag_for(c->skipped, c->n_skipped, "Flappy.nbi"));
}

/* Flappy served from its last good version, stale since `since`. */
static void assert_stale(const struct bsdp_catalogue *c, const char *set_path, const char *reason,
			 int64_t since)
{
	const struct bsdp_image *img = image_in(c, "Flappy.nbi");

	ck_assert_ptr_nonnull(img);
	ck_assert_uint_eq(img->id, BSDP_IMAGE_ID(0, 1, 2050));
	ck_assert_str_eq(img->name, "HTTP set 2050");
	ck_assert_str_eq(img->boot_file, "booter");
	ck_assert_str_eq(img->root_path, "NetBoot.dmg");
	ck_assert_uint_eq(img->archs, BSDP_ARCH_I386);
	ck_assert_str_eq(img->stale.path, set_path);
	ck_assert_str_eq(img->stale.reason, reason);
	ck_assert_int_eq(img->stale_since, since);
	/* Served, so not skipped: the stale mark is the one report. */
	ck_assert_ptr_null(diag_for(c->skipped, c->n_skipped, "Flappy.nbi"));
}

/* The rest of the tree is untouched by Flappy's state. */
static void assert_others(const struct bsdp_catalogue *c)
{
	const struct bsdp_image *steady = image_in(c, "Steady.nbi");
	const struct bsdp_diag *never = diag_for(c->skipped, c->n_skipped, "Never.nbi");

	ck_assert_ptr_nonnull(steady);
	ck_assert_ptr_null(steady->stale.reason);
	ck_assert_ptr_null(image_in(c, "Never.nbi"));
	ck_assert_ptr_nonnull(never);
	ck_assert_str_eq(never->reason,
			 "NBImageInfo.plist is not a valid XML or binary property list");
}

START_TEST(test_rescan_serves_a_broken_set_stale_until_mended_or_removed)
{
	const char *fmt = stale_trees[_i];
	char dir[PATH_MAX], set[PATH_MAX], plist[PATH_MAX], good[8192];
	struct bsdp_catalogue *c[8];
	size_t n;

	fx(dir, fmt, "stale", NULL);
	fx(set, fmt, "stale", "Flappy.nbi");
	textf(plist, sizeof(plist), "%s/NBImageInfo.plist", set);
	n = read_all(plist, good, sizeof(good));
	ck_assert_uint_gt(n, 40);
	ck_assert_int_eq(memcmp(good, strcmp(fmt, "xml") == 0 ? "<?xml" : "bplist00",
				strcmp(fmt, "xml") == 0 ? 5 : 8), 0);

	c[0] = rescan(dir, NULL, 1000);
	assert_fresh(c[0]);
	assert_others(c[0]);
	ck_assert_uint_eq(c[0]->n_images, 2);

	/* Half written: served on, stale since this scan. */
	write_all(plist, good, n / 2);
	c[1] = rescan(dir, c[0], 2000);
	assert_stale(c[1], set, "NBImageInfo.plist is not a valid XML or binary property list",
		     2000);
	assert_others(c[1]);
	ck_assert_uint_eq(c[1]->n_images, 2);
	/* Emptied: the reason follows, the time it first failed stays. */
	write_all(plist, good, 0);
	c[2] = rescan(dir, c[1], 3000);
	assert_stale(c[2], set, "NBImageInfo.plist is empty", 2000);
	/* Only its first byte: still the same episode. */
	write_all(plist, good, 1);
	c[3] = rescan(dir, c[2], 4000);
	assert_stale(c[3], set, "NBImageInfo.plist is not a valid XML or binary property list",
		     2000);

	/* Mended: fresh again, the stale mark gone. */
	write_all(plist, good, n);
	c[4] = rescan(dir, c[3], 5000);
	assert_fresh(c[4]);
	assert_others(c[4]);

	/* Broken again: a new episode with its own start. */
	write_all(plist, good, n / 3);
	c[5] = rescan(dir, c[4], 6000);
	assert_stale(c[5], set, "NBImageInfo.plist is not a valid XML or binary property list",
		     6000);

	/* No previous catalogue (kea-bsdp-check, a new configuration), or one
	 * of another directory: a broken set is only skipped. */
	c[6] = rescan(dir, NULL, 7000);
	ck_assert_ptr_null(image_in(c[6], "Flappy.nbi"));
	ck_assert_ptr_nonnull(diag_for(c[6]->skipped, c[6]->n_skipped, "Flappy.nbi"));
	bsdp_catalogue_free(c[6]);
	free(c[5]->sets_directory);
	c[5]->sets_directory = strdup(fx(set, fmt, "mixed", NULL));
	c[6] = rescan(dir, c[5], 7000);
	ck_assert_ptr_null(image_in(c[6], "Flappy.nbi"));
	bsdp_catalogue_free(c[6]);
	free(c[5]->sets_directory);
	c[5]->sets_directory = strdup(dir);

	/* Folder removed: the set goes, stale or not, and is not reported. */
	fx(set, fmt, "stale", "Flappy.nbi");
	ck_assert_int_eq(remove_tree(set), 0);
	c[6] = rescan(dir, c[5], 8000);
	ck_assert_ptr_null(image_in(c[6], "Flappy.nbi"));
	ck_assert_ptr_null(diag_for(c[6]->skipped, c[6]->n_skipped, "Flappy.nbi"));
	assert_others(c[6]);
	ck_assert_uint_eq(c[6]->n_images, 1);

	/* A catalogue made from stale copies is freed like any other. */
	for (int i = 0; i < 7; i++)
		bsdp_catalogue_free(c[i]);
}
END_TEST

/* A served set whose folder is still there but cannot be reached (here a
 * link to itself: ELOOP, as EACCES or EIO would be) is served on, stale;
 * once reachable again it is fresh. */
START_TEST(test_rescan_keeps_a_set_whose_folder_cannot_be_reached)
{
	char dir[PATH_MAX], set[PATH_MAX], away[PATH_MAX];
	struct bsdp_catalogue *c[3];

	fx(dir, "xml", "stale", NULL);
	fx(set, "xml", "stale", "Flappy.nbi");
	textf(away, sizeof(away), "%s.away", set);
	c[0] = rescan(dir, NULL, 1000);
	assert_fresh(c[0]);
	ck_assert_int_eq(rename(set, away), 0);
	ck_assert_int_eq(symlink("Flappy.nbi", set), 0);
	c[1] = rescan(dir, c[0], 2000);
	assert_stale(c[1], set, "cannot stat set folder: Too many levels of symbolic links", 2000);
	assert_others(c[1]);
	ck_assert_int_eq(unlink(set), 0);
	ck_assert_int_eq(rename(away, set), 0);
	c[2] = rescan(dir, c[1], 3000);
	assert_fresh(c[2]);
	for (int i = 0; i < 3; i++)
		bsdp_catalogue_free(c[i]);
}
END_TEST

/* A stale set keeps its image id only while no set earlier in byte order
 * claims it; then it is skipped with its own reason. */
START_TEST(test_rescan_skips_a_broken_set_whose_id_was_taken)
{
	const char *fmt = stale_trees[_i];
	char dir[PATH_MAX], set[PATH_MAX], plist[PATH_MAX], good[8192];
	struct bsdp_catalogue *c0, *c1;
	const struct bsdp_diag *d;
	size_t n;

	fx(dir, fmt, "stale", NULL);
	fx(set, fmt, "stale", "Flappy.nbi");
	textf(plist, sizeof(plist), "%s/NBImageInfo.plist", set);
	n = read_all(plist, good, sizeof(good));
	c0 = rescan(dir, NULL, 1000);
	ck_assert_uint_eq(c0->n_images, 2);
	/* Steady sorts after Flappy: give Flappy's id to a set sorting first. */
	textf(set, sizeof(set), "%s/Aaa.nbi", dir);
	ck_assert_int_eq(mkdir(set, 0755), 0);
	textf(set, sizeof(set), "%s/Aaa.nbi/NBImageInfo.plist", dir);
	write_all(set, good, n);
	textf(set, sizeof(set), "%s/Aaa.nbi/i386", dir);
	ck_assert_int_eq(mkdir(set, 0755), 0);
	textf(set, sizeof(set), "%s/Aaa.nbi/i386/booter", dir);
	write_all(set, "b", 1);
	textf(set, sizeof(set), "%s/Aaa.nbi/NetBoot.dmg", dir);
	write_all(set, "d", 1);
	write_all(plist, good, 0);
	c1 = rescan(dir, c0, 2000);
	ck_assert_ptr_nonnull(image_in(c1, "Aaa.nbi"));
	ck_assert_ptr_null(image_in(c1, "Flappy.nbi"));
	d = diag_for(c1->skipped, c1->n_skipped, "Flappy.nbi");
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d->reason, "NBImageInfo.plist is empty");
	bsdp_catalogue_free(c0);
	bsdp_catalogue_free(c1);
	/* Leave the tree as the other test expects it (no-fork runs). */
	write_all(plist, good, n);
	textf(set, sizeof(set), "%s/Aaa.nbi", dir);
	ck_assert_int_eq(remove_tree(set), 0);
}
END_TEST

START_TEST(test_image_copy_is_deep_and_complete)
{
	static const uint8_t macs[2][6] = { { 1, 2, 3, 4, 5, 6 }, { 6, 5, 4, 3, 2, 1 } };
	char *models[] = { "iMac14,2", "MacBookPro11,1" };
	struct bsdp_image src = {
		.id = 0x81000101u, .index = 257, .kind = 1, .install = true, .is_default = true,
		.is_enabled = true, .filter_only = true, .supports_diskless = true,
		.type = BSDP_TYPE_HTTP, .archs = BSDP_ARCH_I386 | BSDP_ARCH_ARM,
		.name = "N\xc3\xa9", .name_len = 3, .set_dir = "S.nbi", .boot_file = "booter",
		.root_path = "R.dmg", .chain_url = "http://198.18.0.1/x", .load_balance_server = 7,
		.enabled_models = models, .n_enabled_models = 2,
		.enabled_macs = (uint8_t (*)[6])macs, .n_enabled_macs = 2,
		.disabled_macs = (uint8_t (*)[6])macs + 1, .n_disabled_macs = 1,
		.stale = { "/s/S.nbi", "why" }, .stale_since = 42,
	};
	struct bsdp_image d;

	ck_assert_int_eq(bsdp_image_copy(&d, &src), 0);
	ck_assert_uint_eq(d.id, src.id);
	ck_assert_uint_eq(d.index, 257);
	ck_assert(d.install && d.is_default && d.is_enabled && d.filter_only && d.supports_diskless);
	ck_assert_uint_eq(d.archs, src.archs);
	ck_assert(d.name != src.name && d.name_len == 3 && memcmp(d.name, src.name, 4) == 0);
	ck_assert(d.set_dir != src.set_dir && strcmp(d.set_dir, "S.nbi") == 0);
	ck_assert(d.boot_file != src.boot_file && strcmp(d.boot_file, "booter") == 0);
	ck_assert(d.root_path != src.root_path && strcmp(d.root_path, "R.dmg") == 0);
	ck_assert(d.chain_url != src.chain_url && strcmp(d.chain_url, src.chain_url) == 0);
	ck_assert_uint_eq(d.load_balance_server, 7);
	ck_assert_uint_eq(d.n_enabled_models, 2);
	ck_assert(d.enabled_models != src.enabled_models && d.enabled_models[1] != models[1]);
	ck_assert_str_eq(d.enabled_models[1], "MacBookPro11,1");
	ck_assert(d.enabled_macs != src.enabled_macs && d.n_enabled_macs == 2);
	ck_assert_mem_eq(d.enabled_macs, macs, 12);
	ck_assert(d.disabled_macs != src.disabled_macs && d.n_disabled_macs == 1);
	ck_assert_mem_eq(d.disabled_macs[0], macs[1], 6);
	ck_assert(d.stale.path != src.stale.path && strcmp(d.stale.path, "/s/S.nbi") == 0);
	ck_assert_str_eq(d.stale.reason, "why");
	ck_assert_int_eq(d.stale_since, 42);
	bsdp_image_release(&d);

	/* NULLs stay NULL (a BootFileOnly set, nothing optional, fresh). */
	src.root_path = src.chain_url = NULL;
	src.enabled_models = NULL;
	src.n_enabled_models = 0;
	src.enabled_macs = src.disabled_macs = NULL;
	src.n_enabled_macs = src.n_disabled_macs = 0;
	src.stale.path = src.stale.reason = NULL;
	ck_assert_int_eq(bsdp_image_copy(&d, &src), 0);
	ck_assert(!d.root_path && !d.chain_url && !d.enabled_models && !d.enabled_macs &&
		  !d.disabled_macs && !d.stale.path && !d.stale.reason);
	ck_assert_str_eq(d.boot_file, "booter");
	bsdp_image_release(&d);
}
END_TEST

/* Out of memory at each allocation of a copy in turn: -ENOMEM, nothing
 * left allocated, the destination zeroed. Not under ASan, whose allocator
 * these wrappers would bypass. */
#if !defined(__SANITIZE_ADDRESS__)
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void __libc_free(void *);
static int fail_at;             /* 0 = off; else the allocation that fails */
static int alloc_seen, alloc_live;
void *malloc(size_t n)
{
	void *p;

	if (fail_at && ++alloc_seen == fail_at)
		return NULL;
	p = __libc_malloc(n);
	alloc_live += fail_at && p;
	return p;
}
void *calloc(size_t a, size_t b)
{
	void *p;

	if (fail_at && ++alloc_seen == fail_at)
		return NULL;
	p = __libc_calloc(a, b);
	alloc_live += fail_at && p;
	return p;
}
void free(void *p)
{
	alloc_live -= fail_at && p;
	__libc_free(p);
}

START_TEST(test_image_copy_out_of_memory_leaks_nothing)
{
	char *models[] = { "iMac14,2", "MacBookPro11,1" };
	static const uint8_t macs[1][6] = { { 1, 2, 3, 4, 5, 6 } };
	struct bsdp_image src = {
		.name = "N", .name_len = 1, .set_dir = "S.nbi", .boot_file = "b", .root_path = "R",
		.chain_url = "http://x/", .enabled_models = models, .n_enabled_models = 2,
		.enabled_macs = (uint8_t (*)[6])macs, .n_enabled_macs = 1,
		.disabled_macs = (uint8_t (*)[6])macs, .n_disabled_macs = 1,
		.stale = { "/s/S.nbi", "why" }, .stale_since = 1,
	};
	struct bsdp_image d;
	int k, r;

	/* 9 pointers, the model array and its 2 strings: 12 allocations. */
	for (k = 1; k <= 13; k++) {
		memset(&d, 0xa5, sizeof(d));
		alloc_seen = alloc_live = 0;
		fail_at = k;
		r = bsdp_image_copy(&d, &src);
		if (r == 0)
			bsdp_image_release(&d);
		fail_at = 0;
		ck_assert_msg(alloc_live == 0, "allocation %d failing: %d left", k, alloc_live);
		if (k <= 12) {
			ck_assert_int_eq(r, -ENOMEM);
			ck_assert_ptr_null(d.name);
			ck_assert_ptr_null(d.stale.reason);
			ck_assert_uint_eq(d.n_enabled_models, 0);
		} else {
			ck_assert_int_eq(r, 0);
			ck_assert_int_eq(alloc_seen, 12);
		}
	}
}
END_TEST
#endif

static Suite *nbi_scan_suite(void)
{
	Suite *s = suite_create("nbi_scan");
	TCase *tc = tcase_create("scan");
	TCase *cat = tcase_create("catalogue");
	const int nf = (int)N_FORMATS;

	tcase_add_unchecked_fixture(tc, fixtures_setup, fixtures_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_read_set_rejects_each_defect_with_its_reason, 0,
			    (int)(N_DEFECTS * N_FORMATS));
	tcase_add_loop_test(tc, test_scan_skips_each_defect_with_its_reason_and_serves_the_rest, 0, nf);
	tcase_add_loop_test(tc, test_scan_reports_dangling_set_link, 0, nf);
	tcase_add_loop_test(tc, test_scan_ignores_entries_that_are_not_sets, 0, nf);
	tcase_add_loop_test(tc, test_scan_reads_every_key_of_a_full_http_set, 0, nf);
	tcase_add_loop_test(tc, test_scan_defaults_kind_1_and_arch_ppc_for_nfs, 0, nf);
	tcase_add_loop_test(tc, test_scan_filteronly_defaults_true_for_kind_3, 0, nf);
	tcase_add_loop_test(tc, test_scan_keeps_disabled_set_marked_disabled, 0, nf);
	tcase_add_loop_test(tc, test_scan_keeps_indirect_rootpath_verbatim_without_file_check, 0, nf);
	tcase_add_loop_test(tc, test_scan_checks_rootpath_files_but_not_urls, 0, nf);
	tcase_add_loop_test(tc, test_scan_accepts_booter_symlink_inside_the_set, 0, nf);
	tcase_add_loop_test(tc, test_scan_warns_when_local_rootpath_is_absent, 0, nf);
	tcase_add_loop_test(tc, test_scan_warns_when_i386_kernelcache_is_missing, 0, nf);
	tcase_add_loop_test(tc, test_scan_skips_nfs_sets_without_nfs_url, 0, nf);
	tcase_add_test(tc, test_scan_reads_binary_plists_written_by_plistutil);
	tcase_add_loop_test(tc, test_scan_earlier_folder_in_byte_order_wins_a_duplicate_id, 0, nf);
	tcase_add_loop_test(tc, test_scan_cuts_names_to_246_bytes_on_a_character_boundary, 0, nf);
	tcase_add_loop_test(tc, test_scan_accepts_index_1_to_65535_only, 0, nf);
	tcase_add_loop_test(tc, test_scan_accepts_a_plist_of_exactly_1_mib, 0, nf);
	tcase_add_test(tc, test_scan_of_missing_or_non_directory_returns_null_with_err);
	tcase_add_test(tc, test_scan_of_empty_directory_gives_empty_catalogue);
	tcase_add_test(tc, test_scan_of_unreadable_directory_returns_null_with_eacces);
	tcase_add_loop_test(tc, test_scan_skips_unreadable_sets_and_serves_the_others, 0, nf);
	tcase_add_test(tc, test_read_set_requires_a_folder_ending_in_nbi);
	tcase_add_test(tc, test_read_set_accepts_trailing_slash_and_fills_ret);
	tcase_add_test(tc, test_scan_never_publishes_a_directory_swapped_mid_scan);
	tcase_add_loop_test(tc, test_rescan_skips_a_broken_set_whose_id_was_taken, 0,
			    (int)(sizeof(stale_trees) / sizeof(stale_trees[0])));
	/* Before the next test, whose last step removes Flappy.nbi. */
	tcase_add_test(tc, test_rescan_keeps_a_set_whose_folder_cannot_be_reached);
	tcase_add_loop_test(tc, test_rescan_serves_a_broken_set_stale_until_mended_or_removed, 0,
			    (int)(sizeof(stale_trees) / sizeof(stale_trees[0])));
	suite_add_tcase(s, tc);

	tcase_add_test(cat, test_catalogue_add_find_and_reject_duplicate_full_id);
	tcase_add_test(cat, test_catalogue_records_skips_and_warnings_as_copies);
	tcase_add_test(cat, test_catalogue_names_archs_and_types);
	tcase_add_test(cat, test_root_path_is_url_for_a_scheme_and_slashes_or_nfs);
	tcase_add_test(cat, test_image_copy_is_deep_and_complete);
#if !defined(__SANITIZE_ADDRESS__)
	tcase_add_test(cat, test_image_copy_out_of_memory_leaks_nothing);
#endif
	tcase_add_loop_test(cat, test_mac_parse_accepts_either_separator_case_and_zero_padding, 0,
			    (int)(sizeof(good_macs) / sizeof(good_macs[0])));
	tcase_add_loop_test(cat, test_mac_parse_rejects_malformed_and_leaves_output, 0,
			    (int)(sizeof(bad_macs) / sizeof(bad_macs[0])));
	tcase_add_test(cat, test_mac_parse_honours_length_not_nul);
	suite_add_tcase(s, cat);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(nbi_scan_suite());
	int failed;

	srunner_run_all(sr, CK_ENV); /* CK_VERBOSITY picks the detail */
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
