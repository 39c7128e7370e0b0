/* SPDX-License-Identifier: MPL-2.0 */
#include "store/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "hook/catalogue.h"
#include "store/monotonic_cond.h"

/* Splits off the next comma-separated field; NULL once the line is used
 * up (*p is then NULL, never a pointer past the line). */
static const char *field(const char **p, const char *end, size_t *ret_len)
{
	const char *start = *p;
	if (!start)
		return NULL;
	const char *comma = memchr(start, ',', (size_t)(end - start));
	*ret_len = (size_t)((comma ? comma : end) - start);
	*p = comma ? comma + 1 : NULL;
	return start;
}

/* Unsigned decimal, or hex with 0x; no sign, no spaces, bounded. */
static bool parse_uint(const char *s, size_t len, uint64_t max, uint64_t *ret)
{
	int base = 10;
	uint64_t v = 0;
	if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		int d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		if (v > (max - (uint64_t)d) / (uint64_t)base)
			return false;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*ret = v;
	return true;
}

int bsdp_state_parse_line(const char *line, size_t len, struct bsdp_binding *ret,
			  const char **ret_reason)
{
	const char *p = line, *end = line + len, *f[4];
	size_t flen[4];
	uint64_t image, when, number;
	struct bsdp_binding b = { .image_id = 0 };
	const char *why = NULL;

	if (memchr(line, '\0', len))
		why = "line contains a NUL byte";
	for (int i = 0; i < 4 && !why; i++)
		if (!(f[i] = field(&p, end, &flen[i])))
			why = "too few fields (expected 4)";
	if (!why && p)
		why = "too many fields (expected 4)";
	if (!why && bsdp_mac_parse(f[0], flen[0], b.mac) < 0)
		why = "hwaddr is not a MAC address";
	if (!why && !parse_uint(f[1], flen[1], UINT32_MAX, &image))
		why = "image-id is not a 32-bit number";
	if (!why && image && (image & 0xffffu) == 0)
		why = "image-id has index 0";
	if (!why && !parse_uint(f[2], flen[2], INT64_MAX, &when))
		why = "selected-at is not a time in seconds";
	if (!why && (!parse_uint(f[3], flen[3], UINT32_MAX - 1, &number) || number == 0))
		why = "machine-number is not a number from 1";
	if (why) {
		if (ret_reason)
			*ret_reason = why;
		return -EINVAL;
	}
	b.image_id = (uint32_t)image;
	b.time = (int64_t)when;
	b.number = (uint32_t)number;
	*ret = b;
	return 0;
}

int bsdp_state_format_line(const struct bsdp_binding *b, char *out, size_t size)
{
	int n = snprintf(out, size, "%02x:%02x:%02x:%02x:%02x:%02x,0x%08" PRIx32 ",%" PRId64 ",%" PRIu32 "\n",
			 b->mac[0], b->mac[1], b->mac[2], b->mac[3], b->mac[4], b->mac[5], b->image_id,
			 b->time, b->number);
	return n < 0 || (size_t)n >= size ? -ENOBUFS : n;
}

static void report_line(bsdp_state_report_fn report, void *ctx, const char *path, size_t line,
			const char *reason)
{
	if (report)
		report(ctx, path, line, reason);
}

int bsdp_state_load(const char *path, struct bsdp_bindings *b, bsdp_state_report_fn report,
		    void *ctx, struct bsdp_state_load_result *ret)
{
	struct bsdp_state_load_result res = { 0 };
	char line[BSDP_STATE_LINE_MAX + 2];
	size_t lineno = 0;

	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	bool header_seen = false;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strlen(line);
		lineno++;
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			/* Too long: report once and skip the rest of it. */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n')
				;
			report_line(report, ctx, path, lineno, "line longer than 128 bytes");
			res.bad++;
			continue;
		}
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len && line[len - 1] == '\r')
			line[--len] = '\0';
		if (!header_seen) {
			header_seen = true;
			if (strcmp(line, BSDP_STATE_HEADER) == 0)
				continue;
			report_line(report, ctx, path, lineno, "missing header line " BSDP_STATE_HEADER);
			res.bad++;
			continue;
		}
		if (len == 0)
			continue;
		struct bsdp_binding entry;
		const char *why;
		if (bsdp_state_parse_line(line, len, &entry, &why) < 0) {
			report_line(report, ctx, path, lineno, why);
			res.bad++;
			continue;
		}
		/* A later line for the same MAC replaces an earlier one. */
		if (bsdp_bindings_put(b, &entry) == 0)
			res.loaded++;
	}
	int err = ferror(f) ? -EIO : 0;
	fclose(f);
	if (ret)
		*ret = res;
	return err;
}

