/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.conf tokenizer and parser (see dhcpd_conf.h). ISC dhcpd's own lexer
 * (common/conflex.c) reads hex bytes as words between ':' tokens, so a
 * boot-image list broken over lines with comments between its bytes is the
 * same token stream as one written on a single line. */
#include "hook/catalogue.h"
#include "tools/migrate/dhcpd_conf.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ARENA_CHUNK (64u << 10)
#define ARENA_MAX (256u << 20) /* all of a configuration's nodes, tokens and text */

struct arena_chunk {
	struct arena_chunk *prev;
	size_t used, cap;
	max_align_t data[];
};

struct dhcpd_conf {
	struct arena_chunk *chunks;
	size_t arena_total;
	size_t n_tokens;
	size_t n_files;
	struct dhcpd_node *root;
	size_t n_relative;
	struct dhcpd_include relative[DHCPD_CONF_FILES_MAX];
};

static void *arena_alloc(struct dhcpd_conf *c, size_t size)
{
	size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (size == 0)
		size = sizeof(max_align_t);
	struct arena_chunk *ch = c->chunks;
	if (!ch || ch->cap - ch->used < size) {
		size_t cap = size > ARENA_CHUNK ? size : ARENA_CHUNK;
		if (cap > ARENA_MAX - c->arena_total)
			return NULL;
		ch = malloc(sizeof(*ch) + cap);
		if (!ch)
			return NULL;
		ch->prev = c->chunks;
		ch->used = 0;
		ch->cap = cap;
		c->chunks = ch;
		c->arena_total += cap;
	}
	void *p = (char *)ch->data + ch->used;
	ch->used += size;
	memset(p, 0, size);
	return p;
}

