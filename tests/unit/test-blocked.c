/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The blocked-page tracker: deterministic, time passed in. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "blocked.h"
#include "kpageflags.h"
#include "util.h"

#define S (UINT64_C(1000000))
#define ANON (MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_MMAP) | MO_KPF(MO_KPF_SWAPBACKED))
#define SLAB MO_KPF(MO_KPF_SLAB)
#define FILEPG (MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_UPTODATE))

#define MAX_EV 256

struct log {
	size_t n;
	enum mo_blocked_event_type type[MAX_EV];
	struct mo_blocked_group g[MAX_EV];
	int fail_with;
};

static int record(const struct mo_blocked_event *ev, void *userdata)
{
	struct log *l = userdata;

	assert_true(l->n < MAX_EV);
	l->type[l->n] = ev->type;
	l->g[l->n] = *ev->group;
	l->n++;
	return l->fail_with;
}

struct pass {
	uint64_t first, last, flags;
	uint32_t owner;
};

/* One pass over @block at @t: the PFN runs in @runs, terminated by last == 0. */
static void pass(struct mo_blocked_tracker *t, uint64_t block, uint64_t time, const struct pass *runs)
{
	assert_int_equal(mo_blocked_begin(t, block, time), 0);
	for (; runs && runs->last; runs++)
		for (uint64_t pfn = runs->first; pfn <= runs->last; pfn++)
			assert_int_equal(mo_blocked_add(t, block, pfn, runs->flags, runs->owner), 0);
	assert_int_equal(mo_blocked_end(t, block), 0);
}

/* The groups the log holds, in order: first and last PFN (every page between them) and owner. */
struct span {
	uint64_t first, last;
	uint32_t owner;
};

static void expect_groups(const struct log *l, const struct span *want, size_t n)
{
	assert_int_equal(l->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(l->g[i].first_pfn, want[i].first);
		assert_int_equal(l->g[i].last_pfn, want[i].last);
		assert_int_equal(l->g[i].npages, want[i].last - want[i].first + 1);
		assert_int_equal(l->g[i].owner, want[i].owner);
	}
}

static size_t count(const struct log *l, enum mo_blocked_event_type type)
{
	size_t n = 0;

	for (size_t i = 0; i < l->n; i++)
		n += l->type[i] == type;
	return n;
}

static void test_lifecycle(void **state)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	struct log l = {};
	const struct pass first[] = {
		{ 100, 103, ANON, 42 }, { 200, 200, SLAB, 0 }, { 300, 300, ANON, 42 }, {},
	};
	const struct pass steady[] = { { 100, 103, ANON, 42 }, { 200, 200, SLAB, 0 }, {} };
	const struct pass released[] = { { 100, 103, ANON, 42 }, {} };
	uint64_t id_anon;

	assert_int_equal(mo_blocked_tracker_new(NULL, record, &l, &t), 0);

	/* in use at the first look, and half a second later: not yet blocked */
	pass(t, 5, 0, first);
	pass(t, 5, S / 2, steady);
	assert_int_equal(l.n, 0);

	/* still there after the settle time: two groups, reported once */
	pass(t, 5, 2 * S, steady);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.type[0], MO_BLOCKED_EV_NEW);
	assert_int_equal(l.g[0].block, 5);
	assert_int_equal(l.g[0].first_pfn, 100);
	assert_int_equal(l.g[0].last_pfn, 103);
	assert_int_equal(l.g[0].npages, 4);
	assert_int_equal(l.g[0].owner, 42);
	assert_int_equal(l.g[0].first_seen, 0);
	assert_int_equal(l.g[0].duration, 2 * S);
	assert_int_equal(l.g[0].cls, MO_BLOCKED_PENDING);
	assert_int_equal(l.g[0].passes, 1);
	assert_int_equal(l.type[1], MO_BLOCKED_EV_NEW);
	assert_int_equal(l.g[1].first_pfn, 200);
	assert_int_equal(l.g[1].flags, SLAB);
	id_anon = l.g[0].id;
	assert_true(l.g[1].id != id_anon);

	/* nothing new to say */
	pass(t, 5, 10 * S, steady);
	assert_int_equal(l.n, 2);

	/* past the threshold: long-lived, once */
	pass(t, 5, 31 * S, steady);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.type[2], MO_BLOCKED_EV_LONG_LIVED);
	assert_int_equal(l.g[2].id, id_anon);
	assert_int_equal(l.g[2].cls, MO_BLOCKED_LONG_LIVED);
	assert_int_equal(l.g[2].duration, 31 * S);
	assert_int_equal(l.g[2].passes, 3);
	pass(t, 5, 62 * S, steady);
	assert_int_equal(l.n, 4);

	/* a minute after the last record: an update with the grown duration */
	pass(t, 5, 91 * S, steady);
	assert_int_equal(l.n, 6);
	assert_int_equal(l.type[4], MO_BLOCKED_EV_UPDATE);
	assert_int_equal(l.g[4].duration, 91 * S);
	assert_int_equal(l.g[4].cls, MO_BLOCKED_LONG_LIVED);
	/* the next one two minutes later */
	pass(t, 5, 150 * S, steady);
	assert_int_equal(l.n, 6);
	pass(t, 5, 211 * S, steady);
	assert_int_equal(l.n, 8);
	assert_int_equal(l.type[6], MO_BLOCKED_EV_UPDATE);

	/* the slab page goes away: cleared, and it had been long-lived */
	pass(t, 5, 212 * S, released);
	assert_int_equal(l.n, 9);
	assert_int_equal(l.type[8], MO_BLOCKED_EV_CLEARED);
	assert_int_equal(l.g[8].first_pfn, 200);
	assert_int_equal(l.g[8].cls, MO_BLOCKED_LONG_LIVED);
	assert_int_equal(l.g[8].duration, 211 * S);

	/* everything goes: the anon group clears too */
	pass(t, 5, 213 * S, NULL);
	assert_int_equal(l.n, 10);
	assert_int_equal(l.type[9], MO_BLOCKED_EV_CLEARED);
	assert_int_equal(l.g[9].id, id_anon);
}

