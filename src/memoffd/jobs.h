/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's job queue: requests become jobs that run one at a time (the
 * kernel serializes memory hotplug anyway), each in a worker thread that
 * calls the job engine (job.h), or for a release job release.h (which drives
 * the engine device by device). The event loop never blocks on a job:
 *
 *  - the worker publishes its plan, progress and per-block outcomes under
 *    the job's mutex and wakes the loop through an eventfd;
 *  - cancel sets the engine's cancel flag and sends MO_ATTEMPT_SIGNAL to the
 *    worker thread, which interrupts a write in progress (the kernel rolls
 *    the block back) or a backoff sleep.
 *
 * A request whose blocks overlap those of a queued or running job is refused.
 * Every job is kept in a state file (job-record.h) written atomically at
 * each change of state, so that after a crash the jobs that were queued or
 * running are reported as interrupted, and their blocks' real states are
 * read back from sysfs.
 */

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "attempt.h"
#include "backoff.h"
#include "job-record.h"
#include "pins.h"
#include "root.h"
#include "select.h"

/* What a request asks for, complete: the manager fills it from the D-Bus call and the config. */
struct job_params {
	enum job_kind kind;
	enum mo_action action;       /* offline, or the online type */
	bool prefer_movable;         /* online: movable where the block allows it */
	uint64_t size;               /* SIZE request (bytes), 0 when blocks are named; release: SIZE or 0 */
	char *device;                /* release: exactly this device ("PNP0C80:01"), whole; NULL = by size */
	char *what;                  /* the argument as the caller gave it ("256M"): the report's request;
				      * NULL for a job memoffd starts itself (its Request instead) */
	bool hold_hotplug_knob;      /* release: the queue's, set when the job starts */
	uint64_t *blocks;            /* named blocks (owned) */
	size_t n_blocks;
	unsigned zones;              /* SIZE selection: MO_ZONE_* bits, 0 = the engine's default */
	int node;                    /* -1 = any */
	uint64_t attempt_timeout_usec;
	uint64_t deadline_usec;
	uint64_t eject_timeout_usec; /* release: 0 = the library's default */
	struct mo_backoff backoff;   /* release: max_attempts = tries per device */
	uint64_t reserve;            /* bytes, or MO_JOB_RESERVE_DEFAULT */
	uint64_t long_lived_usec;    /* offline, release: pages blocking longer are long-lived (forensics) */
	uint64_t stall_grace_usec;   /* offline: end a stalled attempt after this (stall.h); 0: never */
	bool all_or_nothing, force, dry_run;
	uint32_t uid;                /* who asked (the caller's credentials), JOB_UID_UNKNOWN */
	struct mo_addr_range *excluded; /* offline, release: ExcludedRanges= when it was asked (owned) */
	size_t n_excluded;
};

void job_params_done(struct job_params *p);

/* What changed, for the hooks. */
enum {
	JOB_CHANGED_STATE    = 1 << 0,
	JOB_CHANGED_PROGRESS = 1 << 1,
	JOB_CHANGED_BLOCKS   = 1 << 2,   /* per-block outcomes */
	JOB_CHANGED_CLAIMS   = 1 << 3,
	JOB_CHANGED_BLOCKED  = 1 << 4,   /* blocked-page reports */
};

struct job;
struct job_queue;

struct job_queue_hooks {
	void (*job_new)(struct job *j, void *userdata);
	void (*job_changed)(struct job *j, unsigned what, void *userdata);
	void (*job_finished)(struct job *j, void *userdata);
	void (*job_removed)(struct job *j, void *userdata);   /* just before it is freed */
	void (*idle)(void *userdata);                         /* nothing queued or running any more */
	void *userdata;
};

/** job_record() - the job's public record (valid until the job is removed). */
const struct job_record *job_record(const struct job *j);
static inline unsigned job_id(const struct job *j) { return job_record(j)->id; }
/** job_userdata() - the userdata of the queue's hooks. */
void *job_userdata(const struct job *j);
/** job_current_block() - the block being worked on, UINT64_MAX when none. */
uint64_t job_current_block(const struct job *j);

/** job_progress() - what the running job is doing, in a few words (progress-text.h), or "". */
const char *job_progress(const struct job *j);

/** job_report() - the finished job's report document (job-report.h), or NULL (a release, a job of an earlier run). */
const char *job_report(const struct job *j);

