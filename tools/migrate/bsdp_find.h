/* SPDX-License-Identifier: MPL-2.0 */
/* Finds the NetBoot (BSDP) configuration in a parsed dhcpd.conf: the
 * classes matching AAPLBSDPC, their LIST and SELECT branches (by the BSDP
 * option space or by hand-built option 43 bytes), the image list, default,
 * priority, server identifier, per-image boot file and root path, hosts
 * pinned to an image, deny of unknown clients, and the iPXE stage. Every
 * assumption it makes is returned as a note for the operator. */
#ifndef BSDP_FIND_H
#define BSDP_FIND_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hook/bsdp_codec.h"
#include "tools/migrate/dhcpd_conf.h"

#define BSDP_FIND_CLASSES_MAX 32
#define BSDP_FIND_IMAGES_MAX 256
#define BSDP_FIND_SELECTS_MAX 256
#define BSDP_FIND_HOSTS_MAX 1024
#define BSDP_FIND_NOTES_MAX 128
#define BSDP_FIND_NOTE_LEN 384
#define BSDP_FIND_PATH_LEN 1024
#define BSDP_FIND_NAME_LEN 128

/* Where something was found; file points into the dhcpd_conf. */
struct bsdp_find_where {
	const char *file;
	unsigned line;
};

struct bsdp_find_class {
	char name[BSDP_FIND_NAME_LEN];
	char match[BSDP_FIND_NAME_LEN];  /* the AAPLBSDPC string matched */
	char arch[BSDP_ARCH_MAX + 1];    /* "" when the match covers every arch */
	bool hand_built;                 /* option 43 written as hex */
	struct bsdp_find_where at;
};

struct bsdp_find_image {
	uint32_t id;
	char name[BSDP_NAME_MAX + 1];
	size_t name_len;
	uint32_t classes;                /* bit i: offered by classes[i]'s LIST */
	struct bsdp_find_where at;
};

struct bsdp_find_select {
	uint32_t image_id;
	size_t class_idx;
	char next_server[64];
	char filename[256];
	char root_path[BSDP_FIND_PATH_LEN];
	char machine_name[256];
	struct bsdp_find_where at;
};

struct bsdp_find_host {
	char name[BSDP_FIND_NAME_LEN];
	char mac[18];                    /* aa:bb:cc:dd:ee:ff, "" when none */
	uint32_t image_id;
	struct bsdp_find_where at;
};

struct bsdp_find_result {
	char space[64];                  /* the BSDP option space, "" when none */
	bool space_old_form;             /* option space X code width 1 length width 1 */
	struct bsdp_find_where space_at;

	size_t n_classes;
	struct bsdp_find_class classes[BSDP_FIND_CLASSES_MAX];
	size_t n_images;                 /* in list order, first LIST first */
	struct bsdp_find_image images[BSDP_FIND_IMAGES_MAX];

	bool has_default;
	uint32_t default_id;
	struct bsdp_find_where default_at;
	bool has_list_selected;          /* a static selected id in ACK[LIST] */
	uint32_t list_selected_id;
	bool has_priority;
	uint16_t priority;
	struct bsdp_find_where priority_at;
	bool has_server_id;
	char server_id[64];
	struct bsdp_find_where server_id_at;

	size_t n_selects;
	struct bsdp_find_select selects[BSDP_FIND_SELECTS_MAX];
	size_t n_hosts;
	struct bsdp_find_host hosts[BSDP_FIND_HOSTS_MAX];

	bool has_ipxe;
	char ipxe_boot_file[BSDP_FIND_PATH_LEN];
	char ipxe_how[64];               /* "user-class iPXE" or "option 175" */
	struct bsdp_find_where ipxe_at;

	bool deny_unknown;
	struct bsdp_find_where deny_unknown_at;

	bool has_shadow;                 /* an AFP shadow mount (sub-options 128, 129) */
	char shadow_mount[BSDP_FIND_NAME_LEN];
	struct bsdp_find_where shadow_at;

	size_t n_notes;                  /* guesses and what was left aside */
	char notes[BSDP_FIND_NOTES_MAX][BSDP_FIND_NOTE_LEN];
};

/* "file:line: " (when file is not NULL) and the formatted message into
 * buf, cut to size; shared by every message that names where. */
void bsdp_find_vformat(char *buf, size_t size, const char *file, unsigned line, const char *fmt,
		       va_list ap);

/* 0 when BSDP was found (*ret filled), -ENOENT when the configuration has
 * no BSDP at all, -EINVAL with "file:line: message" in err when it is
 * broken. ret is large: allocate it. It points into conf: keep conf. */
int bsdp_find(const struct dhcpd_conf *conf, struct bsdp_find_result *ret, char *err,
	      size_t err_size);

#endif
