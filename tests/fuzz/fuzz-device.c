/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: hot-pluggable memory devices (device.h) as sysfs shows
 * them, the input to `release` and to the ACPI eject it writes.
 *
 * Input (NUL-separated fields; attribute fields as fuzz-tree.h describes):
 * block_size_bytes, firmware/acpi/hotplug/memory/enabled, then up to
 * MAX_BLOCKS blocks of four fields (the number after "memory", state,
 * valid_zones, the name its firmware_node link points at), an empty field,
 * then up to MAX_DEVICES devices of three fields (the name under
 * bus/acpi/devices, its eject attribute, and its physical_node links as
 * "memoryA,memoryB,...").
 *
 * Checks what mo_devices_load() promises: devices in ascending start
 * address, findable by name, each with blocks that exist, ascending, counted
 * right, a size that is the sum of its blocks, a reason that is known; the
 * ranking comparator is consistent; mo_device_gone() answers.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "device.h"
#include "fuzz-tree.h"

#define MAX_BLOCKS 8
#define MAX_DEVICES 4
#define MAX_LINKS 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_input in = { data, size };
	struct mo_root *root = NULL;
	struct mo_memory *mem = NULL;
	struct mo_devices ds = {};
	const char *f;
	char rel[512];
	size_t len;

	ft_reset();
	if (ft_field(&in, &f, &len))
		ft_put("sys/" MO_SYSFS_MEMORY "/block_size_bytes", f, len);
	if (ft_field(&in, &f, &len))
		ft_put("sys/" MO_SYSFS_ACPI_MEMORY_HOTPLUG, f, len);
	for (int b = 0; b < MAX_BLOCKS && ft_field(&in, &f, &len) && len > 0; b++) {
		char dir[160];

		if (!ft_component_ok(f, len) || len > 40)
			break;
		snprintf(dir, sizeof(dir), "sys/" MO_SYSFS_MEMORY "/memory%.*s", (int) len, f);
		if (ft_field(&in, &f, &len)) {
			snprintf(rel, sizeof(rel), "%s/state", dir);
			ft_put(rel, f, len);
		}
		if (ft_field(&in, &f, &len)) {
			snprintf(rel, sizeof(rel), "%s/valid_zones", dir);
			ft_put(rel, f, len);
		}
		if (ft_field(&in, &f, &len) && ft_component_ok(f, len)) {
			char link[80];
			int n = snprintf(link, sizeof(link), "LLNXSYSTM:00/%.*s", (int) (len < 60 ? len : 60), f);

			snprintf(rel, sizeof(rel), "%s/firmware_node", dir);
			ft_put(rel, link, (size_t) n);
		}
	}
	for (int d = 0; d < MAX_DEVICES && ft_field(&in, &f, &len); d++) {
		char dev[160];
		const char *links;
		size_t llen;

		if (!ft_component_ok(f, len) || len > 60)
			break;
		snprintf(dev, sizeof(dev), "sys/" MO_SYSFS_ACPI_DEVICES "/%.*s", (int) len, f);
		snprintf(rel, sizeof(rel), "%s/status", dev);
		ft_put(rel, "f15\n", 4);
		if (ft_field(&in, &f, &len)) {
			snprintf(rel, sizeof(rel), "%s/eject", dev);
			ft_put(rel, f, len);
		}
		if (!ft_field(&in, &links, &llen))
			break;
		for (int k = 0; k < MAX_LINKS && llen > 0; k++) {
			const char *comma = memchr(links, ',', llen);
			size_t n = comma ? (size_t) (comma - links) : llen;
			char target[80];
			int tn;

			if (ft_component_ok(links, n) && n < 60) {
				tn = snprintf(target, sizeof(target), "l%.*s", (int) n, links);
				snprintf(rel, sizeof(rel), k ? "%s/physical_node%d" : "%s/physical_node", dev, k);
				ft_put(rel, target, (size_t) tn);
			}
			if (!comma)
				break;
			llen -= n + 1;
			links = comma + 1;
		}
	}

	root = ft_root();
	if (mo_memory_load(root, &mem) < 0)
		goto out;
	if (mo_devices_load(root, mem, NULL, NULL, -1, &ds) < 0)
		goto out;
	for (size_t i = 0; i < ds.n; i++) {
		const struct mo_device *d = &ds.d[i];
		uint64_t sum = 0;
		size_t on = 0, off = 0;

		if (strnlen(d->name, sizeof(d->name)) == sizeof(d->name))
			abort();
		if (i > 0 && ds.d[i - 1].start > d->start)
			abort();
		if (mo_devices_find(&ds, d->name) == NULL)
			abort();
		if ((unsigned) d->skip >= _MO_DEVICE_SKIP_MAX || !mo_device_skip_to_string(d->skip))
			abort();
		for (size_t k = 0; k < d->n_blocks; k++) {
			const struct mo_device_block *b = &d->blocks[k];

			if (k > 0 && d->blocks[k - 1].index >= b->index)
				abort();
			if (!mo_memory_find(mem, b->index))
				abort();
			sum += b->size;
			on += b->state == MO_STATE_ONLINE;
			off += b->state == MO_STATE_OFFLINE;
		}
		if (d->n_blocks > 0 && (sum != d->size || d->start != d->blocks[0].start))
			abort();
		if (on != d->n_online || off != d->n_offline)
			abort();
		(void) mo_device_gone(root, d);
	}
	if (ds.n > 1) {
		struct mo_device **order = calloc(ds.n, sizeof(*order));

		if (order) {
			for (size_t i = 0; i < ds.n; i++)
				order[i] = &ds.d[i];
			qsort(order, ds.n, sizeof(*order), mo_device_rank);
			for (size_t i = 1; i < ds.n; i++)
				if (mo_device_rank(&order[i], &order[i - 1]) < 0)
					abort();
			free(order);
		}
	}
out:
	mo_devices_done(&ds);
	mo_memory_free(mem);
	mo_root_free(root);
	return 0;
}
