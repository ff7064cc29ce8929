/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "parse.h"
#include "util.h"

#define TIB (UINT64_C(1) << 40)
#define PIB (UINT64_C(1) << 50)
#define EIB (UINT64_C(1) << 60)
#define SEC UINT64_C(1000000)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define SENTINEL UINT64_C(0xdeadbeefcafe)

static const char untouched[] = "untouched";

struct ok_case {
	const char *in;
	uint64_t a, b;
};

struct bad_case {
	const char *in;
	int err;
	const char *why;       /* a substring the reason must contain, or NULL */
};

/* A failure must give the expected errno, a reason, and leave outputs alone. */
static void check_bad(const char *what, const struct bad_case *c, int r, const char *why,
		      uint64_t out1, uint64_t out2)
{
	if (r != c->err)
		fail_msg("%s '%s': got %d, expected %d", what, strempty(c->in), r, c->err);
	if (!why || why == untouched || !*why)
		fail_msg("%s '%s': no reason given", what, strempty(c->in));
	if (c->why && !strstr(why, c->why))
		fail_msg("%s '%s': reason '%s' does not say '%s'", what, strempty(c->in), why, c->why);
	if (out1 != SENTINEL || out2 != SENTINEL)
		fail_msg("%s '%s': output written on failure", what, strempty(c->in));
}

/* ------------------------------------------------------------------------ */

static const struct ok_case size_ok[] = {
	{ "0", 0, 0 },
	{ "1", MIB, 0 },                         /* chmem: bare number is MiB */
	{ "512", 512 * MIB, 0 },
	{ "512M", 512 * MIB, 0 },
	{ "4G", 4 * GIB, 0 },
	{ "4g", 4 * GIB, 0 },
	{ "4GiB", 4 * GIB, 0 },
	{ "4Gib", 4 * GIB, 0 },
	{ "4gib", 4 * GIB, 0 },
	{ "4GB", UINT64_C(4000000000), 0 },
	{ "4Gb", UINT64_C(4000000000), 0 },
	{ "4gB", UINT64_C(4000000000), 0 },
	{ "128K", 128 * KIB, 0 },
	{ "128KiB", 128 * KIB, 0 },
	{ "128KB", 128000, 0 },
	{ "1T", TIB, 0 },
	{ "1P", PIB, 0 },
	{ "1E", EIB, 0 },
	{ "15E", 15 * EIB, 0 },
	{ "15.5E", UINT64_C(17870283321406128128), 0 },
	{ "1EB", UINT64_C(1000000000000000000), 0 },
	{ "1.5G", 3 * GIB / 2, 0 },
	{ "1.25M", 5 * MIB / 4, 0 },
	{ "0.5K", 512, 0 },
	{ "0.5KB", 500, 0 },
	{ "0.001KB", 1, 0 },
	{ "1.5KiB", 1536, 0 },
	{ "0.5E", EIB / 2, 0 },
	{ "1.0G", GIB, 0 },
	{ "2.50G", 5 * GIB / 2, 0 },
	/* trailing zeros do not count against the fraction's digit limit */
	{ "1.0000000000000000000000000G", GIB, 0 },
	/* exactly 2^64 - 1 with 18 fraction digits */
	{ "18.446744073709551615EB", UINT64_MAX, 0 },
	{ "17592186044415", (UINT64_C(1) << 44) * MIB - MIB, 0 },
	{ "0Z", 0, 0 },
	{ "0Y", 0, 0 },
	{ "0.0M", 0, 0 },
};

static const struct bad_case size_bad[] = {
	{ NULL, -EINVAL, "empty" },
	{ "", -EINVAL, "empty" },
	{ " 4G", -EINVAL, "whitespace" },
	{ "4G ", -EINVAL, "whitespace" },
	{ "4 G", -EINVAL, "whitespace" },
	{ "4\tG", -EINVAL, "whitespace" },
	{ "\n4G", -EINVAL, "whitespace" },
	{ "4G\n", -EINVAL, "whitespace" },
	{ "-1", -EINVAL, "negative" },
	{ "-0", -EINVAL, "negative" },
	{ "-4G", -EINVAL, "negative" },
	{ "+4G", -EINVAL, "sign" },
	{ "12Q", -EINVAL, "unknown unit suffix" },
	{ "4B", -EINVAL, "unknown unit suffix" },
	{ "4b", -EINVAL, "unknown unit suffix" },
	{ "4iB", -EINVAL, "unknown unit suffix" },
	{ "4x", -EINVAL, "unknown unit suffix" },
	{ "4GiBx", -EINVAL, "trailing garbage after the unit" },
	{ "4GG", -EINVAL, "trailing garbage after the unit" },
	{ "4Gi", -EINVAL, "trailing garbage after the unit" },
	{ "4GBB", -EINVAL, "trailing garbage after the unit" },
	{ "4KIB", -EINVAL, "trailing garbage after the unit" },
	{ "4G-", -EINVAL, "trailing garbage after the unit" },
	{ "1e3", -EINVAL, "trailing garbage after the unit" },
	{ "4_G", -EINVAL, "trailing garbage after the number" },
	{ "4,5G", -EINVAL, "trailing garbage after the number" },
	{ "1.5.5G", -EINVAL, "trailing garbage after the number" },
	{ "4\xc2\xb5", -EINVAL, "trailing garbage after the number" },
	{ "G", -EINVAL, "expected a number" },
	{ ".5G", -EINVAL, "expected a number" },
	{ "inf", -EINVAL, "expected a number" },
	{ "nan", -EINVAL, "expected a number" },
	{ "1.", -EINVAL, "decimal point" },
	{ "1.G", -EINVAL, "decimal point" },
	{ "1.5", -EINVAL, "fraction needs a unit" },
	{ "0.5", -EINVAL, "fraction needs a unit" },
	{ "0x10G", -EINVAL, "hexadecimal" },
	{ "0X10", -EINVAL, "hexadecimal" },
	{ "0x8000000", -EINVAL, "hexadecimal" },
	{ "010M", -EINVAL, "leading zeros" },
	{ "00", -EINVAL, "leading zeros" },
	{ "0.1K", -EINVAL, "whole number of bytes" },
	{ "1.3M", -EINVAL, "whole number of bytes" },
	{ "1.0000000000000000001G", -EINVAL, "too many digits" },
	{ "99999999999999999999G", -ERANGE, "overflows 64 bits" },
	{ "99999999999999999999", -ERANGE, "overflows 64 bits" },
	{ "18446744073709551616K", -ERANGE, "overflows 64 bits" },
	{ "18446744073709551615", -ERANGE, "overflows 64 bits" },  /* times MiB */
	{ "17592186044416", -ERANGE, "overflows 64 bits" },        /* 2^44 MiB = 2^64 */
	{ "16E", -ERANGE, "overflows 64 bits" },
	{ "17179869184G", -ERANGE, "overflows 64 bits" },
	{ "18.446744073709551616EB", -ERANGE, "overflows 64 bits" },
	{ "15.9999999999999999999E", -EINVAL, "too many digits" },
	{ "1Z", -ERANGE, "overflows 64 bits" },
	{ "1Y", -ERANGE, "overflows 64 bits" },
	{ "1ZB", -ERANGE, "overflows 64 bits" },
	{ "0.5Z", -ERANGE, "overflows 64 bits" },
	{ "18446744073709551615B", -EINVAL, "unknown unit suffix" },
};

