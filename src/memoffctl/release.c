/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl release: free a size as whole hot-pluggable memory devices and
 * eject them (release.h), in-process or through memoffd.
 */
#include "config.h"

#include <inttypes.h>
#include <libsmartcols.h>
#include <signal.h>
#include <unistd.h>

#include "client.h"
#include "common.h"
#include "format.h"
#include "json.h"
#include "parse.h"
#include "job-report.h"
#include "release.h"
#include "release-report.h"
#include "runner.h"
#include "verbs.h"

enum {
	OPT_EJECT_TIMEOUT = CTL_OPT_JOB_FIRST,
	OPT_MAX_TRIES,
};

struct opts {
	const char *arg;
	uint64_t eject_timeout;
	unsigned max_tries;
	bool have_max_tries;
	struct ctl_job_opts j;       /* the options every job verb takes (runner.h) */
};

/* ---- help ---- */

static void release_help(FILE *out)
{
	char d1[MO_DURATION_MAX], d2[MO_DURATION_MAX], d3[MO_DURATION_MAX];

	ctl_help_begin(out, "memoffctl release [options] <size>",
		       "Free <size> as whole hot-pluggable memory devices (ACPI DIMMs) and eject them,\n"
		       "so that the hypervisor gets the memory back. The cheapest devices go first\n"
		       "(nothing to migrate, then least to migrate); a device whose blocks will not\n"
		       "all go offline is put back online and another is tried. At least <size> is\n"
		       "freed, rounded up to whole devices by less than one device.");
	ctl_help_option(out, "-n, --node <node>", "release devices of this NUMA node only");
	ctl_help_option(out, "    --attempt-timeout <duration>", "end one offline write after this long (default: %s)",
			mo_format_duration(MO_JOB_ATTEMPT_TIMEOUT_USEC, d1, sizeof(d1)));
	ctl_help_option(out, "    --deadline <duration>", "end the whole request by then (default: %s;\n"
			"infinity: no limit)", mo_format_duration(MO_JOB_DEADLINE_USEC, d2, sizeof(d2)));
	ctl_help_option(out, "    --eject-timeout <duration>", "wait this long for an ejected device's memory to go\n"
			"(default: %s, never past the deadline)",
			mo_format_duration(MO_RELEASE_EJECT_TIMEOUT_USEC, d3, sizeof(d3)));
	ctl_help_option(out, "    --max-tries <n>", "tries per device, 0 for no limit (default: %u)",
			MO_BACKOFF_MAX_ATTEMPTS);
	ctl_help_option(out, "    --reserve <size>", "memory to keep available (default: the larger of\n"
			"256M and 5%% of RAM)");
	ctl_help_option(out, "    --force", "skip the headroom guard");
	ctl_help_option(out, "    --long-lived <duration>", "as for offline (default: 30s)");
	ctl_help_job_report(out, "print every attempt, and every block in the table");
	ctl_help_end(out, "Exit status: 0 all released, 1 nothing released, 64 partly released, 2 usage error.");
}

/* ---- parsing ---- */

