/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>

#include "device.h"
#include "parse.h"
#include "select.h"
#include "util.h"

static const char *const skip_names[_MO_DEVICE_SKIP_MAX] = {
	[MO_DEVICE_ELIGIBLE] = "eligible",
	[MO_DEVICE_NO_EJECT] = "no eject file: the firmware cannot eject it",
	[MO_DEVICE_HOTPLUG_DISABLED] = "ACPI memory hotplug is disabled (firmware/acpi/hotplug/memory/enabled)",
	[MO_DEVICE_ZONE] = "a block is online outside ZONE_MOVABLE",
	[MO_DEVICE_STATE] = "a block is neither online nor offline",
	[MO_DEVICE_MANAGED] = "driver-managed memory (virtio-mem, kmem)",
	[MO_DEVICE_NODE] = "on another node",
	[MO_DEVICE_EXCLUDED] = "a block is in an excluded range",
};

const char *mo_device_skip_to_string(enum mo_device_skip s)
{
	if ((unsigned) s >= _MO_DEVICE_SKIP_MAX)
		return "unknown";
	return skip_names[s];
}

static bool valid_name(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len < sizeof(((struct mo_device *) NULL)->name) && !strchr(name, '/') &&
	       !streq(name, ".") && !streq(name, "..");
}

void mo_devices_done(struct mo_devices *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		free(ds->d[i].blocks);
	free(ds->d);
	*ds = (struct mo_devices) {};
}

struct mo_device *mo_devices_find(const struct mo_devices *ds, const char *name)
{
	for (size_t i = 0; i < ds->n; i++)
		if (streq(ds->d[i].name, name))
			return &ds->d[i];
	return NULL;
}

static struct mo_device *device_get(struct mo_devices *ds, const char *name)
{
	struct mo_device *d = mo_devices_find(ds, name), *n;

	if (d)
		return d;
	n = realloc(ds->d, (ds->n + 1) * sizeof(*n));
	if (!n)
		return NULL;
	ds->d = n;
	d = &ds->d[ds->n++];
	*d = (struct mo_device) { .node = -1 };
	snprintf(d->name, sizeof(d->name), "%s", name);
	return d;
}

