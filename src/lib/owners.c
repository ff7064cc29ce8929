/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "kpageflags.h"

#include "owners.h"
#include "bounded.h"
#include "maps.h"
#include "pagemap.h"
#include "parse.h"
#include "util.h"

#define DEFAULT_MAX_OWNERS 8
#define MAPS_MAX (256u << 20)     /* a maps file longer than this is skipped */
#define CGROUP_MAX (1u << 20)     /* /proc/PID/cgroup: a line a hierarchy */
#define COMM_MAX 64               /* /proc/PID/comm: 16 bytes and a newline */
#define BITMAP_MAX_SPAN (UINT64_C(1) << 24)

/*
 * Memory cgroups: /proc/kpagecgroup names the memory cgroup each page is
 * charged to; processes in that cgroup (or below it: a removed child's pages
 * go to its parent) are the likely owners and are scanned first.
 */
struct memcg_seen {
	char *path;
	bool match;
};

struct memcg {
	int dir_fd;            /* the memory controller's hierarchy (cgroup2, or v1 "memory"), -1: none */
	bool v2;
	uint64_t *inos;        /* of the pages looked for */
	size_t n_inos;
	struct memcg_seen *seen; /* cgroup path -> whether it or an ancestor is one of @inos */
	size_t n_seen, cap_seen;
};

struct scan {
	const struct mo_root *root;
	struct mo_owners *o;
	unsigned max_owners;
	bool exhaustive;
	const volatile sig_atomic_t *cancel;
	uint64_t *sorted;      /* the PFNs, sorted, unique (same order as o->pfns) */
	uint64_t *want;        /* owners wanted per PFN before it counts as done */
	size_t n_todo;
	uint64_t min, max;
	uint64_t *bitmap;      /* over [min, max], or NULL */
	bool want_anon, want_other; /* kinds of pages looked for: anonymous, or not */
	bool no_pagemap_scan;  /* the kernel has no PAGEMAP_SCAN */
	long page_size;
	bool saw_present, saw_pfn;
	unsigned denied;
	struct mo_bounded_worker *worker; /* runs every read of a process's files (bounded.h) */
	struct mo_pagemap_walk *walk; /* its pagemap's (NULL after a step was abandoned) */
	/* the process being scanned */
	pid_t pid;
	char comm[17];
	bool have_comm;
	char *cgroup;
	bool have_cgroup;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

	return x < y ? -1 : x > y;
}