static int parse_args(struct ctl_ctx *ctx, int argc, char *argv[], struct opts *o, int *ret_exit)
{
	static const struct option longopts[] = {
		{ "node",            required_argument, NULL, 'n' },
		{ "attempt-timeout", required_argument, NULL, CTL_OPT_ATTEMPT_TIMEOUT },
		{ "deadline",        required_argument, NULL, CTL_OPT_DEADLINE },
		{ "eject-timeout",   required_argument, NULL, OPT_EJECT_TIMEOUT },
		{ "max-tries",       required_argument, NULL, OPT_MAX_TRIES },
		{ "reserve",         required_argument, NULL, CTL_OPT_RESERVE },
		{ "force",           no_argument,       NULL, CTL_OPT_FORCE },
		{ "long-lived",      required_argument, NULL, CTL_OPT_LONG_LIVED },
		{ "dry-run",         no_argument,       NULL, CTL_OPT_DRY_RUN },
		{ "json",            no_argument,       NULL, 'J' },
		{ "quiet",           no_argument,       NULL, 'q' },
		{ "verbose",         no_argument,       NULL, 'v' },
		CTL_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *why = NULL;
	uint64_t size;
	int c, r;

	while ((c = ctl_getopt(ctx, argc, argv, "n:Jqv", longopts, ret_exit)) != -1) {
		if (c == CTL_GETOPT_EXIT)
			return -1;
		r = ctl_job_opt(c, optarg, &o->j, ret_exit);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		switch (c) {
		case OPT_EJECT_TIMEOUT:
			if (mo_parse_duration(optarg, &o->eject_timeout, &why) < 0 || o->eject_timeout == 0) {
				*ret_exit = ctl_usage_error("invalid eject timeout '%s': %s", optarg,
							    why ? why : "must be longer than zero");
				return -1;
			}
			break;
		case OPT_MAX_TRIES:
			if (ctl_parse_count("number of tries", optarg, &o->max_tries, ret_exit) < 0)
				return -1;
			o->have_max_tries = true;
			break;
		default:
			*ret_exit = ctl_usage_error("unexpected option");
			return -1;
		}
	}
	if (optind >= argc) {
		*ret_exit = ctl_usage_error("no size given");
		return -1;
	}
	if (optind + 1 < argc) {
		*ret_exit = ctl_usage_error("unexpected argument '%s'", argv[optind + 1]);
		return -1;
	}
	o->arg = argv[optind];
	if (mo_parse_size(o->arg, &size, &why) < 0) {
		*ret_exit = ctl_usage_error("invalid size '%s': %s", o->arg, strempty(why));
		return -1;
	}
	return 0;
}

/* ---- progress ---- */

struct ui {
	bool verbose;
	struct ctl_progress line;
	uint64_t block_size;
};

static void on_progress(const struct mo_release_progress *p, void *userdata)
{
	struct ui *u = userdata;
	const struct mo_job_progress *jp = p->job;
	char d[MO_DURATION_MAX], detail[128] = "";

	if (u->verbose) {
		ctl_progress_clear(&u->line);
		switch (p->phase) {
		case MO_RELEASE_PHASE_DEVICE:
			fprintf(stderr, "memoffctl: %s: try %u: taking its blocks offline\n", p->device, p->attempt);
			break;
		case MO_RELEASE_PHASE_BLOCK:
			if (jp->phase == MO_PHASE_RESULT)
				fprintf(stderr, "memoffctl: %s: block %" PRIu64 ": %s after %s: %s\n", p->device,
					jp->block, mo_outcome_to_string(jp->outcome), ctl_usec_str(jp->attempt_usec, d),
					strempty(jp->reason));
			else if (jp->phase == MO_PHASE_ROLLBACK)
				fprintf(stderr, "memoffctl: %s: block %" PRIu64 ": putting it back online\n", p->device,
					jp->block);
			break;
		case MO_RELEASE_PHASE_EJECT:
			fprintf(stderr, "memoffctl: %s: every block offline, ejecting\n", p->device);
			break;
		case MO_RELEASE_PHASE_RESULT:
			fprintf(stderr, "memoffctl: %s: %s: %s\n", p->device, mo_release_outcome_to_string(p->outcome),
				strempty(p->reason));
			break;
		case MO_RELEASE_PHASE_WAIT:
			fprintf(stderr, "memoffctl: waiting %s before trying a device again\n",
				ctl_usec_str(p->wait_usec, d));
			break;
		}
	}
	/* the one progress line (runner.h): bytes and blocks released, then what is going on */
	switch (p->phase) {
	case MO_RELEASE_PHASE_DEVICE:
		snprintf(detail, sizeof(detail), "%s try %u", p->device, p->attempt);
		break;
	case MO_RELEASE_PHASE_BLOCK:
		if (jp->phase == MO_PHASE_ROLLBACK)
			snprintf(detail, sizeof(detail), "%s: putting block %" PRIu64 " back online", p->device,
				 jp->block);
		else if (jp->block != UINT64_MAX)
			snprintf(detail, sizeof(detail), "%s: block %" PRIu64 " %s", p->device, jp->block,
				 jp->phase == MO_PHASE_RESULT ? mo_outcome_to_string(jp->outcome) : "offlining");
		break;
	case MO_RELEASE_PHASE_EJECT:
		snprintf(detail, sizeof(detail), "%s: ejecting", p->device);
		break;
	case MO_RELEASE_PHASE_RESULT:
		snprintf(detail, sizeof(detail), "%s %s", p->device, mo_release_outcome_to_string(p->outcome));
		break;
	case MO_RELEASE_PHASE_WAIT:
		snprintf(detail, sizeof(detail), "waiting %s", ctl_usec_str(p->wait_usec, d));
		break;
	}
	ctl_progress_draw(&u->line, p->released_bytes, p->wanted_bytes,
			  u->block_size ? p->released_bytes / u->block_size : 0,
			  u->block_size ? p->wanted_bytes / u->block_size : 0, detail);
}

/* ---- report ---- */

static bool touched(const struct mo_release_device_result *d)
{
	return d->outcome != MO_RELEASE_NOT_TRIED && d->outcome != MO_RELEASE_INELIGIBLE;
}

enum {
	COL_DEVICE,
	COL_RANGE,
	COL_SIZE,
	COL_NODE,
	COL_OUTCOME,
	COL_MIGRATE,
	COL_COST,
	COL_TRIES,
	COL_TIME,
	COL_REASON,
	_COL_MAX,
};

static const struct {
	const char *name;
	int flags;
} cols[_COL_MAX] = {
	[COL_DEVICE] = { "DEVICE", SCOLS_FL_TREE },
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

static void census_cells(bool have, const struct mo_census *c, uint64_t cost, char *migrate, char *costbuf)
{
	if (!have) {
		strcpy(migrate, "-");
		strcpy(costbuf, "-");
		return;
	}
	mo_format_size(job_report_migrate_bytes(&(const struct mo_block_result) { .census = *c }), migrate);
	if (c->unmovable)
		strcpy(costbuf, "unmovable");
	else
		snprintf(costbuf, 64, "%" PRIu64, cost);
}

static int print_table(const struct opts *o, const struct mo_release_result *r)
{
	struct libscols_table *tb;
	int colmap[_COL_MAX], n = 0, ret = 0;

	for (int i = 0; i < _COL_MAX; i++) {
		bool show = true;

		if (i == COL_MIGRATE || i == COL_COST)
			show = r->dry_run;
		else if (i == COL_TRIES || i == COL_TIME)
			show = !r->dry_run;
		colmap[i] = show ? n++ : -1;
	}
	tb = scols_new_table();
	if (!tb)
		return -ENOMEM;
	for (int i = 0; i < _COL_MAX; i++) {
		const char *name = i == COL_OUTCOME && r->dry_run ? "PLAN" : cols[i].name;

		if (colmap[i] >= 0 && !scols_table_new_column(tb, name, 0, cols[i].flags)) {
			ret = -ENOMEM;
			goto out;
		}
	}
	for (size_t k = 0; k < r->n_devices; k++) {
		const struct mo_release_device_result *d = &r->devices[k];
		struct libscols_line *parent = NULL;
		char buf[_COL_MAX][64];
		const char *cell[_COL_MAX] = {};

		if (!touched(d))
			continue;
		cell[COL_DEVICE] = d->name;
		job_report_range(&(const struct mo_block_result) { .start = d->start, .size = d->size },
				 buf[COL_RANGE], 64);
		cell[COL_RANGE] = buf[COL_RANGE];
		cell[COL_SIZE] = mo_format_size(d->size, buf[COL_SIZE]);
		snprintf(buf[COL_NODE], 64, d->node >= 0 ? "%d" : "-", d->node);
		cell[COL_NODE] = buf[COL_NODE];
		cell[COL_OUTCOME] = mo_release_outcome_to_string(d->outcome);
		census_cells(d->have_census, &d->census, d->cost, buf[COL_MIGRATE], buf[COL_COST]);
		cell[COL_MIGRATE] = buf[COL_MIGRATE];
		cell[COL_COST] = buf[COL_COST];
		snprintf(buf[COL_TRIES], 64, "%u", d->tries);
		cell[COL_TRIES] = buf[COL_TRIES];
		cell[COL_TIME] = ctl_usec_str(d->usec, buf[COL_TIME]);
		cell[COL_REASON] = d->reason;
		ret = add_line(tb, NULL, colmap, cell, &parent);
		if (ret < 0)
			goto out;
		if (!o->j.verbose)
			continue;
		for (size_t i = 0; i < d->n_blocks; i++) {
			const struct mo_block_result *b = &d->blocks[i];
			char name[32];

			snprintf(name, sizeof(name), "memory%" PRIu64, b->index);
			cell[COL_DEVICE] = name;
			job_report_range(b, buf[COL_RANGE], 64);
			cell[COL_SIZE] = mo_format_size(b->size, buf[COL_SIZE]);
			cell[COL_OUTCOME] = mo_outcome_to_string(b->outcome);
			census_cells(b->have_census, &b->census, b->census.cost, buf[COL_MIGRATE], buf[COL_COST]);
			snprintf(buf[COL_TRIES], 64, "%u", b->attempts);
			cell[COL_TIME] = ctl_usec_str(b->usec, buf[COL_TIME]);
			cell[COL_REASON] = b->reason;
			ret = add_line(tb, parent, colmap, cell, NULL);
			if (ret < 0)
				goto out;
		}
	}
	ret = scols_print_table(tb);
out:
	scols_unref_table(tb);
	return ret;
}

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
		fprintf(f, "; %s: %s", d->name, d->reason);
	}
}

