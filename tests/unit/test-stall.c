/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "stall.h"

#define MS 1000ULL
#define GRACE (300 * MS)

/* A sample at @t ms with both counters and the block's pages in use. */
static struct mo_stall_sample at(uint64_t t_ms, uint64_t success, uint64_t fail, uint64_t in_use)
{
	return (struct mo_stall_sample) {
		.t = t_ms * MS, .have_vmstat = true, .migrate_success = success, .migrate_fail = fail,
		.have_census = true, .in_use = in_use,
	};
}

static bool feed_at(struct mo_stall *s, uint64_t t_ms, uint64_t success, uint64_t fail, uint64_t in_use)
{
	struct mo_stall_sample x = at(t_ms, success, fail, in_use);

	return mo_stall_feed(s, &x);
}

/* A pinned page: migration fails over and over, nothing moves. */
static void test_pinned_stalls_after_grace(void **state)
{
	struct mo_stall s;
	uint64_t ok, fail;

	mo_stall_init(&s, GRACE, 0);
	assert_false(mo_stall_feed(&s, &(struct mo_stall_sample) { .t = 0, .have_vmstat = true,
								     .migrate_success = 1000, .migrate_fail = 50 }));
	/*
	 * The first batch moves what it can, then the pinned pages keep
	 * failing; each rise of pgmigrate_fail is less than the block's pages
	 * in use (other pages are still to be tried), so only the grace ends it.
	 */
	assert_false(feed_at(&s, 100, 5000, 51, 1000));
	assert_false(feed_at(&s, 175, 5000, 400, 1000));
	assert_false(feed_at(&s, 250, 5000, 800, 1000));
	assert_false(feed_at(&s, 325, 5000, 1200, 1000));
	/* 300 ms after the last progress (t=100) */
	assert_true(feed_at(&s, 400, 5000, 1600, 1000));
	assert_false(s.all_failed);
	assert_int_equal(s.stalled_at, 400 * MS);
	/* and it stays stalled */
	assert_true(feed_at(&s, 450, 9000, 1600, 2));
	mo_stall_evidence(&s, &ok, &fail);
	assert_int_equal(ok, 4000);
	assert_int_equal(fail, 1550);
}

/*
 * A pass of the kernel ends with failures, and every page left in the block
 * failed in it: stalled at once, without waiting for the grace (the pages
 * that could move have moved in the same pass).
 */
static void test_every_page_left_failed(void **state)
{
	struct mo_stall s;

	mo_stall_init(&s, GRACE, 0);
	assert_false(feed_at(&s, 0, 1000, 50, 32768));
	/* the batch is under way: nothing counted yet, pages falling */
	assert_false(feed_at(&s, 75, 1000, 50, 20000));
	/* it ends: 16352 moved, 16416 failed, and 16416 are left */
	assert_true(feed_at(&s, 150, 17352, 16466, 16416));
	assert_true(s.all_failed);
	assert_int_equal(s.stalled_at, 150 * MS);

	/* fewer failures than pages left: more to try, no stall yet */
	mo_stall_init(&s, GRACE, 0);
	assert_false(feed_at(&s, 0, 1000, 50, 32768));
	assert_false(feed_at(&s, 150, 17352, 66, 16416));
	/* nothing left in use is no stall either (the block is about to go offline) */
	mo_stall_init(&s, GRACE, 0);
	assert_false(feed_at(&s, 0, 1000, 50, 32768));
	assert_false(feed_at(&s, 150, 33768, 60, 0));
	/* grace 0: off */
	mo_stall_init(&s, 0, 0);
	assert_false(feed_at(&s, 0, 1000, 50, 32768));
	assert_false(feed_at(&s, 150, 17352, 16466, 16416));
}

/* Slow but steady: pgmigrate_success keeps rising, failures too; never stalled. */
static void test_slow_steady_never_stalls(void **state)
{
	struct mo_stall s;

	mo_stall_init(&s, GRACE, 0);
	for (uint64_t t = 0; t < 60000; t += 75)
		assert_false(feed_at(&s, t, 1000 + t / 200, 10 + t, 20000));
}

/* Pages leaving the block (census) are progress even while the counters are silent (one long batch). */
static void test_census_progress(void **state)
{
	struct mo_stall s;

	mo_stall_init(&s, GRACE, 0);
	for (uint64_t t = 0, n = 30000; t < 5000; t += 75, n -= 400)
		assert_false(feed_at(&s, t, 1000, 10 + t, n));
}

