/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl release: free a size as whole hot-pluggable memory devices and
 * eject them (release.h), in-process or through memoffd.
 */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <unistd.h>

#include "client.h"
#include "common.h"
#include "escape.h"
#include "forensics.h"
#include "format.h"
#include "parse.h"
#include "progress-text.h"
#include "release.h"
#include "report.h"
#include "runner.h"
#include "stall.h"
#include "verbs.h"

enum {
	OPT_EJECT_TIMEOUT = CTL_OPT_JOB_FIRST,
	OPT_MAX_TRIES,
};

struct opts {
	const char *arg;
	uint64_t size;
	uint64_t eject_timeout;
	unsigned max_tries;
	bool have_max_tries;
	struct ctl_job_opts j;       /* the options every job verb takes (runner.h) */
};

/* ---- help ---- */

static void release_help(FILE *out)
{
	char d1[MO_DURATION_MAX], d2[MO_DURATION_MAX], d3[MO_DURATION_MAX], d4[MO_DURATION_MAX];

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
	ctl_help_option(out, "    --stall-grace <duration>", "as for offline; 0 = off (default: %s; through\n"
			"memoffd its StallGrace=)", mo_format_duration(MO_STALL_GRACE_USEC, d4, sizeof(d4)));
	ctl_help_job_report(out, "print every attempt, and every block in the table");
	ctl_help_end(out, "Exit status: 0 all released, 1 nothing released, 64 partly released, 2 usage error.");
}

/* ---- parsing ---- */

