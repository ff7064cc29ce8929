/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The OOM headroom guard: before a block goes offline, its memory leaves the
 * system (its free pages vanish, its used pages take free pages elsewhere).
 * The kernel does not check whether what is left is enough; we do.
 */

#include <stdint.h>

#include "root.h"

#define MO_MAX_NODES 64

struct mo_headroom {
	uint64_t mem_total;                  /* /proc/meminfo MemTotal, bytes */
	uint64_t mem_available;              /* /proc/meminfo MemAvailable, bytes */
	int n_nodes;                         /* 1 + the highest N with a readable nodeN/meminfo, 0 when none */
	uint64_t node_total[MO_MAX_NODES];   /* nodeN/meminfo MemTotal, bytes (0 = absent) */
	uint64_t node_free[MO_MAX_NODES];    /* MemFree + Inactive(file) + SReclaimable/2, bytes */
};

/**
 * mo_headroom_read() - read <procroot>/proc/meminfo and every
 * <sysroot>/sys/devices/system/node/nodeN/meminfo (N < MO_MAX_NODES).
 * Without MemAvailable (kernels before 3.14) it is estimated like a node's
 * free memory. Missing node directories are not an error (n_nodes = 0).
 * Return: 0; -ENOENT without /proc/meminfo; -EBADMSG when it has no MemTotal.
 */
int mo_headroom_read(const struct mo_root *root, struct mo_headroom *out);

/** mo_headroom_default_reserve() - the larger of 256 MiB and 5% of @mem_total. */
uint64_t mo_headroom_default_reserve(uint64_t mem_total);

/**
 * mo_headroom_check() - may a block of @block_bytes on @node (-1 unknown) go
 * offline while keeping @reserve bytes available?
 * @why: set to a static reason when refused.
 *
 * The rule (see headroom.c): MemAvailable - @block_bytes >= @reserve, and,
 * when more than one node has memory and @node's meminfo is known,
 * node_free[@node] - @block_bytes >= @node's share of @reserve
 * (@reserve * node_total / mem_total).
 *
 * Return: 0 when it fits, -ENOSPC when it would breach the reserve.
 * Updates nothing: after a successful offline the caller re-reads (or calls
 * mo_headroom_account()).
 */
int mo_headroom_check(const struct mo_headroom *h, int node, uint64_t block_bytes, uint64_t reserve, const char **why);

/** mo_headroom_account() - subtract an offlined block from @h (for dry-run plans). */
void mo_headroom_account(struct mo_headroom *h, int node, uint64_t block_bytes);
