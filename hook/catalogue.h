/* SPDX-License-Identifier: MPL-2.0 */
/* The catalogue: an immutable snapshot of the NetBoot images served, plus
 * the sets that were skipped and why. Built off the packet path (plist/
 * fills it), read concurrently by packet threads, freed when the last
 * reference goes. */
#ifndef BSDP_CATALOGUE_H
#define BSDP_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bsdp_arch {
	BSDP_ARCH_PPC = 1u << 0,
	BSDP_ARCH_I386 = 1u << 1,
	BSDP_ARCH_ARM = 1u << 2,
};

enum bsdp_image_type {
	BSDP_TYPE_NFS = 1,
	BSDP_TYPE_HTTP,
	BSDP_TYPE_BOOTFILEONLY,
};

/* A diagnostic for operators: a skipped set or a warning about a served one. */
struct bsdp_diag {
	char *path;     /* the plist or set folder */
	char *reason;
};

struct bsdp_image {
	uint32_t id;                    /* full boot_image_id */
	uint16_t index;
	uint8_t kind;
	bool install;
	bool is_default;
	bool is_enabled;
	bool filter_only;
	bool supports_diskless;
	enum bsdp_image_type type;
	unsigned archs;                 /* enum bsdp_arch bits */
	char *name;                     /* UTF-8, cut to BSDP_NAME_MAX bytes */
	size_t name_len;
	char *set_dir;                  /* folder name, e.g. "Foo.nbi" */
	char *boot_file;                /* relative to <set>/<arch>/ */
	char *root_path;                /* relative to <set>/, or NULL (BootFileOnly) */
	char *chain_url;                /* our ChainURL extension, or NULL */
	uint32_t load_balance_server;   /* IPv4 host order, 0 = none */
	char **enabled_models;          /* EnabledSystemIdentifiers */
	size_t n_enabled_models;
	uint8_t (*enabled_macs)[6];
	size_t n_enabled_macs;
	uint8_t (*disabled_macs)[6];
	size_t n_disabled_macs;
	/* Set (reason not NULL) when the set folder no longer reads and this is
	 * its last good version, served on (plist/nbi_scan.h): the path and
	 * reason a skip would give, and since when it fails (seconds since the
	 * epoch). */
	struct bsdp_diag stale;
	int64_t stale_since;
};

struct bsdp_catalogue {
	struct bsdp_image *images;      /* in byte order of set folder name */
	size_t n_images;
	struct bsdp_diag *skipped;
	size_t n_skipped;
	struct bsdp_diag *warnings;
	size_t n_warnings;
	char *sets_directory;
};

struct bsdp_catalogue *bsdp_catalogue_new(const char *sets_directory);
void bsdp_catalogue_free(struct bsdp_catalogue *c);

/* Takes ownership of img's allocations on success (the struct is copied).
 * -EEXIST when an image with the same full id is present, -ENOMEM. */
int bsdp_catalogue_add(struct bsdp_catalogue *c, const struct bsdp_image *img);
/* Frees the allocations of an image that was not added. */
void bsdp_image_release(struct bsdp_image *img);
/* Deep copy of src into *dst (zeroed on failure): 0 or -ENOMEM. */
int bsdp_image_copy(struct bsdp_image *dst, const struct bsdp_image *src);
/* Records a skipped set or a warning (strings are copied). */
int bsdp_catalogue_skip(struct bsdp_catalogue *c, const char *path, const char *reason);
int bsdp_catalogue_warn(struct bsdp_catalogue *c, const char *path, const char *reason);

const struct bsdp_image *bsdp_catalogue_find(const struct bsdp_catalogue *c, uint32_t id);

/* The one rule for a RootPath, shared by the scan and the responder: true
 * for a URL sent to the client as written (a scheme then "://", such as
 * http:// or https://, or Apple's nfs:<host>:<export>:<path>), false for a
 * path relative to the set folder, which the scan checks and the responder
 * turns into a URL. */
bool bsdp_root_path_is_url(const char *root_path);

/* 0..15 for a hex digit of either case, else -1 (MACs, URLs, hex bytes). */
int bsdp_hex_digit(char ch);

/* "ppc", "i386", "arm" -> bit; 0 when unknown. */
unsigned bsdp_arch_from_name(const char *name, size_t len);
const char *bsdp_arch_name(unsigned arch_bit);
const char *bsdp_image_type_name(enum bsdp_image_type type);

/* Parses a MAC written with ':' or '-' separators, 1 or 2 hex digits a
 * group, either case. Returns 0 or -EINVAL. */
int bsdp_mac_parse(const char *s, size_t len, uint8_t ret_mac[6]);

#ifdef __cplusplus
}
#endif
#endif
