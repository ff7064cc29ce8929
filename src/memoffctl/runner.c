/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The job verbs' shared runner: see runner.h.
 */
#include "config.h"

#include <inttypes.h>

#include "client.h"
#include "escape.h"
#include "format.h"
#include "job.h"
#include "report.h"
#include "runner.h"

volatile sig_atomic_t ctl_cancel_requested;

static void on_signal(int sig)
{
	ctl_cancel_requested = 1;
}

void ctl_runner_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	(void) sigaction(SIGINT, &sa, NULL);
	(void) sigaction(SIGTERM, &sa, NULL);
}

static int duration_opt(const char *what, const char *arg, bool infinity_ok, uint64_t *ret, int *ret_exit)
{
	const char *why = NULL;
	int r = infinity_ok ? mo_parse_timeout(arg, ret, &why) : mo_parse_duration(arg, ret, &why);

	if (r < 0 || *ret == 0) {
		*ret_exit = ctl_usage_error("invalid %s '%s': %s", what, arg, why ? why : "must be longer than zero");
		return -1;
	}
	if (*ret == MO_USEC_INFINITY)
		*ret = CTL_DEADLINE_INFINITY_USEC;
	return 0;
}

int ctl_parse_count(const char *what, const char *arg, unsigned *ret, int *ret_exit)
{
	if (mo_parse_unsigned(arg, 1000000, ret) < 0) {
		*ret_exit = ctl_usage_error("invalid %s '%s': expected a whole number from 0 to 1000000", what, arg);
		return -1;
	}
	return 0;
}

int ctl_job_opt(int c, const char *arg, struct ctl_job_opts *o, int *ret_exit)
{
	const char *why = NULL;
	unsigned u;

	switch (c) {
	case 'n':
		if (mo_parse_unsigned(arg, 1 << 20, &u) < 0) {
			*ret_exit = ctl_usage_error("invalid node '%s'", arg);
			return -1;
		}
		o->node = (int) u;
		return 1;
	case CTL_OPT_ATTEMPT_TIMEOUT:
		return duration_opt("attempt timeout", arg, false, &o->attempt_timeout, ret_exit) < 0 ? -1 : 1;
	case CTL_OPT_DEADLINE:
		return duration_opt("deadline", arg, true, &o->deadline, ret_exit) < 0 ? -1 : 1;
	case CTL_OPT_LONG_LIVED:
		return duration_opt("long-lived threshold", arg, false, &o->long_lived, ret_exit) < 0 ? -1 : 1;
	case CTL_OPT_STALL_GRACE:
		/* 0 is allowed: no stall detection */
		if (mo_parse_duration(arg, &o->stall_grace, &why) < 0 || o->stall_grace == UINT64_MAX) {
			*ret_exit = ctl_usage_error("invalid stall grace '%s': %s", arg,
						    why ? why : "must be finite (0 turns stall detection off)");
			return -1;
		}
		return 1;
	case CTL_OPT_RESERVE:
		if (mo_parse_size(arg, &o->reserve, &why) < 0) {
			*ret_exit = ctl_usage_error("invalid reserve '%s': %s", arg, strempty(why));
			return -1;
		}
		return 1;
	case CTL_OPT_FORCE:
		o->force = true;
		return 1;
	case CTL_OPT_DRY_RUN:
		o->dry_run = true;
		return 1;
	case 'J':
		o->json = true;
		return 1;
	case 'q':
		o->quiet = true;
		return 1;
	case 'v':
		o->verbose = true;
		return 1;
	default:
		return 0;
	}
}

int ctl_job_getopt(struct ctl_ctx *ctx, int argc, char *argv[], const char *shortopts, const struct option *longopts,
		   struct ctl_job_opts *o, int *ret_exit)
{
	int c = -1, r;

	do {
		c = ctl_getopt(ctx, argc, argv, shortopts, longopts, ret_exit);
		if (c == -1 || c == CTL_GETOPT_EXIT)
			return c;
		r = ctl_job_opt(c, optarg, o, ret_exit);
		if (r < 0)
			return CTL_GETOPT_EXIT;
	} while (r > 0);
	return c;
}

const char *ctl_job_arg(int argc, char *argv[], const char *missing, int *ret_exit)
{
	if (optind >= argc) {
		*ret_exit = ctl_usage_error("%s", missing);
		return NULL;
	}
	if (optind + 1 < argc) {
		*ret_exit = ctl_usage_error("unexpected argument '%s'", argv[optind + 1]);
		return NULL;
	}
	return argv[optind];
}

