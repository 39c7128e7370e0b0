/* SPDX-License-Identifier: MPL-2.0 */
#include "tools/lib/kea_ctrl.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

bool kea_ctrl_json_string(char *buf, size_t size, size_t *len, const char *s)
{
	size_t n = *len;

	if (n + 1 >= size)
		return false;
	buf[n++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t k;
		if (c == '"' || c == '\\')
			k = (size_t)snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c < 0x20)
			k = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
		else
			k = (size_t)snprintf(esc, sizeof(esc), "%c", c);
		if (n + k + 1 >= size)
			return false;
		memcpy(buf + n, esc, k);
		n += k;
	}
	if (n + 2 > size)
		return false;
	buf[n++] = '"';
	buf[n] = 0;
	*len = n;
	return true;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Skips one JSON value at p (no validation beyond nesting and strings);
 * NULL when it does not end before end. */
static const char *skip_value(const char *p, const char *end)
{
	int depth = 0;
	bool in_string = false;

	for (; p < end; p++) {
		char c = *p;
		if (in_string) {
			if (c == '\\')
				p++;
			else if (c == '"') {
				in_string = false;
				if (depth == 0)
					return p + 1;
			}
			continue;
		}
		if (c == '"')
			in_string = true;
		else if (c == '{' || c == '[')
			depth++;
		else if (c == '}' || c == ']') {
			if (--depth == 0)
				return p + 1;
			if (depth < 0)
				return p; /* the end of the enclosing container */
		} else if (depth == 0 && (c == ',' || c == ' ' || c == '\n' || c == '\r' || c == '\t'))
			return p; /* a number, true, false or null ends here */
	}
	return depth == 0 && !in_string ? p : NULL;
}

static const char *skip_space(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* Whether buf holds one whole JSON value (so the answer is complete). */
static bool whole(const char *buf, size_t len)
{
	const char *p = skip_space(buf, buf + len);
	if (p == buf + len || (*p != '{' && *p != '['))
		return false;
	const char *e = skip_value(p, buf + len);
	return e && e > p && (e[-1] == '}' || e[-1] == ']');
}

int kea_ctrl_call(const char *path, const char *request, int timeout_ms, char *out,
		  size_t out_size, char *err, size_t err_size)
{
	struct sockaddr_un sa;
	size_t len = 0, sent = 0, req_len = strlen(request);
	int64_t deadline = now_ms() + timeout_ms;
	int fd, rc = -1;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, err_size, "socket path too long: %s", path);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		snprintf(err, err_size, "cannot connect to %s: %s", path, strerror(errno));
		goto out;
	}
	while (sent < req_len) {
		ssize_t n = send(fd, request + sent, req_len - sent, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_size, "cannot send to %s: %s", path, strerror(errno));
			goto out;
		}
		sent += (size_t)n;
	}
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0) {
			snprintf(err, err_size, "no whole answer from %s within %d ms", path, timeout_ms);
			goto out;
		}
		int p = poll(&pfd, 1, (int)left);
		if (p < 0 && errno == EINTR)
			continue;
		if (p <= 0)
			continue;
		if (len + 1 >= out_size) {
			snprintf(err, err_size, "answer from %s larger than %zu bytes", path, out_size - 1);
			goto out;
		}
		ssize_t n = recv(fd, out + len, out_size - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, err_size, "cannot read from %s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
		out[len] = 0;
		if (whole(out, len)) {
			rc = 0;
			goto out;
		}
		if (n == 0) {
			snprintf(err, err_size, "%s closed the connection before a whole answer", path);
			goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

bool kea_ctrl_member(const char *json, const char *key, const char **ret_at, size_t *ret_len)
{
	const char *end = json + strlen(json);
	const char *p = skip_space(json, end);
	size_t klen = strlen(key);

	if (p < end && *p == '[')
		p = skip_space(p + 1, end);
	if (p >= end || *p != '{')
		return false;
	p = skip_space(p + 1, end);
	while (p < end && *p == '"') {
		const char *k = p + 1;
		const char *ke = skip_value(p, end);
		if (!ke)
			return false;
		bool match = (size_t)(ke - 1 - k) == klen && memcmp(k, key, klen) == 0;
		p = skip_space(ke, end);
		if (p >= end || *p != ':')
			return false;
		p = skip_space(p + 1, end);
		const char *ve = skip_value(p, end);
		if (!ve || ve == p)
			return false;
		if (match) {
			*ret_at = p;
			*ret_len = (size_t)(ve - p);
			return true;
		}
		p = skip_space(ve, end);
		if (p < end && *p == ',')
			p = skip_space(p + 1, end);
	}
	return false;
}

static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

bool kea_ctrl_string(const char *value, size_t len, char *out, size_t out_size)
{
	size_t o = 0;

	if (len < 2 || value[0] != '"' || value[len - 1] != '"' || out_size == 0)
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		char enc[4];
		size_t n = 1;
		enc[0] = value[i];
		if (value[i] == '\\') {
			char c = value[++i];
			unsigned cp;
			int h;
			switch (c) {
			case 'n': enc[0] = '\n'; break;
			case 't': enc[0] = '\t'; break;
			case 'r': enc[0] = '\r'; break;
			case 'b': enc[0] = '\b'; break;
			case 'f': enc[0] = '\f'; break;
			case 'u':
				if (i + 4 >= len || (h = hex4(value + i + 1)) < 0)
					return false;
				i += 4;
				cp = (unsigned)h;
				/* A lone surrogate half cannot be UTF-8: shown as U+FFFD. */
				if (cp >= 0xd800 && cp <= 0xdfff)
					cp = 0xfffd;
				if (cp < 0x80) {
					enc[0] = (char)cp;
				} else if (cp < 0x800) {
					enc[0] = (char)(0xc0 | cp >> 6);
					enc[1] = (char)(0x80 | (cp & 0x3f));
					n = 2;
				} else {
					enc[0] = (char)(0xe0 | cp >> 12);
					enc[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
					enc[2] = (char)(0x80 | (cp & 0x3f));
					n = 3;
				}
				break;
			default: enc[0] = c; break;
			}
		}
		if (o + n >= out_size)
			return false;
		memcpy(out + o, enc, n);
		o += n;
	}
	out[o] = 0;
	return true;
}