static char *arena_strndup(struct dhcpd_conf *c, const char *s, size_t len)
{
	char *p = arena_alloc(c, len + 1);
	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

void dhcpd_conf_free(struct dhcpd_conf *conf)
{
	if (!conf)
		return;
	struct arena_chunk *ch = conf->chunks;
	while (ch) {
		struct arena_chunk *prev = ch->prev;
		free(ch);
		ch = prev;
	}
	free(conf);
}

const struct dhcpd_node *dhcpd_conf_root(const struct dhcpd_conf *conf)
{
	return conf ? conf->root : NULL;
}

size_t dhcpd_conf_n_files(const struct dhcpd_conf *conf)
{
	return conf ? conf->n_files : 0;
}

size_t dhcpd_conf_n_relative_includes(const struct dhcpd_conf *conf)
{
	return conf ? conf->n_relative : 0;
}

const struct dhcpd_include *dhcpd_conf_relative_include(const struct dhcpd_conf *conf, size_t i)
{
	return conf && i < conf->n_relative ? &conf->relative[i] : NULL;
}

bool dhcpd_tok_is(const struct dhcpd_token *t, const char *word)
{
	return t && t->kind == DHCPD_TOK_WORD && strcasecmp(t->text, word) == 0;
}

bool dhcpd_tok_punct(const struct dhcpd_token *t, char c)
{
	return t && t->kind == DHCPD_TOK_PUNCT && t->text[0] == c;
}

/* ---- errors ------------------------------------------------------------- */

struct errbuf {
	char *buf;
	size_t size;
};

__attribute__((format(printf, 4, 5)))
static int fail_at(struct errbuf *e, const char *file, unsigned line, const char *fmt, ...)
{
	if (!e->buf || !e->size)
		return -1;
	int n = line ? snprintf(e->buf, e->size, "%s:%u: ", file, line)
		     : snprintf(e->buf, e->size, "%s: ", file);
	if (n < 0 || (size_t)n >= e->size)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->buf + n, e->size - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- tokenizer ---------------------------------------------------------- */

struct tokens {
	struct dhcpd_token *v;
	size_t n, cap;
};

static bool is_word_char(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("-_./+*@%$&", ch));
}

static int push_token(struct dhcpd_conf *c, struct tokens *tk, enum dhcpd_tok_kind kind,
		      const char *text, size_t len, const char *file, unsigned line,
		      struct errbuf *e)
{
	if (c->n_tokens >= DHCPD_CONF_TOKENS_MAX)
		return fail_at(e, file, line, "more than %u tokens in the configuration",
			       DHCPD_CONF_TOKENS_MAX);
	if (tk->n == tk->cap) {
		size_t cap = tk->cap ? tk->cap * 2 : 256;
		struct dhcpd_token *v = realloc(tk->v, cap * sizeof(*v));
		if (!v)
			return fail_at(e, file, line, "out of memory");
		tk->v = v;
		tk->cap = cap;
	}
	char *s = arena_strndup(c, text, len);
	if (!s)
		return fail_at(e, file, line, "configuration too large to hold in memory");
	tk->v[tk->n++] = (struct dhcpd_token){ kind, s, len, file, line };
	c->n_tokens++;
	return 0;
}

/* A quoted string starting at data[*at] == '"'; escapes as dhcpd's lexer
 * (\t \r \n \b, \NNN octal, \xHH hex, anything else itself). */
static int lex_string(struct dhcpd_conf *c, struct tokens *tk, const char *data, size_t len,
		      size_t *at, const char *file, unsigned *line, struct errbuf *e)
{
	unsigned start_line = *line;
	size_t i = *at + 1, raw_end = i;
	/* the text unescaped is never longer than as written */
	while (raw_end < len && data[raw_end] != '"')
		raw_end += data[raw_end] == '\\' ? 2 : 1;
	char *buf = malloc(raw_end - i + 1);
	size_t n = 0;
	if (!buf)
		return fail_at(e, file, start_line, "out of memory");
	for (;;) {
		if (i >= len) {
			free(buf);
			return fail_at(e, file, start_line, "string never closed with '\"'");
		}
		char ch = data[i++];
		if (ch == '"')
			break;
		if (ch == '\n')
			(*line)++;
		if (ch != '\\') {
			buf[n++] = ch;
			continue;
		}
		if (i >= len)
			continue; /* reported as unterminated above */
		ch = data[i++];
		switch (ch) {
		case 't': buf[n++] = '\t'; break;
		case 'r': buf[n++] = '\r'; break;
		case 'n': buf[n++] = '\n'; break;
		case 'b': buf[n++] = '\b'; break;
		case 'x': {
			int v = 0, digits = 0;
			while (digits < 2 && i < len && bsdp_hex_digit(data[i]) >= 0)
				v = v * 16 + bsdp_hex_digit(data[i++]), digits++;
			buf[n++] = digits ? (char)v : 'x';
			break;
		}
		default:
			if (ch >= '0' && ch <= '7') {
				int v = ch - '0', digits = 1;
				while (digits < 3 && i < len && data[i] >= '0' && data[i] <= '7')
					v = v * 8 + (data[i++] - '0'), digits++;
				buf[n++] = (char)(v & 0xff);
			} else {
				if (ch == '\n')
					(*line)++;
				buf[n++] = ch;
			}
		}
	}
	int r = push_token(c, tk, DHCPD_TOK_STRING, buf, n, file, start_line, e);
	free(buf);
	*at = i;
	return r;
}

static int tokenize(struct dhcpd_conf *c, const char *file, const char *data, size_t len,
		    struct tokens *tk, struct errbuf *e)
{
	unsigned line = 1;
	size_t i = 0;
	while (i < len) {
		unsigned char ch = (unsigned char)data[i];
		if (ch == '\n') {
			line++;
			i++;
		} else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' || ch == '\v') {
			i++;
		} else if (ch == '#') {
			while (i < len && data[i] != '\n')
				i++;
		} else if (ch == '"') {
			if (lex_string(c, tk, data, len, &i, file, &line, e) < 0)
				return -1;
		} else if (is_word_char(ch)) {
			size_t s = i;
			while (i < len && is_word_char((unsigned char)data[i]))
				i++;
			if (push_token(c, tk, DHCPD_TOK_WORD, data + s, i - s, file, line, e) < 0)
				return -1;
		} else if (ch > 0x20 && ch < 0x7f) {
			if (push_token(c, tk, DHCPD_TOK_PUNCT, data + i, 1, file, line, e) < 0)
				return -1;
			i++;
		} else {
			return fail_at(e, file, line, "unexpected byte 0x%02x outside a string", ch);
		}
	}
	return 0;
}

/* ---- parser ------------------------------------------------------------- */

struct parser {
	struct dhcpd_conf *conf;
	struct errbuf *err;
	bool includes;                               /* false: include is refused */
	const char *stack[DHCPD_CONF_INCLUDE_DEPTH + 1]; /* real paths being read */
	size_t depth;
};

/* One file's tokens and the cursor over them. */
struct cursor {
	const struct dhcpd_token *t;
	size_t n, pos;
	const char *file;
	const char *dir;   /* for relative includes; NULL when includes are refused */
};

static int parse_file(struct parser *p, const char *path, const char *from_file,
		      unsigned from_line, struct dhcpd_node **ret);
static int parse_body(struct parser *p, struct cursor *cur, const struct dhcpd_token *open,
		      unsigned nest, struct dhcpd_node **ret_head);

