/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Run a fuzz target's LLVMFuzzerTestOneInput() on saved inputs, without
 * libFuzzer: the corpus (seeds and every crash ever found) as a regression
 * test built with $(CC), with or without sanitizers.
 *
 *   replay-NAME FILE|DIR...
 *
 * Runs every regular file given, or found directly in a DIR given. Prints the
 * name of each input before running it (so the last name is the culprit when
 * it crashes) and the count at the end. Exit 0 when every input ran, 1 on a
 * usage or I/O error; a failed check aborts.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, unsigned *count)
{
	struct stat st;
	uint8_t *buf;
	size_t have = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "replay: %s: %m\n", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	/* +1: a zero-length input still gets a valid pointer. */
	buf = malloc((size_t) st.st_size + 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	while (have < (size_t) st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t) st.st_size - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t) n;
	}
	close(fd);
	printf("replay: %s (%zu bytes)\n", path, have);
	fflush(stdout);
	/* An exact-size copy, so that ASan sees reads past the end. */
	{
		uint8_t *exact = malloc(have ? have : 1);

		if (!exact) {
			free(buf);
			return -1;
		}
		memcpy(exact, buf, have);
		free(buf);
		LLVMFuzzerTestOneInput(exact, have);
		free(exact);
	}
	(*count)++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

static int run_dir(const char *dir, unsigned *count)
{
	char **paths = NULL;
	size_t n = 0;
	DIR *d;
	struct dirent *de;
	int r = 0;

	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "replay: %s: %m\n", dir);
		return -1;
	}
	while ((de = readdir(d))) {
		char *p, **np;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			r = -1;
			break;
		}
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		np = realloc(paths, (n + 1) * sizeof(*paths));
		if (!np) {
			free(p);
			r = -1;
			break;
		}
		paths = np;
		paths[n++] = p;
	}
	closedir(d);
	if (n > 0)
		qsort(paths, n, sizeof(*paths), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (r == 0 && run_file(paths[i], count) < 0)
			r = -1;
		free(paths[i]);
	}
	free(paths);
	return r;
}

int main(int argc, char **argv)
{
	unsigned count = 0;
	int r = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %m\n", argv[i]);
			r = -1;
		} else if (S_ISDIR(st.st_mode)) {
			if (run_dir(argv[i], &count) < 0)
				r = -1;
		} else if (run_file(argv[i], &count) < 0)
			r = -1;
	}
	printf("replay: %u inputs\n", count);
	return r < 0 ? 1 : 0;
}
