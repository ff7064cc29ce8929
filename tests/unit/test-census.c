/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "block.h"
#include "census.h"
#include "fixture.h"
#include "util.h"

/* kpageflags bits (include/uapi/linux/kernel-page-flags.h) */
#define K(x) (UINT64_C(1) << KPF_##x)
#define KPF_UPTODATE 3
#define KPF_DIRTY 4
#define KPF_LRU 5
#define KPF_SLAB 7
#define KPF_WRITEBACK 8
#define KPF_BUDDY 10
#define KPF_MMAP 11
#define KPF_ANON 12
#define KPF_SWAPCACHE 13
#define KPF_SWAPBACKED 14
#define KPF_COMPOUND_HEAD 15
#define KPF_COMPOUND_TAIL 16
#define KPF_HUGE 17
#define KPF_NOPAGE 20
#define KPF_THP 22
#define KPF_OFFLINE 23
#define KPF_PGTABLE 26
#define KPF_RESERVED 32

static void flags(const char *root, uint64_t pfn, uint64_t v)
{
	fx_put_u64(root, "proc/kpageflags", pfn, v);
}

/* A compound page of @n pages: head flags @head, every tail @tail | COMPOUND_TAIL. */
static void compound(const char *root, uint64_t pfn, uint64_t n, uint64_t head, uint64_t tail)
{
	flags(root, pfn, head | K(COMPOUND_HEAD));
	for (uint64_t i = 1; i < n; i++)
		flags(root, pfn + i, tail | K(COMPOUND_TAIL));
}

static void assert_consistent(const struct mo_census *c)
{
	assert_int_equal(c->movable, c->anon + c->file + c->hugetlb);
	assert_int_equal(c->unmovable, c->reserved + c->slab + c->pgtable + c->offline + c->other);
	assert_int_equal(c->pages, c->nopage + c->free + c->movable + c->unmovable + c->noflags);
	assert_true(c->thp <= c->anon + c->file);
	assert_true(c->dirty <= c->movable);
	assert_true(c->mapped <= c->pages);
}

#define BASE UINT64_C(0x1000)

/*
 * One 64-page range with every kind of page, as a 6.1 kernel reports them
 * (tails carry only their own flags, the head has the folio's).
 */
static void write_zoo(const char *root)
{
	for (uint64_t i = 0; i < 8; i++)                   /* a free order-3 buddy chunk */
		flags(root, BASE + i, K(BUDDY));
	flags(root, BASE + 8, 0);                           /* no flag: pcp page or kernel */
	flags(root, BASE + 9, K(ANON) | K(LRU) | K(MMAP) | K(UPTODATE) | K(SWAPBACKED));
	flags(root, BASE + 10, K(LRU) | K(UPTODATE));       /* clean page cache */
	flags(root, BASE + 11, K(LRU) | K(DIRTY) | K(MMAP) | K(UPTODATE));
	flags(root, BASE + 12, K(SWAPCACHE) | K(SWAPBACKED) | K(LRU));
	flags(root, BASE + 13, K(SLAB));
	flags(root, BASE + 14, K(PGTABLE));
	flags(root, BASE + 15, K(RESERVED));
	flags(root, BASE + 16, K(OFFLINE));
	flags(root, BASE + 17, K(UPTODATE));                /* a kernel page with some flag */
	flags(root, BASE + 18, K(NOPAGE));
	flags(root, BASE + 19, K(LRU) | K(WRITEBACK) | K(UPTODATE));
	/* an anonymous THP (order 2), mapped and dirty */
	compound(root, BASE + 20, 4, K(THP) | K(ANON) | K(LRU) | K(MMAP) | K(DIRTY),
		 K(THP) | K(ANON) | K(MMAP));
	/* an in-use hugetlbfs page (order 3): page cache, kept dirty */
	compound(root, BASE + 24, 8, K(HUGE) | K(DIRTY) | K(UPTODATE), K(HUGE));
	/* a free hugetlb pool page (order 3) */
	compound(root, BASE + 32, 8, K(HUGE) | K(UPTODATE), K(HUGE));
	/* a slab of order 2 */
	compound(root, BASE + 40, 4, K(SLAB), K(SLAB));
	/* a kernel __GFP_COMP allocation, no other flag */
	compound(root, BASE + 44, 4, 0, 0);
	/* 48..63 read 0 */
	flags(root, BASE + 63, 0);
}

