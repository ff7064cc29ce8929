/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "select.h"
#include "util.h"

/* No machine has more blocks than this; a range beyond it is a typo. */
#define MAX_RANGE_BLOCKS (UINT64_C(1) << 24)

static const char *const skip_names[_MO_SKIP_MAX] = {
	[MO_SKIP_NONE] = "eligible",
	[MO_SKIP_STATE] = "not in the starting state",
	[MO_SKIP_ZONE] = "not in an allowed zone",
	[MO_SKIP_ZONES_NONE] = "spanning several zones (valid_zones: none)",
	[MO_SKIP_MANAGED] = "driver-managed (virtio-mem, kmem)",
	[MO_SKIP_MANAGED_UNKNOWN] = "possibly driver-managed (/proc/iomem hides addresses)",
	[MO_SKIP_NODE] = "on another node",
};

const char *mo_skip_to_string(enum mo_skip s)
{
	if ((unsigned) s >= _MO_SKIP_MAX)
		return "unknown";
	return skip_names[s];
}

void mo_selection_done(struct mo_selection *s)
{
	free(s->c);
	*s = (struct mo_selection) {};
}

int mo_census_tier(const struct mo_census *c)
{
	/*
	 * Pages without any flag (noflags) do not make a block busy: in
	 * ZONE_MOVABLE they are free pages in practice; their small cost
	 * still ranks such a block after a truly empty one.
	 */
	if (c->unmovable > 0)
		return 3;
	if (c->movable == 0)
		return 0;
	return 1;
}

static const char *managed_name(const struct mo_iomem *io, const struct mo_block *b)
{
	const struct mo_iomem_range *m;

	if (!io || io->n_managed == 0)
		return NULL;
	m = mo_iomem_managed(io, b->start, b->start + b->size - 1);
	return m ? m->name : NULL;
}

static bool zone_allowed(const struct mo_block *b, const struct mo_select_options *o)
{
	if (!o->zones || o->n_zones == 0) {
		if (o->action != MO_ACTION_OFFLINE)
			return true;
		return mo_block_has_zone(b, "Movable");
	}
	for (size_t i = 0; i < o->n_zones; i++)
		if (mo_block_has_zone(b, o->zones[i]))
			return true;
	return false;
}

static enum mo_skip judge(const struct mo_block *b, const struct mo_iomem *io, const struct mo_select_options *o)
{
	enum mo_state from = o->action == MO_ACTION_OFFLINE ? MO_STATE_ONLINE : MO_STATE_OFFLINE;

	if (b->state != from)
		return MO_SKIP_STATE;
	if (b->valid_zones && streq(b->valid_zones, "none"))
		return MO_SKIP_ZONES_NONE;
	if (!zone_allowed(b, o))
		return MO_SKIP_ZONE;
	if (o->node >= 0 && b->node != o->node)
		return MO_SKIP_NODE;
	if (io && io->addresses_hidden && io->n_managed > 0)
		return MO_SKIP_MANAGED_UNKNOWN;
	if (managed_name(io, b))
		return MO_SKIP_MANAGED;
	return MO_SKIP_NONE;
}

static void fill(struct mo_candidate *c, const struct mo_block *b, const struct mo_iomem *io,
		 struct mo_census_reader *cr, const struct mo_select_options *o, struct mo_selection *s)
{
	*c = (struct mo_candidate) {
		.index = b->index,
		.start = b->start,
		.size = b->size,
		.node = b->node,
		.state = b->state,
		.movable_zone = mo_block_has_zone(b, "Movable"),
		.managed = managed_name(io, b),
		.tier = 2,
		.pinned = mo_pinmem_find(o->pinmem, b->index) != NULL,
	};
	/* Only an online block has pages to count. */
	if (cr && o->action == MO_ACTION_OFFLINE && b->state == MO_STATE_ONLINE) {
		long ps = sysconf(_SC_PAGESIZE);
		uint64_t page = ps > 0 ? (uint64_t) ps : 4096;
		int r = mo_census_read(cr, b->start / page, b->size / page, &c->census);

		if (r == 0) {
			c->have_census = true;
			c->tier = mo_census_tier(&c->census);
			s->n_census++;
		} else
			s->census_error = r;
	}
}

static int cmp_offline(const void *a, const void *b)
{
	const struct mo_candidate *x = a, *y = b;

	if (x->pinned != y->pinned)
		return x->pinned ? 1 : -1;
	if (x->tier != y->tier)
		return x->tier < y->tier ? -1 : 1;
	if (x->have_census && y->have_census && x->census.cost != y->census.cost)
		return x->census.cost < y->census.cost ? -1 : 1;
	/* higher addresses first */
	return x->index > y->index ? -1 : x->index < y->index;
}

static int cmp_online(const void *a, const void *b)
{
	const struct mo_candidate *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

int mo_select_size(const struct mo_memory *mem, const struct mo_iomem *io, struct mo_census_reader *cr,
		   const struct mo_select_options *o, struct mo_selection *out)
{
	*out = (struct mo_selection) {};
	out->c = calloc(mem->n_blocks ? mem->n_blocks : 1, sizeof(*out->c));
	if (!out->c)
		return -ENOMEM;
	for (size_t i = 0; i < mem->n_blocks; i++) {
		const struct mo_block *b = &mem->blocks[i];
		enum mo_skip why = judge(b, io, o);

		if (why != MO_SKIP_NONE) {
			out->skipped[why]++;
			continue;
		}
		fill(&out->c[out->n++], b, io, cr, o, out);
	}
	qsort(out->c, out->n, sizeof(*out->c), o->action == MO_ACTION_OFFLINE ? cmp_offline : cmp_online);
	return 0;
}

int mo_select_named(const struct mo_memory *mem, const uint64_t *blocks, size_t n_blocks,
		    const struct mo_iomem *io, struct mo_census_reader *cr,
		    const struct mo_select_options *o, struct mo_selection *out, uint64_t *bad)
{
	*out = (struct mo_selection) {};
	out->c = calloc(n_blocks ? n_blocks : 1, sizeof(*out->c));
	if (!out->c)
		return -ENOMEM;
	for (size_t i = 0; i < n_blocks; i++) {
		const struct mo_block *b = mo_memory_find(mem, blocks[i]);
		bool dup = false;

		if (!b) {
			if (bad)
				*bad = blocks[i];
			mo_selection_done(out);
			return -ENOENT;
		}
		for (size_t j = 0; j < out->n && !dup; j++)
			dup = out->c[j].index == b->index;
		if (!dup)
			fill(&out->c[out->n++], b, io, cr, o, out);
	}
	return 0;
}

int mo_select_range_blocks(uint64_t block_size, uint64_t start, uint64_t end, uint64_t **ret, size_t *n_ret)
{
	uint64_t first, count, *v;

	if (block_size == 0 || end < start)
		return -EINVAL;
	if (start % block_size != 0 || end == UINT64_MAX || (end + 1) % block_size != 0)
		return -EINVAL;
	first = start / block_size;
	count = (end + 1) / block_size - first;
	if (count == 0)
		return -EINVAL;
	if (count > MAX_RANGE_BLOCKS)
		return -E2BIG;
	v = calloc(count, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (uint64_t i = 0; i < count; i++)
		v[i] = first + i;
	*ret = v;
	*n_ret = count;
	return 0;
}
