/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The page census: classify every PFN of a range from /proc/kpageflags.
 *
 * How a page is classified (first match wins), from the kernel's
 * stable_page_flags() (fs/proc/page.c) and offline_pages():
 *
 *   no flag at all        noflags   see below
 *   NOPAGE                nopage    no struct page, or an offline section
 *   BUDDY                 free      the kernel sets BUDDY on every page of a
 *                                   free buddy chunk (head: PageBuddy; the
 *                                   others through is_free_buddy_page())
 *   HUGE                  hugetlb   in use when mapped, anonymous or dirty
 *                                   (hugetlbfs page cache is kept dirty and
 *                                   cleaned when the page leaves the file);
 *                                   otherwise a free pool page: free
 *   OFFLINE               offline   ballooned / logically offline
 *   SLAB                  slab
 *   PGTABLE               pgtable
 *   RESERVED              reserved  memblock, zero page, firmware
 *   ANON or SWAPCACHE     anon      also while isolated off the LRU
 *   LRU                   file      page cache, shmem, tmpfs
 *   anything else         other     kernel allocations with some flag
 *
 * Compound pages: a tail page (COMPOUND_TAIL) takes the class and the
 * folio-wide attributes (dirty, writeback, THP) of its head. Kernels before
 * 6.10 report a tail's own page->flags (no LRU, no DIRTY), later ones the
 * folio's; inheriting from the head gives the same answer on both. When a
 * range starts inside a compound page, the head is looked up before it.
 *
 * Pages with no flag at all (kpageflags reads 0, so kpagecount is 0 too):
 * not in the buddy allocator, not mapped, not on an LRU list, not slab. On a
 * stock kernel they are pages on the per-CPU free lists (offline_pages()
 * drains those: free in effect) or kernel allocations that carry no flag
 * (vmalloc backing pages, kernel stacks, driver buffers: unmovable). Some
 * kernels also count memory as free that they have not yet handed to the
 * buddy allocator, and it reads 0 as well: on the development host (6.18,
 * 24 GiB), 81% of all PFNs read 0, the BUDDY pages matched the buddy
 * allocator's free count (/proc/zoneinfo "pages free"), and BUDDY + zero
 * pages came within 2% of MemFree. The census cannot tell these cases
 * apart, so it counts them as their own class, noflags, neither movable nor
 * unmovable, with a small cost. In a ZONE_MOVABLE block the kernel places no
 * unmovable allocation, so they are free there; callers deciding about other
 * zones should treat noflags > 0 as a risk.
 *
 * Cost, in page-equivalents (weights in census.h):
 *   anon, file          1 per page (one copy)
 *   hugetlb             2 per page (needs a free huge page elsewhere, and the
 *                       allocation of one may fail)
 *   dirty / writeback   +3 (a file page without ->migrate_folio is written
 *                       back first; writeback must finish)
 *   mapped (KPF_MMAP)   +1 (rmap walk, unmap, remap)
 *   shared              +1 per mapping beyond the first, up to 15 (only with
 *                       mo_census_reader_set_mapcount())
 *   noflags             1 per page
 *   unmovable           2^32 per page: any unmovable page dominates the cost
 *   free, nopage        0
 * THP pages cost by size like any other page (a 2 MiB THP is 512 copies).
 * The cost saturates at UINT64_MAX.
 */
#include "config.h"

#include <fcntl.h>

#include "census.h"
#include "util.h"

#define KPAGEFLAGS "kpageflags"
#define KPAGECOUNT "kpagecount"

/* 64 KiB of kpageflags per pread: the kernel's cost dominates above ~4 KiB. */
#define CHUNK_PFNS 8192
/* How far back a head page is looked for: a 1 GiB page of 4 KiB pages. */
#define MAX_LOOKBACK_PFNS (UINT64_C(1) << 18)
/* The largest PFN whose byte offset in kpageflags fits an off_t. */
#define MAX_PFN (UINT64_C(1) << 60)

enum page_class {
	PC_NOFLAGS,
	PC_NOPAGE,
	PC_FREE,
	PC_ANON,
	PC_FILE,
	PC_HUGETLB,
	PC_RESERVED,
	PC_SLAB,
	PC_PGTABLE,
	PC_OFFLINE,
	PC_OTHER,
	_PC_MAX,
};