static void print_summary(const struct opts *o, const struct mo_release_result *r)
{
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX], c[MO_FORMAT_SIZE_MAX], d[MO_DURATION_MAX];
	uint64_t got = r->dry_run ? r->planned_bytes : r->released_bytes;
	unsigned n = r->dry_run ? r->planned_devices : r->released_devices;

	mo_format_size(got, a);
	mo_format_size(r->wanted_bytes, b);
	if (r->dry_run)
		printf("Plan: release %s for %s (%u device%s)", a, b, n, n == 1 ? "" : "s");
	else
		printf("Released %s of %s (%u device%s) in %s", a, b, n, n == 1 ? "" : "s", ctl_usec_str(r->usec, d));
	if (r->stop != MO_STOP_FINISHED)
		printf(": %s", r->stop_reason);
	fputs(".\n", stdout);
	if (got > r->wanted_bytes)
		printf("Whole devices only: %s more than asked.\n", mo_format_size(got - r->wanted_bytes, a));
	printf("Devices: %zu hot-pluggable, %zu eligible (%s)", r->n_found, r->n_eligible,
	       mo_format_size(r->eligible_bytes, a));
	print_ineligible(stdout, r);
	fputs(".\n", stdout);
	if (r->census_error && r->census_error != -ENOENT)
		printf("Page census unavailable (%s): devices ranked by address.\n", strerror(-r->census_error));
	if (r->have_headroom) {
		printf("Headroom: %s available of %s, reserve %s", mo_format_size(r->headroom.mem_available, a),
		       mo_format_size(r->headroom.mem_total, b), mo_format_size(r->reserve, c));
		if (r->dry_run)
			printf(", %s available after the plan", mo_format_size(r->headroom_after.mem_available, a));
		if (o->j.force)
			fputs(" (not enforced: --force)", stdout);
		fputs(".\n", stdout);
	}
}