static void test_size_ok(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(size_ok); i++) {
		const struct ok_case *c = &size_ok[i];
		const char *why = untouched;
		uint64_t v = SENTINEL;
		int r;

		r = mo_parse_size(c->in, &v, &why);
		if (r != 0)
			fail_msg("size '%s': got %d (%s)", c->in, r, why);
		if (v != c->a)
			fail_msg("size '%s': got %" PRIu64 ", expected %" PRIu64, c->in, v, c->a);
		assert_ptr_equal(why, untouched);
		/* a NULL why is fine */
		assert_int_equal(mo_parse_size(c->in, &v, NULL), 0);
	}
	(void) state;
}

static void test_size_bad(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(size_bad); i++) {
		const char *why = untouched;
		uint64_t v = SENTINEL;
		int r = mo_parse_size(size_bad[i].in, &v, &why);

		check_bad("size", &size_bad[i], r, why, v, SENTINEL);
		/* a NULL why is fine on failure too */
		assert_int_equal(mo_parse_size(size_bad[i].in, &v, NULL), size_bad[i].err);
	}
	(void) state;
}

/* Every unit times a spread of numbers, against arithmetic done here. */
static void test_size_units_grid(void **state)
{
	static const struct {
		const char *suffix;
		uint64_t base;
		unsigned power;
	} units[] = {
		{ "", 1024, 2 },
		{ "K", 1024, 1 }, { "KiB", 1024, 1 }, { "KB", 1000, 1 }, { "k", 1024, 1 }, { "kb", 1000, 1 },
		{ "M", 1024, 2 }, { "MiB", 1024, 2 }, { "MB", 1000, 2 }, { "m", 1024, 2 },
		{ "G", 1024, 3 }, { "GiB", 1024, 3 }, { "GB", 1000, 3 }, { "g", 1024, 3 },
		{ "T", 1024, 4 }, { "TiB", 1024, 4 }, { "TB", 1000, 4 }, { "t", 1024, 4 },
		{ "P", 1024, 5 }, { "PiB", 1024, 5 }, { "PB", 1000, 5 }, { "p", 1024, 5 },
		{ "E", 1024, 6 }, { "EiB", 1024, 6 }, { "EB", 1000, 6 }, { "e", 1024, 6 },
	};
	static const uint64_t numbers[] = {
		0, 1, 2, 7, 15, 16, 17, 999, 1000, 1023, 1024, 4096, 65535, UINT64_C(1) << 32,
		(UINT64_C(1) << 44) - 1, UINT64_C(1) << 44, UINT64_C(18446744073),
		UINT64_C(18446744074), UINT64_C(17179869183), UINT64_C(17179869184),
		UINT64_MAX / 1000, UINT64_MAX / 1024, UINT64_MAX,
	};
	unsigned n_ok = 0, n_range = 0;

	for (size_t u = 0; u < ARRAY_SIZE(units); u++)
		for (size_t n = 0; n < ARRAY_SIZE(numbers); n++) {
			char buf[64];
			uint64_t expect = numbers[n], v = SENTINEL;
			const char *why = NULL;
			bool overflow = false;
			int r;

			for (unsigned p = 0; p < units[u].power; p++)
				overflow |= __builtin_mul_overflow(expect, units[u].base, &expect);
			snprintf(buf, sizeof(buf), "%" PRIu64 "%s", numbers[n], units[u].suffix);
			r = mo_parse_size(buf, &v, &why);
			if (overflow) {
				if (r != -ERANGE || !why)
					fail_msg("size '%s': got %d, expected -ERANGE", buf, r);
				n_range++;
			} else {
				if (r != 0 || v != expect)
					fail_msg("size '%s': got %d/%" PRIu64 ", expected %" PRIu64, buf, r, v, expect);
				n_ok++;
			}
		}
	/* the grid reaches both sides of the 64-bit edge */
	assert_true(n_ok > 100);
	assert_true(n_range > 100);
	(void) state;
}

/* ------------------------------------------------------------------------ */