struct mo_census_reader {
	int flags_fd;
	int count_fd;       /* -1 when kpagecount could not be opened */
	bool mapcount;      /* read kpagecount in mo_census_read() */
	uint64_t *buf;      /* CHUNK_PFNS kpageflags words */
	uint64_t *counts;   /* CHUNK_PFNS kpagecount words (with mapcount) */
	uint64_t *back;     /* CHUNK_PFNS words for looking back for a head */
};

/* Where the walk is: inside a compound page whose head said head_flags. */
struct walk {
	bool in_compound;
	enum page_class head_cls;
	uint64_t head_flags;
};

/* Attributes that belong to the whole folio and that tails inherit. */
#define FOLIO_ATTRS (MO_KPF(MO_KPF_DIRTY) | MO_KPF(MO_KPF_WRITEBACK) | MO_KPF(MO_KPF_THP))

int mo_census_reader_new(const struct mo_root *root, struct mo_census_reader **ret)
{
	struct mo_census_reader *r;
	int fd;

	fd = mo_root_open(root, true, KPAGEFLAGS, O_RDONLY);
	if (fd < 0)
		return fd;
	r = calloc(1, sizeof(*r));
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->flags_fd = fd;
	r->count_fd = mo_root_open(root, true, KPAGECOUNT, O_RDONLY);
	if (r->count_fd < 0)
		r->count_fd = -1;
	r->buf = malloc(CHUNK_PFNS * sizeof(uint64_t));
	r->back = malloc(CHUNK_PFNS * sizeof(uint64_t));
	if (!r->buf || !r->back) {
		mo_census_reader_free(r);
		return -ENOMEM;
	}
	*ret = r;
	return 0;
}

void mo_census_reader_free(struct mo_census_reader *r)
{
	if (!r)
		return;
	if (r->flags_fd >= 0)
		close(r->flags_fd);
	if (r->count_fd >= 0)
		close(r->count_fd);
	free(r->buf);
	free(r->counts);
	free(r->back);
	free(r);
}

int mo_census_reader_set_mapcount(struct mo_census_reader *r, bool on)
{
	if (!on) {
		r->mapcount = false;
		return 0;
	}
	if (r->count_fd < 0)
		return -ENOENT;
	if (!r->counts) {
		r->counts = malloc(CHUNK_PFNS * sizeof(uint64_t));
		if (!r->counts)
			return -ENOMEM;
	}
	r->mapcount = true;
	return 0;
}

/*
 * Read @n words of @fd starting at PFN @pfn. Words past the end of the file
 * are filled with @fill. Return: 0 or a negative errno.
 */
static int read_words(int fd, uint64_t pfn, size_t n, uint64_t *buf, uint64_t fill)
{
	size_t want = n * sizeof(uint64_t), got = 0;

	while (got < want) {
		ssize_t k = pread(fd, (char *) buf + got, want - got, (off_t) (pfn * sizeof(uint64_t) + got));

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		got += (size_t) k;
	}
	for (size_t i = got / sizeof(uint64_t); i < n; i++)
		buf[i] = fill;
	return 0;
}

static inline enum page_class classify(uint64_t f)
{
	if (f == 0)
		return PC_NOFLAGS;
	if (f & MO_KPF(MO_KPF_NOPAGE))
		return PC_NOPAGE;
	if (f & MO_KPF(MO_KPF_BUDDY))
		return PC_FREE;
	if (f & MO_KPF(MO_KPF_HUGE))
		return (f & (MO_KPF(MO_KPF_MMAP) | MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_DIRTY))) ? PC_HUGETLB : PC_FREE;
	if (f & MO_KPF(MO_KPF_OFFLINE))
		return PC_OFFLINE;
	if (f & MO_KPF(MO_KPF_SLAB))
		return PC_SLAB;
	if (f & MO_KPF(MO_KPF_PGTABLE))
		return PC_PGTABLE;
	if (f & MO_KPF(MO_KPF_RESERVED))
		return PC_RESERVED;
	if (f & (MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_SWAPCACHE)))
		return PC_ANON;
	if (f & MO_KPF(MO_KPF_LRU))
		return PC_FILE;
	return PC_OTHER;
}

/*
 * The head page of the compound page that PFN @pfn (a tail) belongs to,
 * looked for before @pfn. Return: true and its flags in @ret, or false.
 */
