/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The hotplug policy: what to do with a memory block that appears offline
 * (a uevent "add" for a hot-added DIMM, or a request to apply the policy to
 * a block). The decision is pure and unit-tested; applying it is one online
 * write through the attempt module.
 *
 * Only ZONE_MOVABLE memory can reliably be removed again, but a kernel that
 * has too little non-movable memory for its own allocations (page tables,
 * slab, the memmap of the movable memory itself) runs out of it: the "auto"
 * policy onlines movable only while movable memory stays within MovableRatio
 * percent of the non-movable memory, the idea of the kernel's
 * memory_hotplug.auto_movable_ratio (default 301%).
 */

#include <stdbool.h>
#include <stdint.h>

#include "attempt.h"
#include "block.h"
#include "memoffd-conf.h"

struct mo_hotplug_input {
	enum mo_state state;      /* the block's state, read just now */
	const char *valid_zones;  /* its valid_zones, or NULL when unknown */
	uint64_t block_bytes;     /* its size */
	bool driver_managed;      /* virtio-mem / dax kmem memory: its driver decides */
	uint64_t movable_bytes;   /* online memory in ZONE_MOVABLE now */
	uint64_t kernel_bytes;    /* online memory in any other zone now */
};

struct mo_hotplug_decision {
	bool act;                 /* write @action to the block's state */
	enum mo_action action;    /* an online type when @act */
	const char *reason;       /* static, human-readable, never NULL */
};

/**
 * mo_hotplug_decide() - what the policy does with one block.
 * @policy: the configured policy
 * @ratio_pct: MovableRatio= (percent), used by MO_HOTPLUG_AUTO
 * @in: the block and the memory around it
 * @out: the decision
 *
 * A block that is not offline (the kernel onlined it, auto_online_blocks) or
 * is driver-managed is left alone; so is every block under the "off" policy.
 */
void mo_hotplug_decide(enum mo_hotplug_policy policy, unsigned ratio_pct,
		       const struct mo_hotplug_input *in, struct mo_hotplug_decision *out);

struct mo_hotplug_outcome {
	bool acted;               /* a write succeeded */
	enum mo_action action;    /* what was (or would have been) written */
	const char *reason;       /* static, never NULL */
};

/**
 * mo_hotplug_apply() - read block @index and the memory around it, decide,
 * and write the decision.
 * @root: the blocks
 * @policy: the policy
 * @ratio_pct: MovableRatio=
 * @timeout_usec: bound of the write (it waits for the kernel's hotplug lock,
 *                which a running offline attempt may hold)
 * @index: the block
 * @out: what happened
 *
 * Return: 0 when the policy was applied (also when it left the block
 * alone, or the block was onlined meanwhile); -ENOENT when the block does
 * not exist; another negative errno when the write failed (@out->reason
 * says how).
 */
int mo_hotplug_apply(const struct mo_root *root, enum mo_hotplug_policy policy, unsigned ratio_pct,
		     uint64_t timeout_usec, uint64_t index, struct mo_hotplug_outcome *out);

/**
 * mo_hotplug_count() - online memory in ZONE_MOVABLE and in other zones.
 * @mem: the blocks (an online block's valid_zones is its zone)
 * @movable: receives the movable bytes
 * @kernel: receives the bytes in every other zone (and blocks whose zone is unknown)
 */
void mo_hotplug_count(const struct mo_memory *mem, uint64_t *movable, uint64_t *kernel);
