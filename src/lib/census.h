/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The page census of a PFN range from /proc/kpageflags (and /proc/kpagecount):
 * how many pages are free, movable in use, or unmovable, and an estimate of
 * what migrating them out would cost.
 *
 * Every examined page lands in exactly one class:
 *   pages = nopage + free + movable + unmovable + noflags
 *   movable = anon + file + hugetlb
 *   unmovable = reserved + slab + pgtable + offline + other
 * thp and mapped are attributes counted across classes.
 *
 * Pages of a compound page (THP, hugetlb, slab, kernel __GFP_COMP) take the
 * class of their head page, also when the range starts inside the compound
 * page (the head is looked up before the range).
 */

#include <stdbool.h>
#include <stdint.h>

#include "kpageflags.h"
#include "root.h"

/* kpageflags words use the bit names of kpageflags.h: MO_KPF(MO_KPF_ANON) is a mask. */

struct mo_census {
	uint64_t pages;           /* PFNs examined */
	uint64_t nopage;          /* KPF_NOPAGE: hole, no struct page (or an offline section; past the end of memory) */
	uint64_t free;            /* KPF_BUDDY (and free hugetlb) */
	uint64_t anon;            /* movable in use: anonymous (incl. swap cache) */
	uint64_t file;            /* movable in use: page cache (incl. shmem/tmpfs) */
	uint64_t thp;             /* of which part of a transparent huge page (any large LRU folio) */
	uint64_t hugetlb;         /* in-use hugetlb pages (movable, but costly) */
	uint64_t reserved;        /* unmovable: KPF_RESERVED */
	uint64_t slab;            /* unmovable: KPF_SLAB */
	uint64_t pgtable;         /* unmovable: KPF_PGTABLE */
	uint64_t offline;         /* unmovable: KPF_OFFLINE (ballooned, ...) */
	uint64_t other;           /* in use, neither LRU nor any of the above (kernel allocations) */
	uint64_t movable;         /* anon + file + hugetlb: pages that must migrate */
	uint64_t unmovable;       /* reserved + slab + pgtable + offline + other */
	uint64_t mapped;          /* pages with KPF_MMAP (mapped by some process) */
	uint64_t cost;            /* estimated migration cost in page-equivalents (see census.c) */
	/*
	 * Pages reading no flag at all. Free-or-unknown: a page on a per-CPU
	 * free list (drained by offline_pages()), memory the kernel counts as
	 * free but has not handed to the buddy allocator yet, or a kernel
	 * allocation that carries no flag (vmalloc, kernel stacks, driver
	 * buffers). Neither movable nor unmovable; in a ZONE_MOVABLE block they
	 * are free pages in practice, in other zones they may block an offline.
	 */
	uint64_t noflags;
	uint64_t dirty;           /* movable pages that are dirty or under writeback */
	uint64_t shared;          /* pages with kpagecount > 1 (only with mo_census_reader_set_mapcount()) */
};

/* Cost weights (page-equivalents per page), see census.c for the rationale. */
#define MO_CENSUS_COST_PAGE      UINT64_C(1)          /* copying one movable page */
#define MO_CENSUS_COST_DIRTY     UINT64_C(3)          /* extra: dirty/writeback page */
#define MO_CENSUS_COST_MAPPED    UINT64_C(1)          /* extra: unmap + remap through rmap */
#define MO_CENSUS_COST_SHARED    UINT64_C(1)          /* extra: per additional mapping (kpagecount) */
#define MO_CENSUS_SHARED_MAX     UINT64_C(15)         /* cap of the extra mappings counted per page */
#define MO_CENSUS_COST_HUGETLB   UINT64_C(2)          /* hugetlb page (needs a free huge page elsewhere) */
#define MO_CENSUS_COST_NOFLAGS   UINT64_C(1)          /* free-or-unknown page */
#define MO_CENSUS_COST_UNMOVABLE (UINT64_C(1) << 32)  /* unmovable page: "infinite" */

struct mo_census_reader;

/**
 * mo_census_reader_new() - open <procroot>/proc/kpageflags (and kpagecount when
 * readable) for repeated censuses with one buffer.
 * Return: 0, -ENOENT without kpageflags, -EACCES/-EPERM without privilege.
 */
int mo_census_reader_new(const struct mo_root *root, struct mo_census_reader **ret);
void mo_census_reader_free(struct mo_census_reader *r);
static inline void mo_census_reader_freep(struct mo_census_reader **r) { mo_census_reader_free(*r); }

/**
 * mo_census_reader_set_mapcount() - also read /proc/kpagecount in mo_census_read()
 * (for chunks holding mapped pages) to fill @shared and weigh shared pages.
 * Roughly halves the census rate on a busy range; off by default.
 * Return: 0, or -ENOENT when kpagecount could not be opened.
 */
int mo_census_reader_set_mapcount(struct mo_census_reader *r, bool on);

/**
 * mo_census_read() - census of @n_pfns pages starting at @first_pfn.
 * PFNs past the end of /proc/kpageflags count as nopage.
 * Return: 0, or a negative errno.
 */
int mo_census_read(struct mo_census_reader *r, uint64_t first_pfn, uint64_t n_pfns, struct mo_census *out);

/**
 * mo_census_pfns() - call @cb for every PFN of the range whose page is in use
 * (neither free nor a hole), with its raw kpageflags word (decode with kpageflags.h). Used by forensics
 * to list the pages that block an offline. Pages without any flag (noflags)
 * are reported too: they may be kernel allocations. Stops early when @cb
 * returns < 0.
 * Return: 0, @cb's negative return value, or a negative errno.
 */
int mo_census_pfns(struct mo_census_reader *r, uint64_t first_pfn, uint64_t n_pfns,
		   int (*cb)(uint64_t pfn, uint64_t flags, void *userdata), void *userdata);

/**
 * mo_census_mapcount() - the kpagecount (mapcount) of one PFN.
 * Return: 0, -ENOENT without kpagecount, -ERANGE past its end, or a negative errno.
 */
int mo_census_mapcount(struct mo_census_reader *r, uint64_t pfn, uint64_t *ret);
