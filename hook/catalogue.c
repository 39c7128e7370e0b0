/* SPDX-License-Identifier: MPL-2.0 */
/* The catalogue: a growable array of images and two of diagnostics, filled
 * once by plist/ and then only read. Pure C11, no logging. */
#include "catalogue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *dup_str(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Makes room for one more element of `size` bytes in *arr, which holds n.
 * The capacity is implied by n (4, then doubled each time n reaches a power
 * of two), so the structs need no capacity field. */
static int grow(void **arr, size_t n, size_t size)
{
	size_t cap;
	void *p;

	if (n == 0)
		cap = 4;
	else if (n >= 4 && (n & (n - 1)) == 0)
		cap = n * 2;
	else
		return 0;
	if (cap > SIZE_MAX / size)
		return -ENOMEM;
	p = realloc(*arr, cap * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	return 0;
}

struct bsdp_catalogue *bsdp_catalogue_new(const char *sets_directory)
{
	struct bsdp_catalogue *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (sets_directory) {
		c->sets_directory = dup_str(sets_directory);
		if (!c->sets_directory) {
			free(c);
			return NULL;
		}
	}
	return c;
}

void bsdp_image_release(struct bsdp_image *img)
{
	size_t i;

	if (!img)
		return;
	free(img->name);
	free(img->set_dir);
	free(img->boot_file);
	free(img->root_path);
	free(img->chain_url);
	for (i = 0; i < img->n_enabled_models; i++)
		free(img->enabled_models[i]);
	free(img->enabled_models);
	free(img->enabled_macs);
	free(img->disabled_macs);
	free(img->stale.path);
	free(img->stale.reason);
	memset(img, 0, sizeof(*img));
}

/* A copy of the n bytes at src, or NULL for a NULL src. Once *ok is false
 * (out of memory here or in an earlier call) it copies nothing more. */
static void *copy_mem(const void *src, size_t n, bool *ok)
{
	void *d;

	if (!src || !*ok)
		return NULL;
	d = malloc(n ? n : 1);
	if (!d) {
		*ok = false;
		return NULL;
	}
	if (n)
		memcpy(d, src, n);
	return d;
}

static size_t str_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

int bsdp_image_copy(struct bsdp_image *dst, const struct bsdp_image *src)
{
	struct bsdp_image d = *src;
	bool ok = true;
	size_t i;

	/* Every pointer is replaced by its copy (or NULL): a failure midway
	 * leaves d owning what it holds, for bsdp_image_release. */
	d.name = copy_mem(src->name, src->name_len + 1, &ok);
	d.set_dir = copy_mem(src->set_dir, str_size(src->set_dir), &ok);
	d.boot_file = copy_mem(src->boot_file, str_size(src->boot_file), &ok);
	d.root_path = copy_mem(src->root_path, str_size(src->root_path), &ok);
	d.chain_url = copy_mem(src->chain_url, str_size(src->chain_url), &ok);
	d.enabled_macs = copy_mem(src->enabled_macs,
				  src->n_enabled_macs * sizeof(*src->enabled_macs), &ok);
	d.disabled_macs = copy_mem(src->disabled_macs,
				   src->n_disabled_macs * sizeof(*src->disabled_macs), &ok);
	d.stale.path = copy_mem(src->stale.path, str_size(src->stale.path), &ok);
	d.stale.reason = copy_mem(src->stale.reason, str_size(src->stale.reason), &ok);
	d.enabled_models = NULL;
	d.n_enabled_models = 0;
	if (ok && src->n_enabled_models) {
		d.enabled_models = calloc(src->n_enabled_models, sizeof(char *));
		ok = d.enabled_models != NULL;
		for (i = 0; ok && i < src->n_enabled_models; i++) {
			d.enabled_models[i] = copy_mem(src->enabled_models[i],
						       str_size(src->enabled_models[i]), &ok);
			d.n_enabled_models = i + 1;
		}
	}
	if (!ok) {
		bsdp_image_release(&d);
		memset(dst, 0, sizeof(*dst));
		return -ENOMEM;
	}
	*dst = d;
	return 0;
}

static void free_diags(struct bsdp_diag *d, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(d[i].path);
		free(d[i].reason);
	}
	free(d);
}

void bsdp_catalogue_free(struct bsdp_catalogue *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->n_images; i++)
		bsdp_image_release(&c->images[i]);
	free(c->images);
	free_diags(c->skipped, c->n_skipped);
	free_diags(c->warnings, c->n_warnings);
	free(c->sets_directory);
	free(c);
}

