/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * From what a client asked (kind, "size" / "range" / "blocks", the text of
 * it, options) to the parameters of a job, with the configuration's
 * defaults. Every refusal comes with a message that names the bad argument.
 */

#include <stdint.h>

#include "memoffd-conf.h"
#include "jobs.h"
#include "root.h"

struct request_options {
	const char *zone;               /* NULL: AllowedZones= (offline), movable where possible (online) */
	int node;                       /* -1: any */
	uint64_t attempt_timeout_usec;  /* 0: AttemptTimeout= */
	uint64_t deadline_usec;         /* 0: Deadline= */
	uint64_t eject_timeout_usec;    /* release only; 0: the library's default */
	uint64_t reserve;               /* bytes kept available; UINT64_MAX: Reserve= */
	int max_attempts;               /* per block; -1: AttemptsPerBlock= (0 = unlimited) */
	uint64_t long_lived_usec;       /* offline, release: 0: LongLivedThreshold= */
	uint64_t stall_grace_usec;      /* offline: UINT64_MAX: StallGrace=; 0: no stall detection */
	bool all_or_nothing, force, dry_run;
};

#define REQUEST_OPTIONS_INIT { .node = -1, .max_attempts = -1, .reserve = UINT64_MAX, .stall_grace_usec = UINT64_MAX }

/* Named requests larger than this are refused (a typo like 0-99999999). */
#define REQUEST_MAX_BLOCKS (1u << 20)

/**
 * request_build() - check a request and turn it into job parameters.
 * @kind: offline, online or release
 * @by: "size", "range" or "blocks"; a release: "size" or "device"
 * @what: "512M", "0x100000000-0x13fffffff", "32-39" or "PNP0C80:01"
 * @o: options
 * @c: the configuration (defaults)
 * @block_size: the memory block size
 * @root: to check that named blocks exist
 * @ret: the parameters (job_params_done() them)
 * @text: receives the request as text, e.g. "offline blocks 32-39 zone=Movable"
 * @error: on failure, a message naming the argument
 *
 * A release takes neither a zone (only ZONE_MOVABLE memory of whole devices
 * is released) nor all-or-nothing (an ejected device cannot be taken back);
 * eject-timeout applies to a release only; long-lived (the forensics'
 * threshold) to offline and release.
 *
 * Return: 0; -EINVAL for a malformed or unaligned argument or an option the
 * kind does not take; -ENOENT when a named block does not exist; -ENOMEM.
 */
int request_build(enum job_kind kind, const char *by, const char *what, const struct request_options *o,
		  const struct mo_config *c, uint64_t block_size, const struct mo_root *root,
		  struct job_params *ret, char **text, char **error);

/**
 * request_blocks() - the blocks a read-only request (GetPins) names.
 * @by: "range" or "blocks" (a size names no block)
 * @what: "0x100000000-0x13fffffff" or "32-39"
 * @ret: the block numbers, ascending (caller frees)
 * @n: how many
 * @error: on failure, a message naming the argument
 * Return: 0; -EINVAL for a malformed or unaligned argument; -ENOENT when a
 * named block does not exist; -ENOMEM.
 */
int request_blocks(const char *by, const char *what, uint64_t block_size, const struct mo_root *root,
		   uint64_t **ret, size_t *n, char **error);
