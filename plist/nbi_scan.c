/* SPDX-License-Identifier: MPL-2.0 */
/* NetBoot set scanning (docs/bsdp.md §9): each <name>.nbi/NBImageInfo.plist
 * is read with libplist, every key type-checked with Apple's defaults, the
 * files it names checked to exist inside the set folder. A defect skips
 * that set with a one-line reason; the other sets are still served. */
#include "nbi_scan.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <plist/plist.h>

#include "../hook/bsdp_codec.h"

#define PLIST_FILE "NBImageInfo.plist"
/* The DHCP `file` field holds 127 bytes plus a NUL; a booter path is
 * "<set>/<arch>/<BootFile>", so a longer folder name can never be served. */
#define FILE_FIELD_MAX 127
#define SET_DIR_MAX (FILE_FIELD_MAX - 6 - 1)
#define SCAN_MAX_SETS 4096
#define QUOTE_MAX 64    /* bytes of a plist string shown in a reason */
#define REASON_MAX 1024

struct ctx {
	const char *set_path;
	char *set_real;         /* realpath of the set folder */
	const struct bsdp_scan_options *opts;
	char *reason;
	size_t reason_size;
	struct bsdp_image img;  /* under construction; released on failure */
	bool name_cut;
	size_t name_full_len;
	bool root_path_absent;
};

/* snprintf for diagnostics, where a cut text is fine. */
static void textf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void textf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static int fail(struct ctx *x, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *x, int err, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (x->reason_size == 0)
		return err;
	va_start(ap, fmt);
	vsnprintf(x->reason, x->reason_size, fmt, ap);
	va_end(ap);
	/* Paths come from the filesystem: keep the reason one line whatever they hold. */
	for (p = x->reason; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return err;
}

/* Writes s as a double-quoted string, escaped and cut to QUOTE_MAX bytes. */
static const char *quote(char out[QUOTE_MAX * 4 + 8], const char *s, size_t len)
{
	size_t i, o = 0;

	out[o++] = '"';
	for (i = 0; i < len && i < QUOTE_MAX; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch < 0x20 || ch == 0x7f || ch == '"' || ch == '\\')
			o += (size_t)sprintf(out + o, "\\x%02x", ch);
		else
			out[o++] = (char)ch;
	}
	if (i < len) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '"';
	out[o] = '\0';
	return out;
}

/* An integer as the plist author wrote it: libplist 2.2 hands negative
 * integers over as their 64-bit two's complement. */
static const char *int_text(char out[24], uint64_t v)
{
	if (v > INT64_MAX)
		snprintf(out, 24, "%" PRId64, (int64_t)(v - INT64_MAX - 1) + INT64_MIN);
	else
		snprintf(out, 24, "%" PRIu64, v);
	return out;
}

static const char *type_name(plist_t n)
{
	switch (plist_get_node_type(n)) {
	case PLIST_BOOLEAN:
		return "boolean";
	case PLIST_UINT:
		return "integer";
	case PLIST_REAL:
		return "real";
	case PLIST_STRING:
		return "string";
	case PLIST_ARRAY:
		return "array";
	case PLIST_DICT:
		return "dictionary";
	case PLIST_DATE:
		return "date";
	case PLIST_DATA:
		return "data";
	default:
		return "unknown";
	}
}

