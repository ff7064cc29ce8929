/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Parsers of what users type. Everything is parsed by hand, character by
 * character: strtoull() skips whitespace, accepts signs ("-1" becomes
 * 2^64-1) and guesses bases, none of which we want.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"
#include "util.h"

/* Fractions are kept exact as num / den with den = 10^digits; 10^18 < 2^60. */
#define MAX_FRAC_DIGITS 18

static int fail(const char **why, int r, const char *reason)
{
	if (why)
		*why = reason;
	return r;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Any of the C locale's white-space characters. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* SIZE, RANGE, BLOCKS: some text, and no white space anywhere in it. */
static int check_text(const char *s, const char **why)
{
	if (!s || !*s)
		return fail(why, -EINVAL, "the value is empty");
	for (; *s; s++)
		if (is_space(*s))
			return fail(why, -EINVAL, "whitespace is not allowed");
	return 0;
}

/*
 * floor(a * b / c) for a < c < 2^61, by binary long multiplication: the
 * running remainder stays below 3c, so nothing overflows, and the quotient
 * is below b. The remainder is returned in *rem.
 */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c, uint64_t *rem)
{
	uint64_t q = 0, r = 0;

	for (int bit = 63; bit >= 0; bit--) {
		q <<= 1;
		r <<= 1;
		if ((b >> bit) & 1)
			r += a;
		while (r >= c) {
			r -= c;
			q++;
		}
	}
	if (rem)
		*rem = r;
	return q;
}

struct decimal {
	uint64_t integer;
	uint64_t frac_num;     /* the fraction is frac_num / frac_den < 1 */
	uint64_t frac_den;     /* 1 when there is no fraction */
	bool has_point;
};

/*
 * Read DIGITS [ "." DIGITS ] at *p: no sign (@negative_why says why not '-').
 * Trailing zeros of the fraction do not count against MAX_FRAC_DIGITS.
 */
static int read_decimal(const char **p, struct decimal *d, const char *negative_why, const char *overflow_why,
			const char **why)
{
	const char *s = *p, *frac, *last_nz = NULL;
	int r;

	*d = (struct decimal) { .frac_den = 1 };
	if (*s == '-')
		return fail(why, -EINVAL, negative_why);
	if (*s == '+')
		return fail(why, -EINVAL, "a sign is not allowed");

	r = mo_parse_u64_span(s, NULL, 10, &d->integer, &s);
	if (r == -ERANGE)
		return fail(why, r, overflow_why);
	if (r < 0)
		return fail(why, r, "expected a number");

	if (*s == '.') {
		d->has_point = true;
		frac = ++s;
		if (!is_digit(*s))
			return fail(why, -EINVAL, "expected a digit after the decimal point");
		for (; is_digit(*s); s++)
			if (*s != '0')
				last_nz = s;
		if (last_nz) {
			if (last_nz - frac + 1 > MAX_FRAC_DIGITS)
				return fail(why, -EINVAL, "too many digits after the decimal point");
			for (const char *c = frac; c <= last_nz; c++) {
				d->frac_num = d->frac_num * 10 + (uint64_t) (*c - '0');
				d->frac_den *= 10;
			}
		}
	}
	*p = s;
	return 0;
}

/*
 * @d times @unit: integer part times unit plus the exact floor of the
 * fraction times unit; *rem != 0 when the fraction did not come out whole.
 * @unit must be below 2^61 when there is a fraction.
 */
static int scale(const struct decimal *d, uint64_t unit, uint64_t *ret, uint64_t *rem)
{
	uint64_t v, f = 0;

	*rem = 0;
	if (__builtin_mul_overflow(d->integer, unit, &v))
		return -ERANGE;
	if (d->frac_num > 0)
		f = mul_div(d->frac_num, unit, d->frac_den, rem);
	if (__builtin_add_overflow(v, f, &v))
		return -ERANGE;
	*ret = v;
	return 0;
}

