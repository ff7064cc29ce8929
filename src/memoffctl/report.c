/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The one renderer of a job's report: see report.h.
 */
#include "config.h"

#include <inttypes.h>
#include <libsmartcols.h>

#include "escape.h"
#include "format.h"
#include "pinsout.h"
#include "report.h"
#include "runner.h"

/* ---- the table: a block a line, or a device a line with its blocks below ---- */

/* Every column either table has, in their order. */
enum {
	COL_NAME,
	COL_RANGE,
	COL_SIZE,
	COL_NODE,
	COL_OUTCOME,
	COL_WRITE,
	COL_MIGRATE,
	COL_COST,
	COL_TRIES,
	COL_TIME,
	COL_REASON,
	_COL_MAX,
};

/* The headers (NULL: not in this table) and flags. */
struct column {
	const char *name;
	int flags;
};

static const struct column job_cols[_COL_MAX] = {
	[COL_NAME] = { "BLOCK", SCOLS_FL_RIGHT },
	[COL_RANGE] = { "RANGE", 0 },
	[COL_NODE] = { "NODE", SCOLS_FL_RIGHT },
	[COL_OUTCOME] = { "OUTCOME", 0 },
	[COL_WRITE] = { "WRITE", 0 },
	[COL_MIGRATE] = { "MIGRATE", SCOLS_FL_RIGHT },
	[COL_COST] = { "COST", SCOLS_FL_RIGHT },
	[COL_TRIES] = { "ATTEMPTS", SCOLS_FL_RIGHT },
	[COL_TIME] = { "TIME", SCOLS_FL_RIGHT },
	[COL_REASON] = { "REASON", SCOLS_FL_TRUNC },
};

static const struct column release_cols[_COL_MAX] = {
	[COL_NAME] = { "DEVICE", SCOLS_FL_TREE },
	[COL_RANGE] = { "RANGE", 0 },
	[COL_SIZE] = { "SIZE", SCOLS_FL_RIGHT },
	[COL_NODE] = { "NODE", SCOLS_FL_RIGHT },
	[COL_OUTCOME] = { "OUTCOME", 0 },
	[COL_MIGRATE] = { "MIGRATE", SCOLS_FL_RIGHT },
	[COL_COST] = { "COST", SCOLS_FL_RIGHT },
	[COL_TRIES] = { "TRIES", SCOLS_FL_RIGHT },
	[COL_TIME] = { "TIME", SCOLS_FL_RIGHT },
	[COL_REASON] = { "REASON", SCOLS_FL_TRUNC },
};

/*
 * A table of @cols: a plan (@dry_run) shows what would move (MIGRATE, COST,
 * offlining only) and calls OUTCOME PLAN, a run its ATTEMPTS and TIME; WRITE
 * is for onlining. @colmap: each column's index in the table, -1 when left out.
 */
static struct libscols_table *table_new(const struct column *cols, bool offline, bool dry_run, int colmap[_COL_MAX])
{
	struct libscols_table *tb = scols_new_table();
	int n = 0;

	if (!tb)
		return NULL;
	for (int i = 0; i < _COL_MAX; i++) {
		bool show = cols[i].name && (i != COL_WRITE || !offline);

		if (i == COL_MIGRATE || i == COL_COST)
			show = offline && dry_run;
		else if (i == COL_TRIES || i == COL_TIME)
			show = !dry_run;
		colmap[i] = show ? n++ : -1;
		if (show && !scols_table_new_column(tb, i == COL_OUTCOME && dry_run ? "PLAN" : cols[i].name, 0,
						    cols[i].flags)) {
			scols_unref_table(tb);
			return NULL;
		}
	}
	return tb;
}

static int add_line(struct libscols_table *tb, struct libscols_line *parent, const int *colmap,
		    const char *const cell[_COL_MAX], struct libscols_line **ret)
{
	struct libscols_line *ln = scols_table_new_line(tb, parent);

	if (!ln)
		return -ENOMEM;
	for (int i = 0; i < _COL_MAX; i++)
		if (colmap[i] >= 0 && scols_line_set_data(ln, (size_t) colmap[i], cell[i]) < 0)
			return -ENOMEM;
	if (ret)
		*ret = ln;
	return 0;
}