static int setup(void **state)
{
	char *root = fx_mkroot();

	fx_write(root, "sys/.keep", "");
	fx_write(root, "proc/.keep", "");
	write_zoo(root);
	*state = root;
	return 0;
}

static struct mo_census_reader *reader(const char *root, struct mo_root **rootp)
{
	struct mo_census_reader *r = NULL;

	assert_int_equal(mo_root_new(root, NULL, rootp), 0);
	assert_int_equal(mo_census_reader_new(*rootp, &r), 0);
	return r;
}

static void test_classes(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *r = reader(*state, &root);
	struct mo_census c;

	assert_int_equal(mo_census_read(r, BASE, 64, &c), 0);
	assert_consistent(&c);
	assert_int_equal(c.pages, 64);
	assert_int_equal(c.free, 8 + 8);          /* buddy chunk, free hugetlb page */
	assert_int_equal(c.noflags, 1 + 16);
	assert_int_equal(c.nopage, 1);
	assert_int_equal(c.anon, 2 + 4);          /* anon, swap cache, the THP */
	assert_int_equal(c.file, 3);
	assert_int_equal(c.thp, 4);
	assert_int_equal(c.hugetlb, 8);
	assert_int_equal(c.slab, 1 + 4);
	assert_int_equal(c.pgtable, 1);
	assert_int_equal(c.reserved, 1);
	assert_int_equal(c.offline, 1);
	assert_int_equal(c.other, 1 + 4);
	assert_int_equal(c.movable, 17);
	assert_int_equal(c.unmovable, 13);
	assert_int_equal(c.mapped, 1 + 1 + 4);
	/* dirty file, writeback file, the whole dirty THP, the whole hugetlb page */
	assert_int_equal(c.dirty, 2 + 4 + 8);
	assert_int_equal(c.shared, 0);
	/*
	 * anon mapped 2, clean file 1, dirty mapped file 5, swap cache 1,
	 * writeback 4, THP 4 x 5, hugetlb 8 x (2 + 3), noflags 17 x 1,
	 * and 13 unmovable pages
	 */
	assert_int_equal(c.cost, 2 + 1 + 5 + 1 + 4 + 20 + 40 + 17 + 13 * MO_CENSUS_COST_UNMOVABLE);
}

static void test_movable_only(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *r = reader(*state, &root);
	struct mo_census a, b;

	/* pages 9..12: what a Movable block holds; nothing unmovable, cost small */
	assert_int_equal(mo_census_read(r, BASE + 9, 4, &a), 0);
	assert_consistent(&a);
	assert_int_equal(a.unmovable, 0);
	assert_int_equal(a.movable, 4);
	assert_int_equal(a.cost, 2 + 1 + 5 + 1);
	/* one unmovable page outweighs any amount of movable ones */
	assert_int_equal(mo_census_read(r, BASE + 9, 5, &b), 0);
	assert_int_equal(b.unmovable, 1);
	assert_true(b.cost > a.cost + 32768 * 16);
	/* free memory costs nothing */
	assert_int_equal(mo_census_read(r, BASE, 8, &a), 0);
	assert_int_equal(a.free, 8);
	assert_int_equal(a.cost, 0);
}

static void test_inside_compound(void **state)
{
	const char *root_path = *state;
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *r = reader(root_path, &root);
	struct mo_census c;

	/* starting in the middle of the THP: the head says anon, dirty */
	assert_int_equal(mo_census_read(r, BASE + 22, 2, &c), 0);
	assert_int_equal(c.anon, 2);
	assert_int_equal(c.thp, 2);
	assert_int_equal(c.dirty, 2);
	/* the in-use hugetlb page's tails alone */
	assert_int_equal(mo_census_read(r, BASE + 26, 6, &c), 0);
	assert_int_equal(c.hugetlb, 6);
	assert_int_equal(c.free, 0);
	/* the free hugetlb page's tails alone: free, as its head says */
	assert_int_equal(mo_census_read(r, BASE + 34, 6, &c), 0);
	assert_int_equal(c.free, 6);
	assert_int_equal(c.hugetlb, 0);
	/* slab tails */
	assert_int_equal(mo_census_read(r, BASE + 41, 3, &c), 0);
	assert_int_equal(c.slab, 3);

	/* a hugetlb tail whose head cannot be found is never called free */
	flags(root_path, 0x3000, K(LRU));
	flags(root_path, 0x3001, K(HUGE) | K(COMPOUND_TAIL));
	flags(root_path, 0x3002, K(HUGE) | K(COMPOUND_TAIL));
	assert_int_equal(mo_census_read(r, 0x3001, 2, &c), 0);
	assert_int_equal(c.hugetlb, 2);
	/* ... and a tail at PFN 0 has nothing before it */
	flags(root_path, 0, K(SLAB) | K(COMPOUND_TAIL));
	assert_int_equal(mo_census_read(r, 0, 1, &c), 0);
	assert_int_equal(c.slab, 1);

	/* a 1 GiB-like page: the head far before the range, several chunks back */
	compound(root_path, 0x40000, 1, K(HUGE) | K(ANON) | K(MMAP), 0);
	for (uint64_t p = 0x40001; p < 0x40000 + 40000; p++)
		flags(root_path, p, K(HUGE) | K(COMPOUND_TAIL));
	assert_int_equal(mo_census_read(r, 0x40000 + 39000, 1000, &c), 0);
	assert_consistent(&c);
	assert_int_equal(c.hugetlb, 1000);
}

