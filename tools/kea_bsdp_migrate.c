/* SPDX-License-Identifier: MPL-2.0 */
/* kea-bsdp-migrate: reads an ISC dhcpd.conf, prints the NetBoot (BSDP)
 * configuration found in it and what it becomes on Kea's side, matches it
 * against the sets on disk, and on request writes the missing sets and the
 * Kea fragment. Every guess is said out loud; nothing is written unless
 * asked, never over an existing file, and nothing at all when the input
 * is broken. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plist/nbi_scan.h"
#include "tools/migrate/bsdp_find.h"
#include "tools/migrate/dhcpd_conf.h"
#include "tools/migrate/migrate_kea.h"
#include "tools/migrate/migrate_plan.h"
#include "tools/migrate/migrate_sets.h"

/* Where `make install` puts the hook (HOOKS_DIR), for the fragment. */
#ifndef BSDP_HOOKS_DIR
#define BSDP_HOOKS_DIR "/usr/lib/x86_64-linux-gnu/kea/hooks"
#endif
#define DEFAULT_LIBRARY BSDP_HOOKS_DIR "/libdhcp_bsdp.so"
#define PLACEHOLDER_SETS_DIRECTORY "/srv/netboot/sets"

enum { EXIT_FOUND = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_NO_BSDP = 3 };

static const char usage_text[] =
	"usage: kea-bsdp-migrate [--sets-directory DIR] [--write-sets] [--kea-config FILE]\n"
	"                        [--library PATH] DHCPD_CONF\n"
	"Reads an ISC dhcpd.conf (and its includes), prints the NetBoot (BSDP)\n"
	"configuration found in it (classes matching AAPLBSDPC, images, SELECT\n"
	"branches, pinned hosts, the iPXE stage) and the kea-bsdp parameters, sets\n"
	"and pins that give the same answers. Every part that cannot carry over is\n"
	"a 'cannot carry over:' line, every guess a 'note:' line. Without options\n"
	"nothing is written.\n"
	"\n"
	"  --sets-directory DIR  match each image by image ID with the sets in DIR\n"
	"                        (read as the hook reads them) and say what differs\n"
	"  --write-sets          write DIR/<set>.nbi/NBImageInfo.plist for each image\n"
	"                        without a set, then say what to copy where\n"
	"  --kea-config FILE     write the Kea fragment (hooks-libraries entry and\n"
	"                        reservations) to FILE, which must not exist\n"
	"  --library PATH        the library path in the fragment (default\n"
	"                        " DEFAULT_LIBRARY ")\n"
	"  -h, --help            this text\n"
	"\n"
	"Exit status: 0 BSDP found, 1 the file is broken (message with file:line,\n"
	"nothing written) or a file could not be written, 2 usage, 3 no BSDP\n"
	"configuration in the file.\n";

static const char *kind_name(unsigned kind)
{
	switch (kind) {
	case 0: return "Mac OS 9";
	case 1: return "Mac OS X";
	case 2: return "Mac OS X Server";
	case 3: return "Hardware Diagnostics";
	default: return "reserved";
	}
}

static void id_str(uint32_t id, char buf[12])
{
	snprintf(buf, 12, "%02X:%02X:%02X:%02X", id >> 24, (id >> 16) & 0xff, (id >> 8) & 0xff,
		 id & 0xff);
}

static void print_result(const struct bsdp_find_result *r)
{
	char ids[12];
	if (r->space[0])
		printf("option space: %s (%s:%u)%s\n", r->space, r->space_at.file, r->space_at.line,
		       r->space_old_form ? ", code/length width form" : "");
	for (size_t i = 0; i < r->n_classes; i++) {
		const struct bsdp_find_class *k = &r->classes[i];
		printf("class \"%s\" (%s:%u): matches \"%s\", arch %s, option 43 %s\n", k->name,
		       k->at.file, k->at.line, k->match, k->arch[0] ? k->arch : "any",
		       k->hand_built ? "hand-built hex" : "from the option space");
	}
	printf("images: %zu\n", r->n_images);
	for (size_t i = 0; i < r->n_images; i++) {
		const struct bsdp_find_image *im = &r->images[i];
		id_str(im->id, ids);
		printf("  image %s index %u kind %u (%s) install %s name \"%s\" (%s:%u)\n", ids,
		       BSDP_IMAGE_ID_INDEX(im->id), BSDP_IMAGE_ID_KIND(im->id),
		       kind_name(BSDP_IMAGE_ID_KIND(im->id)), BSDP_IMAGE_ID_INSTALL(im->id) ? "yes" : "no",
		       im->name, im->at.file, im->at.line);
		printf("    listed by:");
		for (size_t k = 0; k < r->n_classes; k++)
			if (im->classes & (1u << k))
				printf(" \"%s\" (arch %s)", r->classes[k].name,
				       r->classes[k].arch[0] ? r->classes[k].arch : "any");
		printf("\n");
	}
	if (r->has_default) {
		id_str(r->default_id, ids);
		printf("default image: %s (%s:%u)\n", ids, r->default_at.file, r->default_at.line);
	}
	if (r->has_list_selected) {
		id_str(r->list_selected_id, ids);
		printf("selected image in every LIST: %s\n", ids);
	}
	if (r->has_priority)
		printf("server priority: %u\n", r->priority);
	if (r->has_server_id)
		printf("server identifier: %s\n", r->server_id);
	for (size_t i = 0; i < r->n_selects; i++) {
		const struct bsdp_find_select *s = &r->selects[i];
		id_str(s->image_id, ids);
		printf("select %s (class \"%s\", %s:%u):\n", ids, r->classes[s->class_idx].name,
		       s->at.file, s->at.line);
		printf("  next-server: %s\n", s->next_server[0] ? s->next_server : "(not set)");
		printf("  filename: %s\n", s->filename[0] ? s->filename : "(not set)");
		printf("  root-path: %s\n", s->root_path[0] ? s->root_path : "(not set)");
		printf("  machine name: %s\n", s->machine_name[0] ? s->machine_name : "(not set)");
	}
	for (size_t i = 0; i < r->n_hosts; i++) {
		id_str(r->hosts[i].image_id, ids);
		printf("host %s %s: image %s (%s:%u)\n", r->hosts[i].name, r->hosts[i].mac, ids,
		       r->hosts[i].at.file, r->hosts[i].at.line);
	}
	if (r->has_ipxe)
		printf("iPXE stage (%s, %s:%u): %s\n", r->ipxe_how, r->ipxe_at.file, r->ipxe_at.line,
		       r->ipxe_boot_file);
	if (r->deny_unknown)
		printf("unknown clients denied (%s:%u)\n", r->deny_unknown_at.file,
		       r->deny_unknown_at.line);
}

