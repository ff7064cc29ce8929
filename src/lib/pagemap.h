/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A walk over the present pages of some mappings of one process, through
 * /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst): a word per
 * page, bit 63 present, bits 0-54 the PFN (zero without CAP_SYS_ADMIN).
 * With PAGEMAP_SCAN (Linux 6.7) only the present ranges' words are read;
 * older kernels have no ioctl on pagemap (ENOTTY) and every word is read.
 *
 * Every read of pagemap waits for the process's mmap_lock, so owners.c runs
 * the walk in a bounded helper (bounded.h), a step at a time: a step reads
 * at most MO_PAGEMAP_STEP_WORDS words, keeps the pages whose PFN lies in
 * [min_pfn, max_pfn] as hits (at most MO_PAGEMAP_HITS), and stops where the
 * next step goes on. All that the kernel writes to is in the walk, and its
 * descriptor is its own: an abandoned step frees nothing its caller uses.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MO_PM_PRESENT (UINT64_C(1) << 63)
#define MO_PM_SWAP (UINT64_C(1) << 62)
#define MO_PM_FILE (UINT64_C(1) << 61)
#define MO_PM_EXCLUSIVE (UINT64_C(1) << 56)
#define MO_PM_PFN_MASK ((UINT64_C(1) << 55) - 1)

#define MO_PAGEMAP_CHUNK 8192          /* words a pread: 64 KiB, 32 MiB of address space */
#define MO_PAGEMAP_HITS 8192           /* hits a step */
#define MO_PAGEMAP_STEP_WORDS 65536    /* words a step: 512 KiB of pagemap, 256 MiB present */
#define MO_PAGEMAP_SCAN_REGIONS 512

/* PAGEMAP_SCAN (include/uapi/linux/fs.h) */
struct mo_page_region {
	uint64_t start, end, categories;
};

struct mo_pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask, return_mask;
};

/* A present page whose PFN is in the range looked for. */
struct mo_pagemap_hit {
	uint64_t vaddr;
	uint64_t entry;        /* its pagemap word */
	uint32_t range;        /* the tag of its range (mo_pagemap_walk_add()) */
};

struct mo_pagemap_range {
	uint64_t start, end;   /* virtual addresses, @end exclusive */
	uint32_t tag;
};

struct mo_pagemap_walk {
	int fd;                /* the process's pagemap: the walk's own, closed with it */
	long page_size;
	uint64_t min_pfn, max_pfn;
	bool no_scan;          /* the kernel has no PAGEMAP_SCAN (found out by a step) */
	struct mo_pagemap_range *ranges;
	size_t n_ranges, cap_ranges;
	/* where the next step goes on */
	size_t next;
	uint64_t addr;
	/* what the last step found */
	bool done;             /* every range walked, or the process went away */
	bool saw_present;      /* a present page (or a present range) */
	bool saw_pfn;          /* a present page with a PFN (none without CAP_SYS_ADMIN) */
	size_t n_hits;
	struct mo_pagemap_hit hits[MO_PAGEMAP_HITS];
	struct mo_page_region regions[MO_PAGEMAP_SCAN_REGIONS];
	uint64_t buf[MO_PAGEMAP_CHUNK];
};

/** mo_pagemap_walk_new() - an empty walk (no descriptor, no ranges). Return: 0 or -ENOMEM. */
int mo_pagemap_walk_new(long page_size, struct mo_pagemap_walk **ret);

/** mo_pagemap_walk_free() - close its descriptor and free it. */
void mo_pagemap_walk_free(struct mo_pagemap_walk *w);

/**
 * mo_pagemap_walk_reset() - start over on another process.
 * @fd: its pagemap (the walk takes it; the previous one is closed)
 * @min_pfn, @max_pfn: the PFNs kept as hits
 */
void mo_pagemap_walk_reset(struct mo_pagemap_walk *w, int fd, uint64_t min_pfn, uint64_t max_pfn);

/** mo_pagemap_walk_add() - walk [@start, @end) too, after the ranges added before. Return: 0 or -ENOMEM. */
int mo_pagemap_walk_add(struct mo_pagemap_walk *w, uint64_t start, uint64_t end, uint32_t tag);

/**
 * mo_pagemap_walk_step() - read on from where the last step stopped: the
 * hits replace the last step's. A read that fails ends the walk (the
 * process is going away).
 * @userdata: the struct mo_pagemap_walk (a mo_bounded_fn)
 * Return: 0.
 */
int mo_pagemap_walk_step(void *userdata);
