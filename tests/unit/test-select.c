/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "select.h"
#include "util.h"
#include "zoneinfo.h"

/* Blocks of 8 pages (32 KiB with 4 KiB pages) keep the fake kpageflags small. */
#define PAGES_PER_BLOCK 8

static uint64_t page_size(void)
{
	return (uint64_t) sysconf(_SC_PAGESIZE);
}

/* Set the kpageflags word of every page of @block, or of its first @n pages. */
static void flags(const char *root, uint64_t block, unsigned n, uint64_t word)
{
	fx_put_u64_range(root, "proc/kpageflags", block * PAGES_PER_BLOCK, n, word);
}

struct fx {
	char *root;
	struct mo_root *r;
	struct mo_memory *mem;
	struct mo_census_reader *cr;
	struct mo_iomem io;
};

/*
 *  0  online   none      free        - spans zones
 *  1  online   Normal    free        - wrong zone by default
 *  2  online   Movable   free
 *  3  online   Movable   2 anon pages
 *  4  online   Movable   1 slab page  - unmovable: last
 *  5  online   Movable   5 anon pages
 *  6  offline  Movable               - wrong state for offline
 *  7  online   Movable   free, node 1
 *  8  online   Movable   free, virtio-mem
 *  9  offline  Normal Movable
 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char text[512];
	uint64_t bs = PAGES_PER_BLOCK * page_size();

	f->root = fx_mkroot();
	fx_write(f->root, "proc/kpageflags", "");
	snprintf(text, sizeof(text), "%" PRIx64 "\n", bs);
	fx_write(f->root, "sys/devices/system/memory/block_size_bytes", text);
	fx_block(f->root, 0, "online", "none", 0, NULL);
	fx_block(f->root, 1, "online", "Normal", 0, NULL);
	fx_block(f->root, 2, "online", "Movable", 0, NULL);
	fx_block(f->root, 3, "online", "Movable", 0, NULL);
	fx_block(f->root, 4, "online", "Movable", 0, NULL);
	fx_block(f->root, 5, "online", "Movable", 0, NULL);
	fx_block(f->root, 6, "offline", "Movable", 0, NULL);
	fx_block(f->root, 7, "online", "Movable", 1, NULL);
	fx_block(f->root, 8, "online", "Movable", 0, NULL);
	fx_block(f->root, 9, "offline", "Normal Movable", 0, NULL);
	for (uint64_t b = 0; b <= 9; b++)
		flags(f->root, b, PAGES_PER_BLOCK, MO_KPF(MO_KPF_BUDDY));
	flags(f->root, 3, 2, MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_UPTODATE));
	flags(f->root, 4, 1, MO_KPF(MO_KPF_SLAB));
	flags(f->root, 5, 5, MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_UPTODATE));

	assert_int_equal(mo_root_new(f->root, NULL, &f->r), 0);
	assert_int_equal(mo_memory_load(f->r, &f->mem), 0);
	assert_int_equal(mo_census_reader_new(f->r, &f->cr), 0);
	snprintf(text, sizeof(text),
		 "00000000-%08" PRIx64 " : System RAM\n"
		 "%08" PRIx64 "-%08" PRIx64 " : System RAM (virtio_mem)\n",
		 8 * bs - 1, 8 * bs, 9 * bs - 1);
	assert_int_equal(mo_iomem_parse(text, &f->io), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mo_iomem_done(&f->io);
	mo_census_reader_free(f->cr);
	mo_memory_free(f->mem);
	mo_root_free(f->r);
	fx_rmroot(f->root);
	free(f);
	return 0;
}

static void assert_order(const struct mo_selection *s, const uint64_t *want, size_t n)
{
	for (size_t i = 0; i < s->n && i < n; i++)
		if (s->c[i].index != want[i])
			fail_msg("position %zu: block %" PRIu64 ", expected %" PRIu64, i, s->c[i].index, want[i]);
	assert_int_equal(s->n, n);
}

static void test_size_offline_default(void **state)
{
	struct fx *f = *state;
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1 };
	struct mo_selection s;
	/* free blocks (higher index first), then by cost, the unmovable one last */
	const uint64_t want[] = { 7, 2, 3, 5, 4 };

	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want, ARRAY_SIZE(want));
	assert_int_equal(s.c[0].tier, 0);
	assert_int_equal(s.c[2].tier, 1);
	assert_int_equal(s.c[2].census.anon, 2);
	assert_true(s.c[2].census.cost < s.c[3].census.cost);
	assert_int_equal(s.c[4].tier, 3);
	assert_true(s.c[0].have_census);
	assert_int_equal(s.n_census, 5);
	assert_true(s.c[0].movable_zone);
	assert_int_equal(s.c[0].node, 1);
	assert_int_equal(s.skipped[MO_SKIP_ZONES_NONE], 1);
	assert_int_equal(s.skipped[MO_SKIP_ZONE], 1);
	assert_int_equal(s.skipped[MO_SKIP_STATE], 2);
	assert_int_equal(s.skipped[MO_SKIP_MANAGED], 1);
	mo_selection_done(&s);
}

