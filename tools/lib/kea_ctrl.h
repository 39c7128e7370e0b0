/* SPDX-License-Identifier: MPL-2.0 */
/* Talking to Kea's unix control socket without a JSON library: one command
 * out, its answer read back whole, and the few top-level members a tool
 * needs ("result", "text") picked out of it. */
#ifndef BSDP_KEA_CTRL_H
#define BSDP_KEA_CTRL_H

#include <stdbool.h>
#include <stddef.h>

/* Appends s as a JSON string (quotes and escapes included) to buf of size
 * bytes holding *len; false when it does not fit. */
bool kea_ctrl_json_string(char *buf, size_t size, size_t *len, const char *s);

/* Sends request over the unix socket at path and reads the answer (one
 * JSON value; Kea then closes the connection) into out (NUL-terminated),
 * waiting at most timeout_ms. 0, or -1 with why in err. */
int kea_ctrl_call(const char *path, const char *request, int timeout_ms, char *out,
		  size_t out_size, char *err, size_t err_size);

/* The value of a top-level member of the answer object (or of the first
 * object of a list, as Kea's control agent answers): start and length in
 * *ret_at, *ret_len. false when absent or the text is not JSON. */
bool kea_ctrl_member(const char *json, const char *key, const char **ret_at, size_t *ret_len);

/* Decodes the JSON string at value (as kea_ctrl_member found it) into out,
 * as UTF-8. false when it is not a string or does not fit. */
bool kea_ctrl_string(const char *value, size_t len, char *out, size_t out_size);

#endif
