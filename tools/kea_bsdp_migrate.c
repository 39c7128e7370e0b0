/* SPDX-License-Identifier: MPL-2.0 */
/* kea-bsdp-migrate: reads an ISC dhcpd.conf and prints the NetBoot (BSDP)
 * configuration found in it, with every guess said out loud. It changes
 * nothing on disk. Writing the Kea side comes later (issue 21). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/migrate/bsdp_find.h"
#include "tools/migrate/dhcpd_conf.h"

enum { EXIT_FOUND = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_NO_BSDP = 3 };

static const char usage_text[] =
	"usage: kea-bsdp-migrate [-h] DHCPD_CONF\n"
	"Reads an ISC dhcpd.conf (and its includes) and prints the NetBoot (BSDP)\n"
	"configuration found in it: the classes matching AAPLBSDPC, every image\n"
	"(ID, index, kind, install flag, name), per SELECT branch the next-server,\n"
	"filename, root-path and machine name, hosts pinned to an image, the iPXE\n"
	"stage, the default image and the server priority. Every guess is printed\n"
	"as a note. Nothing is written.\n"
	"\n"
	"  -h, --help   this text\n"
	"\n"
	"Exit status: 0 BSDP found, 1 the file is broken (message with file:line),\n"
	"2 usage, 3 no BSDP configuration in the file.\n";

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
	for (size_t i = 0; i < r->n_notes; i++)
		printf("note: %s\n", r->notes[i]);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage_text, stdout);
			return EXIT_FOUND;
		}
		fprintf(stderr, "kea-bsdp-migrate: unknown option %s\n%s", argv[optind - 1],
			usage_text);
		return EXIT_USAGE;
	}
	if (argc - optind != 1) {
		fprintf(stderr, "kea-bsdp-migrate: one dhcpd.conf expected\n%s", usage_text);
		return EXIT_USAGE;
	}
	char err[DHCPD_CONF_ERR_MAX];
	struct dhcpd_conf *conf;
	if (dhcpd_conf_load(argv[optind], &conf, err, sizeof(err)) < 0) {
		fprintf(stderr, "kea-bsdp-migrate: %s\n", err);
		return EXIT_ERROR;
	}
	struct bsdp_find_result *res = malloc(sizeof(*res));
	if (!res) {
		dhcpd_conf_free(conf);
		fprintf(stderr, "kea-bsdp-migrate: out of memory\n");
		return EXIT_ERROR;
	}
	int r = bsdp_find(conf, res, err, sizeof(err));
	int status = EXIT_FOUND;
	if (r == -ENOENT) {
		printf("%s: no BSDP configuration (no class or condition matches AAPLBSDPC)\n",
		       argv[optind]);
		status = EXIT_NO_BSDP;
	} else if (r < 0) {
		fprintf(stderr, "kea-bsdp-migrate: %s\n", err);
		status = EXIT_ERROR;
	} else {
		print_result(res);
	}
	free(res);
	dhcpd_conf_free(conf);
	return status;
}