/**
 * job_blocked_pages() - the blocked-page reports (pins.h) of the blocks the
 * job attempted and gave up on, one each, set when the worker is done; none
 * for a job that did not run in this daemon (they are not kept in the state
 * file). Return: how many; @ret points at them (valid while the job lives).
 */
size_t job_blocked_pages(const struct job *j, struct mo_pin_report *const **ret);

/* A device a release job tried, and how that ended. */
struct job_device {
	char name[64];
	uint64_t start, size;
	bool released;
	const char *outcome;         /* mo_release_outcome_to_string() */
	char *reason;
};

/**
 * job_devices() - the devices a release job tried (released or given up
 * on), set when its worker is done; none for other jobs, for a dry run, and
 * for a job that did not run in this daemon. Return: how many; @ret points
 * at them (valid while the job lives).
 */
size_t job_devices(const struct job *j, const struct job_device **ret);

/**
 * job_queue_new() - an empty queue on @event.
 * @root: the blocks' root (borrowed; outlives the queue)
 * @state_path: the state file, or NULL to keep nothing
 * Return: 0 or a negative errno.
 */
int job_queue_new(sd_event *event, const struct mo_root *root, const char *state_path,
		  const struct job_queue_hooks *hooks, struct job_queue **ret);

/**
 * job_queue_load_pins() - keep the pin store (pinmem.h) at @path: read it now
 * (tolerantly), rank the blocks it names last in SIZE requests, update it
 * after every offline job and write it back when it changed.
 * Return: 0 (also without the file), or the negative errno of reading it
 * (the store then starts empty).
 */
int job_queue_load_pins(struct job_queue *q, const char *path);

/**
 * job_queue_free() - free the queue. A running worker is cancelled and
 * joined first (this can take up to one attempt timeout).
 */
void job_queue_free(struct job_queue *q);

/**
 * job_queue_load() - read the state file: finished jobs come back as they
 * were; jobs that were queued or running are finished as interrupted, each
 * of their blocks' state read back from sysfs.
 * @n_interrupted: receives how many jobs were interrupted
 * Return: 0 (also without a state file); -EBADMSG when it is not ours (it is
 * then left alone and replaced at the next write); another negative errno.
 */
int job_queue_load(struct job_queue *q, unsigned *n_interrupted);

/**
 * job_queue_submit() - queue a request; it starts at once when the queue is idle.
 * @p: the request; taken over (cleared) on success
 * @request: its human-readable form, e.g. "offline 512M"
 * @ret: the new job
 * @error: on -EBUSY, a message naming the job it overlaps; on -EUSERS and
 *         -EIO, why (caller frees)
 * Return: 0; -EBUSY when named blocks overlap a queued or running job's
 * blocks; -EUSERS when the queue is full (MAX_QUEUED jobs, or
 * MAX_QUEUED_PER_UID of @p->uid when that is not root); -EIO when the job
 * cannot be written to the state file (it is then not queued: a job runs
 * only when a crash would leave a record of it); -ENOMEM.
 */
int job_queue_submit(struct job_queue *q, struct job_params *p, const char *request, uint64_t block_size,
		     struct job **ret, char **error);

/**
 * job_queue_cancel() - cancel a job: a queued job finishes as cancelled at
 * once, a running one as soon as its worker notices (within one attempt
 * timeout). Return: 0; -EALREADY when it has already finished.
 */
int job_queue_cancel(struct job_queue *q, struct job *j);

/** job_queue_cancel_all() - cancel every queued and running job (daemon stop). */
void job_queue_cancel_all(struct job_queue *q);

/**
 * job_queue_set_hold_hotplug_knob() - memoffd holds the ACPI memory hotplug
 * knob at 0 ([Cloud] HandleEjectRequests=): release jobs started from now on
 * eject with it at 1 (release.h, hold_hotplug_knob).
 */
void job_queue_set_hold_hotplug_knob(struct job_queue *q, bool hold);

struct job *job_queue_find(struct job_queue *q, unsigned id);
size_t job_queue_size(struct job_queue *q);
struct job *job_queue_nth(struct job_queue *q, size_t i);
struct job *job_queue_running(struct job_queue *q);
/** job_queue_busy() - a job is queued or running. */
bool job_queue_busy(struct job_queue *q);
/** job_queue_claimed_by() - the queued or running job that claims @block, or NULL. */
struct job *job_queue_claimed_by(struct job_queue *q, uint64_t block);
