/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "backoff.h"

#define S (1000 * 1000ULL)

static void test_exponential_capped(void **state)
{
	struct mo_backoff b = { .initial_usec = 1 * S, .factor = 2.0, .max_usec = 10 * S };

	assert_int_equal(mo_backoff_validate(&b), 0);
	assert_int_equal(mo_backoff_delay(&b, 1, NULL), 1 * S);
	assert_int_equal(mo_backoff_delay(&b, 2, NULL), 2 * S);
	assert_int_equal(mo_backoff_delay(&b, 3, NULL), 4 * S);
	assert_int_equal(mo_backoff_delay(&b, 4, NULL), 8 * S);
	assert_int_equal(mo_backoff_delay(&b, 5, NULL), 10 * S);
	assert_int_equal(mo_backoff_delay(&b, 1000, NULL), 10 * S);
	/* factor 1: constant */
	b.factor = 1.0;
	assert_int_equal(mo_backoff_delay(&b, 7, NULL), 1 * S);
}

static void test_jitter_deterministic(void **state)
{
	struct mo_backoff b = { .initial_usec = 4 * S, .factor = 2.0, .max_usec = 60 * S, .jitter = 0.25 };
	uint64_t r1 = mo_rng_init(42), r2 = mo_rng_init(42), r3 = mo_rng_init(43);
	bool differs = false, varies = false;
	uint64_t first = 0;

	for (unsigned n = 1; n <= 50; n++) {
		unsigned f = 1 + n % 3;
		uint64_t base = mo_backoff_delay(&b, f, NULL);
		uint64_t d1 = mo_backoff_delay(&b, f, &r1);
		uint64_t d2 = mo_backoff_delay(&b, f, &r2);
		uint64_t d3 = mo_backoff_delay(&b, f, &r3);

		/* same seed, same sequence */
		assert_int_equal(d1, d2);
		differs |= d1 != d3;
		if (n == 1)
			first = d1;
		varies |= f == 2 && d1 != first;
		/* within ±25% of the plain delay */
		assert_true(d1 >= base - base / 4);
		assert_true(d1 <= base + base / 4);
	}
	assert_true(differs);
	assert_true(varies);
}

static void test_jitter_respects_cap(void **state)
{
	struct mo_backoff b = { .initial_usec = 10 * S, .factor = 2.0, .max_usec = 10 * S, .jitter = 0.5 };
	uint64_t rng = mo_rng_init(1);

	for (int i = 0; i < 100; i++)
		assert_true(mo_backoff_delay(&b, 3, &rng) <= 10 * S);
}

static void test_budget(void **state)
{
	struct mo_backoff b;

	mo_backoff_default(&b, 7);
	assert_int_equal(mo_backoff_validate(&b), 0);
	assert_int_equal(b.seed, 7);
	assert_true(mo_backoff_may_retry(&b, 0));
	assert_true(mo_backoff_may_retry(&b, MO_BACKOFF_MAX_ATTEMPTS - 1));
	assert_false(mo_backoff_may_retry(&b, MO_BACKOFF_MAX_ATTEMPTS));
	b.max_attempts = 0;
	assert_true(mo_backoff_may_retry(&b, 1000000));
}

static void test_validate(void **state)
{
	struct mo_backoff b;

	mo_backoff_default(&b, 0);
	b.factor = 0.5;
	assert_int_equal(mo_backoff_validate(&b), -EINVAL);
	mo_backoff_default(&b, 0);
	b.jitter = 1.0;
	assert_int_equal(mo_backoff_validate(&b), -EINVAL);
	b.jitter = -0.1;
	assert_int_equal(mo_backoff_validate(&b), -EINVAL);
	mo_backoff_default(&b, 0);
	b.max_usec = b.initial_usec - 1;
	assert_int_equal(mo_backoff_validate(&b), -EINVAL);
}

static void test_deadline(void **state)
{
	/* no deadline: the attempt timeout as is */
	assert_int_equal(mo_deadline_attempt_timeout(10 * S, 100 * S, 0, S / 10), 10 * S);
	/* plenty of time */
	assert_int_equal(mo_deadline_attempt_timeout(10 * S, 100 * S, 200 * S, S / 10), 10 * S);
	/* shortened to end by the deadline */
	assert_int_equal(mo_deadline_attempt_timeout(10 * S, 100 * S, 103 * S, S / 10), 3 * S);
	/* too little left, or past */
	assert_int_equal(mo_deadline_attempt_timeout(10 * S, 100 * S, 100 * S + S / 20, S / 10), 0);
	assert_int_equal(mo_deadline_attempt_timeout(10 * S, 100 * S, 99 * S, S / 10), 0);
	/* unbounded attempt under a deadline: bounded by it */
	assert_int_equal(mo_deadline_attempt_timeout(0, 100 * S, 130 * S, S / 10), 30 * S);

	assert_int_equal(mo_deadline_sleep(100 * S, 102 * S, 0), 2 * S);
	assert_int_equal(mo_deadline_sleep(100 * S, 102 * S, 101 * S), 1 * S);
	assert_int_equal(mo_deadline_sleep(100 * S, 99 * S, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exponential_capped),
		cmocka_unit_test(test_jitter_deterministic),
		cmocka_unit_test(test_jitter_respects_cap),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_deadline),
	};
	return cmocka_run_group_tests_name("backoff", tests, NULL, NULL);
}
