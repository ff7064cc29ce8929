/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The job engine: a request (offline SIZE or named blocks; online SIZE or
 * named blocks) becomes a plan, then bounded attempts.
 *
 * - Every attempt is bounded (attempt.h) and shortened so that it ends by
 *   the request's deadline: the caller is never held past it.
 * - A block that fails in a way worth retrying (timed out, EBUSY, ENOMEM)
 *   goes back in the queue with a backoff delay (backoff.h) while the other
 *   blocks are tried; every block gets its first attempt before any block
 *   gets a second. A SIZE request moves on to the next-ranked candidate
 *   (select.h) when one fails, until it has the size.
 * - Before each offline the OOM headroom guard (headroom.h) is asked, unless
 *   forced; the first block it refuses stops the request ("cut short").
 * - all-or-nothing: when an offline request cannot finish, the blocks it took
 *   are put back online (online_movable where the block was Movable, else
 *   online).
 * - dry-run: the plan only (blocks, census, headroom); nothing is written.
 * - Cancellable at any point through a flag: between attempts, during a sleep
 *   and during a write (a signal handler that sets it interrupts the write).
 *
 * The library never prints; a progress callback reports as it goes.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "attempt.h"
#include "backoff.h"
#include "block.h"
#include "census.h"
#include "headroom.h"
#include "root.h"
#include "select.h"

#define MO_JOB_ATTEMPT_TIMEOUT_USEC (10 * 1000 * 1000ULL)   /* 10 s */
#define MO_JOB_DEADLINE_USEC        (120 * 1000 * 1000ULL)  /* 2 min */
#define MO_JOB_RESERVE_DEFAULT      UINT64_MAX              /* mo_headroom_default_reserve() */
/* No attempt starts with less than this left before the deadline. */
#define MO_JOB_MIN_ATTEMPT_USEC     (100 * 1000ULL)          /* 100 ms */

struct mo_job_request {
	enum mo_action action;      /* MO_ACTION_OFFLINE or an online type */
	bool prefer_movable;        /* online: online_movable where valid_zones allows it, else @action */
	uint64_t size;              /* SIZE request in bytes (a multiple of the block size); 0 when blocks are named */
	const uint64_t *blocks;     /* named blocks (a range or a list); borrowed */
	size_t n_blocks;
	const struct mo_memory *mem; /* the block model when the caller has just loaded it (borrowed: must
	                                outlive the job); NULL: mo_job_new() loads it */
};

enum mo_job_phase {
	MO_PHASE_ATTEMPT,           /* an attempt on @block starts */
	MO_PHASE_RESULT,            /* an attempt on @block ended with @outcome */
	MO_PHASE_WAIT,              /* sleeping @wait_usec for a backoff */
	MO_PHASE_ROLLBACK,          /* putting @block back online */
};

struct mo_job_progress {
	enum mo_job_phase phase;
	uint64_t done_blocks, wanted_blocks;
	uint64_t done_bytes, wanted_bytes;
	uint64_t block;             /* current block, UINT64_MAX when none */
	unsigned attempt;           /* 1-based attempt number on @block */
	enum mo_outcome outcome;    /* MO_PHASE_RESULT */
	const char *reason;         /* MO_PHASE_RESULT: the attempt's reason */
	int error;                  /* MO_PHASE_RESULT: its errno, 0 if none */
	uint64_t attempt_usec;      /* MO_PHASE_RESULT: how long it took */
	uint64_t next_usec;         /* MO_PHASE_RESULT: retry in this long, 0 when no retry is planned */
	uint64_t wait_usec;         /* MO_PHASE_WAIT */
	uint64_t elapsed_usec;
	struct mo_stall_evidence stall; /* MO_PHASE_RESULT with MO_OUTCOME_STALLED */
};

/* Seams for tests (and for a daemon that wants its own clock); NULL = the real thing. */
struct mo_job_hooks {
	int (*attempt)(void *userdata, const struct mo_root *root, uint64_t block, enum mo_action action,
		       uint64_t timeout_usec, volatile sig_atomic_t *cancel, struct mo_attempt_result *ret);
	uint64_t (*now)(void *userdata);
	/* Return 0 after the full sleep, -ECANCELED when cancelled. */
	int (*sleep)(void *userdata, uint64_t usec, volatile sig_atomic_t *cancel);
	int (*headroom)(void *userdata, const struct mo_root *root, struct mo_headroom *out);
	void *userdata;
};

struct mo_job_options {
	uint64_t attempt_timeout_usec;  /* per attempt; 0 = MO_JOB_ATTEMPT_TIMEOUT_USEC */
	uint64_t deadline_usec;         /* whole request; 0 = MO_JOB_DEADLINE_USEC */
	struct mo_backoff backoff;      /* max_attempts 0 = unlimited; all-zero = mo_backoff_default() */
	uint64_t reserve;               /* bytes kept available; MO_JOB_RESERVE_DEFAULT */
	bool force;                     /* no headroom guard; driver-managed named blocks allowed */
	bool all_or_nothing;            /* offline: put back what was taken when the request cannot finish */
	bool dry_run;                   /* plan only, no write */
	const char *const *zones;       /* allowed zones for SIZE selection (borrowed); NULL = default */
	size_t n_zones;
	int node;                       /* SIZE selection: only this node; -1 = any */
	const struct mo_pinmem *pinmem; /* SIZE selection: remembered pins rank last (borrowed); NULL */
	const struct mo_addr_range *excluded; /* SIZE offline: never blocks overlapping these (borrowed) */
	size_t n_excluded;
	volatile sig_atomic_t *cancel;  /* set (by a signal handler, another thread) to cancel */
	void (*progress)(const struct mo_job_progress *p, void *userdata);
	void *progress_userdata;
	struct mo_job_hooks hooks;
};

