/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: /proc/meminfo and nodeN/meminfo (headroom.h).
 *
 * Input (fields separated by NUL bytes, attribute fields as fuzz-tree.h
 * describes): proc/meminfo, then up to MAX_NODES pairs of a node directory
 * name ("node0") and its meminfo. The last 16 bytes of the input, when there
 * are that many, also pick a block size and a reserve for the checks.
 *
 * Checks that reading gives an error or sane numbers, that the guard only
 * says yes or -ENOSPC with a reason, and that accounting an offline only
 * ever lowers what is available.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-tree.h"
#include "headroom.h"

#define MAX_NODES 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_input in = { data, size };
	struct mo_root *root = NULL;
	struct mo_headroom h, h2;
	uint64_t block = 128 << 20, reserve = 0;
	const char *f;
	size_t len;
	int r;

	if (size >= 16) {
		memcpy(&block, data + size - 16, 8);
		memcpy(&reserve, data + size - 8, 8);
	}
	ft_reset();
	if (ft_field(&in, &f, &len))
		ft_put("proc/meminfo", f, len);
	for (int i = 0; i < MAX_NODES && ft_field(&in, &f, &len); i++) {
		char rel[128];

		if (!ft_component_ok(f, len))
			break;
		snprintf(rel, sizeof(rel), "sys/devices/system/node/%.*s/meminfo", (int) len, f);
		if (!ft_field(&in, &f, &len))
			break;
		ft_put(rel, f, len);
	}

	root = ft_root();
	r = mo_headroom_read(root, &h);
	if (r < 0)
		goto out;
	if (h.n_nodes < 0 || h.n_nodes > MO_MAX_NODES)
		abort();
	for (int n = -1; n <= h.n_nodes; n++) {
		const char *why = NULL;

		r = mo_headroom_check(&h, n, block, reserve, &why);
		if (r != 0 && (r != -ENOSPC || !why))
			abort();
		h2 = h;
		mo_headroom_account(&h2, n, block);
		if (h2.mem_available > h.mem_available || h2.mem_total > h.mem_total)
			abort();
		for (int k = 0; k < MO_MAX_NODES; k++)
			if (h2.node_free[k] > h.node_free[k] || h2.node_total[k] > h.node_total[k])
				abort();
	}
	(void) mo_headroom_default_reserve(h.mem_total);
out:
	mo_root_free(root);
	return 0;
}
