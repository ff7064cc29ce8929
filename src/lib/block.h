/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The memory-block model: what /sys/devices/system/memory says about each
 * block, read once into plain structs.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root.h"

enum mo_state {
	MO_STATE_UNKNOWN = 0,
	MO_STATE_ONLINE,
	MO_STATE_OFFLINE,
	MO_STATE_GOING_OFFLINE,
};

struct mo_block {
	uint64_t index;        /* N of memoryN */
	uint64_t phys_index;   /* phys_index attribute (hex); == index when absent */
	uint64_t start;        /* first physical byte: index * block size */
	uint64_t size;         /* block size in bytes */
	enum mo_state state;
	char state_raw[32];    /* what the state file said ("" when unreadable) */
	int removable;         /* 1, 0, or -1 when the attribute is absent */
	int node;              /* NUMA node from the nodeN link, or -1 */
	char *valid_zones;     /* raw valid_zones ("Normal Movable", "none"), or NULL */
	char *device;          /* owning ACPI device (firmware_node basename), or NULL */
};

/*
 * A block left out of the model because its entry is malformed: its state
 * cannot be read (other than because it vanished) or is not a state the
 * kernel writes, or its start (index × block size) does not fit in 64 bits.
 */
struct mo_block_skip {
	uint64_t index;
	int error;             /* negative errno: -EBADMSG (bad value), -EOVERFLOW, or the read's */
	bool in_state;         /* the state file is at fault (else the memoryN directory itself) */
	char value[32];        /* for -EBADMSG: what the state file said */
};

struct mo_memory {
	uint64_t block_size;
	char auto_online[32];  /* auto_online_blocks ("" when absent) */
	struct mo_block *blocks; /* sorted by index */
	size_t n_blocks;
	bool have_nodes;       /* at least one block has a nodeN link */
	bool have_zones;       /* at least one block has valid_zones */
	bool indexes_only;     /* mo_memory_enumerate(): only index, start and size are known */
	bool unlisted;         /* mo_memory_open(): not even the blocks (n_blocks is 0) */
	struct mo_block_skip *skipped; /* blocks left out, by index (see mo_block_skip_message()) */
	size_t n_skipped;
};

#define MO_SYSFS_MEMORY "devices/system/memory"

/**
 * mo_memory_load() - enumerate every memory block under @root.
 *
 * Blocks that vanish while being read (hot-remove) are left out; gaps in the
 * numbering are fine; missing optional attributes (removable, valid_zones,
 * node links, firmware_node) are recorded as unknown. A block whose entry is
 * malformed (struct mo_block_skip) is left out too and recorded in
 * @skipped, so that one bad entry does not hide the others; the caller warns.
 *
 * Return: 0; -ENOENT when the kernel has no memory-block sysfs at all;
 * -EBADMSG when block_size_bytes is malformed; -ENOMEM; another negative
 * errno when the directory cannot be listed.
 */
int mo_memory_load(const struct mo_root *root, struct mo_memory **ret);

/**
 * mo_memory_enumerate() - the blocks under @root without their attributes:
 * block_size_bytes, auto_online_blocks and the memoryN names only (one
 * directory listing), so that a caller that needs a few blocks does not read
 * all of them. Each block has its index, start and size; its state is
 * MO_STATE_UNKNOWN and the rest unknown until mo_block_read() fills a copy.
 * Sets @indexes_only.
 *
 * Return: as mo_memory_load().
 */
int mo_memory_enumerate(const struct mo_root *root, struct mo_memory **ret);

/**
 * mo_memory_read_block_size() - the memory block size from
 * block_size_bytes (hex, a power of two), the one place that reads it.
 *
 * Return: 0; -ENOENT when the kernel has no memory-block sysfs; -EBADMSG when
 * the file is malformed; another negative errno.
 */
int mo_memory_read_block_size(const struct mo_root *root, uint64_t *ret);

/**
 * mo_memory_open() - block_size_bytes and auto_online_blocks only: no
 * listing of the blocks (n_blocks 0, @unlisted set). The job engine lists them
 * when it has to, or looks at the blocks a request can use one by one (a size
 * request for the blocks of some zones: their spans in /proc/zoneinfo).
 *
 * Return: as mo_memory_load().
 */
int mo_memory_open(const struct mo_root *root, struct mo_memory **ret);
void mo_memory_free(struct mo_memory *mem);
static inline void mo_memory_freep(struct mo_memory **m) { mo_memory_free(*m); }

/**
 * mo_block_read() - (re)read one block's attributes into @blk.
 * @block_size: the system's block size
 *
 * Return: 0; -ENOENT when the block does not exist (or vanished).
 */
int mo_block_read(const struct mo_root *root, uint64_t index, uint64_t block_size, struct mo_block *blk);
void mo_block_done(struct mo_block *blk);

/** mo_block_read_state() - re-read only the state of block @index. */
int mo_block_read_state(const struct mo_root *root, uint64_t index, enum mo_state *ret);

/**
 * mo_block_skip_message() - "SYSROOT/sys/devices/system/memory/memory37/state:
 * invalid value "xyz"" for a block left out (control characters escaped).
 * Return: a new string (caller frees), or NULL when out of memory.
 */
char *mo_block_skip_message(const struct mo_root *root, const struct mo_block_skip *skip);

/** mo_block_start() - @index × @block_size, or -EOVERFLOW when it (or the block's end) does not fit. */
int mo_block_start(uint64_t index, uint64_t block_size, uint64_t *ret);

/** mo_memory_find() - the block with @index, or NULL. */
struct mo_block *mo_memory_find(const struct mo_memory *mem, uint64_t index);

const char *mo_state_to_string(enum mo_state s);
enum mo_state mo_state_from_string(const char *s);

/**
 * mo_block_has_zone() - whether @zone ("Movable", "Normal", ...) appears in
 * the block's valid_zones. Comparison ignores case.
 */
bool mo_block_has_zone(const struct mo_block *blk, const char *zone);
