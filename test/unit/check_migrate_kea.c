/* SPDX-License-Identifier: MPL-2.0 */
/* kea-bsdp-migrate's Kea side: the plan made from a dhcpd.conf
 * (tools/migrate/migrate_plan), the sets it writes and matches
 * (migrate_sets: real plists, read back by the hook's scanner plist/ and by
 * Python's plistlib), and the Kea fragment (migrate_kea, read back by
 * Python's json). The seed shapes are test/migrate/seed003.conf and
 * seed000.conf. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plist/nbi_scan.h"
#include "test/unit/fixture_util.h"
#include "tools/migrate/bsdp_find.h"
#include "tools/migrate/dhcpd_conf.h"
#include "tools/migrate/migrate_kea.h"
#include "tools/migrate/migrate_plan.h"
#include "tools/migrate/migrate_sets.h"

#define PYTHON "/usr/bin/python3"

struct planned {
	struct dhcpd_conf *conf;
	struct bsdp_find_result *found;
	struct migrate_plan *plan;
};

static void plan_conf(struct planned *p)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	p->found = calloc(1, sizeof(*p->found));
	p->plan = calloc(1, sizeof(*p->plan));
	ck_assert(p->found && p->plan);
	ck_assert_msg(bsdp_find(p->conf, p->found, err, sizeof(err)) == 0, "%s", err);
	migrate_plan_make(p->conf, p->found, p->plan);
}

static struct planned plan_path(const char *path)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct planned p = { 0 };
	ck_assert_msg(dhcpd_conf_load(path, &p.conf, err, sizeof(err)) == 0, "%s", err);
	plan_conf(&p);
	return p;
}

static struct planned plan_text(const char *text)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct planned p = { 0 };
	ck_assert_msg(dhcpd_conf_parse("t.conf", text, strlen(text), &p.conf, err, sizeof(err)) == 0,
		      "%s", err);
	plan_conf(&p);
	return p;
}

static void planned_free(struct planned *p)
{
	free(p->plan);
	free(p->found);
	dhcpd_conf_free(p->conf);
}

static const char *line_with(char (*lines)[MIGRATE_TEXT_MAX], size_t n, const char *part)
{
	for (size_t i = 0; i < n; i++)
		if (strstr(lines[i], part))
			return lines[i];
	return NULL;
}

#define HAS_CANNOT(p, part) \
	ck_assert_msg(line_with((p)->cannot, (p)->n_cannot, part), "no 'cannot carry over' with: %s", part)
#define HAS_NOTE(p, part) \
	ck_assert_msg(line_with((p)->notes, (p)->n_notes, part), "no note with: %s", part)

static void check_set(const struct migrate_image *im, uint32_t id, const char *set_dir,
		      const char *boot_file, unsigned archs, enum bsdp_image_type type,
		      const char *root_path, bool is_default)
{
	ck_assert_uint_eq(im->id, id);
	ck_assert_str_eq(im->set_dir, set_dir);
	ck_assert_str_eq(im->boot_file, boot_file);
	ck_assert_uint_eq(im->archs, archs);
	ck_assert_int_eq(im->type, type);
	ck_assert_str_eq(im->root_path, root_path);
	ck_assert_int_eq(im->is_default, is_default);
}

/* Text printed by fn into a memory stream. */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void capture_start(struct capture *c)
{
	c->text = NULL;
	c->f = open_memstream(&c->text, &c->len);
	ck_assert_ptr_nonnull(c->f);
}

static void capture_end(struct capture *c)
{
	ck_assert_int_eq(fclose(c->f), 0);
}

static void must_say(const char *text, const char *part)
{
	ck_assert_msg(strstr(text, part), "missing %s in:\n%s", part, text);
}

/* What a command prints on stdout (one line of Python, args quoted by the
 * caller), cut to size. */
static void python(char *out, size_t size, const char *code, const char *arg)
{
	char cmd[4096];
	textf(cmd, sizeof(cmd), PYTHON " -c '%s' '%s'", code, arg);
	FILE *f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	ck_assert_int_eq(pclose(f), 0);
}

/* ---- the plan -------------------------------------------------------------- */