static const struct dhcpd_token *peek(const struct cursor *cur)
{
	return cur->pos < cur->n ? &cur->t[cur->pos] : NULL;
}

static unsigned last_line(const struct cursor *cur)
{
	return cur->n ? cur->t[cur->n - 1].line : 1;
}

static struct dhcpd_node *new_node(struct parser *p, enum dhcpd_node_kind kind,
				   const struct cursor *cur, const struct dhcpd_token *first,
				   size_t n_toks)
{
	struct dhcpd_node *nd = arena_alloc(p->conf, sizeof(*nd));
	struct dhcpd_token *toks = n_toks ? arena_alloc(p->conf, n_toks * sizeof(*toks)) : NULL;
	if (!nd || (n_toks && !toks)) {
		fail_at(p->err, cur->file, first ? first->line : 0, "configuration too large");
		return NULL;
	}
	if (n_toks)
		memcpy(toks, first, n_toks * sizeof(*toks));
	nd->kind = kind;
	nd->file = first ? first->file : cur->file;
	nd->line = first ? first->line : 0;
	nd->toks = toks;
	nd->n_toks = n_toks;
	return nd;
}

/* Tokens from the cursor up to (not including) the first of stops; the
 * stop itself is left. Fails at the end of the file or at a stop not wanted. */
static int collect_until(struct parser *p, struct cursor *cur, const struct dhcpd_token *start,
			 bool brace_ok, bool semi_ok, const char *what, size_t *ret_n)
{
	size_t from = cur->pos;
	for (;;) {
		const struct dhcpd_token *t = peek(cur);
		if (!t)
			return fail_at(p->err, cur->file, start->line,
				       "%s runs to the end of the file without %s", what,
				       semi_ok ? "';'" : "'{'");
		if (dhcpd_tok_punct(t, ';')) {
			if (semi_ok)
				break;
			return fail_at(p->err, t->file, t->line, "';' where %s needs '{'", what);
		}
		if (dhcpd_tok_punct(t, '{')) {
			if (brace_ok)
				break;
			return fail_at(p->err, t->file, t->line, "'{' inside %s", what);
		}
		if (dhcpd_tok_punct(t, '}'))
			return fail_at(p->err, t->file, t->line, "'}' before the end of %s (missing %s)",
				       what, semi_ok ? "';'" : "'{'");
		cur->pos++;
	}
	*ret_n = cur->pos - from;
	return 0;
}

static int parse_braced(struct parser *p, struct cursor *cur, unsigned nest,
			struct dhcpd_node *nd)
{
	const struct dhcpd_token *open = peek(cur); /* '{' */
	cur->pos++;
	return parse_body(p, cur, open, nest + 1, &nd->child);
}

/* if COND { } [elsif COND { }]... [else { } | else if ...] */
static int parse_if(struct parser *p, struct cursor *cur, unsigned nest, struct dhcpd_node **ret)
{
	enum dhcpd_node_kind kind = DHCPD_NODE_IF;
	struct dhcpd_node *head = NULL, **link = &head;
	for (;;) {
		const struct dhcpd_token *kw = peek(cur);
		size_t n = 0;
		const struct dhcpd_token *cond = NULL;
		if (kind != DHCPD_NODE_ELSE) {
			cond = peek(cur);
			if (!cond || dhcpd_tok_punct(cond, '{'))
				return fail_at(p->err, kw ? kw->file : cur->file,
					       kw ? kw->line : last_line(cur), "'if' without a condition");
			if (collect_until(p, cur, kw, true, false, "an 'if' condition", &n) < 0)
				return -1;
		}
		struct dhcpd_node *nd = new_node(p, kind, cur, kind == DHCPD_NODE_ELSE ? NULL : cond, n);
		if (!nd)
			return -1;
		nd->file = kw ? kw->file : cur->file;
		nd->line = kw ? kw->line : 0;
		if (!dhcpd_tok_punct(peek(cur), '{'))
			return fail_at(p->err, nd->file, nd->line, "'else' without '{'");
		if (parse_braced(p, cur, nest, nd) < 0)
			return -1;
		*link = nd;
		link = &nd->alt;
		if (kind == DHCPD_NODE_ELSE)
			break;
		const struct dhcpd_token *t = peek(cur);
		if (dhcpd_tok_is(t, "elsif")) {
			cur->pos++;
			kind = DHCPD_NODE_ELSIF;
		} else if (dhcpd_tok_is(t, "else")) {
			cur->pos++;
			if (dhcpd_tok_is(peek(cur), "if")) {
				cur->pos++;
				kind = DHCPD_NODE_ELSIF;
			} else {
				kind = DHCPD_NODE_ELSE;
			}
		} else {
			break;
		}
		/* Branch nodes point at their keyword for file:line. */
		if (kind == DHCPD_NODE_ELSE && !dhcpd_tok_punct(peek(cur), '{'))
			return fail_at(p->err, t->file, t->line, "'else' without '{'");
	}
	*ret = head;
	return 0;
}