/* Why the exit status is not 0, on stderr: the stop reason and each device that failed. */
static void print_failure(const struct opts *o, const struct mo_release_result *r, int exit_code)
{
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX];

	if (exit_code == CTL_EXIT_OK)
		return;
	mo_format_size(r->dry_run ? r->planned_bytes : r->released_bytes, a);
	mo_format_size(r->wanted_bytes, b);
	fprintf(stderr, "memoffctl: release %s: %s%s of %s: %s\n", o->arg, r->dry_run ? "the plan would release " :
		"released ", a, b, r->stop == MO_STOP_FINISHED ? "not every device could be released" :
		r->stop_reason);
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct mo_release_device_result *d = &r->devices[i];

		if (touched(d) && d->outcome != MO_RELEASE_RELEASED && d->outcome != MO_RELEASE_PLANNED)
			fprintf(stderr, "memoffctl: %s: %s: %s\n", d->name, mo_release_outcome_to_string(d->outcome),
				d->reason);
	}
}

/* ---- the report, whoever ran the release ---- */

/* The one renderer, as offline's: -J the document (release-report.h), else the table and the summary. */
static int print_report(const struct opts *o, const struct mo_release_result *res)
{
	int ex = mo_release_exit_code(res), r;

	if (o->j.quiet)
		;
	else if (o->j.json) {
		const struct release_report rep = { .request = o->arg, .force = o->j.force, .exit_code = ex, .res = res };
		struct mo_json j;

		mo_json_init(&j, stdout);
		release_report_json(&j, &rep);
	} else {
		bool any = false;

		for (size_t i = 0; i < res->n_devices; i++)
			any |= touched(&res->devices[i]);
		r = any ? print_table(o, res) : 0;
		if (r < 0)
			return ctl_error_errno(r, "cannot print the table");
		print_summary(o, res);
	}
	fflush(stdout);
	print_failure(o, res, ex);
	return ex;
}

/* ---- through memoffd ---- */