/* Nothing moves and nothing fails (a batch still under way, a kernel busy elsewhere): not a stall. */
static void test_silence_is_not_a_stall(void **state)
{
	struct mo_stall s;

	mo_stall_init(&s, GRACE, 0);
	for (uint64_t t = 0; t < 10000; t += 75)
		assert_false(feed_at(&s, t, 1000, 10, 500));
}

/* Without vmstat, a failing PFN of the block in the kernel log is the failure evidence. */
static void test_kmsg_failure_without_vmstat(void **state)
{
	struct mo_stall s;
	struct mo_stall_sample x = { .have_census = true, .in_use = 3 };

	mo_stall_init(&s, GRACE, 0);
	x.t = 0;
	assert_false(mo_stall_feed(&s, &x));
	x.t = 100 * MS;
	x.kmsg_failed = 1;
	assert_false(mo_stall_feed(&s, &x));
	x.t = 299 * MS;
	assert_false(mo_stall_feed(&s, &x));
	x.t = 300 * MS;
	assert_true(mo_stall_feed(&s, &x));
}

/* Progress after failures starts the grace again. */
static void test_progress_resets_grace(void **state)
{
	struct mo_stall s;

	mo_stall_init(&s, GRACE, 0);
	assert_false(feed_at(&s, 0, 100, 0, 50));
	assert_false(feed_at(&s, 250, 100, 30, 50));
	assert_false(feed_at(&s, 290, 120, 40, 50));  /* moved */
	assert_false(feed_at(&s, 500, 120, 60, 50));
	assert_true(feed_at(&s, 590, 120, 70, 50));
}

/* A sample without vmstat between two with it neither hides nor invents a change. */
static void test_missing_vmstat_sample(void **state)
{
	struct mo_stall s;
	struct mo_stall_sample gap = { .t = 200 * MS, .have_census = true, .in_use = 50 };

	mo_stall_init(&s, GRACE, 0);
	assert_false(feed_at(&s, 0, 100, 0, 50));
	assert_false(mo_stall_feed(&s, &gap));
	/* compared with t=0: success rose, so this is progress at 400 */
	assert_false(feed_at(&s, 400, 101, 5, 50));
	assert_false(feed_at(&s, 650, 101, 9, 50));
	assert_true(feed_at(&s, 700, 101, 12, 50));
}

/* Grace 0: stall detection off. */
static void test_grace_zero_off(void **state)
{
	struct mo_stall s;

	mo_stall_init(&s, 0, 0);
	for (uint64_t t = 0; t < 20000; t += 100)
		assert_false(feed_at(&s, t, 5, t, 10));
}

static void test_vmstat_parse(void **state)
{
	uint64_t ok = 0, fail = 0;

	assert_int_equal(mo_vmstat_parse_migrate("nr_free_pages 1\npgmigrate_success 12345\n"
						 "pgmigrate_fail 67\ncompact_migrate_scanned 0\n", &ok, &fail), 0);
	assert_int_equal(ok, 12345);
	assert_int_equal(fail, 67);
	/* no prefix match: pgmigrate_success_x is another counter */
	assert_int_equal(mo_vmstat_parse_migrate("pgmigrate_success_x 1\npgmigrate_fail 2\n", &ok, &fail),
			 -ENODATA);
	assert_int_equal(mo_vmstat_parse_migrate("pgmigrate_success 1\n", &ok, &fail), -ENODATA);
	assert_int_equal(mo_vmstat_parse_migrate("pgmigrate_success x\npgmigrate_fail 2\n", &ok, &fail), -ENODATA);
	assert_int_equal(mo_vmstat_parse_migrate("pgmigrate_fail 2\npgmigrate_success 3", &ok, &fail), 0);
	assert_int_equal(ok, 3);
	assert_int_equal(fail, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_stalls_after_grace),
		cmocka_unit_test(test_every_page_left_failed),
		cmocka_unit_test(test_slow_steady_never_stalls),
		cmocka_unit_test(test_census_progress),
		cmocka_unit_test(test_silence_is_not_a_stall),
		cmocka_unit_test(test_kmsg_failure_without_vmstat),
		cmocka_unit_test(test_progress_resets_grace),
		cmocka_unit_test(test_missing_vmstat_sample),
		cmocka_unit_test(test_grace_zero_off),
		cmocka_unit_test(test_vmstat_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