static int parse_include(struct parser *p, struct cursor *cur, const struct dhcpd_token *kw,
			 struct dhcpd_node **ret)
{
	const struct dhcpd_token *name = peek(cur);
	if (!name || name->kind != DHCPD_TOK_STRING || name->len == 0 ||
	    memchr(name->text, '\0', name->len))
		return fail_at(p->err, kw->file, kw->line, "include needs a quoted file name");
	cur->pos++;
	if (!dhcpd_tok_punct(peek(cur), ';'))
		return fail_at(p->err, kw->file, kw->line, "include \"%s\" not ended with ';'",
			       name->text);
	cur->pos++;
	if (!p->includes || !cur->dir)
		return fail_at(p->err, kw->file, kw->line, "include \"%s\" refused here",
			       name->text);
	if (p->depth >= DHCPD_CONF_INCLUDE_DEPTH)
		return fail_at(p->err, kw->file, kw->line,
			       "include \"%s\" nested deeper than %d files", name->text,
			       DHCPD_CONF_INCLUDE_DEPTH);
	char path[PATH_MAX];
	int n = name->text[0] == '/' ? snprintf(path, sizeof(path), "%s", name->text)
				     : snprintf(path, sizeof(path), "%s/%s", cur->dir, name->text);
	if (n < 0 || (size_t)n >= sizeof(path))
		return fail_at(p->err, kw->file, kw->line, "include path too long");
	struct dhcpd_conf *c = p->conf;
	if (name->text[0] != '/' && c->n_relative < DHCPD_CONF_FILES_MAX) {
		struct dhcpd_include *inc = &c->relative[c->n_relative];
		inc->file = kw->file;
		inc->line = kw->line;
		inc->name = name->text;
		inc->path = arena_strndup(c, path, (size_t)n);
		if (!inc->path)
			return fail_at(p->err, kw->file, kw->line, "configuration too large");
		c->n_relative++;
	}
	return parse_file(p, path, kw->file, kw->line, ret);
}

static int parse_body(struct parser *p, struct cursor *cur, const struct dhcpd_token *open,
		      unsigned nest, struct dhcpd_node **ret_head)
{
	struct dhcpd_node *head = NULL, **link = &head;
	if (nest > DHCPD_CONF_NEST_MAX)
		return fail_at(p->err, open->file, open->line, "blocks nested deeper than %d",
			       DHCPD_CONF_NEST_MAX);
	for (;;) {
		const struct dhcpd_token *t = peek(cur);
		struct dhcpd_node *nd = NULL;
		if (!t) {
			if (open)
				return fail_at(p->err, open->file, open->line,
					       "'{' never closed by '}'");
			break;
		}
		if (dhcpd_tok_punct(t, '}')) {
			if (!open)
				return fail_at(p->err, t->file, t->line, "'}' without a '{'");
			cur->pos++;
			break;
		}
		if (dhcpd_tok_punct(t, ';')) {
			cur->pos++; /* an empty statement, as after a block */
			continue;
		}
		if (dhcpd_tok_is(t, "if")) {
			cur->pos++;
			if (parse_if(p, cur, nest, &nd) < 0)
				return -1;
			/* the branch node takes the 'if' keyword's place */
			nd->file = t->file;
			nd->line = t->line;
		} else if (dhcpd_tok_is(t, "elsif") || dhcpd_tok_is(t, "else")) {
			return fail_at(p->err, t->file, t->line, "'%s' without an 'if'", t->text);
		} else if (dhcpd_tok_is(t, "include")) {
			cur->pos++;
			if (parse_include(p, cur, t, &nd) < 0)
				return -1;
		} else {
			size_t n;
			if (collect_until(p, cur, t, true, true, "a statement", &n) < 0)
				return -1;
			bool block = dhcpd_tok_punct(peek(cur), '{');
			nd = new_node(p, block ? DHCPD_NODE_BLOCK : DHCPD_NODE_STATEMENT, cur, t, n);
			if (!nd)
				return -1;
			if (block) {
				if (parse_braced(p, cur, nest, nd) < 0)
					return -1;
			} else {
				cur->pos++; /* ';' */
			}
		}
		*link = nd;
		/* an include may splice several nodes */
		while (*link)
			link = &(*link)->next;
	}
	*ret_head = head;
	return 0;
}

