/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The blocked-page report of a memory block: which pages block (or would
 * block) offlining it, grouped, with the evidence, the kernel's own account
 * from its log, and the processes that map them.
 *
 * Evidence, strongest first:
 *  - attempt:   the page stayed in use through an offline attempt, while the
 *               range was isolated and the kernel migrated everything it could
 *               (the census of the block at the attempt's end);
 *  - kmsg:      the kernel logged that it failed to migrate or isolate the
 *               page ("migrating pfn ... failed", dump_page());
 *  - unmovable: its flags say kernel memory (slab, page table, reserved,
 *               offline, another kernel allocation off the LRU);
 *  - unmapped:  anonymous and in use, but mapped by no process: only a
 *               reference keeps it (a pipe buffer after vmsplice, a kernel
 *               user).
 * A page pinned while still mapped (vmsplice of mapped memory, O_DIRECT,
 * get_user_pages) looks like any other from its flags: only the first two
 * kinds of evidence find it.
 *
 * Pages are grouped as the blocked-page tracker groups them (blocked.h):
 * contiguous, the same identity flags, the same (first) owner.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "blocked.h"
#include "census.h"
#include "kmsg.h"
#include "owners.h"
#include "root.h"

enum {
	MO_PIN_EV_ATTEMPT = 1 << 0,
	MO_PIN_EV_KMSG = 1 << 1,
	MO_PIN_EV_UNMOVABLE = 1 << 2,
	MO_PIN_EV_UNMAPPED = 1 << 3,
};

/** mo_pin_evidence_format() - "attempt,kmsg" for a set of MO_PIN_EV_* bits; the length. */
size_t mo_pin_evidence_format(unsigned evidence, char *buf, size_t size);

/**
 * mo_pin_flags_evidence() - what the page flags alone say about a page in use:
 * MO_PIN_EV_UNMOVABLE, MO_PIN_EV_UNMAPPED or 0 (a page that migrates unless
 * something holds it).
 */
unsigned mo_pin_flags_evidence(uint64_t kpageflags);

/**
 * mo_pins_count() - how many pages of a PFN range would block offlining by
 * their flags alone (mo_pin_flags_evidence() non-zero): kernel memory, and
 * anonymous pages in use that no process maps. Cheap enough for the whole
 * machine (one census pass). Pages pinned while mapped are not counted: no
 * flag shows them.
 * Return: 0, or the census error (-EACCES without privilege).
 */
int mo_pins_count(struct mo_census_reader *r, uint64_t first_pfn, uint64_t n_pfns, uint64_t *ret);

/* The folios a group lists one by one, each by its head page (the rest are only counted). */
#define MO_PIN_PAGES_MAX 64

struct mo_pin_page {
	uint64_t pfn;
	uint64_t kpageflags;
	unsigned evidence;
	size_t n_found;            /* mappings found */
	size_t n_owners;
	struct mo_owner *owners;   /* up to the owners limit */
	bool have_dump;            /* the kernel log dumped this page */
	int64_t extra_refs;        /* mo_page_dump_extra_refs() of its newest dump, else -ENODATA */
	int64_t pins;              /* mo_page_dump_pins() likewise */
};

struct mo_pin_group {
	uint64_t block;
	uint64_t first_pfn, last_pfn, npages;
	uint64_t kpageflags;       /* of the first page */
	unsigned evidence;         /* of any of its pages */
	uint32_t owner_pid;        /* the owner the group was formed by, 0 when none */
	/* tracked across attempts (only in reports of an offline) */
	bool tracked;
	enum mo_blocked_class cls;
	uint64_t first_seen, duration; /* usec, CLOCK_MONOTONIC */
	unsigned passes;
	/* the newest dump_page() of one of its pages */
	bool have_dump;
	struct mo_page_dump dump;
	size_t n_pages;            /* listed: one a folio (its head), at most MO_PIN_PAGES_MAX */
	struct mo_pin_page *pages;
	uint64_t folios;           /* folios among its pages: a THP counts once */
};

struct mo_pin_report {
	uint64_t block;
	uint64_t first_pfn, n_pfns;  /* the block's PFN range */
	size_t n_groups;
	struct mo_pin_group *groups;
	uint64_t pages;              /* in all groups */
	int owners_error;            /* -EPERM: owners need CAP_SYS_ADMIN; other errors; 0 */
	int kmsg_error;              /* the kernel log could not be read (0 when it was, or not asked) */
	int census_error;            /* the page flags could not be read */
};

void mo_pin_report_free(struct mo_pin_report *r);
static inline void mo_pin_report_freep(struct mo_pin_report **r) { mo_pin_report_free(*r); }

/* One page as a report is built from. */
struct mo_pin_candidate {
	uint64_t pfn;
	uint64_t kpageflags;
	unsigned evidence;
};

/**
 * mo_pin_report_build() - group @candidates (pages of one block) into a report.
 * @root: where owners are looked up (proc/)
 * @block, @first_pfn, @n_pfns: the block and its PFN range
 * @candidates: the pages, any order; duplicates are merged (evidence OR'ed)
 * @dumps: dump_page() records to match by PFN (the newest per PFN wins), or NULL
 * @tracker: when given, the groups are the tracker's groups of @block and
 *           candidates outside them are dropped; else they are formed here
 * @owner_opts: for mo_owners_resolve(), or NULL
 * @ret: the report
 *
 * Owners are resolved after the attempts, once per folio (a THP's tail pages
 * take its head's owner), for up to MO_PIN_OWNERS_MAX folios; an owner error
 * (-EPERM without CAP_SYS_ADMIN) is kept in the report, not returned. A page
 * the sample saw unmapped (MO_PIN_EV_UNMAPPED) loses that evidence when its
 * folio is mapped by then: migration unmaps pages while it tries them, so
 * only a page still unmapped after the attempt is "mapped by no process".
 * Return: 0 or -ENOMEM.
 */
int mo_pin_report_build(const struct mo_root *root, uint64_t block, uint64_t first_pfn, uint64_t n_pfns,
			const struct mo_pin_candidate *candidates, size_t n_candidates,
			const struct mo_page_dump *dumps, size_t n_dumps, const struct mo_blocked_tracker *tracker,
			const struct mo_owners_opts *owner_opts, struct mo_pin_report **ret);

#define MO_PIN_OWNERS_MAX 4096

/**
 * mo_pin_group_describe() - one line about a group, for logs and terminals:
 * "3 pages at PFN 0x108000-0x108002 (anonymous) mapped by pinner[117] at
 * 0x7fdcf9a64000 (anonymous memory); 1 extra reference (kernel log)".
 * Return: @buf.
 */
const char *mo_pin_group_describe(const struct mo_pin_group *g, char *buf, size_t size);

/*
 * The report a person reads: the blocked pages of a set of reports grouped by
 * (block, owner, kind), one line each, with counts of folios and pages, the
 * class and the evidence. The per-page detail stays in the reports.
 */
struct mo_pin_summary_line {
	uint64_t block;
	pid_t pid;                 /* the owner (first mapping found), 0 when none */
	char comm[17];
	const char *mapping;       /* the owner's mapping of the first such page (points into the reports) */
	uint64_t vaddr;            /* ... and its address */
	uint64_t kpageflags;       /* of the first group's first page (its kind: mo_kpageflags_what()) */
	bool thp;                  /* the folios are transparent huge pages */
	uint64_t folios, pages;
	uint64_t first_pfn, last_pfn;
	size_t n_groups;
	unsigned evidence;         /* of any of its pages */
	bool kernel;               /* nobody maps them and the flags say kernel memory */
	bool unmapped;             /* nobody maps them after the attempt ended */
	bool tracked;              /* class and duration known (tracked across attempts) */
	enum mo_blocked_class cls; /* the strongest: long-lived over pending over transient */
	uint64_t duration;         /* the longest, usec */
	bool have_dump;            /* the newest kernel dump_page() of one of them */
	int64_t extra_refs, pins;  /* from that dump (-ENODATA when unknown) */
};

struct mo_pin_summary {
	struct mo_pin_summary_line *lines;
	size_t n;
	uint64_t pages, folios;    /* in all lines */
};

/**
 * mo_pin_summary_build() - group the groups of @reports into summary lines,
 * in the order of the reports, then of the first PFN.
 * The lines point into @reports: keep them while the summary is used.
 * Return: 0 or -ENOMEM.
 */
int mo_pin_summary_build(struct mo_pin_report *const *reports, size_t n_reports, struct mo_pin_summary *out);
void mo_pin_summary_done(struct mo_pin_summary *s);

/**
 * mo_pin_summary_line_format() - one line, e.g. "block 39: pinner[117]: 64
 * THPs (32768 pages) of anonymous memory at 0x7f..., long-lived, blocking for
 * 31s; evidence attempt,kmsg; kernel log: 1 extra reference". Return: @buf.
 */
const char *mo_pin_summary_line_format(const struct mo_pin_summary_line *l, char *buf, size_t size);

/**
 * mo_pin_summary_print() - the report of @reports for a terminal, on @out:
 * "Block N: no blocked page found (...)." for a report without groups, then
 * "Blocked pages:" and the summary lines, indented (NULL reports are skipped).
 * What the `offline` report prints, in-process and through memoffd alike.
 * Return: the number of lines printed, or -ENOMEM.
 */
int mo_pin_summary_print(FILE *out, struct mo_pin_report *const *reports, size_t n_reports);
