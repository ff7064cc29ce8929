/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the job verbs (offline, online, release) share, whoever runs the job:
 *
 *  - one cancel flag: from the first option parsed on, SIGINT and SIGTERM
 *    set it (no SA_RESTART, so a spinning write ends at once); the engine
 *    in-process reads it, and so does the wait for a daemon's job, which
 *    then cancels the job and goes on waiting for its report;
 *  - the engine options every job verb takes (--attempt-timeout,
 *    --deadline, --reserve, --force, --long-lived, --stall-grace, --dry-run,
 *    -J, -q, -v, -n)
 *    and their parsing;
 *  - the one "daemon, else in-process" decision: connect once, or say that
 *    the job runs here;
 *  - one progress line on a terminal ("offline 128M of 256M (1/2 blocks),
 *    block 33 attempt 2"), drawn from the engine's progress in-process and
 *    from the job's properties through the daemon, in the same words
 *    (progress-text.h, memoffd's Job1.Progress);
 *  - the option table, getopt loop and one-argument tail of a job verb, the
 *    write guard, and the engine options from the shared ones;
 *  - through the daemon, the job's report printed by the renderer a job run
 *    here uses (report.h).
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "common.h"
#include "parse.h"

/* Set by SIGINT/SIGTERM once ctl_runner_signals() ran. */
extern volatile sig_atomic_t ctl_cancel_requested;

/** ctl_runner_signals() - make SIGINT/SIGTERM a cancel request (see above). */
void ctl_runner_signals(void);

/* getopt values of the shared engine options. */
enum {
	CTL_OPT_ATTEMPT_TIMEOUT = CTL_OPT_VERB_FIRST,
	CTL_OPT_DEADLINE,
	CTL_OPT_RESERVE,
	CTL_OPT_FORCE,
	CTL_OPT_DRY_RUN,
	CTL_OPT_LONG_LIVED,
	CTL_OPT_STALL_GRACE,
	/* a job verb numbers its own long-only options from here on */
	CTL_OPT_JOB_FIRST = CTL_OPT_VERB_FIRST + 0x40,
};

/* The deadline memoffd and the engine take for "infinity": 100 years. */
#define CTL_DEADLINE_INFINITY_USEC (UINT64_C(100) * 365 * 24 * 3600 * 1000000)

struct ctl_job_opts {
	int node;                     /* -n; -1: any */
	uint64_t attempt_timeout;     /* 0: the default */
	uint64_t deadline;            /* 0: the default */
	uint64_t reserve;             /* MO_JOB_RESERVE_DEFAULT: the default */
	uint64_t long_lived;          /* 0: the default */
	uint64_t stall_grace;         /* UINT64_MAX: the default; 0: no stall detection */
	bool force, dry_run, json, quiet, verbose;
};

#define CTL_JOB_OPTS_INIT { .node = -1, .reserve = MO_JOB_RESERVE_DEFAULT, .stall_grace = UINT64_MAX }

/* The long options every job verb takes; a verb's struct option array lists them first. */
#define CTL_JOB_LONGOPTS                                                          \
	{ "node",            required_argument, NULL, 'n' },                      \
	{ "attempt-timeout", required_argument, NULL, CTL_OPT_ATTEMPT_TIMEOUT },  \
	{ "deadline",        required_argument, NULL, CTL_OPT_DEADLINE },         \
	{ "dry-run",         no_argument,       NULL, CTL_OPT_DRY_RUN },          \
	{ "json",            no_argument,       NULL, 'J' },                      \
	{ "quiet",           no_argument,       NULL, 'q' },                      \
	{ "verbose",         no_argument,       NULL, 'v' }

/* ... and those of the verbs that take memory away (offline, release): the guard, forensics. */
#define CTL_JOB_TAKE_LONGOPTS                                                     \
	{ "reserve",         required_argument, NULL, CTL_OPT_RESERVE },          \
	{ "force",           no_argument,       NULL, CTL_OPT_FORCE },            \
	{ "long-lived",      required_argument, NULL, CTL_OPT_LONG_LIVED },       \
	{ "stall-grace",     required_argument, NULL, CTL_OPT_STALL_GRACE }

/* The short options of CTL_JOB_LONGOPTS, for a verb's short option string. */
#define CTL_JOB_SHORTOPTS "n:Jqv"

/**
 * ctl_job_getopt() - ctl_getopt() with the shared options stored in @o.
 * Return: the verb's next own option, -1 after the last, or CTL_GETOPT_EXIT
 * (*@ret_exit set: after --help, --version or a usage error, printed).
 */
int ctl_job_getopt(struct ctl_ctx *ctx, int argc, char *argv[], const char *shortopts, const struct option *longopts,
		   struct ctl_job_opts *o, int *ret_exit);

/**
 * ctl_job_arg() - the verb's one argument, after the options.
 * @missing: the usage error when there is none ("no size given")
 * Return: the argument, or NULL after a usage error (printed, *@ret_exit set).
 */
const char *ctl_job_arg(int argc, char *argv[], const char *missing, int *ret_exit);

/*
 * The shared options into the engine's options @eo, a struct mo_job_options
 * or mo_release_options (the two name them alike), and the runner's cancel
 * flag; a 0 (the default) leaves the engine's default.
 */
#define CTL_ENGINE_OPTIONS(eo, o) \
	do { \
		if ((o)->attempt_timeout) \
			(eo)->attempt_timeout_usec = (o)->attempt_timeout; \
		if ((o)->deadline) \
			(eo)->deadline_usec = (o)->deadline; \
		(eo)->backoff.seed = (uint64_t) getpid() ^ mo_monotonic_usec(); \
		(eo)->reserve = (o)->reserve; \
		(eo)->force = (o)->force; \
		(eo)->dry_run = (o)->dry_run; \
		(eo)->node = (o)->node; \
		(eo)->cancel = &ctl_cancel_requested; \
	} while (0)

/**
 * ctl_runner_may_write() - MO_GUARD_ENV's write guard, for a job that will
 * change memory state (not a dry run).
 * Return: 0, or the exit code after the error (printed).
 */
int ctl_runner_may_write(const struct mo_root *root, const struct ctl_job_opts *o);

/**
 * ctl_job_opt() - take option @c if it is one of the shared ones.
 * Return: 1 when it was (stored in @o), 0 when it is not shared, -1 after a
 * usage error (printed, *@ret_exit set).
 */
int ctl_job_opt(int c, const char *arg, struct ctl_job_opts *o, int *ret_exit);

/**
 * ctl_parse_count() - a number of attempts or tries from 0 to 1000000.
 * Return: 0, or -1 after a usage error naming @what (printed, *@ret_exit set).
 */
int ctl_parse_count(const char *what, const char *arg, unsigned *ret, int *ret_exit);

/**
 * ctl_runner_connect() - the one "daemon, else in-process" decision.
 * Return: 1 with *@ret connected to memoffd; 0 when the job runs in-process
 * (--direct, a --sysroot without MEMOFF_SOCKET, no daemon listening, or a dry
 * run, which always plans here, read-only); -1 after an error (printed).
 */
int ctl_runner_connect(const struct ctl_ctx *ctx, bool dry_run, sd_bus **ret);

struct ctl_client_request;
struct ctl_job_info;
struct ctl_progress;

/** ctl_job_opts_request() - the shared options of @o into a daemon request. */
void ctl_job_opts_request(const struct ctl_job_opts *o, struct ctl_client_request *cr);

struct ctl_report_opts;

/** ctl_job_opts_report() - how @o says to print the report. */
struct ctl_report_opts ctl_job_opts_report(const struct ctl_job_opts *o);

/**
 * ctl_runner_daemon_job() - the job through memoffd: ask for it, say which
 * job it is on stderr (unless -q), follow it with @line (Ctrl-C cancels it),
 * and print its report as a job run here prints it (report.h).
 * @what: the request as typed, for messages
 * Return: the exit code.
 */
int ctl_runner_daemon_job(sd_bus *bus, const struct ctl_client_request *cr, const struct ctl_job_opts *o,
			  struct ctl_progress *line, const char *what);

/** ctl_help_job_report() - the help lines of --dry-run, -J, -q and -v (@verbose: what -v adds). */
void ctl_help_job_report(FILE *out, const char *verbose);

/** ctl_usec_str() - @usec for people, to the millisecond ("1.25s"). */
const char *ctl_usec_str(uint64_t usec, char buf[static MO_DURATION_MAX]);

struct ctl_progress {
	bool tty;             /* draw at all: stderr is a terminal, no -J, no dry run */
	bool line;            /* a line is on screen */
	const char *verb;     /* "offline", "online", "release" */
};

/** ctl_progress_init() - the progress line of job verb @verb: on a terminal, unless -J, -q or a dry run. */
void ctl_progress_init(struct ctl_progress *p, const char *verb, const struct ctl_job_opts *o);

/**
 * ctl_progress_draw() - "VERB DONE of WANTED (N/M blocks)[, DETAIL]" on
 * stderr, replacing the line before.
 */
void ctl_progress_draw(struct ctl_progress *p, uint64_t done_bytes, uint64_t wanted_bytes, uint64_t done_blocks,
		       uint64_t wanted_blocks, const char *detail);

/** ctl_progress_clear() - take the line away before other output. */
void ctl_progress_clear(struct ctl_progress *p);
