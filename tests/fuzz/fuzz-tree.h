/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Fake sysfs/procfs trees written from fuzz input, for the fuzzers of code
 * that reads files through struct mo_root.
 *
 * The input is a list of fields separated by NUL bytes. A field that names
 * an attribute starts with one kind byte:
 *   'f' a file holding the rest of the field
 *   'z' a file holding the rest, a NUL byte and more junk after it
 *   'd' a directory where a file is expected (read() fails with EISDIR)
 *   'l' a symbolic link whose target is the rest (dangling, looping, ...);
 *       never absolute and never with "..": links only lead down
 *   'L' the same behind "../../../", as sysfs links look (deep paths only)
 *   'e' an empty file
 * an empty field, or any other kind byte, leaves the attribute out.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mo_root;

struct ft_input {
	const uint8_t *p;
	size_t left;
};

/* The next NUL-separated field; false when the input is used up. */
bool ft_field(struct ft_input *in, const char **ret, size_t *len);

/*
 * A fresh, empty tree for this run: "<dir>/sys" and "<dir>/proc" exist,
 * nothing else. The directory is the same for every run of the process (and
 * removed at exit); returns its path.
 */
const char *ft_reset(void);

/* Create <tree>/<rel> as the field says (see above), with parent directories. */
void ft_put(const char *rel, const char *field, size_t len);

/* Create <tree>/<rel> as a plain file holding @len bytes of @data. */
void ft_put_file(const char *rel, const char *data, size_t len);

/* A root reading the tree as it is now (aborts when mo_root_new() fails). */
struct mo_root *ft_root(void);

/* A fresh tree holding only <tree>/<rel> with @size bytes of @data, and a root reading it. */
struct mo_root *ft_root_with_file(const char *rel, const uint8_t *data, size_t size);

/* Whether @s (of @len bytes) is a safe single path component. */
bool ft_component_ok(const char *s, size_t len);
