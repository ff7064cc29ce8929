/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the daemon knows about a job, apart from the thread that runs it: its
 * request, state, progress and per-block outcomes. These records are what
 * the D-Bus API shows and what the state file keeps across restarts.
 *
 * The state file is text, one record a line, fields separated by spaces,
 * strings percent-escaped:
 *
 *   memoffd-jobs 1
 *   next 12
 *   job ID KIND STATE RESULT CREATED STARTED FINISHED BLOCKS_DONE BLOCKS_WANTED BYTES_DONE BYTES_WANTED REQUEST MESSAGE
 *   uid ID UID
 *   claim ID BLOCK[,BLOCK...]
 *   block ID INDEX OUTCOME ATTEMPTS USEC REASON
 *
 * Unknown record types are skipped (newer files stay readable); a malformed
 * line, or one holding a NUL byte, is skipped and counted.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum job_kind {
	JOB_OFFLINE,
	JOB_ONLINE,
	JOB_RELEASE,
	_JOB_KIND_MAX,
};

enum job_state {
	JOB_QUEUED,
	JOB_RUNNING,
	JOB_FINISHED,
	_JOB_STATE_MAX,
};

enum job_result {
	JOB_RESULT_NONE,         /* not finished */
	JOB_RESULT_DONE,         /* everything asked for */
	JOB_RESULT_PARTIAL,      /* some of it */
	JOB_RESULT_FAILED,       /* nothing, or the request could not run */
	JOB_RESULT_CANCELLED,    /* Cancel, or the daemon was stopped */
	JOB_RESULT_INTERRUPTED,  /* the daemon died while the job was queued or running */
	_JOB_RESULT_MAX,
};

struct job_block {
	uint64_t index;
	char *outcome;           /* "done", "timed-out", ... (mo_outcome_to_string) */
	unsigned attempts;
	uint64_t usec;           /* time spent in attempts */
	char *reason;
};

#define JOB_UID_UNKNOWN UINT32_MAX  /* a record from before uids were kept */

struct job_record {
	unsigned id;
	uint32_t uid;            /* who asked for it, or JOB_UID_UNKNOWN */
	enum job_kind kind;
	enum job_state state;
	enum job_result result;
	char *request;           /* "offline 512M", "online blocks 40-47" */
	char *message;           /* how it ended, or "" */
	uint64_t created, started, finished; /* CLOCK_REALTIME µs, 0 = not yet */
	uint64_t blocks_done, blocks_wanted;
	uint64_t bytes_done, bytes_wanted;
	uint64_t *claims;        /* the blocks it works on: named, or its plan once made */
	size_t n_claims;
	struct job_block *blocks; /* per-block outcomes */
	size_t n_blocks;
};

void job_record_done(struct job_record *r);

/** job_record_set_claims() - replace the claimed blocks (copied). Return: 0 or -ENOMEM. */
int job_record_set_claims(struct job_record *r, const uint64_t *blocks, size_t n);

/** job_record_set_claims_add() - add one claimed block. Return: 0 or -ENOMEM. */
int job_record_set_claims_add(struct job_record *r, uint64_t index);

/**
 * job_record_add_block() - add or update the outcome of block @index.
 * Return: 0 or -ENOMEM.
 */
int job_record_add_block(struct job_record *r, uint64_t index, const char *outcome, unsigned attempts,
			 uint64_t usec, const char *reason);

/** job_record_claims() - whether the job works on block @index. */
bool job_record_claims(const struct job_record *r, uint64_t index);

const char *job_kind_to_string(enum job_kind k);
const char *job_state_to_string(enum job_state s);
const char *job_result_to_string(enum job_result r);

/**
 * job_records_format() - the state file text of @n records.
 * @next_id: the next job id to hand out
 * Return: 0 or -ENOMEM; *@ret is malloc'd.
 */
int job_records_format(const struct job_record *const *recs, size_t n, unsigned next_id, char **ret);

/**
 * job_records_parse() - read state file text.
 * @recs: receives a malloc'd array of records (each to be job_record_done()'d)
 * @n: receives its length
 * @next_id: receives the next id (at least one above every id read)
 * @bad_lines: receives how many lines were malformed and skipped
 * Return: 0; -EBADMSG when the header is not ours; -ENOMEM.
 */
int job_records_parse(const char *text, struct job_record **recs, size_t *n, unsigned *next_id,
		      unsigned *bad_lines);

/** job_records_parse_n() - job_records_parse() of @len bytes that may hold NUL bytes. */
int job_records_parse_n(const char *text, size_t len, struct job_record **recs, size_t *n, unsigned *next_id,
			unsigned *bad_lines);