static int run_on_daemon(sd_bus *bus, const struct opts *o, struct ctl_progress *line)
{
	struct ctl_client_request cr = CTL_CLIENT_REQUEST_INIT;
	_cleanup_(release_report_doc_freep) struct release_report_doc *doc = NULL;
	_cleanup_free_ char *text = NULL;
	struct ctl_job_info info = {};
	char what[128];
	int r, ex;

	snprintf(what, sizeof(what), "release %s", o->arg);
	ctl_job_opts_request(&o->j, &cr);
	cr.release = true;
	cr.by = "size";
	cr.what = o->arg;
	cr.eject_timeout_usec = o->eject_timeout;
	cr.max_attempts = o->have_max_tries ? (int) o->max_tries : -1;
	ex = ctl_runner_daemon_job(bus, &cr, o->j.quiet, line, what, &text, &info);
	if (ex >= 0)
		return ex;
	ctl_job_info_done(&info);
	r = release_report_parse(text, &doc);
	if (r < 0)
		return ctl_error_errno(r, "cannot read memoffd's report of %s", what);
	return print_report(o, &doc->res);
}

/* ---- the verb ---- */

static int verb_release(struct ctl_ctx *ctx, int argc, char *argv[])
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	_cleanup_free_ char *error = NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	struct opts o = { .j = CTL_JOB_OPTS_INIT };
	struct mo_release_options ro;
	struct ui ui = {};
	char bs[MO_FORMAT_SIZE_MAX];
	const char *why = NULL;
	uint64_t size;
	int r, ex;

	/* From the first option on, a SIGINT/SIGTERM is a cancel request, answered with a report. */
	ctl_runner_signals();
	if (parse_args(ctx, argc, argv, &o, &ex) < 0)
		return ex;
	ui.verbose = o.j.verbose;
	ui.line = (struct ctl_progress) {
		.tty = isatty(STDERR_FILENO) == 1 && !o.j.dry_run && !o.j.json && !o.j.quiet,
		.verb = "release",
	};

	/* A running memoffd does the work (and serializes it with its other jobs). */
	switch (ctl_runner_connect(ctx, o.j.dry_run, &bus)) {
	case 1:
		return run_on_daemon(bus, &o, &ui.line);
	case 0:
		break;
	default:
		return CTL_EXIT_FAILED;
	}

	if (ctl_open_root(ctx, &root) < 0)
		return CTL_EXIT_FAILED;
	r = mo_memory_load(root, &mem);
	if (r < 0) {
		_cleanup_free_ char *p = ctl_sys_path(root->sysroot, MO_SYSFS_MEMORY);

		return ctl_error_errno(r, "cannot read memory blocks in %s", strempty(p));
	}
	(void) mo_parse_size(o.arg, &size, &why);
	ui.block_size = mem->block_size;
	if (mo_check_size_aligned(size, mem->block_size, &why) < 0)
		return ctl_usage_error("size '%s': %s (%s)", o.arg, strempty(why), mo_format_size(mem->block_size, bs));

	if (!o.j.dry_run && mo_root_write_allowed(root) < 0) {
		_cleanup_free_ char *p = ctl_sys_path(root->sysroot, NULL);

		return ctl_error("refusing to change memory state in %s: %s=1 forbids writes to a live sysfs",
				 strempty(p), MO_GUARD_ENV);
	}

	mo_release_options_init(&ro);
	if (o.j.attempt_timeout)
		ro.attempt_timeout_usec = o.j.attempt_timeout;
	if (o.j.deadline)
		ro.deadline_usec = o.j.deadline;
	if (o.eject_timeout)
		ro.eject_timeout_usec = o.eject_timeout;
	if (o.have_max_tries)
		ro.backoff.max_attempts = o.max_tries;
	ro.backoff.seed = (uint64_t) getpid() ^ mo_monotonic_usec();
	ro.reserve = o.j.reserve;
	ro.force = o.j.force;
	ro.dry_run = o.j.dry_run;
	ro.node = o.j.node;
	ro.cancel = &ctl_cancel_requested;
	ro.progress = on_progress;
	ro.progress_userdata = &ui;

	r = mo_release_new(root, size, &ro, &rel, &error);
	if (r == -EINVAL)
		return ctl_usage_error("release %s: %s", o.arg, error ? error : strerror(-r));
	if (r < 0)
		return ctl_error("release %s: %s", o.arg, error ? error : strerror(-r));

	r = mo_release_run(rel);
	ctl_progress_clear(&ui.line);
	if (r < 0)
		return ctl_error_errno(r, "release %s", o.arg);

	return print_report(&o, mo_release_result(rel));
}

const struct ctl_verb ctl_verb_release = {
	.name = "release",
	.summary = "free memory as whole hot-pluggable DIMMs and eject them",
	.run = verb_release,
	.help = release_help,
};
