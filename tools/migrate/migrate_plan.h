/* SPDX-License-Identifier: MPL-2.0 */
/* What the BSDP configuration found in a dhcpd.conf (bsdp_find.h) becomes
 * on Kea's side: the hook's parameters, one NetBoot set per image (folder,
 * booter, architectures, Type, RootPath, ChainURL), the pins, and every
 * part that cannot carry over, each with what to do. Every guess is a note.
 * No I/O: migrate_sets.h matches and writes sets, migrate_kea.h writes
 * the Kea fragment. */
#ifndef BSDP_MIGRATE_PLAN_H
#define BSDP_MIGRATE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hook/catalogue.h"
#include "tools/migrate/bsdp_find.h"
#include "tools/migrate/dhcpd_conf.h"

#define MIGRATE_TEXT_MAX 512
#define MIGRATE_LINES_MAX 256
#define MIGRATE_SET_DIR_MAX 120   /* plist/nbi_scan.c: a longer folder is never served */
#define MIGRATE_URL_MAX 256

struct migrate_image {
	uint32_t id;
	uint16_t index;
	uint8_t kind;
	bool install;
	char name[BSDP_NAME_MAX + 1];
	char set_dir[MIGRATE_SET_DIR_MAX + 1];  /* "Foo.nbi" */
	char boot_file[256];                    /* relative to <set>/<arch>/ */
	bool boot_file_known;                   /* from a SELECT branch's filename */
	unsigned archs;                         /* enum bsdp_arch bits */
	enum bsdp_image_type type;
	char root_path[BSDP_FIND_PATH_LEN];     /* relative to the set, or a URL; "" for BootFileOnly */
	char chain_url[BSDP_FIND_PATH_LEN];     /* "" when none */
	bool is_default;
	/* What dhcpd answers: the first SELECT branch for this image, or NULL. */
	const struct bsdp_find_select *select;
};

struct migrate_pin {
	char mac[18];
	char hostname[BSDP_FIND_NAME_LEN];
	uint16_t index;
	struct bsdp_find_where at;
};

struct migrate_plan {
	/* The hook's parameters ("" / false when left to its default). */
	char server_address[64];
	char tftp_path_prefix[128];
	char http_url[MIGRATE_URL_MAX];
	char nfs_url[MIGRATE_URL_MAX];
	bool has_priority;
	uint16_t priority;

	size_t n_images;
	struct migrate_image images[BSDP_FIND_IMAGES_MAX];
	size_t n_pins;
	struct migrate_pin pins[BSDP_FIND_HOSTS_MAX];

	/* "file:line: what it is; what to do", printed after "cannot carry over: ". */
	size_t n_cannot;
	char cannot[MIGRATE_LINES_MAX][MIGRATE_TEXT_MAX];
	/* Guesses, printed after "note: " (bsdp_find's own notes come first). */
	size_t n_notes;
	char notes[MIGRATE_LINES_MAX][MIGRATE_TEXT_MAX];
};

/* Fills *ret (large: allocate it) from what bsdp_find found in conf. It
 * points into found and conf: keep both. Never fails. */
void migrate_plan_make(const struct dhcpd_conf *conf, const struct bsdp_find_result *found,
		       struct migrate_plan *ret);

/* "01:00:00:7B". */
void migrate_id_text(uint32_t id, char buf[12]);

#endif
