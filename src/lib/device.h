/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Hot-pluggable memory devices: the ACPI memory devices (PNP0C80, a QEMU
 * pc-dimm, a cloud's hot-added DIMM) that own memory blocks and that the
 * firmware can eject as a whole.
 *
 * A block names its device through memoryN/firmware_node; the device lists
 * its blocks as physical_node, physical_node1, ... links. Both are read and
 * joined. A device can give its memory back to the hypervisor only when
 * every one of its blocks is offline; writing "1" to
 * bus/acpi/devices/DEV/eject then makes the kernel remove the memory and
 * call the firmware's _EJ0 (asynchronously, in a kernel worker: the blocks
 * vanish from sysfs when it is done). With any block still online the kernel
 * would offline it itself, in that worker, and spin for as long as a page
 * stays pinned: memoff never writes eject before every block reads offline.
 *
 * A device is eligible for release when it has an eject file, ACPI memory
 * hotplug is not disabled, and every block is either offline or online in
 * ZONE_MOVABLE, and none is driver-managed memory.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "census.h"
#include "iomem.h"
#include "root.h"

#define MO_ACPI_MEMORY_HID "PNP0C80"          /* ACPI memory devices: PNP0C80:00, ... */
#define MO_SYSFS_ACPI_DEVICES "bus/acpi/devices"
#define MO_SYSFS_ACPI_MEMORY_HOTPLUG "firmware/acpi/hotplug/memory/enabled"

enum mo_device_skip {
	MO_DEVICE_ELIGIBLE = 0,
	MO_DEVICE_NO_EJECT,          /* no eject file: the firmware cannot eject it */
	MO_DEVICE_HOTPLUG_DISABLED,  /* firmware/acpi/hotplug/memory/enabled reads 0 (checked last) */
	MO_DEVICE_ZONE,              /* an online block outside ZONE_MOVABLE */
	MO_DEVICE_STATE,             /* a block neither online nor offline (going-offline, unreadable) */
	MO_DEVICE_MANAGED,           /* a block is driver-managed memory (virtio-mem, kmem) */
	MO_DEVICE_NODE,              /* not on the node asked for */
	MO_DEVICE_EXCLUDED,          /* a block overlaps an excluded range (mo_release_options.excluded) */
	_MO_DEVICE_SKIP_MAX,
};

struct mo_device_block {
	uint64_t index;
	uint64_t start, size;
	enum mo_state state;
	bool movable_zone;           /* valid_zones names Movable */
	bool have_census;            /* online blocks only */
	struct mo_census census;
	int tier;                    /* select.h tiers; 0 for an offline block */
};

struct mo_device {
	char name[64];               /* "PNP0C80:00" */
	uint64_t start;              /* lowest block's first byte */
	uint64_t size;               /* bytes: the sum of its blocks */
	int node;                    /* its first block's node, -1 unknown */
	struct mo_device_block *blocks; /* ascending index */
	size_t n_blocks;
	size_t n_online, n_offline;
	bool can_eject;              /* the eject file exists */
	enum mo_device_skip skip;    /* MO_DEVICE_ELIGIBLE or why not */
	const char *managed;         /* driver-managed iomem name (points into the mo_iomem) */
	/* Census of its online blocks (summed); the device's tier is its worst block's. */
	bool have_census;            /* every online block has one */
	struct mo_census census;
	int tier;
	uint64_t cost;               /* summed census cost; UINT64_MAX when unknown */
};

struct mo_devices {
	struct mo_device *d;         /* ascending start address */
	size_t n;
	uint64_t block_size;
	bool hotplug_disabled;       /* ACPI memory hotplug switched off */
	int census_error;            /* the last census failure, 0 if none */
};

/**
 * mo_devices_load() - every device that owns memory blocks, with its blocks.
 * @mem: the loaded blocks (mo_memory_load())
 * @io: driver-managed ranges, or NULL
 * @cr: census reader, or NULL (no census: tier 2)
 * @node: only devices on this node are eligible; -1 = any
 * @out: filled, even when there is no device (n = 0)
 *
 * Devices come from the blocks' firmware_node links and from the
 * physical_node links of bus/acpi/devices/PNP0C80:*; a device listing a
 * block that does not exist is given the blocks that do.
 *
 * Return: 0 or -ENOMEM.
 */
int mo_devices_load(const struct mo_root *root, const struct mo_memory *mem, const struct mo_iomem *io,
		    struct mo_census_reader *cr, int node, struct mo_devices *out);
void mo_devices_done(struct mo_devices *ds);

/** mo_devices_find() - the device called @name, or NULL. */
struct mo_device *mo_devices_find(const struct mo_devices *ds, const char *name);

/**
 * mo_device_rank() - qsort() comparator of an array of `struct mo_device *`,
 * cheapest first:
 * by tier (free, movable only, unknown, unmovable pages), then census cost,
 * then fewer online blocks (an offline block needs nothing), then the higher
 * address first (hot-added memory sits at the top).
 */
int mo_device_rank(const void *a, const void *b);

/**
 * mo_device_eject() - write "1" to bus/acpi/devices/@name/eject.
 *
 * Returns as soon as the kernel has queued the ejection; the memory is gone
 * when the device's blocks have vanished. The write goes through
 * mo_root_open(): the host write guard applies. Never call it while a block
 * of the device is online.
 *
 * Return: 0; -EINVAL for a name that is not a plain file name; -ENOENT
 * without an eject file; -EROFS under the write guard; the write's errno.
 */
int mo_device_eject(const struct mo_root *root, const char *name);

/**
 * mo_device_gone() - none of @dev's blocks exists any more.
 * Return: 1 when gone, 0 when a block is still there, or a negative errno.
 */
int mo_device_gone(const struct mo_root *root, const struct mo_device *dev);

/** mo_device_skip_to_string() - why a device cannot be released. */
const char *mo_device_skip_to_string(enum mo_device_skip s);