int mo_parse_size(const char *s, uint64_t *ret, const char **why)
{
	static const char units_upper[] = "KMGTPEZY", units_lower[] = "kmgtpezy";
	const char *p = s, *u;
	struct decimal d;
	uint64_t unit, base, v, rem;
	unsigned power;
	bool unit_overflow = false;
	int r;

	r = check_text(s, why);
	if (r < 0)
		return r;
	/* chmem reads these with strtoumax(base 0): octal and hexadecimal. */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return fail(why, -EINVAL, "hexadecimal sizes are not accepted (use a suffix such as M or G)");
	if (s[0] == '0' && is_digit(s[1]))
		return fail(why, -EINVAL, "leading zeros are ambiguous (chmem reads them as octal)");

	r = read_decimal(&p, &d, "negative sizes are not allowed", "size overflows 64 bits", why);
	if (r < 0)
		return r;

	if (*p == '\0') {
		/* chmem: a size ending in a digit is in MiB. */
		if (d.has_point)
			return fail(why, -EINVAL, "a fraction needs a unit suffix");
		unit = MIB;
	} else {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return fail(why, -EINVAL, "trailing garbage after the number");
		u = strchr(units_upper, *p);
		if (u)
			power = (unsigned) (u - units_upper) + 1;
		else if ((u = strchr(units_lower, *p)))
			power = (unsigned) (u - units_lower) + 1;
		else
			return fail(why, -EINVAL, "unknown unit suffix (expected K, M, G, T, P or E)");
		p++;
		if (streq(p, "") || streq(p, "iB") || streq(p, "ib"))
			base = 1024;
		else if (streq(p, "B") || streq(p, "b"))
			base = 1000;
		else
			return fail(why, -EINVAL, "trailing garbage after the unit");

		unit = 1;
		for (unsigned i = 0; i < power; i++)
			if (__builtin_mul_overflow(unit, base, &unit))
				unit_overflow = true;
	}

	if (unit_overflow) {
		/* Z and Y: only nothing of them fits. */
		if (d.integer == 0 && d.frac_num == 0) {
			*ret = 0;
			return 0;
		}
		return fail(why, -ERANGE, "size overflows 64 bits");
	}

	if (scale(&d, unit, &v, &rem) < 0)
		return fail(why, -ERANGE, "size overflows 64 bits");
	if (rem != 0)
		return fail(why, -EINVAL, "the fraction does not come to a whole number of bytes");
	*ret = v;
	return 0;
}

/* How mo_parse_range() and mo_parse_blocks() write their two numbers. */
struct pair_syntax {
	bool hex;               /* "0x" numbers (RANGE), else decimal (BLOCKS) */
	const char *missing_first, *missing_last, *no_digit, *overflow, *trailing, *reversed;
};

static const struct pair_syntax range_syntax = {
	.hex = true,
	.missing_first = "missing start address",
	.missing_last = "missing end address",
	.no_digit = "expected a hexadecimal digit after 0x",
	.overflow = "address overflows 64 bits",
	.trailing = "trailing garbage after the address",
	.reversed = "end is before start",
};

static const struct pair_syntax blocks_syntax = {
	.missing_first = "missing first block number",
	.missing_last = "missing last block number",
	.no_digit = "expected a decimal block number",
	.overflow = "block number overflows 64 bits",
	.trailing = "trailing garbage after the block number",
	.reversed = "last block is before the first",
};

/* One number of a pair, ending at @stop or at the end of the text. */
static int read_pair_item(const char **p, const struct pair_syntax *syn, char stop, uint64_t *ret, const char **why)
{
	const char *s = *p;
	int r;

	if (syn->hex) {
		if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
			return fail(why, -EINVAL, "addresses must be hexadecimal with a 0x prefix");
		s += 2;
	}
	r = mo_parse_u64_span(s, NULL, syn->hex ? 16 : 10, ret, &s);
	if (r == -ERANGE)
		return fail(why, r, syn->overflow);
	if (r < 0)
		return fail(why, r, syn->no_digit);
	if (*s != stop && *s != '\0')
		return fail(why, -EINVAL, syn->trailing);
	*p = s;
	return 0;
}

