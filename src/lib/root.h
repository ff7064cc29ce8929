/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one injectable root behind every sysfs and procfs path memoff uses.
 *
 * A root is a pair of directory file descriptors, <sysroot>/sys and
 * <procroot>/proc (plus <sysroot>/dev, read-only, for /dev/kmsg); every read
 * and write goes through openat() relative to them, so a captured tree, a
 * fault-injection tree and the live machine look the same to the rest of the
 * code. No other module builds an absolute /sys, /proc or /dev path.
 *
 * The write guard: when the environment variable MEMOFF_FORBID_HOST_WRITES is
 * set to 1 (make check exports it), any attempt to open a file for writing
 * inside a real sysfs mount is refused with -EROFS, so that a bug in a test
 * can never change the state of the host's memory.
 */

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MO_GUARD_ENV "MEMOFF_FORBID_HOST_WRITES"

struct mo_root {
	int sys_fd;      /* <sysroot>/sys, O_PATH|O_DIRECTORY */
	int proc_fd;     /* <procroot>/proc, or -1 when that directory is absent */
	int dev_fd;      /* <sysroot>/dev (read-only use: kmsg), or -1 when absent */
	char *sysroot;   /* as given ("/" by default), for messages */
	char *procroot;
	bool sys_is_sysfs; /* sys_fd lives on a real sysfs mount */
};

/**
 * mo_root_new() - open a root.
 * @sysroot: directory holding sys/ (NULL or "" means "/")
 * @procroot: directory holding proc/ (NULL means the same as @sysroot)
 * @ret: the new root, to be freed with mo_root_free()
 *
 * Return: 0, or a negative errno when <sysroot>/sys cannot be opened.
 * A missing <procroot>/proc is not an error: proc_fd is then -1 and every
 * procfs access fails with -ENOENT.
 */
int mo_root_new(const char *sysroot, const char *procroot, struct mo_root **ret);
void mo_root_free(struct mo_root *root);
static inline void mo_root_freep(struct mo_root **r) { mo_root_free(*r); }

/**
 * mo_root_open() - open a file relative to sys/ or proc/.
 * @proc: false for sys/, true for proc/
 * @rel: path relative to that directory, e.g. "devices/system/memory"
 * @flags: open(2) flags; O_CLOEXEC is always added
 *
 * Return: a file descriptor, or a negative errno. Opening for writing inside
 * a real sysfs under the write guard returns -EROFS.
 */
int mo_root_open(const struct mo_root *root, bool proc, const char *rel, int flags);

/**
 * mo_root_open_dev() - open a file relative to <sysroot>/dev for reading.
 * @rel: path relative to dev/, e.g. "kmsg"
 * @flags: open(2) flags; O_CLOEXEC is always added. Only read access is
 *         allowed (-EROFS otherwise): memoff never writes to a device node.
 *
 * Return: a file descriptor, or a negative errno (-ENOENT without dev/).
 */
int mo_root_open_dev(const struct mo_root *root, const char *rel, int flags);

/**
 * mo_root_opendir() - open a directory relative to sys/ or proc/ for readdir().
 * @ret: the stream, to be closed with closedir() (_cleanup_closedir_)
 * Return: 0 or a negative errno.
 */
int mo_root_opendir(const struct mo_root *root, bool proc, const char *rel, DIR **ret);

/**
 * mo_root_write() - write @value to an attribute under sys/ in one write(2).
 *
 * A write interrupted by a signal is retried: for attributes whose write
 * returns at once (eject, a switch). Not for memoryN/state, whose write is
 * ended by a signal on purpose (attempt.c).
 *
 * Return: 0, or a negative errno (-EROFS under the write guard, -EIO for a
 * short write).
 */
int mo_root_write(const struct mo_root *root, const char *rel, const char *value);

/**
 * mo_root_read() - read a small attribute file into @buf.
 *
 * Reads at most @size-1 bytes, NUL-terminates and strips trailing
 * whitespace. Return: the string length, or a negative errno.
 */
ssize_t mo_root_read(const struct mo_root *root, bool proc, const char *rel, char *buf, size_t size);

/**
 * mo_read_fd_all() - read @fd to its end into a new NUL-terminated buffer.
 * @max: refuse (-EFBIG) a file longer than this
 * @ret_len: receives the length, or NULL
 * Return: 0 or a negative errno.
 */
int mo_read_fd_all(int fd, size_t max, char **ret, size_t *ret_len);

/** mo_root_read_all() - mo_read_fd_all() of a file relative to sys/ or proc/. */
int mo_root_read_all(const struct mo_root *root, bool proc, const char *rel, size_t max, char **ret,
		     size_t *ret_len);

/**
 * mo_root_readlink() - the last component of a symlink's target.
 *
 * For "devices/system/memory/memory5/firmware_node" pointing at
 * "../../../LNXSYSTM:00/.../PNP0C80:00", @buf receives "PNP0C80:00".
 * Return: its length, or a negative errno.
 */
ssize_t mo_root_readlink_base(const struct mo_root *root, bool proc, const char *rel, char *buf, size_t size);

/**
 * mo_root_write_allowed() - whether writes to this root's sys/ are allowed.
 * Return: 0, or -EROFS under the write guard on a real sysfs.
 */
int mo_root_write_allowed(const struct mo_root *root);

/** mo_root_is_live() - the root is the running machine's own sysfs. */
static inline bool mo_root_is_live(const struct mo_root *root) { return root->sys_is_sysfs; }
