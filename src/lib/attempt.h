/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * One bounded attempt to change a memory block's state.
 *
 * Writing "offline" to memoryN/state runs offline_pages(), which retries
 * migration for as long as any page of the block cannot move; only a signal
 * ends it (the write fails with EINTR and the kernel rolls the block back).
 * An attempt therefore arms a one-shot POSIX timer that sends MO_ATTEMPT_SIGNAL
 * to the calling thread, whose handler (installed without SA_RESTART) does
 * nothing: the write returns EINTR when the timer fires. The signal is
 * unblocked only around the write, so the same code works in a daemon that
 * keeps every signal blocked for signalfd / sd-event.
 *
 * Each write is issued once: EINTR is never retried blindly. An EINTR that is
 * neither the timer nor a cancel request (some other handler without
 * SA_RESTART) re-issues the write while time is left.
 */

#include <signal.h>
#include <stdint.h>

#include "block.h"
#include "root.h"

/* The real-time signal that interrupts an attempt (SIGRTMIN is not a constant). */
#define MO_ATTEMPT_SIGNAL (SIGRTMIN + 2)

enum mo_action {
	MO_ACTION_OFFLINE,
	MO_ACTION_ONLINE,          /* the kernel's default zone */
	MO_ACTION_ONLINE_MOVABLE,
	MO_ACTION_ONLINE_KERNEL,
	_MO_ACTION_MAX,
};

/*
 * What became of an attempt (and, for the job engine, of a block). The first
 * group is what mo_attempt_run() produces; the second only the job engine.
 */
enum mo_outcome {
	MO_OUTCOME_DONE,          /* the write succeeded */
	MO_OUTCOME_ALREADY,       /* the block already was in that state */
	MO_OUTCOME_TIMED_OUT,     /* the timer ended a write that did not finish: migration stalled */
	MO_OUTCOME_STALLED,       /* ended early: nothing moved for the stall grace while migration failed */
	MO_OUTCOME_UNMOVABLE,     /* EBUSY: the range could not be isolated */
	MO_OUTCOME_REFUSED,       /* EPERM: a notifier (or the architecture) refused */
	MO_OUTCOME_INVALID,       /* EINVAL: several zones, holes, zone not allowed, ... */
	MO_OUTCOME_NO_MEMORY,     /* ENOMEM: e.g. hugetlb pages could not be dissolved */
	MO_OUTCOME_VANISHED,      /* ENOENT/ENODEV: the block is gone */
	MO_OUTCOME_CANCELLED,     /* a cancel request ended the attempt (or prevented it) */
	MO_OUTCOME_ERROR,         /* anything else; see the errno */

	MO_OUTCOME_NOT_TRIED,     /* job: planned, never attempted (deadline, cancel, stop) */
	MO_OUTCOME_HEADROOM,      /* job: refused by the OOM headroom guard */
	MO_OUTCOME_ROLLED_BACK,   /* job: taken offline, then put back online (all-or-nothing) */
	MO_OUTCOME_SKIPPED,       /* job: not eligible (driver-managed, zone not allowed, ...) */
	MO_OUTCOME_PLANNED,       /* job, dry run: would be attempted */
	_MO_OUTCOME_MAX,
};

/* Why an attempt was judged stalled (stall.h); all zero for other outcomes. */
#define MO_STALL_PFNS_MAX 8
struct mo_stall_evidence {
	uint64_t grace_usec;          /* the grace that ran out */
	uint64_t migrate_success;     /* pgmigrate_success rise during the attempt */
	uint64_t migrate_fail;        /* pgmigrate_fail rise during the attempt */
	uint64_t kmsg_failed;         /* "migrating pfn ... failed" lines about the block */
	unsigned n_pfns;              /* failing PFNs of the block: the kernel log's, then the census' */
	uint64_t pfns[MO_STALL_PFNS_MAX];
	uint64_t n_blocked;           /* pages of the block still in use when it stalled (census), 0 unknown */
	bool all_failed;              /* not the grace: every page left had failed the kernel's last pass (stall.h) */
};

struct mo_attempt_result {
	enum mo_outcome outcome;
	int error;            /* errno of the last write (positive), 0 when it succeeded or was not issued */
	uint64_t usec;        /* wall time of the attempt (CLOCK_MONOTONIC) */
	const char *reason;   /* static human-readable explanation, never NULL */
	enum mo_state state;  /* state re-read after EINVAL, MO_STATE_UNKNOWN otherwise */
	struct mo_stall_evidence stall; /* MO_OUTCOME_STALLED: filled by whoever set @stop */
};

