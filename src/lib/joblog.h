/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The journal records of a job's life (log.h, MESSAGE_IDs of
 * doc/memoff.catalog): a block offlined, an attempt the timer ended, the
 * headroom guard refusing, a block given up, the job finished.
 *
 * The job engine never logs; its callers do, with these: memoffd's worker
 * calls mo_joblog_progress() from its progress callback and the rest when
 * the engine returns, memoffctl does the same when it runs the engine
 * in-process. Keeping the records here keeps one set of fields per
 * MESSAGE_ID, whoever sends it (test-joblog checks them against the catalog).
 */

#include <stdint.h>

#include "attempt.h"
#include "job.h"

struct mo_joblog {
	const char *job;           /* MEMOFF_JOB: memoffd's job id, "memoffctl-PID"; NULL: not sent */
	enum mo_action action;     /* what the job writes: only offline jobs log block records */
	uint64_t block_size;       /* for MEMOFF_RANGE; 0: not sent */
};

/**
 * mo_joblog_progress() - the record of one engine event, for a progress
 * callback: MO_MESSAGE_BLOCK_OFFLINED when an offline attempt succeeded,
 * MO_MESSAGE_ATTEMPT_TIMED_OUT when its timer ended it. Other events and
 * online jobs log nothing.
 */
void mo_joblog_progress(const struct mo_joblog *l, const struct mo_job_progress *p);

/**
 * mo_joblog_gave_up() - MO_MESSAGE_BLOCK_GAVE_UP for block @b, which was
 * attempted and is not offline: no attempt is left for it in this job.
 * @why: what ended the job or the device, or NULL
 */
void mo_joblog_gave_up(const struct mo_joblog *l, const struct mo_block_result *b, const char *why);

/**
 * mo_joblog_headroom() - MO_MESSAGE_HEADROOM_REFUSED: the guard refused to
 * offline @block (UINT64_MAX: before any block) for @reason.
 * @reserve: the bytes the guard keeps available
 */
void mo_joblog_headroom(const struct mo_joblog *l, uint64_t block, const char *reason, uint64_t reserve);

/**
 * mo_joblog_result() - the records of a finished offline (not a dry run):
 * the headroom refusal that stopped it, and each block given up (attempted,
 * not offline, not cancelled and not rolled back). Nothing for a cancelled job.
 */
void mo_joblog_result(const struct mo_joblog *l, const struct mo_job_result *r);

/**
 * mo_joblog_finished() - MO_MESSAGE_JOB_FINISHED: "Job 7 (offline blocks 12-13)
 * partial: ...".
 * @job: MEMOFF_JOB
 * @request: the request as text (MEMOFF_REQUEST)
 * @result: "done", "partial", "failed", "cancelled", ... (MEMOFF_RESULT)
 * @message: how it ended, or NULL
 */
void mo_joblog_finished(const char *job, const char *request, const char *result, const char *message);
