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
#include <sys/types.h>

/* What mo_statefile_read() reads at most. */
#define MO_STATEFILE_MAX (64 * 1024)

/**
 * mo_statefile_write() - replace @path with @text: written to "@path.tmp"
 * (created with @mode: 0644, or 0600 for what only root may read), synced,
 * renamed over @path, the directory synced.
 * @max: the most its reader takes (MO_STATEFILE_MAX for mo_statefile_read()):
 * a longer @text is refused rather than written to be refused when read
 * Return: 0, -EFBIG when @text is longer than @max, or another negative
 * errno (@path is then unchanged; the temporary file is removed).
 */
int mo_statefile_write(const char *path, const char *text, mode_t mode, size_t max);

/**
 * mo_statefile_read() - the whole of @path (at most MO_STATEFILE_MAX bytes), NUL-terminated.
 * @ret: receives it (caller frees)
 * Return: 0, -ENOENT without the file, -EFBIG when it is larger, or another
 * negative errno.
 */
int mo_statefile_read(const char *path, char **ret);

/**
 * mo_statefile_read_max() - mo_statefile_read() of at most @max bytes, which
 * may hold NUL bytes (their count in @ret_len, when not NULL).
 * Return: also -EBADFD when @path is not a regular file (or is a symlink).
 */
int mo_statefile_read_max(const char *path, size_t max, char **ret, size_t *ret_len);