static const struct ok_case range_ok[] = {
	{ "0x100000000-0x13fffffff", UINT64_C(0x100000000), UINT64_C(0x13fffffff) },
	{ "0x0-0x7ffffff", 0, UINT64_C(0x7ffffff) },
	{ "0X0-0XFFFFFFF", 0, UINT64_C(0xfffffff) },
	{ "0xAbC-0xdEf", 0xabc, 0xdef },
	{ "0x5-0x5", 5, 5 },
	{ "0x0000000000000000000000000001-0x2", 1, 2 },
	{ "0x0-0xffffffffffffffff", 0, UINT64_MAX },
	{ "0xffffffffffffffff-0xffffffffffffffff", UINT64_MAX, UINT64_MAX },
};

static const struct bad_case range_bad[] = {
	{ NULL, -EINVAL, "empty" },
	{ "", -EINVAL, "empty" },
	{ "0x100000000", -EINVAL, "0xSTART-0xEND" },
	{ "4G", -EINVAL, "0xSTART-0xEND" },
	{ "-", -EINVAL, "missing start" },
	{ "-0x1", -EINVAL, "missing start" },
	{ "0x1-", -EINVAL, "missing end" },
	{ "0x1--0x2", -EINVAL, "0x prefix" },
	{ "0x1-0x2-0x3", -EINVAL, "trailing garbage after the address" },
	{ "100000000-13fffffff", -EINVAL, "0x prefix" },
	{ "0x1-13fffffff", -EINVAL, "0x prefix" },
	{ "1x1-0x2", -EINVAL, "0x prefix" },
	{ "4G-5G", -EINVAL, "0x prefix" },
	{ "+0x1-0x2", -EINVAL, "sign" },
	{ "0x-0x1", -EINVAL, "hexadecimal digit" },
	{ "0x1-0x", -EINVAL, "hexadecimal digit" },
	{ "0xg-0x1", -EINVAL, "hexadecimal digit" },
	{ "0x1g-0x2", -EINVAL, "trailing garbage after the address" },
	{ "0x1-0x2g", -EINVAL, "trailing garbage after the address" },
	{ "0x1-0x2:", -EINVAL, "trailing garbage after the address" },
	{ " 0x1-0x2", -EINVAL, "whitespace" },
	{ "0x1 -0x2", -EINVAL, "whitespace" },
	{ "0x1-0x2 ", -EINVAL, "whitespace" },
	{ "0x1-0x2\n", -EINVAL, "whitespace" },
	{ "0x10000000000000000-0x10000000000000001", -ERANGE, "overflows 64 bits" },
	{ "0x0-0x10000000000000000", -ERANGE, "overflows 64 bits" },
	{ "0x2000-0x1000", -EDOM, "end is before start" },
	{ "0x100000000-0xffffffff", -EDOM, "end is before start" },
};

static void test_range(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(range_ok); i++) {
		const struct ok_case *c = &range_ok[i];
		const char *why = untouched;
		uint64_t a = SENTINEL, b = SENTINEL;
		int r = mo_parse_range(c->in, &a, &b, &why);

		if (r != 0)
			fail_msg("range '%s': got %d (%s)", c->in, r, why);
		assert_int_equal(a, c->a);
		assert_int_equal(b, c->b);
		assert_ptr_equal(why, untouched);
	}
	for (size_t i = 0; i < ARRAY_SIZE(range_bad); i++) {
		const char *why = untouched;
		uint64_t a = SENTINEL, b = SENTINEL;
		int r = mo_parse_range(range_bad[i].in, &a, &b, &why);

		check_bad("range", &range_bad[i], r, why, a, b);
		assert_int_equal(mo_parse_range(range_bad[i].in, &a, &b, NULL), range_bad[i].err);
	}
	(void) state;
}

/* ------------------------------------------------------------------------ */

static const struct ok_case blocks_ok[] = {
	{ "40", 40, 40 },
	{ "32-39", 32, 39 },
	{ "0", 0, 0 },
	{ "0-0", 0, 0 },
	{ "007-8", 7, 8 },       /* decimal, as chmem reads it (base 10) */
	{ "18446744073709551615", UINT64_MAX, UINT64_MAX },
	{ "0-18446744073709551615", 0, UINT64_MAX },
};

static const struct bad_case blocks_bad[] = {
	{ NULL, -EINVAL, "empty" },
	{ "", -EINVAL, "empty" },
	{ "-", -EINVAL, "missing first" },
	{ "-5", -EINVAL, "missing first" },
	{ "5-", -EINVAL, "missing last" },
	{ "5--6", -EINVAL, "expected a decimal block number" },
	{ "5-+6", -EINVAL, "expected a decimal block number" },
	{ "a", -EINVAL, "expected a decimal block number" },
	{ "5-6-7", -EINVAL, "trailing garbage" },
	{ "0x20", -EINVAL, "trailing garbage" },
	{ "5a", -EINVAL, "trailing garbage" },
	{ "5-6a", -EINVAL, "trailing garbage" },
	{ "5.0", -EINVAL, "trailing garbage" },
	{ "1e3", -EINVAL, "trailing garbage" },
	{ "5,6", -EINVAL, "trailing garbage" },
	{ "+5", -EINVAL, "sign" },
	{ " 5", -EINVAL, "whitespace" },
	{ "5 ", -EINVAL, "whitespace" },
	{ "5 - 6", -EINVAL, "whitespace" },
	{ "18446744073709551616", -ERANGE, "overflows 64 bits" },
	{ "0-18446744073709551616", -ERANGE, "overflows 64 bits" },
	{ "99999999999999999999999", -ERANGE, "overflows 64 bits" },
	{ "39-32", -EDOM, "before the first" },
	{ "1-0", -EDOM, "before the first" },
};

