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
 *    --deadline, --reserve, --force, --long-lived, --dry-run, -J, -q, -v, -n)
 *    and their parsing;
 *  - the one "daemon, else in-process" decision: connect once, or say that
 *    the job runs here;
 *  - one progress line on a terminal ("offline 128M of 256M (1/2 blocks),
 *    block 33 attempt 2"), drawn from the engine's progress in-process and
 *    from the job's properties through the daemon.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

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
	bool force, dry_run, json, quiet, verbose;
};

#define CTL_JOB_OPTS_INIT { .node = -1, .reserve = MO_JOB_RESERVE_DEFAULT }

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

/**
 * ctl_runner_daemon_job() - the job through memoffd: ask for it, say which
 * job it is on stderr (unless @quiet), follow it with @line (Ctrl-C cancels
 * it), and fetch its report document.
 * @what: the request as typed, for messages
 * @ret_report: the Report document (malloc'd)
 * @ret_info: the finished job (its BlockedPages; to be ctl_job_info_done())
 * Return: -1 with *@ret_report and *@ret_info set; otherwise the exit code
 * of a request that failed (the error printed).
 */
int ctl_runner_daemon_job(sd_bus *bus, const struct ctl_client_request *cr, bool quiet, struct ctl_progress *line,
			  const char *what, char **ret_report, struct ctl_job_info *ret_info);

/** ctl_help_job_report() - the help lines of --dry-run, -J, -q and -v (@verbose: what -v adds). */
void ctl_help_job_report(FILE *out, const char *verbose);

/** ctl_usec_str() - @usec for people, to the millisecond ("1.25s"). */
const char *ctl_usec_str(uint64_t usec, char buf[static MO_DURATION_MAX]);

struct ctl_progress {
	bool tty;             /* draw at all: stderr is a terminal, no -J, no dry run */
	bool line;            /* a line is on screen */
	const char *verb;     /* "offline", "online", "release" */
};

/**
 * ctl_progress_draw() - "VERB DONE of WANTED (N/M blocks)[, DETAIL]" on
 * stderr, replacing the line before.
 */
void ctl_progress_draw(struct ctl_progress *p, uint64_t done_bytes, uint64_t wanted_bytes, uint64_t done_blocks,
		       uint64_t wanted_blocks, const char *detail);

/** ctl_progress_clear() - take the line away before other output. */
void ctl_progress_clear(struct ctl_progress *p);