/* "A-B", or (BLOCKS only) "A" for A-A. */
static int parse_pair(const char *s, const struct pair_syntax *syn, uint64_t *first, uint64_t *last,
		      const char **why)
{
	const char *p = s;
	uint64_t a, b;
	int r;

	r = check_text(s, why);
	if (r < 0)
		return r;
	if (syn->hex && !strchr(s, '-'))
		return fail(why, -EINVAL, "expected 0xSTART-0xEND");
	if (*p == '-')
		return fail(why, -EINVAL, syn->missing_first);
	if (*p == '+')
		return fail(why, -EINVAL, "a sign is not allowed");

	r = read_pair_item(&p, syn, '-', &a, why);
	if (r < 0)
		return r;
	if (*p == '\0') {
		/* RANGE: cannot happen, there is a '-' after the first address */
		*first = *last = a;
		return 0;
	}
	p++;
	if (*p == '\0')
		return fail(why, -EINVAL, syn->missing_last);
	r = read_pair_item(&p, syn, '\0', &b, why);
	if (r < 0)
		return r;

	if (b < a)
		return fail(why, -EDOM, syn->reversed);
	*first = a;
	*last = b;
	return 0;
}

int mo_parse_range(const char *s, uint64_t *first, uint64_t *last, const char **why)
{
	return parse_pair(s, &range_syntax, first, last, why);
}

int mo_parse_blocks(const char *s, uint64_t *first, uint64_t *last, const char **why)
{
	return parse_pair(s, &blocks_syntax, first, last, why);
}

#define USEC_PER_MSEC UINT64_C(1000)
#define USEC_PER_SEC  UINT64_C(1000000)
#define USEC_PER_MIN  (60 * USEC_PER_SEC)
#define USEC_PER_HOUR (60 * USEC_PER_MIN)
#define USEC_PER_DAY  (24 * USEC_PER_HOUR)

static const struct {
	const char *name;
	uint64_t usec;
} time_units[] = {
	{ "us", 1 }, { "usec", 1 }, { "\xc2\xb5s", 1 } /* µ MICRO SIGN */, { "\xce\xbcs", 1 } /* μ GREEK MU */,
	{ "ms", USEC_PER_MSEC }, { "msec", USEC_PER_MSEC },
	{ "s", USEC_PER_SEC }, { "sec", USEC_PER_SEC }, { "second", USEC_PER_SEC }, { "seconds", USEC_PER_SEC },
	{ "m", USEC_PER_MIN }, { "min", USEC_PER_MIN }, { "minute", USEC_PER_MIN }, { "minutes", USEC_PER_MIN },
	{ "h", USEC_PER_HOUR }, { "hr", USEC_PER_HOUR }, { "hour", USEC_PER_HOUR }, { "hours", USEC_PER_HOUR },
	{ "d", USEC_PER_DAY }, { "day", USEC_PER_DAY }, { "days", USEC_PER_DAY },
};

static uint64_t lookup_time_unit(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(time_units); i++)
		if (strlen(time_units[i].name) == len && strneq(time_units[i].name, name, len))
			return time_units[i].usec;
	return 0;
}

int mo_parse_duration(const char *s, uint64_t *usec, const char **why)
{
	const char *p = s, *u;
	uint64_t total = 0;

	if (!s || !*s)
		return fail(why, -EINVAL, "the value is empty");
	if (s[0] == ' ' || s[strlen(s) - 1] == ' ')
		return fail(why, -EINVAL, "whitespace is not allowed around the value");
	for (u = s; *u; u++)
		if (is_space(*u) && *u != ' ')
			return fail(why, -EINVAL, "only spaces may separate the parts of a duration");

	while (*p) {
		const char *start = p;
		struct decimal d;
		uint64_t unit, v, rem;
		int r;

		r = read_decimal(&p, &d, "negative durations are not allowed",
				 "duration overflows 64 bits of microseconds", why);
		if (r < 0)
			return r;
		/* "2 min": a space between a number and its unit */
		for (u = p; *u == ' '; u++)
			;
		if (u != p && *u && !is_digit(*u))
			p = u;

		for (u = p; *u && *u != ' ' && *u != '.' && !is_digit(*u); u++)
			;
		if (u == p) {
			if (*p == '.')
				return fail(why, -EINVAL, "trailing garbage after the number");
			/* a lone number is in seconds */
			if (*p != '\0' || start != s)
				return fail(why, -EINVAL, "missing unit after a number");
			unit = USEC_PER_SEC;
		} else {
			unit = lookup_time_unit(p, (size_t) (u - p));
			if (unit == 0)
				return fail(why, -EINVAL, "unknown time unit (expected us, ms, s, min, h or d)");
		}

		r = scale(&d, unit, &v, &rem);
		if (r < 0 || __builtin_add_overflow(total, v, &total))
			return fail(why, -ERANGE, "duration overflows 64 bits of microseconds");
		/* sub-microsecond remainders are dropped */

		p = u;
		while (*p == ' ')
			p++;
	}

	*usec = total;
	return 0;
}

