/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "pins-bus.h"
#include "util.h"

#define N_EVIDENCE 4        /* MO_PIN_EV_* bits */
#define N_MAP_KINDS (MO_MAP_OTHER + 1)
#define N_CLASSES (MO_BLOCKED_LONG_LIVED + 1)

static const char *const page_kinds[] = {
	[MO_PAGE_UNKNOWN] = "",
	[MO_PAGE_ANON] = "anon",
	[MO_PAGE_KSM] = "ksm",
	[MO_PAGE_FILE] = "file",
};

/* ---- writing ---- */

static int append_evidence(sd_bus_message *m, unsigned evidence)
{
	int r = sd_bus_message_open_container(m, 'a', "s");

	for (unsigned i = 0; r >= 0 && i < N_EVIDENCE; i++) {
		char name[32];

		if (!(evidence & (1u << i)))
			continue;
		mo_pin_evidence_format(1u << i, name, sizeof(name));
		r = sd_bus_message_append(m, "s", name);
	}
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static int append_dump(sd_bus_message *m, const struct mo_page_dump *d)
{
	return sd_bus_message_append(m, PINS_BUS_KLOG_SIG, d->seq, d->ts_usec, d->pfn, (int) d->have_pfn,
				     d->refcount, d->mapcount, d->folio_mapcount, d->entire_mapcount,
				     d->nr_pages_mapped, d->pincount, (int32_t) d->order, d->mapping,
				     (int) d->have_mapping, d->index, d->flags_text, d->aops, d->dentry, d->reason,
				     (unsigned) d->kind < ARRAY_SIZE(page_kinds) ? page_kinds[d->kind] : "",
				     (int) d->poisoned, (int) d->migrate_failed, (int32_t) d->migrate_ret,
				     (int) d->isolate_failed);
}

static int append_page(sd_bus_message *m, const struct mo_pin_page *p, bool owners)
{
	int r;

	r = sd_bus_message_open_container(m, 'r', "ttastbxxa" PINS_BUS_OWNER_SIG);
	if (r >= 0)
		r = sd_bus_message_append(m, "tt", p->pfn, p->kpageflags);
	if (r >= 0)
		r = append_evidence(m, p->evidence);
	if (r >= 0)
		r = sd_bus_message_append(m, "tbxx", (uint64_t) p->n_found, (int) p->have_dump, p->extra_refs, p->pins);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', PINS_BUS_OWNER_SIG);
	for (size_t i = 0; r >= 0 && owners && i < p->n_owners; i++) {
		const struct mo_owner *w = &p->owners[i];

		r = sd_bus_message_append(m, PINS_BUS_OWNER_SIG, (int32_t) w->pid, w->comm, w->vaddr,
					  mo_map_kind_to_string(w->kind), strempty(w->mapping), w->file_offset,
					  (int) w->exclusive, (int) w->file_shared, strempty(w->cgroup));
	}
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static int append_group(sd_bus_message *m, const struct mo_pin_group *g, bool owners)
{
	static const struct mo_page_dump none = { .refcount = -1, .mapcount = -1, .folio_mapcount = -1,
						  .entire_mapcount = -1, .nr_pages_mapped = -1, .pincount = -1 };
	int r;

	r = sd_bus_message_open_container(m, 'r', "ttttasubsttub" PINS_BUS_KLOG_SIG "a" PINS_BUS_PAGE_SIG);
	if (r >= 0)
		r = sd_bus_message_append(m, "tttt", g->first_pfn, g->last_pfn, g->npages, g->kpageflags);
	if (r >= 0)
		r = append_evidence(m, g->evidence);
	if (r >= 0)
		r = sd_bus_message_append(m, "ubsttub", owners ? g->owner_pid : 0, (int) g->tracked,
					  g->tracked ? mo_blocked_class_to_string(g->cls) : "", g->first_seen,
					  g->duration, g->passes, (int) g->have_dump);
	if (r >= 0)
		r = append_dump(m, g->have_dump ? &g->dump : &none);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', PINS_BUS_PAGE_SIG);
	for (size_t i = 0; r >= 0 && g->pages && i < g->n_pages; i++)
		r = append_page(m, &g->pages[i], owners);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	return r < 0 ? r : sd_bus_message_close_container(m);
}

static int errno_out(int e)
{
	return e < 0 ? -e : e;
}

int pins_bus_append(sd_bus_message *m, struct mo_pin_report *const *reports, size_t n, bool owners)
{
	int r = sd_bus_message_open_container(m, 'a', PINS_BUS_REPORT_SIG);

	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct mo_pin_report *rep = reports[i];

		r = sd_bus_message_open_container(m, 'r', "ttttiiia" PINS_BUS_GROUP_SIG);
		if (r >= 0)
			r = sd_bus_message_append(m, "ttttiii", rep->block, rep->first_pfn, rep->n_pfns, rep->pages,
						  owners ? errno_out(rep->owners_error) : EACCES, errno_out(rep->kmsg_error),
						  errno_out(rep->census_error));
		if (r >= 0)
			r = sd_bus_message_open_container(m, 'a', PINS_BUS_GROUP_SIG);
		for (size_t g = 0; r >= 0 && g < rep->n_groups; g++)
			r = append_group(m, &rep->groups[g], owners);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
		if (r >= 0)
			r = sd_bus_message_close_container(m);
	}
	return r < 0 ? r : sd_bus_message_close_container(m);
}

/* ---- reading ---- */

static int read_evidence(sd_bus_message *m, unsigned *ret)
{
	const char *s;
	int r;

	*ret = 0;
	r = sd_bus_message_enter_container(m, 'a', "s");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read(m, "s", &s)) > 0)
		for (unsigned i = 0; i < N_EVIDENCE; i++) {
			char name[32];

			mo_pin_evidence_format(1u << i, name, sizeof(name));
			if (streq(s, name))
				*ret |= 1u << i;
		}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int read_dump(sd_bus_message *m, struct mo_page_dump *d)
{
	const char *flags, *aops, *file, *reason, *kind;
	int have_pfn, have_mapping, poisoned, migrate_failed, isolate_failed;
	int32_t order, migrate_ret;
	int r;

	r = sd_bus_message_read(m, PINS_BUS_KLOG_SIG, &d->seq, &d->ts_usec, &d->pfn, &have_pfn, &d->refcount,
				&d->mapcount, &d->folio_mapcount, &d->entire_mapcount, &d->nr_pages_mapped,
				&d->pincount, &order, &d->mapping, &have_mapping, &d->index, &flags, &aops, &file,
				&reason, &kind, &poisoned, &migrate_failed, &migrate_ret, &isolate_failed);
	if (r < 0)
		return r;
	d->have_pfn = have_pfn;
	d->order = order;
	d->have_mapping = have_mapping;
	snprintf(d->flags_text, sizeof(d->flags_text), "%s", flags);
	snprintf(d->aops, sizeof(d->aops), "%s", aops);
	snprintf(d->dentry, sizeof(d->dentry), "%s", file);
	snprintf(d->reason, sizeof(d->reason), "%s", reason);
	d->kind = MO_PAGE_UNKNOWN;
	for (size_t i = 0; i < ARRAY_SIZE(page_kinds); i++)
		if (*kind && streq(kind, page_kinds[i]))
			d->kind = (enum mo_page_kind) i;
	d->poisoned = poisoned;
	d->migrate_failed = migrate_failed;
	d->migrate_ret = migrate_ret;
	d->isolate_failed = isolate_failed;
	d->complete = true;
	return 0;
}