static void test_blocks(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(blocks_ok); i++) {
		const struct ok_case *c = &blocks_ok[i];
		const char *why = untouched;
		uint64_t a = SENTINEL, b = SENTINEL;
		int r = mo_parse_blocks(c->in, &a, &b, &why);

		if (r != 0)
			fail_msg("blocks '%s': got %d (%s)", c->in, r, why);
		assert_int_equal(a, c->a);
		assert_int_equal(b, c->b);
		assert_ptr_equal(why, untouched);
	}
	for (size_t i = 0; i < ARRAY_SIZE(blocks_bad); i++) {
		const char *why = untouched;
		uint64_t a = SENTINEL, b = SENTINEL;
		int r = mo_parse_blocks(blocks_bad[i].in, &a, &b, &why);

		check_bad("blocks", &blocks_bad[i], r, why, a, b);
		assert_int_equal(mo_parse_blocks(blocks_bad[i].in, &a, &b, NULL), blocks_bad[i].err);
	}
	(void) state;
}

/* ------------------------------------------------------------------------ */

static const struct ok_case duration_ok[] = {
	{ "0", 0, 0 },
	{ "5", 5 * SEC, 0 },
	{ "5s", 5 * SEC, 0 },
	{ "500ms", 500000, 0 },
	{ "1.5s", 1500000, 0 },
	{ "2min", 2 * MIN, 0 },
	{ "1h", HOUR, 0 },
	{ "250us", 250, 0 },
	{ "1min30s", 90 * SEC, 0 },
	{ "1min 30s", 90 * SEC, 0 },
	{ "2 min", 2 * MIN, 0 },
	{ "5 s", 5 * SEC, 0 },
	{ "1 min 30 s", 90 * SEC, 0 },
	{ "1h 2min  3s", HOUR + 2 * MIN + 3 * SEC, 0 },
	{ "1d", DAY, 0 },
	{ "1.5min", 90 * SEC, 0 },
	{ "0.5ms", 500, 0 },
	{ "1.5", 1500000, 0 },
	{ "05s", 5 * SEC, 0 },
	{ "1usec", 1, 0 },
	{ "1\xc2\xb5s", 1, 0 },
	{ "1\xce\xbcs", 1, 0 },
	{ "2msec", 2000, 0 },
	{ "3sec", 3 * SEC, 0 },
	{ "1second", SEC, 0 },
	{ "2seconds", 2 * SEC, 0 },
	{ "1m", MIN, 0 },
	{ "1minute", MIN, 0 },
	{ "2minutes", 2 * MIN, 0 },
	{ "1hr", HOUR, 0 },
	{ "2hours", 2 * HOUR, 0 },
	{ "1day", DAY, 0 },
	{ "2days", 2 * DAY, 0 },
	{ "1s1s", 2 * SEC, 0 },
	{ "0s", 0, 0 },
	{ "0.0000001s", 0, 0 },             /* below a microsecond: dropped */
	{ "1.0000015s", 1000001, 0 },
	{ "0.000001s", 1, 0 },
	{ "1d1h1min1.5s", DAY + HOUR + MIN + 1500000, 0 },
	{ "213503982d", UINT64_C(213503982) * DAY, 0 },
	{ "18446744073709551615us", UINT64_MAX, 0 },
	{ "18446744073709551614us1us", UINT64_MAX, 0 },
};

static const struct bad_case duration_bad[] = {
	{ NULL, -EINVAL, "empty" },
	{ "", -EINVAL, "empty" },
	{ " 5s", -EINVAL, "whitespace" },
	{ "5s ", -EINVAL, "whitespace" },
	{ " ", -EINVAL, "whitespace" },
	{ "\t5s", -EINVAL, "only spaces" },
	{ "5s\n", -EINVAL, "only spaces" },
	{ "1min\t30s", -EINVAL, "only spaces" },
	{ "-5s", -EINVAL, "negative" },
	{ "1min -5s", -EINVAL, "negative" },
	{ "+5s", -EINVAL, "sign" },
	{ "s", -EINVAL, "expected a number" },
	{ "min", -EINVAL, "expected a number" },
	{ ".5s", -EINVAL, "expected a number" },
	{ "5.s", -EINVAL, "decimal point" },
	{ "5.", -EINVAL, "decimal point" },
	{ "1.5.5s", -EINVAL, "trailing garbage" },
	{ "5s-3s", -EINVAL, "unknown time unit" },
	{ "5x", -EINVAL, "unknown time unit" },
	{ "5S", -EINVAL, "unknown time unit" },
	{ "1mins", -EINVAL, "unknown time unit" },
	{ "1e400s", -EINVAL, "unknown time unit" },
	{ "5_s", -EINVAL, "unknown time unit" },
	{ "5 ", -EINVAL, "whitespace" },
	{ "5 5", -EINVAL, "missing unit" },
	{ "1min30", -EINVAL, "missing unit" },
	{ "1.0000000000000000001s", -EINVAL, "too many digits" },
	{ "18446744073709551616us", -ERANGE, "overflows 64 bits" },
	{ "18446744073709551615us1us", -ERANGE, "overflows 64 bits" },
	{ "213503983d", -ERANGE, "overflows 64 bits" },
	{ "99999999999999999999s", -ERANGE, "overflows 64 bits" },
	{ "18446744073709551615", -ERANGE, "overflows 64 bits" },  /* seconds */
};

static void test_duration(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(duration_ok); i++) {
		const struct ok_case *c = &duration_ok[i];
		const char *why = untouched;
		uint64_t v = SENTINEL;
		int r = mo_parse_duration(c->in, &v, &why);

		if (r != 0)
			fail_msg("duration '%s': got %d (%s)", c->in, r, why);
		if (v != c->a)
			fail_msg("duration '%s': got %" PRIu64 ", expected %" PRIu64, c->in, v, c->a);
		assert_ptr_equal(why, untouched);
	}
	for (size_t i = 0; i < ARRAY_SIZE(duration_bad); i++) {
		const char *why = untouched;
		uint64_t v = SENTINEL;
		int r = mo_parse_duration(duration_bad[i].in, &v, &why);

		check_bad("duration", &duration_bad[i], r, why, v, SENTINEL);
		assert_int_equal(mo_parse_duration(duration_bad[i].in, &v, NULL), duration_bad[i].err);
	}
	(void) state;
}