/* Blocks the pin store remembers go after all others, even the free ones and the unmovable one. */
static void test_size_pinned_last(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_pinmem_freep) struct mo_pinmem *pins = NULL;
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1 };
	struct mo_selection s;
	const uint64_t pfn = 0x1234, want[] = { 2, 5, 4, 7, 3 };

	assert_int_equal(mo_pinmem_new(&pins), 0);
	assert_int_equal(mo_pinmem_note(pins, 7, &pfn, 1, 100), 0);
	assert_int_equal(mo_pinmem_note(pins, 3, NULL, 0, 200), 0);
	assert_int_equal(mo_pinmem_note(pins, 99, NULL, 0, 200), 0);   /* no such block: harmless */
	o.pinmem = pins;
	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &s), 0);
	/* among the pinned ones the usual order: 7 is free, 3 costs something */
	assert_order(&s, want, ARRAY_SIZE(want));
	assert_true(s.c[3].pinned);
	assert_true(s.c[4].pinned);
	assert_false(s.c[0].pinned);
	mo_selection_done(&s);
}

/* Blocks overlapping an excluded range are never offline candidates, even by a byte; online ignores them. */
static void test_size_excluded(void **state)
{
	struct fx *f = *state;
	uint64_t bs = PAGES_PER_BLOCK * page_size();
	const struct mo_addr_range ex[] = {
		{ 7 * bs + bs - 1, 7 * bs + bs - 1 },     /* the last byte of block 7 */
		{ 3 * bs - 1, 3 * bs },                    /* the last byte of 2, the first of 3 */
	};
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1, .excluded = ex, .n_excluded = 2 };
	struct mo_selection s;
	const uint64_t want[] = { 5, 4 }, want_online[] = { 6, 9 };

	assert_false(mo_addr_ranges_overlap(ex, 2, 4 * bs, 5 * bs - 1));
	assert_true(mo_addr_ranges_overlap(ex, 2, 2 * bs, 3 * bs - 1));
	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want, ARRAY_SIZE(want));
	assert_int_equal(s.skipped[MO_SKIP_EXCLUDED], 3);
	mo_selection_done(&s);

	o.action = MO_ACTION_ONLINE;
	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want_online, ARRAY_SIZE(want_online));
	assert_int_equal(s.skipped[MO_SKIP_EXCLUDED], 0);
	mo_selection_done(&s);
}

static void test_size_node_and_zone(void **state)
{
	struct fx *f = *state;
	const char *normal[] = { "Normal" }, *both[] = { "normal", "MOVABLE" };
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = 1 };
	struct mo_selection s;
	const uint64_t want_node[] = { 7 }, want_normal[] = { 1 }, want_both[] = { 7, 2, 1, 3, 5, 4 };

	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want_node, 1);
	assert_int_equal(s.skipped[MO_SKIP_NODE], 5);
	mo_selection_done(&s);

	o.node = -1;
	o.zones = normal;
	o.n_zones = 1;
	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want_normal, 1);
	mo_selection_done(&s);

	/* several zones, any case; "none" is never taken */
	o.zones = both;
	o.n_zones = 2;
	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want_both, ARRAY_SIZE(want_both));
	mo_selection_done(&s);
}

