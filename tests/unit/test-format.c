/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "format.h"
#include "util.h"

/*
 * Every expected string below is what util-linux 2.38.1's lsmem printed for
 * the same number (as "Memory block size:" of a tree whose block_size_bytes
 * held it), so these pin lsmem's rounding, not just ours.
 */
static const struct {
	uint64_t bytes;
	const char *str;
} vectors[] = {
	{ 0, "0B" },
	{ 1, "1B" },
	{ 1023, "1023B" },
	{ 1024, "1K" },
	{ 1025, "1K" },
	{ 1075, "1K" },                      /* 1.0498K: rounds down */
	{ 1076, "1.1K" },                    /* 1.0508K: rounds up */
	{ 1996, "1.9K" },
	{ 2047, "2K" },                      /* 1.999K carries into the whole part */
	{ 1048000, "1023.4K" },
	{ 1048063, "1023.5K" },
	{ 1048575, "1024K" },                /* carries without switching unit, as lsmem */
	{ UINT64_C(0x8000000), "128M" },
	{ UINT64_C(0x372b02), "3.4M" },
	{ UINT64_C(0xb8000000), "2.9G" },    /* 23 blocks of 128M */
	{ UINT64_C(0xc0000000), "3G" },
	{ UINT64_C(3167538380), "2.9G" },    /* 2.950G truncated to 2.949: half up from thousandths */
	{ UINT64_C(0x14322d0e7), "5G" },
	{ UINT64_C(0xfff00000), "4G" },
	{ UINT64_C(0x540000000), "21G" },
	{ UINT64_C(0x3ffffffffff), "4T" },
	{ UINT64_C(0x1000000000000000), "1E" },
	{ UINT64_MAX, "16E" },
};

static void test_vectors(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		char buf[MO_FORMAT_SIZE_MAX];

		assert_string_equal(mo_format_size(vectors[i].bytes, buf), vectors[i].str);
	}
}

static void test_returns_buffer(void **state)
{
	char buf[MO_FORMAT_SIZE_MAX];

	assert_ptr_equal(mo_format_size(128 * MIB, buf), buf);
}

/* Sizes that are whole units never get a decimal, in every unit. */
static void test_whole_units(void **state)
{
	static const char units[] = "KMGTPE";

	for (unsigned u = 0; u < 6; u++)
		for (uint64_t n = 1; n < 1024; n += 37) {
			char buf[MO_FORMAT_SIZE_MAX], want[32];

			if (u == 5 && n > 15)
				break;
			snprintf(want, sizeof(want), "%" PRIu64 "%c", n, units[u]);
			assert_string_equal(mo_format_size(n << (10 * (u + 1)), buf), want);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_returns_buffer),
		cmocka_unit_test(test_whole_units),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
