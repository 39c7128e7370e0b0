/* SPDX-License-Identifier: MPL-2.0 */
/* kea-bsdp-migrate's reader: the dhcpd.conf parser (tools/migrate/dhcpd_conf)
 * and the BSDP finder over it (tools/migrate/bsdp_find). The seed shapes
 * are in test/migrate/ (each accepted by `dhcpd -t`); the rest is inline. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test/unit/fixture_util.h"
#include "tools/migrate/bsdp_find.h"
#include "tools/migrate/dhcpd_conf.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ------------------------------------------------------------- */

static struct dhcpd_conf *parse_ok(const char *text)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct dhcpd_conf *conf = NULL;
	int r = dhcpd_conf_parse("t.conf", text, strlen(text), &conf, err, sizeof(err));
	ck_assert_msg(r == 0, "parse failed: %s", err);
	ck_assert_ptr_nonnull(conf);
	return conf;
}

/* The parse fails with exactly this message and returns nothing. */
static void parse_fails(const char *text, const char *want)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct dhcpd_conf *conf = (struct dhcpd_conf *)&err; /* must stay untouched */
	int r = dhcpd_conf_parse("t.conf", text, strlen(text), &conf, err, sizeof(err));
	ck_assert_int_eq(r, -1);
	ck_assert_ptr_eq(conf, (struct dhcpd_conf *)&err);
	ck_assert_str_eq(err, want);
}

/* Finds BSDP in text; returns bsdp_find's result code, err and *ret set. */
static int find_text(const char *text, struct bsdp_find_result **ret, struct dhcpd_conf **ret_conf,
		     char *err, size_t err_size)
{
	struct dhcpd_conf *conf = parse_ok(text);
	struct bsdp_find_result *res = calloc(1, sizeof(*res));
	ck_assert_ptr_nonnull(res);
	int r = bsdp_find(conf, res, err, err_size);
	*ret = res;
	*ret_conf = conf;
	return r;
}

/* Finds BSDP in text, which must succeed. */
static struct bsdp_find_result *find_ok(const char *text, struct dhcpd_conf **ret_conf)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct bsdp_find_result *r;
	ck_assert_msg(find_text(text, &r, ret_conf, err, sizeof(err)) == 0, "%s", err);
	return r;
}

static void find_fails(const char *text, const char *want)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct bsdp_find_result *res;
	struct dhcpd_conf *conf;
	ck_assert_int_eq(find_text(text, &res, &conf, err, sizeof(err)), -EINVAL);
	ck_assert_str_eq(err, want);
	ck_assert_uint_eq(res->n_images, 0); /* nothing returned */
	free(res);
	dhcpd_conf_free(conf);
}

static struct bsdp_find_result *find_file(const char *path, struct dhcpd_conf **ret_conf)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct dhcpd_conf *conf = NULL;
	ck_assert_msg(dhcpd_conf_load(path, &conf, err, sizeof(err)) == 0, "%s", err);
	struct bsdp_find_result *res = calloc(1, sizeof(*res));
	ck_assert_ptr_nonnull(res);
	int r = bsdp_find(conf, res, err, sizeof(err));
	ck_assert_msg(r == 0, "bsdp_find %d: %s", r, err);
	*ret_conf = conf;
	return res;
}

