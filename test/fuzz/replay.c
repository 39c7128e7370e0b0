/* SPDX-License-Identifier: MPL-2.0 */
/* Replays a fuzz target's corpus (every file named on the command line)
 * as a plain test, so make check runs the seeds and every crash found.
 * Like libFuzzer, each input goes to the target in a heap block of exactly
 * its size, so ASan reports a read one byte past the end. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* The whole file in a block of its exact size; NULL (reported) on error. */
static unsigned char *read_input(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	unsigned char *buf = NULL;

	if (!f || fstat(fileno(f), &st) != 0) {
		perror(path);
		goto out;
	}
	*size = (size_t)st.st_size;
	/* libFuzzer passes an empty input as new uint8_t[0]: never NULL, and a
	 * 1-byte block under ASan; malloc(0) may return NULL, so ask for 1. */
	buf = malloc(*size ? *size : 1);
	if (!buf) {
		fprintf(stderr, "%s: out of memory\n", path);
		goto out;
	}
	if (fread(buf, 1, *size, f) != *size || fgetc(f) != EOF) {
		fprintf(stderr, "%s: could not read exactly %zu bytes\n", path, *size);
		free(buf);
		buf = NULL;
	}
out:
	if (f)
		fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	int run = 0;
	for (int i = 1; i < argc; i++) {
		size_t n;
		unsigned char *data = read_input(argv[i], &n);
		if (!data)
			return 1;
		LLVMFuzzerTestOneInput(data, n);
		free(data);
		run++;
	}
	printf("%s: %d inputs replayed, 0 failed\n", argv[0], run);
	return 0;
}
