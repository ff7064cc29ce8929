/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Small state files (memoffd's state directory): replaced atomically, so a
 * crash leaves the old content or the new one, never a mix. Nothing planted
 * in the directory is followed or blocks: the temporary file is created
 * O_EXCL|O_NOFOLLOW after removing whatever had its name, and only a
 * regular file is read.
 */

#include <stddef.h>

/**
 * mo_statefile_write() - replace @path with @text: written to "@path.tmp",
 * synced, renamed over @path, the directory synced.
 * Return: 0 or a negative errno (@path is then unchanged; the temporary
 * file is removed).
 */
int mo_statefile_write(const char *path, const char *text);

/**
 * mo_statefile_read() - the whole of @path (at most 64 KiB), NUL-terminated.
 * @ret: receives it (caller frees)
 * Return: 0, -ENOENT without the file, -EFBIG when it is larger, or another
 * negative errno.
 */
int mo_statefile_read(const char *path, char **ret);

/**
 * mo_statefile_read_max() - mo_statefile_read() of at most @max bytes, which
 * may hold NUL bytes (their count in @ret_len, when not NULL).
 * Return: also -EBADFD when @path is not a regular file (or a symlink).
 */
int mo_statefile_read_max(const char *path, size_t max, char **ret, size_t *ret_len);