static void test_size_without_census(void **state)
{
	struct fx *f = *state;
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1 };
	struct mo_selection s;
	const uint64_t want[] = { 7, 5, 4, 3, 2 };

	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, NULL, &o, 0, &s), 0);
	assert_order(&s, want, ARRAY_SIZE(want));
	assert_false(s.c[0].have_census);
	assert_int_equal(s.c[0].tier, 2);
	mo_selection_done(&s);
}

static void test_size_iomem_hidden(void **state)
{
	struct fx *f = *state;
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1 };
	struct mo_iomem hidden = {};
	struct mo_selection s;

	assert_int_equal(mo_iomem_parse("00000000-00000000 : System RAM\n"
					"00000000-00000000 : System RAM (virtio_mem)\n", &hidden), 0);
	assert_true(hidden.addresses_hidden);
	/* it cannot tell the driver's memory apart: it takes nothing */
	assert_int_equal(mo_select_size(f->r, f->mem, &hidden, f->cr, &o, 0, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.skipped[MO_SKIP_MANAGED_UNKNOWN], 6);
	mo_selection_done(&s);
	mo_iomem_done(&hidden);
}

static void test_size_online(void **state)
{
	struct fx *f = *state;
	const char *normal[] = { "Normal" };
	struct mo_select_options o = { .action = MO_ACTION_ONLINE_MOVABLE, .node = -1 };
	struct mo_selection s;
	const uint64_t want[] = { 6, 9 }, want_normal[] = { 9 };

	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want, ARRAY_SIZE(want));
	/* offline blocks have no pages to count */
	assert_false(s.c[0].have_census);
	mo_selection_done(&s);

	o.zones = normal;
	o.n_zones = 1;
	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want_normal, 1);
	mo_selection_done(&s);
}

static void test_named(void **state)
{
	struct fx *f = *state;
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1 };
	const uint64_t named[] = { 5, 0, 8, 6, 5 }, missing[] = { 2, 99, 3 };
	const uint64_t want[] = { 5, 0, 8, 6 };
	struct mo_selection s;
	uint64_t bad = 0;

	/* exactly what is named, in that order, once; no rule applied */
	assert_int_equal(mo_select_named(f->r, f->mem, named, ARRAY_SIZE(named), &f->io, f->cr, &o, &s, &bad), 0);
	assert_order(&s, want, ARRAY_SIZE(want));
	assert_non_null(s.c[2].managed);
	assert_string_equal(s.c[2].managed, "System RAM (virtio_mem)");
	assert_null(s.c[0].managed);
	assert_int_equal(s.c[3].state, MO_STATE_OFFLINE);
	assert_true(s.c[0].have_census);
	assert_int_equal(s.c[0].census.anon, 5);
	mo_selection_done(&s);

	assert_int_equal(mo_select_named(f->r, f->mem, missing, ARRAY_SIZE(missing), &f->io, f->cr, &o, &s, &bad), -ENOENT);
	assert_int_equal(bad, 99);
	assert_int_equal(s.n, 0);
	assert_null(s.c);
}

