/* SPDX-License-Identifier: MPL-2.0 */
#include "tools/lib/cli_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cli_parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	int base = 10;
	char *end;
	unsigned long v;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	/* strtoul alone would accept signs, spaces and an empty string. */
	if (!((s[0] >= '0' && s[0] <= '9') ||
	      (base == 16 && ((s[0] >= 'a' && s[0] <= 'f') || (s[0] >= 'A' && s[0] <= 'F')))))
		return -1;
	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || *end || v > max)
		return -1;
	*ret = v;
	return 0;
}

const char *cli_ip_str(uint32_t host_order, char *buf, size_t size)
{
	struct in_addr a = { htonl(host_order) };

	if (!inet_ntop(AF_INET, &a, buf, (socklen_t)size))
		snprintf(buf, size, "?");
	return buf;
}

int cli_route_source(const char *prog, struct in_addr server, uint32_t *ret)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(67), .sin_addr = server };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	/* connect() on UDP sends nothing; it only resolves the route. */
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) < 0) {
		fprintf(stderr, "%s: no route to %s: %s\n", prog, inet_ntoa(server), strerror(errno));
	} else {
		*ret = ntohl(sin.sin_addr.s_addr);
		rc = 0;
	}
	close(fd);
	return rc;
}
