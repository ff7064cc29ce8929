/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pinner — a test helper for the real-kernel VM suite. Runs only inside the
 * guest, as root (pagemap gives PFNs only to CAP_SYS_ADMIN).
 *
 * It allocates anonymous memory, touches it, looks up each page's PFN in
 * /proc/self/pagemap and pins chosen pages by vmsplice()ing them into pipes
 * that nobody reads: the pipe holds a plain page reference, so the kernel
 * cannot migrate the page and offlining its memory block spins until it is
 * interrupted (DESIGN.md, "Kernel facts").
 *
 *   pinner [--mib N] [--pin-block N]... [--pin-range START-END]... [--count K]
 *          [--max-mib M] [--chunk-mib C] [--release-after SECS] [--hold]
 *          [--file PATH] [--thp] [--stride S]
 *
 * stdout is machine-readable, one record a line:
 *   PIN pid=P vaddr=0xV pfn=0xF block=B     a page pinned
 *   FILE pid=P vaddr=0xV pfn=0xF block=B    a page-cache page of --file, mapped
 *   SHORT target=T found=F wanted=K         fewer pages than asked were found
 *   NOTFOUND target=T allocated_mib=M       no page at all (exit 3 follows)
 *   READY                                   everything is in place
 *   RELEASED                                --release-after: the pins are gone
 * Diagnostics go to stderr. After READY it stays alive until killed.
 *
 * Targets: --pin-block N is memory block N (block size from sysfs);
 * --pin-range START-END a physical range, END inclusive as lsmem prints it
 * (0x40000000-0x47ffffff). Each target gets up to K pages (--count, default 1).
 * When the first N MiB hold too few pages of a target, more chunks are
 * allocated until --max-mib; chunks that end up holding no pin are unmapped
 * again unless --hold is given. --stride S pins only pages whose PFN is a
 * multiple of S (with --thp, 512: one page in each huge page).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAX_TARGETS 64
#define MAX_PINS 4096
#define PAGES_PER_PIPE 16	/* a default pipe has 16 buffer slots */
#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)

struct target {
	bool is_block;
	uint64_t block;
	uint64_t start, end;	/* physical, inclusive */
	unsigned found;
};

struct chunk {
	char *addr;
	size_t len;
	bool keep;
};

static struct target targets[MAX_TARGETS];
static unsigned n_targets;
static struct chunk *chunks;
static size_t n_chunks;
static int pipes[MAX_PINS / PAGES_PER_PIPE + 1][2];
static unsigned n_pipes, n_in_pipe, n_pins;
static long page_size;
static uint64_t block_size;
static int pagemap_fd = -1;
static uint64_t stride = 1;

static void usage(FILE *f)
{
	fputs("usage: pinner [--mib N] [--pin-block N]... [--pin-range START-END]... [--count K]\n"
	      "              [--max-mib M] [--chunk-mib C] [--release-after SECS] [--hold]\n"
	      "              [--file PATH] [--thp] [--stride S]\n", f);
}

static int parse_u64(const char *s, uint64_t *ret)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

static int read_block_size(uint64_t *ret)
{
	FILE *f = fopen("/sys/devices/system/memory/block_size_bytes", "re");
	char buf[64];
	int r = -EIO;

	if (!f)
		return -errno;
	if (fgets(buf, sizeof(buf), f)) {
		char *end;

		errno = 0;
		*ret = strtoull(buf, &end, 16);
		if (errno == 0 && end != buf && *ret > 0)
			r = 0;
	}
	fclose(f);
	return r;
}

static const char *target_name(const struct target *t, char *buf, size_t len)
{
	if (t->is_block)
		snprintf(buf, len, "block:%" PRIu64, t->block);
	else
		snprintf(buf, len, "range:0x%" PRIx64 "-0x%" PRIx64, t->start, t->end);
	return buf;
}

static bool target_has(const struct target *t, uint64_t pfn)
{
	uint64_t phys = pfn * (uint64_t) page_size;

	if (t->is_block)
		return phys / block_size == t->block;
	return phys >= t->start && phys <= t->end;
}

/* Look up the PFN of the page at addr; 0 when not present. */
static int pfn_of(const void *addr, uint64_t *ret)
{
	uint64_t e;
	off_t off = (off_t) ((uintptr_t) addr / (uintptr_t) page_size) * 8;

	if (pread(pagemap_fd, &e, sizeof(e), off) != (ssize_t) sizeof(e))
		return -EIO;
	*ret = (e & PM_PRESENT) ? (e & PM_PFN_MASK) : 0;
	return 0;
}