static const char *node_cell(int node, char buf[64])
{
	if (node < 0)
		return "-";
	snprintf(buf, 64, "%d", node);
	return buf;
}

/* MIGRATE and COST: what the census says, "-" without one. */
static void census_cells(bool have, const struct mo_census *c, uint64_t cost, char buf[][64], const char **cell)
{
	cell[COL_MIGRATE] = have ? mo_format_size(job_report_migrate_bytes(c), buf[COL_MIGRATE]) : "-";
	if (!have)
		cell[COL_COST] = "-";
	else if (c->unmovable)
		cell[COL_COST] = "unmovable";
	else {
		snprintf(buf[COL_COST], 64, "%" PRIu64, cost);
		cell[COL_COST] = buf[COL_COST];
	}
}

/* Every cell of block @b but its name and node. */
static void block_cells(const struct mo_block_result *b, char buf[][64], const char **cell)
{
	cell[COL_RANGE] = job_report_range(b, buf[COL_RANGE], 64);
	cell[COL_SIZE] = mo_format_size(b->size, buf[COL_SIZE]);
	cell[COL_OUTCOME] = mo_outcome_to_string(b->outcome);
	cell[COL_WRITE] = mo_action_to_string(b->action);
	census_cells(b->have_census, &b->census, b->census.cost, buf, cell);
	snprintf(buf[COL_TRIES], 64, "%u", b->attempts);
	cell[COL_TRIES] = buf[COL_TRIES];
	cell[COL_TIME] = ctl_usec_str(b->usec, buf[COL_TIME]);
	cell[COL_REASON] = b->reason;
}

static int job_table(const struct mo_job_result *r)
{
	int colmap[_COL_MAX], ret = 0;
	struct libscols_table *tb = table_new(job_cols, r->action == MO_ACTION_OFFLINE, r->dry_run, colmap);

	if (!tb)
		return -ENOMEM;
	for (size_t k = 0; k < r->n_blocks && ret >= 0; k++) {
		const struct mo_block_result *b = &r->blocks[k];
		char buf[_COL_MAX][64];
		const char *cell[_COL_MAX] = {};

		block_cells(b, buf, cell);
		snprintf(buf[COL_NAME], 64, "%" PRIu64, b->index);
		cell[COL_NAME] = buf[COL_NAME];
		cell[COL_NODE] = node_cell(b->node, buf[COL_NODE]);
		ret = add_line(tb, NULL, colmap, cell, NULL);
	}
	if (ret >= 0)
		ret = scols_print_table(tb);
	scols_unref_table(tb);
	return ret;
}

/* Whether the release did anything with device @d (the table lists those). */
static bool touched(const struct mo_release_device_result *d)
{
	return d->outcome != MO_RELEASE_NOT_TRIED && d->outcome != MO_RELEASE_INELIGIBLE;
}

/* A line per device tried or planned; with @verbose, a line per block below it. */
static int release_table(const struct mo_release_result *r, bool verbose)
{
	int colmap[_COL_MAX], ret = 0;
	struct libscols_table *tb = table_new(release_cols, true, r->dry_run, colmap);

	if (!tb)
		return -ENOMEM;
	for (size_t k = 0; k < r->n_devices && ret >= 0; k++) {
		const struct mo_release_device_result *d = &r->devices[k];
		struct libscols_line *parent = NULL;
		char buf[_COL_MAX][64], name[32];
		const char *cell[_COL_MAX] = {};

		if (!touched(d))
			continue;
		cell[COL_NAME] = d->name;
		cell[COL_RANGE] = job_report_range(&(const struct mo_block_result) { .start = d->start, .size = d->size },
						   buf[COL_RANGE], 64);
		cell[COL_SIZE] = mo_format_size(d->size, buf[COL_SIZE]);
		cell[COL_NODE] = node_cell(d->node, buf[COL_NODE]);
		cell[COL_OUTCOME] = mo_release_outcome_to_string(d->outcome);
		census_cells(d->have_census, &d->census, d->cost, buf, cell);
		snprintf(buf[COL_TRIES], 64, "%u", d->tries);
		cell[COL_TRIES] = buf[COL_TRIES];
		cell[COL_TIME] = ctl_usec_str(d->usec, buf[COL_TIME]);
		cell[COL_REASON] = d->reason;
		ret = add_line(tb, NULL, colmap, cell, &parent);
		/* its blocks, on the device's node */
		for (size_t i = 0; verbose && ret >= 0 && i < d->n_blocks; i++) {
			block_cells(&d->blocks[i], buf, cell);
			snprintf(name, sizeof(name), "memory%" PRIu64, d->blocks[i].index);
			cell[COL_NAME] = name;
			ret = add_line(tb, parent, colmap, cell, NULL);
		}
	}
	if (ret >= 0)
		ret = scols_print_table(tb);
	scols_unref_table(tb);
	return ret;
}