int mo_parse_timeout(const char *s, uint64_t *usec, const char **why)
{
	if (s && streq(s, "infinity")) {
		*usec = MO_USEC_INFINITY;
		return 0;
	}
	return mo_parse_duration(s, usec, why);
}

/* ---- integers ---- */

int mo_parse_u64_span(const char *s, const char *end, unsigned base, uint64_t *ret, const char **endp)
{
	bool prefix = base & MO_PARSE_0X;
	const char *p;
	uint64_t v = 0;
	bool overflow = false;
	int d;

	base &= ~MO_PARSE_0X;
	if (!s || base < 2 || base > 16 || (prefix && base != 16))
		return -EINVAL;
	/* s[1] may be read once s[0] is '0': it is at worst the NUL */
	if (prefix && (!end || end - s >= 2) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (p = s; (!end || p < end) && (d = hex_value(*p)) >= 0 && (unsigned) d < base; p++)
		if (__builtin_mul_overflow(v, base, &v) || __builtin_add_overflow(v, (uint64_t) d, &v))
			overflow = true;
	if (p == s)
		return -EINVAL;
	if (overflow)
		return -ERANGE;
	if (!endp && (end ? p != end : *p != '\0'))
		return -EINVAL;
	*ret = v;
	if (endp)
		*endp = p;
	return 0;
}

int mo_parse_i64_span(const char *s, const char *end, int64_t *ret, const char **endp)
{
	bool neg = s && (!end || s < end) && *s == '-';
	const char *e = NULL;
	uint64_t v;
	int r;

	/* as for the unsigned scanner: a value out of range wins over trailing junk */
	r = mo_parse_u64_span(s ? s + neg : NULL, end, 10, &v, &e);
	if (r < 0)
		return r;
	if (v > (uint64_t) INT64_MAX + neg)
		return -ERANGE;
	if (!endp && (end ? e != end : *e != '\0'))
		return -EINVAL;
	*ret = neg ? (int64_t) (0 - v) : (int64_t) v;
	if (endp)
		*endp = e;
	return 0;
}

/* The whole-string decimal parsers: "0", but no "01" (octal to some readers). */
static bool leading_zero(const char *digits)
{
	return digits[0] == '0' && digits[1];
}

int mo_parse_u64(const char *s, unsigned base, uint64_t *ret)
{
	if (!s || (base != 10 && base != 16))
		return -EINVAL;
	if (base == 10 && leading_zero(s))
		return -EINVAL;
	return mo_parse_u64_span(s, NULL, base, ret, NULL);
}

int mo_parse_unsigned(const char *s, unsigned max, unsigned *ret)
{
	uint64_t v;
	int r = mo_parse_u64(s, 10, &v);

	if (r < 0)
		return r;
	if (v > max)
		return -ERANGE;
	*ret = (unsigned) v;
	return 0;
}

int mo_parse_i64(const char *s, int64_t *ret)
{
	if (!s || leading_zero(s + (s[0] == '-')))
		return -EINVAL;
	return mo_parse_i64_span(s, NULL, ret, NULL);
}

/* ---- zones ---- */

static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...) _printf_(4, 5);

/* The kernel's names (mm/page_alloc.c zone_names), in the order of the MO_ZONE_* bits. */
static const char *const zone_names[] = { "DMA", "DMA32", "Normal", "HighMem", "Movable", "Device" };

unsigned mo_zone_from_string(const char *s)
{
	for (unsigned i = 0; s && i < ARRAY_SIZE(zone_names); i++)
		if (strcasecmp(s, zone_names[i]) == 0)
			return 1u << i;
	return 0;
}

