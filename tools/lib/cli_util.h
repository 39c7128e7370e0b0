/* SPDX-License-Identifier: MPL-2.0 */
/* Small helpers the command-line tools (bsdpc, bsdp-load) share. */
#ifndef BSDP_CLI_UTIL_H
#define BSDP_CLI_UTIL_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* Decimal, or hex with 0x; no sign, no spaces, nothing after. 0 or -1. */
int cli_parse_uint(const char *s, unsigned long max, unsigned long *ret);
/* Dotted quad of a host-order address into buf. */
const char *cli_ip_str(uint32_t host_order, char *buf, size_t size);
/* The local address the kernel would use towards server (host order).
 * 0, or -1 with a message on stderr prefixed by prog. */
int cli_route_source(const char *prog, struct in_addr server, uint32_t *ret);

#endif
