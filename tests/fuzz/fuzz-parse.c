/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the parsers of what users type (parse.h).
 *
 * The first byte picks the parser, the rest is its text:
 *   's' size   'r' range   'b' blocks   'd' duration
 *   'f' format_duration round trip on 8 raw bytes
 *   'a' alignment checks on 3 x 8 raw bytes
 * any other first byte runs the text through all four parsers.
 *
 * Besides "no crash, no sanitizer report", it checks what the parsers
 * promise: outputs untouched on failure, a reason on every failure,
 * ordered ranges, and that mo_format_duration() reads back to its input.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"

#define POISON UINT64_C(0xdeadbeefcafef00d)

static void check_failure(int r, const char *why, uint64_t a, uint64_t b)
{
	if (r != -EINVAL && r != -ERANGE && r != -EDOM)
		abort();
	if (!why || !*why)
		abort();
	if (a != POISON || b != POISON)
		abort();
}

static void one(char kind, const char *s)
{
	uint64_t a = POISON, b = POISON;
	const char *why = NULL;
	int r;

	switch (kind) {
	case 's':
		r = mo_parse_size(s, &a, &why);
		if (r < 0)
			check_failure(r, why, a, b);
		break;
	case 'r':
		r = mo_parse_range(s, &a, &b, &why);
		if (r < 0)
			check_failure(r, why, a, b);
		else if (a > b)
			abort();
		break;
	case 'b':
		r = mo_parse_blocks(s, &a, &b, &why);
		if (r < 0)
			check_failure(r, why, a, b);
		else if (a > b)
			abort();
		break;
	case 'd':
		r = mo_parse_duration(s, &a, &why);
		if (r < 0)
			check_failure(r, why, a, b);
		else {
			char buf[MO_DURATION_MAX];
			uint64_t back = POISON;

			/* What we print for a duration must parse back to it. */
			mo_format_duration(a, buf, sizeof(buf));
			if (mo_parse_duration(buf, &back, NULL) < 0 || back != a)
				abort();
		}
		break;
	}
}

static uint64_t take_u64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size < 1)
		return 0;

	if (data[0] == 'f') {
		char buf[MO_DURATION_MAX], small[8];
		uint64_t usec, back = POISON;

		if (size < 9)
			return 0;
		usec = take_u64(data + 1);
		mo_format_duration(usec, buf, sizeof(buf));
		if (strlen(buf) >= sizeof(buf))
			abort();
		if (mo_parse_duration(buf, &back, NULL) < 0 || back != usec)
			abort();
		/* A short buffer truncates, NUL-terminated, never overflows. */
		mo_format_duration(usec, small, sizeof(small));
		if (memchr(small, '\0', sizeof(small)) == NULL)
			abort();
		return 0;
	}
	if (data[0] == 'a') {
		uint64_t x, y, bs;
		const char *why = NULL;
		int r;

		if (size < 25)
			return 0;
		x = take_u64(data + 1);
		y = take_u64(data + 9);
		bs = take_u64(data + 17);
		r = mo_check_size_aligned(x, bs, &why);
		if (r == 0 && (bs == 0 || x == 0 || x % bs != 0))
			abort();
		if (r < 0 && !why)
			abort();
		why = NULL;
		r = mo_check_range_aligned(x, y, bs, &why);
		if (r == 0 && (bs == 0 || x > y || x % bs != 0 || (y % bs) != bs - 1))
			abort();
		if (r < 0 && !why)
			abort();
		return 0;
	}

	/* The parsers take C strings: the text ends at the first NUL. */
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (strchr("srbd", data[0]) && data[0] != '\0')
		one((char) data[0], s);
	else {
		one('s', s);
		one('r', s);
		one('b', s);
		one('d', s);
	}
	free(s);
	return 0;
}