/** mo_job_options_init() - defaults: 10 s attempts, 2 min deadline, default backoff and reserve, node -1. */
void mo_job_options_init(struct mo_job_options *o);

enum mo_job_stop {
	MO_STOP_FINISHED,       /* every block wanted is in the target state */
	MO_STOP_DEADLINE,       /* the deadline came first */
	MO_STOP_CANCELLED,      /* a cancel request */
	MO_STOP_HEADROOM,       /* the headroom guard refused the next block */
	MO_STOP_EXHAUSTED,      /* no candidate left (failed, out of budget, or too few eligible) */
	MO_STOP_ERROR,          /* the state files cannot be written at all (permission, write guard) */
	_MO_STOP_MAX,
};

struct mo_block_result {
	uint64_t index, start, size;
	int node;
	enum mo_outcome outcome;
	enum mo_action action;      /* what was (or would be) written */
	unsigned attempts;
	uint64_t usec;              /* time spent in attempts on this block */
	const char *reason;         /* static, never NULL */
	int error;                  /* errno of the last failed write, 0 if none */
	bool movable_zone;
	const char *managed;        /* driver-managed iomem name or NULL (valid while the job lives) */
	bool have_census;
	struct mo_census census;    /* at plan time */
	int tier;                   /* select.h tiers */
	bool pinned;                /* the pin store remembered it blocked (select.h) */
	struct mo_stall_evidence stall; /* of the last attempt that stalled */
};

struct mo_job_result {
	enum mo_action action;
	bool dry_run;
	bool size_request;
	uint64_t block_size;
	uint64_t wanted_blocks, wanted_bytes;
	uint64_t done_blocks, done_bytes;   /* in the target state now: taken by this request or already */
	uint64_t taken_blocks;              /* changed by this request and still changed */
	uint64_t usec;                      /* wall time */
	enum mo_job_stop stop;
	const char *stop_reason;            /* static; for MO_STOP_HEADROOM the guard's reason */
	bool rolled_back;                   /* all-or-nothing put blocks back */
	bool rollback_failed;               /* ... and at least one could not be put back */
	/* Headroom (offline only): read at plan time; for a dry run, after the planned blocks too. */
	bool have_headroom;
	struct mo_headroom headroom;
	struct mo_headroom headroom_after;  /* dry run: minus the planned blocks */
	uint64_t reserve;
	/* SIZE selection facts, for messages. */
	size_t n_candidates;                /* eligible blocks among those examined */
	size_t n_examined;                  /* blocks the plan looked at (lazy planning: often a few) */
	bool plan_complete;                 /* ... which were all of them */
	size_t n_memory_blocks;             /* blocks the machine has; 0 when the plan did not list them */
	size_t skipped[_MO_SKIP_MAX];
	int census_error;                   /* the census could not be read (e.g. -EACCES) */
	/* Per block: named requests list every named block, SIZE requests the blocks tried or planned. */
	struct mo_block_result *blocks;
	size_t n_blocks;
};

struct mo_job;

/**
 * mo_job_new() - check a request and plan it.
 * @root: where the blocks live
 * @req: what to do (copied; @req->blocks too)
 * @o: how (copied; the zones array and the cancel flag stay borrowed)
 * @ret: the job
 * @error: on failure, a message naming the bad input ("block 37 does not exist"),
 *         to be freed by the caller; may be NULL
 *
 * Loads the blocks, reads the census and /proc/iomem when it can (neither is
 * required), and selects the candidates.
 *
 * Return: 0; -EINVAL for a malformed request (size not a multiple of the
 * block size, nothing named, bad action, bad backoff); -ENOENT when a named
 * block does not exist; or the error of loading the blocks.
 */
int mo_job_new(const struct mo_root *root, const struct mo_job_request *req, const struct mo_job_options *o,
	       struct mo_job **ret, char **error);
void mo_job_free(struct mo_job *j);
static inline void mo_job_freep(struct mo_job **j) { mo_job_free(*j); }

/**
 * mo_job_run() - carry the plan out (or, for a dry run, evaluate it).
 * Runs once. Return: 0 (the outcome is in the result, even when nothing was
 * done), or a negative errno when the job could not run at all.
 */
int mo_job_run(struct mo_job *j);

/** mo_job_result() - the result so far (complete after mo_job_run()). */
const struct mo_job_result *mo_job_result(const struct mo_job *j);

/**
 * mo_job_exit_code() - chmem's meaning: 0 all done, 1 failed or nothing done,
 * 64 partly done. For a dry run, the same about the plan.
 */
int mo_job_exit_code(const struct mo_job_result *r);

const char *mo_job_stop_to_string(enum mo_job_stop s);