const struct bsdp_image *bsdp_catalogue_find(const struct bsdp_catalogue *c, uint32_t id)
{
	size_t i;

	if (!c)
		return NULL;
	/* Catalogues hold tens of images; a scan beats keeping an index. */
	for (i = 0; i < c->n_images; i++)
		if (c->images[i].id == id)
			return &c->images[i];
	return NULL;
}

int bsdp_catalogue_add(struct bsdp_catalogue *c, const struct bsdp_image *img)
{
	void *arr;
	int r;

	if (!c || !img)
		return -EINVAL;
	if (bsdp_catalogue_find(c, img->id))
		return -EEXIST;
	arr = c->images;
	r = grow(&arr, c->n_images, sizeof(*c->images));
	if (r < 0)
		return r;
	c->images = arr;
	c->images[c->n_images++] = *img;
	return 0;
}

bool bsdp_root_path_is_url(const char *s)
{
	size_t n = 0;

	/* RFC 3986: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
	if (!s || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	       (s[n] >= '0' && s[n] <= '9') || s[n] == '+' || s[n] == '-' || s[n] == '.')
		n++;
	if (s[n] != ':')
		return false;
	/* Apple's NFS form has no "//"; any other scheme needs it, so a file
	 * named "a:b.dmg" stays a file. */
	return strncmp(s + n + 1, "//", 2) == 0 || (n == 3 && strncasecmp(s, "nfs", 3) == 0);
}

static int add_diag(struct bsdp_diag **list, size_t *n, const char *path, const char *reason)
{
	struct bsdp_diag d;
	void *arr = *list;
	int r;

	d.path = dup_str(path);
	d.reason = dup_str(reason);
	r = d.path && d.reason ? grow(&arr, *n, sizeof(**list)) : -ENOMEM;
	if (r < 0) {
		free(d.path);
		free(d.reason);
		return r;
	}
	*list = arr;
	(*list)[(*n)++] = d;
	return 0;
}

int bsdp_catalogue_skip(struct bsdp_catalogue *c, const char *path, const char *reason)
{
	if (!c)
		return -EINVAL;
	return add_diag(&c->skipped, &c->n_skipped, path, reason);
}

int bsdp_catalogue_warn(struct bsdp_catalogue *c, const char *path, const char *reason)
{
	if (!c)
		return -EINVAL;
	return add_diag(&c->warnings, &c->n_warnings, path, reason);
}

static const struct {
	const char *name;
	unsigned bit;
} arch_names[] = {
	{ "ppc", BSDP_ARCH_PPC },
	{ "i386", BSDP_ARCH_I386 },
	{ "arm", BSDP_ARCH_ARM },
};

unsigned bsdp_arch_from_name(const char *name, size_t len)
{
	size_t i;

	if (!name)
		return 0;
	for (i = 0; i < sizeof(arch_names) / sizeof(arch_names[0]); i++)
		if (strlen(arch_names[i].name) == len && memcmp(arch_names[i].name, name, len) == 0)
			return arch_names[i].bit;
	return 0;
}

const char *bsdp_arch_name(unsigned arch_bit)
{
	size_t i;

	for (i = 0; i < sizeof(arch_names) / sizeof(arch_names[0]); i++)
		if (arch_names[i].bit == arch_bit)
			return arch_names[i].name;
	return "unknown";
}

const char *bsdp_image_type_name(enum bsdp_image_type type)
{
	switch (type) {
	case BSDP_TYPE_NFS:
		return "NFS";
	case BSDP_TYPE_HTTP:
		return "HTTP";
	case BSDP_TYPE_BOOTFILEONLY:
		return "BootFileOnly";
	}
	return "unknown";
}

int bsdp_hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int bsdp_mac_parse(const char *s, size_t len, uint8_t ret_mac[6])
{
	uint8_t mac[6];
	char sep = 0;
	size_t at = 0;
	int g;

	if (!s || !ret_mac)
		return -EINVAL;
	for (g = 0; g < 6; g++) {
		unsigned v = 0;
		size_t digits = 0;
		int h;

		if (g > 0) {
			if (at >= len || (s[at] != ':' && s[at] != '-'))
				return -EINVAL;
			/* One separator throughout: a mix is more likely a typo. */
			if (sep && s[at] != sep)
				return -EINVAL;
			sep = s[at++];
		}
		while (at < len && digits < 2 && (h = bsdp_hex_digit(s[at])) >= 0) {
			v = v * 16 + (unsigned)h;
			digits++;
			at++;
		}
		if (digits == 0)
			return -EINVAL;
		mac[g] = (uint8_t)v;
	}
	if (at != len)
		return -EINVAL;
	memcpy(ret_mac, mac, sizeof(mac));
	return 0;
}
