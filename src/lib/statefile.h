/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Small state files (memoffd's state directory): replaced atomically, so a
 * crash leaves the old content or the new one, never a mix.
 */

/**
 * mo_statefile_write() - replace @path with @text: written to "@path.tmp",
 * synced, renamed over @path.
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
