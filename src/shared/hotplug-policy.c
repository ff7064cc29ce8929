/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hotplug-policy.h"

#include "iomem.h"
#include "parse.h"
#include "util.h"

static bool zones_have(const char *zones, const char *zone)
{
	struct mo_block b = { .valid_zones = (char *) zones };

	return zones && mo_block_has_zone(&b, zone);
}

/* Some zone other than Movable (and Device) that an online_kernel write can use. */
static bool zones_have_kernel(const char *zones)
{
	unsigned z;

	return zones && mo_parse_zones(zones, &z, NULL) == 0 &&
	       (z & (MO_ZONE_DMA | MO_ZONE_DMA32 | MO_ZONE_NORMAL | MO_ZONE_HIGHMEM));
}

static void set(struct mo_hotplug_decision *out, bool act, enum mo_action a, const char *reason)
{
	out->act = act;
	out->action = a;
	out->reason = reason;
}

void mo_hotplug_decide(enum mo_hotplug_policy policy, unsigned ratio_pct,
		       const struct mo_hotplug_input *in, struct mo_hotplug_decision *out)
{
	bool movable_ok;

	if (in->state != MO_STATE_OFFLINE) {
		set(out, false, MO_ACTION_ONLINE,
		    in->state == MO_STATE_ONLINE ? "already online (the kernel onlined it)" :
		    "not offline");
		return;
	}
	if (in->driver_managed) {
		set(out, false, MO_ACTION_ONLINE, "driver-managed memory (virtio-mem, dax): its driver decides");
		return;
	}
	if (in->valid_zones && streq(in->valid_zones, "none")) {
		set(out, false, MO_ACTION_ONLINE, "the block spans several zones or has holes (valid_zones: none)");
		return;
	}
	movable_ok = zones_have(in->valid_zones, "Movable");

	switch (policy) {
	case MO_HOTPLUG_OFF:
		set(out, false, MO_ACTION_ONLINE, "hotplug policy is off");
		return;
	case MO_HOTPLUG_ONLINE:
		set(out, true, MO_ACTION_ONLINE, "policy online: the kernel's default zone");
		return;
	case MO_HOTPLUG_ONLINE_MOVABLE:
		if (movable_ok)
			set(out, true, MO_ACTION_ONLINE_MOVABLE, "policy online_movable");
		else
			set(out, false, MO_ACTION_ONLINE_MOVABLE,
			    in->valid_zones ? "policy online_movable, but the block cannot go to ZONE_MOVABLE" :
			    "policy online_movable, but the block's valid zones are unknown");
		return;
	case MO_HOTPLUG_AUTO:
	default:
		break;
	}

	if (!in->valid_zones) {
		set(out, true, MO_ACTION_ONLINE, "policy auto: valid zones unknown, the kernel's default zone");
		return;
	}
	if (movable_ok) {
		/* (movable + block) / kernel <= ratio / 100, without overflow for sane sizes */
		unsigned __int128 lhs = (unsigned __int128) (in->movable_bytes + in->block_bytes) * 100;
		unsigned __int128 rhs = (unsigned __int128) in->kernel_bytes * ratio_pct;

		if (lhs <= rhs) {
			set(out, true, MO_ACTION_ONLINE_MOVABLE, "policy auto: movable, within MovableRatio");
			return;
		}
		if (!zones_have_kernel(in->valid_zones)) {
			set(out, true, MO_ACTION_ONLINE_MOVABLE,
			    "policy auto: over MovableRatio, but ZONE_MOVABLE is the only zone the block can join");
			return;
		}
		set(out, true, MO_ACTION_ONLINE_KERNEL,
		    "policy auto: movable memory would exceed MovableRatio, kernel zone");
		return;
	}
	set(out, true, MO_ACTION_ONLINE, "policy auto: the block cannot go to ZONE_MOVABLE, kernel zone");
}

void mo_hotplug_count(const struct mo_memory *mem, uint64_t *movable, uint64_t *kernel)
{
	*movable = *kernel = 0;
	for (size_t i = 0; i < mem->n_blocks; i++) {
		const struct mo_block *b = &mem->blocks[i];

		if (b->state != MO_STATE_ONLINE && b->state != MO_STATE_GOING_OFFLINE)
			continue;
		if (b->valid_zones && streq(b->valid_zones, "Movable"))
			*movable += b->size;
		else
			*kernel += b->size;
	}
}

int mo_hotplug_apply(const struct mo_root *root, enum mo_hotplug_policy policy, unsigned ratio_pct,
		     uint64_t timeout_usec, uint64_t index, struct mo_hotplug_outcome *out)
{
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	struct mo_iomem io = {};
	struct mo_hotplug_input in = {};
	struct mo_hotplug_decision d;
	struct mo_attempt_result ar;
	const struct mo_block *b;
	int r;

	*out = (struct mo_hotplug_outcome) { .action = MO_ACTION_ONLINE, .reason = "" };
	r = mo_memory_load(root, &mem);
	if (r < 0) {
		out->reason = "cannot read the memory blocks";
		return r;
	}
	b = mo_memory_find(mem, index);
	if (!b) {
		out->reason = "no such block";
		return -ENOENT;
	}
	in.state = b->state;
	in.valid_zones = b->valid_zones;
	in.block_bytes = b->size;
	if (mo_iomem_read(root, &io) == 0) {
		in.driver_managed = mo_iomem_managed(&io, b->start, b->start + b->size - 1) != NULL;
		mo_iomem_done(&io);
	}
	mo_hotplug_count(mem, &in.movable_bytes, &in.kernel_bytes);
	mo_hotplug_decide(policy, ratio_pct, &in, &d);
	out->action = d.action;
	out->reason = d.reason;
	if (!d.act)
		return 0;
	r = mo_attempt_run(root, index, d.action, timeout_usec, NULL, &ar);
	if (r < 0) {
		out->reason = "cannot set up the write";
		return r;
	}
	if (ar.outcome == MO_OUTCOME_ALREADY) {
		out->reason = "already online (onlined meanwhile)";
		return 0;
	}
	if (!mo_outcome_is_success(ar.outcome)) {
		out->reason = ar.reason;
		return ar.error ? -ar.error : -EIO;
	}
	out->acted = true;
	return 0;
}