static int parse_tokens(struct parser *p, const char *file, const char *dir, const char *data,
			size_t len, struct dhcpd_node **ret)
{
	struct tokens tk = { 0 };
	int r = tokenize(p->conf, file, data, len, &tk, p->err);
	if (r == 0) {
		struct cursor cur = { tk.v, tk.n, 0, file, dir };
		r = parse_body(p, &cur, NULL, 0, ret);
	}
	free(tk.v);
	return r;
}

static int read_whole(const char *path, char **ret, size_t *ret_len, int *ret_errno)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		*ret_errno = errno;
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > DHCPD_CONF_FILE_MAX) {
		*ret_errno = S_ISDIR(st.st_mode) ? EISDIR : EFBIG;
		close(fd);
		return -1;
	}
	size_t size = (size_t)st.st_size, got = 0;
	char *buf = malloc(size + 1);
	if (!buf) {
		*ret_errno = ENOMEM;
		close(fd);
		return -1;
	}
	while (got < size) {
		ssize_t n = read(fd, buf + got, size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* shrank while read: take what is there */
		got += (size_t)n;
	}
	close(fd);
	*ret = buf;
	*ret_len = got;
	return 0;
}

static int parse_file(struct parser *p, const char *path, const char *from_file,
		      unsigned from_line, struct dhcpd_node **ret)
{
	char real[PATH_MAX];
	char *data = NULL;
	size_t len = 0;
	int err = 0;
	const char *who = from_file ? from_file : path;

	if (!realpath(path, real) || read_whole(real, &data, &len, &err) < 0) {
		if (!err)
			err = errno;
		return fail_at(p->err, who, from_line, "cannot read %s: %s", path,
			       err == EFBIG ? "not a regular file of at most 4 MiB" : strerror(err));
	}
	for (size_t i = 0; i < p->depth; i++)
		if (strcmp(p->stack[i], real) == 0) {
			free(data);
			return fail_at(p->err, who, from_line, "include cycle: %s is already being read",
				       path);
		}
	if (p->conf->n_files >= DHCPD_CONF_FILES_MAX) {
		free(data);
		return fail_at(p->err, who, from_line, "more than %d files included",
			       DHCPD_CONF_FILES_MAX);
	}
	char *file = arena_strndup(p->conf, path, strlen(path));
	char *dir = arena_strndup(p->conf, path, strlen(path));
	char *real_kept = arena_strndup(p->conf, real, strlen(real));
	if (!file || !dir || !real_kept) {
		free(data);
		return fail_at(p->err, who, from_line, "configuration too large");
	}
	char *slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	p->conf->n_files++;
	p->stack[p->depth++] = real_kept;
	int r = parse_tokens(p, file, dir, data, len, ret);
	p->depth--;
	free(data);
	return r;
}

static int finish(struct parser *p, int r, struct dhcpd_conf **ret)
{
	if (r < 0) {
		dhcpd_conf_free(p->conf);
		return -1;
	}
	*ret = p->conf;
	return 0;
}

int dhcpd_conf_load(const char *path, struct dhcpd_conf **ret, char *err, size_t err_size)
{
	struct errbuf e = { err, err_size };
	struct parser p = { .err = &e, .includes = true };
	if (!path || !ret)
		return fail_at(&e, "dhcpd_conf_load", 0, "no path");
	p.conf = calloc(1, sizeof(*p.conf));
	if (!p.conf)
		return fail_at(&e, path, 0, "out of memory");
	struct dhcpd_node *root = NULL;
	int r = parse_file(&p, path, NULL, 0, &root);
	p.conf->root = root;
	return finish(&p, r, ret);
}

int dhcpd_conf_parse(const char *name, const char *data, size_t len, struct dhcpd_conf **ret,
		     char *err, size_t err_size)
{
	struct errbuf e = { err, err_size };
	struct parser p = { .err = &e, .includes = false };
	if (!name || !ret || (!data && len))
		return fail_at(&e, "dhcpd_conf_parse", 0, "no input");
	if (len > DHCPD_CONF_FILE_MAX)
		return fail_at(&e, name, 0, "larger than 4 MiB");
	p.conf = calloc(1, sizeof(*p.conf));
	if (!p.conf)
		return fail_at(&e, name, 0, "out of memory");
	const char *file = arena_strndup(p.conf, name, strlen(name));
	struct dhcpd_node *root = NULL;
	int r = file ? parse_tokens(&p, file, NULL, data ? data : "", len, &root)
		     : fail_at(&e, name, 0, "out of memory");
	p.conf->n_files = 1;
	p.conf->root = root;
	return finish(&p, r, ret);
}