START_TEST(test_plan_seed003_parameters_sets_pins_and_what_cannot_carry_over)
{
	struct planned p = plan_path("test/migrate/seed003.conf");
	struct migrate_plan *m = p.plan;
	ck_assert_str_eq(m->server_address, "198.18.0.1");
	ck_assert_str_eq(m->tftp_path_prefix, "");
	ck_assert_str_eq(m->http_url, "http://198.18.0.1/sets");
	ck_assert_str_eq(m->nfs_url, "");
	ck_assert(m->has_priority);
	ck_assert_uint_eq(m->priority, 32768);
	ck_assert_uint_eq(m->n_images, 3);
	check_set(&m->images[0], 0x0100007b, "Orchard-NetBoot_10.8.4.nbi", "booter", BSDP_ARCH_I386,
		  BSDP_TYPE_HTTP, "NetBoot.dmg", true);
	check_set(&m->images[1], 0x010001c8, "Testing-10.9.0.nbi", "booter", BSDP_ARCH_I386,
		  BSDP_TYPE_HTTP, "NetBoot.dmg", false);
	check_set(&m->images[2], 0x81000360, "Install-10.nbi", "booter", BSDP_ARCH_I386,
		  BSDP_TYPE_HTTP, "NetInstall.dmg", false);
	ck_assert(m->images[2].install);
	ck_assert_uint_eq(m->images[2].index, 864);
	ck_assert_str_eq(m->images[0].name, "Orchard Primary 10.8.4 NetBoot");
	ck_assert_uint_eq(m->n_pins, 1);
	ck_assert_str_eq(m->pins[0].mac, "00:16:cb:00:00:01");
	ck_assert_str_eq(m->pins[0].hostname, "lab-mac-1");
	ck_assert_uint_eq(m->pins[0].index, 456);
	HAS_CANNOT(m, "seed003.conf:29: server priority 32768 is a fixed value");
	HAS_CANNOT(m, "seed003.conf:51: every Mac that boots 01:00:00:7B, 01:00:01:C8 gets the "
		      "machine name \"NetBoot\"; the hook numbers them: \"machine-name-format\": "
		      "\"NetBoot%03d\"");
	HAS_NOTE(m, "seed003.conf:4: unknown clients are denied: in dhcpd that keeps addresses");
	HAS_CANNOT(m, "every LIST names 01:00:00:7B as the Mac's selection");
	HAS_NOTE(m, "seed003.conf:72: image 01:00:00:7B: class \"Apple-ppc-NetBoot\" lists it for "
		    "ppc but has no SELECT branch");
	ck_assert_uint_eq(m->n_cannot, 3);
	planned_free(&p);
}
END_TEST

START_TEST(test_plan_seed000_boot_file_only_with_chain_and_guesses_said)
{
	struct planned p = plan_path("test/migrate/seed000.conf");
	struct migrate_plan *m = p.plan;
	ck_assert_str_eq(m->server_address, "198.18.0.1");
	ck_assert_str_eq(m->http_url, "");
	ck_assert_uint_eq(m->n_images, 1);
	check_set(&m->images[0], 0x81000089, "ESXi-6.5.nbi", "snponly.efi", BSDP_ARCH_I386,
		  BSDP_TYPE_BOOTFILEONLY, "", true);
	ck_assert_str_eq(m->images[0].chain_url, "http://198.18.0.1/esxi65/mboot.efi");
	ck_assert_uint_eq(m->n_pins, 0);
	HAS_NOTE(m, "seed000.conf:24: image 81:00:00:89: class \"netboot\" matches every "
		    "architecture; Architectures i386 is a guess");
	HAS_NOTE(m, "its set folder is named \"ESXi-6.5.nbi\" after the image");
	HAS_NOTE(m, "dhcpd hands out \"snponly.efi\"; Kea hands out ESXi-6.5.nbi/i386/snponly.efi");
	HAS_NOTE(m, "seed000.conf:36: image 81:00:00:89 hands out snponly.efi with no root path");
	HAS_CANNOT(m, "seed000.conf:33: class \"pxeclients\": only its iPXE stage carries over");
	HAS_CANNOT(m, "seed000.conf:36: the iPXE stage answers every iPXE client");
	planned_free(&p);
}
END_TEST

/* A TFTP prefix, NFS, a root path elsewhere, a prefix that differs, a
 * next-server that differs and a class unrelated to BSDP. */
static const char mixed_conf[] =
	"option space BSDP;\n"                                                     /* 1 */
	"option BSDP.message_type code 1 = unsigned integer 8;\n"
	"option BSDP.boot_image_list code 9 = string;\n"
	"option BSDP.selected_boot_image_id code 8 = string;\n"
	"class \"other\" { match if option vendor-class-identifier = \"MSFT 5.0\"; }\n" /* 5 */
	"class \"mac\" {\n"
	"  match if substring(option vendor-class-identifier, 0, 14) = \"AAPLBSDPC/i386\";\n"
	"  vendor-option-space BSDP;\n"
	"  if option BSDP.message_type = 1 {\n"
	"    option BSDP.boot_image_list 01:00:00:01:01:41:01:00:00:02:01:42:01:00:00:03:01:43:"
	"01:00:00:04:01:44;\n"                                                     /* 10 */
	"  } elsif option BSDP.message_type = 2 {\n"
	"    next-server 198.18.0.1;\n"
	"    if option BSDP.selected_boot_image_id = 01:00:00:01 {\n"
	"      filename \"netboot/A.nbi/i386/booter\";\n"
	"      option root-path \"nfs:198.18.0.1:/srv/sets:A.nbi/NetBoot.dmg\";\n" /* 15 */
	"    } elsif option BSDP.selected_boot_image_id = 01:00:00:02 {\n"
	"      filename \"netboot/B%20x.nbi/i386/booter\";\n"
	"      option root-path \"http://198.18.0.9/other/B.dmg\";\n"
	"    } elsif option BSDP.selected_boot_image_id = 01:00:00:03 {\n"
	"      filename \"nb/C.nbi/i386/booter.efi\";\n"                          /* 20 */
	"      option root-path \"http://198.18.0.1/s/C.nbi/C.dmg\";\n"
	"    } elsif option BSDP.selected_boot_image_id = 01:00:00:04 {\n"
	"      next-server 198.18.0.2;\n"
	"      filename \"netboot/D.nbi/i386/booter\";\n"
	"    }\n"                                                                   /* 25 */
	"  }\n"
	"}\n";

