/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "root.h"
#include "util.h"

static int open_dir(const char *prefix, const char *sub)
{
	_cleanup_free_ char *path = NULL;
	const char *p = (prefix && *prefix) ? prefix : "/";
	int fd;

	if (asprintf(&path, "%s/%s", p, sub) < 0)
		return -ENOMEM;
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int mo_root_new(const char *sysroot, const char *procroot, struct mo_root **ret)
{
	struct mo_root *r;
	struct statfs sfs;
	int fd;

	if (!sysroot || !*sysroot)
		sysroot = "/";
	if (!procroot || !*procroot)
		procroot = sysroot;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->sys_fd = r->proc_fd = r->dev_fd = -1;
	r->sysroot = strdup(sysroot);
	r->procroot = strdup(procroot);
	if (!r->sysroot || !r->procroot) {
		mo_root_free(r);
		return -ENOMEM;
	}
	fd = open_dir(sysroot, "sys");
	if (fd < 0) {
		mo_root_free(r);
		return fd;
	}
	r->sys_fd = fd;
	r->proc_fd = open_dir(procroot, "proc");
	if (r->proc_fd < 0)
		r->proc_fd = -1;
	r->dev_fd = open_dir(sysroot, "dev");
	if (r->dev_fd < 0)
		r->dev_fd = -1;
	/* O_PATH descriptors work with fstatfs(). */
	r->sys_is_sysfs = fstatfs(r->sys_fd, &sfs) == 0 && sfs.f_type == SYSFS_MAGIC;
	*ret = r;
	return 0;
}

void mo_root_free(struct mo_root *r)
{
	if (!r)
		return;
	if (r->sys_fd >= 0)
		close(r->sys_fd);
	if (r->proc_fd >= 0)
		close(r->proc_fd);
	if (r->dev_fd >= 0)
		close(r->dev_fd);
	free(r->sysroot);
	free(r->procroot);
	free(r);
}

int mo_root_write_allowed(const struct mo_root *root)
{
	const char *g = getenv(MO_GUARD_ENV);

	if (g && streq(g, "1") && root->sys_is_sysfs)
		return -EROFS;
	return 0;
}

int mo_root_open(const struct mo_root *root, bool proc, const char *rel, int flags)
{
	int dfd = proc ? root->proc_fd : root->sys_fd;
	int fd, acc = flags & O_ACCMODE;

	if (dfd < 0)
		return -ENOENT;
	while (*rel == '/')
		rel++;
	if (!proc && (acc == O_WRONLY || acc == O_RDWR)) {
		int r = mo_root_write_allowed(root);
		if (r < 0)
			return r;
	}
	fd = openat(dfd, *rel ? rel : ".", flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int mo_root_open_dev(const struct mo_root *root, const char *rel, int flags)
{
	int fd;

	if (root->dev_fd < 0)
		return -ENOENT;
	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EROFS;
	while (*rel == '/')
		rel++;
	fd = openat(root->dev_fd, *rel ? rel : ".", flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

ssize_t mo_root_read(const struct mo_root *root, bool proc, const char *rel, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (size == 0)
		return -EINVAL;
	fd = mo_root_open(root, proc, rel, O_RDONLY);
	if (fd < 0)
		return fd;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	return n;
}

int mo_read_fd_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t) n;
		if (len > max)
			return -EFBIG;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

int mo_root_write(const struct mo_root *root, const char *rel, const char *value)
{
	_cleanup_close_ int fd = mo_root_open(root, false, rel, O_WRONLY);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return fd;
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t) n == len ? 0 : -EIO;
}

int mo_root_opendir(const struct mo_root *root, bool proc, const char *rel, DIR **ret)
{
	int fd = mo_root_open(root, proc, rel, O_RDONLY | O_DIRECTORY);
	DIR *d;

	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret = d;
	return 0;
}

int mo_root_read_all(const struct mo_root *root, bool proc, const char *rel, size_t max, char **ret,
		     size_t *ret_len)
{
	_cleanup_close_ int fd = mo_root_open(root, proc, rel, O_RDONLY);

	if (fd < 0)
		return fd;
	return mo_read_fd_all(fd, max, ret, ret_len);
}

ssize_t mo_root_readlink_base(const struct mo_root *root, bool proc, const char *rel, char *buf, size_t size)
{
	char target[4096];
	int dfd = proc ? root->proc_fd : root->sys_fd;
	const char *base;
	ssize_t n;
	size_t len;

	if (dfd < 0)
		return -ENOENT;
	while (*rel == '/')
		rel++;
	n = readlinkat(dfd, rel, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	len = strlen(base);
	if (len + 1 > size)
		return -ENAMETOOLONG;
	memcpy(buf, base, len + 1);
	return (ssize_t) len;
}
