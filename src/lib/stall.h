/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Stall detection: when an offline attempt has stopped making progress.
 *
 * While "offline" is being written, offline_pages() loops: it isolates the
 * block's movable pages and migrates them, and as long as any page cannot
 * move it tries again, forever. The kernel says how that goes:
 *
 *  - /proc/vmstat pgmigrate_success counts pages moved, pgmigrate_fail
 *    pages that could not be (both system-wide; 6.1 adds a migrate_pages()
 *    call's counts when the call ends, so a big healthy batch is silent
 *    until it is done);
 *  - the page census of the block: its pages in use fall as they move;
 *  - the kernel log: "migrating pfn P failed" for pages of the block.
 *
 * An attempt has stalled when, for a whole grace period, nothing moved
 * (pgmigrate_success flat, the block's pages in use not falling) while the
 * kernel kept failing (pgmigrate_fail rising or a failing PFN of the block
 * logged). It has stalled at once when a pass of the kernel has ended with
 * failures and every page still in use in the block failed in it
 * (pgmigrate_fail rose by at least the block's pages in use): migrate_pages()
 * has already retried them ten times, and nothing is left to move; the
 * grace would only wait for the next pass to fail them again. Nothing
 * moving without any failure is not a stall: that is a batch still under
 * way or a kernel busy elsewhere, and the attempt's timeout stays the bound
 * for it. Pages moving slowly but steadily keep the attempt alive however
 * long it takes, up to that timeout. A grace of 0 turns both rules off.
 *
 * mo_stall_feed() is a pure function of the samples (tests feed made-up
 * ones); mo_vmstat_parse_migrate() is pure too; mo_vmstat_read_migrate()
 * reads <procroot>/proc/vmstat.
 */

#include <stdbool.h>
#include <stdint.h>

#include "root.h"

/* The default grace (StallGrace=, --stall-grace). */
#define MO_STALL_GRACE_USEC (300 * 1000ULL)   /* 300 ms */

struct mo_stall_sample {
	uint64_t t;                 /* CLOCK_MONOTONIC µs */
	bool have_vmstat;
	uint64_t migrate_success;   /* pgmigrate_success */
	uint64_t migrate_fail;      /* pgmigrate_fail */
	bool have_census;
	uint64_t in_use;            /* pages of the block in use */
	uint64_t kmsg_failed;       /* failures of the block's pages logged so far (cumulative) */
};

struct mo_stall {
	uint64_t grace_usec;        /* 0: never stalled */
	uint64_t t0;                /* attempt start */
	uint64_t last_progress;     /* when something last moved (or t0) */
	bool failing;               /* a failure since last_progress */
	bool have_prev;
	struct mo_stall_sample prev;    /* previous sample, per signal */
	bool have_prev_census;
	uint64_t prev_in_use;
	struct mo_stall_sample first;   /* for the evidence: the first sample */
	bool have_first_vmstat;
	uint64_t first_success, first_fail;
	bool stalled;
	uint64_t stalled_at;
	bool all_failed;            /* stalled by the second rule: every page left had failed */
};

/** mo_stall_init() - a detector for an attempt that began at @t0. */
void mo_stall_init(struct mo_stall *s, uint64_t grace_usec, uint64_t t0);

/**
 * mo_stall_feed() - take one sample (in time order; any field may be
 * missing: have_vmstat / have_census false).
 * Return: true once the attempt has stalled (and from then on).
 */
bool mo_stall_feed(struct mo_stall *s, const struct mo_stall_sample *x);

/**
 * mo_stall_evidence() - pgmigrate_success and pgmigrate_fail rises over the
 * attempt so far (0 when vmstat was never read).
 */
void mo_stall_evidence(const struct mo_stall *s, uint64_t *success, uint64_t *fail);

/**
 * mo_vmstat_parse_migrate() - pgmigrate_success and pgmigrate_fail from the
 * text of /proc/vmstat.
 * Return: 0, or -ENODATA when either line is missing or malformed.
 */
int mo_vmstat_parse_migrate(const char *text, uint64_t *success, uint64_t *fail);

/** mo_vmstat_read_migrate() - the same, read from <procroot>/proc/vmstat. */
int mo_vmstat_read_migrate(const struct mo_root *root, uint64_t *success, uint64_t *fail);