static void test_format_duration(void **state)
{
	static const struct {
		uint64_t usec;
		const char *out;
	} cases[] = {
		{ 0, "0s" },
		{ 1, "1us" },
		{ 999, "999us" },
		{ 1000, "1ms" },
		{ 1001, "1.001ms" },
		{ 1500, "1.5ms" },
		{ 500000, "500ms" },
		{ 999999, "999.999ms" },
		{ SEC, "1s" },
		{ 1500000, "1.5s" },
		{ 1000001, "1.000001s" },
		{ 2 * MIN, "2min" },
		{ 90 * SEC, "1min30s" },
		{ 61500000, "1min1.5s" },
		{ HOUR, "1h" },
		{ HOUR + 2 * MIN + 3 * SEC, "1h2min3s" },
		{ HOUR + 5 * SEC, "1h5s" },
		{ DAY, "1d" },
		{ DAY + HOUR + MIN + 1500000, "1d1h1min1.5s" },
		{ UINT64_MAX, "213503982d8h1min49.551615s" },
	};
	char buf[MO_DURATION_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint64_t back = SENTINEL;

		assert_ptr_equal(mo_format_duration(cases[i].usec, buf, sizeof(buf)), buf);
		assert_string_equal(buf, cases[i].out);
		assert_int_equal(mo_parse_duration(buf, &back, NULL), 0);
		assert_int_equal(back, cases[i].usec);
	}

	/* short buffers truncate and stay terminated */
	assert_string_equal(mo_format_duration(90 * SEC, buf, 4), "1mi");
	assert_string_equal(mo_format_duration(90 * SEC, buf, 1), "");
	buf[0] = 'x';
	mo_format_duration(90 * SEC, buf, 0);
	assert_int_equal(buf[0], 'x');
	(void) state;
}

/* What is written reads back to the same value, over a wide spread of values. */
static void test_format_roundtrip(void **state)
{
	uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
	char buf[MO_DURATION_MAX];

	for (unsigned i = 0; i < 200000; i++) {
		uint64_t v, back = SENTINEL;

		/* xorshift64, then a random magnitude so small values are common */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = x >> (x % 64);
		if (i % 3 == 0)
			v -= v % SEC;
		mo_format_duration(v, buf, sizeof(buf));
		assert_true(strlen(buf) < sizeof(buf) - 1);
		if (mo_parse_duration(buf, &back, NULL) != 0 || back != v)
			fail_msg("%" PRIu64 " -> '%s' -> %" PRIu64, v, buf, back);
	}
	(void) state;
}

/* ------------------------------------------------------------------------ */

static void test_size_aligned(void **state)
{
	const uint64_t bs = 128 * MIB;
	const char *why;

	assert_int_equal(mo_check_size_aligned(bs, bs, NULL), 0);
	assert_int_equal(mo_check_size_aligned(2 * bs, bs, NULL), 0);
	assert_int_equal(mo_check_size_aligned(UINT64_MAX - bs + 1, bs, NULL), 0);

	why = NULL;
	assert_int_equal(mo_check_size_aligned(0, bs, &why), -EDOM);
	assert_non_null(strstr(why, "zero"));
	why = NULL;
	assert_int_equal(mo_check_size_aligned(64 * MIB, bs, &why), -EDOM);
	assert_non_null(strstr(why, "multiple of the memory block size"));
	why = NULL;
	assert_int_equal(mo_check_size_aligned(bs + 1, bs, &why), -EDOM);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(mo_check_size_aligned(UINT64_MAX, bs, &why), -EDOM);
	assert_non_null(why);
	why = NULL;
	assert_int_equal(mo_check_size_aligned(bs, 0, &why), -EINVAL);
	assert_non_null(why);
	(void) state;
}