static void test_transient(void **state)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	struct log l = {};
	const struct pass pinned[] = { { 500, 500, ANON, 7 }, {} };

	assert_int_equal(mo_blocked_tracker_new(NULL, record, &l, &t), 0);
	pass(t, 9, 100 * S, pinned);
	pass(t, 9, 102 * S, pinned);
	pass(t, 9, 105 * S, pinned);
	pass(t, 9, 106 * S, NULL);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.type[0], MO_BLOCKED_EV_NEW);
	assert_int_equal(l.type[1], MO_BLOCKED_EV_CLEARED);
	assert_int_equal(l.g[1].cls, MO_BLOCKED_TRANSIENT);
	assert_int_equal(l.g[1].first_seen, 100 * S);
	assert_int_equal(l.g[1].last_seen, 105 * S);
	assert_int_equal(l.g[1].duration, 5 * S);
	assert_string_equal(mo_blocked_class_to_string(l.g[1].cls), "transient");
}

static void test_grouping(void **state)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	const struct mo_blocked_opts opts = { .settle_usec = MO_BLOCKED_NO_SETTLE };
	struct log l = {};
	const struct pass mixed[] = {
		/* referenced/active flip: same group */
		{ 10, 10, ANON, 1 },
		{ 11, 11, ANON | MO_KPF(MO_KPF_REFERENCED) | MO_KPF(MO_KPF_ACTIVE), 1 },
		/* caught mid-migration (seen in a real guest): locked, off the LRU, unmapped */
		{ 12, 12, (ANON & ~(MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_MMAP))) | MO_KPF(MO_KPF_LOCKED), 1 },
		/* another owner */
		{ 13, 13, ANON, 2 },
		/* another kind of page */
		{ 14, 15, FILEPG, 2 },
		/* a gap */
		{ 17, 17, FILEPG, 2 },
		{},
	};

	assert_int_equal(mo_blocked_tracker_new(&opts, record, &l, &t), 0);
	/* no settle time: the first pass counts */
	pass(t, 1, 0, mixed);
	expect_groups(&l, (const struct span[]) { { 10, 12, 1 }, { 13, 13, 2 }, { 14, 15, 2 }, { 17, 17, 2 } }, 4);
}

