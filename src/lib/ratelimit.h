/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Rate limits for log records a caller can trigger: at most @burst records
 * in each @interval; the records suppressed are counted, so that the next
 * one let through can say how many were dropped. Pure: the caller passes
 * the time (CLOCK_MONOTONIC µs).
 */

#include <stdbool.h>
#include <stdint.h>

struct mo_ratelimit {
	uint64_t interval_usec;
	unsigned burst;
	/* state */
	uint64_t begin;
	unsigned n;
	unsigned suppressed;
};

#define MO_RATELIMIT_INIT(interval, b) ((struct mo_ratelimit) { .interval_usec = (interval), .burst = (b) })

/**
 * mo_ratelimit_below() - whether one more record may go out at @now.
 * @suppressed: when it may, receives how many were held back since the last
 *              one that went out (and the count restarts); may be NULL
 */
bool mo_ratelimit_below(struct mo_ratelimit *rl, uint64_t now, unsigned *suppressed);