/* ---- an offline or online job's summary ---- */

/* "8 not online, 171 not in an allowed zone, 1 spanning several zones (valid_zones: none)" */
static void print_skipped(FILE *f, const struct mo_job_result *r)
{
	bool first = true;

	for (int i = MO_SKIP_NONE + 1; i < _MO_SKIP_MAX; i++) {
		const char *what = mo_skip_to_string((enum mo_skip) i);

		if (!r->skipped[i])
			continue;
		if (i == MO_SKIP_STATE)
			what = r->action == MO_ACTION_OFFLINE ? "not online" : "not offline";
		fprintf(f, "%s%zu %s", first ? "" : ", ", r->skipped[i], what);
		first = false;
	}
	if (first)
		fputs("no block at all", f);
}

/* "Headroom: 11G available of 15G, reserve 781M[, 10G available after the plan][ (not enforced: --force)]." */
static void print_headroom(const struct mo_headroom *h, const struct mo_headroom *after, uint64_t reserve,
			   bool dry_run, bool force)
{
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX], c[MO_FORMAT_SIZE_MAX];

	printf("Headroom: %s available of %s, reserve %s", mo_format_size(h->mem_available, a),
	       mo_format_size(h->mem_total, b), mo_format_size(reserve, c));
	if (dry_run)
		printf(", %s available after the plan", mo_format_size(after->mem_available, a));
	if (force)
		fputs(" (not enforced: --force)", stdout);
	fputs(".\n", stdout);
}

static void job_summary(const struct job_report *rep)
{
	const struct mo_job_result *r = rep->res;
	bool offline = r->action == MO_ACTION_OFFLINE;
	char done[MO_FORMAT_SIZE_MAX], want[MO_FORMAT_SIZE_MAX], d[MO_DURATION_MAX];

	mo_format_size(r->done_bytes, done);
	mo_format_size(r->wanted_bytes, want);
	if (r->dry_run)
		printf("Plan: %s %s of %s (%" PRIu64 " of %" PRIu64 " blocks)", offline ? "offline" : "online", done,
		       want, r->done_blocks, r->wanted_blocks);
	else
		printf("%s %s of %s (%" PRIu64 " of %" PRIu64 " blocks) in %s", offline ? "Offlined" : "Onlined",
		       done, want, r->done_blocks, r->wanted_blocks, ctl_usec_str(r->usec, d));
	if (r->stop != MO_STOP_FINISHED)
		mo_escape_fprintf(stdout, ": %s", r->stop_reason);
	fputs(".\n", stdout);
	if (r->dry_run && r->size_request && r->n_memory_blocks)
		printf("Examined %zu of %zu blocks (%zu eligible).\n", r->n_examined, r->n_memory_blocks,
		       r->n_candidates);
	else if (r->dry_run && r->size_request)
		printf("Examined %zu block%s (%zu eligible).\n", r->n_examined, r->n_examined == 1 ? "" : "s",
		       r->n_candidates);

	if (r->size_request && r->n_candidates < r->wanted_blocks) {
		printf("Eligible blocks: %zu; left out: ", r->n_candidates);
		print_skipped(stdout, r);
		fputs(".\n", stdout);
	}
	if (offline && r->census_error && r->census_error != -ENOENT)
		printf("Page census unavailable (%s): blocks ranked by address.\n", strerror(-r->census_error));
	if (offline && r->have_headroom)
		print_headroom(&r->headroom, &r->headroom_after, r->reserve, r->dry_run, rep->force);
	if (r->rolled_back)
		printf("All-or-nothing: %s.\n", r->rollback_failed ?
		       "putting the blocks taken back online failed for some" :
		       "the blocks taken were put back online");
}