/* Compound pages that straddle every plausible read-chunk boundary. */
static void test_chunk_boundaries(void **state)
{
	const char *root_path = *state;
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *r = NULL;
	const uint64_t base = 0x100000, n = 65536;
	struct mo_census c;
	uint64_t expect_free = 0, expect_thp = 0;

	for (uint64_t b = 512; b < n; b *= 2) {
		/* a free hugetlb page whose head is the last PFN before b */
		compound(root_path, base + b - 1, 4, K(HUGE), K(HUGE));
		expect_free += 4;
		/* a clean file THP a little after b */
		compound(root_path, base + b + 8, 16, K(THP) | K(LRU), K(THP));
		expect_thp += 16;
	}
	flags(root_path, base + n - 1, K(BUDDY));
	expect_free++;

	r = reader(root_path, &root);
	assert_int_equal(mo_census_read(r, base, n, &c), 0);
	assert_consistent(&c);
	assert_int_equal(c.pages, n);
	assert_int_equal(c.free, expect_free);
	assert_int_equal(c.thp, expect_thp);
	assert_int_equal(c.file, expect_thp);
	assert_int_equal(c.noflags, n - expect_free - expect_thp);
	assert_int_equal(c.cost, expect_thp + c.noflags);
}

static void test_past_end(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *r = reader(*state, &root);
	struct mo_census c;

	/* the fixture's kpageflags ends at BASE + 64: beyond it there is no memory */
	assert_int_equal(mo_census_read(r, BASE + 60, 100, &c), 0);
	assert_consistent(&c);
	assert_int_equal(c.noflags, 4);
	assert_int_equal(c.nopage, 96);
	assert_int_equal(mo_census_read(r, UINT64_C(1) << 40, 10, &c), 0);
	assert_int_equal(c.nopage, 10);
	/* an empty range */
	assert_int_equal(mo_census_read(r, BASE, 0, &c), 0);
	assert_int_equal(c.pages, 0);
	assert_int_equal(c.cost, 0);
	/* ranges whose byte offsets cannot exist */
	assert_int_equal(mo_census_read(r, UINT64_MAX - 5, 10, &c), -ERANGE);
	assert_int_equal(mo_census_read(r, UINT64_C(1) << 62, 1, &c), -ERANGE);
}

struct collected {
	uint64_t pfn[64], flags[64];
	size_t n, stop_after;
};

static int collect(uint64_t pfn, uint64_t f, void *userdata)
{
	struct collected *col = userdata;

	if (col->stop_after && col->n == col->stop_after)
		return -ECANCELED;
	assert_true(col->n < 64);
	col->pfn[col->n] = pfn;
	col->flags[col->n] = f;
	col->n++;
	return 0;
}

static void test_pfns(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *r = reader(*state, &root);
	struct collected col = {};

	assert_int_equal(mo_census_pfns(r, BASE, 64, collect, &col), 0);
	/* everything but the 16 free pages and the hole */
	assert_int_equal(col.n, 64 - 16 - 1);
	assert_int_equal(col.pfn[0], BASE + 8);
	assert_int_equal(col.flags[0], 0);
	assert_int_equal(col.pfn[1], BASE + 9);
	assert_true(col.flags[1] & K(ANON));
	for (size_t i = 0; i < col.n; i++) {
		assert_false(col.pfn[i] < BASE + 8);
		assert_false(col.pfn[i] >= BASE + 32 && col.pfn[i] < BASE + 40);
		assert_int_not_equal(col.pfn[i], BASE + 18);
	}
	/* the hugetlb tails are there, with their raw flags */
	assert_int_equal(col.pfn[16], BASE + 25);
	assert_int_equal(col.flags[16], K(HUGE) | K(COMPOUND_TAIL));

	/* stops when the callback says so, with its error */
	col = (struct collected) { .stop_after = 3 };
	assert_int_equal(mo_census_pfns(r, BASE, 64, collect, &col), -ECANCELED);
	assert_int_equal(col.n, 3);
	assert_int_equal(mo_census_pfns(r, UINT64_MAX, 2, collect, &col), -ERANGE);
}

