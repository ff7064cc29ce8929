/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * census-rate: how close the page census comes to the raw cost of reading
 * /proc/kpageflags, on the running machine (read-only, needs root).
 *
 * For every online memory block, one round reads the block's kpageflags words
 * with plain pread() in 64 KiB chunks (the raw kernel cost), and one round
 * runs mo_census_read() over the same block. Rounds alternate so that drift
 * hits both alike; the medians are compared. Target: census rate >= 80% of
 * the raw rate.
 *
 * Usage: census-rate [ROUNDS] [SYSROOT]
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>

#include "block.h"
#include "census.h"
#include "root.h"
#include "util.h"

#include "bench-stat.h"

#define PAGE_SIZE_ASSUMED 4096
#define RAW_CHUNK (64 * 1024)
#define TARGET 0.80

struct range {
	uint64_t first, n;
};

/* One raw pass: pread every range's kpageflags words. Return: seconds, or < 0. */
static double raw_pass(int fd, const struct range *rs, size_t n_rs, uint64_t *sink)
{
	static uint64_t buf[RAW_CHUNK / sizeof(uint64_t)];
	double t0 = bench_now();

	for (size_t i = 0; i < n_rs; i++) {
		uint64_t off = rs[i].first * 8, end = (rs[i].first + rs[i].n) * 8;

		while (off < end) {
			size_t want = end - off < RAW_CHUNK ? (size_t) (end - off) : RAW_CHUNK;
			ssize_t k = pread(fd, buf, want, (off_t) off);

			if (k <= 0)
				return -1;
			*sink ^= buf[0];
			off += (uint64_t) k;
		}
	}
	return bench_now() - t0;
}

static double census_pass(struct mo_census_reader *r, const struct range *rs, size_t n_rs, uint64_t *sink)
{
	double t0 = bench_now();

	for (size_t i = 0; i < n_rs; i++) {
		struct mo_census c;

		if (mo_census_read(r, rs[i].first, rs[i].n, &c) < 0)
			return -1;
		*sink ^= c.free + c.movable;
	}
	return bench_now() - t0;
}

int main(int argc, char **argv)
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *reader = NULL;
	_cleanup_free_ struct range *rs = NULL;
	_cleanup_free_ double *raw = NULL, *cen = NULL, *cmap = NULL;
	_cleanup_close_ int fd = -1;
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	const char *sysroot = argc > 2 ? argv[2] : "/";
	uint64_t pages = 0, sink = 0;
	size_t n_rs = 0;
	double mr, mc, mm;
	int r;

	if (rounds < 1 || rounds > 1000) {
		fprintf(stderr, "usage: %s [ROUNDS] [SYSROOT]\n", argv[0]);
		return 2;
	}
	r = mo_root_new(sysroot, NULL, &root);
	if (r < 0) {
		fprintf(stderr, "census-rate: cannot open %s: %s\n", sysroot, strerror(-r));
		return 1;
	}
	r = mo_memory_load(root, &mem);
	if (r < 0) {
		fprintf(stderr, "census-rate: cannot read memory blocks: %s\n", strerror(-r));
		return 1;
	}
	r = mo_census_reader_new(root, &reader);
	fd = mo_root_open(root, true, "kpageflags", O_RDONLY);
	if (r < 0 || fd < 0) {
		printf("census-rate: SKIP: kpageflags not readable (%s); run as root\n",
		       strerror(r < 0 ? -r : -fd));
		return 0;
	}

	rs = calloc(mem->n_blocks ? mem->n_blocks : 1, sizeof(*rs));
	raw = calloc((size_t) rounds, sizeof(double));
	cen = calloc((size_t) rounds, sizeof(double));
	cmap = calloc((size_t) rounds, sizeof(double));
	if (!rs || !raw || !cen || !cmap)
		return 1;
	for (size_t i = 0; i < mem->n_blocks; i++) {
		const struct mo_block *b = &mem->blocks[i];

		if (b->state != MO_STATE_ONLINE)
			continue;
		rs[n_rs++] = (struct range) { b->start / PAGE_SIZE_ASSUMED, b->size / PAGE_SIZE_ASSUMED };
		pages += b->size / PAGE_SIZE_ASSUMED;
	}
	if (pages == 0) {
		printf("census-rate: SKIP: no online memory block\n");
		return 0;
	}
	printf("census-rate: %zu online blocks, %" PRIu64 " pages (%.1f GiB), %d rounds\n", n_rs, pages,
	       (double) pages * PAGE_SIZE_ASSUMED / GIB, rounds);

	/* warm-up: fault in buffers and page tables on both sides */
	if (raw_pass(fd, rs, n_rs, &sink) < 0 || census_pass(reader, rs, n_rs, &sink) < 0) {
		fprintf(stderr, "census-rate: read failed: %m\n");
		return 1;
	}
	for (int i = 0; i < rounds; i++) {
		double tr = raw_pass(fd, rs, n_rs, &sink), tc = census_pass(reader, rs, n_rs, &sink);

		if (tr <= 0 || tc <= 0) {
			fprintf(stderr, "census-rate: read failed\n");
			return 1;
		}
		raw[i] = (double) pages / tr;
		cen[i] = (double) pages / tc;
		printf("  round %d: raw %.2f Mpages/s, census %.2f Mpages/s, ratio %.3f\n", i + 1, raw[i] / 1e6,
		       cen[i] / 1e6, cen[i] / raw[i]);
	}
	/* for information: the census with kpagecount (shared pages) too */
	if (mo_census_reader_set_mapcount(reader, true) == 0) {
		for (int i = 0; i < rounds; i++) {
			double tc = census_pass(reader, rs, n_rs, &sink);

			cmap[i] = tc > 0 ? (double) pages / tc : 0;
		}
	}

	mr = bench_median(raw, rounds);
	mc = bench_median(cen, rounds);
	mm = bench_median(cmap, rounds);
	printf("raw kpageflags pread:  %.2f Mpages/s (median)\n", mr / 1e6);
	printf("mo_census_read:        %.2f Mpages/s (median)\n", mc / 1e6);
	if (mm > 0)
		printf("  with kpagecount:     %.2f Mpages/s (median, ratio %.3f)\n", mm / 1e6, mm / mr);
	printf("ratio census/raw:      %.3f (target >= %.2f: %s)\n", mc / mr, TARGET,
	       mc / mr >= TARGET ? "met" : "NOT met");
	(void) sink;
	return 0;
}
