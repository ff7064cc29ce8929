/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A walk over a process's present pages in /proc/PID/pagemap (pagemap.h). */
#include "config.h"

#include <sys/ioctl.h>

#include "pagemap.h"
#include "util.h"

#define MO_PAGEMAP_SCAN _IOWR('f', 16, struct mo_pm_scan_arg)
#define MO_PAGE_IS_PRESENT (UINT64_C(1) << 3)
#define MO_PAGE_IS_PFNZERO (UINT64_C(1) << 5)

int mo_pagemap_walk_new(long page_size, struct mo_pagemap_walk **ret)
{
	struct mo_pagemap_walk *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->page_size = page_size;
	w->done = true;
	*ret = w;
	return 0;
}

void mo_pagemap_walk_free(struct mo_pagemap_walk *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	free(w->ranges);
	free(w);
}

void mo_pagemap_walk_reset(struct mo_pagemap_walk *w, int fd, uint64_t min_pfn, uint64_t max_pfn)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = fd;
	w->min_pfn = min_pfn;
	w->max_pfn = max_pfn;
	w->n_ranges = w->next = w->n_hits = 0;
	w->addr = 0;
	w->done = false;
	w->saw_present = w->saw_pfn = false;
}

int mo_pagemap_walk_add(struct mo_pagemap_walk *w, uint64_t start, uint64_t end, uint32_t tag)
{
	int r;

	if (end <= start)
		return 0;
	r = MO_GROW(w->ranges, w->n_ranges, w->cap_ranges, 64);
	if (r < 0)
		return r;
	w->ranges[w->n_ranges++] = (struct mo_pagemap_range) { .start = start, .end = end, .tag = tag };
	return 0;
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The words of the pages in [w->addr, @end), as far as the step's budget
 * and the room for hits go; w->addr moves on. Return: 0 when they are all
 * read (or the file ends there), 1 when the step must stop, -1 when a read
 * failed.
 */
static int read_words(struct mo_pagemap_walk *w, uint32_t tag, uint64_t end, size_t *budget)
{
	uint64_t ps = (uint64_t) w->page_size;

	while (w->addr < end) {
		uint64_t page = w->addr / ps, want = (end - 1) / ps - page + 1;
		ssize_t n;
		size_t got;

		want = min_u64(want, MO_PAGEMAP_CHUNK);
		want = min_u64(want, MO_PAGEMAP_HITS - w->n_hits);
		want = min_u64(want, *budget);
		if (want == 0)
			return 1;
		n = pread(w->fd, w->buf, want * sizeof(uint64_t), (off_t) (page * sizeof(uint64_t)));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got = (size_t) n / sizeof(uint64_t);
		if (got == 0) {
			w->addr = end;
			return 0;
		}
		*budget -= got;
		for (size_t i = 0; i < got; i++) {
			uint64_t e = w->buf[i], pfn;

			if (!(e & MO_PM_PRESENT))
				continue;
			w->saw_present = true;
			pfn = e & MO_PM_PFN_MASK;
			if (pfn == 0)
				continue;
			w->saw_pfn = true;
			if (pfn < w->min_pfn || pfn > w->max_pfn)
				continue;
			w->hits[w->n_hits++] = (struct mo_pagemap_hit) { .vaddr = (page + i) * ps, .entry = e, .range = tag };
		}
		w->addr = (page + got) * ps;
	}
	return 0;
}

/*
 * The present ranges of [w->addr, @end) by PAGEMAP_SCAN (not the zero
 * page), and their words. Return as read_words().
 */
static int scan_present(struct mo_pagemap_walk *w, uint32_t tag, uint64_t end, size_t *budget)
{
	struct mo_pm_scan_arg arg = {
		.size = sizeof(arg),
		.start = w->addr,
		.end = end,
		.vec = (uint64_t) (uintptr_t) w->regions,
		.vec_len = MO_PAGEMAP_SCAN_REGIONS,
		.category_mask = MO_PAGE_IS_PRESENT | MO_PAGE_IS_PFNZERO,
		.category_inverted = MO_PAGE_IS_PFNZERO,
		.return_mask = MO_PAGE_IS_PRESENT,
	};

	while (arg.start < arg.end) {
		long n = ioctl(w->fd, MO_PAGEMAP_SCAN, &arg);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOTTY || errno == EINVAL || errno == EOPNOTSUPP) {
				/* before 6.7: read the words of every page */
				w->no_scan = true;
				return read_words(w, tag, end, budget);
			}
			return -1;
		}
		for (long i = 0; i < n; i++) {
			const struct mo_page_region *g = &w->regions[i];
			int k;

			if (g->end <= g->start)
				continue;
			w->saw_present = true;
			if (w->addr < g->start)
				w->addr = g->start;
			k = read_words(w, tag, g->end, budget);
			if (k != 0)
				return k; /* the next step asks again from w->addr */
		}
		if (arg.walk_end <= arg.start)
			break;
		arg.start = w->addr = arg.walk_end;
	}
	w->addr = end;
	return 0;
}

int mo_pagemap_walk_step(void *userdata)
{
	struct mo_pagemap_walk *w = userdata;
	size_t budget = MO_PAGEMAP_STEP_WORDS;

	w->n_hits = 0;
	while (!w->done && w->next < w->n_ranges) {
		const struct mo_pagemap_range *g = &w->ranges[w->next];
		int k;

		if (w->addr < g->start)
			w->addr = g->start;
		k = w->no_scan ? read_words(w, g->tag, g->end, &budget) : scan_present(w, g->tag, g->end, &budget);
		if (k < 0)
			w->done = true;
		if (k != 0)
			return 0;
		w->next++;
	}
	w->done = true;
	return 0;
}
