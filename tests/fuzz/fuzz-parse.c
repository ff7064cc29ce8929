/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the parsers of what users type (parse.h).
 *
 * The first byte picks the parser, the rest is its text:
 *   's' size   'r' range   'b' blocks   'd' duration
 *   'f' format_duration round trip on 8 raw bytes
 *   'a' alignment checks on 3 x 8 raw bytes
 *   'n' mo_parse_u64_span(), 'i' mo_parse_i64_span(): a mode byte, then
 *       the text; mode bits 0-4 the base (u64 only), 0x20 MO_PARSE_0X,
 *       0x40 ask for endp, 0x80 a bounded span (the text copied without
 *       its NUL, end at its end: a read past it is a sanitizer report)
 * any other first byte runs the text through all four parsers.
 *
 * Besides "no crash, no sanitizer report", it checks what the parsers
 * promise: outputs untouched on failure, a reason on every failure,
 * ordered ranges, and that mo_format_duration() reads back to its input;
 * the integer scanners are checked against strtoull()/strtoll() run on
 * exactly the digits a plain reading of the text finds.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
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

/* The digits of @base (10 or 16) that start [s, s + len). */
static size_t digit_run(const char *s, size_t len, unsigned base)
{
	size_t n = 0;

	for (; n < len; n++) {
		char c = s[n];
		bool dec = c >= '0' && c <= '9';
		bool hex = (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');

		if (!(dec || (base == 16 && hex)))
			break;
	}
	return n;
}

/*
 * What the scanner must answer, from strtoull()/strtoll() on a NUL-ended
 * copy of just the digits (never whitespace or a sign, which they would
 * take). Only bases 10 and 16 have a reference; others are checked for
 * their contract alone.
 */
static void check_span(uint8_t mode, bool sign, const uint8_t *data, size_t size)
{
	unsigned base = sign ? 10 : (mode & 0x1f) | (mode & 0x20 ? MO_PARSE_0X : 0);
	unsigned b = base & ~MO_PARSE_0X;
	bool want_endp = mode & 0x40, bounded = mode & 0x80;
	const char *endp = (const char *) &endp;   /* a value no scanner writes */
	char *text;
	size_t len, skip = 0, n;
	uint64_t u = POISON, ref_u = 0;
	int64_t i = (int64_t) POISON, ref_i = 0;
	int r, want;

	/* the text ends at its first NUL either way */
	len = strnlen((const char *) data, size);
	text = malloc(len + 1);
	if (!text)
		return;
	memcpy(text, data, len);
	if (!bounded)
		text[len] = '\0';
	if (sign)
		r = mo_parse_i64_span(text, bounded ? text + len : NULL, &i, want_endp ? &endp : NULL);
	else
		r = mo_parse_u64_span(text, bounded ? text + len : NULL, base, &u, want_endp ? &endp : NULL);

	if (r != 0 && r != -EINVAL && r != -ERANGE)
		abort();
	if (r < 0 && (u != POISON || i != (int64_t) POISON || endp != (const char *) &endp))
		abort();
	if (r == 0 && want_endp && (endp <= text || endp > text + len))
		abort();

	if ((base & MO_PARSE_0X) && b != 16) {
		/* "0x" belongs to base 16 alone */
		if (r != -EINVAL)
			abort();
		free(text);
		return;
	}
	if (b != 10 && b != 16) {
		/* no reference: only bases 2 to 16 */
		if (r == 0 && (b < 2 || b > 16))
			abort();
		free(text);
		return;
	}
	if (sign && len > 0 && text[0] == '-')
		skip = 1;
	else if ((base & MO_PARSE_0X) && b == 16 && len >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		skip = 2;
	n = digit_run(text + skip, len - skip, b);
	if (n == 0)
		want = -EINVAL;
	else {
		/* the '-' goes to strtoll(), a "0x" nowhere */
		char *copy = sign ? strndup(text, skip + n) : strndup(text + skip, n);

		if (!copy)
			abort();
		errno = 0;
		if (sign)
			ref_i = strtoll(copy, NULL, 10);
		else
			ref_u = strtoull(copy, NULL, (int) b);
		free(copy);
		if (errno == ERANGE)
			want = -ERANGE;
		else if (!want_endp && skip + n != len)
			want = -EINVAL;
		else
			want = 0;
	}
	if (r != want)
		abort();
	if (r == 0 && (sign ? i != ref_i : u != ref_u))
		abort();
	if (r == 0 && want_endp && endp != text + skip + n)
		abort();
	free(text);
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

	if ((data[0] == 'n' || data[0] == 'i') && size >= 2) {
		check_span(data[1], data[0] == 'i', data + 2, size - 2);
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