START_TEST(test_plan_prefix_nfs_url_root_paths_and_disagreements)
{
	struct planned p = plan_text(mixed_conf);
	struct migrate_plan *m = p.plan;
	ck_assert_str_eq(m->tftp_path_prefix, "netboot/");
	ck_assert_str_eq(m->nfs_url, "nfs:198.18.0.1:/srv/sets");
	ck_assert_str_eq(m->http_url, "http://198.18.0.1/s");
	ck_assert_str_eq(m->server_address, "198.18.0.1");
	ck_assert_uint_eq(m->n_images, 4);
	check_set(&m->images[0], 0x01000001, "A.nbi", "booter", BSDP_ARCH_I386, BSDP_TYPE_NFS,
		  "NetBoot.dmg", true);
	check_set(&m->images[1], 0x01000002, "B%20x.nbi", "booter", BSDP_ARCH_I386, BSDP_TYPE_HTTP,
		  "http://198.18.0.9/other/B.dmg", false);
	check_set(&m->images[2], 0x01000003, "C.nbi", "booter.efi", BSDP_ARCH_I386, BSDP_TYPE_HTTP,
		  "C.dmg", false);
	check_set(&m->images[3], 0x01000004, "D.nbi", "booter", BSDP_ARCH_I386,
		  BSDP_TYPE_BOOTFILEONLY, "", false);
	HAS_NOTE(m, "t.conf:16: image 01:00:00:02: root-path \"http://198.18.0.9/other/B.dmg\" does "
		    "not lie in a folder B%20x.nbi: it stays a URL RootPath");
	HAS_CANNOT(m, "t.conf:19: boot files under \"nb/\" and under \"netboot/\"");
	HAS_CANNOT(m, "t.conf:22: next-server 198.18.0.2 differs from the 198.18.0.1 most SELECT "
		      "branches give");
	HAS_CANNOT(m, "t.conf:5: class \"other\" is not BSDP: translate it with keama");
	ck_assert_ptr_null(line_with(m->cannot, m->n_cannot, "class \"mac\""));
	planned_free(&p);
}
END_TEST

/* Two images named alike get two folders; two images booting one folder
 * cannot both be served. */
START_TEST(test_plan_folders_are_one_per_image)
{
	struct planned p = plan_text(
		"class \"m\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
		"  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		"    option vendor-encapsulated-options 01:01:01:09:12:01:00:00:01:01:41:01:00:00:02:01:41:"
		"01:00:00:03:01:43;\n"
		"  } elsif substring(option vendor-encapsulated-options, 0, 6) = 08:04:01:00:00:01 {\n"
		"    filename \"a.efi\";\n"
		"  } elsif substring(option vendor-encapsulated-options, 0, 6) = 08:04:01:00:00:02 {\n"
		"    filename \"b.efi\";\n"
		"  } elsif substring(option vendor-encapsulated-options, 0, 6) = 08:04:01:00:00:03 {\n"
		"    filename \"X.nbi/i386/c.efi\";\n"
		"    option root-path \"http://198.18.0.1/s/X.nbi/c.dmg\";\n"
		"  }\n"
		"}\n");
	struct migrate_plan *m = p.plan;
	ck_assert_uint_eq(m->n_images, 3);
	ck_assert_str_eq(m->images[0].set_dir, "A.nbi");
	ck_assert_str_eq(m->images[1].set_dir, "A-2.nbi");
	ck_assert_str_eq(m->images[2].set_dir, "X.nbi");
	ck_assert_str_eq(m->images[0].boot_file, "a.efi");
	ck_assert_str_eq(m->images[2].root_path, "c.dmg");
	ck_assert_ptr_null(line_with(m->cannot, m->n_cannot, "both boot from"));
	planned_free(&p);

	p = plan_text(
		"class \"m\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
		"  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		"    option vendor-encapsulated-options 01:01:01:09:0c:01:00:00:01:01:41:81:00:00:01:01:42;\n"
		"  } elsif substring(option vendor-encapsulated-options, 0, 6) = 08:04:01:00:00:01 {\n"
		"    filename \"X.nbi/i386/booter\";\n"
		"  } elsif substring(option vendor-encapsulated-options, 0, 6) = 08:04:81:00:00:01 {\n"
		"    filename \"X.nbi/i386/booter\";\n"
		"  }\n"
		"}\n");
	HAS_CANNOT(p.plan, "t.conf:7: images 01:00:00:01 and 81:00:00:01 both boot from X.nbi");
	planned_free(&p);
}
END_TEST

/* One reservation per MAC, whatever dhcpd.conf repeats. */
START_TEST(test_plan_pins_one_reservation_per_mac)
{
	struct planned p = plan_text(
		"option space BSDP;\n"
		"option BSDP.selected_boot_image_id code 8 = string;\n"
		"class \"m\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
		"  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		"    option vendor-encapsulated-options 01:01:01:09:0c:01:00:00:01:01:41:01:00:00:02:01:42;\n"
		"  }\n"
		"}\n"
		"host a { hardware ethernet 0:16:CB:0:0:1; option BSDP.selected_boot_image_id 01:00:00:01; }\n"
		"host b_2 { hardware ethernet 00:16:cb:00:00:01; option BSDP.selected_boot_image_id 01:00:00:02; }\n"
		"host c { hardware ethernet 00:16:cb:00:00:03; option BSDP.selected_boot_image_id 01:00:00:02; }\n");
	struct migrate_plan *m = p.plan;
	ck_assert_uint_eq(m->n_pins, 2);
	ck_assert_str_eq(m->pins[0].mac, "00:16:cb:00:00:01");
	ck_assert_uint_eq(m->pins[0].index, 1);
	ck_assert_str_eq(m->pins[1].hostname, "c");
	ck_assert_uint_eq(m->pins[1].index, 2);
	HAS_CANNOT(m, "t.conf:10: host b_2 pins 00:16:cb:00:00:01 again (first at t.conf:9, Index 1)");
	planned_free(&p);
}
END_TEST