/**
 * mo_attempt_run() - one bounded write to memory@block/state.
 * @root: where the block lives (the write goes through mo_root_open(), so the
 *        host write guard applies)
 * @block: N of memoryN
 * @action: offline or one of the online types
 * @timeout_usec: how long the write may run before the timer interrupts it;
 *                0 means no timer (only for writes known not to spin)
 * @cancel: optional; when *@cancel is non-zero before the write, nothing is
 *          written; when the write is interrupted and *@cancel is set, the
 *          outcome is MO_OUTCOME_CANCELLED. A SIGINT/SIGTERM handler that sets
 *          it, installed without SA_RESTART, ends the write at once.
 * @ret: the classified outcome, always filled
 *
 * No timer stays armed and no MO_ATTEMPT_SIGNAL stays pending when it returns,
 * on every path. The calling thread's signal mask is restored.
 *
 * Return: 0 when the attempt ran (whatever its outcome), or a negative errno
 * when it could not be set up (timer or signal handler); @ret then says
 * MO_OUTCOME_ERROR.
 */
int mo_attempt_run(const struct mo_root *root, uint64_t block, enum mo_action action,
		   uint64_t timeout_usec, volatile sig_atomic_t *cancel, struct mo_attempt_result *ret);

/**
 * mo_attempt_run_stoppable() - mo_attempt_run() that a watcher can end early.
 * @stop: when another thread sets *@stop and sends MO_ATTEMPT_SIGNAL to the
 *        writing thread (pthread_kill(), again every few tens of ms until
 *        the write returns: a signal that lands just before the write
 *        enters the kernel is spent), the write ends and the outcome is
 *        MO_OUTCOME_STALLED (the kernel rolled back). The watcher fills
 *        @ret->stall afterwards. NULL: mo_attempt_run().
 */
int mo_attempt_run_stoppable(const struct mo_root *root, uint64_t block, enum mo_action action,
			     uint64_t timeout_usec, volatile sig_atomic_t *cancel, volatile sig_atomic_t *stop,
			     struct mo_attempt_result *ret);

/**
 * mo_attempt_classify() - turn a write's errno into an outcome.
 * @action: what was written
 * @err: positive errno of the write, 0 for success
 * @state_after: the state re-read after the failure (MO_STATE_UNKNOWN if unknown)
 * @valid_zones: valid_zones re-read after the failure, or NULL
 * @reason: receives a static explanation
 *
 * EINTR is not classified here (the caller knows whether its timer fired or a
 * cancel was requested); it maps to MO_OUTCOME_ERROR.
 */
enum mo_outcome mo_attempt_classify(enum mo_action action, int err, enum mo_state state_after,
				    const char *valid_zones, const char **reason);

/**
 * mo_attempt_setup_signal() - install the no-op MO_ATTEMPT_SIGNAL handler
 * (without SA_RESTART). Idempotent; mo_attempt_run() calls it, and so must
 * anything that unblocks MO_ATTEMPT_SIGNAL (e.g. a cancellable sleep).
 * Return: 0 or a negative errno.
 */
int mo_attempt_setup_signal(void);

/**
 * mo_attempt_drain_signal() - take a MO_ATTEMPT_SIGNAL left pending on the
 * calling thread (it blocks the signal, as a daemon's threads do) by a
 * watcher that signalled once more just as the write returned. Call it after
 * that watcher has stopped.
 */
void mo_attempt_drain_signal(void);

/**
 * mo_attempt_sleep() - sleep @usec, ending early on any caught signal that
 * leaves *@cancel set (MO_ATTEMPT_SIGNAL is unblocked atomically for the
 * sleep, so a pthread_kill() of it from another thread wakes it without a
 * race). Return: 0 after the full sleep, -ECANCELED when cancelled.
 */
int mo_attempt_sleep(uint64_t usec, volatile sig_atomic_t *cancel);

/** mo_action_to_string() - "offline", "online", "online_movable", "online_kernel". */
const char *mo_action_to_string(enum mo_action a);

/** mo_outcome_to_string() - "done", "already", "timed-out", "stalled", "unmovable", ... */
const char *mo_outcome_to_string(enum mo_outcome o);

/** mo_outcome_is_success() - done or already. */
static inline bool mo_outcome_is_success(enum mo_outcome o)
{
	return o == MO_OUTCOME_DONE || o == MO_OUTCOME_ALREADY;
}

/**
 * mo_outcome_is_retryable() - whether trying the same block again later can
 * help: timed out, stalled, unmovable, no memory.
 */
static inline bool mo_outcome_is_retryable(enum mo_outcome o)
{
	return o == MO_OUTCOME_TIMED_OUT || o == MO_OUTCOME_STALLED || o == MO_OUTCOME_UNMOVABLE ||
	       o == MO_OUTCOME_NO_MEMORY;
}

/** mo_monotonic_usec() - CLOCK_MONOTONIC in microseconds. */
uint64_t mo_monotonic_usec(void);
