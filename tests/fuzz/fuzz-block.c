/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the memory-block model (block.h) reading a sysfs tree
 * whose attribute contents, names and links come from the fuzz input.
 *
 * Input (fields separated by NUL bytes, attribute fields as fuzz-tree.h
 * describes): block_size_bytes, auto_online_blocks, then for each block
 * (at most MAX_BLOCKS): the directory name after "memory", state,
 * phys_index, removable, valid_zones, a nodeN link's name, firmware_node.
 *
 * Checks what mo_memory_load() promises: a known error or a model whose
 * blocks are sorted, unique, findable, sized by a power-of-two block size,
 * with strings that are strings.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "fuzz-tree.h"

#define MAX_BLOCKS 8

static const char *const attrs[] = { "state", "phys_index", "removable", "valid_zones" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_input in = { data, size };
	struct mo_root *root = NULL;
	struct mo_memory *mem = NULL;
	const char *f;
	size_t len;
	int r;

	ft_reset();
	if (ft_field(&in, &f, &len))
		ft_put("sys/" MO_SYSFS_MEMORY "/block_size_bytes", f, len);
	if (ft_field(&in, &f, &len))
		ft_put("sys/" MO_SYSFS_MEMORY "/auto_online_blocks", f, len);

	for (int b = 0; b < MAX_BLOCKS && ft_field(&in, &f, &len); b++) {
		char dir[160], rel[320], name[80];

		if (!ft_component_ok(f, len) || len > 40)
			break;
		snprintf(dir, sizeof(dir), "sys/" MO_SYSFS_MEMORY "/memory%.*s", (int) len, f);
		for (size_t a = 0; a < sizeof(attrs) / sizeof(attrs[0]) && ft_field(&in, &f, &len); a++) {
			snprintf(rel, sizeof(rel), "%s/%s", dir, attrs[a]);
			ft_put(rel, f, len);
		}
		/* nodeN: the link's name is fuzzed; sysfs links it to ../../node/nodeN. */
		if (ft_field(&in, &f, &len) && ft_component_ok(f, len) && len < sizeof(name)) {
			char link[sizeof(name) + 16];
			int n;

			memcpy(name, f, len);
			name[len] = '\0';
			snprintf(rel, sizeof(rel), "%s/%s", dir, name);
			n = snprintf(link, sizeof(link), "Lsystem/node/%s", name);
			ft_put(rel, link, (size_t) n);
		}
		if (ft_field(&in, &f, &len)) {
			snprintf(rel, sizeof(rel), "%s/firmware_node", dir);
			ft_put(rel, f, len);
		}
	}

	root = ft_root();
	r = mo_memory_load(root, &mem);
	if (r < 0) {
		/* Any negative errno is fine; it must be one. */
		if (r < -4095 || mem)
			abort();
		goto out;
	}
	if (mem->block_size == 0 || (mem->block_size & (mem->block_size - 1)))
		abort();
	if (strnlen(mem->auto_online, sizeof(mem->auto_online)) == sizeof(mem->auto_online))
		abort();
	for (size_t i = 0; i < mem->n_blocks; i++) {
		struct mo_block *blk = &mem->blocks[i];
		enum mo_state st;

		if (i > 0 && mem->blocks[i - 1].index >= blk->index)
			abort();
		if (mo_memory_find(mem, blk->index) != blk)
			abort();
		if (blk->size != mem->block_size)
			abort();
		if (strnlen(blk->state_raw, sizeof(blk->state_raw)) == sizeof(blk->state_raw))
			abort();
		if (mo_state_from_string(mo_state_to_string(blk->state)) != blk->state)
			abort();
		if (blk->removable < -1 || blk->removable > 1)
			abort();
		if (blk->node < -1)
			abort();
		if (blk->valid_zones)
			(void) strlen(blk->valid_zones);
		if (blk->device)
			(void) strlen(blk->device);
		(void) mo_block_has_zone(blk, "Movable");
		(void) mo_block_has_zone(blk, "Normal");
		(void) mo_block_has_zone(blk, "");
		r = mo_block_read_state(root, blk->index, &st);
		if (r == 0 && st != blk->state)
			abort(); /* nothing changed the tree in between */
	}
	if (mem->n_blocks > 0 && mo_memory_find(mem, mem->blocks[mem->n_blocks - 1].index + 1))
		abort();
out:
	mo_memory_free(mem);
	mo_root_free(root);
	return 0;
}