static int device_add_block(struct mo_device *d, const struct mo_block *b)
{
	struct mo_device_block *n;

	for (size_t i = 0; i < d->n_blocks; i++)
		if (d->blocks[i].index == b->index)
			return 0;
	n = realloc(d->blocks, (d->n_blocks + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	d->blocks = n;
	d->blocks[d->n_blocks++] = (struct mo_device_block) {
		.index = b->index,
		.start = b->start,
		.size = b->size,
		.state = b->state,
		.movable_zone = mo_block_has_zone(b, "Movable") && !(b->valid_zones && streq(b->valid_zones, "none")),
	};
	return 0;
}

/* The blocks a device lists as physical_node links (memoryN targets only). */
static int scan_physical_nodes(const struct mo_root *root, const struct mo_memory *mem, const char *name,
			       struct mo_devices *ds)
{
	_cleanup_closedir_ DIR *dir = NULL;
	char rel[640], buf[64];
	struct dirent *de;

	snprintf(rel, sizeof(rel), MO_SYSFS_ACPI_DEVICES "/%s", name);
	if (mo_root_opendir(root, false, rel, &dir) < 0)
		return 0;
	while ((de = readdir(dir))) {
		const struct mo_block *b;
		uint64_t index;

		if (!startswith(de->d_name, "physical_node"))
			continue;
		snprintf(rel, sizeof(rel), MO_SYSFS_ACPI_DEVICES "/%s/%s", name, de->d_name);
		if (mo_root_readlink_base(root, false, rel, buf, sizeof(buf)) <= 0 || !startswith(buf, "memory"))
			continue;
		if (mo_parse_u64(buf + 6, 10, &index) < 0)
			continue;
		b = mo_memory_find(mem, index);
		if (!b)
			continue;   /* listed but gone (or not yet there) */
		struct mo_device *d = device_get(ds, name);
		if (!d || device_add_block(d, b) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int scan_acpi(const struct mo_root *root, const struct mo_memory *mem, struct mo_devices *ds)
{
	_cleanup_closedir_ DIR *dir = NULL;
	struct dirent *de;

	if (mo_root_opendir(root, false, MO_SYSFS_ACPI_DEVICES, &dir) < 0)
		return 0;   /* no ACPI: only firmware_node links can name devices */
	while ((de = readdir(dir))) {
		int r;

		if (!startswith(de->d_name, MO_ACPI_MEMORY_HID ":") || !valid_name(de->d_name))
			continue;
		r = scan_physical_nodes(root, mem, de->d_name, ds);
		if (r < 0)
			return r;
	}
	return 0;
}

static int cmp_block(const void *a, const void *b)
{
	const struct mo_device_block *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_start(const void *a, const void *b)
{
	const struct mo_device *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static void census_add(struct mo_census *sum, const struct mo_census *c)
{
	sum->pages += c->pages;
	sum->nopage += c->nopage;
	sum->free += c->free;
	sum->anon += c->anon;
	sum->file += c->file;
	sum->thp += c->thp;
	sum->hugetlb += c->hugetlb;
	sum->reserved += c->reserved;
	sum->slab += c->slab;
	sum->pgtable += c->pgtable;
	sum->offline += c->offline;
	sum->other += c->other;
	sum->movable += c->movable;
	sum->unmovable += c->unmovable;
	sum->mapped += c->mapped;
	sum->cost = add_sat(sum->cost, c->cost);
	sum->noflags += c->noflags;
	sum->dirty += c->dirty;
	sum->shared += c->shared;
}

static void judge(const struct mo_root *root, const struct mo_memory *mem, const struct mo_iomem *io,
		  struct mo_census_reader *cr, int node, bool hotplug_disabled, struct mo_device *d,
		  int *census_error)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t page = ps > 0 ? (uint64_t) ps : 4096;
	bool state_bad = false, zone_bad = false, census_all = true;
	char rel[256];
	int fd;

	qsort(d->blocks, d->n_blocks, sizeof(*d->blocks), cmp_block);
	d->start = d->n_blocks ? d->blocks[0].start : 0;
	d->node = mo_memory_find(mem, d->blocks[0].index)->node;
	d->tier = 0;
	for (size_t i = 0; i < d->n_blocks; i++) {
		struct mo_device_block *b = &d->blocks[i];
		const struct mo_iomem_range *m;

		d->size += b->size;
		if (b->state == MO_STATE_OFFLINE) {
			d->n_offline++;
		} else if (b->state == MO_STATE_ONLINE) {
			d->n_online++;
			if (!b->movable_zone)
				zone_bad = true;
			b->tier = 2;
			if (cr) {
				int r = mo_census_read(cr, b->start / page, b->size / page, &b->census);

				if (r == 0) {
					b->have_census = true;
					b->tier = mo_census_tier(&b->census);
					census_add(&d->census, &b->census);
				} else
					*census_error = r;
			}
			census_all &= b->have_census;
			if (b->tier > d->tier)
				d->tier = b->tier;
		} else
			state_bad = true;
		if (io && !d->managed && (m = mo_iomem_managed(io, b->start, b->start + b->size - 1)))
			d->managed = m->name;
	}
	d->have_census = census_all;
	d->cost = census_all ? d->census.cost : UINT64_MAX;

	snprintf(rel, sizeof(rel), MO_SYSFS_ACPI_DEVICES "/%s/eject", d->name);
	fd = mo_root_open(root, false, rel, O_PATH);
	d->can_eject = fd >= 0;
	if (fd >= 0)
		close(fd);

	/* The switch comes last: it is the one reason a caller that holds it may overlook. */
	if (!d->can_eject)
		d->skip = MO_DEVICE_NO_EJECT;
	else if (state_bad)
		d->skip = MO_DEVICE_STATE;
	else if (zone_bad)
		d->skip = MO_DEVICE_ZONE;
	else if (d->managed)
		d->skip = MO_DEVICE_MANAGED;
	else if (node >= 0 && d->node != node)
		d->skip = MO_DEVICE_NODE;
	else if (hotplug_disabled)
		d->skip = MO_DEVICE_HOTPLUG_DISABLED;
	else
		d->skip = MO_DEVICE_ELIGIBLE;
}

int mo_devices_load(const struct mo_root *root, const struct mo_memory *mem, const struct mo_iomem *io,
		    struct mo_census_reader *cr, int node, struct mo_devices *out)
{
	char buf[16];
	int r;

	*out = (struct mo_devices) { .block_size = mem->block_size };
	for (size_t i = 0; i < mem->n_blocks; i++) {
		const struct mo_block *b = &mem->blocks[i];
		struct mo_device *d;

		if (!b->device || !valid_name(b->device))
			continue;
		d = device_get(out, b->device);
		if (!d || device_add_block(d, b) < 0) {
			mo_devices_done(out);
			return -ENOMEM;
		}
	}
	r = scan_acpi(root, mem, out);
	if (r < 0) {
		mo_devices_done(out);
		return r;
	}
	if (mo_root_read(root, false, MO_SYSFS_ACPI_MEMORY_HOTPLUG, buf, sizeof(buf)) > 0 && streq(buf, "0"))
		out->hotplug_disabled = true;
	for (size_t i = 0; i < out->n; i++)
		judge(root, mem, io, cr, node, out->hotplug_disabled, &out->d[i], &out->census_error);
	if (out->n)
		qsort(out->d, out->n, sizeof(*out->d), cmp_start);
	return 0;
}

int mo_device_rank(const void *a, const void *b)
{
	const struct mo_device *x = *(const struct mo_device *const *) a, *y = *(const struct mo_device *const *) b;

	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	/* fewer blocks to take offline: less that can go wrong */
	if (x->n_online != y->n_online)
		return x->n_online < y->n_online ? -1 : 1;
	return x->start > y->start ? -1 : x->start < y->start;
}

int mo_device_eject(const struct mo_root *root, const char *name)
{
	char rel[256];

	if (!valid_name(name))
		return -EINVAL;
	snprintf(rel, sizeof(rel), MO_SYSFS_ACPI_DEVICES "/%s/eject", name);
	/* The kernel only queues the work: this write does not spin. */
	return mo_root_write(root, rel, "1");
}

int mo_device_gone(const struct mo_root *root, const struct mo_device *dev)
{
	for (size_t i = 0; i < dev->n_blocks; i++) {
		enum mo_state st;
		int r = mo_block_read_state(root, dev->blocks[i].index, &st);

		if (r == 0)
			return 0;
		if (r != -ENOENT && r != -ENODEV)
			return r;
	}
	return 1;
}