/* The blocked pages of every block given up on: a line per block, owner and kind (pins.h). */
static void print_blocked(const struct mo_job_result *r, struct mo_pin_report *const *blocked)
{
	_cleanup_free_ struct mo_pin_report **shown = calloc(r->n_blocks ? r->n_blocks : 1, sizeof(*shown));
	size_t n = 0;

	for (size_t i = 0; blocked && shown && i < r->n_blocks; i++)
		if (blocked[i])
			shown[n++] = blocked[i];
	(void) mo_pin_summary_print(stdout, shown, n);
	pinsout_notes(stdout, shown, n, true);
}

/* One line on stderr saying why the exit status is not 0. */
static void job_failure(const struct job_report *rep)
{
	const struct mo_job_result *r = rep->res;
	char done[MO_FORMAT_SIZE_MAX], want[MO_FORMAT_SIZE_MAX];
	const char *verb;

	if (!r)
		return;
	verb = r->action == MO_ACTION_OFFLINE ? "offline" : "online";
	mo_format_size(r->done_bytes, done);
	mo_format_size(r->wanted_bytes, want);
	if (r->size_request && r->n_candidates == 0) {
		mo_escape_fprintf(stderr, "memoffctl: %s %s: no eligible block (", verb, strempty(rep->request));
		print_skipped(stderr, r);
		fputs(")\n", stderr);
		return;
	}
	mo_escape_fprintf(stderr, "memoffctl: %s%s %s of %s: %s\n", r->dry_run ? "the plan would " : "", verb, done,
			  want, r->stop == MO_STOP_FINISHED ? "not every block could be done" : r->stop_reason);
}

/* ---- a release's summary ---- */

static void print_ineligible(FILE *f, const struct mo_release_result *r)
{
	unsigned shown = 0;

	for (size_t i = 0; i < r->n_devices; i++) {
		const struct mo_release_device_result *d = &r->devices[i];

		if (d->outcome != MO_RELEASE_INELIGIBLE)
			continue;
		if (shown++ == 4) {
			fputs("; ...", f);
			break;
		}
		mo_escape_fprintf(f, "; %s: %s", d->name, d->reason);
	}
}

static void release_summary(const struct job_report *rep)
{
	const struct mo_release_result *r = rep->release;
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX], d[MO_DURATION_MAX];
	uint64_t got = r->dry_run ? r->planned_bytes : r->released_bytes;
	unsigned n = r->dry_run ? r->planned_devices : r->released_devices;

	mo_format_size(got, a);
	mo_format_size(r->wanted_bytes, b);
	if (r->dry_run)
		printf("Plan: release %s for %s (%u device%s)", a, b, n, n == 1 ? "" : "s");
	else
		printf("Released %s of %s (%u device%s) in %s", a, b, n, n == 1 ? "" : "s", ctl_usec_str(r->usec, d));
	if (r->stop != MO_STOP_FINISHED)
		mo_escape_fprintf(stdout, ": %s", r->stop_reason);
	fputs(".\n", stdout);
	if (got > r->wanted_bytes)
		printf("Whole devices only: %s more than asked.\n", mo_format_size(got - r->wanted_bytes, a));
	printf("Devices: %zu hot-pluggable, %zu eligible (%s)", r->n_found, r->n_eligible,
	       mo_format_size(r->eligible_bytes, a));
	print_ineligible(stdout, r);
	fputs(".\n", stdout);
	if (r->census_error && r->census_error != -ENOENT)
		printf("Page census unavailable (%s): devices ranked by address.\n", strerror(-r->census_error));
	if (r->have_headroom)
		print_headroom(&r->headroom, &r->headroom_after, r->reserve, r->dry_run, rep->force);
}