static void test_range_aligned(void **state)
{
	const uint64_t bs = 128 * MIB;
	static const struct {
		uint64_t first, last, bs;
		int err;
		const char *why;
	} cases[] = {
		{ 0, 128 * MIB - 1, 128 * MIB, 0, NULL },
		{ 4 * GIB, 5 * GIB - 1, 128 * MIB, 0, NULL },
		{ 0, UINT64_MAX, 128 * MIB, 0, NULL },
		{ UINT64_MAX - 128 * MIB + 1, UINT64_MAX, 128 * MIB, 0, NULL },
		{ 0, 2, 3, 0, NULL },
		/* 2^64 is not a multiple of 3: no wrap-around may hide that */
		{ 0, UINT64_MAX, 3, -EDOM, "end + 1" },
		{ 1, 128 * MIB - 1, 128 * MIB, -EDOM, "start is not aligned" },
		{ 64 * MIB, 192 * MIB - 1, 128 * MIB, -EDOM, "start is not aligned" },
		{ 0, 128 * MIB, 128 * MIB, -EDOM, "end + 1" },
		{ 0, 128 * MIB - 2, 128 * MIB, -EDOM, "end + 1" },
		{ 0, 0, 128 * MIB, -EDOM, "end + 1" },
		{ 128 * MIB, 0, 128 * MIB, -EDOM, "end is before start" },
		{ 256 * MIB, 128 * MIB - 1, 128 * MIB, -EDOM, "end is before start" },
		{ 0, 128 * MIB - 1, 0, -EINVAL, "block size" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *why = untouched;
		int r = mo_check_range_aligned(cases[i].first, cases[i].last, cases[i].bs, &why);

		if (r != cases[i].err)
			fail_msg("range %#" PRIx64 "-%#" PRIx64 " / %" PRIu64 ": got %d, expected %d",
				 cases[i].first, cases[i].last, cases[i].bs, r, cases[i].err);
		if (r == 0)
			assert_ptr_equal(why, untouched);
		else
			assert_non_null(strstr(why, cases[i].why));
	}
	/* what the range parser accepts feeds the check */
	{
		uint64_t a, b;

		assert_int_equal(mo_parse_range("0x100000000-0x13fffffff", &a, &b, NULL), 0);
		assert_int_equal(mo_check_range_aligned(a, b, bs, NULL), 0);
		assert_int_equal(mo_parse_range("0x100000000-0x140000000", &a, &b, NULL), 0);
		assert_int_equal(mo_check_range_aligned(a, b, bs, NULL), -EDOM);
	}
	(void) state;
}

/* ------------------------------------------------------------------------ */

/*
 * Every string of up to four characters over an alphabet of the characters
 * that matter: each parser either succeeds, leaving why alone, or fails with
 * one of the documented errnos, giving a reason and writing no output.
 */
static void check_contract(const char *what, const char *s, int r, const char *why,
			   uint64_t a, uint64_t b)
{
	if (r == 0) {
		if (why != untouched)
			fail_msg("%s '%s': reason set on success", what, s);
		if (a == SENTINEL)
			fail_msg("%s '%s': no output on success", what, s);
		return;
	}
	if (r != -EINVAL && r != -ERANGE && r != -EDOM)
		fail_msg("%s '%s': unexpected %d", what, s, r);
	if (why == untouched || !why || !*why)
		fail_msg("%s '%s': no reason", what, s);
	if (a != SENTINEL || b != SENTINEL)
		fail_msg("%s '%s': output written on failure", what, s);
}

static void sweep(const char *alphabet, size_t max_len, unsigned ok[4])
{
	const size_t n = strlen(alphabet);
	char s[16];

	assert_true(max_len < sizeof(s));
	for (size_t len = 0; len <= max_len; len++) {
		size_t total = 1;

		for (size_t i = 0; i < len; i++)
			total *= n;
		for (size_t k = 0; k < total; k++) {
			size_t v = k;
			uint64_t a, b;
			const char *why;
			int r;

			for (size_t i = 0; i < len; i++, v /= n)
				s[i] = alphabet[v % n];
			s[len] = '\0';

			a = b = SENTINEL, why = untouched;
			r = mo_parse_size(s, &a, &why);
			check_contract("size", s, r, why, a, b);
			ok[0] += r == 0;

			a = b = SENTINEL, why = untouched;
			r = mo_parse_range(s, &a, &b, &why);
			check_contract("range", s, r, why, a, b);
			ok[1] += r == 0;

			a = b = SENTINEL, why = untouched;
			r = mo_parse_blocks(s, &a, &b, &why);
			check_contract("blocks", s, r, why, a, b);
			ok[2] += r == 0;

			a = b = SENTINEL, why = untouched;
			r = mo_parse_duration(s, &a, &why);
			check_contract("duration", s, r, why, a, b);
			ok[3] += r == 0;
		}
	}
}

static void test_exhaustive_short(void **state)
{
	unsigned ok[4] = { 0 };

	sweep("019.-xfKMGiBbsm \t", 4, ok);
	/* long enough for "0x0-0xf" */
	sweep("0xf-", 7, ok);
	/* the sweeps reached accepted inputs of every kind, not only errors */
	for (size_t i = 0; i < 4; i++)
		assert_true(ok[i] > 0);
	(void) state;
}

/* ------------------------------------------------------------------------ */

/*
 * The scanner every number of kernel text goes through. @len < 0: the text
 * ends at its NUL (end NULL); else @len characters (end = in + len). @stop:
 * where the digits stop, for endp; -1 means "scan with endp NULL".
 */
struct span_case {
	const char *in;
	int len;
	unsigned base;
	int stop;
	int err;
	uint64_t v;
};

static const struct span_case span_cases[] = {
	/* decimal */
	{ "0", -1, 10, -1, 0, 0 },
	{ "007", -1, 10, -1, 0, 7 },        /* leading zeros are digits here */
	{ "18446744073709551615", -1, 10, -1, 0, UINT64_MAX },
	{ "18446744073709551616", -1, 10, -1, -ERANGE, 0 },
	{ "18446744073709551620", -1, 10, -1, -ERANGE, 0 },
	{ "99999999999999999999999", -1, 10, -1, -ERANGE, 0 },
	{ "18446744073709551616 x", -1, 10, 20, -ERANGE, 0 },  /* overflow, whatever follows */
	{ "18446744073709551616x", -1, 10, -1, -ERANGE, 0 },
	{ "", -1, 10, -1, -EINVAL, 0 },
	{ "", -1, 10, 0, -EINVAL, 0 },
	{ " 1", -1, 10, -1, -EINVAL, 0 },   /* no leading whitespace, unlike strtoull */
	{ " 1", -1, 10, 0, -EINVAL, 0 },
	{ "\t1", -1, 10, 0, -EINVAL, 0 },
	{ "+1", -1, 10, 0, -EINVAL, 0 },    /* no sign */
	{ "-1", -1, 10, 0, -EINVAL, 0 },    /* strtoull makes this 2^64-1 */
	{ "1 ", -1, 10, -1, -EINVAL, 0 },
	{ "x1", -1, 10, 0, -EINVAL, 0 },    /* leading junk */
	{ "12ab", -1, 10, -1, -EINVAL, 0 },
	{ "12ab", -1, 10, 2, 0, 12 },
	{ "12 34", -1, 10, 2, 0, 12 },
	{ "0x10", -1, 10, 1, 0, 0 },        /* no base guessing */
	{ "1.5", -1, 10, 1, 0, 1 },
	{ "1e3", -1, 10, 1, 0, 1 },
	/* the span's end: nothing at or after it is read */
	{ "12345", 3, 10, -1, 0, 123 },
	{ "12345", 3, 10, 3, 0, 123 },
	{ "12x45", 3, 10, -1, -EINVAL, 0 },
	{ "12x45", 3, 10, 2, 0, 12 },
	{ "12345", 0, 10, -1, -EINVAL, 0 },
	{ "12345", 0, 10, 0, -EINVAL, 0 },
	{ "184467440737095516159", 20, 10, -1, 0, UINT64_MAX },
	{ "18446744073709551616", 19, 10, -1, 0, UINT64_C(1844674407370955161) },
	/* hexadecimal */
	{ "ff", -1, 16, -1, 0, 255 },
	{ "FF", -1, 16, -1, 0, 255 },
	{ "aBcDeF", -1, 16, -1, 0, 0xabcdef },
	{ "0123456789abcdef", -1, 16, -1, 0, UINT64_C(0x0123456789abcdef) },
	{ "ffffffffffffffff", -1, 16, -1, 0, UINT64_MAX },
	{ "0000000000000000ffffffffffffffff", -1, 16, -1, 0, UINT64_MAX },
	{ "10000000000000000", -1, 16, -1, -ERANGE, 0 },
	{ "fg", -1, 16, -1, -EINVAL, 0 },
	{ "fg", -1, 16, 1, 0, 15 },
	{ "g", -1, 16, 0, -EINVAL, 0 },
	{ "0x10", -1, 16, -1, -EINVAL, 0 },  /* no "0x" unless asked */
	{ "0x10", -1, 16, 1, 0, 0 },
	{ "0x10", -1, 16 | MO_PARSE_0X, -1, 0, 16 },
	{ "0X1f", -1, 16 | MO_PARSE_0X, -1, 0, 31 },
	{ "1f", -1, 16 | MO_PARSE_0X, -1, 0, 31 },  /* the prefix is optional */
	{ "0", -1, 16 | MO_PARSE_0X, -1, 0, 0 },
	{ "0", 1, 16 | MO_PARSE_0X, -1, 0, 0 },
	{ "0x", -1, 16 | MO_PARSE_0X, -1, -EINVAL, 0 },
	{ "0x", -1, 16 | MO_PARSE_0X, 0, -EINVAL, 0 },
	{ "0xg", -1, 16 | MO_PARSE_0X, 0, -EINVAL, 0 },
	{ "0x1", 2, 16 | MO_PARSE_0X, -1, -EINVAL, 0 },  /* "0x" then the end */
	{ "0x1", 1, 16 | MO_PARSE_0X, -1, 0, 0 },
	{ "0x0x1", -1, 16 | MO_PARSE_0X, 3, 0, 0 },
	{ "0xffffffffffffffff(lru)", -1, 16 | MO_PARSE_0X, 18, 0, UINT64_MAX },
	{ "0x10000000000000000", -1, 16 | MO_PARSE_0X, -1, -ERANGE, 0 },
	/* other bases, bad bases */
	{ "1012", -1, 2, 3, 0, 5 },
	{ "777", -1, 8, -1, 0, 511 },
	{ "1", -1, 0, -1, -EINVAL, 0 },
	{ "1", -1, 1, -1, -EINVAL, 0 },
	{ "1", -1, 17, -1, -EINVAL, 0 },
	{ "1", -1, 10 | MO_PARSE_0X, -1, -EINVAL, 0 },
};

static void test_u64_span(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(span_cases); i++) {
		const struct span_case *c = &span_cases[i];
		const char *end = c->len < 0 ? NULL : c->in + c->len, *e = untouched;
		uint64_t v = SENTINEL;
		int r = mo_parse_u64_span(c->in, end, c->base, &v, c->stop < 0 ? NULL : &e);

		if (r != c->err)
			fail_msg("span %zu '%s': got %d, expected %d", i, c->in, r, c->err);
		if (r < 0) {
			if (v != SENTINEL || e != untouched)
				fail_msg("span %zu '%s': output written on failure", i, c->in);
			continue;
		}
		if (v != c->v)
			fail_msg("span %zu '%s': got %" PRIu64 ", expected %" PRIu64, i, c->in, v, c->v);
		if (c->stop >= 0 && e != c->in + c->stop)
			fail_msg("span %zu '%s': stopped at %td, expected %d", i, c->in, e - c->in, c->stop);
	}
	assert_int_equal(mo_parse_u64_span(NULL, NULL, 10, &(uint64_t) { 0 }, NULL), -EINVAL);

	/* every boundary around 2^64, in both bases */
	for (uint64_t d = 0; d < 10; d++) {
		char buf[32];
		uint64_t v = 0;

		snprintf(buf, sizeof(buf), "1844674407370955161%" PRIu64, d);
		assert_int_equal(mo_parse_u64_span(buf, NULL, 10, &v, NULL), d <= 5 ? 0 : -ERANGE);
		if (d <= 5)
			assert_true(v == UINT64_C(18446744073709551610) + d);
	}
	(void) state;
}

