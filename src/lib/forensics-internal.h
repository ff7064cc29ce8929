/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the forensics context (forensics.c) and the sampler thread that runs
 * beside an attempt's write (forensics-sampler.c) share: the context itself,
 * the sampler's state, which mo_forensics_attempt() sets up, starts, joins and
 * reads back, and the kernel log drain both call. Private to those two files;
 * the API is forensics.h.
 */

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "census.h"
#include "forensics.h"
#include "kmsg.h"
#include "stall.h"

/* Stall detection looks at the kernel's progress this often: a quarter of the grace, at least this. */
#define STALL_TICK_MIN_USEC (20 * UINT64_C(1000))

/* forensics.c's own */
struct block_info;
struct pending_event;

struct mo_forensics {
	const struct mo_root *root;
	struct mo_forensics_opts o;
	uint64_t block_size, page_size;
	struct mo_blocked_tracker *tracker;
	struct mo_kmsg_reader *kmsg;     /* "from now", for attempts */
	struct mo_dump_parser *parser;
	int kmsg_error;
	bool kmsg_scanned;               /* the whole buffer was read once (scans) */
	struct mo_page_dump *dumps;      /* a ring of the newest dumps with a pfn */
	size_t n_dumps, dumps_next;
	struct block_info *blocks;
	size_t n_blocks;
	struct mo_census_reader *census; /* for scans */
	int census_error;
	/* during a tracker pass: the events to log once it has ended */
	struct pending_event *events;
	size_t n_events, cap_events;
	/* during an attempt: what the kernel log says failed in the block */
	bool att_active;
	uint64_t att_first, att_n;
	uint64_t att_kmsg_failed;
	unsigned att_n_pfns;
	uint64_t att_pfns[MO_STALL_PFNS_MAX];
};

struct sample {
	struct mo_pin_candidate *v;
	size_t n, cap;
	uint64_t in_use;      /* of them, not free (buddy) */
	uint64_t t;
};

struct sampler {
	struct mo_forensics *f;          /* its kernel log is read here while the write runs */
	struct mo_census_reader *reader;
	uint64_t first_pfn, n_pfns, period, deadline;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop;
	struct sample cur, last;
	bool have_last;
	int error;
	/* stall detection (tick 0: off) */
	uint64_t tick;
	pthread_t writer;
	volatile sig_atomic_t stop_write;
	struct mo_stall stall;
	struct mo_stall_evidence evidence;
	/* for the debug log (where an attempt's time goes) and the census decision */
	uint64_t t0, t_first_fail, t_stalled, n_census, census_usec;
	uint64_t last_success, last_fail, last_kmsg_failed;
	bool have_counters;
};

/*
 * Feeds what @k (may be NULL) has to read to @p, at most 100000 records; a
 * parser made for @f stores the dumps and notes the attempt's failing PFNs.
 */
void forensics_drain_kmsg(struct mo_forensics *f, struct mo_kmsg_reader *k, struct mo_dump_parser *p);

/*
 * The sampler thread (pthread_create()'s start routine, @userdata a struct
 * sampler): censuses the block every period and, with a tick, watches for a
 * stall and ends the write, until s->stop is set under s->lock.
 */
void *forensics_sampler_main(void *userdata);
