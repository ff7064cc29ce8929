/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Build small fake sysfs/procfs trees in a temporary directory for unit tests.
 */

#include <stddef.h>
#include <stdint.h>

struct mo_root;

/* Create a fresh temporary root; returns its path (static storage per call site is the caller's). */
char *fx_mkroot(void);
/* Remove the tree. */
void fx_rmroot(char *root);
/* cmocka teardown for a fixture that is the root path itself (*state = fx_mkroot()). */
int fx_teardown_root(void **state);
/* Write @content to <root>/<rel>, creating parent directories. */
void fx_write(const char *root, const char *rel, const char *content);
/* Create a symlink <root>/<rel> -> @target, creating parent directories. */
void fx_symlink(const char *root, const char *rel, const char *target);
/*
 * The whole of <root>/<rel> (@root NULL: @rel is the path) as a malloc'd
 * string; NULL with errno set when it cannot be opened. Aborts on a read error.
 */
char *fx_read(const char *root, const char *rel);
/* The same into @buf (at most @size - 1 bytes, NUL-terminated): @buf, or NULL. */
char *fx_read_buf(const char *root, const char *rel, char *buf, size_t size);
/* Remove <root>/<rel> (file or symlink). */
void fx_unlink(const char *root, const char *rel);
/*
 * Add a memory block: state, phys_index, removable, valid_zones (NULL to omit),
 * node link (-1 to omit), firmware_node basename (NULL to omit).
 */
void fx_block(const char *root, uint64_t index, const char *state, const char *zones, int node, const char *fwnode);
/*
 * Write the 8-byte word @value at word @index of <root>/<rel> (a sparse
 * file, created with its parent directories as needed), as /proc/kpageflags,
 * kpagecount and pagemap hold one word a page.
 */
void fx_put_u64(const char *root, const char *rel, uint64_t index, uint64_t value);
/* The same word at @n consecutive indexes from @first. */
void fx_put_u64_range(const char *root, const char *rel, uint64_t first, uint64_t n, uint64_t value);

/*
 * A scratch tree and the root that reads it: the first member of a test's
 * fixture struct, so that fx_teardown() can end any of them.
 */
struct fx_tree {
	char *root;
	struct mo_root *r;
};
/* Open t->r on the tree at t->root (aborts when mo_root_new() fails). */
void fx_tree_open(struct fx_tree *t);
/*
 * cmocka teardown for a calloc'd fixture whose first member is a struct
 * fx_tree: frees the root, removes the tree, frees the fixture.
 */
int fx_teardown(void **state);

/*
 * Fails the cmocka test unless @text (not NULL) contains every string of the
 * NULL-terminated list, naming the first one missing and showing @text.
 */
void fx_contains(const char *text, ...) __attribute__((sentinel));

/*
 * A pointer the test needs: fails the cmocka test when NULL (and tells the
 * compiler it is not). Needs <cmocka.h> where it is used.
 */
#define MUST(p)                         \
	({                              \
		__typeof__(p) _p = (p); \
		if (!_p)                \
			fail();         \
		if (!_p)                \
			abort();        \
		_p;                     \
	})