static void test_i64_span(void **state)
{
	static const struct {
		const char *in;
		int len, stop, err;
		int64_t v;
	} cases[] = {
		{ "0", -1, -1, 0, 0 },
		{ "-0", -1, -1, 0, 0 },
		{ "-1", -1, -1, 0, -1 },
		{ "-16 page:", -1, 3, 0, -16 },
		{ "9223372036854775807", -1, -1, 0, INT64_MAX },
		{ "9223372036854775808", -1, -1, -ERANGE, 0 },
		{ "-9223372036854775808", -1, -1, 0, INT64_MIN },
		{ "-9223372036854775809", -1, -1, -ERANGE, 0 },
		{ "-18446744073709551616", -1, -1, -ERANGE, 0 },
		{ "-", -1, -1, -EINVAL, 0 },
		{ "-", -1, 0, -EINVAL, 0 },
		{ "-12", 1, -1, -EINVAL, 0 },       /* only the sign fits in the span */
		{ "-12", 2, -1, 0, -1 },
		{ "-12", 0, -1, -EINVAL, 0 },
		{ "+1", -1, 0, -EINVAL, 0 },
		{ "--1", -1, 0, -EINVAL, 0 },
		{ " -1", -1, 0, -EINVAL, 0 },
		{ "- 1", -1, 0, -EINVAL, 0 },
		{ "-1x", -1, -1, -EINVAL, 0 },
		{ "-1x", -1, 2, 0, -1 },
		/* out of range wins over trailing junk, as in the unsigned scanner (a fuzz finding) */
		{ "9223372036854775808x", -1, -1, -ERANGE, 0 },
		{ "-9223372036854775809 ", 21, -1, -ERANGE, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *in = cases[i].in, *end = cases[i].len < 0 ? NULL : in + cases[i].len, *e = untouched;
		int64_t v = 42;
		int r = mo_parse_i64_span(in, end, &v, cases[i].stop < 0 ? NULL : &e);

		if (r != cases[i].err)
			fail_msg("i64 span '%s': got %d, expected %d", in, r, cases[i].err);
		if (r < 0) {
			if (v != 42 || e != untouched)
				fail_msg("i64 span '%s': output written on failure", in);
			continue;
		}
		if (v != cases[i].v)
			fail_msg("i64 span '%s': got %" PRId64, in, v);
		if (cases[i].stop >= 0 && e != in + cases[i].stop)
			fail_msg("i64 span '%s': stopped at %td", in, e - in);
	}
	(void) state;
}

/* TIMEOUT, integers and zones: what memoffd.conf and the command line share. */
static void test_timeout_int_zones(void **state)
{
	uint64_t u = 0;
	int64_t i = 0;
	unsigned v = 0;
	char *bad = NULL, buf[MO_ZONES_MAX];

	assert_int_equal(mo_parse_timeout("infinity", &u, NULL), 0);
	assert_true(u == MO_USEC_INFINITY);
	assert_int_equal(mo_parse_timeout("2 min", &u, NULL), 0);
	assert_true(u == 2 * MIN);
	assert_int_equal(mo_parse_timeout("Infinity", &u, NULL), -EINVAL);

	assert_int_equal(mo_parse_u64("18446744073709551615", 10, &u), 0);
	assert_true(u == UINT64_MAX);
	assert_int_equal(mo_parse_u64("18446744073709551616", 10, &u), -ERANGE);
	assert_int_equal(mo_parse_u64("ff", 16, &u), 0);
	assert_true(u == 255);
	for (const char *const *p = (const char *const[]) { "", "01", "+1", "-1", " 1", "1 ", "1x", "0x1", NULL }; *p; p++)
		assert_int_equal(mo_parse_u64(*p, 10, &u), -EINVAL);
	for (const char *const *p = (const char *const[]) { "", "0x1", "-1", " f", "f ", "fg", NULL }; *p; p++)
		assert_int_equal(mo_parse_u64(*p, 16, &u), -EINVAL);
	assert_int_equal(mo_parse_u64("010", 16, &u), 0);
	assert_true(u == 16);
	assert_int_equal(mo_parse_u64("1", 8, &u), -EINVAL);
	assert_int_equal(mo_parse_u64(NULL, 10, &u), -EINVAL);
	for (const char *const *p = (const char *const[]) { "", "-", "-01", "01", "+1", " 1", "1 ", "--1", NULL }; *p; p++)
		assert_int_equal(mo_parse_i64(*p, &i), -EINVAL);
	assert_int_equal(mo_parse_i64("-0", &i), 0);
	assert_true(i == 0);
	assert_int_equal(mo_parse_i64("-9223372036854775809", &i), -ERANGE);
	assert_int_equal(mo_parse_unsigned("1000000", 1000000, &v), 0);
	assert_int_equal(mo_parse_unsigned("1000001", 1000000, &v), -ERANGE);
	assert_int_equal(mo_parse_i64("-9223372036854775808", &i), 0);
	assert_true(i == INT64_MIN);
	assert_int_equal(mo_parse_i64("9223372036854775808", &i), -ERANGE);

	assert_int_equal(mo_parse_zones("Normal,Movable", &v, NULL), 0);
	assert_int_equal(v, MO_ZONE_NORMAL | MO_ZONE_MOVABLE);
	assert_int_equal(mo_parse_zones("normal  movable", &v, NULL), 0);
	assert_int_equal(v, MO_ZONE_NORMAL | MO_ZONE_MOVABLE);
	assert_int_equal(mo_parse_zones("Highmem, HighMem", &v, NULL), 0);
	assert_int_equal(v, MO_ZONE_HIGHMEM);
	assert_int_equal(mo_parse_zones("Normal,Bogus", &v, &bad), -EINVAL);
	assert_string_equal(bad, "Bogus");
	free(bad);
	assert_int_equal(mo_parse_zones("", &v, NULL), 0);
	assert_int_equal(v, 0);
	assert_string_equal(mo_zones_to_string(MO_ZONE_ALL, buf, sizeof(buf)), "DMA DMA32 Normal HighMem Movable Device");
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_ok),
		cmocka_unit_test(test_size_bad),
		cmocka_unit_test(test_size_units_grid),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_format_duration),
		cmocka_unit_test(test_format_roundtrip),
		cmocka_unit_test(test_size_aligned),
		cmocka_unit_test(test_range_aligned),
		cmocka_unit_test(test_exhaustive_short),
		cmocka_unit_test(test_timeout_int_zones),
		cmocka_unit_test(test_u64_span),
		cmocka_unit_test(test_i64_span),
	};
	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