/* A size request looks at blocks from the top down and stops once it has enough free ones. */
static void test_size_lazy(void **state)
{
	struct fx *f = *state;
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1 };
	struct mo_selection s, full;
	const uint64_t want[] = { 7, 2, 3, 5, 4 };

	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 1, &s), 0);
	/* 9 (offline), 8 (virtio-mem), 7 (free): enough */
	assert_int_equal(s.n, 1);
	assert_int_equal(s.c[0].index, 7);
	assert_int_equal(s.n_examined, 3);
	assert_int_equal(s.n_eligible, 1);
	assert_int_equal(s.n_census, 1);
	assert_false(s.complete);

	/* one more: 6 (offline), 5 and 4 and 3 (busy: held back), 2 (free) */
	assert_int_equal(mo_select_more(&s, 1), 1);
	assert_int_equal(s.c[1].index, 2);
	assert_int_equal(s.n_examined, 8);
	assert_false(s.complete);

	/* the rest: every block looked at, the busy ones ranked after the free ones */
	assert_int_equal(mo_select_more(&s, 1), 3);
	assert_true(s.complete);
	assert_order(&s, want, ARRAY_SIZE(want));
	assert_int_equal(mo_select_more(&s, 1), 0);

	/* the same ranking and the same counts as looking at everything at once */
	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 0, &full), 0);
	assert_true(full.complete);
	assert_null(full.scan);
	assert_order(&full, want, ARRAY_SIZE(want));
	assert_memory_equal(s.skipped, full.skipped, sizeof(s.skipped));
	assert_int_equal(s.n_examined, 10);
	assert_int_equal(full.n_examined, 10);
	assert_int_equal(s.n_eligible, 5);
	mo_selection_done(&full);
	mo_selection_done(&s);

	/* not enough free blocks: it has to look at every block */
	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 3, &s), 0);
	assert_true(s.complete);
	assert_order(&s, want, ARRAY_SIZE(want));
	mo_selection_done(&s);

	/* online: the lowest offline block in an allowed zone, nothing above it read */
	o.action = MO_ACTION_ONLINE_MOVABLE;
	assert_int_equal(mo_select_size(f->r, f->mem, &f->io, f->cr, &o, 1, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.c[0].index, 6);
	assert_int_equal(s.n_examined, 7);
	mo_selection_done(&s);
}

/* A model that holds indexes only: the selection reads the blocks it looks at. */
static void test_indexes_only(void **state)
{
	struct fx *f = *state;
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1 };
	const uint64_t want[] = { 7, 2, 3, 5, 4 }, named[] = { 5, 6 };
	struct mo_memory *mem = NULL;
	struct mo_selection s;
	uint64_t bad = 0;

	assert_int_equal(mo_memory_enumerate(f->r, &mem), 0);
	assert_true(mem->indexes_only);
	assert_int_equal(mem->n_blocks, 10);
	assert_int_equal(mem->blocks[7].state, MO_STATE_UNKNOWN);

	assert_int_equal(mo_select_size(f->r, mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want, ARRAY_SIZE(want));
	assert_int_equal(s.c[0].node, 1);
	assert_true(s.c[0].movable_zone);
	assert_int_equal(s.skipped[MO_SKIP_STATE], 2);
	assert_int_equal(s.skipped[MO_SKIP_MANAGED], 1);
	mo_selection_done(&s);

	assert_int_equal(mo_select_named(f->r, mem, named, ARRAY_SIZE(named), &f->io, f->cr, &o, &s, &bad), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.c[0].census.anon, 5);
	assert_int_equal(s.c[1].state, MO_STATE_OFFLINE);
	mo_selection_done(&s);
	mo_memory_free(mem);
}

