/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "root.h"
#include "statefile.h"
#include "util.h"

int mo_statefile_write(const char *path, const char *text, mode_t mode, size_t max)
{
	_cleanup_free_ char *tmp = NULL, *dir = NULL;
	_cleanup_close_ int fd = -1, dfd = -1;
	size_t len = strlen(text);
	char *slash;
	int r = 0;

	if (len > max)
		return -EFBIG;
	if (asprintf(&tmp, "%s.tmp", path) < 0 || !(dir = strdup(path)))
		return -ENOMEM;
	/* Whatever was planted at the temporary name goes; a symlink there is never followed. */
	if (unlink(tmp) < 0 && errno != ENOENT)
		return -errno;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	for (size_t off = 0; off < len && r == 0;) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			r = n < 0 ? -errno : -EIO;
		else
			off += (size_t) n;
	}
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		(void) unlink(tmp);
		return r;
	}
	/* ... and the rename itself is on disk. */
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		strcpy(dir, ".");
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0)
		(void) fsync(dfd);
	return 0;
}

int mo_statefile_read_max(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	size_t len;
	int r;

	/* A FIFO or a device planted there is refused without blocking; a symlink is not followed. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	if (fd < 0)
		return errno == ELOOP ? -EBADFD : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	r = mo_read_fd_all(fd, max, ret, &len);
	if (r < 0)
		return r;
	if (ret_len)
		*ret_len = len;
	return 0;
}

int mo_statefile_read(const char *path, char **ret)
{
	return mo_statefile_read_max(path, MO_STATEFILE_MAX, ret, NULL);
}