/* A THP is one folio: its tails join the head's group whatever their own flags and owner say. */
static void test_thp_one_group(void **state)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	const struct mo_blocked_opts opts = { .settle_usec = MO_BLOCKED_NO_SETTLE };
	const uint64_t thp = MO_KPF(MO_KPF_THP), head = MO_KPF(MO_KPF_COMPOUND_HEAD),
		       tail = MO_KPF(MO_KPF_COMPOUND_TAIL);
	struct log l = {};
	const struct pass runs[] = {
		/* 6.1: a tail reports its own page->flags (no lru, no swapbacked); its owner was not looked up */
		{ 512, 512, ANON | thp | head, 7 },
		{ 513, 1023, MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_MMAP) | thp | tail, 0 },
		/* the next THP of the same process: the same group */
		{ 1024, 1024, ANON | thp | head, 7 },
		{ 1025, 1535, MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_MMAP) | thp | tail, 0 },
		/* another process's THP right after: its own group */
		{ 1536, 1536, ANON | thp | head, 8 },
		{ 1537, 2047, MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_MMAP) | thp | tail, 0 },
		{},
	};

	(void) state;
	assert_int_equal(mo_blocked_tracker_new(&opts, record, &l, &t), 0);
	pass(t, 1, 0, runs);
	expect_groups(&l, (const struct span[]) { { 512, 1535, 7 }, { 1536, 2047, 8 } }, 2);
}

struct groups {
	size_t n;
	struct mo_blocked_group g[8];
};

static int collect_group(const struct mo_blocked_group *g, void *userdata)
{
	struct groups *out = userdata;

	assert_true(out->n < ARRAY_SIZE(out->g));
	out->g[out->n++] = *g;
	return 0;
}

static void test_split_and_merge(void **state)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	struct log l = {};
	const struct pass whole[] = { { 100, 103, ANON, 1 }, {} };
	const struct pass split[] = { { 100, 101, ANON, 1 }, { 103, 103, ANON, 1 }, {} };
	uint64_t id;

	assert_int_equal(mo_blocked_tracker_new(NULL, record, &l, &t), 0);
	pass(t, 3, 0, whole);
	pass(t, 3, 2 * S, whole);
	assert_int_equal(l.n, 1);
	id = l.g[0].id;

	/* 102 clears: [100-101] stays the same group; [103] is reported on its own */
	pass(t, 3, 4 * S, split);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.type[1], MO_BLOCKED_EV_NEW);
	assert_int_equal(l.g[1].first_pfn, 103);
	assert_true(l.g[1].id != id);
	/* with its own history: blocked since the first pass */
	assert_int_equal(l.g[1].first_seen, 0);

	/* 102 in use again: not blocked until it settles, then the groups merge quietly */
	pass(t, 3, 5 * S, whole);
	assert_int_equal(l.n, 2);
	pass(t, 3, 7 * S, whole);
	assert_int_equal(l.n, 2);
	{
		struct groups g = {};

		assert_int_equal(mo_blocked_foreach(t, 3, collect_group, &g), 0);
		assert_int_equal(g.n, 1);
		assert_int_equal(g.g[0].id, id);
		assert_int_equal(g.g[0].first_pfn, 100);
		assert_int_equal(g.g[0].last_pfn, 103);
		assert_int_equal(g.g[0].first_seen, 0);
	}
}

static void test_blocks_independent(void **state)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	const struct mo_blocked_opts opts = { .settle_usec = MO_BLOCKED_NO_SETTLE };
	struct log l = {};
	const struct pass a[] = { { 1000, 1000, ANON, 1 }, {} }, b[] = { { 2000, 2000, ANON, 2 }, {} };

	assert_int_equal(mo_blocked_tracker_new(&opts, record, &l, &t), 0);
	/* passes may interleave */
	assert_int_equal(mo_blocked_begin(t, 1, 0), 0);
	assert_int_equal(mo_blocked_begin(t, 2, 0), 0);
	assert_int_equal(mo_blocked_add(t, 2, 2000, ANON, 2), 0);
	assert_int_equal(mo_blocked_add(t, 1, 1000, ANON, 1), 0);
	assert_int_equal(mo_blocked_end(t, 2), 0);
	assert_int_equal(mo_blocked_end(t, 1), 0);
	assert_int_equal(l.n, 2);
	/* a pass over block 1 says nothing about block 2 */
	pass(t, 1, S, a);
	pass(t, 1, 2 * S, NULL);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.g[2].block, 1);
	pass(t, 2, 3 * S, b);
	assert_int_equal(l.n, 3);

	/* forgetting a block is silent */
	mo_blocked_forget(t, 2);
	assert_int_equal(l.n, 3);
	{
		struct groups g = {};

		assert_int_equal(mo_blocked_foreach(t, UINT64_MAX, collect_group, &g), 0);
		assert_int_equal(g.n, 0);
	}
}