static int parse_args(struct ctl_ctx *ctx, int argc, char *argv[], struct opts *o, int *ret_exit)
{
	static const struct option longopts[] = {
		CTL_JOB_LONGOPTS,
		CTL_JOB_TAKE_LONGOPTS,
		{ "eject-timeout",   required_argument, NULL, OPT_EJECT_TIMEOUT },
		{ "max-tries",       required_argument, NULL, OPT_MAX_TRIES },
		CTL_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	const char *why = NULL;
	int c;

	while ((c = ctl_job_getopt(ctx, argc, argv, CTL_JOB_SHORTOPTS, longopts, &o->j, ret_exit)) != -1) {
		switch (c) {
		case CTL_GETOPT_EXIT:
			return -1;
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
	o->arg = ctl_job_arg(argc, argv, "no size given", ret_exit);
	if (!o->arg)
		return -1;
	if (mo_parse_size(o->arg, &o->size, &why) < 0) {
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
	char d[MO_DURATION_MAX], detail[PROGRESS_TEXT_MAX];

	if (u->verbose) {
		ctl_progress_clear(&u->line);
		switch (p->phase) {
		case MO_RELEASE_PHASE_DEVICE:
			mo_escape_fprintf(stderr, "memoffctl: %s: try %u: taking its blocks offline\n", p->device,
					  p->attempt);
			break;
		case MO_RELEASE_PHASE_BLOCK:
			if (jp->phase == MO_PHASE_RESULT)
				mo_escape_fprintf(stderr, "memoffctl: %s: block %" PRIu64 ": %s after %s: %s\n",
						  p->device, jp->block, mo_outcome_to_string(jp->outcome),
						  ctl_usec_str(jp->attempt_usec, d), strempty(jp->reason));
			else if (jp->phase == MO_PHASE_ROLLBACK)
				mo_escape_fprintf(stderr, "memoffctl: %s: block %" PRIu64 ": putting it back online\n",
						  p->device, jp->block);
			break;
		case MO_RELEASE_PHASE_EJECT:
			mo_escape_fprintf(stderr, "memoffctl: %s: every block offline, ejecting\n", p->device);
			break;
		case MO_RELEASE_PHASE_RESULT:
			mo_escape_fprintf(stderr, "memoffctl: %s: %s: %s\n", p->device,
					  mo_release_outcome_to_string(p->outcome), strempty(p->reason));
			break;
		case MO_RELEASE_PHASE_WAIT:
			fprintf(stderr, "memoffctl: waiting %s before trying a device again\n",
				ctl_usec_str(p->wait_usec, d));
			break;
		}
	}
	/* the one progress line (runner.h): bytes and blocks released, then what is going on */
	ctl_progress_draw(&u->line, p->released_bytes, p->wanted_bytes,
			  u->block_size ? p->released_bytes / u->block_size : 0,
			  u->block_size ? p->wanted_bytes / u->block_size : 0, progress_text_release(p, detail));
}

/* ---- through memoffd ---- */

static int run_on_daemon(sd_bus *bus, const struct opts *o, struct ctl_progress *line)
{
	struct ctl_client_request cr = CTL_CLIENT_REQUEST_INIT;
	char what[128];

	snprintf(what, sizeof(what), "release %s", o->arg);
	ctl_job_opts_request(&o->j, &cr);
	cr.release = true;
	cr.by = "size";
	cr.what = o->arg;
	cr.eject_timeout_usec = o->eject_timeout;
	cr.max_attempts = o->have_max_tries ? (int) o->max_tries : -1;
	return ctl_runner_daemon_job(bus, &cr, &o->j, line, what);
}

/* ---- the verb ---- */

static int verb_release(struct ctl_ctx *ctx, int argc, char *argv[])
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	_cleanup_(mo_forensics_freep) struct mo_forensics *forensics = NULL;
	_cleanup_free_ char *error = NULL;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	struct opts o = { .j = CTL_JOB_OPTS_INIT };
	struct mo_release_options ro;
	const struct mo_release_result *res;
	struct ctl_report_opts report_opts;
	struct job_report rep;
	struct ui ui = {};
	char bs[MO_FORMAT_SIZE_MAX];
	const char *why = NULL;
	int r, ex;

	/* From the first option on, a SIGINT/SIGTERM is a cancel request, answered with a report. */
	ctl_runner_signals();
	if (parse_args(ctx, argc, argv, &o, &ex) < 0)
		return ex;
	ui.verbose = o.j.verbose;
	ctl_progress_init(&ui.line, "release", &o.j);

	/* A running memoffd does the work (and serializes it with its other jobs). */
	switch (ctl_runner_connect(ctx, o.j.dry_run, &bus)) {
	case 1:
		return run_on_daemon(bus, &o, &ui.line);
	case 0:
		break;
	default:
		return CTL_EXIT_FAILED;
	}

	if (ctl_open_memory(ctx, true, &root, &mem) < 0)
		return CTL_EXIT_FAILED;
	ui.block_size = mem->block_size;
	if (mo_check_size_aligned(o.size, mem->block_size, &why) < 0)
		return ctl_usage_error("size '%s': %s (%s)", o.arg, strempty(why), mo_format_size(mem->block_size, bs));
	r = ctl_runner_may_write(root, &o.j);
	if (r != 0)
		return r;

	mo_release_options_init(&ro);
	CTL_ENGINE_OPTIONS(&ro, &o.j);
	if (o.eject_timeout)
		ro.eject_timeout_usec = o.eject_timeout;
	if (o.have_max_tries)
		ro.backoff.max_attempts = o.max_tries;
	ro.progress = on_progress;
	ro.progress_userdata = &ui;
	if (!o.j.dry_run) {
		/*
		 * As for offline (jobcli.c): an attempt whose migration has
		 * stalled ends after the stall grace instead of its timeout
		 * (memoffd's release jobs do the same); with -v the blocked
		 * pages are logged to stderr as they are found.
		 */
		const struct mo_forensics_opts fo = { .long_lived_usec = o.j.long_lived, .log = o.j.verbose,
						      .stall_grace_usec = o.j.stall_grace != UINT64_MAX ?
									  o.j.stall_grace : MO_STALL_GRACE_USEC };

		if (mo_forensics_new(root, &fo, &forensics) == 0) {
			ro.hooks.job.attempt = mo_forensics_attempt;
			ro.hooks.job.userdata = forensics;
		}
	}

	r = mo_release_new(root, o.size, &ro, &rel, &error);
	if (r == -EINVAL)
		return ctl_usage_error("release %s: %s", o.arg, error ? error : strerror(-r));
	if (r < 0)
		return ctl_error("release %s: %s", o.arg, error ? error : strerror(-r));

	r = mo_release_run(rel);
	ctl_progress_clear(&ui.line);
	if (r < 0)
		return ctl_error_errno(r, "release %s", o.arg);

	res = mo_release_result(rel);
	rep = (struct job_report) { .request = o.arg, .force = o.j.force, .exit_code = mo_release_exit_code(res),
				    .release = res };
	report_opts = ctl_job_opts_report(&o.j);
	return ctl_report_print(&rep, NULL, &report_opts);
}

CTL_VERB(release, "free memory as whole hot-pluggable DIMMs and eject them");