const struct mo_pfn_owners *mo_owners_find(const struct mo_owners *o, uint64_t pfn)
{
	size_t lo = 0, hi = o ? o->n : 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (o->pfns[mid].pfn == pfn)
			return &o->pfns[mid];
		if (o->pfns[mid].pfn < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

void mo_owners_free(struct mo_owners *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->n; i++) {
		struct mo_pfn_owners *p = &o->pfns[i];

		for (size_t j = 0; j < p->n_owners; j++) {
			free(p->owners[j].mapping);
			free(p->owners[j].cgroup);
		}
		free(p->owners);
	}
	free(o->pfns);
	free(o);
}

/* Read a whole file of a process (relative to proc/), within the bound (bounded.h). */
static int read_proc_file(const struct scan *s, const char *rel, size_t max, char **ret)
{
	return mo_root_read_file_bounded(s->worker, s->root, true, rel, max, MO_BOUNDED_TIMEOUT_USEC, s->cancel, ret,
					 NULL);
}

static void read_comm(struct scan *s)
{
	_cleanup_free_ char *text = NULL;
	char rel[64];
	size_t n;

	if (s->have_comm)
		return;
	s->have_comm = true;
	snprintf(rel, sizeof(rel), "%d/comm", (int) s->pid);
	if (read_proc_file(s, rel, COMM_MAX, &text) < 0) {
		snprintf(s->comm, sizeof(s->comm), "?");
		return;
	}
	n = strlen(text);
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\t'))
		n--;
	snprintf(s->comm, sizeof(s->comm), "%.*s", (int) n, text);
}

/* The cgroup paths in a /proc/PID/cgroup: lines "ID:CONTROLLERS:PATH". */
struct proc_cgroups {
	const char *v2;       /* cgroup2's line, "0::PATH" */
	const char *memory;   /* the line of the v1 memory controller */
	const char *first;
};

/* Read /proc/@pid/cgroup into *@text (cut in place) and find its paths. */
static int read_proc_cgroups(const struct scan *s, pid_t pid, char **text, struct proc_cgroups *c)
{
	char rel[64], *line, *save = NULL;
	int r;

	*c = (struct proc_cgroups) {};
	snprintf(rel, sizeof(rel), "%d/cgroup", (int) pid);
	r = read_proc_file(s, rel, CGROUP_MAX, text);
	if (r < 0)
		return r;
	for (line = strtok_r(*text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *c1 = strchr(line, ':'), *c2, *tok, *s2 = NULL;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			continue;
		*c1 = *c2 = '\0';
		if (!c->first)
			c->first = c2 + 1;
		if (streq(line, "0") && c1[1] == '\0') {
			if (!c->v2)
				c->v2 = c2 + 1;
			continue;
		}
		/* a whole word of the comma-separated controllers */
		for (tok = strtok_r(c1 + 1, ",", &s2); tok && !c->memory; tok = strtok_r(NULL, ",", &s2))
			if (streq(tok, "memory"))
				c->memory = c2 + 1;
	}
	return 0;
}

/* The cgroup of the process: cgroup2's, else the v1 memory controller's, else the first. */
static void read_cgroup(struct scan *s)
{
	_cleanup_free_ char *text = NULL;
	struct proc_cgroups c;
	const char *best;

	if (s->have_cgroup)
		return;
	s->have_cgroup = true;
	if (read_proc_cgroups(s, s->pid, &text, &c) < 0)
		return;
	best = c.v2 ? c.v2 : c.memory ? c.memory : c.first;
	if (best)
		s->cgroup = strdup(best);
}

static int add_owner(struct scan *s, size_t idx, const struct mo_mapping *r, uint64_t vaddr, uint64_t entry)
{
	struct mo_pfn_owners *p = &s->o->pfns[idx];
	struct mo_owner *w;

	p->n_found++;
	if (p->n_found == s->want[idx] && s->n_todo > 0)
		s->n_todo--;
	if (p->n_owners >= s->max_owners)
		return 0;
	if (!p->owners) {
		p->owners = calloc(s->max_owners, sizeof(*p->owners));
		if (!p->owners)
			return -ENOMEM;
	}
	read_comm(s);
	read_cgroup(s);
	w = &p->owners[p->n_owners];
	*w = (struct mo_owner) {
		.pid = s->pid,
		.vaddr = vaddr,
		.kind = mo_owners_classify_mapping(r->path, r->shared),
		.file_offset = r->offset + (vaddr - r->start),
		.exclusive = entry & MO_PM_EXCLUSIVE,
		.file_shared = entry & MO_PM_FILE,
	};
	memcpy(w->comm, s->comm, sizeof(w->comm));
	w->mapping = strdup(*r->path ? r->path : "[anon]");
	if (!w->mapping)
		return -ENOMEM;
	if (s->cgroup) {
		w->cgroup = strdup(s->cgroup);
		if (!w->cgroup)
			return -ENOMEM;
	}
	p->n_owners++;
	return 0;
}

static inline bool maybe_target(const struct scan *s, uint64_t pfn)
{
	uint64_t off;

	if (pfn < s->min || pfn > s->max)
		return false;
	if (!s->bitmap)
		return true;
	off = pfn - s->min;
	return s->bitmap[off / 64] & (UINT64_C(1) << (off % 64));
}

static ssize_t find_index(const struct scan *s, uint64_t pfn)
{
	size_t lo = 0, hi = s->o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->sorted[mid] == pfn)
			return (ssize_t) mid;
		if (s->sorted[mid] < pfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static void walk_free(void *p)
{
	mo_pagemap_walk_free(p);
}

/*
 * The mappings @ranges of the process in s->pid, whose pagemap is @fd
 * (taken), a bounded step at a time. Return: 1 when every PFN has all its
 * owners (stop), 0 to go on; -ETIMEDOUT or -EBUSY when the process is stuck
 * (bounded.h); -ECANCELED; -ENOMEM or another negative errno.
 */
static int scan_mappings(struct scan *s, int fd, const struct mo_mapping *ranges, size_t n_ranges)
{
	int r;

	if (!s->walk) {
		r = mo_pagemap_walk_new(s->page_size, &s->walk);
		if (r < 0) {
			close(fd);
			return r;
		}
	}
	mo_pagemap_walk_reset(s->walk, fd, s->min, s->max);
	s->walk->no_scan = s->no_pagemap_scan;
	for (size_t i = 0; i < n_ranges; i++) {
		/* a mapping that cannot hold the kinds of page looked for */
		if (!s->want_anon && mo_mapping_anon_only(&ranges[i]))
			continue;
		if (!s->want_other && ranges[i].shared)
			continue;
		r = mo_pagemap_walk_add(s->walk, ranges[i].start, ranges[i].end, (uint32_t) i);
		if (r < 0)
			return r;
	}
	for (;;) {
		const struct mo_pagemap_walk *w;

		r = mo_bounded_call(s->worker, mo_pagemap_walk_step, s->walk, walk_free, MO_BOUNDED_TIMEOUT_USEC,
				    s->cancel);
		if (r == -ETIMEDOUT || r == -ECANCELED)
			s->walk = NULL; /* its helper frees it */
		if (r < 0)
			return r;
		w = s->walk;
		s->no_pagemap_scan = w->no_scan;
		s->saw_present |= w->saw_present;
		s->saw_pfn |= w->saw_pfn;
		for (size_t i = 0; i < w->n_hits; i++) {
			const struct mo_pagemap_hit *h = &w->hits[i];
			uint64_t pfn = h->entry & MO_PM_PFN_MASK;
			ssize_t idx;

			if (!maybe_target(s, pfn))
				continue;
			idx = find_index(s, pfn);
			if (idx < 0)
				continue;
			r = add_owner(s, (size_t) idx, &ranges[h->range], h->vaddr, h->entry);
			if (r < 0)
				return r;
			if (s->n_todo == 0 && !s->exhaustive)
				return 1;
		}
		if (w->done)
			return 0;
	}
}

/* The memory cgroup path of a process (v2: "0::/path"; v1: the memory controller's line). */
static char *memcg_path_of(const struct scan *s, pid_t pid, bool v2)
{
	_cleanup_free_ char *text = NULL;
	struct proc_cgroups c;
	const char *path;

	if (read_proc_cgroups(s, pid, &text, &c) < 0)
		return NULL;
	path = v2 ? c.v2 : c.memory;
	return path && path[0] == '/' ? strdup(path) : NULL;
}

static bool memcg_has_ino(const struct memcg *mc, uint64_t ino)
{
	for (size_t i = 0; i < mc->n_inos; i++)
		if (mc->inos[i] == ino)
			return true;
	return false;
}

/* Whether cgroup @path (absolute in the hierarchy) or an ancestor of it holds the pages. */
static bool memcg_match(struct memcg *mc, const char *path)
{
	_cleanup_free_ char *p = NULL;
	bool match = false;

	for (size_t i = 0; i < mc->n_seen; i++)
		if (streq(mc->seen[i].path, path))
			return mc->seen[i].match;
	p = strdup(path);
	if (!p)
		return true; /* cannot tell: scan it */
	for (;;) {
		struct stat st;
		char *slash;

		if (fstatat(mc->dir_fd, p[1] ? p + 1 : ".", &st, 0) == 0 && memcg_has_ino(mc, (uint64_t) st.st_ino)) {
			match = true;
			break;
		}
		slash = strrchr(p, '/');
		if (!slash || slash == p) {
			if (!p[1])
				break;
			p[1] = '\0'; /* the root last */
			continue;
		}
		*slash = '\0';
	}
	if (mc->n_seen == mc->cap_seen) {
		size_t ncap = mc->cap_seen ? mc->cap_seen * 2 : 16;
		struct memcg_seen *nv = reallocarray(mc->seen, ncap, sizeof(*nv));

		if (!nv)
			return match;
		mc->seen = nv;
		mc->cap_seen = ncap;
	}
	mc->seen[mc->n_seen].path = strdup(path);
	if (mc->seen[mc->n_seen].path) {
		mc->seen[mc->n_seen].match = match;
		mc->n_seen++;
	}
	return match;
}

static void memcg_done(struct memcg *mc)
{
	if (mc->dir_fd >= 0)
		close(mc->dir_fd);
	for (size_t i = 0; i < mc->n_seen; i++)
		free(mc->seen[i].path);
	free(mc->seen);
	free(mc->inos);
	*mc = (struct memcg) { .dir_fd = -1 };
}

/* Whether the cgroup2 hierarchy at <sys>/@rel has the memory controller. */
static bool v2_has_memory(const struct mo_root *root, const char *rel)
{
	char path[64], buf[512];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/cgroup.controllers", rel);
	n = mo_root_read(root, false, path, buf, sizeof(buf));
	if (n <= 0)
		return false;
	for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n"))
		if (streq(tok, "memory"))
			return true;
	return false;
}

/* Where the memory cgroups are, and the cgroups of the pages still looked for. */
static void memcg_open(const struct mo_root *root, const struct scan *s, struct memcg *mc)
{
	static const char *const v2_dirs[] = { "fs/cgroup", "fs/cgroup/unified" };
	const struct mo_owners *o = s->o;

	*mc = (struct memcg) { .dir_fd = -1 };
	for (size_t i = 0; i < ARRAY_SIZE(v2_dirs) && mc->dir_fd < 0; i++)
		if (v2_has_memory(root, v2_dirs[i])) {
			mc->dir_fd = mo_root_open(root, false, v2_dirs[i], O_RDONLY | O_DIRECTORY);
			mc->v2 = true;
		}
	if (mc->dir_fd < 0) {
		mc->dir_fd = mo_root_open(root, false, "fs/cgroup/memory", O_RDONLY | O_DIRECTORY);
		mc->v2 = false;
	}
	if (mc->dir_fd < 0) {
		mc->dir_fd = -1;
		return;
	}
	mc->inos = calloc(o->n, sizeof(*mc->inos));
	if (!mc->inos) {
		memcg_done(mc);
		return;
	}
	for (size_t i = 0; i < o->n; i++) {
		const struct mo_pfn_owners *p = &o->pfns[i];

		if (s->want[i] == 0)
			continue;
		/* a page without a memory cgroup (kernel, or memcg off): no pruning */
		if (!p->have_memcg || p->memcg_ino == 0) {
			memcg_done(mc);
			return;
		}
		if (!memcg_has_ino(mc, p->memcg_ino))
			mc->inos[mc->n_inos++] = p->memcg_ino;
	}
}

static int scan_pid(struct scan *s, pid_t pid)
{
	_cleanup_free_ char *maps = NULL;
	_cleanup_free_ struct mo_mapping *ranges = NULL;
	_cleanup_close_ int pm_fd = -1;
	size_t n_ranges = 0;
	char rel[64];
	int r;

	s->pid = pid;
	s->have_comm = s->have_cgroup = false;
	free(s->cgroup);
	s->cgroup = NULL;

	snprintf(rel, sizeof(rel), "%d/maps", (int) pid);
	/* It waits for the process's mmap_lock: bounded, a stuck process is skipped (bounded.h). */
	r = mo_root_read_file_bounded(s->worker, s->root, true, rel, MAPS_MAX, MO_BOUNDED_TIMEOUT_USEC, s->cancel, &maps,
				      NULL);
	if (r == -ENOMEM || r == -ECANCELED)
		return r;
	if (r < 0) {
		if (r == -EACCES || r == -EPERM)
			s->denied++;
		s->o->procs_skipped++;
		return 0;
	}
	r = mo_maps_parse(maps, &ranges, &n_ranges);
	if (r < 0)
		return r;
	if (n_ranges == 0)
		return 0; /* a kernel thread, or nothing mapped */

	snprintf(rel, sizeof(rel), "%d/pagemap", (int) pid);
	pm_fd = mo_root_open_bounded(s->worker, s->root, true, rel, O_RDONLY, MO_BOUNDED_TIMEOUT_USEC, s->cancel);
	if (pm_fd == -ENOMEM || pm_fd == -ECANCELED)
		return pm_fd;
	if (pm_fd < 0) {
		if (pm_fd == -EACCES || pm_fd == -EPERM)
			s->denied++;
		s->o->procs_skipped++;
		return 0;
	}
	r = scan_mappings(s, TAKE_FD(pm_fd), ranges, n_ranges);
	if (s->walk)
		mo_pagemap_walk_reset(s->walk, -1, 0, 0); /* its descriptor closed */
	if (r == -ENOMEM || r == -ECANCELED)
		return r;
	if (r < 0) {
		/* stuck (bounded.h): what was found stays, the rest of the process is skipped */
		s->o->procs_skipped++;
		return 0;
	}
	s->o->procs_scanned++;
	return r;
}

/* A /proc entry that is a process: "1", "4242", not "0", "01" or "self". */
static bool parse_pid(const char *name, pid_t *ret)
{
	uint64_t v;

	if (mo_parse_u64(name, 10, &v) < 0 || v == 0 || v > INT32_MAX)
		return false;
	*ret = (pid_t) v;
	return true;
}

/* kpageflags, kpagecount and kpagecgroup of every PFN, in runs of consecutive PFNs. */
static void read_page_info(const struct mo_root *root, struct mo_owners *o)
{
	static const char *const files[] = { "kpageflags", "kpagecount", "kpagecgroup" };

	for (size_t f = 0; f < ARRAY_SIZE(files); f++) {
		_cleanup_close_ int fd = mo_root_open(root, true, files[f], O_RDONLY);
		uint64_t buf[512];

		if (fd < 0)
			continue;
		for (size_t i = 0; i < o->n;) {
			size_t run = 1;
			ssize_t n;

			while (i + run < o->n && run < ARRAY_SIZE(buf) && o->pfns[i + run].pfn == o->pfns[i].pfn + run)
				run++;
			n = pread(fd, buf, run * sizeof(uint64_t), (off_t) (o->pfns[i].pfn * sizeof(uint64_t)));
			for (size_t j = 0; n > 0 && j < (size_t) n / sizeof(uint64_t); j++) {
				struct mo_pfn_owners *p = &o->pfns[i + j];

				switch (f) {
				case 0:
					p->kpageflags = buf[j];
					p->have_kpageflags = true;
					break;
				case 1:
					p->mapcount = buf[j];
					p->have_mapcount = true;
					break;
				default:
					p->memcg_ino = buf[j];
					p->have_memcg = true;
					break;
				}
			}
			i += run;
		}
	}
}

/*
 * Every process: those in the memory cgroups of the pages first (when the
 * cgroups are known), the others only while some page still lacks an owner.
 * Return as scan_pid(), 1 when it stopped early.
 */
static int scan_all(const struct mo_root *root, struct scan *s, unsigned *deferred)
{
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ pid_t *later = NULL;
	size_t n_later = 0, cap = 0;
	struct memcg mc;
	struct dirent *de;
	int r;

	r = mo_root_opendir(root, true, ".", &d);
	if (r < 0)
		return r;
	memcg_open(root, s, &mc);
	while ((de = readdir(d))) {
		_cleanup_free_ char *cg = NULL;
		pid_t pid;

		if (!parse_pid(de->d_name, &pid))
			continue;
		if (s->cancel && *s->cancel) {
			r = -ECANCELED;
			break;
		}
		if (mc.n_inos > 0 && !s->exhaustive) {
			cg = memcg_path_of(s, pid, mc.v2);
			if (cg && !memcg_match(&mc, cg)) {
				/* another cgroup: later, if at all */
				if (n_later == cap) {
					size_t ncap = cap ? cap * 2 : 64;
					pid_t *nv = reallocarray(later, ncap, sizeof(*nv));

					if (!nv) {
						r = -ENOMEM;
						break;
					}
					later = nv;
					cap = ncap;
				}
				later[n_later++] = pid;
				continue;
			}
		}
		r = scan_pid(s, pid);
		if (r != 0)
			break;
	}
	memcg_done(&mc);
	*deferred = (unsigned) n_later;
	for (size_t i = 0; r == 0 && i < n_later; i++)
		r = s->cancel && *s->cancel ? -ECANCELED : scan_pid(s, later[i]);
	return r;
}

int mo_owners_resolve(const struct mo_root *root, const uint64_t *pfns, size_t n_pfns,
		      const struct mo_owners_opts *opts, struct mo_owners **ret)
{
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	_cleanup_free_ uint64_t *sorted = NULL, *want = NULL, *bitmap = NULL;
	_cleanup_free_ struct scan *s = NULL;
	_cleanup_(mo_bounded_worker_freep) struct mo_bounded_worker *worker = NULL;
	size_t n = 0;
	int r = 0;

	if (root->proc_fd < 0)
		return -ENOENT;
	o = calloc(1, sizeof(*o));
	s = calloc(1, sizeof(*s));
	if (!o || !s || mo_bounded_worker_new(&worker) < 0)
		return -ENOMEM;
	if (n_pfns > 0) {
		sorted = malloc(n_pfns * sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		memcpy(sorted, pfns, n_pfns * sizeof(*sorted));
		qsort(sorted, n_pfns, sizeof(*sorted), cmp_u64);
		for (size_t i = 0; i < n_pfns; i++)
			if (n == 0 || sorted[n - 1] != sorted[i])
				sorted[n++] = sorted[i];
		o->pfns = calloc(n, sizeof(*o->pfns));
		want = calloc(n, sizeof(*want));
		if (!o->pfns || !want)
			return -ENOMEM;
	}
	o->n = n;
	for (size_t i = 0; i < n; i++)
		o->pfns[i].pfn = sorted[i];
	if (n == 0) {
		*ret = TAKE_PTR(o);
		return 0;
	}

	read_page_info(root, o);

	*s = (struct scan) {
		.root = root,
		.o = o,
		.max_owners = opts && opts->max_owners ? opts->max_owners : DEFAULT_MAX_OWNERS,
		.exhaustive = opts && opts->exhaustive,
		.cancel = opts ? opts->cancel : NULL,
		.sorted = sorted,
		.want = want,
		.min = sorted[0],
		.max = sorted[n - 1],
		.page_size = sysconf(_SC_PAGESIZE),
		.worker = worker,
	};
	for (size_t i = 0; i < n; i++) {
		/* kpagecount says how many mappings to look for; unknown: one */
		want[i] = o->pfns[i].have_mapcount ? o->pfns[i].mapcount : 1;
		if (want[i] > 0)
			s->n_todo++;
	}
	if (s->max - s->min < BITMAP_MAX_SPAN) {
		uint64_t span = s->max - s->min + 1;

		bitmap = calloc((size_t) (span + 63) / 64, sizeof(uint64_t));
		if (bitmap) {
			for (size_t i = 0; i < n; i++) {
				uint64_t off = sorted[i] - s->min;

				bitmap[off / 64] |= UINT64_C(1) << (off % 64);
			}
			s->bitmap = bitmap;
		}
	}

	if (s->n_todo == 0 && !s->exhaustive)
		goto done; /* nothing mapped: the flags say it all */

	/* the kinds of page looked for: a mapping that cannot hold them is not read */
	for (size_t i = 0; i < n; i++) {
		const struct mo_pfn_owners *p = &o->pfns[i];

		if (want[i] == 0 && !s->exhaustive)
			continue;
		if (!p->have_kpageflags)
			s->want_anon = s->want_other = true;
		else if (p->kpageflags & (MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_KSM)))
			s->want_anon = true;
		else
			s->want_other = true;
	}

	if (opts && opts->pid > 0) {
		r = scan_pid(s, opts->pid);
	} else {
		r = scan_all(root, s, &o->procs_deferred);
	}
	free(s->cgroup);
	s->cgroup = NULL;
	mo_pagemap_walk_free(TAKE_PTR(s->walk));
	if (r < 0)
		return r;
	o->stopped_early = r > 0;

	/* pagemap hid every PFN: no CAP_SYS_ADMIN */
	if (s->saw_present && !s->saw_pfn)
		return -EPERM;
	if (o->procs_scanned == 0 && s->denied > 0)
		return -EPERM;
done:
	*ret = TAKE_PTR(o);
	return 0;
}