const char *mo_zone_to_string(unsigned zone)
{
	for (unsigned i = 0; i < ARRAY_SIZE(zone_names); i++)
		if (zone == 1u << i)
			return zone_names[i];
	return NULL;
}

int mo_parse_zones(const char *s, unsigned *ret, char **bad)
{
	unsigned zones = 0;

	for (const char *p = s; p && *p;) {
		size_t n = strcspn(p, " \t,");
		char name[16];
		unsigned z = 0;

		if (n > 0 && n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			z = mo_zone_from_string(name);
		}
		if (n > 0 && !z) {
			if (bad && !(*bad = strndup(p, n)))
				return -ENOMEM;
			return -EINVAL;
		}
		zones |= z;
		p += n;
		p += strspn(p, " \t,");
	}
	*ret = zones;
	return 0;
}

char *mo_zones_to_string(unsigned zones, char *buf, size_t len)
{
	size_t pos = 0;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; i < ARRAY_SIZE(zone_names); i++)
		if (zones & (1u << i))
			append(buf, len, &pos, "%s%s", pos ? " " : "", zone_names[i]);
	return buf;
}

int mo_check_size_aligned(uint64_t size, uint64_t block_size, const char **why)
{
	if (block_size == 0)
		return fail(why, -EINVAL, "the memory block size is zero");
	if (size == 0)
		return fail(why, -EDOM, "must not be zero");
	if (size % block_size != 0)
		return fail(why, -EDOM, "not a multiple of the memory block size");
	return 0;
}

int mo_check_range_aligned(uint64_t first, uint64_t last, uint64_t block_size, const char **why)
{
	if (block_size == 0)
		return fail(why, -EINVAL, "the memory block size is zero");
	if (last < first)
		return fail(why, -EDOM, "end is before start");
	if (first % block_size != 0)
		return fail(why, -EDOM, "start is not aligned to the memory block size");
	/* (last + 1) % block_size == 0, without overflowing at UINT64_MAX */
	if (last % block_size != block_size - 1)
		return fail(why, -EDOM, "end + 1 is not aligned to the memory block size");
	return 0;
}

/* Append to buf (size len, *pos chars used so far), truncating quietly. */
_printf_(4, 5)
static void append(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n > 0)
		*pos += (size_t) n;
}

/* "N" or "N.FFF" with the fraction's trailing zeros trimmed; @digits of fraction. */
static void append_fixed(char *buf, size_t len, size_t *pos, uint64_t whole, uint64_t frac,
			 int digits, const char *unit)
{
	if (frac == 0) {
		append(buf, len, pos, "%" PRIu64 "%s", whole, unit);
		return;
	}
	while (frac % 10 == 0) {
		frac /= 10;
		digits--;
	}
	append(buf, len, pos, "%" PRIu64 ".%0*" PRIu64 "%s", whole, digits, frac, unit);
}

char *mo_format_duration(uint64_t usec, char *buf, size_t len)
{
	size_t pos = 0;

	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';

	if (usec == 0) {
		append(buf, len, &pos, "0s");
		return buf;
	}
	if (usec < USEC_PER_MSEC) {
		append(buf, len, &pos, "%" PRIu64 "us", usec);
		return buf;
	}
	if (usec < USEC_PER_SEC) {
		append_fixed(buf, len, &pos, usec / USEC_PER_MSEC, usec % USEC_PER_MSEC, 3, "ms");
		return buf;
	}
	if (usec >= USEC_PER_DAY) {
		append(buf, len, &pos, "%" PRIu64 "d", usec / USEC_PER_DAY);
		usec %= USEC_PER_DAY;
	}
	if (usec >= USEC_PER_HOUR) {
		append(buf, len, &pos, "%" PRIu64 "h", usec / USEC_PER_HOUR);
		usec %= USEC_PER_HOUR;
	}
	if (usec >= USEC_PER_MIN) {
		append(buf, len, &pos, "%" PRIu64 "min", usec / USEC_PER_MIN);
		usec %= USEC_PER_MIN;
	}
	if (usec > 0)
		append_fixed(buf, len, &pos, usec / USEC_PER_SEC, usec % USEC_PER_SEC, 6, "s");
	return buf;
}