/* A machine name ending in digits (the how-to's "NetBoot001") numbers from
 * its stem, so the names keep their shape: NetBoot%03d, not NetBoot001%03d. */
START_TEST(test_plan_machine_name_format_from_the_name_stem)
{
	struct planned p = plan_text(
		"class \"m\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
		"  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		"    option vendor-encapsulated-options 01:01:01:09:0c:01:00:00:01:01:41:01:00:00:02:01:42;\n"
		"  } else {\n"
		"    option vendor-encapsulated-options 01:01:02:08:04:01:00:00:01:82:0a:4E:65:74:42:6F:6F:74:30:30:31;\n"
		"    filename \"a.nbi/i386/booter\";\n"
		"  }\n"
		"}\n");
	struct migrate_plan *m = p.plan;
	HAS_CANNOT(m, "t.conf:5: every Mac that boots 01:00:00:01 gets the machine name \"NetBoot001\"; "
		      "the hook numbers them: \"machine-name-format\": \"NetBoot%03d\" gives NetBoot001, "
		      "NetBoot002...");
	planned_free(&p);
}
END_TEST

/* An AFP shadow mount in the SELECT answer (NetSUS's dhcpd.conf): the hook
 * sends none, and the tool says so. */
START_TEST(test_plan_shadow_mount_cannot_carry_over)
{
	struct planned p = plan_text(
		"class \"m\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
		"  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		"    option vendor-encapsulated-options 01:01:01:09:06:01:00:00:01:01:41;\n"
		"  } else {\n"
		"    option vendor-encapsulated-options 01:01:02:08:04:01:00:00:01:"
		"80:06:61:66:70:3A:2F:2F:81:02:78:79;\n"
		"    filename \"a.nbi/i386/booter\";\n"
		"  }\n"
		"}\n");
	HAS_CANNOT(p.plan, "t.conf:6: the SELECT answer gives an AFP shadow mount afp:// (sub-options "
		       "128 and 129, for diskless Macs): the hook sends none");
	planned_free(&p);
}
END_TEST

/* ---- the fragment ---------------------------------------------------------- */

/* The fragment written to a file, then what a line of Python prints of it. */
static void fragment_python(const struct migrate_plan *plan, const char *sets_directory,
			    const char *library, const char *code, char *out, size_t size)
{
	char path[] = "/tmp/check-migrate-kea-XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	ck_assert_int_eq(migrate_kea_write(f, plan, sets_directory, library), 0);
	ck_assert_int_eq(fclose(f), 0);
	python(out, size, code, path);
	unlink(path);
}

START_TEST(test_fragment_is_json_with_the_parameters_and_reservations)
{
	struct planned p = plan_path("test/migrate/seed003.conf");
	char out[4096];
	fragment_python(p.plan, "/srv/netboot/sets", "/x/libdhcp_bsdp.so",
			"import json, sys; d = json.load(open(sys.argv[1])); assert list(d) == [\"Dhcp4\"]; "
			"d = d[\"Dhcp4\"]; assert sorted(d) == [\"hooks-libraries\", \"reservations\"]; "
			"h = d[\"hooks-libraries\"]; assert len(h) == 1; print(h[0][\"library\"]); "
			"print(json.dumps(h[0][\"parameters\"], sort_keys=True)); "
			"print(json.dumps(d[\"reservations\"], sort_keys=True))", out, sizeof(out));
	ck_assert_str_eq(out,
			 "/x/libdhcp_bsdp.so\n"
			 "{\"http-url\": \"http://198.18.0.1/sets\", \"server-address\": \"198.18.0.1\", "
			 "\"server-priority\": 32768, \"sets-directory\": \"/srv/netboot/sets\", "
			 "\"tftp-path-prefix\": \"\"}\n"
			 "[{\"hostname\": \"lab-mac-1\", \"hw-address\": \"00:16:cb:00:00:01\", "
			 "\"user-context\": {\"bsdp-image\": 456}}]\n");
	planned_free(&p);
}
END_TEST

START_TEST(test_fragment_escapes_strings_and_has_an_empty_reservation_list)
{
	struct planned p = plan_path("test/migrate/seed000.conf");
	char out[4096];
	fragment_python(p.plan, "/srv/a \"b\"\\c", "/l.so",
			"import json, sys; d = json.load(open(sys.argv[1]))[\"Dhcp4\"]; "
			"print(d[\"hooks-libraries\"][0][\"parameters\"][\"sets-directory\"]); "
			"print(d[\"reservations\"])", out, sizeof(out));
	ck_assert_str_eq(out, "/srv/a \"b\"\\c\n[]\n");
	planned_free(&p);
}
END_TEST

/* ---- writing and matching sets ---------------------------------------------- */

