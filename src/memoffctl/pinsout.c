/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <libsmartcols.h>

#include "kpageflags.h"
#include "parse.h"
#include "pins-json.h"
#include "pinsout.h"
#include "util.h"

enum {
	COL_BLOCK,
	COL_PFN,
	COL_PAGES,
	COL_WHAT,
	COL_EVIDENCE,
	COL_CLASS,
	COL_BLOCKED,
	COL_PID,
	COL_COMM,
	COL_VADDR,
	COL_MAPPING,
	COL_REFS,
	_COL_MAX,
};

static const struct {
	const char *name;
	int flags;
} cols[_COL_MAX] = {
	[COL_BLOCK] = { "BLOCK", SCOLS_FL_RIGHT },
	[COL_PFN] = { "PFN", 0 },
	[COL_PAGES] = { "PAGES", SCOLS_FL_RIGHT },
	[COL_WHAT] = { "WHAT", 0 },
	[COL_EVIDENCE] = { "EVIDENCE", 0 },
	[COL_CLASS] = { "CLASS", 0 },
	[COL_BLOCKED] = { "BLOCKED", SCOLS_FL_RIGHT },
	[COL_PID] = { "PID", SCOLS_FL_RIGHT },
	[COL_COMM] = { "COMM", 0 },
	[COL_VADDR] = { "VADDR", 0 },
	[COL_MAPPING] = { "MAPPING", SCOLS_FL_TRUNC },
	[COL_REFS] = { "REFS", 0 },
};

static const char *seconds_str(uint64_t usec, char buf[static MO_DURATION_MAX])
{
	return mo_format_duration(usec / 1000000 * 1000000, buf, MO_DURATION_MAX);
}

/* "+1" extra references, "pin x2", "3/1" refcount/mapcount when the sum is unknown, "-" */
static const char *refs_str(bool have_dump, const struct mo_page_dump *d, int64_t extra, int64_t pins, char *buf,
			    size_t size)
{
	if (!have_dump)
		snprintf(buf, size, "-");
	else if (pins > 0)
		snprintf(buf, size, "pin x%" PRIi64, pins);
	else if (extra >= 0)
		snprintf(buf, size, "+%" PRIi64, extra);
	else
		snprintf(buf, size, "%" PRIi64 "/%" PRIi64, d->refcount, d->mapcount);
	return buf;
}

static int add_line(struct libscols_table *tb, const int *colmap, const char *const *cell)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);

	if (!ln)
		return -ENOMEM;
	for (int i = 0; i < _COL_MAX; i++)
		if (colmap[i] >= 0 && scols_line_set_data(ln, (size_t) colmap[i], cell[i] ? cell[i] : "-") < 0)
			return -ENOMEM;
	return 0;
}