static int pin_page(void *addr)
{
	struct iovec iov = { .iov_base = addr, .iov_len = (size_t) page_size };

	if (n_pins >= MAX_PINS)
		return -ENOSPC;
	if (n_pipes == 0 || n_in_pipe == PAGES_PER_PIPE) {
		int p[2];

		/*
		 * Non-blocking, so that a full pipe can never hang us. The read
		 * end stays open (a pipe without readers refuses writes), and
		 * nobody ever reads it.
		 */
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			return -errno;
		pipes[n_pipes][0] = p[0];
		pipes[n_pipes][1] = p[1];
		n_pipes++;
		n_in_pipe = 0;
	}
	ssize_t n = vmsplice(pipes[n_pipes - 1][1], &iov, 1, 0);
	if (n < 0)
		return -errno;
	if (n != page_size)
		return -EIO;
	n_in_pipe++;
	n_pins++;
	return 0;
}

static bool all_found(unsigned want)
{
	for (unsigned i = 0; i < n_targets; i++)
		if (targets[i].found < want)
			return false;
	return true;
}

/* Scan one mapping and pin the pages that some unfilled target wants. */
static int scan(struct chunk *c, unsigned want, bool is_file)
{
	for (size_t off = 0; off < c->len; off += (size_t) page_size) {
		char *p = c->addr + off;
		uint64_t pfn;
		int r;

		r = pfn_of(p, &pfn);
		if (r < 0)
			return r;
		if (pfn == 0)
			continue;
		if (is_file)
			printf("FILE pid=%d vaddr=%p pfn=0x%" PRIx64 " block=%" PRIu64 "\n",
			       (int) getpid(), (void *) p, pfn,
			       pfn * (uint64_t) page_size / block_size);
		for (unsigned i = 0; i < n_targets; i++) {
			struct target *t = &targets[i];

			if (t->found >= want || !target_has(t, pfn) || pfn % stride != 0)
				continue;
			r = pin_page(p);
			if (r < 0) {
				fprintf(stderr, "pinner: vmsplice of %p failed: %s\n", (void *) p, strerror(-r));
				return r;
			}
			t->found++;
			c->keep = true;
			printf("PIN pid=%d vaddr=%p pfn=0x%" PRIx64 " block=%" PRIu64 "\n",
			       (int) getpid(), (void *) p, pfn, pfn * (uint64_t) page_size / block_size);
			break;
		}
	}
	return 0;
}

static int alloc_chunk(size_t len, bool thp, struct chunk **ret)
{
	struct chunk *n = realloc(chunks, (n_chunks + 1) * sizeof(*chunks));

	if (!n)
		return -ENOMEM;
	chunks = n;
	char *a = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return -errno;
	if (!thp)
		(void) madvise(a, len, MADV_NOHUGEPAGE);
	/* Write every page, so that each is a private anonymous page of its own. */
	for (size_t off = 0; off < len; off += (size_t) page_size)
		a[off] = (char) (off / (size_t) page_size) | 1;
	chunks[n_chunks] = (struct chunk) { .addr = a, .len = len };
	*ret = &chunks[n_chunks++];
	return 0;
}

