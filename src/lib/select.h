/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Which blocks a request works on.
 *
 * SIZE requests choose: only blocks in the right state, in an allowed zone
 * (Movable by default for offline: only ZONE_MOVABLE is reliably removable),
 * never a block whose valid_zones reads "none", never driver-managed memory
 * (virtio-mem, dax/kmem: their drivers manage it), optionally one node only.
 * Offline candidates are ranked by their page census:
 *   tier 0  fully free: nothing to migrate (pages without flags count as free)
 *   tier 1  only movable pages in use, by ascending migration cost
 *   tier 2  census unknown (kpageflags unreadable)
 *   tier 3  unmovable pages present (reserved, slab, page tables, other kernel
 *           allocations): tried last, not excluded - an attempt is bounded and
 *           EBUSY comes back quickly, and the count can be transient
 * ties go to the higher block index (hot-added memory sits at the top, which
 * is also the order chmem uses). Blocks the pin store (pinmem.h) remembers as
 * blocked rank after all others, whatever their tier: the census cannot see
 * a pin, the memory of an earlier attempt can. Online candidates are offline blocks in
 * ascending index order.
 *
 * Range and block-list requests use exactly the blocks named; a name that is
 * not a block (a hole, a typo) is an error that names it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attempt.h"
#include "block.h"
#include "census.h"
#include "iomem.h"
#include "pinmem.h"

/* Block indexes @first..@last. */
struct mo_block_range {
	uint64_t first, last;
};

/* Physical addresses @first..@last, inclusive (memoffd's ExcludedRanges=). */
struct mo_addr_range {
	uint64_t first, last;
};

/** mo_addr_ranges_overlap() - whether [@first, @last] overlaps one of @ranges. */
static inline bool mo_addr_ranges_overlap(const struct mo_addr_range *ranges, size_t n, uint64_t first,
					  uint64_t last)
{
	for (size_t i = 0; i < n; i++)
		if (first <= ranges[i].last && ranges[i].first <= last)
			return true;
	return false;
}

struct mo_select_options {
	enum mo_action action;      /* offline picks online blocks; online types pick offline blocks */
	const char *const *zones;   /* allowed zones; NULL/0 = Movable for offline, any for online */
	size_t n_zones;
	int node;                   /* only this node; -1 = any */
	/* SIZE with a model from mo_memory_open(): the only indexes that can hold a candidate
	 * (the allowed zones' spans, mo_select_zone_ranges()), sorted, disjoint; borrowed */
	const struct mo_block_range *ranges;
	size_t n_ranges;
	const struct mo_pinmem *pinmem; /* remembered pins (borrowed), or NULL */
	/* offline: never a block that overlaps one of these (borrowed) */
	const struct mo_addr_range *excluded;
	size_t n_excluded;
};

enum mo_skip {
	MO_SKIP_NONE = 0,
	MO_SKIP_STATE,        /* not in the state the action starts from */
	MO_SKIP_ZONE,         /* not in an allowed zone (or zone unknown) */
	MO_SKIP_ZONES_NONE,   /* valid_zones "none": spans zones or has holes */
	MO_SKIP_MANAGED,      /* driver-managed memory (virtio-mem, kmem) */
	MO_SKIP_MANAGED_UNKNOWN, /* /proc/iomem hides addresses while it lists driver-managed memory */
	MO_SKIP_NODE,         /* on another node */
	MO_SKIP_EXCLUDED,     /* offline: overlaps an excluded range (mo_select_options.excluded) */
	_MO_SKIP_MAX,
};

struct mo_candidate {
	uint64_t index;
	uint64_t start, size;       /* bytes */
	int node;                   /* -1 unknown */
	enum mo_state state;        /* at selection time */
	bool movable_zone;          /* valid_zones names Movable */
	const char *managed;        /* driver-managed iomem name, or NULL (points into the mo_iomem) */
	bool have_census;
	struct mo_census census;    /* valid when have_census */
	int tier;                   /* see above */
	bool pinned;                /* the pin store remembers it blocked */
};

struct mo_select_scan;

