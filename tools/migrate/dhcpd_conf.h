/* SPDX-License-Identifier: MPL-2.0 */
/* A bounded reader of ISC dhcpd.conf: tokens, statements, blocks and
 * if/elsif/else chains, with includes spliced in, every node carrying its
 * file and line. It knows dhcpd's syntax, not its meaning (bsdp_find.h
 * reads the meaning). Everything lives in one arena freed at once. */
#ifndef BSDP_DHCPD_CONF_H
#define BSDP_DHCPD_CONF_H

#include <stdbool.h>
#include <stddef.h>

#define DHCPD_CONF_FILE_MAX (4u << 20)     /* bytes of one file */
#define DHCPD_CONF_TOKENS_MAX 1000000u     /* tokens over all files */
#define DHCPD_CONF_INCLUDE_DEPTH 8
#define DHCPD_CONF_FILES_MAX 128
#define DHCPD_CONF_NEST_MAX 64             /* braces inside braces */
#define DHCPD_CONF_ERR_MAX 512

enum dhcpd_tok_kind {
	DHCPD_TOK_WORD,    /* names, numbers, addresses, hex bytes (no ':') */
	DHCPD_TOK_STRING,  /* "..." with escapes resolved; may hold NUL */
	DHCPD_TOK_PUNCT,   /* one character: ; { } ( ) = , : ! ~ ... */
};

struct dhcpd_token {
	enum dhcpd_tok_kind kind;
	const char *text;  /* NUL-terminated; len excludes the NUL */
	size_t len;
	const char *file;
	unsigned line;
};

enum dhcpd_node_kind {
	DHCPD_NODE_STATEMENT, /* toks ; */
	DHCPD_NODE_BLOCK,     /* toks { children } (class, host, subnet...) */
	DHCPD_NODE_IF,        /* if toks { children } ; alt = elsif/else */
	DHCPD_NODE_ELSIF,     /* elsif or else if: toks is the condition */
	DHCPD_NODE_ELSE,      /* no toks */
};

struct dhcpd_node {
	enum dhcpd_node_kind kind;
	const char *file;
	unsigned line;
	const struct dhcpd_token *toks; /* statement words (no ';'), block header, or condition */
	size_t n_toks;
	struct dhcpd_node *child;       /* first node of the body */
	struct dhcpd_node *next;        /* next sibling */
	struct dhcpd_node *alt;         /* IF/ELSIF: the following elsif/else branch */
};

struct dhcpd_conf;

/* Reads path and its includes. 0 and *ret set, or -1 with "file:line:
 * message" in err (nothing returned). Includes are relative to the
 * including file, at most DHCPD_CONF_INCLUDE_DEPTH deep, never cyclic. */
int dhcpd_conf_load(const char *path, struct dhcpd_conf **ret, char *err, size_t err_size);
/* Parses a buffer named name; an include is refused (fuzzing, tests). */
int dhcpd_conf_parse(const char *name, const char *data, size_t len, struct dhcpd_conf **ret,
		     char *err, size_t err_size);
void dhcpd_conf_free(struct dhcpd_conf *conf);
const struct dhcpd_node *dhcpd_conf_root(const struct dhcpd_conf *conf);
/* Files read, the main one first. */
size_t dhcpd_conf_n_files(const struct dhcpd_conf *conf);

/* An include named by a relative path: read next to the file that names
 * it, where dhcpd opens it from its working directory instead. */
struct dhcpd_include {
	const char *file;  /* the including file */
	unsigned line;
	const char *name;  /* as written */
	const char *path;  /* as read */
};
size_t dhcpd_conf_n_relative_includes(const struct dhcpd_conf *conf);
const struct dhcpd_include *dhcpd_conf_relative_include(const struct dhcpd_conf *conf, size_t i);

/* Helpers for readers of the tree. */
bool dhcpd_tok_is(const struct dhcpd_token *t, const char *word);
bool dhcpd_tok_punct(const struct dhcpd_token *t, char c);

#endif