/* Why the exit status is not 0, on stderr: the stop reason and each device that failed. */
static void release_failure(const struct job_report *rep)
{
	const struct mo_release_result *r = rep->release;
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX];

	mo_format_size(r->dry_run ? r->planned_bytes : r->released_bytes, a);
	mo_format_size(r->wanted_bytes, b);
	mo_escape_fprintf(stderr, "memoffctl: release %s: %s%s of %s: %s\n", strempty(rep->request),
			  r->dry_run ? "the plan would release " : "released ", a, b,
			  r->stop == MO_STOP_FINISHED ? "not every device could be released" : r->stop_reason);
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct mo_release_device_result *d = &r->devices[i];

		if (touched(d) && d->outcome != MO_RELEASE_RELEASED && d->outcome != MO_RELEASE_PLANNED)
			mo_escape_fprintf(stderr, "memoffctl: %s: %s: %s\n", d->name,
					  mo_release_outcome_to_string(d->outcome), d->reason);
	}
}

/* ---- the report ---- */

static void blocked_json(struct mo_json *j, size_t i, void *userdata)
{
	struct mo_pin_report *const *blocked = userdata;

	if (blocked[i])
		pinsout_json(j, "blocked_pages", blocked[i]);
	else
		mo_json_null(j, "blocked_pages");
}

static int print_text(const struct job_report *rep, struct mo_pin_report *const *blocked, bool verbose)
{
	const struct mo_release_result *rel = rep->release;
	int r = 0;

	if (rel) {
		bool any = false;

		for (size_t i = 0; i < rel->n_devices; i++)
			any |= touched(&rel->devices[i]);
		r = any ? release_table(rel, verbose) : 0;
		if (r >= 0)
			release_summary(rep);
		return r;
	}
	if (!rep->res)
		return -EINVAL;
	if (rep->res->n_blocks > 0)
		r = job_table(rep->res);
	if (r < 0)
		return r;
	job_summary(rep);
	print_blocked(rep->res, blocked);
	return 0;
}

int ctl_report_print(const struct job_report *rep, struct mo_pin_report *const *blocked,
		     const struct ctl_report_opts *o)
{
	int r = 0;

	if (o->quiet)
		;
	else if (o->json) {
		struct job_report with_pages = *rep;
		struct mo_json j;

		if (blocked && rep->res && rep->res->action == MO_ACTION_OFFLINE) {
			with_pages.blocked = blocked_json;
			with_pages.userdata = (void *) blocked;
		}
		mo_json_init(&j, stdout);
		job_report_json(&j, &with_pages);
	} else
		r = print_text(rep, blocked, o->verbose);
	fflush(stdout);
	if (r < 0)
		return ctl_error_errno(r, "cannot print the table");
	if (rep->exit_code != CTL_EXIT_OK && rep->release)
		release_failure(rep);
	else if (rep->exit_code != CTL_EXIT_OK)
		job_failure(rep);
	return rep->exit_code;
}

int ctl_report_print_doc(const char *text, const struct ctl_job_info *info, const char *what,
			 const struct ctl_report_opts *o)
{
	_cleanup_(job_report_doc_freep) struct job_report_doc *doc = NULL;
	_cleanup_free_ struct mo_pin_report **blocked = NULL;
	int r;

	r = job_report_parse(text, &doc);
	if (r < 0)
		return ctl_error_errno(r, "cannot read memoffd's report of %s", what);
	/* BlockedPages, in the order of the report's blocks */
	if (doc->rep.res) {
		blocked = calloc(doc->res.n_blocks ?: 1, sizeof(*blocked));
		for (size_t i = 0; blocked && i < doc->res.n_blocks; i++)
			for (size_t k = 0; k < info->n_blocked; k++)
				if (info->blocked[k]->block == doc->res.blocks[i].index)
					blocked[i] = info->blocked[k];
	}
	return ctl_report_print(&doc->rep, blocked, o);
}
