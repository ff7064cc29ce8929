/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The release target: the balloon model of virtio-balloon and virtio-mem,
 * made of whole DIMMs. The host (through SetReleaseTarget, or memoffctl
 * target in the guest) asks for an amount of hot-pluggable memory to be
 * given back; memoffd keeps releasing whole devices, cheapest first and
 * pinned ones last, in release jobs (request "release SIZE target"), until
 * that much has been ejected, retrying with the configured backoff (capped
 * at BackoffCap=) for as long as it takes (pins come and go), or until the
 * deadline given with it, when it is given up. A new target
 * replaces the old one and counts from zero; 0 stops. The target, what was
 * released towards it and the devices that went are kept in the state
 * directory (target-record.h), so a restart picks the work up again.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target-record.h"

struct manager;
struct job;
struct target;

/** target_new() - load the state file; the work resumes with target_start(). Return: 0 or -ENOMEM. */
int target_new(struct manager *m, struct target **ret);
void target_free(struct target *t);

/** target_start() - the daemon is up: resume the work on a target left unfinished. */
void target_start(struct target *t);

/**
 * target_set() - replace the target with @bytes (0: no target). A running
 * release job of the old target is cancelled.
 * @deadline_usec: give up this long after now when the target is not
 *                 reached by then; 0 = never
 * @error: on failure, a message naming the bad argument (caller frees)
 * Return: 0; -EINVAL when @bytes is not a multiple of the memory block size;
 * -EIO when the state file cannot be written (nothing changed).
 */
int target_set(struct target *t, uint64_t bytes, uint64_t deadline_usec, char **error);

/** target_bytes(), target_released() - the target and what was ejected towards it. */
uint64_t target_bytes(const struct target *t);
uint64_t target_released(const struct target *t);

/** target_done() - there is a target and it was reached. */
bool target_done(const struct target *t);

/** target_state() - "none", "working", "reached" or "given-up" (its deadline passed first). */
const char *target_state(const struct target *t);

/** target_devices() - the devices released towards the target (name, bytes). */
size_t target_devices(const struct target *t, const struct target_device **ret);

/**
 * target_releasable() - what a release could take right now (whole eligible
 * devices). Return: 0 or a negative errno.
 */
int target_releasable(const struct target *t, uint64_t *bytes);

/** target_job_finished() - the job queue's hook: a target job ended. */
void target_job_finished(struct target *t, struct job *j);
