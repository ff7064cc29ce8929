/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Parsers of what users type: sizes, address ranges, block ranges, durations.
 *
 * SIZE
 *   A decimal number with an optional fraction and an optional unit suffix,
 *   meaning what chmem(8) makes of it:
 *
 *     K, M, G, T, P, E        powers of 1024 (KiB, MiB, ...); "KiB" and the
 *                             lower-case letters (k, m, g, ...) mean the same
 *     KB, MB, GB, TB, PB, EB  powers of 1000
 *     no suffix               mebibytes: "512" is 512M
 *
 *   "512M", "4G", "4GiB", "1.5G" and "6GB" are sizes. A fraction needs a
 *   suffix ("1.5" alone is refused, as chmem refuses it) and must come to a
 *   whole number of bytes. "0" parses (as zero bytes); the alignment check
 *   refuses a zero size. The decimal point is '.', whatever the locale.
 *
 *   Refused rather than guessed at, where chmem would read something else
 *   than most people mean: a leading zero before another digit ("010M",
 *   octal 8M to chmem) and hexadecimal sizes ("0x10G"). A bare "B" (bytes) is
 *   refused, as chmem refuses it.
 *
 * RANGE
 *   START-END: two hexadecimal physical addresses, each written with a "0x"
 *   prefix, END inclusive, as chmem takes them: "0x100000000-0x13fffffff".
 *   START must be aligned to the memory block size and END + 1 too.
 *
 * BLOCKS
 *   FIRST-LAST or a single N: decimal memory block numbers (the N of
 *   memoryN), LAST inclusive: "32-39", "40".
 *
 * DURATION
 *   A number with a unit, or several written together or separated by
 *   spaces, which add up: "5s", "500ms", "1.5s", "2min", "1h", "1min30s",
 *   "1min 30s". Units: us (usec, µs), ms (msec), s (sec, second, seconds),
 *   min (m, minute, minutes), h (hr, hour, hours), d (day, days). A number
 *   alone means seconds: "5" is 5s. A space may stand between a number and
 *   its unit: "2 min". Precision is one microsecond; finer fractions are
 *   dropped. "0" parses; whoever needs a non-zero duration says so. A
 *   TIMEOUT is a DURATION or "infinity" (no limit): what memoffd.conf's
 *   Deadline= and memoffctl's --deadline take alike.
 *
 * ZONES
 *   Zone names as the kernel writes them in valid_zones: DMA, DMA32, Normal,
 *   HighMem, Movable, Device; in any case ("Highmem", "movable"); a list is
 *   separated by commas, spaces or both: "Normal,Movable", "Normal Movable".
 *   AllowedZones= and memoffctl's -z read them with the same code.
 *
 * INTEGERS
 *   Decimal (or, where asked, hexadecimal without "0x") digits only: no
 *   sign, no whitespace, no leading zero before another digit (decimal).
 *
 * NUMBERS IN KERNEL TEXT
 *   mo_parse_u64_span() and mo_parse_i64_span() scan a number inside a
 *   longer text (/proc, sysfs, /dev/kmsg): the core every parser above and
 *   every reader of kernel files in src/lib sits on. Digits only, in the C
 *   locale's sense whatever the locale; none of strtoull()'s leading
 *   whitespace, signs, "0x" guessing or silent saturation.
 *
 * Everywhere: no signs, no whitespace before, after or inside a number, no
 * trailing characters; numbers that do not fit in 64 bits are refused.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* mo_parse_timeout(): "infinity" */
#define MO_USEC_INFINITY UINT64_MAX

/* Zones (MO_ZONE_* bits, in the kernel's order). */
enum {
	MO_ZONE_DMA     = 1 << 0,
	MO_ZONE_DMA32   = 1 << 1,
	MO_ZONE_NORMAL  = 1 << 2,
	MO_ZONE_HIGHMEM = 1 << 3,
	MO_ZONE_MOVABLE = 1 << 4,
	MO_ZONE_DEVICE  = 1 << 5,
	MO_ZONE_ALL     = (1 << 6) - 1,
};

/* Enough for mo_zones_to_string() of every zone, with its NUL. */
#define MO_ZONES_MAX 48

/* Enough for any duration mo_format_duration() writes, with its NUL. */
#define MO_DURATION_MAX 48

/**
 * mo_parse_size() - parse a SIZE (see above) into bytes.
 * @s:   the text; NULL is refused
 * @ret: the size in bytes, written only on success
 * @why: when not NULL, set on failure to a short static reason that reads
 *       well after "invalid size '...': "
 *
 * Return: 0; -EINVAL when @s is malformed; -ERANGE when the size does not
 * fit in 64 bits.
 */
int mo_parse_size(const char *s, uint64_t *ret, const char **why);

/**
 * mo_parse_range() - parse a RANGE "0xSTART-0xEND" of physical addresses.
 * @s:     the text
 * @first: the first address, written only on success
 * @last:  the last address (inclusive), written only on success
 * @why:   set on failure to a short static reason
 *
 * Alignment is not checked here: see mo_check_range_aligned().
 *
 * Return: 0; -EINVAL when malformed; -ERANGE when an address does not fit in
 * 64 bits; -EDOM when END is below START.
 */
int mo_parse_range(const char *s, uint64_t *first, uint64_t *last, const char **why);

/**
 * mo_parse_blocks() - parse BLOCKS "FIRST-LAST" or "N" (decimal).
 * @s:     the text
 * @first: the first block number, written only on success
 * @last:  the last block number (inclusive; == @first for "N"), written only
 *         on success
 * @why:   set on failure to a short static reason
 *
 * Return: 0; -EINVAL when malformed; -ERANGE when a number does not fit in
 * 64 bits; -EDOM when LAST is below FIRST.
 */