static void print_plan(const struct migrate_plan *p, const char *sets_directory)
{
	printf("kea-bsdp parameters:\n");
	printf("  sets-directory: %s\n", sets_directory);
	printf("  server-address: %s\n", p->server_address[0] ? p->server_address
							      : "(left out: the receiving interface's)");
	printf("  tftp-path-prefix: \"%s\"\n", p->tftp_path_prefix);
	printf("  http-url: %s\n", p->http_url[0] ? p->http_url : "(left out)");
	printf("  nfs-url: %s\n", p->nfs_url[0] ? p->nfs_url : "(left out)");
	if (p->has_priority)
		printf("  server-priority: %u\n", p->priority);
	for (size_t i = 0; i < p->n_images; i++) {
		const struct migrate_image *im = &p->images[i];
		char ids[12];
		migrate_id_text(im->id, ids);
		printf("set for image %s: %s, BootFile %s, Architectures", ids, im->set_dir,
		       im->boot_file);
		for (unsigned bit = 1; bit <= BSDP_ARCH_ARM; bit <<= 1)
			if (im->archs & bit)
				printf(" %s", bsdp_arch_name(bit));
		printf(", Type %s", bsdp_image_type_name(im->type));
		if (im->root_path[0])
			printf(", RootPath %s", im->root_path);
		if (im->chain_url[0])
			printf(", ChainURL %s", im->chain_url);
		printf("%s\n", im->is_default ? ", IsDefault" : "");
	}
	for (size_t i = 0; i < p->n_pins; i++)
		printf("reservation: %s hostname %s bsdp-image %u (%s:%u)\n", p->pins[i].mac,
		       p->pins[i].hostname, p->pins[i].index, p->pins[i].at.file, p->pins[i].at.line);
}

struct options {
	const char *sets_directory;
	bool write_sets;
	const char *kea_config;
	const char *library;
	const char *conf;
};

/* 0, or the exit status of a usage error (printed). */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_SETS = 256, OPT_WRITE, OPT_KEA, OPT_LIBRARY };
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "sets-directory", required_argument, NULL, OPT_SETS },
		{ "write-sets", no_argument, NULL, OPT_WRITE },
		{ "kea-config", required_argument, NULL, OPT_KEA },
		{ "library", required_argument, NULL, OPT_LIBRARY },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	opterr = 0;
	*o = (struct options){ .library = DEFAULT_LIBRARY };
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(usage_text, stdout);
			exit(EXIT_FOUND);
		case OPT_SETS: o->sets_directory = optarg; break;
		case OPT_WRITE: o->write_sets = true; break;
		case OPT_KEA: o->kea_config = optarg; break;
		case OPT_LIBRARY: o->library = optarg; break;
		default:
			fprintf(stderr, "kea-bsdp-migrate: unknown option or missing value: %s\n%s",
				argv[optind - 1], usage_text);
			return EXIT_USAGE;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "kea-bsdp-migrate: one dhcpd.conf expected\n%s", usage_text);
		return EXIT_USAGE;
	}
	if (o->write_sets && !o->sets_directory) {
		fprintf(stderr, "kea-bsdp-migrate: --write-sets needs --sets-directory\n%s",
			usage_text);
		return EXIT_USAGE;
	}
	if ((o->sets_directory && !o->sets_directory[0]) || (o->kea_config && !o->kea_config[0]) ||
	    !o->library[0]) {
		fprintf(stderr, "kea-bsdp-migrate: an option's value is empty\n%s", usage_text);
		return EXIT_USAGE;
	}
	o->conf = argv[optind];
	return 0;
}

