/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Memory of pins: the pages that blocked offline attempts, per memory block,
 * with when they were first and last seen.
 *
 * The page census cannot see a pin (no interface gives a page's refcount),
 * so a pinned block looks as cheap as any other until an attempt on it
 * stalls. The store remembers what attempts found so that the next request
 * ranks those blocks last (select.h) and a SIZE request reaches its size
 * around them instead of trying them first again. A block's record is
 * forgotten when it goes offline or a later attempt finds it clear.
 *
 * memoffd keeps one store for its lifetime and in its state directory
 * (MO_PINMEM_FILE), written atomically (a temporary file renamed over the
 * old one) and read tolerantly: a line that does not parse is skipped, a
 * missing file is an empty store. memoffctl reads that file read-only.
 *
 * Pure: no sysfs; the caller gives the path and the time.
 *
 * The file, one line per block:
 *   # memoff pinned pages v1
 *   BLOCK FIRST_SEEN LAST_SEEN [PFN...]
 * times in seconds since the epoch, PFNs in hex with 0x.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MO_PINMEM_FILE "pins"            /* in memoffd's state directory */
#define MO_PINMEM_PFNS_MAX 16            /* PFNs kept per block, the newest */

struct mo_pinmem_block {
	uint64_t block;
	uint64_t first_seen, last_seen;  /* CLOCK_REALTIME seconds */
	unsigned n_pfns;
	uint64_t pfns[MO_PINMEM_PFNS_MAX];   /* ascending; may be empty (blocked, pages unknown) */
};

struct mo_pinmem {
	struct mo_pinmem_block *blocks;  /* ascending block order */
	size_t n;
	bool dirty;                      /* changed since loaded or saved */
};

/** mo_pinmem_new() - an empty store. Return: 0 or -ENOMEM. */
int mo_pinmem_new(struct mo_pinmem **ret);
void mo_pinmem_free(struct mo_pinmem *m);
static inline void mo_pinmem_freep(struct mo_pinmem **m) { mo_pinmem_free(*m); }

/**
 * mo_pinmem_note() - attempts found @block blocked by @pfns (may be none:
 * blocked, pages unknown) at @now. PFNs already known keep their place; new
 * ones are added, the lowest kept when there are too many.
 * Return: 0 or -ENOMEM.
 */
int mo_pinmem_note(struct mo_pinmem *m, uint64_t block, const uint64_t *pfns, size_t n, uint64_t now);

/** mo_pinmem_forget() - drop @block's record. Return: whether there was one. */
bool mo_pinmem_forget(struct mo_pinmem *m, uint64_t block);

/** mo_pinmem_find() - @block's record, or NULL. @m may be NULL. */
const struct mo_pinmem_block *mo_pinmem_find(const struct mo_pinmem *m, uint64_t block);

/**
 * mo_pinmem_parse() - add the records of @text (the file format) to @m.
 * Return: how many lines were skipped as unreadable (>= 0), or -ENOMEM.
 */
int mo_pinmem_parse(struct mo_pinmem *m, const char *text);

/** mo_pinmem_format() - @m in the file format, malloc'd. Return: 0 or -ENOMEM. */
int mo_pinmem_format(const struct mo_pinmem *m, char **ret);

/**
 * mo_pinmem_load() - mo_pinmem_parse() of the file at @path (statefile.h).
 * A missing file is an empty store.
 * Return: skipped lines (>= 0), -EBADFD when @path is not a regular file
 * (or is a symlink), or another negative errno.
 */
int mo_pinmem_load(struct mo_pinmem *m, const char *path);

/**
 * mo_pinmem_save() - write @m to @path atomically, readable by root only
 * (mo_statefile_write(), mode 0600); clears dirty.
 * Return: 0 or a negative errno (the old file is then intact).
 */
int mo_pinmem_save(struct mo_pinmem *m, const char *path);
