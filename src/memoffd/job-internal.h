/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the job queue (jobs.c, on the event loop) and the worker thread that
 * runs a job (job-worker.c) share. The worker writes struct shared under the
 * job's lock and wakes the loop; the loop takes it over (collect()).
 */

#include <pthread.h>
#include <signal.h>

#include "jobs.h"
#include "joblog.h"
#include "pinmem.h"
#include "pins.h"
#include "progress-text.h"
#include "ratelimit.h"

/* Per-block status as the worker sees it; strings are the engine's static ones. */
struct live_block {
	uint64_t index;
	enum mo_outcome outcome;
	const char *outcome_name;   /* instead of @outcome's name (a release: "released"), or NULL */
	unsigned attempts;
	uint64_t usec;
	const char *reason;
	char *reason_owned;         /* a composed @reason (a release names the device) */
};

/* Written by the worker, read by the loop, both under job->lock. */
struct shared {
	bool plan_dirty;          /* blocks added to @plan since the loop last looked */
	uint64_t *plan;           /* every block the engine planned or touched */
	size_t n_plan;
	bool progress_dirty;
	uint64_t blocks_done, blocks_wanted, bytes_done, bytes_wanted, current;
	char progress[PROGRESS_TEXT_MAX];   /* what the job is doing (progress-text.h), or "" */
	bool blocks_dirty;
	struct live_block *live;
	size_t n_live;
	bool blocked_dirty;
	struct mo_pin_report **blocked;
	size_t n_blocked;
	bool finished;
	enum job_result result;
	char *message;
	char *report;             /* the job's report document (job-report.h) */
};

struct job {
	struct job_queue *q;
	struct job_record rec;
	struct job_params params;
	uint64_t current_block;
	char progress[PROGRESS_TEXT_MAX];   /* the loop's copy of sh.progress */
	/* the worker */
	pthread_t thread;
	bool have_thread;
	volatile sig_atomic_t cancel;
	pthread_mutex_t lock;
	struct shared sh;
	/* the worker's journal records (joblog.h) */
	char log_id[16];
	struct mo_joblog log;
	/* what blocked the blocks given up on (the loop's copy) */
	struct mo_pin_report **blocked;
	size_t n_blocked;
	/* release: the devices tried (set by the worker before it finishes; job_devices()) */
	struct job_device *devices;
	size_t n_devices;
	char *report;               /* the loop's copy of sh.report */
};

struct job_queue {
	sd_event *event;
	const struct mo_root *root;
	char *state_path;
	struct job_queue_hooks hooks;
	struct job **jobs;          /* by ascending id */
	size_t n_jobs;
	unsigned next_id;
	struct job *running;
	int efd;
	sd_event_source *efd_source;
	uint64_t block_size;
	bool hold_hotplug_knob;     /* job_queue_set_hold_hotplug_knob() */
	struct mo_pinmem *pins;     /* remembered pins (pinmem.h): touched by the one running worker only,
				     * or before any runs */
	char *pins_path;
	struct mo_ratelimit persist_log;  /* "Cannot write" warnings */
};

/**
 * job_worker() - the worker thread of @userdata (a struct job): runs the
 * job's engine, publishes into job->sh and wakes the loop through the
 * queue's eventfd; sets sh.finished last.
 */
void *job_worker(void *userdata);
