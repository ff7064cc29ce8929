/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Release: free SIZE bytes as whole hot-pluggable memory devices and eject
 * them, so that the hypervisor gets the memory back (a cloud balloon made of
 * DIMMs).
 *
 * The plan. Only eligible devices (device.h) take part, cheapest first by
 * their page census: devices with nothing to migrate (every block offline or
 * free) first, devices with unmovable pages last. SIZE must be a multiple of
 * the memory block size. The release frees AT LEAST SIZE and never a device
 * it could do without: the devices are taken in rank order until they add up
 * to SIZE, then any of them whose size the total can spare is dropped again
 * (the most expensive first). So when SIZE is not a sum of whole devices it
 * is rounded up, by less than one device. A SIZE larger than all eligible
 * devices together is refused before anything is touched.
 *
 * The execution, device by device:
 *  1. its blocks go offline through the job engine (job.h) as one block-list
 *     request, all-or-nothing, one bounded attempt per block, the costliest
 *     block first; the first block that does not go ends the device's try and
 *     the blocks this request took are put back online;
 *  2. with every block reading offline, "1" is written to its eject file;
 *  3. the device counts as released when its blocks have vanished from sysfs.
 * A device that failed (busy: timed out, unmovable, no memory) is retried
 * after a backoff while others are tried meanwhile, fewest tries first, up to
 * backoff.max_attempts tries per device. When devices have failed for good
 * and the others cannot make up the rest of SIZE, the others are still
 * released: the request is then partly done. The whole request ends by its
 * deadline and can be cancelled like the engine (the cancel flag interrupts
 * a write in progress; blocks taken are put back). Once eject is written it
 * cannot be taken back: when the blocks do not vanish within the eject
 * timeout the release stops and says so (the kernel may still finish it).
 *
 * The library never prints; a progress callback reports as it goes.
 */

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "device.h"
#include "job.h"

#define MO_RELEASE_EJECT_TIMEOUT_USEC (30 * 1000 * 1000ULL)  /* eject to blocks gone */
#define MO_RELEASE_POLL_USEC          (50 * 1000ULL)         /* how often to look meanwhile */

enum mo_release_outcome {
	MO_RELEASE_NOT_TRIED,       /* eligible, not needed or not reached */
	MO_RELEASE_INELIGIBLE,      /* see the device's skip reason */
	MO_RELEASE_PLANNED,         /* dry run: would be released */
	MO_RELEASE_RELEASED,        /* offline, ejected, its blocks gone */
	MO_RELEASE_BUSY,            /* a block did not go offline; the blocks taken were put back */
	MO_RELEASE_HEADROOM,        /* the OOM headroom guard refused one of its blocks */
	MO_RELEASE_EJECT_FAILED,    /* writing eject failed; the blocks taken were put back */
	MO_RELEASE_UNCONFIRMED,     /* eject written, its blocks still there at the timeout */
	MO_RELEASE_CANCELLED,       /* cancelled while working on it; the blocks taken were put back */
	MO_RELEASE_ERROR,           /* state files not writable, a block vanished, ... */
	_MO_RELEASE_OUTCOME_MAX,
};

struct mo_release_device_result {
	char name[64];
	uint64_t start, size;
	int node;
	enum mo_release_outcome outcome;
	const char *reason;          /* static (valid while the release lives), never NULL */
	enum mo_device_skip skip;
	unsigned tries;              /* how often its blocks were tried */
	uint64_t usec;               /* time spent on it, eject included */
	uint64_t eject_usec;         /* eject write to blocks gone (released) */
	bool rollback_failed;        /* a block it took could not be put back online */
	int tier;
	uint64_t cost;               /* UINT64_MAX when unknown */
	bool have_census;
	struct mo_census census;     /* its online blocks, at plan time */
	/* Every block of the device: the last try's outcomes (not-tried before any). */
	struct mo_block_result *blocks;
	size_t n_blocks;
};

enum mo_release_phase {
	MO_RELEASE_PHASE_DEVICE,    /* a try on @device starts (@attempt) */
	MO_RELEASE_PHASE_BLOCK,     /* the engine's progress on one of its blocks: @job */
	MO_RELEASE_PHASE_EJECT,     /* every block offline: ejecting @device */
	MO_RELEASE_PHASE_RESULT,    /* the try on @device ended with @outcome */
	MO_RELEASE_PHASE_WAIT,      /* sleeping @wait_usec before a device's next try */
};

struct mo_release_progress {
	enum mo_release_phase phase;
	const char *device;          /* NULL in WAIT */
	uint64_t device_size;
	unsigned attempt;            /* 1-based try on @device */
	const struct mo_job_progress *job; /* PHASE_BLOCK */
	enum mo_release_outcome outcome;   /* PHASE_RESULT */
	const char *reason;          /* PHASE_RESULT */
	uint64_t released_bytes, wanted_bytes;
	unsigned released_devices;
	uint64_t wait_usec;          /* PHASE_WAIT */
	uint64_t elapsed_usec;
};

/* Seams for tests; NULL = the real thing. The job hooks go to the engine as they are. */
struct mo_release_hooks {
	struct mo_job_hooks job;     /* attempt, now, sleep, headroom; job.userdata is every hook's */
	int (*eject)(void *userdata, const struct mo_root *root, const char *device);
};