static int read_owner(sd_bus_message *m, struct mo_owner *w)
{
	const char *comm, *kind, *mapping, *cgroup;
	int32_t pid;
	int exclusive, shared, r;

	r = sd_bus_message_read(m, PINS_BUS_OWNER_SIG, &pid, &comm, &w->vaddr, &kind, &mapping, &w->file_offset,
				&exclusive, &shared, &cgroup);
	if (r <= 0)
		return r;
	w->pid = pid;
	snprintf(w->comm, sizeof(w->comm), "%s", comm);
	w->kind = MO_MAP_OTHER;
	for (int i = 0; i < N_MAP_KINDS; i++)
		if (streq(kind, mo_map_kind_to_string((enum mo_map_kind) i)))
			w->kind = (enum mo_map_kind) i;
	w->exclusive = exclusive;
	w->file_shared = shared;
	w->mapping = strdup(mapping);
	w->cgroup = *cgroup ? strdup(cgroup) : NULL;
	if (!w->mapping || (*cgroup && !w->cgroup))
		return -ENOMEM;
	return 1;
}

static int read_page(sd_bus_message *m, struct mo_pin_page *p)
{
	uint64_t n_found;
	int have_dump, r;

	r = sd_bus_message_enter_container(m, 'r', "ttastbxxa" PINS_BUS_OWNER_SIG);
	if (r <= 0)
		return r;
	r = sd_bus_message_read(m, "tt", &p->pfn, &p->kpageflags);
	if (r >= 0)
		r = read_evidence(m, &p->evidence);
	if (r >= 0)
		r = sd_bus_message_read(m, "tbxx", &n_found, &have_dump, &p->extra_refs, &p->pins);
	if (r < 0)
		return r;
	p->n_found = (size_t) n_found;
	p->have_dump = have_dump;
	r = sd_bus_message_enter_container(m, 'a', PINS_BUS_OWNER_SIG);
	if (r < 0)
		return r;
	for (;;) {
		struct mo_owner w = {}, *nw;

		r = read_owner(m, &w);
		if (r <= 0) {
			free(w.mapping);
			free(w.cgroup);
			if (r < 0)
				return r;
			break;
		}
		nw = realloc(p->owners, (p->n_owners + 1) * sizeof(*nw));
		if (!nw) {
			free(w.mapping);
			free(w.cgroup);
			return -ENOMEM;
		}
		p->owners = nw;
		p->owners[p->n_owners++] = w;
	}
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 1;
}

