/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <limits.h>
#include <strings.h>

#include "select.h"
#include "util.h"
#include "zoneinfo.h"

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
	[MO_SKIP_EXCLUDED] = "in an excluded range",
};

const char *mo_skip_to_string(enum mo_skip s)
{
	if ((unsigned) s >= _MO_SKIP_MAX)
		return "unknown";
	return skip_names[s];
}

/* Where a lazy SIZE selection stands. */
struct mo_select_scan {
	const struct mo_root *root;
	const struct mo_memory *mem;
	const struct mo_iomem *io;
	struct mo_census_reader *cr;
	struct mo_select_options o;
	uint64_t page;
	size_t next;                /* positions looked at so far, in scan order */
	uint64_t total;             /* positions: the listed blocks, or the indexes of the ranges */
	struct mo_candidate *pending; /* eligible, but not good enough to stop early on */
	size_t n_pending, cap_pending;
	size_t cap;                 /* of the selection's array */
};

static void scan_free(struct mo_select_scan *sc)
{
	if (!sc)
		return;
	free(sc->pending);
	free(sc);
}

void mo_selection_done(struct mo_selection *s)
{
	free(s->c);
	scan_free(s->scan);
	*s = (struct mo_selection) {};
}

static uint64_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t) ps : 4096;
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
	if (o->action == MO_ACTION_OFFLINE &&
	    mo_addr_ranges_overlap(o->excluded, o->n_excluded, b->start, b->start + b->size - 1))
		return MO_SKIP_EXCLUDED;
	if (io && io->addresses_hidden && io->n_managed > 0)
		return MO_SKIP_MANAGED_UNKNOWN;
	if (managed_name(io, b))
		return MO_SKIP_MANAGED;
	return MO_SKIP_NONE;
}

static void fill(struct mo_candidate *c, const struct mo_block *b, const struct mo_iomem *io,
		 struct mo_census_reader *cr, const struct mo_select_options *o, uint64_t page,
		 struct mo_selection *s)
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

static int (*cmp_for(enum mo_action a))(const void *, const void *)
{
	return a == MO_ACTION_OFFLINE ? cmp_offline : cmp_online;
}

/*
 * The attributes of block @index (at @i in a listed model): the model's own,
 * or read into @tmp when it holds indexes only. Return: 0 with *@ret set;
 * -ENOENT when there is no such block (a hole, or it vanished); another
 * negative errno.
 */
static int block_at(const struct mo_root *root, const struct mo_memory *mem, size_t i, uint64_t index,
		    struct mo_block *tmp, const struct mo_block **ret)
{
	int r;

	if (!mem->indexes_only) {
		*ret = &mem->blocks[i];
		return 0;
	}
	r = mo_block_read(root, index, mem->block_size, tmp);
	if (r < 0)
		return r;
	*ret = tmp;
	return 0;
}

/* Position @k of the scan: the index of the block (and its place in a listed model). */
static uint64_t scan_index(const struct mo_select_scan *sc, uint64_t k, size_t *i)
{
	bool down = sc->o.action == MO_ACTION_OFFLINE;

	if (!sc->mem->unlisted) {
		*i = down ? sc->mem->n_blocks - 1 - (size_t) k : (size_t) k;
		return sc->mem->blocks[*i].index;
	}
	*i = 0;
	for (size_t j = 0; j < sc->o.n_ranges; j++) {
		const struct mo_block_range *g = &sc->o.ranges[down ? sc->o.n_ranges - 1 - j : j];
		uint64_t len = g->last - g->first + 1;

		if (k < len)
			return down ? g->last - k : g->first + k;
		k -= len;
	}
	return UINT64_MAX; /* not reached */
}