static void make_dir(char *dir, size_t size)
{
	textf(dir, size, "/tmp/check-migrate-kea-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void make_parents(const char *path)
{
	char buf[1024];
	textf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		ck_assert(mkdir(buf, 0755) == 0 || errno == EEXIST);
		*s = '/';
	}
}

/* Does what the tool's output says: each "copy X ... to Y" puts a file at Y. */
static size_t follow_copies(const char *text)
{
	size_t n = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		if (strncmp(l, "  copy ", 7) != 0)
			continue;
		const char *to = strstr(l, " to ");
		ck_assert_ptr_nonnull(to);
		char path[1024];
		size_t len = strcspn(to + 4, " \n");
		textf(path, sizeof(path), "%.*s", (int)len, to + 4);
		make_parents(path);
		write_file(path, "copied\n");
		n++;
	}
	return n;
}

static struct bsdp_catalogue *scan(const char *dir)
{
	struct bsdp_scan_options so = { .nfs_available = true };
	int err = 0;
	struct bsdp_catalogue *c = bsdp_nbi_scan(dir, &so, &err);
	ck_assert_msg(c != NULL, "scan %s: %d", dir, err);
	return c;
}

/* The sets written into dir (scanned first, as the tool does), and what
 * the tool said. */
static char *write_sets(const struct planned *p, const char *dir, int written)
{
	struct capture cap;
	struct bsdp_catalogue *c = scan(dir);
	capture_start(&cap);
	ck_assert_int_eq(migrate_sets_write(cap.f, p->plan, p->found, dir, c), written);
	capture_end(&cap);
	bsdp_catalogue_free(c);
	return cap.text;
}

/* The match report against catalogue c. */
static char *report(const struct planned *p, const char *dir, const struct bsdp_catalogue *c,
		    size_t missing)
{
	struct capture cap;
	capture_start(&cap);
	ck_assert_uint_eq(migrate_sets_report(cap.f, p->plan, p->found, dir, c), missing);
	capture_end(&cap);
	return cap.text;
}

START_TEST(test_sets_written_and_copied_as_said_are_served_seed003)
{
	struct planned p = plan_path("test/migrate/seed003.conf");
	char dir[64], want[2048], out[2048];
	make_dir(dir, sizeof(dir));
	char *said = write_sets(&p, dir, 3);
	textf(want, sizeof(want), "wrote %s/Install-10.nbi/NBImageInfo.plist (image 81:00:03:60, "
	      "Index 864, Type HTTP)\n"
	      "  copy Install-10.nbi/i386/booter from your TFTP root to %s/Install-10.nbi/i386/booter\n"
	      "  copy Install-10.nbi/i386/x86_64/kernelcache from your TFTP root to "
	      "%s/Install-10.nbi/i386/x86_64/kernelcache (the booter loads it next)\n"
	      "  copy the disk image dhcpd serves as http://198.18.0.1/sets/Install-10.nbi/NetInstall.dmg "
	      "to %s/Install-10.nbi/NetInstall.dmg\n", dir, dir, dir, dir);
	must_say(said, want);

	/* Before the booters are there the scanner skips the sets, naming them. */
	struct bsdp_catalogue *c = scan(dir);
	ck_assert_uint_eq(c->n_images, 0);
	ck_assert_uint_eq(c->n_skipped, 3);
	must_say(c->skipped[0].reason, "BootFile \"booter\" missing for architecture i386");
	bsdp_catalogue_free(c);

	ck_assert_uint_eq(follow_copies(said), 9);
	c = scan(dir);
	ck_assert_uint_eq(c->n_skipped, 0);
	ck_assert_uint_eq(c->n_warnings, 0);
	ck_assert_uint_eq(c->n_images, 3);
	for (size_t i = 0; i < p.plan->n_images; i++) {
		const struct migrate_image *im = &p.plan->images[i];
		const struct bsdp_image *set = migrate_sets_match(c, im);
		ck_assert_msg(set != NULL, "image %zu not served", i);
		ck_assert_str_eq(set->set_dir, im->set_dir);
		ck_assert_str_eq(set->name, im->name);
		ck_assert_str_eq(set->boot_file, "booter");
		ck_assert_str_eq(set->root_path, im->root_path);
		ck_assert_int_eq(set->type, BSDP_TYPE_HTTP);
		ck_assert_uint_eq(set->archs, BSDP_ARCH_I386);
		ck_assert_int_eq(set->is_default, i == 0);
		ck_assert(set->is_enabled);
		ck_assert_ptr_null(set->chain_url);
	}
	free(said);

	/* The hook's responder now answers every SELECT as dhcpd did. */
	said = report(&p, dir, c, 0);
	ck_assert_ptr_null(strstr(said, "differs"));
	textf(want, sizeof(want), "image 81:00:03:60 (Index 864) \"Install 10\": set %s/Install-10.nbi\n"
	      "  same: name, default, enabled, ChainURL, and per architecture booter, disk image "
	      "and next-server\n", dir);
	must_say(said, want);
	free(said);
	bsdp_catalogue_free(c);

	/* Python's plistlib reads the same keys. */
	textf(want, sizeof(want), "%s/Install-10.nbi/NBImageInfo.plist", dir);
	python(out, sizeof(out),
	       "import plistlib, sys; d = plistlib.load(open(sys.argv[1], \"rb\")); "
	       "print(sorted(d)); print(d[\"Index\"], d[\"Name\"], d[\"Kind\"], d[\"IsInstall\"], "
	       "d[\"IsEnabled\"], d[\"IsDefault\"], d[\"Type\"], d[\"BootFile\"], "
	       "d[\"Architectures\"], d[\"RootPath\"], d[\"Description\"])", want);
	ck_assert_str_eq(out, "['Architectures', 'BootFile', 'Description', 'Index', 'IsDefault', "
			      "'IsEnabled', 'IsInstall', 'Kind', 'Name', 'RootPath', 'Type']\n"
			      "864 Install 10 1 True True False HTTP booter ['i386'] NetInstall.dmg "
			      "Written by kea-bsdp-migrate from test/migrate/seed003.conf:63\n");
	ck_assert_int_eq(remove_tree(dir), 0);
	planned_free(&p);
}
END_TEST

