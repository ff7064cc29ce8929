/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * memoffctl's side of memoffd's D-Bus API (doc/org.memoff.Manager1.md):
 * connect to the control socket peer to peer (no broker, works without a
 * system bus), start jobs, follow them to the end with a progress line on a
 * terminal (Ctrl-C cancels the job, and the command still reports how it
 * ended), list and cancel them.
 *
 * Without --direct, a verb uses the daemon when one answers and runs the
 * core in-process otherwise. With --sysroot the daemon is used only when
 * MEMOFF_SOCKET names its socket (a daemon serves its own root).
 */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#include "bus-names.h"
#include "common.h"
#include "pins.h"

struct ctl_progress;

#define CTL_SOCKET_ENV     MO_SOCKET_ENV
#define CTL_SOCKET_DEFAULT MO_SOCKET_DEFAULT

struct ctl_job_block {
	uint64_t index;
	char *outcome;
	unsigned attempts;
	uint64_t usec;
	char *reason;
};

struct ctl_job_info {
	unsigned id;
	char *path, *kind, *state, *result, *request, *message;
	char *progress;                /* what it is doing (progress-text.h), "" when not running */
	uint64_t blocks_done, blocks_wanted, bytes_done, bytes_wanted;
	int64_t current_block;         /* -1: none */
	struct ctl_job_block *blocks;
	size_t n_blocks;
	struct mo_pin_report **blocked;  /* BlockedPages: one per block given up on */
	size_t n_blocked;
};

void ctl_job_info_done(struct ctl_job_info *j);

/* A request, as the D-Bus API takes it (0 / -1 / false: the daemon's default). */
struct ctl_client_request {
	bool offline;                  /* Offline, else Online */
	bool release;                  /* Release (@what is the size; @by, @zone, @all_or_nothing unused) */
	const char *by;                /* "size", "range" or "blocks" */
	const char *what;
	const char *zone;
	int node;
	uint64_t attempt_timeout_usec, deadline_usec;
	uint64_t reserve;               /* bytes; UINT64_MAX: the daemon's Reserve= (0 is sent) */
	uint64_t eject_timeout_usec;   /* Release only */
	int max_attempts;              /* per block; Release: tries per device */
	uint64_t long_lived_usec;      /* Offline, Release: forensics' threshold; 0: the daemon's */
	uint64_t stall_grace_usec;     /* Offline: UINT64_MAX: the daemon's StallGrace=; 0: off */
	bool all_or_nothing, force, dry_run;
};

#define CTL_CLIENT_REQUEST_INIT \
	{ .node = -1, .max_attempts = -1, .reserve = UINT64_MAX, .stall_grace_usec = UINT64_MAX }

/** ctl_client_wanted() - whether a verb should try the daemon first (see above). */
bool ctl_client_wanted(const struct ctl_ctx *ctx);

/**
 * ctl_client_open() - connect to the daemon's control socket.
 * Return: 0; -ENOENT or -ECONNREFUSED when no daemon listens (the caller
 * falls back to the core in-process); another negative errno.
 */
int ctl_client_open(sd_bus **ret);

/**
 * ctl_client_require() - connect to the daemon for a verb that needs it.
 * Return: -1 when connected, else the exit code (the error printed).
 */
int ctl_client_require(sd_bus **ret);

/**
 * ctl_client_verb() - the start of a daemon verb whose one option is -J
 * (ctl_parse_json_only()): its command line, then ctl_client_require().
 * Return: -1 to go on, else the exit code.
 */
int ctl_client_verb(struct ctl_ctx *ctx, int argc, char *argv[], bool *json, sd_bus **ret);

/** ctl_client_get_job() - all properties of the job at @path. */
int ctl_client_get_job(sd_bus *bus, const char *path, struct ctl_job_info *ret);

/**
 * ctl_client_wait() - follow a job until it finishes.
 * @progress: the progress line to draw (runner.h), or NULL
 * @cancel_on_signal: SIGINT/SIGTERM cancel the job (once) and the wait goes on
 * @ret: the finished job
 */
int ctl_client_wait(sd_bus *bus, const char *path, struct ctl_progress *progress, bool cancel_on_signal,
		    struct ctl_job_info *ret);

/** ctl_client_get_report() - the finished job's Report document (job-report.h); "" when it has none. */
int ctl_client_get_report(sd_bus *bus, const char *path, char **ret);

/** ctl_job_exit_code() - 0 done, 64 partly done, 1 failed or nothing done. */
int ctl_job_exit_code(const struct ctl_job_info *j);

/** ctl_job_print() - the per-block table and the summary line, or JSON. */
void ctl_job_print(FILE *out, const struct ctl_job_info *j, bool json);

/**
 * ctl_client_start_job() - ask memoffd for an offline, online or release job.
 * @ret_path: the job's object path (malloc'd)
 * Return: 0; -1 when memoffd refused or could not be asked (the error is
 * printed and @exit_code set: 2 for a bad argument, else 1).
 */
int ctl_client_start_job(sd_bus *bus, const struct ctl_client_request *req, char **ret_path, int *exit_code);

/**
 * ctl_client_pins() - `memoffctl pins` through the daemon (GetPins).
 * @by: "blocks" or "range"
 * @kmsg: let the daemon read the kernel log
 * @ret: the reports, as pins_json_read() gives them
 * @exit_code: set when the daemon refused the request (the error is printed)
 * Return: 0 when the daemon answered (with reports, or an error and
 * @exit_code); -ENOENT / -ECONNREFUSED when no daemon runs, -EACCES when it
 * does not let this user call GetPins (fall back to the core in-process);
 * another negative errno.
 */
int ctl_client_pins(const char *by, const char *what, bool kmsg, struct mo_pin_report ***ret, size_t *n,
		    int *exit_code);

/** ctl_client_error() - print a D-Bus error reply; Return: CTL_EXIT_USAGE for bad arguments, else CTL_EXIT_FAILED. */
int ctl_client_error(const sd_bus_error *e, int r, const char *what);