static void test_mapcount(void **state)
{
	const char *root_path = *state;
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *r = NULL;
	struct mo_census plain, with;
	uint64_t m;

	/* without kpagecount */
	r = reader(root_path, &root);
	assert_int_equal(mo_census_reader_set_mapcount(r, true), -ENOENT);
	assert_int_equal(mo_census_mapcount(r, BASE + 9, &m), -ENOENT);
	mo_census_reader_free(TAKE_PTR(r));

	fx_put_u64(root_path, "proc/kpagecount", BASE + 9, 3);
	fx_put_u64(root_path, "proc/kpagecount", BASE + 11, 1);
	fx_put_u64(root_path, "proc/kpagecount", BASE + 20, 40);
	fx_put_u64(root_path, "proc/kpagecount", BASE + 63, 0);
	assert_int_equal(mo_census_reader_new(root, &r), 0);
	assert_int_equal(mo_census_read(r, BASE, 64, &plain), 0);
	assert_int_equal(plain.shared, 0);
	assert_int_equal(mo_census_reader_set_mapcount(r, true), 0);
	assert_int_equal(mo_census_read(r, BASE, 64, &with), 0);
	assert_consistent(&with);
	assert_int_equal(with.shared, 2);
	/* two extra mappings, and 39 counted as MO_CENSUS_SHARED_MAX */
	assert_int_equal(with.cost, plain.cost + 2 + MO_CENSUS_SHARED_MAX);
	assert_int_equal(mo_census_mapcount(r, BASE + 9, &m), 0);
	assert_int_equal(m, 3);
	assert_int_equal(mo_census_mapcount(r, BASE + 64, &m), -ERANGE);
	assert_int_equal(mo_census_reader_set_mapcount(r, false), 0);
	assert_int_equal(mo_census_read(r, BASE, 64, &with), 0);
	assert_int_equal(with.shared, 0);
}

static void test_missing(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	struct mo_census_reader *r = NULL;
	char *path = fx_mkroot();

	fx_write(path, "sys/.keep", "");
	assert_int_equal(mo_root_new(path, NULL, &root), 0);
	/* no proc directory at all */
	assert_int_equal(mo_census_reader_new(root, &r), -ENOENT);
	mo_root_free(TAKE_PTR(root));
	fx_write(path, "proc/meminfo", "");
	assert_int_equal(mo_root_new(path, NULL, &root), 0);
	assert_int_equal(mo_census_reader_new(root, &r), -ENOENT);
	assert_null(r);
	if (geteuid() != 0) {
		char p[4200];

		fx_write(path, "proc/kpageflags", "");
		snprintf(p, sizeof(p), "%s/proc/kpageflags", path);
		assert_int_equal(chmod(p, 0), 0);
		assert_int_equal(mo_census_reader_new(root, &r), -EACCES);
	}
	fx_rmroot(path);
	(void) state;
}

/* The live machine (read-only): every block's census adds up. */
static void test_live(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *m = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *r = NULL;
	uint64_t pages = 0;

	if (mo_root_new("/", NULL, &root) < 0 || !mo_root_is_live(root) || mo_memory_load(root, &m) < 0 ||
	    mo_census_reader_new(root, &r) < 0)
		skip();
	for (size_t i = 0; i < m->n_blocks; i++) {
		const struct mo_block *b = &m->blocks[i];
		struct mo_census c;

		if (b->state != MO_STATE_ONLINE)
			continue;
		assert_int_equal(mo_census_read(r, b->start / 4096, b->size / 4096, &c), 0);
		assert_consistent(&c);
		assert_int_equal(c.pages, b->size / 4096);
		/* an online block has struct pages */
		assert_true(c.nopage < c.pages);
		pages += c.pages;
	}
	assert_true(pages > 0);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_classes, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_movable_only, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_inside_compound, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_chunk_boundaries, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_past_end, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_pfns, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_mapcount, setup, fx_teardown_root),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_live),
	};
	return cmocka_run_group_tests_name("census", tests, NULL, NULL);
}
