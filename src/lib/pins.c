/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>

#include "escape.h"
#include "kpageflags.h"
#include "parse.h"
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

static bool is_tail(uint64_t kpageflags)
{
	return kpageflags & MO_KPF(MO_KPF_COMPOUND_TAIL);
}

static int cmp_candidate(const void *a, const void *b)
{
	uint64_t x = ((const struct mo_pin_candidate *) a)->pfn, y = ((const struct mo_pin_candidate *) b)->pfn;

	return x < y ? -1 : x > y;
}

/* @shift: pages from the folio's head (whose owners @src are) to this page. */
static int copy_owners(const struct mo_pfn_owners *src, uint64_t shift, struct mo_pin_page *dst)
{
	uint64_t ps = (uint64_t) sysconf(_SC_PAGESIZE);

	dst->n_found = src->n_found;
	if (src->n_owners == 0)
		return 0;
	dst->owners = calloc(src->n_owners, sizeof(*dst->owners));
	if (!dst->owners)
		return -ENOMEM;
	for (size_t i = 0; i < src->n_owners; i++) {
		dst->owners[i] = src->owners[i];
		dst->owners[i].vaddr += shift * ps;
		dst->owners[i].file_offset += shift * ps;
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

/*
 * The tracker's groups (it is fed pages only, no owners: forensics.h), split
 * by owner as form_groups() does, each part with the tracker's class and
 * durations of the group it lies in.
 */
static int tracked_groups(const struct mo_blocked_tracker *tracker, uint64_t block, const struct mo_pin_candidate *c,
			  size_t n, const struct mo_owners *o, struct group_list *out)
{
	_cleanup_free_ struct mo_pin_candidate *in = NULL;
	struct group_list tg = {};
	size_t m = 0, k = 0;
	int r;

	r = mo_blocked_foreach(tracker, block, collect_group, &tg);
	if (r < 0 || tg.n == 0)
		goto out;
	in = malloc((n ? n : 1) * sizeof(*in));
	if (!in) {
		r = -ENOMEM;
		goto out;
	}
	/* both in PFN order */
	for (size_t i = 0; i < n; i++) {
		while (k < tg.n && tg.v[k].last_pfn < c[i].pfn)
			k++;
		if (k == tg.n)
			break;
		if (c[i].pfn >= tg.v[k].first_pfn)
			in[m++] = c[i];
	}
	r = form_groups(block, in, m, o, out);
	if (r < 0)
		goto out;
	k = 0;
	for (size_t i = 0; i < out->n; i++) {
		struct mo_pin_group *g = &out->v[i];

		while (k < tg.n && tg.v[k].last_pfn < g->first_pfn)
			k++;
		if (k == tg.n)
			break;
		g->cls = tg.v[k].cls;
		g->first_seen = tg.v[k].first_seen;
		g->duration = tg.v[k].duration;
		g->passes = tg.v[k].passes;
	}
out:
	free(tg.v);
	return r;
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
	_cleanup_free_ size_t *head = NULL;
	struct group_list gl = {};
	size_t n = 0, n_pfns_owned, n_heads = 0;
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

	/* the folio of each candidate: a tail right after its head (or another tail) is the head's */
	if (n > 0) {
		head = malloc(n * sizeof(*head));
		if (!head)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		head[i] = i > 0 && is_tail(c[i].kpageflags) && c[i].pfn == c[i - 1].pfn + 1 ? head[i - 1] : i;

	/* owners, once per folio (of the first MO_PIN_OWNERS_MAX folios), now that the attempts are over */
	for (size_t i = 0; i < n; i++)
		if (head[i] == i)
			n_heads++;
	n_pfns_owned = n_heads < MO_PIN_OWNERS_MAX ? n_heads : MO_PIN_OWNERS_MAX;
	if (n_pfns_owned > 0) {
		size_t k = 0;

		pfns = malloc(n_pfns_owned * sizeof(*pfns));
		if (!pfns)
			return -ENOMEM;
		for (size_t i = 0; i < n && k < n_pfns_owned; i++)
			if (head[i] == i)
				pfns[k++] = c[i].pfn;
		r = mo_owners_resolve(root, pfns, n_pfns_owned, owner_opts, &o);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			rep->owners_error = r;
			o = NULL;
		}
	}

	/* seen unmapped while migration had it unmapped, mapped again now: not "mapped by no process" */
	for (size_t i = 0; o && i < n; i++) {
		const struct mo_pfn_owners *po = mo_owners_find(o, c[head[i]].pfn);

		if ((c[i].evidence & MO_PIN_EV_UNMAPPED) && po &&
		    (po->n_found > 0 || (po->have_kpageflags && (po->kpageflags & MO_KPF(MO_KPF_MMAP)))))
			c[i].evidence &= ~(unsigned) MO_PIN_EV_UNMAPPED;
	}

	if (tracker)
		r = tracked_groups(tracker, block, c, n, o, &gl);
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
			if (head[i] == i || c[i].pfn == g->first_pfn)
				g->folios++;
			d = dump_for(dumps, n_dumps, c[i].pfn);
			if (d && (!newest || d->seq >= newest->seq))
				newest = d;
			/* one entry a folio: its head (a THP's 511 tails say nothing more, and made the lists huge) */
			if (g->n_pages >= MO_PIN_PAGES_MAX || (head[i] != i && c[i].pfn != g->first_pfn))
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
			po = o ? mo_owners_find(o, c[head[i]].pfn) : NULL;
			if (po) {
				r = copy_owners(po, c[i].pfn - c[head[i]].pfn, pg);
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

/* ---- the grouped report ---- */

void mo_pin_summary_done(struct mo_pin_summary *s)
{
	free(s->lines);
	*s = (struct mo_pin_summary) {};
}

/* The owner a group is reported under: the first mapping found of its first page that has one. */
static const struct mo_owner *group_owner(const struct mo_pin_group *g)
{
	for (size_t i = 0; i < g->n_pages; i++)
		if (g->pages[i].n_owners > 0)
			return &g->pages[i].owners[0];
	return NULL;
}

static bool group_found_none(const struct mo_pin_group *g)
{
	for (size_t i = 0; i < g->n_pages; i++)
		if (g->pages[i].n_found > 0)
			return false;
	return true;
}

/* long-lived before pending before transient */
static int class_rank(enum mo_blocked_class c)
{
	return c == MO_BLOCKED_LONG_LIVED ? 2 : c == MO_BLOCKED_PENDING ? 1 : 0;
}

/* The kind of the pages, for grouping: what mo_kpageflags_what() calls them. */
static const char *group_kind(const struct mo_pin_group *g)
{
	return mo_kpageflags_what(g->kpageflags);
}

static const char *group_kind_of_line(const struct mo_pin_summary_line *l)
{
	return mo_kpageflags_what(l->kpageflags);
}

int mo_pin_summary_build(struct mo_pin_report *const *reports, size_t n_reports, struct mo_pin_summary *out)
{
	size_t cap = 0;

	*out = (struct mo_pin_summary) {};
	for (size_t ri = 0; ri < n_reports; ri++) {
		const struct mo_pin_report *rep = reports[ri];
		size_t first_line = out->n;

		if (!rep)
			continue;
		for (size_t gi = 0; gi < rep->n_groups; gi++) {
			const struct mo_pin_group *g = &rep->groups[gi];
			const struct mo_owner *w = group_owner(g);
			pid_t pid = w ? w->pid : 0;
			const char *kind = group_kind(g);
			struct mo_pin_summary_line *l = NULL;
			uint64_t folios = g->folios ? g->folios : g->npages;

			for (size_t i = first_line; i < out->n && !l; i++)
				if (out->lines[i].pid == pid && streq(group_kind_of_line(&out->lines[i]), kind))
					l = &out->lines[i];
			if (!l) {
				if (out->n == cap) {
					size_t ncap = cap ? cap * 2 : 16;
					struct mo_pin_summary_line *nv = reallocarray(out->lines, ncap, sizeof(*nv));

					if (!nv) {
						mo_pin_summary_done(out);
						return -ENOMEM;
					}
					out->lines = nv;
					cap = ncap;
				}
				l = &out->lines[out->n++];
				*l = (struct mo_pin_summary_line) {
					.block = rep->block,
					.pid = pid,
					.mapping = w ? w->mapping : NULL,
					.vaddr = w ? w->vaddr : 0,
					.kpageflags = g->kpageflags,
					.first_pfn = g->first_pfn,
					.last_pfn = g->last_pfn,
					.kernel = true,
					.unmapped = true,
					.extra_refs = -ENODATA,
					.pins = -ENODATA,
				};
				if (w)
					memcpy(l->comm, w->comm, sizeof(l->comm));
			}
			l->n_groups++;
			l->folios += folios;
			l->pages += g->npages;
			out->folios += folios;
			out->pages += g->npages;
			l->thp = l->thp || (g->kpageflags & MO_KPF(MO_KPF_THP));
			l->first_pfn = g->first_pfn < l->first_pfn ? g->first_pfn : l->first_pfn;
			l->last_pfn = g->last_pfn > l->last_pfn ? g->last_pfn : l->last_pfn;
			l->evidence |= g->evidence;
			/* nobody maps it: kernel memory by its flags, or a reference without a mapping */
			l->kernel = l->kernel && !w && group_found_none(g) && (g->evidence & MO_PIN_EV_UNMOVABLE);
			l->unmapped = l->unmapped && !w && group_found_none(g) && !(g->evidence & MO_PIN_EV_UNMOVABLE) &&
				      (g->evidence & MO_PIN_EV_UNMAPPED);
			if (g->tracked) {
				if (!l->tracked || class_rank(g->cls) > class_rank(l->cls))
					l->cls = g->cls;
				l->tracked = true;
				if (g->duration > l->duration)
					l->duration = g->duration;
			}
			if (g->have_dump) {
				l->have_dump = true;
				l->extra_refs = mo_page_dump_extra_refs(&g->dump);
				l->pins = mo_page_dump_pins(&g->dump);
			}
		}
	}
	return 0;
}

const char *mo_pin_summary_line_format(const struct mo_pin_summary_line *l, char *buf, size_t size)
{
	char ev[64], d[MO_DURATION_MAX];
	size_t len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	append(buf, size, &len, "block %" PRIu64 ": ", l->block);
	if (l->thp)
		append(buf, size, &len, "%" PRIu64 " THP%s (%" PRIu64 " pages)", l->folios, l->folios == 1 ? "" : "s",
		       l->pages);
	else if (l->folios != l->pages)
		append(buf, size, &len, "%" PRIu64 " folio%s (%" PRIu64 " pages)", l->folios, l->folios == 1 ? "" : "s",
		       l->pages);
	else
		append(buf, size, &len, "%" PRIu64 " page%s", l->pages, l->pages == 1 ? "" : "s");
	append(buf, size, &len, " of %s", mo_kpageflags_what(l->kpageflags));
	if (l->pid > 0)
		append(buf, size, &len, ", mapped by %s[%d] (at 0x%" PRIx64 ", %s)", l->comm, (int) l->pid, l->vaddr,
		       l->mapping ? l->mapping : "?");
	else if (l->kernel)
		append(buf, size, &len, ": kernel memory");
	else if (l->unmapped)
		append(buf, size, &len, ", mapped by no process: %s", mo_kpageflags_unmapped_why(l->kpageflags));
	else
		append(buf, size, &len, ", owner not found");
	if (l->tracked)
		append(buf, size, &len, "; %s, blocking for %s", mo_blocked_class_to_string(l->cls),
		       mo_format_duration(l->duration / 1000000 * 1000000, d, sizeof(d)));
	if (mo_pin_evidence_format(l->evidence, ev, sizeof(ev)) > 0)
		append(buf, size, &len, "; evidence %s", ev);
	if (l->have_dump) {
		if (l->pins > 0)
			append(buf, size, &len, "; kernel log: %" PRIi64 " FOLL_PIN pin%s", l->pins, l->pins > 1 ? "s" : "");
		else if (l->extra_refs >= 0)
			append(buf, size, &len, "; kernel log: %" PRIi64 " extra reference%s", l->extra_refs,
			       l->extra_refs == 1 ? "" : "s");
	}
	return buf;
}

int mo_pin_summary_print(FILE *out, struct mo_pin_report *const *reports, size_t n_reports)
{
	struct mo_pin_summary s;
	int r, lines = 0;

	for (size_t i = 0; i < n_reports; i++)
		if (reports[i] && reports[i]->n_groups == 0) {
			fprintf(out, "Block %" PRIu64 ": no blocked page found (the kernel log and page flags say "
				"nothing).\n", reports[i]->block);
			lines++;
		}
	r = mo_pin_summary_build(reports, n_reports, &s);
	if (r < 0)
		return r;
	if (s.n > 0) {
		fputs("Blocked pages:\n", out);
		lines++;
	}
	for (size_t i = 0; i < s.n; i++) {
		char line[1024];

		mo_escape_fprintf(out, "  %s.\n", mo_pin_summary_line_format(&s.lines[i], line, sizeof(line)));
		lines++;
	}
	mo_pin_summary_done(&s);
	return lines;
}
