/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The blocked-page tracker: which pages of a block stay in use across the
 * attempts to offline it, for how long, and whether they go away.
 *
 * Feed it passes: a pass is one look at a block (the census of its pages in
 * use while an attempt spins, the range isolated so nothing new lands there):
 * mo_blocked_begin(), one mo_blocked_add() per page in use, mo_blocked_end().
 * A PFN missing from a pass has cleared.
 *
 * A PFN counts as blocked once it stayed in use for the settle time (default
 * 1 s: the kernel's migration passes move everything movable well within
 * that). Blocked PFNs are grouped: contiguous PFNs with the same owner and
 * the same identity flags (MO_KPF_IDENTITY_MASK: anon, slab, ... but not
 * referenced/active/dirty/lru/mmap, which flip while a page sits there); a
 * tail page (COMPOUND_TAIL) right after its head or another tail is the same
 * folio and joins that group whatever its own flags and owner. A group
 * is long-lived once its oldest PFN has been blocked for the threshold
 * (default 30 s) and transient when it clears before that.
 *
 * Events, so that the log gets one record per group rather than a flood:
 * NEW once when a group first counts as blocked (or LONG_LIVED when it is
 * long-lived already by then), LONG_LIVED once when it crosses the threshold,
 * UPDATE with the grown duration at a doubling interval (default first after
 * 60 s), CLEARED once when it goes away.
 *
 * Pure: no clock reads (time is passed in, CLOCK_MONOTONIC microseconds by
 * convention), no I/O, deterministic.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MO_BLOCKED_LONG_LIVED_DEFAULT_USEC (30 * UINT64_C(1000000))
#define MO_BLOCKED_SETTLE_DEFAULT_USEC (1 * UINT64_C(1000000))
#define MO_BLOCKED_UPDATE_DEFAULT_USEC (60 * UINT64_C(1000000))
/* settle_usec: a page counts as blocked the first time a pass sees it */
#define MO_BLOCKED_NO_SETTLE UINT64_MAX
/* update_usec: no UPDATE events */
#define MO_BLOCKED_NO_UPDATES UINT64_MAX

struct mo_blocked_opts {
	uint64_t long_lived_usec;  /* 0: the default, 30 s */
	uint64_t settle_usec;      /* 0: the default, 1 s; MO_BLOCKED_NO_SETTLE: none */
	uint64_t update_usec;      /* first UPDATE after this, then doubling; 0: 60 s;
				    * MO_BLOCKED_NO_UPDATES: never */
	uint64_t flags_mask;       /* flags compared for grouping; 0: MO_KPF_IDENTITY_MASK */
};

enum mo_blocked_class {
	MO_BLOCKED_PENDING,    /* blocked, not long enough to say */
	MO_BLOCKED_TRANSIENT,  /* cleared before the threshold */
	MO_BLOCKED_LONG_LIVED, /* blocked for longer than the threshold */
};

/** mo_blocked_class_to_string() - "pending", "transient", "long-lived". */
const char *mo_blocked_class_to_string(enum mo_blocked_class c);

struct mo_blocked_group {
	uint64_t id;           /* stable while the group lives, unique in the tracker */
	uint64_t block;
	uint64_t first_pfn, last_pfn;
	uint64_t npages;       /* == last_pfn - first_pfn + 1 */
	uint64_t flags;        /* kpageflags of the group's first PFN (last pass) */
	uint32_t owner;        /* as fed (a pid), 0 when unknown */
	uint64_t first_seen;   /* the oldest PFN's first sighting */
	uint64_t last_seen;    /* the last pass that saw the group */
	uint64_t duration;     /* last_seen - first_seen */
	unsigned passes;       /* passes that saw the group */
	enum mo_blocked_class cls;
};

enum mo_blocked_event_type {
	MO_BLOCKED_EV_NEW,
	MO_BLOCKED_EV_LONG_LIVED,
	MO_BLOCKED_EV_UPDATE,
	MO_BLOCKED_EV_CLEARED,
};

/** mo_blocked_event_to_string() - "new", "long-lived", "update", "cleared". */
const char *mo_blocked_event_to_string(enum mo_blocked_event_type t);

struct mo_blocked_event {
	enum mo_blocked_event_type type;
	const struct mo_blocked_group *group; /* valid during the callback */
};

/* Return < 0 to make mo_blocked_end() return that error (after its bookkeeping). */
typedef int (*mo_blocked_event_cb)(const struct mo_blocked_event *ev, void *userdata);

struct mo_blocked_tracker;

/**
 * mo_blocked_tracker_new() - a tracker.
 * @opts: options, or NULL for the defaults
 * @cb: called for every event, from mo_blocked_end()
 * @userdata: passed to @cb
 * @ret: the tracker, freed with mo_blocked_tracker_free()
 * Return: 0 or -ENOMEM.
 */
int mo_blocked_tracker_new(const struct mo_blocked_opts *opts, mo_blocked_event_cb cb, void *userdata,
			   struct mo_blocked_tracker **ret);
void mo_blocked_tracker_free(struct mo_blocked_tracker *t);
static inline void mo_blocked_tracker_freep(struct mo_blocked_tracker **t) { mo_blocked_tracker_free(*t); }

/**
 * mo_blocked_begin() - start a pass over @block.
 * @now_usec: the time of the pass: every page added is seen at that time
 * Return: 0, -EBUSY when a pass over @block is open already, -ENOMEM.
 */
int mo_blocked_begin(struct mo_blocked_tracker *t, uint64_t block, uint64_t now_usec);

/**
 * mo_blocked_add() - a page of @block in use in the open pass.
 * @owner: a pid when known, else 0
 * Return: 0, -ENOENT without an open pass over @block, -ENOMEM.
 */
int mo_blocked_add(struct mo_blocked_tracker *t, uint64_t block, uint64_t pfn, uint64_t kpageflags, uint32_t owner);

/**
 * mo_blocked_end() - close the pass: PFNs not added have cleared; emit events.
 * Return: 0, -ENOENT without an open pass, or the callback's error.
 */
int mo_blocked_end(struct mo_blocked_tracker *t, uint64_t block);

struct mo_blocked_sample {
	uint64_t pfn;
	uint64_t kpageflags;
	uint32_t owner;
};

/** mo_blocked_pass() - begin, add every sample, end: one whole pass. */
int mo_blocked_pass(struct mo_blocked_tracker *t, uint64_t block, uint64_t now_usec,
		    const struct mo_blocked_sample *samples, size_t n);

/**
 * mo_blocked_forget() - drop everything about @block without events (the
 * caller stopped caring, e.g. the job was cancelled).
 */
void mo_blocked_forget(struct mo_blocked_tracker *t, uint64_t block);

/**
 * mo_blocked_foreach() - the current groups of @block (every block when
 * @block is UINT64_MAX), in PFN order.
 * Return: 0, or the first negative value @cb returned.
 */
int mo_blocked_foreach(const struct mo_blocked_tracker *t, uint64_t block,
		       int (*cb)(const struct mo_blocked_group *g, void *userdata), void *userdata);