static bool has_control(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

static bool str_is(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static char *mem_dup(const char *s, size_t len)
{
	char *d = malloc(len + 1);

	if (d) {
		memcpy(d, s, len);
		d[len] = '\0';
	}
	return d;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		uint32_t cp, min;
		size_t n, k;

		if (s[i] < 0x80) {
			i++;
			continue;
		} else if ((s[i] & 0xe0) == 0xc0) {
			n = 1, cp = s[i] & 0x1fu, min = 0x80;
		} else if ((s[i] & 0xf0) == 0xe0) {
			n = 2, cp = s[i] & 0x0fu, min = 0x800;
		} else if ((s[i] & 0xf8) == 0xf0) {
			n = 3, cp = s[i] & 0x07u, min = 0x10000;
		} else {
			return false;
		}
		if (len - i - 1 < n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3fu);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* Typed getters: 1 with the value, 0 when the key is absent, or a negative
 * errno with the reason written. */
static int get_node(struct ctx *x, plist_t dict, const char *key, plist_type type,
		    const char *type_text, plist_t *ret)
{
	plist_t n = plist_dict_get_item(dict, key);

	if (!n)
		return 0;
	if (plist_get_node_type(n) != type)
		return fail(x, -EINVAL, "key \"%s\" must be %s, found %s", key, type_text, type_name(n));
	*ret = n;
	return 1;
}

static int string_value(struct ctx *x, plist_t n, const char *key, long item, const char **ret,
			size_t *ret_len)
{
	uint64_t len = 0;
	const char *s = plist_get_string_ptr(n, &len);

	if (!s)
		s = "", len = 0;
	/* libplist keeps XML strings at their full length, NULs included. */
	if (memchr(s, '\0', (size_t)len)) {
		if (item >= 0)
			return fail(x, -EINVAL, "key \"%s\" item %ld contains a NUL byte", key, item);
		return fail(x, -EINVAL, "key \"%s\" contains a NUL byte", key);
	}
	*ret = s;
	*ret_len = (size_t)len;
	return 1;
}

static int get_string(struct ctx *x, plist_t dict, const char *key, const char **ret,
		      size_t *ret_len)
{
	plist_t n = NULL;
	int r = get_node(x, dict, key, PLIST_STRING, "a string", &n);

	return r <= 0 ? r : string_value(x, n, key, -1, ret, ret_len);
}

static int get_uint(struct ctx *x, plist_t dict, const char *key, uint64_t *ret)
{
	plist_t n = NULL;
	int r = get_node(x, dict, key, PLIST_UINT, "an integer", &n);

	if (r > 0)
		plist_get_uint_val(n, ret);
	return r;
}

/* Apple's booleans are plist booleans only; "YES" or 1 is a defect. */
static int get_bool(struct ctx *x, plist_t dict, const char *key, bool def, bool *ret)
{
	plist_t n = NULL;
	uint8_t v = 0;
	int r = get_node(x, dict, key, PLIST_BOOLEAN, "a boolean", &n);

	if (r < 0)
		return r;
	if (r > 0)
		plist_get_bool_val(n, &v);
	*ret = r > 0 ? v != 0 : def;
	return 0;
}

static int array_string(struct ctx *x, plist_t arr, const char *key, uint32_t i, const char **ret,
			size_t *ret_len)
{
	plist_t n = plist_array_get_item(arr, i);

	if (!n || plist_get_node_type(n) != PLIST_STRING)
		return fail(x, -EINVAL, "key \"%s\" item %" PRIu32 " must be a string, found %s", key,
			    i, n ? type_name(n) : "nothing");
	return string_value(x, n, key, (long)i, ret, ret_len);
}

static int required_string(struct ctx *x, plist_t root, const char *key, const char **ret,
			   size_t *ret_len)
{
	int r = get_string(x, root, key, ret, ret_len);

	if (r == 0)
		return fail(x, -ENOENT, "key \"%s\" is missing", key);
	if (r > 0 && *ret_len == 0)
		return fail(x, -EINVAL, "key \"%s\" is empty", key);
	return r < 0 ? r : 0;
}

static int read_plist(struct ctx *x, plist_t *ret)
{
	char path[PATH_MAX];
	struct stat st;
	plist_t root = NULL;
	char *buf;
	size_t got = 0;
	int fd, err;

	if ((size_t)snprintf(path, sizeof(path), "%s/" PLIST_FILE, x->set_path) >= sizeof(path))
		return fail(x, -ENAMETOOLONG, "path of " PLIST_FILE " is too long");
	/* O_NONBLOCK: a FIFO in place of the plist must not hang the scan. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0) {
		err = errno;
		if (err == ENOENT)
			return fail(x, -ENOENT, PLIST_FILE " is missing");
		return fail(x, -err, "cannot open " PLIST_FILE ": %s", strerror(err));
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		close(fd);
		return fail(x, -err, "cannot stat " PLIST_FILE ": %s", strerror(err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(x, -EINVAL, PLIST_FILE " is not a regular file");
	}
	/* Capped before reading: libplist itself has no size or nesting limit. */
	if (st.st_size > (off_t)BSDP_PLIST_MAX_BYTES) {
		close(fd);
		return fail(x, -EFBIG, PLIST_FILE " is %jd bytes, over the %d-byte limit",
			    (intmax_t)st.st_size, BSDP_PLIST_MAX_BYTES);
	}
	if (st.st_size == 0) {
		close(fd);
		return fail(x, -EBADMSG, PLIST_FILE " is empty");
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		return fail(x, -ENOMEM, "out of memory");
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			free(buf);
			close(fd);
			return fail(x, -err, "cannot read " PLIST_FILE ": %s", strerror(err));
		}
		if (n == 0)
			break;  /* shrank meanwhile: parse what is there */
		got += (size_t)n;
	}
	close(fd);
	/* Not plist_from_memory(): it gained an argument in libplist 2.6 and
	 * also accepts JSON/OpenStep there; these two calls take XML or binary
	 * alike on 2.2 to 2.7. Under 8 bytes nothing is valid (2.2's own rule). */
	if (got >= 8) {
		if (plist_is_binary(buf, (uint32_t)got))
			plist_from_bin(buf, (uint32_t)got, &root);
		else
			plist_from_xml(buf, (uint32_t)got, &root);
	}
	free(buf);
	if (!root)
		return fail(x, -EBADMSG, PLIST_FILE " is not a valid XML or binary property list");
	if (plist_get_node_type(root) != PLIST_DICT) {
		err = fail(x, -EBADMSG, PLIST_FILE " must hold a dictionary, found %s",
			   type_name(root));
		plist_free(root);
		return err;
	}
	*ret = root;
	return 0;
}

static int read_name(struct ctx *x, plist_t root)
{
	const char *s;
	size_t len, cut;
	int r = required_string(x, root, "Name", &s, &len);

	if (r < 0)
		return r;
	if (!utf8_valid(s, len))
		return fail(x, -EILSEQ, "key \"Name\" is not valid UTF-8");
	cut = bsdp_codec_utf8_cut(s, len, BSDP_NAME_MAX);
	x->img.name = mem_dup(s, cut);
	if (!x->img.name)
		return fail(x, -ENOMEM, "out of memory");
	x->img.name_len = cut;
	x->name_cut = cut < len;
	x->name_full_len = len;
	return 0;
}

static int read_type(struct ctx *x, plist_t root)
{
	char q[QUOTE_MAX * 4 + 8];
	const char *s;
	size_t len;
	int r = required_string(x, root, "Type", &s, &len);

	if (r < 0)
		return r;
	if (str_is(s, len, "NFS"))
		x->img.type = BSDP_TYPE_NFS;
	else if (str_is(s, len, "HTTP"))
		x->img.type = BSDP_TYPE_HTTP;
	else if (str_is(s, len, "BootFileOnly"))
		x->img.type = BSDP_TYPE_BOOTFILEONLY;
	else if (str_is(s, len, "Classic"))
		return fail(x, -ENOTSUP, "Type \"Classic\" (Mac OS 9) is not supported");
	else
		return fail(x, -EINVAL, "key \"Type\" must be NFS, HTTP or BootFileOnly, found %s",
			    quote(q, s, len));
	return 0;
}

static int read_numbers(struct ctx *x, plist_t root)
{
	char t[24];
	uint64_t v;
	int r = get_uint(x, root, "Index", &v);

	if (r == 0)
		return fail(x, -ENOENT, "key \"Index\" is missing");
	if (r < 0)
		return r;
	if (v < 1 || v > 65535)
		return fail(x, -ERANGE, "Index %s is out of range 1..65535", int_text(t, v));
	x->img.index = (uint16_t)v;

	r = get_uint(x, root, "Kind", &v);
	if (r < 0)
		return r;
	if (r == 0 && x->img.type == BSDP_TYPE_BOOTFILEONLY)
		return fail(x, -ENOENT, "key \"Kind\" is missing (required for Type BootFileOnly)");
	if (r == 0)
		v = 1;  /* Mac OS X */
	if (v > 127)
		return fail(x, -ERANGE, "Kind %s is out of range 0..127", int_text(t, v));
	x->img.kind = (uint8_t)v;
	return 0;
}

static int read_flags(struct ctx *x, plist_t root)
{
	struct bsdp_image *img = &x->img;
	int r;

	if ((r = get_bool(x, root, "IsInstall", false, &img->install)) < 0 ||
	    (r = get_bool(x, root, "IsEnabled", true, &img->is_enabled)) < 0 ||
	    (r = get_bool(x, root, "IsDefault", false, &img->is_default)) < 0 ||
	    (r = get_bool(x, root, "SupportsDiskless", false, &img->supports_diskless)) < 0 ||
	    /* BOOTPD: diagnostics (kind 3) only answer a matching filter. */
	    (r = get_bool(x, root, "FilterOnly", img->kind == 3, &img->filter_only)) < 0)
		return r;
	return 0;
}

static int read_archs(struct ctx *x, plist_t root)
{
	char q[QUOTE_MAX * 4 + 8];
	plist_t arr = NULL;
	uint32_t i, n;
	int r = get_node(x, root, "Architectures", PLIST_ARRAY, "an array", &arr);

	if (r < 0)
		return r;
	if (r == 0) {
		x->img.archs = BSDP_ARCH_PPC;
		return 0;
	}
	n = plist_array_get_size(arr);
	if (n == 0)
		return fail(x, -EINVAL, "key \"Architectures\" is empty");
	for (i = 0; i < n; i++) {
		const char *s = NULL;
		size_t len = 0;
		unsigned bit;

		r = array_string(x, arr, "Architectures", i, &s, &len);
		if (r < 0)
			return r;
		bit = bsdp_arch_from_name(s, len);
		if (!bit)
			return fail(x, -EINVAL,
				    "key \"Architectures\" has unknown architecture %s (known: ppc, i386, arm)",
				    quote(q, s, len));
		x->img.archs |= bit;
	}
	return 0;
}

/* A path named by the plist stays inside the set folder by its text:
 * relative, without ".." components. Symlinks are checked on disk later. */
static int check_rel_path(struct ctx *x, const char *key, const char *s, size_t len)
{
	char q[QUOTE_MAX * 4 + 8];
	size_t i = 0;

	if (has_control(s, len))
		return fail(x, -EINVAL, "key \"%s\" contains a control character", key);
	if (s[0] == '/')
		return fail(x, -EPERM, "%s %s escapes the set folder: absolute path", key,
			    quote(q, s, len));
	while (i < len) {
		size_t end = i;

		while (end < len && s[end] != '/')
			end++;
		if (end - i == 2 && s[i] == '.' && s[i + 1] == '.')
			return fail(x, -EPERM, "%s %s escapes the set folder: \"..\" component", key,
				    quote(q, s, len));
		i = end + 1;
	}
	return 0;
}

static bool inside(const char *base, const char *p)
{
	size_t n = strlen(base);

	return strncmp(p, base, n) == 0 && (p[n] == '/' || p[n] == '\0');
}

/* Resolves `full` (the set folder + a path already checked by
 * check_rel_path) and checks that its deepest existing part is inside the
 * set folder, so no symlink leads out. Returns 1 when it exists (mode in
 * *ret_mode), 0 when a part is missing, or a negative errno. */
static int resolve_inside(struct ctx *x, const char *what, const char *full, mode_t *ret_mode)
{
	char buf[PATH_MAX], real[PATH_MAX];
	size_t floor = strlen(x->set_path), n = strlen(full);
	struct stat st;
	int exists = 1;

	if (n >= sizeof(buf))
		return fail(x, -ENAMETOOLONG, "%s: path too long", what);
	memcpy(buf, full, n + 1);
	while (!realpath(buf, real)) {
		int err = errno;
		char *slash;

		if (err != ENOENT && err != ENOTDIR)
			return fail(x, -err, "cannot check %s: %s: %s", what, full, strerror(err));
		exists = 0;
		slash = strrchr(buf, '/');
		/* Down to the set folder itself, which is inside by definition. */
		if (!slash || (size_t)(slash - buf) <= floor)
			return 0;
		*slash = '\0';
	}
	if (!inside(x->set_real, real))
		return fail(x, -EPERM, "%s escapes the set folder: resolves to %s", what, real);
	if (!exists)
		return 0;
	if (stat(real, &st) < 0) {
		int err = errno;

		return fail(x, -err, "cannot check %s: %s: %s", what, full, strerror(err));
	}
	*ret_mode = st.st_mode;
	return 1;
}

static int check_boot_files(struct ctx *x, const char *set_dir)
{
	static const unsigned bits[] = { BSDP_ARCH_PPC, BSDP_ARCH_I386, BSDP_ARCH_ARM };
	char q[QUOTE_MAX * 4 + 8], what[QUOTE_MAX * 4 + 64], full[PATH_MAX];
	const char *bf = x->img.boot_file;
	size_t i;

	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		const char *arch = bsdp_arch_name(bits[i]);
		size_t field = strlen(set_dir) + 1 + strlen(arch) + 1 + strlen(bf);
		mode_t mode = 0;
		int r;

		if (!(x->img.archs & bits[i]))
			continue;
		quote(q, bf, strlen(bf));
		if (field > FILE_FIELD_MAX)
			return fail(x, -ENAMETOOLONG,
				    "booter path %s/%s/%s is %zu bytes, over the %d bytes of the DHCP file field",
				    set_dir, arch, bf, field, FILE_FIELD_MAX);
		if ((size_t)snprintf(full, sizeof(full), "%s/%s/%s", x->set_path, arch, bf) >=
		    sizeof(full))
			return fail(x, -ENAMETOOLONG, "BootFile %s: path too long", q);
		textf(what, sizeof(what), "BootFile %s for architecture %s", q, arch);
		r = resolve_inside(x, what, full, &mode);
		if (r < 0)
			return r;
		if (r == 0)
			return fail(x, -ENOENT, "BootFile %s missing for architecture %s: %s", q, arch,
				    full);
		if (!S_ISREG(mode))
			return fail(x, -EINVAL, "%s is not a regular file: %s", what, full);
	}
	return 0;
}

static int read_files(struct ctx *x, plist_t root, const char *set_dir)
{
	char q[QUOTE_MAX * 4 + 8], what[QUOTE_MAX * 4 + 16], full[PATH_MAX];
	const char *s;
	size_t len;
	mode_t mode;
	int r = required_string(x, root, "BootFile", &s, &len);

	if (r < 0 || (r = check_rel_path(x, "BootFile", s, len)) < 0)
		return r;
	x->img.boot_file = mem_dup(s, len);
	if (!x->img.boot_file)
		return fail(x, -ENOMEM, "out of memory");

	r = get_string(x, root, "RootPath", &s, &len);
	if (r < 0)
		return r;
	if (x->img.type != BSDP_TYPE_BOOTFILEONLY) {
		/* BootFileOnly sets send no root path: a RootPath there is ignored. */
		if (r == 0)
			return fail(x, -ENOENT, "key \"RootPath\" is missing (required for Type %s)",
				    bsdp_image_type_name(x->img.type));
		if (len == 0)
			return fail(x, -EINVAL, "key \"RootPath\" is empty");
		if (has_control(s, len))
			return fail(x, -EINVAL, "key \"RootPath\" contains a control character");
		/* An indirect URL points elsewhere: nothing here to check (s holds
		 * no NUL, checked by get_string). */
		if (!bsdp_root_path_is_url(s)) {
			/* The responder makes nfs-url + set + RootPath of it. */
			if (x->img.type == BSDP_TYPE_NFS && !(x->opts && x->opts->nfs_available))
				return fail(x, -ENOTSUP,
					    "Type NFS needs nfs-url, which is not configured");
			if ((r = check_rel_path(x, "RootPath", s, len)) < 0)
				return r;
			if ((size_t)snprintf(full, sizeof(full), "%s/%s", x->set_path, s) >=
			    sizeof(full))
				return fail(x, -ENAMETOOLONG, "RootPath: path too long");
			textf(what, sizeof(what), "RootPath %s", quote(q, s, len));
			r = resolve_inside(x, what, full, &mode);
			if (r < 0)
				return r;
			x->root_path_absent = r == 0;
		}
		x->img.root_path = mem_dup(s, len);
		if (!x->img.root_path)
			return fail(x, -ENOMEM, "out of memory");
	}
	return check_boot_files(x, set_dir);
}

static int read_models(struct ctx *x, plist_t root)
{
	const char *s = NULL;
	size_t len = 0;
	plist_t arr = NULL;
	uint32_t i, n;
	int r = get_node(x, root, "DisabledSystemIdentifiers", PLIST_ARRAY, "an array", &arr);

	/* Type-checked only: BOOTPD ignores it, and Apple's tools fill it with
	 * the very models an image supports (docs/bsdp.md §7). */
	if (r < 0)
		return r;
	n = r > 0 ? plist_array_get_size(arr) : 0;
	for (i = 0; i < n; i++)
		if ((r = array_string(x, arr, "DisabledSystemIdentifiers", i, &s, &len)) < 0)
			return r;

	r = get_node(x, root, "EnabledSystemIdentifiers", PLIST_ARRAY, "an array", &arr);
	if (r <= 0)
		return r;
	n = plist_array_get_size(arr);
	if (n == 0)
		return 0;
	x->img.enabled_models = calloc(n, sizeof(char *));
	if (!x->img.enabled_models)
		return fail(x, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		if ((r = array_string(x, arr, "EnabledSystemIdentifiers", i, &s, &len)) < 0)
			return r;
		x->img.enabled_models[i] = mem_dup(s, len);
		if (!x->img.enabled_models[i])
			return fail(x, -ENOMEM, "out of memory");
		x->img.n_enabled_models = i + 1;
	}
	return 0;
}

static int read_macs(struct ctx *x, plist_t root, const char *key, uint8_t (**ret)[6],
		     size_t *ret_n)
{
	char q[QUOTE_MAX * 4 + 8];
	plist_t arr = NULL;
	uint32_t i, n;
	int r = get_node(x, root, key, PLIST_ARRAY, "an array", &arr);

	if (r <= 0)
		return r;
	n = plist_array_get_size(arr);
	if (n == 0)
		return 0;
	*ret = calloc(n, sizeof(**ret));
	if (!*ret)
		return fail(x, -ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		const char *s = NULL;
		size_t len = 0;

		if ((r = array_string(x, arr, key, i, &s, &len)) < 0)
			return r;
		if (bsdp_mac_parse(s, len, (*ret)[i]) < 0)
			return fail(x, -EINVAL, "key \"%s\" item %" PRIu32 " must be a MAC address, found %s",
				    key, i, quote(q, s, len));
		*ret_n = i + 1;
	}
	return 0;
}

static int read_servers(struct ctx *x, plist_t root)
{
	char q[QUOTE_MAX * 4 + 8], ip[16];
	struct in_addr a;
	const char *s;
	size_t len;
	int r = get_string(x, root, "LoadBalanceServer", &s, &len);

	if (r < 0)
		return r;
	if (r > 0) {
		/* The kernel does no DNS: an address, and not 0.0.0.0. */
		a.s_addr = 0;
		if (len < sizeof(ip)) {
			memcpy(ip, s, len);
			ip[len] = '\0';
			if (inet_pton(AF_INET, ip, &a) != 1)
				a.s_addr = 0;
		}
		if (a.s_addr == 0)
			return fail(x, -EINVAL,
				    "key \"LoadBalanceServer\" must be a dotted IPv4 address, found %s",
				    quote(q, s, len));
		x->img.load_balance_server = ntohl(a.s_addr);
	}

	r = get_string(x, root, "ChainURL", &s, &len);
	if (r <= 0)
		return r;
	if (!((len > 7 && strncasecmp(s, "http://", 7) == 0) ||
	      (len > 8 && strncasecmp(s, "https://", 8) == 0)) ||
	    has_control(s, len) || memchr(s, ' ', len))
		return fail(x, -EINVAL, "key \"ChainURL\" must be an http:// or https:// URL, found %s",
			    quote(q, s, len));
	x->img.chain_url = mem_dup(s, len);
	if (!x->img.chain_url)
		return fail(x, -ENOMEM, "out of memory");
	return 0;
}

/* Warnings go out only once the set is known to be served. */
static int emit_warnings(struct ctx *x, struct bsdp_catalogue *warn)
{
	char text[REASON_MAX], q[QUOTE_MAX * 4 + 8], path[PATH_MAX];
	struct stat st;

	if (!warn)
		return 0;
	if (x->name_cut) {
		textf(text, sizeof(text), "Name is %zu bytes, cut to %zu for the boot image list",
			 x->name_full_len, x->img.name_len);
		if (bsdp_catalogue_warn(warn, x->set_path, text) < 0)
			return -ENOMEM;
	}
	if (x->root_path_absent) {
		textf(text, sizeof(text), "RootPath %s does not exist: %s/%s",
			 quote(q, x->img.root_path, strlen(x->img.root_path)), x->set_path,
			 x->img.root_path);
		if (bsdp_catalogue_warn(warn, x->set_path, text) < 0)
			return -ENOMEM;
	}
	/* An Intel booter TFTPs the prelinked kernel next to it (design.md). */
	if (x->img.type != BSDP_TYPE_BOOTFILEONLY && (x->img.archs & BSDP_ARCH_I386)) {
		textf(path, sizeof(path), "%s/i386/x86_64/kernelcache", x->set_path);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			textf(text, sizeof(text), "kernelcache missing for architecture i386: %s",
				 path);
			if (bsdp_catalogue_warn(warn, x->set_path, text) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

static const char *base_name(const char *path, size_t *ret_len)
{
	size_t end = strlen(path), start;

	while (end > 1 && path[end - 1] == '/')
		end--;
	start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	*ret_len = end - start;
	return path + start;
}

int bsdp_nbi_read_set(const char *set_path, const struct bsdp_scan_options *opts,
		      struct bsdp_image *ret, char *reason, size_t reason_size,
		      struct bsdp_catalogue *warn)
{
	struct ctx x = { .set_path = set_path, .opts = opts, .reason = reason,
			 .reason_size = reason_size };
	plist_t root = NULL;
	const char *base;
	size_t base_len;
	int r;

	if (reason_size)
		reason[0] = '\0';
	if (!set_path || !ret)
		return fail(&x, -EINVAL, "no set folder given");
	base = base_name(set_path, &base_len);
	if (base_len <= 4 || memcmp(base + base_len - 4, ".nbi", 4) != 0)
		return fail(&x, -EINVAL, "set folder name does not end in .nbi");
	x.set_real = realpath(set_path, NULL);
	if (!x.set_real) {
		r = errno;
		return fail(&x, -r, "cannot resolve set folder: %s", strerror(r));
	}
	x.img.set_dir = mem_dup(base, base_len);
	if (!x.img.set_dir)
		r = fail(&x, -ENOMEM, "out of memory");
	else if ((r = read_plist(&x, &root)) == 0 && (r = read_name(&x, root)) == 0 &&
		 (r = read_type(&x, root)) == 0 && (r = read_numbers(&x, root)) == 0 &&
		 (r = read_flags(&x, root)) == 0 && (r = read_archs(&x, root)) == 0 &&
		 (r = read_models(&x, root)) == 0 &&
		 (r = read_macs(&x, root, "EnabledMACAddresses", &x.img.enabled_macs,
				&x.img.n_enabled_macs)) == 0 &&
		 (r = read_macs(&x, root, "DisabledMACAddresses", &x.img.disabled_macs,
				&x.img.n_disabled_macs)) == 0 &&
		 (r = read_servers(&x, root)) == 0 && (r = read_files(&x, root, x.img.set_dir)) == 0)
		r = emit_warnings(&x, warn);
	if (r == -ENOMEM && reason_size && !reason[0])
		fail(&x, -ENOMEM, "out of memory");
	plist_free(root);
	free(x.set_real);
	if (r < 0) {
		bsdp_image_release(&x.img);
		return r;
	}
	x.img.id = BSDP_IMAGE_ID(x.img.install, x.img.kind, x.img.index);
	*ret = x.img;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The *.nbi names of dir, sorted by strcmp; *ret_more when some were left. */
static int list_sets(const char *dir, char ***ret, size_t *ret_n, bool *ret_more)
{
	char **names = NULL;
	size_t n = 0;
	struct dirent *de;
	DIR *d = opendir(dir);
	int err = 0;

	if (!d)
		return -errno;
	*ret_more = false;
	for (;;) {
		size_t len;

		errno = 0;
		de = readdir(d);
		if (!de) {
			err = -errno;
			break;
		}
		len = strlen(de->d_name);
		/* Not a set, or a name no booter path could hold: not ours. */
		if (len <= 4 || len > SET_DIR_MAX || strcmp(de->d_name + len - 4, ".nbi") != 0)
			continue;
		if (n == SCAN_MAX_SETS) {
			*ret_more = true;
			continue;
		}
		if (!names && !(names = calloc(SCAN_MAX_SETS, sizeof(*names)))) {
			err = -ENOMEM;
			break;
		}
		if (!(names[n] = mem_dup(de->d_name, len))) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (err < 0) {
		free_names(names, n);
		return err;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*ret = names;
	*ret_n = n;
	return 0;
}

/* The image that set folder `name` gave in the previous catalogue, if any. */
static const struct bsdp_image *previous_image(const struct bsdp_catalogue *prev,
					       const char *name)
{
	size_t i;

	for (i = 0; prev && i < prev->n_images; i++)
		if (prev->images[i].set_dir && strcmp(prev->images[i].set_dir, name) == 0)
			return &prev->images[i];
	return NULL;
}

/* A set that no longer reads: its last good version (prev) goes on being
 * served, marked stale, unless an earlier set took its image id meanwhile;
 * else it is skipped. -ENOMEM only. */
static int keep_stale(struct bsdp_catalogue *c, const struct bsdp_image *prev, const char *path,
		      const char *reason, const struct bsdp_scan_options *opts)
{
	struct bsdp_image img;
	int r;

	if (!prev)
		return bsdp_catalogue_skip(c, path, reason);
	if (bsdp_image_copy(&img, prev) < 0)
		return -ENOMEM;
	free(img.stale.path);
	free(img.stale.reason);
	img.stale.path = strdup(path);
	img.stale.reason = strdup(reason);
	if (!prev->stale.reason)
		img.stale_since = opts->now ? opts->now : (int64_t)time(NULL);
	r = img.stale.path && img.stale.reason ? bsdp_catalogue_add(c, &img) : -ENOMEM;
	if (r < 0)
		bsdp_image_release(&img);
	return r == -EEXIST ? bsdp_catalogue_skip(c, path, reason) : r;
}

/* Reads one set and adds it to c, or records why not. -ENOMEM only. Sets
 * *vanished when the folder listed a moment ago is gone (not a dangling
 * link): the directory changed under the scan. */
static int scan_one(struct bsdp_catalogue *c, const char *path, const char *name,
		    const struct bsdp_scan_options *opts, const struct bsdp_catalogue *previous,
		    bool *vanished)
{
	char reason[REASON_MAX];
	struct bsdp_catalogue *warn;
	struct bsdp_image img;
	const struct bsdp_image *prev;
	struct stat st;
	size_t i;
	int r;

	if (stat(path, &st) < 0) {
		int err = errno;
		if (err == ENOENT && lstat(path, &st) < 0 && errno == ENOENT)
			*vanished = true;
		textf(reason, sizeof(reason), "cannot stat set folder: %s", strerror(err));
		/* Removed (ENOENT) ends a set; a folder that is there but cannot
		 * be reached now (EACCES, EIO, ELOOP...) keeps its last good version. */
		if (err == ENOENT)
			return bsdp_catalogue_skip(c, path, reason);
		return keep_stale(c, previous_image(previous, name), path, reason, opts);
	}
	if (!S_ISDIR(st.st_mode))
		return 0;  /* a file named *.nbi is not a set */
	if (has_control(name, strlen(name)))
		return bsdp_catalogue_skip(c, path, "folder name contains a control character");

	/* Warnings land here first so a set skipped as a duplicate leaves none. */
	warn = bsdp_catalogue_new(NULL);
	if (!warn)
		return -ENOMEM;
	r = bsdp_nbi_read_set(path, opts, &img, reason, sizeof(reason), warn);
	if (r == -ENOMEM) {
		bsdp_catalogue_free(warn);
		return r;
	}
	if (r < 0) {
		r = keep_stale(c, previous_image(previous, name), path, reason, opts);
	} else if ((r = bsdp_catalogue_add(c, &img)) == -EEXIST) {
		prev = bsdp_catalogue_find(c, img.id);
		textf(reason, sizeof(reason),
			 "image id 0x%08" PRIx32 " (Index %u, Kind %u%s) is already served by \"%s\", which comes first in byte order",
			 img.id, img.index, img.kind, img.install ? ", install" : "",
			 prev ? prev->set_dir : "?");
		bsdp_image_release(&img);
		r = bsdp_catalogue_skip(c, path, reason);
	} else if (r < 0) {
		bsdp_image_release(&img);
	} else {
		for (i = 0; r == 0 && i < warn->n_warnings; i++)
			r = bsdp_catalogue_warn(c, warn->warnings[i].path, warn->warnings[i].reason);
	}
	bsdp_catalogue_free(warn);
	return r;
}

/* One pass over dir. Sets *ret_changed when dir was replaced, renamed or
 * had sets added or removed while it was read, or a listed set vanished: the
 * result could mix two states of the directory. */
static struct bsdp_catalogue *scan_pass(const char *dir, const struct bsdp_scan_options *opts,
					bool *ret_changed, int *ret_err)
{
	struct bsdp_catalogue *c = NULL;
	const struct bsdp_catalogue *previous = NULL;
	char **names = NULL, path[PATH_MAX], reason[REASON_MAX];
	size_t n = 0, i, dlen;
	bool more = false, vanished = false;
	struct stat before, after;
	int r;

	if (stat(dir, &before) < 0) {
		r = -errno;
		goto out;
	}
	r = list_sets(dir, &names, &n, &more);
	if (r < 0)
		goto out;
	c = bsdp_catalogue_new(dir);
	if (!c) {
		r = -ENOMEM;
		goto out;
	}
	dlen = strlen(dir);
	while (dlen > 1 && dir[dlen - 1] == '/')
		dlen--;
	if (opts && opts->previous && opts->previous->sets_directory &&
	    strcmp(opts->previous->sets_directory, dir) == 0)
		previous = opts->previous;
	for (i = 0; r == 0 && i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%.*s/%s", (int)dlen, dir, names[i]) >=
		    sizeof(path))
			r = bsdp_catalogue_skip(c, names[i], "path of set folder is too long");
		else
			r = scan_one(c, path, names[i], opts, previous, &vanished);
	}
	if (r == 0 && more) {
		textf(reason, sizeof(reason), "more than %d set folders; the rest were not read",
			 SCAN_MAX_SETS);
		r = bsdp_catalogue_skip(c, dir, reason);
	}
	/* A rename changes the moved directory's ctime, and so does adding or
	 * removing a set: equal (dev, inode, ctime) means one state throughout,
	 * even when the directory was swapped away and back. */
	*ret_changed = vanished || stat(dir, &after) < 0 || after.st_dev != before.st_dev ||
		       after.st_ino != before.st_ino ||
		       after.st_ctim.tv_sec != before.st_ctim.tv_sec ||
		       after.st_ctim.tv_nsec != before.st_ctim.tv_nsec;
out:
	free_names(names, n);
	if (r < 0) {
		bsdp_catalogue_free(c);
		c = NULL;
	}
	*ret_err = r;
	return c;
}

/* Operators deploy with `mv sets.new sets` or a symlink flip, maybe while a
 * rescan runs: a pass that saw the directory change is thrown away and the
 * scan starts again, and one that never sees it settle fails, so a reload
 * keeps the catalogue it had rather than publish a partial one. */
#define SCAN_ATTEMPTS 3

struct bsdp_catalogue *bsdp_nbi_scan(const char *dir, const struct bsdp_scan_options *opts,
				     int *ret_err)
{
	struct bsdp_catalogue *c = NULL;
	int r = -EINVAL;

	for (int attempt = 0; dir && attempt < SCAN_ATTEMPTS; attempt++) {
		bool changed = false;
		c = scan_pass(dir, opts, &changed, &r);
		if (!c || !changed)
			break;
		bsdp_catalogue_free(c);
		c = NULL;
		r = -EAGAIN;
	}
	if (ret_err)
		*ret_err = r;
	return c;
}