static bool find_head(struct mo_census_reader *r, uint64_t pfn, uint64_t *ret)
{
	uint64_t lowest = pfn > MAX_LOOKBACK_PFNS ? pfn - MAX_LOOKBACK_PFNS : 0;

	while (pfn > lowest) {
		uint64_t n = pfn - lowest < CHUNK_PFNS ? pfn - lowest : CHUNK_PFNS;
		uint64_t start = pfn - n;

		if (read_words(r->flags_fd, start, n, r->back, MO_KPF(MO_KPF_NOPAGE)) < 0)
			return false;
		for (uint64_t i = n; i-- > 0;) {
			uint64_t f = r->back[i];

			if (f & MO_KPF(MO_KPF_COMPOUND_HEAD)) {
				*ret = f;
				return true;
			}
			if (!(f & MO_KPF(MO_KPF_COMPOUND_TAIL)))
				return false;
		}
		pfn = start;
	}
	return false;
}

/*
 * Classify page @pfn with flags @f given where the walk is; @attr receives
 * the flags that describe it (its own, plus the folio attributes of its head).
 */
static inline enum page_class walk_page(struct mo_census_reader *r, struct walk *w, uint64_t pfn, uint64_t f,
					uint64_t *attr)
{
	enum page_class c;

	if (!(f & MO_KPF(MO_KPF_COMPOUND_TAIL))) {
		c = classify(f);
		w->in_compound = f & MO_KPF(MO_KPF_COMPOUND_HEAD);
		w->head_cls = c;
		w->head_flags = f;
		*attr = f;
		return c;
	}
	if (!w->in_compound) {
		uint64_t head;

		w->in_compound = true;
		if (find_head(r, pfn, &head)) {
			w->head_cls = classify(head);
			w->head_flags = head;
		} else {
			/* No head to ask: judge by the tail, and never call a
			 * hugetlb tail free (its head would know, not the tail). */
			w->head_cls = (f & MO_KPF(MO_KPF_HUGE)) ? PC_HUGETLB : classify(f);
			w->head_flags = f;
		}
	}
	*attr = f | (w->head_flags & FOLIO_ATTRS);
	return w->head_cls;
}