static int map_file(const char *path, struct chunk *c)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	volatile char sink = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_size == 0) {
		int r = st.st_size == 0 ? -EINVAL : -errno;
		close(fd);
		return r;
	}
	char *a = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (a == MAP_FAILED)
		return -errno;
	for (off_t off = 0; off < st.st_size; off += page_size)
		sink += a[off];
	(void) sink;
	*c = (struct chunk) { .addr = a, .len = (size_t) st.st_size, .keep = true };
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mib", required_argument, NULL, 'm' },
		{ "pin-block", required_argument, NULL, 'b' },
		{ "pin-range", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'k' },
		{ "max-mib", required_argument, NULL, 'M' },
		{ "chunk-mib", required_argument, NULL, 'c' },
		{ "release-after", required_argument, NULL, 'R' },
		{ "hold", no_argument, NULL, 'H' },
		{ "file", required_argument, NULL, 'f' },
		{ "thp", no_argument, NULL, 't' },
		{ "stride", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	uint64_t mib = 16, max_mib = 1024, chunk_mib = 16, count = 1, release_after = 0;
	bool hold = false, thp = false, release = false;
	const char *file = NULL;
	int c, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		uint64_t v;

		switch (c) {
		case 'm': case 'k': case 'M': case 'c': case 'R': case 'b': case 's':
			if (parse_u64(optarg, &v) < 0) {
				fprintf(stderr, "pinner: bad number '%s'\n", optarg);
				return 2;
			}
			if (c == 'm')
				mib = v;
			else if (c == 'k')
				count = v;
			else if (c == 'M')
				max_mib = v;
			else if (c == 'c')
				chunk_mib = v;
			else if (c == 's')
				stride = v ? v : 1;
			else if (c == 'R') {
				release_after = v;
				release = true;
			} else {
				if (n_targets == MAX_TARGETS) {
					fprintf(stderr, "pinner: too many targets\n");
					return 2;
				}
				targets[n_targets++] = (struct target) { .is_block = true, .block = v };
			}
			break;
		case 'r': {
			char *dash = strchr(optarg, '-');
			uint64_t s, e;

			if (!dash) {
				fprintf(stderr, "pinner: bad range '%s' (START-END)\n", optarg);
				return 2;
			}
			*dash = '\0';
			if (parse_u64(optarg, &s) < 0 || parse_u64(dash + 1, &e) < 0 || e < s) {
				*dash = '-';
				fprintf(stderr, "pinner: bad range '%s'\n", optarg);
				return 2;
			}
			if (n_targets == MAX_TARGETS) {
				fprintf(stderr, "pinner: too many targets\n");
				return 2;
			}
			targets[n_targets++] = (struct target) { .start = s, .end = e };
			break;
		}
		case 'H':
			hold = true;
			break;
		case 'f':
			file = optarg;
			break;
		case 't':
			thp = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || count == 0 || chunk_mib == 0 || count * n_targets > MAX_PINS) {
		usage(stderr);
		return 2;
	}
	if (max_mib < mib)
		max_mib = mib;

	r = read_block_size(&block_size);
	if (r < 0) {
		fprintf(stderr, "pinner: cannot read the memory block size: %s\n", strerror(-r));
		return 1;
	}
	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0) {
		fprintf(stderr, "pinner: /proc/self/pagemap: %m\n");
		return 1;
	}

	/* The base allocation: the workload, kept whatever is pinned in it. */
	uint64_t allocated = 0;
	while (allocated < mib) {
		uint64_t len = mib - allocated < chunk_mib ? mib - allocated : chunk_mib;
		struct chunk *ch;

		r = alloc_chunk(len * (1 << 20), thp, &ch);
		if (r < 0) {
			fprintf(stderr, "pinner: cannot allocate %" PRIu64 " MiB: %s\n", len, strerror(-r));
			return 1;
		}
		ch->keep = true;
		allocated += len;
	}
	{
		uint64_t pfn;

		if (n_chunks > 0 && pfn_of(chunks[0].addr, &pfn) == 0 && pfn == 0) {
			fprintf(stderr, "pinner: pagemap shows no PFNs (needs CAP_SYS_ADMIN)\n");
			return 1;
		}
	}
	for (size_t i = 0; i < n_chunks; i++) {
		r = scan(&chunks[i], (unsigned) count, false);
		if (r < 0)
			return 1;
	}

	if (file) {
		struct chunk fc;

		r = map_file(file, &fc);
		if (r < 0) {
			fprintf(stderr, "pinner: cannot map %s: %s\n", file, strerror(-r));
			return 1;
		}
		r = scan(&fc, (unsigned) count, true);
		if (r < 0)
			return 1;
	}

	/* Search further, bounded, for the targets still short of pages. */
	while (!all_found((unsigned) count) && allocated < max_mib) {
		uint64_t len = max_mib - allocated < chunk_mib ? max_mib - allocated : chunk_mib;
		struct chunk *ch;

		r = alloc_chunk(len * (1 << 20), thp, &ch);
		if (r < 0) {
			fprintf(stderr, "pinner: cannot allocate more (%" PRIu64 " MiB so far): %s\n",
				allocated, strerror(-r));
			break;
		}
		allocated += len;
		r = scan(ch, (unsigned) count, false);
		if (r < 0)
			return 1;
	}
	if (!hold)
		for (size_t i = 0; i < n_chunks; i++)
			if (!chunks[i].keep) {
				munmap(chunks[i].addr, chunks[i].len);
				chunks[i].len = 0;
			}

	bool missing = false;
	for (unsigned i = 0; i < n_targets; i++) {
		char name[96];

		target_name(&targets[i], name, sizeof(name));
		if (targets[i].found == 0) {
			printf("NOTFOUND target=%s allocated_mib=%" PRIu64 "\n", name, allocated);
			fprintf(stderr, "pinner: no page of %s among %" PRIu64 " MiB allocated\n",
				name, allocated);
			missing = true;
		} else if (targets[i].found < count)
			printf("SHORT target=%s found=%u wanted=%" PRIu64 "\n", name, targets[i].found, count);
	}
	if (missing)
		return 3;

	printf("READY\n");
	if (release) {
		sleep((unsigned) release_after);
		for (unsigned i = 0; i < n_pipes; i++) {
			close(pipes[i][0]);
			close(pipes[i][1]);
		}
		n_pipes = 0;
		printf("RELEASED\n");
	}
	for (;;)
		pause();
}