static bool has_note(const struct bsdp_find_result *r, const char *part)
{
	for (size_t i = 0; i < r->n_notes; i++)
		if (strstr(r->notes[i], part))
			return true;
	return false;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	textf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

static void make_dir(char *dir, size_t size)
{
	textf(dir, size, "/tmp/check-migrate-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static const struct dhcpd_node *nth(const struct dhcpd_node *n, size_t i)
{
	while (n && i--)
		n = n->next;
	ck_assert_ptr_nonnull(n);
	return n;
}

/* ---- the parser ----------------------------------------------------------- */

START_TEST(test_conf_reads_comments_strings_and_escapes)
{
	struct dhcpd_conf *conf = parse_ok("# leading comment\n"
					   "option a \"x\\\"y\\ty\\101\\x42;#\"; # trailing\n"
					   "b c:d;\n");
	const struct dhcpd_node *n = dhcpd_conf_root(conf);
	ck_assert_int_eq(n->kind, DHCPD_NODE_STATEMENT);
	ck_assert_str_eq(n->file, "t.conf");
	ck_assert_uint_eq(n->line, 2);
	ck_assert_uint_eq(n->n_toks, 3);
	ck_assert_int_eq(n->toks[2].kind, DHCPD_TOK_STRING);
	ck_assert_str_eq(n->toks[2].text, "x\"y\tyAB;#");
	n = n->next;
	ck_assert_uint_eq(n->line, 3);
	ck_assert_uint_eq(n->n_toks, 4); /* b c : d */
	ck_assert(dhcpd_tok_punct(&n->toks[2], ':'));
	ck_assert_ptr_null(n->next);
	dhcpd_conf_free(conf);
}
END_TEST

START_TEST(test_conf_keeps_if_elsif_else_chains_with_conditions)
{
	struct dhcpd_conf *conf = parse_ok("class \"c\" {\n"
					   "  if option x = 1 { a; }\n"
					   "  elsif exists y {\n b;\n }\n"
					   "  else if z { c; } else { d; e; }\n"
					   "  f;\n"
					   "}\n");
	const struct dhcpd_node *cls = dhcpd_conf_root(conf);
	ck_assert_int_eq(cls->kind, DHCPD_NODE_BLOCK);
	ck_assert_uint_eq(cls->n_toks, 2);
	const struct dhcpd_node *i = cls->child;
	ck_assert_int_eq(i->kind, DHCPD_NODE_IF);
	ck_assert_uint_eq(i->line, 2);
	ck_assert_uint_eq(i->n_toks, 4); /* option x = 1 */
	ck_assert_str_eq(i->toks[3].text, "1");
	ck_assert_int_eq(i->alt->kind, DHCPD_NODE_ELSIF);
	ck_assert_uint_eq(i->alt->n_toks, 2);
	ck_assert_str_eq(i->alt->child->toks[0].text, "b");
	ck_assert_uint_eq(i->alt->child->line, 4);
	ck_assert_int_eq(i->alt->alt->kind, DHCPD_NODE_ELSIF);
	ck_assert_str_eq(i->alt->alt->toks[0].text, "z");
	ck_assert_int_eq(i->alt->alt->alt->kind, DHCPD_NODE_ELSE);
	ck_assert_uint_eq(i->alt->alt->alt->n_toks, 0);
	ck_assert_str_eq(nth(i->alt->alt->alt->child, 1)->toks[0].text, "e");
	ck_assert_ptr_null(i->alt->alt->alt->alt);
	ck_assert_str_eq(i->next->toks[0].text, "f");
	ck_assert_uint_eq(i->next->line, 7);
	dhcpd_conf_free(conf);
}
END_TEST

static const struct {
	const char *text;
	const char *error;
} broken_syntax[] = {
	{ "a;\nclass \"x\" {\n  b;\n", "t.conf:2: '{' never closed by '}'" },
	{ "a;\nb;\n}\n", "t.conf:3: '}' without a '{'" },
	{ "a;\n\noption x \"abc;\n}\n", "t.conf:3: string never closed with '\"'" },
	{ "class \"x\" {\n  b c\n}\n", "t.conf:3: '}' before the end of a statement (missing ';')" },
	{ "a b\n", "t.conf:1: a statement runs to the end of the file without ';'" },
	{ "if x;\n", "t.conf:1: ';' where an 'if' condition needs '{'" },
	{ "\n else { a; }\n", "t.conf:2: 'else' without an 'if'" },
	{ "if { a; }\n", "t.conf:1: 'if' without a condition" },
	{ "a;\ninclude \"x.conf\";\n", "t.conf:2: include \"x.conf\" refused here" },
	{ "a \001;\n", "t.conf:1: unexpected byte 0x01 outside a string" },
};

START_TEST(test_conf_broken_syntax_names_file_and_line)
{
	parse_fails(broken_syntax[_i].text, broken_syntax[_i].error);
}
END_TEST

START_TEST(test_conf_nesting_is_bounded)
{
	char text[4096] = "";
	size_t depth = DHCPD_CONF_NEST_MAX + 1;
	for (size_t i = 0; i < depth; i++)
		strcat(text, "group {\n");
	for (size_t i = 0; i < depth; i++)
		strcat(text, "}\n");
	char want[128];
	textf(want, sizeof(want), "t.conf:%zu: blocks nested deeper than %d", depth,
	      DHCPD_CONF_NEST_MAX);
	parse_fails(text, want);
	/* one level less is fine */
	text[0] = '\0';
	for (size_t i = 0; i < depth - 1; i++)
		strcat(text, "group {\n");
	for (size_t i = 0; i < depth - 1; i++)
		strcat(text, "}\n");
	struct dhcpd_conf *conf = parse_ok(text);
	dhcpd_conf_free(conf);
}
END_TEST

START_TEST(test_conf_include_is_relative_to_the_including_file)
{
	char dir[64], path[128];
	make_dir(dir, sizeof(dir));
	textf(path, sizeof(path), "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	write_file(dir, "main.conf", "a;\ninclude \"sub/one.conf\";\nz;\n");
	write_file(dir, "sub/one.conf", "# one\ninclude \"two.conf\";\nb;\n");
	write_file(dir, "sub/two.conf", "\n\nc { d; }\n");
	textf(path, sizeof(path), "%s/main.conf", dir);
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct dhcpd_conf *conf = NULL;
	ck_assert_msg(dhcpd_conf_load(path, &conf, err, sizeof(err)) == 0, "%s", err);
	const struct dhcpd_node *root = dhcpd_conf_root(conf);
	ck_assert_str_eq(nth(root, 0)->toks[0].text, "a");
	const struct dhcpd_node *c = nth(root, 1);
	ck_assert_str_eq(c->toks[0].text, "c");
	ck_assert_uint_eq(c->line, 3);
	char want[160];
	textf(want, sizeof(want), "%s/sub/two.conf", dir);
	ck_assert_str_eq(c->file, want);
	ck_assert_str_eq(c->child->file, want);
	ck_assert_str_eq(nth(root, 2)->toks[0].text, "b");
	ck_assert_uint_eq(nth(root, 2)->line, 3);
	ck_assert_str_eq(nth(root, 3)->toks[0].text, "z");
	ck_assert_str_eq(nth(root, 3)->file, path);
	ck_assert_uint_eq(dhcpd_conf_n_files(conf), 3);
	dhcpd_conf_free(conf);
	remove_tree(dir);
}
END_TEST

static void load_fails(const char *path, const char *want)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct dhcpd_conf *conf = NULL;
	ck_assert_int_eq(dhcpd_conf_load(path, &conf, err, sizeof(err)), -1);
	ck_assert_ptr_null(conf);
	ck_assert_str_eq(err, want);
}

START_TEST(test_conf_include_cycle_missing_and_depth_refused)
{
	char dir[64], path[128], want[512];
	make_dir(dir, sizeof(dir));
	write_file(dir, "a.conf", "x;\ninclude \"b.conf\";\n");
	write_file(dir, "b.conf", "\n\ninclude \"a.conf\";\n");
	textf(path, sizeof(path), "%s/a.conf", dir);
	/* the message shows the path as opened, relative to the includer */
	textf(want, sizeof(want), "%s/b.conf:3: include cycle: %s/a.conf is already being read",
	      dir, dir);
	load_fails(path, want);

	write_file(dir, "m.conf", "x;\n\ninclude \"missing.conf\";\n");
	textf(path, sizeof(path), "%s/m.conf", dir);
	textf(want, sizeof(want), "%s/m.conf:3: cannot read %s/missing.conf: No such file or directory",
	      dir, dir);
	load_fails(path, want);

	/* d0 includes d1 ... d9: the ninth level is refused */
	for (int i = 0; i < 10; i++) {
		char name[16], text[64];
		textf(name, sizeof(name), "d%d.conf", i);
		textf(text, sizeof(text), "include \"d%d.conf\";\n", i + 1);
		write_file(dir, name, text);
	}
	textf(path, sizeof(path), "%s/d0.conf", dir);
	textf(want, sizeof(want), "%s/d%d.conf:1: include \"d%d.conf\" nested deeper than %d files",
	      dir, DHCPD_CONF_INCLUDE_DEPTH - 1, DHCPD_CONF_INCLUDE_DEPTH, DHCPD_CONF_INCLUDE_DEPTH);
	load_fails(path, want);

	/* a broken included file: its own name and line, nothing returned */
	write_file(dir, "p.conf", "include \"q.conf\";\n");
	write_file(dir, "q.conf", "class \"x\" {\n");
	textf(path, sizeof(path), "%s/p.conf", dir);
	textf(want, sizeof(want), "%s/q.conf:1: '{' never closed by '}'", dir);
	load_fails(path, want);
	remove_tree(dir);
}
END_TEST

/* ---- the seed shapes ---------------------------------------------------------- */

static void check_image(const struct bsdp_find_image *im, uint32_t id, const char *name)
{
	ck_assert_msg(im->id == id, "image %08x, want %08x", im->id, id);
	ck_assert_str_eq(im->name, name);
	ck_assert_uint_eq(im->name_len, strlen(name));
}

START_TEST(test_find_seed003_shape)
{
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_file("test/migrate/seed003.conf", &conf);
	ck_assert_str_eq(r->space, "BSDP");
	ck_assert(!r->space_old_form);
	ck_assert_uint_eq(r->n_classes, 2);
	ck_assert_str_eq(r->classes[0].name, "Apple-i386-NetBoot");
	ck_assert_str_eq(r->classes[0].arch, "i386");
	ck_assert_str_eq(r->classes[1].arch, "ppc");
	ck_assert(!r->classes[0].hand_built);
	/* the worked example of seed 003, then a NetInstall image */
	ck_assert_uint_eq(r->n_images, 3);
	check_image(&r->images[0], 0x0100007b, "Orchard Primary 10.8.4 NetBoot");
	check_image(&r->images[1], 0x010001c8, "10.9.0 NetBoot for Testing Only");
	check_image(&r->images[2], 0x81000360, "Install 10");
	ck_assert(BSDP_IMAGE_ID_INSTALL(r->images[2].id));
	ck_assert_uint_eq(BSDP_IMAGE_ID_INDEX(r->images[2].id), 864);
	ck_assert_uint_eq(r->images[0].classes, 3); /* i386 and ppc */
	ck_assert_uint_eq(r->images[1].classes, 1);
	ck_assert_uint_eq(r->images[0].at.line, 32);
	ck_assert(r->has_default);
	ck_assert_uint_eq(r->default_id, 0x0100007b);
	ck_assert(r->has_priority);
	ck_assert_uint_eq(r->priority, 32768);
	ck_assert_str_eq(r->server_id, "198.18.0.1");
	ck_assert_uint_eq(r->n_selects, 3);
	static const struct {
		uint32_t id;
		unsigned line;
		const char *filename, *root_path, *machine;
	} sel[] = {
		{ 0x0100007b, 51, "Orchard-NetBoot_10.8.4.nbi/i386/booter",
		  "http://198.18.0.1/sets/Orchard-NetBoot_10.8.4.nbi/NetBoot.dmg", "NetBoot" },
		{ 0x010001c8, 57, "Testing-10.9.0.nbi/i386/booter",
		  "http://198.18.0.1/sets/Testing-10.9.0.nbi/NetBoot.dmg", "NetBoot" },
		{ 0x81000360, 63, "Install-10.nbi/i386/booter",
		  "http://198.18.0.1/sets/Install-10.nbi/NetInstall.dmg", "" },
	};
	for (size_t i = 0; i < LEN(sel); i++) {
		const struct bsdp_find_select *s = &r->selects[i];
		ck_assert_uint_eq(s->image_id, sel[i].id);
		ck_assert_uint_eq(s->at.line, sel[i].line);
		ck_assert_str_eq(s->at.file, "test/migrate/seed003.conf");
		ck_assert_uint_eq(s->class_idx, 0);
		ck_assert_str_eq(s->next_server, "198.18.0.1"); /* set in the SELECT body */
		ck_assert_str_eq(s->filename, sel[i].filename);
		ck_assert_str_eq(s->root_path, sel[i].root_path);
		ck_assert_str_eq(s->machine_name, sel[i].machine);
	}
	ck_assert_uint_eq(r->n_hosts, 1);
	ck_assert_str_eq(r->hosts[0].name, "lab-mac-1");
	ck_assert_str_eq(r->hosts[0].mac, "00:16:cb:00:00:01");
	ck_assert_uint_eq(r->hosts[0].image_id, 0x010001c8);
	ck_assert(r->deny_unknown);
	ck_assert_uint_eq(r->deny_unknown_at.line, 4);
	ck_assert(!r->has_ipxe);
	/* Found here, judged by migrate_plan (test_plan_seed003_...). */
	ck_assert(r->has_priority);
	ck_assert_uint_eq(r->priority_at.line, 29);
	ck_assert_str_eq(r->server_id, "198.18.0.1");
	ck_assert_uint_eq(r->server_id_at.line, 28);
	ck_assert(r->has_list_selected);
	ck_assert_uint_eq(r->list_selected_id, 0x0100007b);
	free(r);
	dhcpd_conf_free(conf);
}
END_TEST

START_TEST(test_find_seed000_shape)
{
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_file("test/migrate/seed000.conf", &conf);
	ck_assert_str_eq(r->space, "");
	ck_assert_uint_eq(r->n_classes, 1);
	ck_assert_str_eq(r->classes[0].name, "netboot");
	ck_assert_str_eq(r->classes[0].arch, "");
	ck_assert(r->classes[0].hand_built);
	ck_assert_uint_eq(r->n_images, 1);
	check_image(&r->images[0], 0x81000089, "ESXi 6.5");
	ck_assert_uint_eq(r->default_id, 0x81000089);
	ck_assert_uint_eq(r->priority, 0x8000);
	ck_assert_uint_eq(r->n_selects, 1);
	ck_assert_uint_eq(r->selects[0].image_id, 0x81000089);
	ck_assert_uint_eq(r->selects[0].at.line, 24);
	ck_assert_str_eq(r->selects[0].filename, "snponly.efi");
	ck_assert_str_eq(r->selects[0].next_server, "198.18.0.1");
	ck_assert_str_eq(r->selects[0].root_path, "");
	ck_assert(r->has_ipxe);
	ck_assert_str_eq(r->ipxe_boot_file, "http://198.18.0.1/esxi65/mboot.efi");
	ck_assert_str_eq(r->ipxe_how, "user class iPXE");
	ck_assert_uint_eq(r->ipxe_at.line, 36);
	ck_assert(!r->deny_unknown);
	ck_assert(has_note(r, "seed000.conf:24: the 'else' of a LIST test is taken as the SELECT branch"));
	free(r);
	dhcpd_conf_free(conf);
}
END_TEST

START_TEST(test_find_no_bsdp_is_its_own_result)
{
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct dhcpd_conf *conf = NULL;
	ck_assert_int_eq(dhcpd_conf_load("test/migrate/nobsdp.conf", &conf, err, sizeof(err)), 0);
	struct bsdp_find_result *r = calloc(1, sizeof(*r));
	ck_assert_int_eq(bsdp_find(conf, r, err, sizeof(err)), -ENOENT);
	free(r);
	dhcpd_conf_free(conf);
	/* an empty file too */
	struct bsdp_find_result *res;
	ck_assert_int_eq(find_text("", &res, &conf, err, sizeof(err)), -ENOENT);
	free(res);
	dhcpd_conf_free(conf);
}
END_TEST

/* A small option-space config; SPACE and LIST vary. */
#define SPACE_DECLS(space_line)                                              \
	space_line                                                           \
	"option BSDP.message_type code 1 = unsigned integer 8;\n"            \
	"option BSDP.default_boot_image_id code 7 = string;\n"               \
	"option BSDP.selected_boot_image_id code 8 = string;\n"              \
	"option BSDP.boot_image_list code 9 = string;\n"
#define SPACE_CLASS(list, select_id)                                         \
	"class \"mac\" {\n"                                                  \
	"  match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n" \
	"  vendor-option-space BSDP;\n"                                      \
	"  if option BSDP.message_type = 1 {\n"                              \
	"    option BSDP.boot_image_list " list ";\n"                        \
	"  } elsif option BSDP.message_type = 2 {\n"                         \
	"    if option BSDP.selected_boot_image_id = " select_id " {\n"     \
	"      filename \"a.nbi/i386/booter\";\n"                            \
	"    }\n"                                                            \
	"  }\n"                                                              \
	"}\n"

/* Two images, "A" (index 1) and "BC" (index 2). */
#define TWO_IMAGES "01:00:00:01:01:41:01:00:00:02:02:42:43"

START_TEST(test_find_both_option_space_spellings)
{
	static const char *const texts[] = {
		SPACE_DECLS("option space BSDP;\n") SPACE_CLASS(TWO_IMAGES, "01:00:00:02"),
		SPACE_DECLS("option space BSDP code width 1 length width 1;\n")
			SPACE_CLASS(TWO_IMAGES, "01:00:00:02"),
		SPACE_DECLS("option space BSDP code width 1 length width 1 hash size 3;\n")
			SPACE_CLASS(TWO_IMAGES, "01:00:00:02"),
	};
	for (size_t i = 0; i < LEN(texts); i++) {
		char err[DHCPD_CONF_ERR_MAX] = "";
		struct bsdp_find_result *r;
		struct dhcpd_conf *conf;
		ck_assert_msg(find_text(texts[i], &r, &conf, err, sizeof(err)) == 0, "%zu: %s", i, err);
		ck_assert_str_eq(r->space, "BSDP");
		ck_assert(r->space_old_form == (i > 0));
		ck_assert_uint_eq(r->n_images, 2);
		check_image(&r->images[0], 0x01000001, "A");
		check_image(&r->images[1], 0x01000002, "BC");
		ck_assert_uint_eq(r->n_selects, 1);
		ck_assert_uint_eq(r->selects[0].image_id, 0x01000002);
		ck_assert_uint_eq(r->selects[0].at.line, 12);
		ck_assert(i == 0 || has_note(r, "t.conf:1: option space BSDP uses the code/length width form"));
		free(r);
		dhcpd_conf_free(conf);
	}
	/* a space under another name, known by its codes */
	const char *nb = "option space NB;\n"
			 "option NB.type code 1 = unsigned integer 8;\n"
			 "option NB.images code 9 = string;\n"
			 "class \"m\" {\n"
			 "  match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
			 "  vendor-option-space NB;\n"
			 "  if option NB.type = 1 { option NB.images " TWO_IMAGES "; }\n"
			 "}\n";
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct bsdp_find_result *r;
	struct dhcpd_conf *conf;
	ck_assert_msg(find_text(nb, &r, &conf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(r->space, "NB");
	ck_assert_uint_eq(r->n_images, 2);
	ck_assert(has_note(r, "t.conf:1: option space NB is taken as the BSDP space"));
	free(r);
	dhcpd_conf_free(conf);
	/* a width BSDP cannot use */
	find_fails(SPACE_DECLS("option space BSDP code width 2 length width 1;\n")
			   SPACE_CLASS(TWO_IMAGES, "01:00:00:02"),
		   "t.conf:1: option space BSDP: code width must be 1 for BSDP");
}
END_TEST

/* dhcpd 4.4 answers no INFORM where it is not authoritative and decodes no
 * option 43 into the space without `encapsulate`: the file as written then
 * answered no BSDP, which the operator must hear before Kea answers. */
START_TEST(test_find_says_when_dhcpd_answered_no_bsdp)
{
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_file("test/migrate/seed003.conf", &conf);
	ck_assert(has_note(r, "seed003.conf:20: no `authoritative;` in this file"));
	ck_assert(has_note(r, "seed003.conf:26: BSDP.message_type is tested but option 43 is not "
			      "declared `option vendor-encapsulated-options code 43 = encapsulate BSDP;`"));
	free(r);
	dhcpd_conf_free(conf);
	r = find_file("test/migrate/seed000.conf", &conf); /* authoritative, hand-built hex */
	ck_assert(!has_note(r, "authoritative"));
	ck_assert(!has_note(r, "encapsulate"));
	free(r);
	dhcpd_conf_free(conf);
	char err[DHCPD_CONF_ERR_MAX] = "";
	ck_assert_msg(find_text("authoritative;\n"
				"option vendor-encapsulated-options code 43 = encapsulate BSDP;\n"
				SPACE_DECLS("option space BSDP;\n")
				SPACE_CLASS(TWO_IMAGES, "01:00:00:02"),
				&r, &conf, err, sizeof(err)) == 0, "%s", err);
	ck_assert(!has_note(r, "authoritative"));
	ck_assert(!has_note(r, "encapsulate"));
	free(r);
	dhcpd_conf_free(conf);
}
END_TEST

START_TEST(test_find_hex_with_line_breaks_and_comments_reads_the_same)
{
	const char *flat = SPACE_DECLS("option space BSDP;\n") SPACE_CLASS(TWO_IMAGES, "01:00:00:01");
	const char *broken = SPACE_DECLS("option space BSDP;\n")
		SPACE_CLASS("\n# image 1\n01:00:00:01:\n   # length\n   01:\n"
			    "   41 # A\n :   # image 2\n01 : 00 : 00:02:\n02:42:43 # BC\n",
			    "01:00:00:01");
	char err[DHCPD_CONF_ERR_MAX] = "";
	struct bsdp_find_result *a, *b;
	struct dhcpd_conf *ca, *cb;
	ck_assert_int_eq(find_text(flat, &a, &ca, err, sizeof(err)), 0);
	ck_assert_msg(find_text(broken, &b, &cb, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_eq(b->n_images, 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_uint_eq(a->images[i].id, b->images[i].id);
		ck_assert_str_eq(a->images[i].name, b->images[i].name);
	}
	free(a);
	free(b);
	dhcpd_conf_free(ca);
	dhcpd_conf_free(cb);
}
END_TEST

START_TEST(test_find_through_includes_names_the_included_file)
{
	char dir[64], path[128], want[160];
	make_dir(dir, sizeof(dir));
	write_file(dir, "dhcpd.conf", "include \"bsdp-space.conf\";\n\ninclude \"bsdp-class.conf\";\n");
	write_file(dir, "bsdp-space.conf", SPACE_DECLS("option space BSDP;\n"));
	write_file(dir, "bsdp-class.conf", SPACE_CLASS(TWO_IMAGES, "01:00:00:02"));
	textf(path, sizeof(path), "%s/dhcpd.conf", dir);
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_file(path, &conf);
	ck_assert_uint_eq(r->n_images, 2);
	textf(want, sizeof(want), "%s/bsdp-class.conf", dir);
	ck_assert_str_eq(r->images[0].at.file, want);
	ck_assert_uint_eq(r->images[0].at.line, 5);
	ck_assert_str_eq(r->selects[0].at.file, want);
	ck_assert_uint_eq(r->selects[0].at.line, 7);
	textf(want, sizeof(want), "%s/bsdp-space.conf", dir);
	ck_assert_str_eq(r->space_at.file, want);
	/* read next to dhcpd.conf, where dhcpd looks in its working folder: said */
	char note_text[512];
	textf(note_text, sizeof(note_text), "%s:3: include \"bsdp-class.conf\" is read as "
	      "%s/bsdp-class.conf, next to the file naming it; dhcpd opens a relative include "
	      "from its working directory", path, dir);
	ck_assert_msg(has_note(r, note_text), "no note: %s", note_text);
	free(r);
	dhcpd_conf_free(conf);
	remove_tree(dir);
}
END_TEST

START_TEST(test_find_hand_built_select_by_option43_substring)
{
	/* SELECT tested on the client's sub-option 8 bytes, hand-built answer */
	const char *text =
		"class \"bsdp\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 14) = \"AAPLBSDPC/i386\";\n"
		"  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		"    option vendor-encapsulated-options 01:01:01:04:02:00:10:07:04:01:00:00:01:"
		"09:0d:01:00:00:01:08:49:6e:73:74:61:6c:6c:31:09:06:01:00:00:02:01:5a;\n"
		"  } elsif substring(option vendor-encapsulated-options, 0, 3) = 01:01:02 {\n"
		"    if substring(option vendor-encapsulated-options, 7, 6) = 08:04:01:00:00:02 {\n"
		"      option vendor-encapsulated-options 01:01:02:08:04:01:00:00:02:82:03:4d:61:63;\n"
		"      filename \"z.nbi/i386/booter\"; option root-path \"http://198.18.0.1/z.dmg\";\n"
		"    }\n"
		"  }\n"
		"}\n";
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_ok(text, &conf);
	ck_assert_uint_eq(r->n_images, 2); /* two sub-options 9, joined */
	check_image(&r->images[0], 0x01000001, "Install1");
	check_image(&r->images[1], 0x01000002, "Z");
	ck_assert_uint_eq(r->priority, 16);
	ck_assert_uint_eq(r->n_selects, 1);
	ck_assert_uint_eq(r->selects[0].image_id, 0x01000002);
	ck_assert_uint_eq(r->selects[0].at.line, 6);
	ck_assert_str_eq(r->selects[0].machine_name, "Mac");
	ck_assert_str_eq(r->selects[0].root_path, "http://198.18.0.1/z.dmg");
	ck_assert(has_note(r, "image 01:00:00:01 is listed but no SELECT branch boots it"));
	free(r);
	dhcpd_conf_free(conf);
}
END_TEST

START_TEST(test_find_ipxe_stage_by_option_175)
{
	const char *text = SPACE_DECLS("option space BSDP;\n")
		"option space ipxe;\n"
		"option ipxe.bus-id code 177 = string;\n"
		"option ipxe-encap-opts code 175 = encapsulate ipxe;\n"
		SPACE_CLASS(TWO_IMAGES, "01:00:00:02")
		"class \"chain\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 9) = \"PXEClient\";\n"
		"  if exists ipxe-encap-opts { filename \"http://198.18.0.1/mboot.efi\"; }\n"
		"  else { filename \"snponly.efi\"; }\n"
		"}\n";
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_ok(text, &conf);
	ck_assert(r->has_ipxe);
	ck_assert_str_eq(r->ipxe_how, "option 175 (iPXE)");
	ck_assert_str_eq(r->ipxe_boot_file, "http://198.18.0.1/mboot.efi");
	ck_assert_uint_eq(r->ipxe_at.line, 22);
	free(r);
	dhcpd_conf_free(conf);
}
END_TEST

START_TEST(test_find_variants_if_scope_hosts_by_hex_and_default)
{
	/* BSDP in a top-level if (no class), the full vendor class matched */
	const char *text = SPACE_DECLS("option space BSDP;\n")
		"if option vendor-class-identifier = \"AAPLBSDPC/i386/MacBookPro11,1\" {\n"
		"  if option BSDP.message_type = 1 {\n"
		"    option BSDP.default_boot_image_id 01:00:00:02;\n"
		"    option BSDP.boot_image_list " TWO_IMAGES ";\n"
		"  } else {\n"
		"    option BSDP.selected_boot_image_id 01:00:00:02;\n"
		"    filename \"bc.nbi/i386/booter\";\n"
		"  }\n"
		"}\n"
		"group {\n"
		"  host one { hardware ethernet 0:16:cb:a:b:c; option vendor-encapsulated-options 08:04:01:00:00:01; }\n"
		"  host two { hardware ethernet 00:16:CB:00:00:02; option BSDP.default_boot_image_id 01:00:00:02; }\n"
		"  host other { hardware ethernet 00:16:CB:00:00:03; fixed-address 198.18.0.3; }\n"
		"}\n"
		"boot-unknown-clients false;\n";
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_ok(text, &conf);
	ck_assert_uint_eq(r->n_classes, 1);
	ck_assert_str_eq(r->classes[0].name, "if at line 6");
	ck_assert_str_eq(r->classes[0].arch, "i386");
	ck_assert_str_eq(r->classes[0].match, "AAPLBSDPC/i386/MacBookPro11,1");
	ck_assert_uint_eq(r->default_id, 0x01000002);
	ck_assert_uint_eq(r->n_selects, 1);
	ck_assert_uint_eq(r->selects[0].image_id, 0x01000002);
	ck_assert_uint_eq(r->selects[0].at.line, 10);
	ck_assert_uint_eq(r->n_hosts, 2);
	ck_assert_str_eq(r->hosts[0].mac, "00:16:cb:0a:0b:0c");
	ck_assert_uint_eq(r->hosts[0].image_id, 0x01000001);
	ck_assert_str_eq(r->hosts[1].name, "two");
	ck_assert_uint_eq(r->hosts[1].image_id, 0x01000002);
	ck_assert(has_note(r, "t.conf:17: host two: its default image is taken as the image it is pinned to"));
	ck_assert(r->deny_unknown);
	ck_assert_uint_eq(r->deny_unknown_at.line, 20);
	ck_assert(has_note(r, "t.conf:10: the 'else' of a LIST test is taken as the SELECT branch"));
	free(r);
	dhcpd_conf_free(conf);
}
END_TEST

/* A group carrying the image for the hosts in it, as lab groups are written:
 * each host inside is pinned (said), a host's own option wins, nested
 * groups inherit, and a group's option 43 of another vendor is no error. */
START_TEST(test_find_hosts_pinned_by_their_group)
{
	const char *text = SPACE_DECLS("option space BSDP;\n") SPACE_CLASS(TWO_IMAGES, "01:00:00:02")
		"group {\n"
		"  option BSDP.selected_boot_image_id 01:00:00:02;\n"
		"  host lab1 { hardware ethernet 00:16:cb:00:00:01; }\n"
		"  host lab2 { hardware ethernet 00:16:cb:00:00:02; option BSDP.selected_boot_image_id 01:00:00:01; }\n"
		"  group { host lab3 { hardware ethernet 00:16:cb:00:00:03; } }\n"
		"}\n"
		"group {\n"
		"  option vendor-encapsulated-options 01:04:0a:0b;\n"
		"  host phone { hardware ethernet 00:16:cb:00:00:04; }\n"
		"}\n"
		"host alone { hardware ethernet 00:16:cb:00:00:05; }\n";
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_ok(text, &conf);
	ck_assert_uint_eq(r->n_hosts, 3);
	ck_assert_str_eq(r->hosts[0].name, "lab1");
	ck_assert_str_eq(r->hosts[0].mac, "00:16:cb:00:00:01");
	ck_assert_uint_eq(r->hosts[0].image_id, 0x01000002);
	ck_assert_uint_eq(r->hosts[0].at.line, 19);
	ck_assert_str_eq(r->hosts[1].name, "lab2");
	ck_assert_uint_eq(r->hosts[1].image_id, 0x01000001);
	ck_assert_str_eq(r->hosts[2].name, "lab3");
	ck_assert_uint_eq(r->hosts[2].image_id, 0x01000002);
	ck_assert(has_note(r, "t.conf:19: host lab1: pinned to 01:00:00:02 by its group (t.conf:18)"));
	ck_assert(has_note(r, "t.conf:21: host lab3: pinned to 01:00:00:02 by its group (t.conf:18)"));
	ck_assert(!has_note(r, "host lab2: pinned"));
	free(r);
	dhcpd_conf_free(conf);
}
END_TEST

/* The classic how-to: option 43 by hand in an if, filename and root-path at
 * class scope after it. dhcpd runs them after the branch: the SELECT
 * answers them (said), and a value after the branch overrides its own. */
START_TEST(test_find_class_scope_values_after_the_select_branch)
{
	const char *text =
		"class \"AppleNBI-i386\" {\n"
		"  match if substring (option vendor-class-identifier, 0, 14) = \"AAPLBSDPC/i386\";\n"
		"  if (option dhcp-message-type = 8) {\n"
		"    if (substring(option vendor-encapsulated-options, 0, 3) = 01:01:01) {\n"
		"      option vendor-encapsulated-options 01:01:01:07:04:81:00:05:2a:09:0D:81:00:05:2a:08:69:4E:65:74:42:6F:6F:74;\n"
		"    } else {\n"
		"      option vendor-encapsulated-options 01:01:02:08:04:81:00:05:2a;\n"
		"      filename \"old/booter\";\n"
		"    }\n"
		"  }\n"
		"  filename \"NetBoot/NetBootSP0/10.6.nbi/i386/booter\";\n"
		"  option root-path \"nfs:198.18.0.1:/private/tftpboot/NetBoot/NetBootSP0:10.6.nbi/NetBoot.dmg\";\n"
		"}\n";
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_ok(text, &conf);
	ck_assert_uint_eq(r->n_selects, 1);
	ck_assert_uint_eq(r->selects[0].image_id, 0x8100052a);
	ck_assert_str_eq(r->selects[0].filename, "NetBoot/NetBootSP0/10.6.nbi/i386/booter");
	ck_assert_str_eq(r->selects[0].root_path,
			 "nfs:198.18.0.1:/private/tftpboot/NetBoot/NetBootSP0:10.6.nbi/NetBoot.dmg");
	ck_assert(has_note(r, "t.conf:11: filename NetBoot/NetBootSP0/10.6.nbi/i386/booter follows the "
			      "SELECT branch of image 81:00:05:2A (t.conf:6) in its scope"));
	ck_assert(has_note(r, "t.conf:12: root-path nfs:"));
	free(r);
	dhcpd_conf_free(conf);
}
END_TEST

/* An option of the space with no value (fuzzing found it read past the
 * statement's tokens). */
START_TEST(test_find_option_without_value_refused)
{
	find_fails(SPACE_DECLS("option space BSDP;\n")
			   "class \"m\" {\n"
			   "  match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
			   "  option BSDP.message_type ;\n"
			   "}\n",
		   "t.conf:8: option BSDP.message_type: expected a number");
}
END_TEST

/* Two classes answering LIST with another priority, server identifier and
 * default: the hook has one of each; the first is kept and the other said
 * (the last used to win without a word). */
START_TEST(test_find_classes_that_disagree_on_one_value_said)
{
	const char *text = SPACE_DECLS("option space BSDP;\n")
		"option BSDP.server_identifier code 3 = ip-address;\n"
		"option BSDP.server_priority code 4 = unsigned integer 16;\n"
		"class \"ppc\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 13) = \"AAPLBSDPC/ppc\";\n"
		"  if option BSDP.message_type = 1 {\n"
		"    option BSDP.server_priority 100; option BSDP.server_identifier 198.18.0.1;\n"
		"    option BSDP.default_boot_image_id 01:00:00:01;\n"
		"    option BSDP.boot_image_list " TWO_IMAGES ";\n"
		"  }\n"
		"}\n"
		"class \"i386\" {\n"
		"  match if substring(option vendor-class-identifier, 0, 14) = \"AAPLBSDPC/i386\";\n"
		"  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		"    option vendor-encapsulated-options 01:01:01:03:04:c6:12:00:02:04:02:80:00:07:04:01:00:00:02:"
		"09:0d:" TWO_IMAGES ";\n"
		"  }\n"
		"}\n";
	struct dhcpd_conf *conf;
	struct bsdp_find_result *r = find_ok(text, &conf);
	ck_assert_uint_eq(r->priority, 100);
	ck_assert_str_eq(r->server_id, "198.18.0.1");
	ck_assert_uint_eq(r->default_id, 0x01000001);
	ck_assert(has_note(r, "t.conf:19: server priority 32768 here, 100 at t.conf:11: the hook has one "
			      "priority; 100 is kept"));
	ck_assert(has_note(r, "t.conf:19: server identifier 198.18.0.2 here, 198.18.0.1 at t.conf:11: "
			      "the hook has one; 198.18.0.1 is kept"));
	ck_assert(has_note(r, "t.conf:19: default image 01:00:00:02 here, 01:00:00:01 at t.conf:12: the "
			      "hook has one default (IsDefault); 01:00:00:01 is kept"));
	free(r);
	dhcpd_conf_free(conf);
}
END_TEST

START_TEST(test_find_select_without_image_or_host_without_mac_refused)
{
	find_fails(SPACE_DECLS("option space BSDP;\n")
			   "class \"m\" {\n"
			   "  match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
			   "  if option BSDP.message_type = 1 { option BSDP.boot_image_list " TWO_IMAGES "; }\n"
			   "  if option BSDP.message_type = 2 {\n    filename \"x\";\n  }\n"
			   "}\n",
		   "t.conf:9: SELECT branch names no image ID");
	find_fails(SPACE_DECLS("option space BSDP;\n") SPACE_CLASS(TWO_IMAGES, "01:00:00:02")
			   "host h {\n  option BSDP.selected_boot_image_id 01:00:00:01;\n}\n",
		   "t.conf:17: host h selects an image but has no hardware ethernet");
}
END_TEST

/* ---- broken BSDP ---------------------------------------------------------------- */

START_TEST(test_find_hex_list_lengths_that_do_not_add_up)
{
	/* "BC" announced as 3 bytes long */
	find_fails(SPACE_DECLS("option space BSDP;\n")
			   SPACE_CLASS("01:00:00:01:01:41:01:00:00:02:03:42:43", "01:00:00:02"),
		   "t.conf:10: option BSDP.boot_image_list: image 01:00:00:02 at byte 6 gives its "
		   "name 3 bytes, 2 follow: the lengths do not add up");
	/* over several lines with comments: the line of the description at fault */
	find_fails(SPACE_DECLS("option space BSDP;\n")
			   SPACE_CLASS("\n# image 1\n01:00:00:01:\n   # length\n   01:\n"
				       "   41 # A\n :   # image 2\n01 : 00 : 00:02:\n03:42:43 # BC\n",
				       "01:00:00:01"),
		   "t.conf:17: option BSDP.boot_image_list: image 01:00:00:02 at byte 6 gives its "
		   "name 3 bytes, 2 follow: the lengths do not add up");
	/* a name length one too long, not at the end: every later ID moves;
	 * the length at fault is named, on its own line */
	find_fails(SPACE_DECLS("option space BSDP;\n")
			   SPACE_CLASS("01:00:00:01:\n02:41:\n01:00:00:02:02:42:43", "01:00:00:02"),
		   "t.conf:11: option BSDP.boot_image_list: image 01:00:00:01 at byte 0 gives its "
		   "name 2 bytes; with 1 every description fits: the lengths do not add up");
	/* one too short: the next ID starts inside the name */
	find_fails(SPACE_DECLS("option space BSDP;\n")
			   SPACE_CLASS("01:00:00:01:01:41:42:01:00:00:02:02:43:44", "01:00:00:02"),
		   "t.conf:10: option BSDP.boot_image_list: image 01:00:00:01 at byte 0 gives its "
		   "name 1 bytes; with 2 every description fits: the lengths do not add up");
	/* a description cut inside its ID */
	find_fails(SPACE_DECLS("option space BSDP;\n")
			   SPACE_CLASS("01:00:00:01:01:41:\n01:00", "01:00:00:01"),
		   "t.conf:11: option BSDP.boot_image_list: 2 byte(s) left at byte 6, too few for an "
		   "image ID and a name length: the lengths do not add up");
	/* hand-built: sub-option 9 says 14 bytes, 13 follow (seed 000's list mistyped) */
	find_fails("class \"n\" {\n"
		   "  match if substring (option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
		   "  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		   "\n"
		   "    option vendor-encapsulated-options 01:01:01:04:02:80:00:07:04:81:00:00:89:"
		   "09:0e:81:00:00:89:08:45:53:58:69:20:36:2e:35;\n"
		   "  }\n"
		   "}\n",
		   "t.conf:5: vendor-encapsulated-options: sub-option 9 at byte 13 gives its length "
		   "14 bytes, 13 follow: the lengths do not add up");
	/* hand-built, a sub-option length before the last mistyped (NetSUS's
	 * template: its AFP shadow mount one byte short): that length is named */
	find_fails("class \"n\" {\n"
		   "  match if substring (option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
		   "  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		   "    option vendor-encapsulated-options 01:01:01:09:06:01:00:00:02:01:41;\n"
		   "  } else {\n"
		   "    option vendor-encapsulated-options 01:01:02:08:04:01:00:00:02:\n"
		   "      80:03:61:62:63:64:81:02:78:79;\n"
		   "  }\n"
		   "}\n",
		   "t.conf:7: vendor-encapsulated-options: sub-option 128 at byte 9 gives its length 3 "
		   "bytes; with 4 every sub-option fits: the lengths do not add up");
	/* hand-built, the list's own description at fault, its byte on its line */
	find_fails("class \"n\" {\n"
		   "  match if substring (option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
		   "  if substring(option vendor-encapsulated-options, 0, 3) = 01:01:01 {\n"
		   "    option vendor-encapsulated-options 01:01:01:09:07:\n"
		   "      01:00:00:02:05:41:42;\n"
		   "  }\n"
		   "}\n",
		   "t.conf:5: option vendor-encapsulated-options sub-option 9: image 01:00:00:02 at "
		   "byte 0 gives its name 5 bytes, 2 follow: the lengths do not add up");
	/* not hex at all */
	find_fails(SPACE_DECLS("option space BSDP;\n") SPACE_CLASS("01:00:zz", "01:00:00:02"),
		   "t.conf:10: option BSDP.boot_image_list: expected hex bytes (aa:bb:...)");
}
END_TEST

START_TEST(test_find_select_of_an_image_no_list_offers)
{
	find_fails(SPACE_DECLS("option space BSDP;\n") SPACE_CLASS(TWO_IMAGES, "01:00:00:03"),
		   "t.conf:12: SELECT branch for image 01:00:00:03, which no LIST offers");
	find_fails(SPACE_DECLS("option space BSDP;\n") SPACE_CLASS(TWO_IMAGES, "01:00:00:02")
			   "host h {\n  hardware ethernet 0:16:cb:0:0:9;\n"
			   "  option BSDP.selected_boot_image_id 01:00:00:09;\n}\n",
		   "t.conf:17: host h selects image 01:00:00:09, which no LIST offers");
}
END_TEST

START_TEST(test_find_bsdp_class_without_a_list)
{
	find_fails("\nclass \"x\" { match if option vendor-class-identifier = \"AAPLBSDPC/i386\"; }\n",
		   "t.conf:2: class x matches AAPLBSDPC/i386 but no LIST offers an image");
	find_fails(SPACE_DECLS("option space BSDP;\n")
			   "class \"x\" {\n match if substring(option vendor-class-identifier, 0, 9) = \"AAPLBSDPC\";\n"
			   " option BSDP.image_list 01;\n}\n",
		   "t.conf:8: option BSDP.image_list: no such option declared in BSDP");
}
END_TEST

static Suite *migrate_suite(void)
{
	Suite *s = suite_create("migrate");
	TCase *t = tcase_create("dhcpd_conf");
	tcase_add_test(t, test_conf_reads_comments_strings_and_escapes);
	tcase_add_test(t, test_conf_keeps_if_elsif_else_chains_with_conditions);
	tcase_add_loop_test(t, test_conf_broken_syntax_names_file_and_line, 0, LEN(broken_syntax));
	tcase_add_test(t, test_conf_nesting_is_bounded);
	tcase_add_test(t, test_conf_include_is_relative_to_the_including_file);
	tcase_add_test(t, test_conf_include_cycle_missing_and_depth_refused);
	suite_add_tcase(s, t);
	t = tcase_create("bsdp_find");
	tcase_add_test(t, test_find_seed003_shape);
	tcase_add_test(t, test_find_seed000_shape);
	tcase_add_test(t, test_find_no_bsdp_is_its_own_result);
	tcase_add_test(t, test_find_both_option_space_spellings);
	tcase_add_test(t, test_find_hex_with_line_breaks_and_comments_reads_the_same);
	tcase_add_test(t, test_find_through_includes_names_the_included_file);
	tcase_add_test(t, test_find_hand_built_select_by_option43_substring);
	tcase_add_test(t, test_find_ipxe_stage_by_option_175);
	tcase_add_test(t, test_find_variants_if_scope_hosts_by_hex_and_default);
	tcase_add_test(t, test_find_hosts_pinned_by_their_group);
	tcase_add_test(t, test_find_class_scope_values_after_the_select_branch);
	tcase_add_test(t, test_find_option_without_value_refused);
	tcase_add_test(t, test_find_classes_that_disagree_on_one_value_said);
	tcase_add_test(t, test_find_select_without_image_or_host_without_mac_refused);
	tcase_add_test(t, test_find_hex_list_lengths_that_do_not_add_up);
	tcase_add_test(t, test_find_select_of_an_image_no_list_offers);
	tcase_add_test(t, test_find_bsdp_class_without_a_list);
	tcase_add_test(t, test_find_says_when_dhcpd_answered_no_bsdp);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(migrate_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
