/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * owners-rate: what owner resolution (owners.h) costs against the raw cost of
 * reading every process's pagemap once, on the running machine (read-only,
 * needs root for PFNs).
 *
 * One raw round reads, for every process, /proc/PID/maps and the pagemap
 * words of every mapped range owners.c scans (64 KiB preads), and throws
 * them away: the kernel's cost of producing the page tables' view. One
 * owners round resolves N PFNs with mo_owners_resolve(), exhaustive (no early
 * stop), so that it also reads every process. The PFNs are pages this
 * process maps (its own memory, touched), so every round finds them. Rounds
 * alternate; medians are compared. Target: owners <= 2x raw.
 *
 * Usage: owners-rate [ROUNDS] [N_PFNS]
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>

#include "owners.h"
#include "root.h"
#include "util.h"

#include "bench-stat.h"

#define CHUNK (64 * 1024)
#define TARGET 2.0

static char *slurp(int dfd, const char *rel, size_t *len)
{
	int fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(cap);
	for (;;) {
		ssize_t k;

		if (!buf)
			break;
		if (cap - n < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		k = read(fd, buf + n, cap - n - 1);
		if (k <= 0)
			break;
		n += (size_t) k;
	}
	close(fd);
	if (buf)
		buf[n] = '\0';
	*len = n;
	return buf;
}

/* One raw round. Return: seconds; *procs and *words say what was read. */
static double raw_round(uint64_t *procs, uint64_t *words)
{
	static uint64_t buf[CHUNK / sizeof(uint64_t)];
	long ps = sysconf(_SC_PAGESIZE);
	double t0 = bench_now();
	DIR *d = opendir("/proc");
	struct dirent *de;

	*procs = *words = 0;
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		char rel[300], *maps, *line;
		size_t len;
		int pm;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(rel, sizeof(rel), "%s/maps", de->d_name);
		maps = slurp(dirfd(d), rel, &len);
		if (!maps)
			continue;
		snprintf(rel, sizeof(rel), "%s/pagemap", de->d_name);
		pm = len ? openat(dirfd(d), rel, O_RDONLY | O_CLOEXEC) : -1;
		if (pm < 0) {
			free(maps);
			continue;
		}
		(*procs)++;
		for (line = maps; line && *line;) {
			char *eol = strchr(line, '\n'), perms[8] = "";
			unsigned long long start, end;

			if (sscanf(line, "%llx-%llx %7s", &start, &end, perms) == 3 && end > start &&
			    start < (1ULL << 63) && strncmp(perms, "---", 3) != 0) {
				uint64_t first = start / (uint64_t) ps, last = (end - 1) / (uint64_t) ps;

				for (uint64_t p = first; p <= last;) {
					uint64_t want = last - p + 1;
					ssize_t k;

					if (want > ARRAY_SIZE(buf))
						want = ARRAY_SIZE(buf);
					k = pread(pm, buf, want * 8, (off_t) (p * 8));
					if (k <= 0)
						break;
					*words += (uint64_t) k / 8;
					p += (uint64_t) k / 8;
				}
			}
			line = eol ? eol + 1 : NULL;
		}
		close(pm);
		free(maps);
	}
	closedir(d);
	return bench_now() - t0;
}

int main(int argc, char *argv[])
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	int rounds = argc > 1 ? atoi(argv[1]) : 7;
	size_t n = argc > 2 ? (size_t) strtoul(argv[2], NULL, 10) : 64;
	long ps = sysconf(_SC_PAGESIZE);
	double *raw, *own;
	uint64_t *pfns, procs = 0, words = 0;
	struct mo_owners_opts opts = { .exhaustive = true };
	char *mem;
	int fd, r;

	if (rounds < 1 || n < 1) {
		fprintf(stderr, "usage: owners-rate [ROUNDS] [N_PFNS]\n");
		return 2;
	}
	/* N pages of our own, touched, and their PFNs */
	mem = mmap(NULL, n * (size_t) ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	pfns = calloc(n, sizeof(*pfns));
	raw = calloc((size_t) rounds, sizeof(double));
	own = calloc((size_t) rounds, sizeof(double));
	if (mem == MAP_FAILED || !pfns || !raw || !own)
		return 1;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	for (size_t i = 0; i < n; i++) {
		uint64_t e = 0;

		mem[i * (size_t) ps] = 1;
		if (fd < 0 || pread(fd, &e, 8, (off_t) ((uintptr_t) (mem + i * (size_t) ps) / (uintptr_t) ps * 8)) != 8)
			e = 0;
		pfns[i] = e & ((UINT64_C(1) << 55) - 1);
	}
	if (fd >= 0)
		close(fd);
	if (pfns[0] == 0) {
		printf("owners-rate: SKIP: /proc/PID/pagemap shows no PFNs (needs CAP_SYS_ADMIN)\n");
		return 0;
	}
	r = mo_root_new("/", NULL, &root);
	if (r < 0) {
		fprintf(stderr, "owners-rate: %s\n", strerror(-r));
		return 1;
	}

	for (int i = 0; i < rounds; i++) {
		_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
		double t0;

		raw[i] = raw_round(&procs, &words);
		t0 = bench_now();
		r = mo_owners_resolve(root, pfns, n, &opts, &o);
		own[i] = bench_now() - t0;
		if (r < 0) {
			fprintf(stderr, "owners-rate: %s\n", strerror(-r));
			return 1;
		}
		for (size_t k = 0; k < n; k++)
			if (mo_owners_find(o, pfns[k])->n_found < 1) {
				fprintf(stderr, "owners-rate: PFN 0x%" PRIx64 " not found\n", pfns[k]);
				return 1;
			}
	}
	{
		double mr = bench_median(raw, rounds), mo = bench_median(own, rounds), ratio = mo / mr;

		printf("owners-rate: %" PRIu64 " processes, %" PRIu64 " pagemap words (%.0f MiB mapped), "
		       "%zu PFNs, %d rounds\n",
		       procs, words, (double) words * (double) ps / (1 << 20), n, rounds);
		printf("owners-rate: raw maps+pagemap read %.1f ms, owner resolution %.1f ms (medians)\n",
		       mr * 1e3, mo * 1e3);
		printf("owners-rate: ratio %.2f (target <= %.1f): %s\n", ratio, TARGET,
		       ratio <= TARGET ? "ok" : "ABOVE TARGET");
		return ratio <= TARGET ? 0 : 1;
	}
}
