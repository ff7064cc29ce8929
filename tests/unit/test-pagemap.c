/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The pagemap walk (pagemap.h): a step reads a bounded number of words and
 * keeps a bounded number of hits, and the next step goes on exactly where
 * it stopped, so that the steps together see every page once.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fixture.h"
#include "pagemap.h"
#include "util.h"

#define PS 4096
#define BASE_PAGE 0x100000ULL   /* the first range's first page: 0x100000000 */
#define N_PAGES 200000ULL       /* > MO_PAGEMAP_STEP_WORDS, > MO_PAGEMAP_HITS */
#define PFN0 0x40000ULL

/* A pagemap file: N_PAGES present pages from BASE_PAGE, page i at PFN PFN0 + i; every 7th not present. */
static int make_pagemap(const char *root)
{
	_cleanup_free_ uint64_t *w = calloc(N_PAGES, sizeof(uint64_t));
	char path[4200];
	int fd;

	assert_non_null(w);
	for (uint64_t i = 0; i < N_PAGES; i++)
		w[i] = i % 7 == 3 ? 0 : MO_PM_PRESENT | (PFN0 + i);
	fx_write(root, "proc/1/pagemap", "");
	snprintf(path, sizeof(path), "%s/proc/1/pagemap", root);
	fd = open(path, O_RDWR | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, w, N_PAGES * sizeof(uint64_t), (off_t) (BASE_PAGE * sizeof(uint64_t))),
			 (ssize_t) (N_PAGES * sizeof(uint64_t)));
	return fd;
}

/* Two ranges over the file, a PFN window inside: every hit seen once, in order, in bounded steps. */
static void test_steps(void **state)
{
	char *root = fx_mkroot();
	struct mo_pagemap_walk *w = NULL;
	/* range 0: pages 0..99999 of the file; range 1: 100000..N_PAGES-1 and 1000 pages past its end */
	const uint64_t lo = PFN0 + 5000, hi = PFN0 + 180000;
	uint64_t next = lo, steps = 0;

	assert_int_equal(mo_pagemap_walk_new(PS, &w), 0);
	mo_pagemap_walk_reset(w, make_pagemap(root), lo, hi);
	assert_int_equal(mo_pagemap_walk_add(w, BASE_PAGE * PS, (BASE_PAGE + 100000) * PS, 10), 0);
	assert_int_equal(mo_pagemap_walk_add(w, (BASE_PAGE + 100000) * PS, (BASE_PAGE + N_PAGES + 1000) * PS, 11), 0);
	assert_int_equal(mo_pagemap_walk_add(w, 5 * PS, 5 * PS, 12), 0); /* empty: left out */
	while (!w->done) {
		assert_int_equal(mo_pagemap_walk_step(w), 0);
		steps++;
		assert_true(w->n_hits <= MO_PAGEMAP_HITS);
		for (size_t i = 0; i < w->n_hits; i++) {
			const struct mo_pagemap_hit *h = &w->hits[i];
			uint64_t pfn = h->entry & MO_PM_PFN_MASK;

			while ((next - PFN0) % 7 == 3)
				next++;
			assert_int_equal(pfn, next);
			assert_int_equal(h->vaddr, (BASE_PAGE + (pfn - PFN0)) * PS);
			assert_int_equal(h->range, pfn - PFN0 < 100000 ? 10 : 11);
			next++;
		}
		assert_true(steps < 1000);
	}
	assert_int_equal(next, hi + 1);
	/* 175001 pages of which a seventh are absent: at least 19 steps of 8192 hits */
	assert_true(steps >= 19);
	assert_true(w->saw_present);
	assert_true(w->saw_pfn);
	assert_true(w->no_scan); /* a regular file has no PAGEMAP_SCAN: every word was read */

	/* a step after the end finds nothing */
	assert_int_equal(mo_pagemap_walk_step(w), 0);
	assert_int_equal(w->n_hits, 0);
	mo_pagemap_walk_free(w);
	fx_rmroot(root);
}

/* Word reads are bounded too: a window that matches nothing still takes several steps. */
static void test_budget(void **state)
{
	char *root = fx_mkroot();
	struct mo_pagemap_walk *w = NULL;
	unsigned steps = 0;

	assert_int_equal(mo_pagemap_walk_new(PS, &w), 0);
	mo_pagemap_walk_reset(w, make_pagemap(root), 1, 2);
	assert_int_equal(mo_pagemap_walk_add(w, BASE_PAGE * PS, (BASE_PAGE + N_PAGES) * PS, 0), 0);
	while (!w->done) {
		assert_int_equal(mo_pagemap_walk_step(w), 0);
		assert_int_equal(w->n_hits, 0);
		steps++;
	}
	assert_int_equal(steps, (N_PAGES + MO_PAGEMAP_STEP_WORDS - 1) / MO_PAGEMAP_STEP_WORDS);
	assert_true(w->saw_pfn);

	/* a failed read ends the walk (the process went away) */
	mo_pagemap_walk_reset(w, -1, 0, UINT64_MAX);
	assert_int_equal(mo_pagemap_walk_add(w, BASE_PAGE * PS, (BASE_PAGE + 1) * PS, 0), 0);
	assert_int_equal(mo_pagemap_walk_step(w), 0);
	assert_true(w->done);
	assert_int_equal(w->n_hits, 0);
	mo_pagemap_walk_free(w);
	fx_rmroot(root);
}

/* On the running kernel: pages of our own are found (PAGEMAP_SCAN where there is one), when PFNs are shown. */
static void test_live_self(void **state)
{
	struct mo_pagemap_walk *w = NULL;
	const size_t n = 64;
	char *mem = mmap(NULL, n * PS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t pfns[64] = { 0 }, lo = UINT64_MAX, hi = 0;
	size_t found = 0;
	int fd;

	assert_true(mem != MAP_FAILED);
	assert_int_equal(sysconf(_SC_PAGESIZE), PS);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		skip();
	for (size_t i = 0; i < n; i++) {
		uint64_t e = 0;

		mem[i * PS] = 1;
		assert_int_equal(pread(fd, &e, 8, (off_t) ((uintptr_t) (mem + i * PS) / PS * 8)), 8);
		pfns[i] = e & MO_PM_PFN_MASK;
		lo = pfns[i] < lo ? pfns[i] : lo;
		hi = pfns[i] > hi ? pfns[i] : hi;
	}
	if (pfns[0] == 0) {
		close(fd);
		munmap(mem, n * PS);
		skip(); /* no CAP_SYS_ADMIN */
	}
	assert_int_equal(mo_pagemap_walk_new(PS, &w), 0);
	mo_pagemap_walk_reset(w, fd, lo, hi);
	assert_int_equal(mo_pagemap_walk_add(w, (uintptr_t) mem, (uintptr_t) mem + n * PS, 0), 0);
	while (!w->done) {
		assert_int_equal(mo_pagemap_walk_step(w), 0);
		for (size_t i = 0; i < w->n_hits; i++) {
			size_t page = (size_t) (w->hits[i].vaddr - (uintptr_t) mem) / PS;

			assert_true(page < n);
			assert_int_equal(w->hits[i].entry & MO_PM_PFN_MASK, pfns[page]);
			found++;
		}
	}
	assert_int_equal(found, n);
	mo_pagemap_walk_free(w);
	munmap(mem, n * PS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steps),
		cmocka_unit_test(test_budget),
		cmocka_unit_test(test_live_self),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
