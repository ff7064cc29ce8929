/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Forensics of offline attempts: what blocks a block, who holds it, since
 * when, and whether it is going away.
 *
 * mo_forensics_attempt() is a drop-in for mo_attempt_run() (and fits the job
 * engine's hooks.attempt): while the write spins, a second thread takes the
 * census of the block's pages in use every sample period; the last census
 * taken before the attempt's timer fired is the blocked set (the range was
 * isolated and the kernel had migrated whatever it could). That set (pages
 * and flags: no owner lookup during or right after an attempt) and what the
 * kernel logged about it (kmsg.h) feed the blocked-page tracker (blocked.h);
 * its events are logged (log.h), one record per group of pages, not one per
 * attempt, with the owner of the group's first page, looked up once for a
 * pass that has something to log. The sampler thread blocks every signal,
 * so a SIGINT meant to cancel the write still reaches the writing thread.
 *
 * With a stall grace, the same thread also watches the kernel's progress
 * (stall.h) every tick (a quarter of the grace; 20 ms once migration fails):
 * /proc/vmstat's pgmigrate counters and the kernel log's failing PFNs of the
 * block, and the block's pages in use only while migration fails (a census
 * takes its CPU from the kernel's migration). Once the attempt has stalled it
 * takes the blocked set and ends the write early
 * (mo_attempt_run_stoppable()): the outcome is MO_OUTCOME_STALLED with the
 * evidence in the result's stall member. The periodic census then starts
 * only halfway to the timeout, so an attempt that goes well takes none. The
 * attempt's timeout stays the outer bound.
 *
 * With a pin store (pinmem.h), a block that timed out or stalled is noted
 * with its failing PFNs, and a block that went offline is forgotten.
 *
 * mo_forensics_report() gives the blocked pages of a block as seen by the
 * attempts so far; mo_forensics_scan() looks at a block without any attempt
 * (read-only: the page flags and the kernel log of earlier attempts).
 *
 * One object is used from one thread at a time.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "attempt.h"
#include "blocked.h"
#include "owners.h"
#include "pinmem.h"
#include "pins.h"
#include "root.h"

struct mo_forensics_opts {
	uint64_t long_lived_usec;      /* tracker threshold; 0: 30 s */
	uint64_t update_usec;          /* tracker updates; 0: 60 s, doubling */
	uint64_t sample_usec;          /* census period during an attempt; 0: an eighth of the
					* attempt's timeout, at least 50 ms, at most 1 s (with a
					* stall grace, from halfway to the timeout on) */
	bool log;                      /* log tracker events (mo_log_full, MESSAGE_IDs) */
	const char *job;               /* MEMOFF_JOB= of those records, or NULL; borrowed */
	bool no_kmsg;                  /* do not read /dev/kmsg */
	uint64_t stall_grace_usec;     /* end an attempt that stalled this long (stall.h); 0: never */
	struct mo_pinmem *pinmem;      /* borrowed, or NULL: blocks found blocked are noted in it,
					* blocks offlined (or found clear) forgotten */
	struct mo_owners_opts owners;  /* for mo_owners_resolve() */
};

struct mo_forensics;

/**
 * mo_forensics_new() - a forensics context for offline attempts on @root.
 * @root: borrowed; must outlive the context
 * @o: options, or NULL for the defaults
 * @ret: the context, freed with mo_forensics_free()
 *
 * Opens the kernel log "from now" unless told not to; failing to (no
 * /dev/kmsg, dmesg_restrict) is not an error: see mo_forensics_kmsg_error().
 * Return: 0, -ENOMEM, or the error of reading the block size.
 */
int mo_forensics_new(const struct mo_root *root, const struct mo_forensics_opts *o, struct mo_forensics **ret);
void mo_forensics_free(struct mo_forensics *f);
static inline void mo_forensics_freep(struct mo_forensics **f) { mo_forensics_free(*f); }

/**
 * mo_forensics_attempt() - mo_attempt_run() with forensics; the signature of
 * struct mo_job_hooks' attempt, @userdata being the context. Online actions
 * and attempts that cannot be observed run plainly.
 * Return: what mo_attempt_run() returns.
 */
int mo_forensics_attempt(void *userdata, const struct mo_root *root, uint64_t block, enum mo_action action,
			 uint64_t timeout_usec, volatile sig_atomic_t *cancel, struct mo_attempt_result *ret);

/**
 * mo_forensics_report() - the blocked pages of @block as the attempts saw
 * them: the tracker's groups with their evidence, owners and kernel log.
 * A block never seen blocked gives an empty report.
 * Return: 0 or a negative errno.
 */
int mo_forensics_report(struct mo_forensics *f, uint64_t block, struct mo_pin_report **ret);

/**
 * mo_forensics_scan() - read-only: the pages of @block that would block
 * offlining by their flags (kernel memory; anonymous pages mapped by nobody),
 * and those the kernel log says failed to migrate and that are still in use.
 * The whole kernel log buffer is read once per context.
 * Return: 0 or a negative errno.
 */
int mo_forensics_scan(struct mo_forensics *f, uint64_t block, struct mo_pin_report **ret);

/** mo_forensics_kmsg_error() - why the kernel log is not read (0 when it is). */
int mo_forensics_kmsg_error(const struct mo_forensics *f);

/** mo_forensics_block_pfns() - the PFN range of @block. */
void mo_forensics_block_pfns(const struct mo_forensics *f, uint64_t block, uint64_t *first_pfn, uint64_t *n_pfns);

/**
 * mo_forensics_log_group() - the journal record of a tracker event for group
 * @g (MESSAGE_ID, MEMOFF_* fields); what mo_forensics_attempt() logs when
 * the option is on. Exposed for callers that build reports themselves.
 */
void mo_forensics_log_group(enum mo_blocked_event_type type, const struct mo_pin_group *g);