static bool range_ok(uint64_t first_pfn, uint64_t n_pfns)
{
	return first_pfn <= MAX_PFN && n_pfns <= MAX_PFN - first_pfn;
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A walk over a PFN range, CHUNK_PFNS at a time. */
struct chunk {
	uint64_t end;     /* one past the range's last PFN */
	uint64_t pfn0;    /* the chunk's first PFN */
	size_t n;         /* its length; 0 before the first */
};

/*
 * The next chunk of the range, its flags in r->buf.
 * Return: 1, 0 after the last chunk, or a negative errno.
 */
static int next_chunk(struct mo_census_reader *r, struct chunk *c)
{
	int k;

	c->pfn0 += c->n;
	if (c->pfn0 >= c->end)
		return 0;
	c->n = c->end - c->pfn0 < CHUNK_PFNS ? (size_t) (c->end - c->pfn0) : CHUNK_PFNS;
	k = read_words(r->flags_fd, c->pfn0, c->n, r->buf, MO_KPF(MO_KPF_NOPAGE));
	return k < 0 ? k : 1;
}

int mo_census_read(struct mo_census_reader *r, uint64_t first_pfn, uint64_t n_pfns, struct mo_census *out)
{
	uint64_t cnt[_PC_MAX] = {};
	uint64_t thp = 0, mapped = 0, dirty = 0, shared = 0, shared_extra = 0;
	uint64_t movable_cost = 0, cost;
	struct chunk ch = { .end = first_pfn + n_pfns, .pfn0 = first_pfn };
	struct walk w = {};
	int k;

	if (!range_ok(first_pfn, n_pfns))
		return -ERANGE;

	while ((k = next_chunk(r, &ch)) > 0) {
		uint64_t pfn0 = ch.pfn0;
		size_t n = ch.n;
		bool any_mapped = false;

		for (size_t i = 0; i < n; i++) {
			uint64_t f = r->buf[i], attr;
			enum page_class c;

			if (f == 0) {
				/* the common case on idle memory: keep it short */
				cnt[PC_NOFLAGS]++;
				w.in_compound = false;
				continue;
			}
			c = walk_page(r, &w, pfn0 + i, f, &attr);
			cnt[c]++;
			if (attr & MO_KPF(MO_KPF_MMAP)) {
				mapped++;
				any_mapped = true;
			}
			if (c == PC_ANON || c == PC_FILE || c == PC_HUGETLB) {
				uint64_t pc = c == PC_HUGETLB ? MO_CENSUS_COST_HUGETLB : MO_CENSUS_COST_PAGE;

				if (attr & (MO_KPF(MO_KPF_DIRTY) | MO_KPF(MO_KPF_WRITEBACK))) {
					dirty++;
					pc += MO_CENSUS_COST_DIRTY;
				}
				if (attr & MO_KPF(MO_KPF_MMAP))
					pc += MO_CENSUS_COST_MAPPED;
				if (c != PC_HUGETLB && (attr & MO_KPF(MO_KPF_THP)))
					thp++;
				movable_cost += pc;
			}
		}

		if (r->mapcount && any_mapped) {
			k = read_words(r->count_fd, pfn0, n, r->counts, 0);
			if (k < 0)
				return k;
			for (size_t i = 0; i < n; i++) {
				uint64_t m = r->counts[i];

				if (m <= 1)
					continue;
				shared++;
				shared_extra += (m - 1 < MO_CENSUS_SHARED_MAX ? m - 1 : MO_CENSUS_SHARED_MAX);
			}
		}
	}
	if (k < 0)
		return k;

	*out = (struct mo_census) {
		.pages = n_pfns,
		.nopage = cnt[PC_NOPAGE],
		.free = cnt[PC_FREE],
		.anon = cnt[PC_ANON],
		.file = cnt[PC_FILE],
		.thp = thp,
		.hugetlb = cnt[PC_HUGETLB],
		.reserved = cnt[PC_RESERVED],
		.slab = cnt[PC_SLAB],
		.pgtable = cnt[PC_PGTABLE],
		.offline = cnt[PC_OFFLINE],
		.other = cnt[PC_OTHER],
		.noflags = cnt[PC_NOFLAGS],
		.mapped = mapped,
		.dirty = dirty,
		.shared = shared,
	};
	out->movable = out->anon + out->file + out->hugetlb;
	out->unmovable = out->reserved + out->slab + out->pgtable + out->offline + out->other;

	cost = movable_cost;
	cost = sat_add(cost, shared_extra * MO_CENSUS_COST_SHARED);
	cost = sat_add(cost, out->noflags * MO_CENSUS_COST_NOFLAGS);
	if (out->unmovable > 0)
		cost = out->unmovable > UINT64_MAX / MO_CENSUS_COST_UNMOVABLE
			? UINT64_MAX
			: sat_add(cost, out->unmovable * MO_CENSUS_COST_UNMOVABLE);
	out->cost = cost;
	return 0;
}

int mo_census_pfns(struct mo_census_reader *r, uint64_t first_pfn, uint64_t n_pfns,
		   int (*cb)(uint64_t pfn, uint64_t flags, void *userdata), void *userdata)
{
	struct chunk ch = { .end = first_pfn + n_pfns, .pfn0 = first_pfn };
	struct walk w = {};
	int k;

	if (!range_ok(first_pfn, n_pfns))
		return -ERANGE;

	while ((k = next_chunk(r, &ch)) > 0)
		for (size_t i = 0; i < ch.n; i++) {
			uint64_t f = r->buf[i], attr;
			enum page_class c = walk_page(r, &w, ch.pfn0 + i, f, &attr);

			if (c == PC_FREE || c == PC_NOPAGE)
				continue;
			k = cb(ch.pfn0 + i, f, userdata);
			if (k < 0)
				return k;
		}
	return k;
}

int mo_census_mapcount(struct mo_census_reader *r, uint64_t pfn, uint64_t *ret)
{
	uint64_t v;
	ssize_t k;

	if (r->count_fd < 0)
		return -ENOENT;
	if (pfn > MAX_PFN)
		return -ERANGE;
	do
		k = pread(r->count_fd, &v, sizeof(v), (off_t) (pfn * sizeof(uint64_t)));
	while (k < 0 && errno == EINTR);
	if (k < 0)
		return -errno;
	if (k != sizeof(v))
		return -ERANGE;
	*ret = v;
	return 0;
}