int ctl_runner_may_write(const struct mo_root *root, const struct ctl_job_opts *o)
{
	_cleanup_free_ char *p = NULL;

	if (o->dry_run || mo_root_write_allowed(root) == 0)
		return 0;
	p = ctl_sys_path(root->sysroot, NULL);
	return ctl_error("refusing to change memory state in %s: %s=1 forbids writes to a live sysfs", strempty(p),
			 MO_GUARD_ENV);
}

int ctl_runner_connect(const struct ctl_ctx *ctx, bool dry_run, sd_bus **ret)
{
	int r;

	/* A plan reads and never writes: here, with MIGRATE, COST and the headroom, daemon or not. */
	if (dry_run || !ctl_client_wanted(ctx))
		return 0;
	r = ctl_client_open(ret);
	if (r == -ENOENT || r == -ECONNREFUSED)
		return 0;
	if (r < 0) {
		ctl_error_errno(r, "cannot talk to memoffd (try --direct)");
		return -1;
	}
	return 1;
}

void ctl_job_opts_request(const struct ctl_job_opts *o, struct ctl_client_request *cr)
{
	cr->node = o->node;
	cr->attempt_timeout_usec = o->attempt_timeout;
	cr->deadline_usec = o->deadline;
	cr->reserve = o->reserve;   /* MO_JOB_RESERVE_DEFAULT (UINT64_MAX): the daemon's Reserve= */
	cr->long_lived_usec = o->long_lived;
	cr->stall_grace_usec = o->stall_grace;
	cr->force = o->force;
}

struct ctl_report_opts ctl_job_opts_report(const struct ctl_job_opts *o)
{
	return (struct ctl_report_opts) { .json = o->json, .quiet = o->quiet, .verbose = o->verbose };
}

int ctl_runner_daemon_job(sd_bus *bus, const struct ctl_client_request *cr, const struct ctl_job_opts *o,
			  struct ctl_progress *line, const char *what)
{
	_cleanup_free_ char *path = NULL, *text = NULL;
	const struct ctl_report_opts ro = ctl_job_opts_report(o);
	struct ctl_job_info info = {};
	int r, ex;

	if (ctl_client_start_job(bus, cr, &path, &ex) < 0)
		return ex;
	/* the one line that differs from a job run here: which job to watch or cancel */
	if (!o->quiet)
		fprintf(stderr, "memoffctl: memoffd job %s\n", strrchr(path, '/') + 1);
	r = ctl_client_wait(bus, path, line, true, &info);
	if (r < 0)
		return ctl_error_errno(r, "lost track of %s", path);
	r = ctl_client_get_report(bus, path, &text);
	if (r < 0)
		ex = ctl_error_errno(r, "cannot read the report of %s", path);
	else if (!*text)
		/* the job could not run at all: its message says why */
		ex = ctl_error("%s: %s", what, strempty(info.message));
	else
		ex = ctl_report_print_doc(text, &info, what, &ro);
	ctl_job_info_done(&info);
	return ex;
}

void ctl_help_job_report(FILE *out, const char *verbose)
{
	ctl_help_option(out, "    --dry-run", "print the plan and change nothing (always in-process)");
	ctl_help_option(out, "-J, --json", "use JSON output format");
	ctl_help_option(out, "-q, --quiet", "print no report, only why the exit status is not 0");
	ctl_help_option(out, "-v, --verbose", "%s", verbose);
}

const char *ctl_usec_str(uint64_t usec, char buf[static MO_DURATION_MAX])
{
	return mo_format_duration((usec + 500) / 1000 * 1000, buf, MO_DURATION_MAX);
}

void ctl_progress_init(struct ctl_progress *p, const char *verb, const struct ctl_job_opts *o)
{
	*p = (struct ctl_progress) {
		.tty = isatty(STDERR_FILENO) == 1 && !o->dry_run && !o->json && !o->quiet,
		.verb = verb,
	};
}

void ctl_progress_draw(struct ctl_progress *p, uint64_t done_bytes, uint64_t wanted_bytes, uint64_t done_blocks,
		       uint64_t wanted_blocks, const char *detail)
{
	char done[MO_FORMAT_SIZE_MAX], want[MO_FORMAT_SIZE_MAX];

	if (!p->tty)
		return;
	fputs("\r\033[K", stderr);
	mo_escape_fprintf(stderr, "%s %s of %s (%" PRIu64 "/%" PRIu64 " blocks)%s%s", p->verb,
			  mo_format_size(done_bytes, done), mo_format_size(wanted_bytes, want), done_blocks,
			  wanted_blocks, detail && *detail ? ", " : "", strempty(detail));
	fflush(stderr);
	p->line = true;
}

void ctl_progress_clear(struct ctl_progress *p)
{
	if (p->line) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->line = false;
	}
}
