/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Small helpers shared by every part of memoff: cleanup attributes of our
 * own (libsystemd does not export systemd's), string comparisons, sizes.
 */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define streq(a, b) (strcmp((a), (b)) == 0)
#define strneq(a, b, n) (strncmp((a), (b), (n)) == 0)

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

/*
 * Room for one element more in an array of @size-byte elements with @n in use
 * and *@cap allocated: doubles it (to @first the first time). Return: 0;
 * -ENOMEM with the array unchanged. Use MO_GROW().
 */
static inline int mo_grow_(void **p, size_t *cap, size_t n, size_t size, size_t first)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	np = ncap > *cap ? reallocarray(*p, ncap, size) : NULL;
	if (!np)
		return -ENOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}
#define MO_GROW(array, n, cap, first) mo_grow_((void **) &(array), &(cap), (n), sizeof(*(array)), (first))

static inline void freep(void *p) { free(*(void **) p); }
static inline void closep(int *fd) { if (*fd >= 0) { int e = errno; close(*fd); errno = e; } }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void closedirp(DIR **d) { if (*d) closedir(*d); }

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hand a pointer (or fd) out of a cleanup scope. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

#define KIB (UINT64_C(1) << 10)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)

static inline const char *strempty(const char *s) { return s ? s : ""; }

/* @a + @b µs, saturating at UINT64_MAX ("infinity": a deadline that never comes). */
static inline uint64_t usec_add(uint64_t a, uint64_t b) { return a > UINT64_MAX - b ? UINT64_MAX : a + b; }

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* @s past any spaces and tabs. */
static inline const char *skip_blanks(const char *s)
{
	/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): strings are NUL-terminated; the analyzer reads startswith() past the NUL */
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}
