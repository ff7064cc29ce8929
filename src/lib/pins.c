/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>

#include "kpageflags.h"
#include "pins.h"
#include "util.h"

static const char *const evidence_names[] = { "attempt", "kmsg", "unmovable", "unmapped" };

size_t mo_pin_evidence_format(unsigned evidence, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(evidence_names); i++) {
		int k;

		if (!(evidence & (1u << i)))
			continue;
		k = snprintf(buf + len, size - len, "%s%s", len ? "," : "", evidence_names[i]);
		if (k < 0 || (size_t) k >= size - len) {
			/* whole names only */
			buf[len] = '\0';
			break;
		}
		len += (size_t) k;
	}
	return len;
}

unsigned mo_pin_flags_evidence(uint64_t f)
{
#define F(b) (f & MO_KPF(MO_KPF_##b))
	if (f == 0 || F(NOPAGE) || F(BUDDY) || F(HWPOISON))
		return 0;
	if (F(SLAB) || F(PGTABLE) || F(RESERVED) || F(OFFLINE))
		return MO_PIN_EV_UNMOVABLE;
	if (F(HUGE) || F(ZERO_PAGE))
		return 0;
	if (F(ANON) || F(KSM))
		return F(MMAP) || F(SWAPCACHE) ? 0 : MO_PIN_EV_UNMAPPED;
	if (F(LRU) || F(MMAP) || F(SWAPCACHE) || F(MAPPEDTODISK))
		return 0;
	/* in use, off the LRU, none of the above: a kernel allocation */
	return MO_PIN_EV_UNMOVABLE;
#undef F
}

static int count_cb(uint64_t pfn, uint64_t flags, void *userdata)
{
	uint64_t *n = userdata;

	if (mo_pin_flags_evidence(flags))
		(*n)++;
	return 0;
}

int mo_pins_count(struct mo_census_reader *r, uint64_t first_pfn, uint64_t n_pfns, uint64_t *ret)
{
	uint64_t n = 0;
	int k = mo_census_pfns(r, first_pfn, n_pfns, count_cb, &n);

	if (k < 0)
		return k;
	*ret = n;
	return 0;
}

static void free_owners(struct mo_owner *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].mapping);
		free(w[i].cgroup);
	}
	free(w);
}

void mo_pin_report_free(struct mo_pin_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_groups; i++) {
		struct mo_pin_group *g = &r->groups[i];

		for (size_t j = 0; j < g->n_pages; j++)
			free_owners(g->pages[j].owners, g->pages[j].n_owners);
		free(g->pages);
	}
	free(r->groups);
	free(r);
}

static int cmp_candidate(const void *a, const void *b)
{
	uint64_t x = ((const struct mo_pin_candidate *) a)->pfn, y = ((const struct mo_pin_candidate *) b)->pfn;

	return x < y ? -1 : x > y;
}

static int copy_owners(const struct mo_pfn_owners *src, struct mo_pin_page *dst)
{
	dst->n_found = src->n_found;
	if (src->n_owners == 0)
		return 0;
	dst->owners = calloc(src->n_owners, sizeof(*dst->owners));
	if (!dst->owners)
		return -ENOMEM;
	for (size_t i = 0; i < src->n_owners; i++) {
		dst->owners[i] = src->owners[i];
		dst->owners[i].mapping = src->owners[i].mapping ? strdup(src->owners[i].mapping) : NULL;
		dst->owners[i].cgroup = src->owners[i].cgroup ? strdup(src->owners[i].cgroup) : NULL;
		dst->n_owners = i + 1;
		if ((src->owners[i].mapping && !dst->owners[i].mapping) ||
		    (src->owners[i].cgroup && !dst->owners[i].cgroup))
			return -ENOMEM;
	}
	return 0;
}

/* The newest dump that covers @pfn (a large folio's dump covers its pages). */
static const struct mo_page_dump *dump_for(const struct mo_page_dump *dumps, size_t n, uint64_t pfn)
{
	const struct mo_page_dump *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct mo_page_dump *d = &dumps[i];
		uint64_t span = d->order > 0 && d->order < 31 ? UINT64_C(1) << d->order : 1;

		if (!d->have_pfn || pfn < d->pfn || pfn - d->pfn >= span)
			continue;
		if (!best || d->seq >= best->seq)
			best = d;
	}
	return best;
}