/* Zone spans from /proc/zoneinfo bound where a size request looks, without listing the blocks. */
static void test_zone_ranges(void **state)
{
	struct fx *f = *state;
	const uint64_t ppb = PAGES_PER_BLOCK, bs = ppb * page_size();
	const uint64_t want[] = { 7, 2, 3, 5, 4 };
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1 };
	struct mo_zone_span *spans = NULL;
	struct mo_block_range *ranges = NULL;
	struct mo_memory *mem = NULL;
	struct mo_selection s;
	size_t n_spans = 0, n_ranges = 0;
	char text[1024];
	const char *normal[] = { "normal" };

	/* Normal: blocks 0-1, Movable: 2-9 on node 0 and nothing on node 1 (an empty zone has no start_pfn) */
	snprintf(text, sizeof(text),
		 "Node 0, zone      DMA\n  pages free     0\n        spanned  0\n        present  0\n"
		 "Node 0, zone   Normal\n  pages free     3\n        spanned  %" PRIu64 "\n"
		 "  pagesets\n  start_pfn:           0\n"
		 "Node 0, zone  Movable\n        spanned  %" PRIu64 "\n  start_pfn:           %" PRIu64 "\n"
		 "Node 1, zone  Movable\n        spanned  0\n",
		 2 * ppb, 8 * ppb, 2 * ppb);
	assert_int_equal(mo_zoneinfo_parse(text, &spans, &n_spans), 0);
	assert_int_equal(n_spans, 4);
	assert_string_equal(spans[2].zone, "Movable");
	assert_int_equal(spans[2].start_pfn, 2 * ppb);
	assert_int_equal(spans[2].spanned, 8 * ppb);
	assert_int_equal(spans[3].node, 1);
	{
		struct mo_zone_span *none = NULL;
		size_t n_none = 0;

		assert_int_equal(mo_zoneinfo_parse("nothing here\n", &none, &n_none), -EBADMSG);
		assert_null(none);
	}

	assert_int_equal(mo_select_zone_ranges(spans, n_spans, bs, &o, &ranges, &n_ranges), 0);
	assert_int_equal(n_ranges, 1);
	assert_int_equal(ranges[0].first, 2);
	assert_int_equal(ranges[0].last, 9);

	/* no listing: the blocks 2-9 one by one, the same ranking as from the whole listing */
	assert_int_equal(mo_memory_open(f->r, &mem), 0);
	assert_true(mem->unlisted);
	assert_int_equal(mem->n_blocks, 0);
	o.ranges = ranges;
	o.n_ranges = n_ranges;
	assert_int_equal(mo_select_size(f->r, mem, &f->io, f->cr, &o, 0, &s), 0);
	assert_order(&s, want, ARRAY_SIZE(want));
	assert_int_equal(s.n_examined, 8);
	assert_int_equal(s.skipped[MO_SKIP_STATE], 2);
	assert_int_equal(s.skipped[MO_SKIP_MANAGED], 1);
	assert_int_equal(s.c[0].node, 1);
	mo_selection_done(&s);

	/* lazily: block 7 is enough for one, found after 9 and 8 */
	assert_int_equal(mo_select_size(f->r, mem, &f->io, f->cr, &o, 1, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.c[0].index, 7);
	assert_int_equal(s.n_examined, 3);
	mo_selection_done(&s);

	/* named blocks of an unlisted model are read directly; one that does not exist is named */
	{
		const uint64_t named[] = { 3, 42 };
		uint64_t bad = 0;

		assert_int_equal(mo_select_named(f->r, mem, named, 2, &f->io, f->cr, &o, &s, &bad), -ENOENT);
		assert_int_equal(bad, 42);
	}
	free(ranges);

	/* -z Normal: its span; a zone without pages gives nothing */
	o.zones = normal;
	o.n_zones = 1;
	assert_int_equal(mo_select_zone_ranges(spans, n_spans, bs, &o, &ranges, &n_ranges), 0);
	assert_int_equal(n_ranges, 1);
	assert_int_equal(ranges[0].last, 1);
	free(ranges);
	o.zones = NULL;
	o.n_zones = 0;
	o.node = 1;
	assert_int_equal(mo_select_zone_ranges(spans, n_spans, bs, &o, &ranges, &n_ranges), 0);
	assert_int_equal(n_ranges, 0);
	free(ranges);
	free(spans);
	mo_memory_free(mem);
}

static void test_range_blocks(void **state)
{
	uint64_t *v = NULL;
	size_t n = 0;
	const uint64_t bs = 128 * MIB;

	assert_int_equal(mo_select_range_blocks(bs, 4 * bs, 6 * bs - 1, &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0], 4);
	assert_int_equal(v[1], 5);
	free(v);
	assert_int_equal(mo_select_range_blocks(bs, 4 * bs + 1, 6 * bs - 1, &v, &n), -EINVAL);
	assert_int_equal(mo_select_range_blocks(bs, 4 * bs, 6 * bs, &v, &n), -EINVAL);
	assert_int_equal(mo_select_range_blocks(bs, 6 * bs, 4 * bs - 1, &v, &n), -EINVAL);
	assert_int_equal(mo_select_range_blocks(bs, 0, UINT64_MAX - bs, &v, &n), -E2BIG);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_size_offline_default, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_pinned_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_excluded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_node_and_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_without_census, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_iomem_hidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_online, setup, teardown),
		cmocka_unit_test_setup_teardown(test_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_size_lazy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_indexes_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zone_ranges, setup, teardown),
		cmocka_unit_test(test_range_blocks),
	};
	return cmocka_run_group_tests_name("select", tests, NULL, NULL);
}