int mo_parse_blocks(const char *s, uint64_t *first, uint64_t *last, const char **why);

/**
 * mo_parse_duration() - parse a DURATION into microseconds.
 * @s:    the text
 * @usec: the duration in microseconds, written only on success; may be 0
 * @why:  set on failure to a short static reason
 *
 * Return: 0; -EINVAL when malformed; -ERANGE when the total does not fit in
 * 64 bits of microseconds.
 */
int mo_parse_duration(const char *s, uint64_t *usec, const char **why);

/**
 * mo_parse_timeout() - parse a TIMEOUT: a DURATION, or "infinity" for
 * MO_USEC_INFINITY. Return: as mo_parse_duration().
 */
int mo_parse_timeout(const char *s, uint64_t *usec, const char **why);

/**
 * mo_parse_u64() - parse an unsigned integer (INTEGERS above).
 * @base: 10 or 16
 * Return: 0; -EINVAL when malformed; -ERANGE when it does not fit.
 */
int mo_parse_u64(const char *s, unsigned base, uint64_t *ret);

/* mo_parse_u64_span(): or'ed into @base 16, an optional "0x" or "0X" prefix */
#define MO_PARSE_0X 0x100u

/**
 * mo_parse_u64_span() - scan an unsigned integer at the start of a text.
 * @s:    the first character
 * @end:  one past the last character that may be read; NULL: up to @s's NUL
 * @base: 2 to 16; with 16, MO_PARSE_0X allows a "0x"/"0X" prefix (which
 *        must then be followed by a digit). Letters of either case.
 * @ret:  the value, written only on success
 * @endp: NULL: every character up to @end must be a digit; otherwise the
 *        scan stops at the first non-digit and *@endp receives where (only
 *        on success)
 *
 * Leading zeros are digits like any other; no sign, no whitespace.
 *
 * Return: 0; -EINVAL when @base is invalid, no digit starts the text, or
 * (@endp NULL) a character before @end is not a digit; -ERANGE when the
 * digits do not fit in 64 bits, whatever follows them.
 */
int mo_parse_u64_span(const char *s, const char *end, unsigned base, uint64_t *ret, const char **endp);

/**
 * mo_parse_i64_span() - mo_parse_u64_span() in base 10 of a number with an
 * optional leading '-', from INT64_MIN to INT64_MAX. "-0" is 0; '+' is
 * refused. Return: 0, -EINVAL, -ERANGE.
 */
int mo_parse_i64_span(const char *s, const char *end, int64_t *ret, const char **endp);

/** mo_parse_unsigned() - a decimal from 0 to @max. Return: 0, -EINVAL, -ERANGE. */
int mo_parse_unsigned(const char *s, unsigned max, unsigned *ret);

/** mo_parse_i64() - a decimal with an optional leading '-'. Return: 0, -EINVAL, -ERANGE. */
int mo_parse_i64(const char *s, int64_t *ret);

/** mo_zone_from_string() - the MO_ZONE_* bit of a zone name (any case), 0 if unknown. */
unsigned mo_zone_from_string(const char *s);

/** mo_zone_to_string() - the kernel's name of one MO_ZONE_* bit ("HighMem"), NULL if not one. */
const char *mo_zone_to_string(unsigned zone);

/**
 * mo_parse_zones() - parse a ZONES list into MO_ZONE_* bits.
 * @ret: the bits; 0 for an empty (or blank) list
 * @bad: on -EINVAL, a malloc'd copy of the unknown name (may be NULL)
 * Return: 0; -EINVAL for an unknown zone; -ENOMEM.
 */
int mo_parse_zones(const char *s, unsigned *ret, char **bad);

/** mo_zones_to_string() - "Normal Movable" for a set of MO_ZONE_* bits, into @buf. */
char *mo_zones_to_string(unsigned zones, char *buf, size_t len);

/**
 * mo_check_size_aligned() - check that @size is a non-zero multiple of
 * @block_size.
 * @size:       bytes
 * @block_size: the memory block size in bytes
 * @why:        set on failure to a short static reason; the caller adds the
 *              block size if it wants to show it
 *
 * Return: 0; -EDOM when @size is zero or not a multiple; -EINVAL when
 * @block_size is zero.
 */
int mo_check_size_aligned(uint64_t size, uint64_t block_size, const char **why);

/**
 * mo_check_range_aligned() - check that [@first, @last] covers whole blocks.
 * @first:      first byte
 * @last:       last byte (inclusive)
 * @block_size: the memory block size in bytes
 * @why:        set on failure to a short static reason
 *
 * @first must be a multiple of @block_size and @last + 1 too (computed
 * without overflow, so a range ending at the top of the address space is
 * fine).
 *
 * Return: 0; -EDOM when reversed or misaligned; -EINVAL when @block_size is
 * zero.
 */
int mo_check_range_aligned(uint64_t first, uint64_t last, uint64_t block_size, const char **why);

/**
 * mo_format_duration() - write @usec for a human, in a form
 * mo_parse_duration() reads back to the same value.
 * @usec: microseconds
 * @buf:  where to write
 * @len:  size of @buf; MO_DURATION_MAX is always enough, less truncates
 *
 * Examples: 0 → "0s", 500000 → "500ms", 1500000 → "1.5s", 120000000 →
 * "2min", 90000000 → "1min30s", 1500 → "1.5ms", 3723000000 → "1h2min3s".
 *
 * Return: @buf.
 */
char *mo_format_duration(uint64_t usec, char *buf, size_t len);