struct mo_release_options {
	uint64_t attempt_timeout_usec;  /* per block attempt; 0 = MO_JOB_ATTEMPT_TIMEOUT_USEC */
	uint64_t deadline_usec;         /* whole request; 0 = MO_JOB_DEADLINE_USEC */
	uint64_t eject_timeout_usec;    /* 0 = MO_RELEASE_EJECT_TIMEOUT_USEC (always cut at the deadline) */
	struct mo_backoff backoff;      /* between tries of a device; max_attempts = tries per device */
	uint64_t reserve;               /* bytes kept available; MO_JOB_RESERVE_DEFAULT */
	bool force;                     /* no headroom guard */
	bool dry_run;                   /* plan only, no write */
	int node;                       /* only devices on this node; -1 = any */
	const char *device;             /* only this device ("PNP0C80:01"), all of it; NULL = any */
	/*
	 * The caller holds firmware/acpi/hotplug/memory/enabled at 0 (memoffd's
	 * HandleEjectRequests=): a device is not ineligible for that, and each
	 * eject is written with the knob at 1, set back to 0 once the device's
	 * blocks are gone or the eject timed out (the kernel's worker reads the
	 * knob again when it runs).
	 */
	bool hold_hotplug_knob;
	/* devices with a block that overlaps one of these are never offlined (borrowed) */
	const struct mo_addr_range *excluded;
	size_t n_excluded;
	volatile sig_atomic_t *cancel;  /* set (by a signal handler, another thread) to cancel */
	void (*progress)(const struct mo_release_progress *p, void *userdata);
	void *progress_userdata;
	struct mo_release_hooks hooks;
};

/** mo_release_options_init() - the engine's defaults, a 30 s eject timeout, node -1. */
void mo_release_options_init(struct mo_release_options *o);

struct mo_release_result {
	bool dry_run;
	uint64_t block_size;
	uint64_t wanted_bytes;
	uint64_t released_bytes;        /* devices released (gone) */
	unsigned released_devices;
	uint64_t planned_bytes;         /* dry run: what the plan would release */
	unsigned planned_devices;
	uint64_t usec;                  /* wall time */
	enum mo_job_stop stop;
	const char *stop_reason;        /* valid while the release lives */
	/* What was there to choose from. */
	size_t n_found;                 /* hot-pluggable devices owning memory blocks */
	size_t n_eligible;
	uint64_t eligible_bytes;
	bool hotplug_disabled;
	int census_error;
	int hotplug_knob_error;         /* hold_hotplug_knob: the last failure to set it back to 0 */
	/* Headroom (read at plan time; for a dry run also after the planned devices). */
	bool have_headroom;
	struct mo_headroom headroom, headroom_after;
	uint64_t reserve;
	/* Every device found: eligible ones in rank order, then the others by address. */
	struct mo_release_device_result *devices;
	size_t n_devices;
};

struct mo_release;

/**
 * mo_release_new() - check a release request and plan it.
 * @root: where the blocks and devices live
 * @size: bytes to free, a multiple of the memory block size
 * @o: how (copied; the cancel flag stays borrowed)
 * @ret: the release
 * @error: on failure a message for the user (caller frees); may be NULL
 *
 * With @o->device, @size is 0 or that device's size: the release is of that
 * one device, whole.
 *
 * Return: 0; -EINVAL when @size is zero or not aligned to the block size;
 * -ENOSPC when the eligible devices together hold less than @size (nothing
 * is touched); -ENOENT when @o->device owns no memory block; or the error of
 * loading the blocks.
 */
int mo_release_new(const struct mo_root *root, uint64_t size, const struct mo_release_options *o,
		   struct mo_release **ret, char **error);
void mo_release_free(struct mo_release *r);
static inline void mo_release_freep(struct mo_release **r) { mo_release_free(*r); }

/**
 * mo_release_survey() - what a release could take right now: the eligible
 * devices (device.h) under @o's node, device and knob settings.
 * @bytes: receives their total size
 * @n_devices: receives how many (may be NULL)
 * Return: 0, or the error of loading the blocks or devices.
 */
int mo_release_survey(const struct mo_root *root, const struct mo_release_options *o, uint64_t *bytes,
		      size_t *n_devices);

/**
 * mo_release_run() - carry the plan out (for a dry run: evaluate it). Runs once.
 * Return: 0 (the outcome is in the result), or a negative errno when it
 * could not run at all.
 */
int mo_release_run(struct mo_release *r);

/** mo_release_result() - the result so far (complete after mo_release_run()). */
const struct mo_release_result *mo_release_result(const struct mo_release *r);

/**
 * mo_release_exit_code() - 0 when at least the size was released (or, for a
 * dry run, planned), 1 when nothing was, 64 when some was.
 */
int mo_release_exit_code(const struct mo_release_result *r);

/**
 * mo_release_plan() - choose whole devices for @size bytes.
 * @sizes: the candidates' sizes, in order of preference
 * @n: how many
 * @size: bytes wanted
 * @chosen: receives, per candidate, whether it is in the plan
 *
 * Takes candidates in order until they add up to @size, then drops, from the
 * least preferred up, each one the total can spare. No chosen candidate can
 * be left out, so the total exceeds @size by less than its smallest member.
 *
 * Return: the total chosen (>= @size), or 0 when all together hold less
 * than @size (then nothing is chosen).
 */
uint64_t mo_release_plan(const uint64_t *sizes, size_t n, uint64_t size, bool *chosen);

/** mo_release_outcome_to_string() - "released", "busy", "not-tried", ... */
const char *mo_release_outcome_to_string(enum mo_release_outcome o);