/* An hour of passes a second over one pinned page: a handful of records. */
static void test_no_flood(void **state)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	struct log l = {};
	const struct pass pinned[] = { { 77, 77, ANON, 9 }, {} };

	assert_int_equal(mo_blocked_tracker_new(NULL, record, &l, &t), 0);
	for (uint64_t sec = 0; sec <= 3600; sec++)
		pass(t, 0, sec * S, pinned);
	assert_int_equal(count(&l, MO_BLOCKED_EV_NEW), 1);
	assert_int_equal(count(&l, MO_BLOCKED_EV_LONG_LIVED), 1);
	/* updates at 90, 210, 450, 930 and 1890 s: the interval doubles from a minute */
	assert_int_equal(count(&l, MO_BLOCKED_EV_UPDATE), 5);
	assert_int_equal(l.g[l.n - 1].duration, 1890 * S);
	assert_int_equal(count(&l, MO_BLOCKED_EV_CLEARED), 0);
}

static void test_options(void **state)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	const struct mo_blocked_opts opts = {
		.long_lived_usec = 3 * S,
		.settle_usec = S / 10,
		.update_usec = MO_BLOCKED_NO_UPDATES,
	};
	struct log l = {};
	const struct pass pinned[] = { { 5, 5, ANON, 1 }, {} };

	assert_int_equal(mo_blocked_tracker_new(&opts, record, &l, &t), 0);
	pass(t, 0, 0, pinned);
	pass(t, 0, S / 5, pinned);
	assert_int_equal(l.n, 1);
	pass(t, 0, 3 * S, pinned);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.type[1], MO_BLOCKED_EV_LONG_LIVED);
	for (uint64_t s = 4; s < 1000; s++)
		pass(t, 0, s * S, pinned);
	assert_int_equal(l.n, 2);

	/* first reported when already past the threshold: LONG_LIVED is the first record */
	mo_blocked_tracker_free(t);
	t = NULL;
	l.n = 0;
	assert_int_equal(mo_blocked_tracker_new(&(struct mo_blocked_opts) { .long_lived_usec = S, .settle_usec = 2 * S },
						record, &l, &t), 0);
	pass(t, 0, 0, pinned);
	pass(t, 0, 5 * S, pinned);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.type[0], MO_BLOCKED_EV_LONG_LIVED);
	assert_string_equal(mo_blocked_event_to_string(l.type[0]), "long-lived");
}

static void test_api_errors(void **state)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	const struct mo_blocked_opts opts = { .settle_usec = MO_BLOCKED_NO_SETTLE };
	struct log l = { .fail_with = -ECANCELED };
	const struct mo_blocked_sample unsorted[] = {
		{ 9, ANON, 1 }, { 7, ANON, 1 }, { 8, ANON, 1 }, { 8, ANON, 1 },
	};

	assert_int_equal(mo_blocked_tracker_new(&opts, record, &l, &t), 0);
	assert_int_equal(mo_blocked_add(t, 1, 5, ANON, 0), -ENOENT);
	assert_int_equal(mo_blocked_end(t, 1), -ENOENT);
	assert_int_equal(mo_blocked_begin(t, 1, 0), 0);
	assert_int_equal(mo_blocked_begin(t, 1, 0), -EBUSY);
	assert_int_equal(mo_blocked_end(t, 1), 0);
	/* unsorted with a duplicate; the callback's error comes back, the state is kept */
	assert_int_equal(mo_blocked_pass(t, 1, S, unsorted, ARRAY_SIZE(unsorted)), -ECANCELED);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.g[0].first_pfn, 7);
	assert_int_equal(l.g[0].last_pfn, 9);
	l.fail_with = 0;
	assert_int_equal(mo_blocked_pass(t, 1, 2 * S, unsorted, ARRAY_SIZE(unsorted)), 0);
	assert_int_equal(l.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_transient),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_thp_one_group),
		cmocka_unit_test(test_split_and_merge),
		cmocka_unit_test(test_blocks_independent),
		cmocka_unit_test(test_no_flood),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_api_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