static int grow(struct mo_candidate **v, size_t *cap, size_t need)
{
	struct mo_candidate *p;
	size_t ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	p = reallocarray(*v, ncap, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

/*
 * A candidate good enough to hand out before every block has been looked at:
 * no unexamined block can rank before it. Never a block the pin store
 * remembers; otherwise, without a census every eligible block is (the scan
 * order is the ranking); with one, a block with nothing to migrate.
 */
static bool settled(const struct mo_select_scan *sc, const struct mo_candidate *c)
{
	/* a block the pin store remembers ranks after every other one */
	if (c->pinned)
		return false;
	if (!sc->cr || sc->o.action != MO_ACTION_OFFLINE)
		return true;
	return c->tier == 0;
}

int mo_select_more(struct mo_selection *s, size_t more)
{
	struct mo_select_scan *sc = s->scan;
	size_t first = s->n, target;
	int r;

	if (!sc)
		return 0;
	target = more > SIZE_MAX - s->n ? SIZE_MAX : s->n + more;
	while (s->n < target && sc->next < sc->total) {
		/* offline: highest index first; online: lowest first (the tie-break order) */
		size_t i;
		uint64_t index = scan_index(sc, sc->next++, &i);
		struct mo_block tmp = {};
		const struct mo_block *b;
		struct mo_candidate c;
		enum mo_skip why;

		r = block_at(sc->root, sc->mem, i, index, &tmp, &b);
		if (r == -ENOENT)
			continue; /* a hole in a zone's span, or removed since the listing */
		if (r < 0)
			return r;
		s->n_examined++;
		why = judge(b, sc->io, &sc->o);
		if (why != MO_SKIP_NONE) {
			s->skipped[why]++;
			mo_block_done(&tmp);
			continue;
		}
		s->n_eligible++;
		fill(&c, b, sc->io, sc->cr, &sc->o, sc->page, s);
		mo_block_done(&tmp);
		if (settled(sc, &c)) {
			if (grow(&s->c, &sc->cap, s->n + 1) < 0)
				return -ENOMEM;
			s->c[s->n++] = c;
		} else {
			if (grow(&sc->pending, &sc->cap_pending, sc->n_pending + 1) < 0)
				return -ENOMEM;
			sc->pending[sc->n_pending++] = c;
		}
	}
	if (s->n > first)
		qsort(s->c + first, s->n - first, sizeof(*s->c), cmp_for(sc->o.action));

	if (sc->next >= sc->total) {
		/* Every block looked at: the rest, ranked, after what was handed out. */
		if (grow(&s->c, &sc->cap, s->n + sc->n_pending) < 0)
			return -ENOMEM;
		if (sc->n_pending > 0) {
			qsort(sc->pending, sc->n_pending, sizeof(*sc->pending), cmp_for(sc->o.action));
			memcpy(s->c + s->n, sc->pending, sc->n_pending * sizeof(*sc->pending));
			s->n += sc->n_pending;
		}
		s->complete = true;
		scan_free(TAKE_PTR(s->scan));
	}
	return (int) (s->n - first < INT_MAX ? s->n - first : INT_MAX);
}

int mo_select_size(const struct mo_root *root, const struct mo_memory *mem, const struct mo_iomem *io,
		   struct mo_census_reader *cr, const struct mo_select_options *o, size_t want,
		   struct mo_selection *out)
{
	struct mo_select_scan *sc;
	int r;

	*out = (struct mo_selection) {};
	sc = calloc(1, sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	*sc = (struct mo_select_scan) {
		.root = root,
		.mem = mem,
		.io = io,
		.cr = cr,
		.o = *o,
		.page = page_size(),
		.total = mem->n_blocks,
	};
	if (mem->unlisted)
		for (size_t j = 0; j < o->n_ranges; j++)
			sc->total += o->ranges[j].last - o->ranges[j].first + 1;
	out->scan = sc;
	/* an empty array, not NULL, when nothing is eligible */
	r = grow(&out->c, &sc->cap, want && want < sc->total ? want : (size_t) (sc->total < 4096 ? sc->total + 1 : 4096));
	if (r >= 0)
		r = mo_select_more(out, want ? want : SIZE_MAX);
	if (r < 0) {
		mo_selection_done(out);
		return r;
	}
	return 0;
}

int mo_select_named(const struct mo_root *root, const struct mo_memory *mem, const uint64_t *blocks, size_t n_blocks,
		    const struct mo_iomem *io, struct mo_census_reader *cr,
		    const struct mo_select_options *o, struct mo_selection *out, uint64_t *bad)
{
	uint64_t page = page_size();

	*out = (struct mo_selection) { .complete = true };
	out->c = calloc(n_blocks ? n_blocks : 1, sizeof(*out->c));
	if (!out->c)
		return -ENOMEM;
	for (size_t i = 0; i < n_blocks; i++) {
		const struct mo_block *found = mem->unlisted ? NULL : mo_memory_find(mem, blocks[i]), *b = NULL;
		struct mo_block tmp = {};
		bool dup = false;
		int r = found || mem->unlisted ? block_at(root, mem, found ? (size_t) (found - mem->blocks) : 0, blocks[i],
							  &tmp, &b)
					       : -ENOENT;

		if (r < 0) {
			if (r == -ENOENT && bad)
				*bad = blocks[i];
			mo_selection_done(out);
			return r;
		}
		for (size_t j = 0; j < out->n && !dup; j++)
			dup = out->c[j].index == b->index;
		if (!dup) {
			fill(&out->c[out->n++], b, io, cr, o, page, out);
			out->n_examined++;
		}
		mo_block_done(&tmp);
	}
	out->n_eligible = out->n;
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const struct mo_block_range *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

int mo_select_zone_ranges(const struct mo_zone_span *spans, size_t n_spans, uint64_t block_size,
			  const struct mo_select_options *o, struct mo_block_range **ret, size_t *n_ret)
{
	_cleanup_free_ struct mo_block_range *v = calloc(n_spans ? n_spans : 1, sizeof(*v));
	uint64_t page = page_size();
	size_t n = 0, m = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n_spans; i++) {
		const struct mo_zone_span *z = &spans[i];
		bool allowed = false;

		if (z->spanned == 0 || (o->node >= 0 && z->node != o->node))
			continue;
		/* PFNs whose byte address does not fit, or more blocks than a machine has: not a real span */
		if (block_size == 0 || z->start_pfn > UINT64_MAX / page - z->spanned ||
		    z->spanned / (block_size / page ? block_size / page : 1) > MAX_RANGE_BLOCKS)
			continue;
		if (!o->zones || o->n_zones == 0)
			allowed = strcasecmp(z->zone, "Movable") == 0;
		for (size_t j = 0; o->zones && j < o->n_zones && !allowed; j++)
			allowed = strcasecmp(z->zone, o->zones[j]) == 0;
		if (!allowed)
			continue;
		v[n++] = (struct mo_block_range) {
			.first = z->start_pfn * page / block_size,
			.last = (z->start_pfn + z->spanned - 1) * page / block_size,
		};
	}
	qsort(v, n, sizeof(*v), cmp_range);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && v[i].first <= v[m - 1].last + 1) {
			if (v[i].last > v[m - 1].last)
				v[m - 1].last = v[i].last;
			continue;
		}
		v[m++] = v[i];
	}
	*ret = TAKE_PTR(v);
	*n_ret = m;
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
