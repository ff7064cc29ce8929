/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Human-readable sizes, the way util-linux's lsmem prints them.
 */

#include <stddef.h>
#include <stdint.h>

/* Room for any formatted size: "18446744073709551615B" plus the NUL. */
#define MO_FORMAT_SIZE_MAX 32

/**
 * mo_format_size() - format @bytes as lsmem (util-linux 2.38) does.
 * @bytes: the size
 * @buf: at least MO_FORMAT_SIZE_MAX bytes
 *
 * Binary units with a one-letter suffix (B, K, M, G, T, P, E), the largest
 * unit not exceeding @bytes, at most one decimal, rounded half up from the
 * truncated thousandths, a trailing ".0" dropped: 0 -> "0B", 1023 -> "1023B",
 * 1025 -> "1K", 128 MiB -> "128M", 23 blocks of 128 MiB -> "2.9G". The
 * decimal point is always '.', whatever the locale.
 *
 * Return: @buf.
 */
const char *mo_format_size(uint64_t bytes, char buf[static MO_FORMAT_SIZE_MAX]);