static int read_group(sd_bus_message *m, uint64_t block, struct mo_pin_group *g)
{
	const char *cls;
	int tracked, have_dump, r;

	r = sd_bus_message_enter_container(m, 'r', "ttttasubsttub" PINS_BUS_KLOG_SIG "a" PINS_BUS_PAGE_SIG);
	if (r <= 0)
		return r;
	g->block = block;
	r = sd_bus_message_read(m, "tttt", &g->first_pfn, &g->last_pfn, &g->npages, &g->kpageflags);
	if (r >= 0)
		r = read_evidence(m, &g->evidence);
	if (r >= 0)
		r = sd_bus_message_read(m, "ubsttub", &g->owner_pid, &tracked, &cls, &g->first_seen, &g->duration,
					&g->passes, &have_dump);
	if (r < 0)
		return r;
	g->tracked = tracked;
	g->have_dump = have_dump;
	g->cls = MO_BLOCKED_PENDING;
	for (int i = 0; i < N_CLASSES; i++)
		if (streq(cls, mo_blocked_class_to_string((enum mo_blocked_class) i)))
			g->cls = (enum mo_blocked_class) i;
	r = read_dump(m, &g->dump);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'a', PINS_BUS_PAGE_SIG);
	if (r < 0)
		return r;
	for (;;) {
		struct mo_pin_page p = {}, *np;

		np = realloc(g->pages, (g->n_pages + 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		g->pages = np;
		r = read_page(m, &p);
		/* kept even when half read, so that mo_pin_report_free() frees its owners */
		g->pages[g->n_pages] = p;
		if (r < 0) {
			g->n_pages++;
			return r;
		}
		if (r == 0)
			break;
		g->n_pages++;
	}
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 1;
}

static int read_report(sd_bus_message *m, struct mo_pin_report *rep)
{
	int32_t owners, kmsg, census;
	int r;

	r = sd_bus_message_enter_container(m, 'r', "ttttiiia" PINS_BUS_GROUP_SIG);
	if (r <= 0)
		return r;
	r = sd_bus_message_read(m, "ttttiii", &rep->block, &rep->first_pfn, &rep->n_pfns, &rep->pages, &owners,
				&kmsg, &census);
	if (r < 0)
		return r;
	if (owners < 0 || kmsg < 0 || census < 0)
		return -EBADMSG;
	rep->owners_error = -owners;
	rep->kmsg_error = -kmsg;
	rep->census_error = -census;
	r = sd_bus_message_enter_container(m, 'a', PINS_BUS_GROUP_SIG);
	if (r < 0)
		return r;
	for (;;) {
		struct mo_pin_group *ng = realloc(rep->groups, (rep->n_groups + 1) * sizeof(*ng));

		if (!ng)
			return -ENOMEM;
		rep->groups = ng;
		rep->groups[rep->n_groups] = (struct mo_pin_group) {};
		r = read_group(m, rep->block, &rep->groups[rep->n_groups]);
		if (r < 0) {
			rep->n_groups++;
			return r;
		}
		if (r == 0)
			break;
		rep->n_groups++;
	}
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	return r < 0 ? r : 1;
}

void pins_bus_reports_free(struct mo_pin_report **reports, size_t n)
{
	for (size_t i = 0; reports && i < n; i++)
		mo_pin_report_free(reports[i]);
	free(reports);
}

int pins_bus_read(sd_bus_message *m, struct mo_pin_report ***ret, size_t *n)
{
	struct mo_pin_report **v = NULL;
	size_t k = 0;
	int r;

	r = sd_bus_message_enter_container(m, 'a', PINS_BUS_REPORT_SIG);
	if (r < 0)
		return r;
	for (;;) {
		struct mo_pin_report **nv = realloc(v, (k + 1) * sizeof(*nv));

		if (!nv) {
			r = -ENOMEM;
			break;
		}
		v = nv;
		v[k] = calloc(1, sizeof(**v));
		if (!v[k]) {
			r = -ENOMEM;
			break;
		}
		r = read_report(m, v[k]);
		if (r <= 0) {
			if (r == 0) {
				free(v[k]);
				v[k] = NULL;
			} else
				k++;
			break;
		}
		k++;
	}
	if (r >= 0)
		r = sd_bus_message_exit_container(m);
	if (r < 0) {
		pins_bus_reports_free(v, k);
		return r;
	}
	*ret = v;
	*n = k;
	return 0;
}