START_TEST(test_sets_written_and_copied_as_said_are_served_seed000)
{
	struct planned p = plan_path("test/migrate/seed000.conf");
	char dir[64], want[2048], out[2048];
	make_dir(dir, sizeof(dir));
	char *said = write_sets(&p, dir, 1);
	textf(want, sizeof(want), "wrote %s/ESXi-6.5.nbi/NBImageInfo.plist (image 81:00:00:89, "
	      "Index 137, Type BootFileOnly, ChainURL http://198.18.0.1/esxi65/mboot.efi)\n"
	      "  copy snponly.efi from your TFTP root to %s/ESXi-6.5.nbi/i386/snponly.efi\n", dir, dir);
	ck_assert_str_eq(said, want);
	ck_assert_uint_eq(follow_copies(said), 1);
	free(said);

	struct bsdp_catalogue *c = scan(dir);
	ck_assert_uint_eq(c->n_images, 1);
	const struct bsdp_image *set = migrate_sets_match(c, &p.plan->images[0]);
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(set->id, 0x81000089);
	ck_assert_int_eq(set->type, BSDP_TYPE_BOOTFILEONLY);
	ck_assert_str_eq(set->chain_url, "http://198.18.0.1/esxi65/mboot.efi");
	ck_assert(set->install);
	ck_assert(set->is_default);

	/* The one difference, said: Kea's booter lives in the set. */
	said = report(&p, dir, c, 0);
	textf(want, sizeof(want), "image 81:00:00:89 (Index 137) \"ESXi 6.5\": set %s/ESXi-6.5.nbi\n"
	      "  differs: booter (i386): dhcpd \"snponly.efi\", Kea \"ESXi-6.5.nbi/i386/snponly.efi\"\n",
	      dir);
	ck_assert_str_eq(said, want);
	free(said);
	bsdp_catalogue_free(c);

	textf(want, sizeof(want), "%s/ESXi-6.5.nbi/NBImageInfo.plist", dir);
	python(out, sizeof(out),
	       "import plistlib, sys; d = plistlib.load(open(sys.argv[1], \"rb\")); "
	       "print(\"RootPath\" in d, d[\"Type\"], d[\"Kind\"], d[\"IsInstall\"], d[\"ChainURL\"])",
	       want);
	ck_assert_str_eq(out, "False BootFileOnly 1 True http://198.18.0.1/esxi65/mboot.efi\n");
	ck_assert_int_eq(remove_tree(dir), 0);
	planned_free(&p);
}
END_TEST

static void file_text(const char *path, char *out, size_t size)
{
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	size_t n = fread(out, 1, size - 1, f);
	out[n] = '\0';
	fclose(f);
}

/* An image booted by a ppc and an i386 class, each with its own booter:
 * each architecture's folder gets the booter of the branch that boots it
 * there (the ppc branch came first and named both). */
START_TEST(test_sets_copies_named_per_architecture)
{
	struct planned p = plan_text(
		"option space BSDP;\n"
		"option BSDP.message_type code 1 = unsigned integer 8;\n"
		"option BSDP.selected_boot_image_id code 8 = string;\n"
		"option BSDP.boot_image_list code 9 = string;\n"
		"class \"ppc\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 13) = \"AAPLBSDPC/ppc\";\n"
		"  if option BSDP.message_type = 1 { option BSDP.boot_image_list 01:00:00:01:01:41; }\n"
		"  if option BSDP.message_type = 2 {\n"
		"    option BSDP.selected_boot_image_id 01:00:00:01;\n"
		"    filename \"NB/A.nbi/ppc/booter\";\n"
		"    option root-path \"http://198.18.0.1/NB/A.nbi/A.dmg\";\n"
		"  }\n"
		"}\n"
		"class \"i386\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 14) = \"AAPLBSDPC/i386\";\n"
		"  if option BSDP.message_type = 1 { option BSDP.boot_image_list 01:00:00:01:01:41; }\n"
		"  if option BSDP.message_type = 2 {\n"
		"    option BSDP.selected_boot_image_id 01:00:00:01;\n"
		"    filename \"NB/A.nbi/i386/booter\";\n"
		"    option root-path \"http://198.18.0.1/NB/A.nbi/A.dmg\";\n"
		"  }\n"
		"}\n");
	char dir[64], want[512];
	make_dir(dir, sizeof(dir));
	char *said = write_sets(&p, dir, 1);
	textf(want, sizeof(want), "  copy NB/A.nbi/i386/booter from your TFTP root to %s/A.nbi/i386/booter\n"
	      "  copy NB/A.nbi/i386/x86_64/kernelcache from your TFTP root to "
	      "%s/A.nbi/i386/x86_64/kernelcache (the booter loads it next)\n"
	      "  copy NB/A.nbi/ppc/booter from your TFTP root to %s/A.nbi/ppc/booter\n", dir, dir, dir);
	must_say(said, want);
	free(said);
	ck_assert_int_eq(remove_tree(dir), 0);
	planned_free(&p);
}
END_TEST

