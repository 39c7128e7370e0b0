/* SPDX-License-Identifier: MPL-2.0 */
/* Replays a fuzz target's corpus (every file named on the command line)
 * as a plain test, so make check runs the seeds and every crash found. */
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int main(int argc, char **argv)
{
	static unsigned char buf[1 << 20];
	int run = 0;
	for (int i = 1; i < argc; i++) {
		FILE *f = fopen(argv[i], "rb");
		if (!f) {
			perror(argv[i]);
			return 1;
		}
		size_t n = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		LLVMFuzzerTestOneInput(buf, n);
		run++;
	}
	printf("%s: %d inputs replayed, 0 failed\n", argv[0], run);
	return 0;
}