int bsdp_state_set_aside(const char *path, int64_t now, char *aside, size_t aside_size)
{
	int n = snprintf(aside, aside_size, "%s.damaged-%" PRId64, path, now);
	if (n < 0 || (size_t)n >= aside_size)
		return -ENAMETOOLONG;
	/* A second name, so the file stays in place until the save that
	 * follows replaces it in one rename: a crash between the two never
	 * leaves the server without its state file. A filesystem without hard
	 * links gets the plain rename. */
	if (link(path, aside) == 0)
		return 0;
	if (errno != EPERM && errno != ENOTSUP && errno != EMLINK)
		return -errno;
	return rename(path, aside) < 0 ? -errno : 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int fsync_parent(const char *path)
{
	char copy[4096];
	if (strlen(path) >= sizeof(copy))
		return -ENAMETOOLONG;
	strcpy(copy, path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A confined kea-dhcp4 (AppArmor) may write the file but not open its
	 * folder: the rename is done, so this is no failure to retry (that
	 * would rewrite the file forever); only a power cut may undo it. */
	if (fd < 0)
		return errno == EACCES || errno == EPERM ? 0 : -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

int bsdp_state_save_entries(const char *path, const struct bsdp_binding *entries, size_t n)
{
	/* A unique temporary name in the same folder: two writers never
	 * clobber each other's file, and the rename stays atomic. */
	char tmp[4096];
	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* Everything goes into one buffer so a full disk fails one write. */
	char *text = malloc((n + 1) * (BSDP_STATE_LINE_MAX + 1));
	if (!text)
		return -ENOMEM;
	size_t len = (size_t)sprintf(text, "%s\n", BSDP_STATE_HEADER);
	for (size_t i = 0; i < n; i++)
		len += (size_t)bsdp_state_format_line(&entries[i], text + len, BSDP_STATE_LINE_MAX + 1);

	int r = 0;
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
	} else {
		if (fchmod(fd, 0640) < 0)
			r = -errno;
		if (r == 0)
			r = write_all(fd, text, len);
		if (r == 0 && fsync(fd) < 0)
			r = -errno;
		if (close(fd) < 0 && r == 0)
			r = -errno;
		if (r == 0 && rename(tmp, path) < 0)
			r = -errno;
		if (r == 0)
			r = fsync_parent(path);
		else
			unlink(tmp);
	}
	free(text);
	return r;
}

int bsdp_state_save(const char *path, struct bsdp_bindings *b)
{
	struct bsdp_binding *all;
	size_t n;
	if (bsdp_bindings_copy(b, &all, &n) < 0)
		return -ENOMEM;
	/* Least recent first, so loading the file restores the order in
	 * which entries are evicted. */
	int r = bsdp_state_save_entries(path, all, n);
	free(all);
	return r;
}

/* ---- writer thread ----------------------------------------------------- */

struct bsdp_state_writer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;
	bool forced;          /* asked for a save; under lock */
	char *path;
	struct bsdp_bindings *bindings;
	unsigned interval_ms;
	bsdp_state_report_fn report;
	void *ctx;
	bsdp_state_aside_fn aside_fn; /* set aside before the first save; under lock */
	void *aside_ctx;
	bool aside_done;      /* set by the saving thread, read under lock */
	uint64_t saved_generation;
	bool retry;           /* a requested save failed; writer thread only */
	int last_error;
	/* After a failed save (a full disk, a folder gone) the next try waits
	 * backoff_ms, doubled at each failure up to RETRY_MAX_MS, back to none
	 * on success: each try copies the whole table under its lock. Writer
	 * thread only. */
	unsigned backoff_ms;
	uint64_t next_try_ms;
	unsigned long saves, attempts;
};

#define RETRY_MAX_MS 30000u

static uint64_t monotonic_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* What the next save must do, taken under the lock. */
struct save_request {
	bool forced;
	bsdp_state_aside_fn aside_fn;
	void *aside_ctx;
};

static void save_if_changed(struct bsdp_state_writer *w, const struct save_request *req)
{
	uint64_t gen = bsdp_bindings_generation(w->bindings);
	if (gen == w->saved_generation && !req->forced && !w->retry)
		return;
	/* A save asked for (a command, a stop) is tried at once. */
	if (w->backoff_ms && !req->forced && monotonic_ms() < w->next_try_ms)
		return;
	if (req->aside_fn) {
		/* Once, tried or not: the damaged file goes only when replaced. */
		char aside[4096 + 32];
		int a = bsdp_state_set_aside(w->path, (int64_t)time(NULL), aside, sizeof(aside));
		pthread_mutex_lock(&w->lock);
		w->aside_done = true;
		pthread_mutex_unlock(&w->lock);
		req->aside_fn(req->aside_ctx, w->path, a == 0 ? aside : NULL, a);
	}
	__atomic_add_fetch(&w->attempts, 1, __ATOMIC_RELAXED);
	int r = bsdp_state_save(w->path, w->bindings);
	if (r == 0) {
		__atomic_add_fetch(&w->saves, 1, __ATOMIC_RELAXED);
		w->saved_generation = gen;
		w->retry = false;
		w->last_error = 0;
		w->backoff_ms = 0;
	} else {
		/* Retried after a growing pause, like a pending change. */
		w->retry = true;
		w->backoff_ms = !w->backoff_ms ? w->interval_ms :
				w->backoff_ms < RETRY_MAX_MS / 2 ? w->backoff_ms * 2 : RETRY_MAX_MS;
		w->next_try_ms = monotonic_ms() + w->backoff_ms;
		if (r != w->last_error) {
			w->last_error = r;
			report_line(w->report, w->ctx, w->path, 0, strerror(-r));
		}
	}
}

/* Takes the pending request under the lock. */
static struct save_request take_request(struct bsdp_state_writer *w)
{
	struct save_request req = { .forced = w->forced };
	w->forced = false;
	if (!w->aside_done) {
		req.aside_fn = w->aside_fn;
		req.aside_ctx = w->aside_ctx;
	}
	return req;
}

static void *writer_main(void *arg)
{
	struct bsdp_state_writer *w = arg;
	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)(w->interval_ms % 1000) * 1000000L;
		until.tv_sec += w->interval_ms / 1000 + until.tv_nsec / 1000000000L;
		until.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&w->wake, &w->lock, &until);
		struct save_request req = take_request(w);
		pthread_mutex_unlock(&w->lock);
		save_if_changed(w, &req);
		pthread_mutex_lock(&w->lock);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct bsdp_state_writer *bsdp_state_writer_start(const char *path, struct bsdp_bindings *b,
						  unsigned interval_ms, bsdp_state_report_fn report,
						  void *ctx)
{
	struct bsdp_state_writer *w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(path)))
		goto fail;
	w->bindings = b;
	w->interval_ms = interval_ms ? interval_ms : 500;
	w->report = report;
	w->ctx = ctx;
	w->saved_generation = bsdp_bindings_generation(b);
	bsdp_monotonic_cond_init(&w->wake);
	pthread_mutex_init(&w->lock, NULL);
	if (pthread_create(&w->thread, NULL, writer_main, w) != 0) {
		pthread_cond_destroy(&w->wake);
		pthread_mutex_destroy(&w->lock);
		goto fail;
	}
	return w;
fail:
	if (w)
		free(w->path);
	free(w);
	return NULL;
}

void bsdp_state_writer_request_save(struct bsdp_state_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->forced = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

void bsdp_state_writer_set_aside_first(struct bsdp_state_writer *w, bsdp_state_aside_fn fn,
				       void *ctx)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->aside_fn = fn;
	w->aside_ctx = ctx;
	pthread_mutex_unlock(&w->lock);
}

unsigned long bsdp_state_writer_saves(struct bsdp_state_writer *w)
{
	return w ? __atomic_load_n(&w->saves, __ATOMIC_RELAXED) : 0;
}

unsigned long bsdp_state_writer_attempts(struct bsdp_state_writer *w)
{
	return w ? __atomic_load_n(&w->attempts, __ATOMIC_RELAXED) : 0;
}

void bsdp_state_writer_stop(struct bsdp_state_writer *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_mutex_lock(&w->lock);
	struct save_request req = take_request(w);
	pthread_mutex_unlock(&w->lock);
	w->backoff_ms = 0;   /* the last chance: no pause */
	save_if_changed(w, &req);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->path);
	free(w);
}