START_TEST(test_sets_never_written_over_anything)
{
	struct planned p = plan_path("test/migrate/seed003.conf");
	char dir[64], path[256], before[256], after[256];
	make_dir(dir, sizeof(dir));
	textf(path, sizeof(path), "%s/Testing-10.9.0.nbi", dir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	textf(path, sizeof(path), "%s/Testing-10.9.0.nbi/NBImageInfo.plist", dir);
	write_file(path, "not a plist, and the operator's\n");

	char *said = write_sets(&p, dir, 2);
	textf(before, sizeof(before), "not written: %s/Testing-10.9.0.nbi exists; image 01:00:01:C8 "
	      "is left to you (nothing is overwritten)\n", dir);
	must_say(said, before);
	file_text(path, after, sizeof(after));
	ck_assert_str_eq(after, "not a plist, and the operator's\n");
	free(said);

	/* The report names the folder there and why it is not served. */
	struct bsdp_catalogue *c = scan(dir);
	said = report(&p, dir, c, 3);
	textf(before, sizeof(before), "image 01:00:01:C8 (Index 456) \"10.9.0 NetBoot for Testing "
	      "Only\": no set; %s/Testing-10.9.0.nbi is there but not served: "
	      "NBImageInfo.plist is not a valid XML or binary property list\n", dir);
	must_say(said, before);
	free(said);
	bsdp_catalogue_free(c);

	/* A second run writes nothing: every folder is there now. */
	textf(path, sizeof(path), "%s/Install-10.nbi/NBImageInfo.plist", dir);
	file_text(path, before, sizeof(before));
	said = write_sets(&p, dir, 0);
	ck_assert_ptr_null(strstr(said, "wrote"));
	file_text(path, after, sizeof(after));
	ck_assert_str_eq(after, before);
	free(said);
	ck_assert_int_eq(remove_tree(dir), 0);
	planned_free(&p);
}
END_TEST

/* A diagnostics image (Kind 3) stays listed to every Mac, as dhcpd listed
 * it: Apple's default for Kind 3 is FilterOnly. */
START_TEST(test_sets_diagnostics_image_listed_to_every_mac)
{
	struct planned p = plan_text(
		"class \"m\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 14) = \"AAPLBSDPC/i386\";\n"
		"  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		"    option vendor-encapsulated-options 01:01:01:09:06:03:00:00:05:01:44;\n"
		"  } else {\n"
		"    option vendor-encapsulated-options 01:01:02:08:04:03:00:00:05;\n"
		"    filename \"AHT.nbi/i386/booter\";\n"
		"  }\n"
		"}\n");
	char dir[64];
	make_dir(dir, sizeof(dir));
	char *said = write_sets(&p, dir, 1);
	ck_assert_uint_eq(follow_copies(said), 1);
	free(said);
	struct bsdp_catalogue *c = scan(dir);
	const struct bsdp_image *set = migrate_sets_match(c, &p.plan->images[0]);
	ck_assert_ptr_nonnull(set);
	ck_assert_uint_eq(set->kind, 3);
	ck_assert_int_eq(set->type, BSDP_TYPE_BOOTFILEONLY);
	ck_assert(!set->filter_only);
	HAS_NOTE(p.plan, "image 03:00:00:05 is a diagnostics image (Kind 3): its set gets "
			 "FilterOnly false");
	bsdp_catalogue_free(c);
	ck_assert_int_eq(remove_tree(dir), 0);
	planned_free(&p);
}
END_TEST

/* A set as an operator has it: by hand, not by this tool. */
static void hand_set(const char *dir, const char *folder, const char *keys)
{
	char path[512];
	textf(path, sizeof(path), "%s/%s/i386/x86_64", dir, folder);
	make_parents(path);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	textf(path, sizeof(path), "%s/%s/i386/x86_64/kernelcache", dir, folder);
	write_file(path, "k");
	textf(path, sizeof(path), "%s/%s/i386/booter.efi", dir, folder);
	write_file(path, "b");
	textf(path, sizeof(path), "%s/%s/NBImageInfo.plist", dir, folder);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
		   "<key>Type</key><string>HTTP</string><key>BootFile</key><string>booter.efi</string>"
		   "<key>Architectures</key><array><string>i386</string></array>%s</dict></plist>\n",
		keys);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_report_says_what_differs_and_keeps_image_ids)
{
	struct planned p = plan_path("test/migrate/seed003.conf");
	char dir[64], want[2048];
	make_dir(dir, sizeof(dir));
	/* Another name, another booter, not default, disabled, another folder. */
	hand_set(dir, "Orchard.nbi", "<key>Index</key><integer>123</integer><key>Name</key>"
		 "<string>Orchard</string><key>RootPath</key><string>NetBoot.dmg</string>"
		 "<key>IsEnabled</key><false/>");
	/* Index 456 as an install image: another image ID. */
	hand_set(dir, "Testing-10.9.0.nbi", "<key>Index</key><integer>456</integer><key>Name</key>"
		 "<string>10.9.0 NetBoot for Testing Only</string><key>IsInstall</key><true/>"
		 "<key>RootPath</key><string>NetBoot.dmg</string>");
	/* A set dhcpd does not know. */
	hand_set(dir, "Extra.nbi", "<key>Index</key><integer>77</integer><key>Name</key>"
		 "<string>Extra</string><key>RootPath</key><string>http://198.18.0.5/x.dmg</string>"
		 "<key>IsDefault</key><true/>");
	struct bsdp_catalogue *c = scan(dir);
	ck_assert_uint_eq(c->n_images, 3);
	char *said = report(&p, dir, c, 2);
	textf(want, sizeof(want),
	      "image 01:00:00:7B (Index 123) \"Orchard Primary 10.8.4 NetBoot\": set %s/Orchard.nbi\n"
	      "  differs: name: dhcpd \"Orchard Primary 10.8.4 NetBoot\", Kea \"Orchard\"\n"
	      "  differs: default: dhcpd's default image is this one, the set's IsDefault is false\n"
	      "  differs: enabled: dhcpd lists it, the set's IsEnabled is false\n"
	      "  differs: i386: dhcpd boots it, Kea answers a SELECT with image disabled\n"
	      "image 01:00:01:C8 (Index 456) \"10.9.0 NetBoot for Testing Only\": no set; "
	      "Testing-10.9.0.nbi has Index 456 but image ID 81:00:01:C8 (Kind 1, IsInstall true): "
	      "IDs must stay the same, so give it Kind 1 and IsInstall false\n"
	      "image 81:00:03:60 (Index 864) \"Install 10\": no set\n"
	      "note: set %s/Extra.nbi (image 01:00:00:4D, Index 77) is not in dhcpd.conf: Kea lists it too",
	      dir, dir);
	must_say(said, want);
	textf(want, sizeof(want), "differs: default image: dhcpd 01:00:00:7B, Kea 01:00:00:4D "
	      "(%s/Extra.nbi): give 01:00:00:7B IsDefault true, the others false\n", dir);
	must_say(said, want);
	free(said);

	/* Enabled, the booter's path and the disk image now differ from dhcpd's. */
	bsdp_catalogue_free(c);
	ck_assert_int_eq(remove_tree(dir), 0);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	hand_set(dir, "Orchard.nbi", "<key>Index</key><integer>123</integer><key>Name</key>"
		 "<string>Orchard Primary 10.8.4 NetBoot</string><key>IsDefault</key><true/>"
		 "<key>RootPath</key><string>Other.dmg</string><key>FilterOnly</key><true/>"
		 "<key>EnabledMACAddresses</key><array><string>02:00:00:00:00:01</string></array>");
	c = scan(dir);
	said = report(&p, dir, c, 2);
	must_say(said, "  differs: listed: dhcpd lists it to every Mac, the set is FilterOnly "
		       "(listed only to a Mac that asks for its kind)\n"
		       "  differs: who sees it: dhcpd offers it to every Mac of its class, the set "
		       "limits it (EnabledMACAddresses 1, DisabledMACAddresses 0, "
		       "EnabledSystemIdentifiers 0)\n");
	must_say(said, "  differs: booter (i386): dhcpd \"Orchard-NetBoot_10.8.4.nbi/i386/booter\", "
			   "Kea \"Orchard.nbi/i386/booter.efi\"\n"
			   "  differs: disk image (i386): dhcpd "
			   "\"http://198.18.0.1/sets/Orchard-NetBoot_10.8.4.nbi/NetBoot.dmg\", "
			   "Kea \"http://198.18.0.1/sets/Orchard.nbi/Other.dmg\"\n");
	free(said);
	bsdp_catalogue_free(c);
	ck_assert_int_eq(remove_tree(dir), 0);
	planned_free(&p);
}
END_TEST