/* The fragment goes to a new file only (O_EXCL), created before any set is
 * written: a --kea-config that cannot be created leaves the sets alone. */
static FILE *create_kea_config(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		fprintf(stderr, "kea-bsdp-migrate: cannot create %s: %s\n", path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
	}
	return f;
}

/* Closes f; the file is removed again when nothing (ok false) or not all
 * of it could be written. */
static int finish_kea_config(FILE *f, const char *path, bool ok, const struct migrate_plan *p,
			     const char *sets_directory, const char *library)
{
	int r = ok ? migrate_kea_write(f, p, sets_directory, library) : -1;
	if (fclose(f) != 0 || r < 0) {
		if (ok)
			fprintf(stderr, "kea-bsdp-migrate: cannot write %s\n", path);
		unlink(path);
		return -1;
	}
	printf("wrote %s (merge it into kea-dhcp4.conf: see docs/migrating.md)\n", path);
	return 0;
}

/* Everything that writes runs only after the input read whole and right. */
static int migrate(const struct options *o, const struct dhcpd_conf *conf,
		   const struct bsdp_find_result *res, struct migrate_plan *plan)
{
	char dir[PATH_MAX];
	const char *sets_directory = PLACEHOLDER_SETS_DIRECTORY;
	struct bsdp_catalogue *cat = NULL;
	int status = EXIT_FOUND;
	if (o->sets_directory) {
		struct stat st;
		errno = 0;
		if (!realpath(o->sets_directory, dir) || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
			fprintf(stderr, "kea-bsdp-migrate: --sets-directory %s: %s\n", o->sets_directory,
				errno ? strerror(errno) : "not a folder");
			return EXIT_ERROR;
		}
		sets_directory = dir;
		struct bsdp_scan_options so = { .nfs_available = true };
		int err = 0;
		cat = bsdp_nbi_scan(dir, &so, &err);
		if (!cat) {
			fprintf(stderr, "kea-bsdp-migrate: cannot read %s: %s\n", dir, strerror(-err));
			return EXIT_ERROR;
		}
	}
	FILE *fragment = NULL;
	if (o->kea_config && !(fragment = create_kea_config(o->kea_config))) {
		bsdp_catalogue_free(cat);
		return EXIT_ERROR;
	}
	migrate_plan_make(conf, res, plan);
	print_plan(plan, sets_directory);
	if (!o->sets_directory)
		printf("note: sets-directory %s is a placeholder: give --sets-directory to match "
		       "and write the sets where they are\n", PLACEHOLDER_SETS_DIRECTORY);
	if (cat) {
		size_t missing = migrate_sets_report(stdout, plan, res, dir, cat);
		if (missing && !o->write_sets)
			printf("note: %zu image(s) have no set: --write-sets writes their "
			       "NBImageInfo.plist\n", missing);
		if (o->write_sets && migrate_sets_write(stdout, plan, res, dir, cat) < 0)
			status = EXIT_ERROR;
		bsdp_catalogue_free(cat);
	}
	if (fragment && finish_kea_config(fragment, o->kea_config, status == EXIT_FOUND, plan,
					  sets_directory, o->library) < 0)
		status = EXIT_ERROR;
	for (size_t i = 0; i < plan->n_cannot; i++)
		printf("cannot carry over: %s\n", plan->cannot[i]);
	for (size_t i = 0; i < res->n_notes; i++)
		printf("note: %s\n", res->notes[i]);
	for (size_t i = 0; i < plan->n_notes; i++)
		printf("note: %s\n", plan->notes[i]);
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	int status = parse_options(argc, argv, &o);
	if (status)
		return status;
	struct stat st;
	if (o.kea_config && lstat(o.kea_config, &st) == 0) {
		fprintf(stderr, "kea-bsdp-migrate: --kea-config %s exists: it is never overwritten\n",
			o.kea_config);
		return EXIT_ERROR;
	}
	char err[DHCPD_CONF_ERR_MAX];
	struct dhcpd_conf *conf;
	if (dhcpd_conf_load(o.conf, &conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "kea-bsdp-migrate: %s\n", err);
		return EXIT_ERROR;
	}
	struct bsdp_find_result *res = malloc(sizeof(*res));
	struct migrate_plan *plan = malloc(sizeof(*plan));
	int r = res && plan ? bsdp_find(conf, res, err, sizeof(err)) : -ENOMEM;
	if (r == -ENOENT) {
		printf("%s: no BSDP configuration (no class or condition matches AAPLBSDPC)\n",
		       o.conf);
		status = EXIT_NO_BSDP;
	} else if (r < 0) {
		fprintf(stderr, "kea-bsdp-migrate: %s\n", r == -ENOMEM ? "out of memory" : err);
		status = EXIT_ERROR;
	} else {
		print_result(res);
		status = migrate(&o, conf, res, plan);
	}
	free(plan);
	free(res);
	dhcpd_conf_free(conf);
	return status;
}
