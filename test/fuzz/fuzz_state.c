/* SPDX-License-Identifier: MPL-2.0 */
/* Fuzzes the state-file line parser: whatever parses must format back to a
 * line that parses to the same binding. */
#include <stdlib.h>
#include <string.h>

#include "store/state_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bsdp_binding b, back;
	const char *why;
	char line[BSDP_STATE_LINE_MAX + 1];

	if (bsdp_state_parse_line((const char *)data, size, &b, &why) < 0)
		return 0;
	int n = bsdp_state_format_line(&b, line, sizeof(line));
	if (n <= 0 || bsdp_state_parse_line(line, (size_t)n - 1, &back, &why) < 0)
		abort();
	if (memcmp(b.mac, back.mac, 6) || b.image_id != back.image_id || b.time != back.time ||
	    b.number != back.number)
		abort();
	return 0;
}