struct mo_selection {
	struct mo_candidate *c;     /* ranked (SIZE) or in the order named */
	size_t n;
	size_t skipped[_MO_SKIP_MAX]; /* SIZE: how many of the blocks examined each rule left out */
	int census_error;           /* negative errno of the last census failure, 0 if none */
	size_t n_census;            /* candidates with a census */
	size_t n_examined;          /* blocks looked at: judged, and counted when eligible */
	size_t n_eligible;          /* eligible among them */
	bool complete;              /* every block was looked at: @c is every eligible block, ranked */
	struct mo_select_scan *scan; /* SIZE: where mo_select_more() resumes; NULL when complete */
};

void mo_selection_done(struct mo_selection *s);

/**
 * mo_select_size() - the candidates of a SIZE request, best first, looking at
 * no more blocks than it needs to.
 * @root: where blocks are read when @mem holds indexes only (mo_memory_enumerate())
 * @mem: the blocks (borrowed until mo_selection_done())
 * @io: driver-managed ranges (NULL: none known; borrowed likewise)
 * @cr: census reader (NULL: no census; ranking by index only; borrowed likewise)
 * @o: action, zones, node (copied; @o->zones stays borrowed)
 * @want: how many candidates the request needs; 0 = look at every block
 * @out: the candidates ranked so far; filled even when empty
 *
 * Lazy planning: the blocks are looked at in the order of the tie-break
 * (offline: highest index first; online: lowest first), and an offline
 * request stops counting pages once it holds @want candidates with nothing to
 * migrate (tier 0): no block left unexamined can rank better than those, and
 * among tier-0 blocks the difference (pages without flags) does not matter.
 * Without a census (or for online requests) every eligible block is as good
 * as the order it is met in, so it stops at @want eligible blocks. Otherwise
 * (not enough free blocks) it looks at every block and ranks them all, tier 1
 * by cost, unmovable last. The cost of a plan on a machine with free blocks
 * thus depends on @want, not on how much memory the machine has.
 *
 * The caller takes candidates from the front and calls mo_select_more() when
 * it needs another one (a block failed).
 * Return: 0, -ENOMEM, or the error of reading a block's attributes.
 */
int mo_select_size(const struct mo_root *root, const struct mo_memory *mem, const struct mo_iomem *io,
		   struct mo_census_reader *cr, const struct mo_select_options *o, size_t want,
		   struct mo_selection *out);

/**
 * mo_select_more() - append at least @more candidates to a SIZE selection
 * (fewer when the blocks run out), ranked after the ones it already holds:
 * further tier-0 blocks while any are left to find, then, once every block
 * has been looked at, all the others, ranked.
 * Return: how many were appended (0: none left), or a negative errno.
 */
int mo_select_more(struct mo_selection *s, size_t more);

/**
 * mo_select_named() - exactly the blocks named, in the order given, duplicates
 * dropped; each gets its census (for offline) and driver-managed flag.
 * No state, zone or node rule is applied: the engine reports blocks already in
 * the target state as "already" and the kernel judges the rest. Blocks of a
 * model with indexes only are read from @root.
 * @bad: receives the first index that is not a block
 * Return: 0; -ENOENT when a named block does not exist (@bad set); -ENOMEM.
 */
int mo_select_named(const struct mo_root *root, const struct mo_memory *mem, const uint64_t *blocks, size_t n_blocks,
		    const struct mo_iomem *io, struct mo_census_reader *cr,
		    const struct mo_select_options *o, struct mo_selection *out, uint64_t *bad);

/**
 * mo_select_range_blocks() - the block indexes of [start, end] (inclusive).
 * Both ends must fall on block boundaries (start % bs == 0, (end + 1) % bs == 0).
 * Return: 0; -EINVAL when misaligned or empty; -ENOMEM.
 */
int mo_select_range_blocks(uint64_t block_size, uint64_t start, uint64_t end, uint64_t **ret, size_t *n_ret);

/**
 * mo_select_zone_ranges() - the block indexes that the spans of the zones
 * @o allows (Movable by default), on @o->node or any, sorted and merged.
 * @spans: from mo_zoneinfo_read()
 * Return: 0 (an empty array when no such zone has pages) or -ENOMEM.
 */
struct mo_zone_span;
int mo_select_zone_ranges(const struct mo_zone_span *spans, size_t n_spans, uint64_t block_size,
			  const struct mo_select_options *o, struct mo_block_range **ret, size_t *n_ret);

/** mo_skip_to_string() - why blocks were left out, for messages. */
const char *mo_skip_to_string(enum mo_skip s);

/** mo_candidate_tier() - the tier of a census (see above). */
int mo_census_tier(const struct mo_census *c);
