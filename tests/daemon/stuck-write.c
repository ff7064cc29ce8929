/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * LD_PRELOAD shim for the daemon tests: a write of "offline" to
 * memoryN/state, for N in $MEMOFF_TEST_STUCK_BLOCKS ("13" or "12,13"),
 * behaves like the kernel's offline_pages() on a block with a pinned page:
 * it does not return until a signal is caught, and then fails with EINTR.
 * Everything else goes to the real write(). Test-only; never installed.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int stuck(int fd, const void *buf, size_t n)
{
	const char *list = getenv("MEMOFF_TEST_STUCK_BLOCKS"), *base;
	char link[64], path[4096], want[32];
	ssize_t l;

	if (!list || n < 7 || memcmp(buf, "offline", 7) != 0)
		return 0;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	l = readlink(link, path, sizeof(path) - 1);
	if (l <= 0)
		return 0;
	path[l] = '\0';
	if (l < 6 || strcmp(path + l - 6, "/state") != 0)
		return 0;
	path[l - 6] = '\0';
	base = strrchr(path, '/');
	if (!base || strncmp(base + 1, "memory", 6) != 0)
		return 0;
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, ",");

		snprintf(want, sizeof(want), "%.*s", (int) k, p);
		if (strcmp(base + 7, want) == 0)
			return 1;
		p += k + (p[k] == ',');
	}
	return 0;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real_write)(int, const void *, size_t);

	if (!real_write)
		real_write = (ssize_t (*)(int, const void *, size_t)) dlsym(RTLD_NEXT, "write");
	if (stuck(fd, buf, n)) {
		sigset_t mask;

		/* Wait, with the caller's signal mask, for a signal that is caught. */
		pthread_sigmask(SIG_SETMASK, NULL, &mask);
		sigsuspend(&mask);
		/*
		 * The kernel rolls the block back to online; a regular file was
		 * truncated by the caller's O_TRUNC instead: put "online" back.
		 */
		(void) !pwrite(fd, "online\n", 7, 0);
		errno = EINTR;
		return -1;
	}
	return real_write(fd, buf, n);
}