int pinsout_table(struct mo_pin_report *const *reports, size_t n, bool pages)
{
	struct libscols_table *tb;
	int colmap[_COL_MAX], k = 0, r = 0;
	bool tracked = false;

	for (size_t i = 0; i < n; i++)
		for (size_t g = 0; g < reports[i]->n_groups; g++)
			tracked = tracked || reports[i]->groups[g].tracked;
	for (int i = 0; i < _COL_MAX; i++)
		colmap[i] = (i == COL_CLASS || i == COL_BLOCKED) && !tracked ? -1 : k++;

	tb = scols_new_table();
	if (!tb)
		return -ENOMEM;
	for (int i = 0; i < _COL_MAX; i++)
		if (colmap[i] >= 0 && !scols_table_new_column(tb, cols[i].name, 0, cols[i].flags)) {
			r = -ENOMEM;
			goto out;
		}
	for (size_t i = 0; i < n; i++) {
		const struct mo_pin_report *rep = reports[i];

		for (size_t gi = 0; gi < rep->n_groups; gi++) {
			const struct mo_pin_group *g = &rep->groups[gi];
			size_t rows = pages ? g->n_pages : 1;

			for (size_t pi = 0; pi < rows; pi++) {
				const struct mo_pin_page *p = g->n_pages ? &g->pages[pi] : NULL;
				const struct mo_owner *w = p && p->n_owners ? &p->owners[0] : NULL;
				char b[_COL_MAX][96];
				const char *cell[_COL_MAX] = {};

				snprintf(b[COL_BLOCK], 96, "%" PRIu64, g->block);
				if (pages && p)
					snprintf(b[COL_PFN], 96, "0x%" PRIx64, p->pfn);
				else if (g->npages == 1)
					snprintf(b[COL_PFN], 96, "0x%" PRIx64, g->first_pfn);
				else
					snprintf(b[COL_PFN], 96, "0x%" PRIx64 "-0x%" PRIx64, g->first_pfn, g->last_pfn);
				snprintf(b[COL_PAGES], 96, "%" PRIu64, pages ? 1 : g->npages);
				snprintf(b[COL_WHAT], 96, "%s", mo_kpageflags_what(p && pages ? p->kpageflags : g->kpageflags));
				mo_pin_evidence_format(pages && p ? p->evidence : g->evidence, b[COL_EVIDENCE], 96);
				cell[COL_BLOCK] = b[COL_BLOCK];
				cell[COL_PFN] = b[COL_PFN];
				cell[COL_PAGES] = b[COL_PAGES];
				cell[COL_WHAT] = b[COL_WHAT];
				cell[COL_EVIDENCE] = b[COL_EVIDENCE];
				if (g->tracked) {
					cell[COL_CLASS] = mo_blocked_class_to_string(g->cls);
					cell[COL_BLOCKED] = seconds_str(g->duration, b[COL_BLOCKED]);
				}
				if (w) {
					snprintf(b[COL_PID], 96, "%d", (int) w->pid);
					snprintf(b[COL_VADDR], 96, "0x%" PRIx64, w->vaddr);
					cell[COL_PID] = b[COL_PID];
					cell[COL_COMM] = w->comm;
					cell[COL_VADDR] = b[COL_VADDR];
					cell[COL_MAPPING] = w->mapping;
				} else if (p && p->n_found == 0) {
					cell[COL_MAPPING] = rep->owners_error ? "?" :
							    (g->evidence & MO_PIN_EV_UNMOVABLE) ? "(kernel)" : "(none)";
				}
				if (pages && p)
					cell[COL_REFS] = refs_str(p->have_dump, &g->dump, p->extra_refs, p->pins,
								  b[COL_REFS], 96);
				else
					cell[COL_REFS] = refs_str(g->have_dump, &g->dump,
								  g->have_dump ? mo_page_dump_extra_refs(&g->dump) : -1,
								  g->have_dump ? mo_page_dump_pins(&g->dump) : -1,
								  b[COL_REFS], 96);
				r = add_line(tb, colmap, cell);
				if (r < 0)
					goto out;
			}
		}
	}
	r = scols_print_table(tb);
out:
	scols_unref_table(tb);
	return r;
}

void pinsout_notes(FILE *out, struct mo_pin_report *const *reports, size_t n, bool census_note)
{
	int owners = 0, kmsg = 0, census = 0;

	for (size_t i = 0; i < n; i++) {
		if (reports[i]->owners_error && !owners)
			owners = reports[i]->owners_error;
		if (reports[i]->kmsg_error && !kmsg)
			kmsg = reports[i]->kmsg_error;
		if (reports[i]->census_error && !census)
			census = reports[i]->census_error;
	}
	if (owners == -EPERM)
		fputs("Owners unknown: /proc/PID/pagemap shows page frames to CAP_SYS_ADMIN only.\n", out);
	else if (owners == -EACCES)
		fputs("Owners hidden: memoffd shows them to root and members of AllowedGroup= only.\n", out);
	else if (owners)
		fprintf(out, "Owners unknown: %s.\n", strerror(-owners));
	if (kmsg == -EPERM || kmsg == -EACCES)
		fputs("Kernel log not read: /dev/kmsg is restricted (kernel.dmesg_restrict).\n", out);
	else if (kmsg && kmsg != -ENOTSUP)
		fprintf(out, "Kernel log not read: %s.\n", strerror(-kmsg));
	if (census && census_note)
		fprintf(out, "Page flags not read (/proc/kpageflags): %s%s.\n", strerror(-census),
			census == -EACCES || census == -EPERM ? ": reading them needs CAP_SYS_ADMIN (root)" : "");
}

int pinsout_census_error(struct mo_pin_report *const *reports, size_t n, size_t *n_failed)
{
	int first = 0;

	*n_failed = 0;
	for (size_t i = 0; i < n; i++)
		if (reports[i]->census_error) {
			if (!first)
				first = reports[i]->census_error;
			++*n_failed;
		}
	return first;
}

void pinsout_json(struct mo_json *j, const char *key, const struct mo_pin_report *r)
{
	mo_pins_json_report(j, key, r, true);
}