static Suite *migrate_kea_suite(void)
{
	Suite *s = suite_create("migrate_kea");
	TCase *t = tcase_create("plan");
	tcase_add_test(t, test_plan_seed003_parameters_sets_pins_and_what_cannot_carry_over);
	tcase_add_test(t, test_plan_seed000_boot_file_only_with_chain_and_guesses_said);
	tcase_add_test(t, test_plan_prefix_nfs_url_root_paths_and_disagreements);
	tcase_add_test(t, test_plan_folders_are_one_per_image);
	tcase_add_test(t, test_plan_pins_one_reservation_per_mac);
	tcase_add_test(t, test_plan_machine_name_format_from_the_name_stem);
	tcase_add_test(t, test_plan_shadow_mount_cannot_carry_over);
	suite_add_tcase(s, t);
	t = tcase_create("fragment");
	tcase_add_test(t, test_fragment_is_json_with_the_parameters_and_reservations);
	tcase_add_test(t, test_fragment_escapes_strings_and_has_an_empty_reservation_list);
	suite_add_tcase(s, t);
	t = tcase_create("sets");
	tcase_set_timeout(t, 30);
	tcase_add_test(t, test_sets_written_and_copied_as_said_are_served_seed003);
	tcase_add_test(t, test_sets_written_and_copied_as_said_are_served_seed000);
	tcase_add_test(t, test_sets_never_written_over_anything);
	tcase_add_test(t, test_sets_copies_named_per_architecture);
	tcase_add_test(t, test_sets_diagnostics_image_listed_to_every_mac);
	tcase_add_test(t, test_report_says_what_differs_and_keeps_image_ids);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(migrate_kea_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