struct group_list {
	struct mo_pin_group *v;
	size_t n;
};

static int collect_group(const struct mo_blocked_group *g, void *userdata)
{
	struct group_list *l = userdata;
	struct mo_pin_group *nv = realloc(l->v, (l->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	l->v = nv;
	l->v[l->n++] = (struct mo_pin_group) {
		.block = g->block,
		.first_pfn = g->first_pfn,
		.last_pfn = g->last_pfn,
		.npages = g->npages,
		.kpageflags = g->flags,
		.owner_pid = g->owner,
		.cls = g->cls,
		.first_seen = g->first_seen,
		.duration = g->duration,
		.passes = g->passes,
	};
	return 0;
}

static uint32_t first_owner_pid(const struct mo_owners *o, uint64_t pfn)
{
	const struct mo_pfn_owners *p = o ? mo_owners_find(o, pfn) : NULL;

	return p && p->n_owners ? (uint32_t) p->owners[0].pid : 0;
}

/* Groups formed here: a one-pass tracker without settling does the grouping. */
static int form_groups(uint64_t block, const struct mo_pin_candidate *c, size_t n, const struct mo_owners *o,
		       struct group_list *out)
{
	_cleanup_(mo_blocked_tracker_freep) struct mo_blocked_tracker *t = NULL;
	const struct mo_blocked_opts opts = { .settle_usec = MO_BLOCKED_NO_SETTLE, .update_usec = MO_BLOCKED_NO_UPDATES };
	int r;

	r = mo_blocked_tracker_new(&opts, NULL, NULL, &t);
	if (r < 0)
		return r;
	r = mo_blocked_begin(t, block, 0);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = mo_blocked_add(t, block, c[i].pfn, c[i].kpageflags, first_owner_pid(o, c[i].pfn));
		if (r < 0)
			return r;
	}
	r = mo_blocked_end(t, block);
	if (r < 0)
		return r;
	return mo_blocked_foreach(t, block, collect_group, out);
}

int mo_pin_report_build(const struct mo_root *root, uint64_t block, uint64_t first_pfn, uint64_t n_pfns,
			const struct mo_pin_candidate *candidates, size_t n_candidates,
			const struct mo_page_dump *dumps, size_t n_dumps, const struct mo_blocked_tracker *tracker,
			const struct mo_owners_opts *owner_opts, struct mo_pin_report **ret)
{
	_cleanup_(mo_pin_report_freep) struct mo_pin_report *rep = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	_cleanup_free_ struct mo_pin_candidate *c = NULL;
	_cleanup_free_ uint64_t *pfns = NULL;
	struct group_list gl = {};
	size_t n = 0, n_pfns_owned;
	int r;

	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	rep->block = block;
	rep->first_pfn = first_pfn;
	rep->n_pfns = n_pfns;

	/* sorted, merged, inside the block */
	if (n_candidates > 0) {
		c = malloc(n_candidates * sizeof(*c));
		if (!c)
			return -ENOMEM;
		for (size_t i = 0; i < n_candidates; i++)
			if (candidates[i].pfn >= first_pfn && candidates[i].pfn - first_pfn < n_pfns)
				c[n++] = candidates[i];
		qsort(c, n, sizeof(*c), cmp_candidate);
		{
			size_t m = 0;

			for (size_t i = 0; i < n; i++) {
				if (m > 0 && c[m - 1].pfn == c[i].pfn) {
					c[m - 1].evidence |= c[i].evidence;
					continue;
				}
				c[m++] = c[i];
			}
			n = m;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (dump_for(dumps, n_dumps, c[i].pfn))
			c[i].evidence |= MO_PIN_EV_KMSG;

	/* owners of (the first MO_PIN_OWNERS_MAX) candidates */
	n_pfns_owned = n < MO_PIN_OWNERS_MAX ? n : MO_PIN_OWNERS_MAX;
	if (n_pfns_owned > 0) {
		pfns = malloc(n_pfns_owned * sizeof(*pfns));
		if (!pfns)
			return -ENOMEM;
		for (size_t i = 0; i < n_pfns_owned; i++)
			pfns[i] = c[i].pfn;
		r = mo_owners_resolve(root, pfns, n_pfns_owned, owner_opts, &o);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			rep->owners_error = r;
			o = NULL;
		}
	}

	if (tracker)
		r = mo_blocked_foreach(tracker, block, collect_group, &gl);
	else
		r = form_groups(block, c, n, o, &gl);
	if (r < 0) {
		free(gl.v);
		return r;
	}
	rep->groups = gl.v;
	rep->n_groups = gl.n;

	for (size_t gi = 0; gi < rep->n_groups; gi++) {
		struct mo_pin_group *g = &rep->groups[gi];
		const struct mo_page_dump *newest = NULL;

		g->tracked = tracker != NULL;
		rep->pages += g->npages;
		g->pages = calloc(g->npages < MO_PIN_PAGES_MAX ? g->npages : MO_PIN_PAGES_MAX, sizeof(*g->pages));
		if (!g->pages)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			struct mo_pin_page *pg;
			const struct mo_pfn_owners *po;
			const struct mo_page_dump *d;

			if (c[i].pfn < g->first_pfn || c[i].pfn > g->last_pfn)
				continue;
			g->evidence |= c[i].evidence;
			d = dump_for(dumps, n_dumps, c[i].pfn);
			if (d && (!newest || d->seq >= newest->seq))
				newest = d;
			if (g->n_pages >= MO_PIN_PAGES_MAX)
				continue;
			pg = &g->pages[g->n_pages++];
			*pg = (struct mo_pin_page) {
				.pfn = c[i].pfn,
				.kpageflags = c[i].kpageflags,
				.evidence = c[i].evidence,
				.have_dump = d != NULL,
				.extra_refs = d ? mo_page_dump_extra_refs(d) : -ENODATA,
				.pins = d ? mo_page_dump_pins(d) : -ENODATA,
			};
			po = o ? mo_owners_find(o, c[i].pfn) : NULL;
			if (po) {
				r = copy_owners(po, pg);
				if (r < 0)
					return r;
			}
		}
		if (newest) {
			g->have_dump = true;
			g->dump = *newest;
		}
	}
	*ret = TAKE_PTR(rep);
	return 0;
}

static void _printf_(4, 5) append(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (*len + 1 >= size)
		return;
	va_start(ap, fmt);
	k = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (k > 0)
		*len += (size_t) k < size - *len ? (size_t) k : size - *len - 1;
}

const char *mo_pin_group_describe(const struct mo_pin_group *g, char *buf, size_t size)
{
	const struct mo_pin_page *p = g->n_pages ? &g->pages[0] : NULL;
	const struct mo_owner *w = p && p->n_owners ? &p->owners[0] : NULL;
	size_t len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (g->npages == 1)
		append(buf, size, &len, "1 page at PFN 0x%" PRIx64, g->first_pfn);
	else
		append(buf, size, &len, "%" PRIu64 " pages at PFN 0x%" PRIx64 "-0x%" PRIx64, g->npages, g->first_pfn,
		       g->last_pfn);
	append(buf, size, &len, " (%s)", mo_kpageflags_what(g->kpageflags));
	if (w) {
		append(buf, size, &len, " mapped by %s[%d] at 0x%" PRIx64 " (%s)", w->comm, (int) w->pid, w->vaddr,
		       w->mapping ? w->mapping : "?");
		if (p->n_found > 1)
			append(buf, size, &len, " and %zu more mapping%s", p->n_found - 1, p->n_found > 2 ? "s" : "");
	} else if (p && p->n_found == 0 && (g->evidence & MO_PIN_EV_UNMOVABLE)) {
		append(buf, size, &len, ": kernel memory");
	} else if (p && p->n_found == 0) {
		append(buf, size, &len, ", mapped by no process: %s", mo_kpageflags_unmapped_why(g->kpageflags));
	}
	if (g->have_dump) {
		int64_t extra = mo_page_dump_extra_refs(&g->dump), pins = mo_page_dump_pins(&g->dump);

		append(buf, size, &len, "; kernel log: refcount %" PRIi64 ", mapcount %" PRIi64, g->dump.refcount,
		       g->dump.mapcount);
		if (pins > 0)
			append(buf, size, &len, ", %" PRIi64 " FOLL_PIN pin%s", pins, pins > 1 ? "s" : "");
		else if (extra >= 0)
			append(buf, size, &len, ", %" PRIi64 " extra reference%s", extra, extra == 1 ? "" : "s");
	}
	return buf;
}
