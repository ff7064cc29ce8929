/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The retry schedule of a request: exponential backoff with a cap and jitter
 * between attempts on the same block, a budget of attempts per block, and a
 * deadline for the whole request. Pure arithmetic: no clock, no sleeping.
 */

#include <stdbool.h>
#include <stdint.h>

struct mo_backoff {
	uint64_t initial_usec;   /* delay after a block's first failure */
	double factor;           /* growth per further failure (>= 1) */
	uint64_t max_usec;       /* cap on any delay */
	double jitter;           /* fraction in [0, 1): each delay is scaled by 1 ± jitter */
	unsigned max_attempts;   /* per-block budget; 0 means unlimited (the deadline still ends it) */
	uint64_t seed;           /* jitter seed: the same seed gives the same delays */
};

#define MO_BACKOFF_INITIAL_USEC   (1000 * 1000ULL)   /* 1 s */
#define MO_BACKOFF_FACTOR         2.0
#define MO_BACKOFF_MAX_USEC       (15 * 1000 * 1000ULL) /* 15 s */
#define MO_BACKOFF_JITTER         0.2
#define MO_BACKOFF_MAX_ATTEMPTS   5u

/** mo_backoff_default() - the defaults above, seeded from @seed. */
void mo_backoff_default(struct mo_backoff *b, uint64_t seed);

/**
 * mo_backoff_validate() - sane parameters? Return: 0 or -EINVAL.
 */
int mo_backoff_validate(const struct mo_backoff *b);

/** mo_rng_init() - a jitter generator state from a seed. */
static inline uint64_t mo_rng_init(uint64_t seed) { return seed; }

/** mo_rng_next() - next 64-bit value of a splitmix64 sequence. */
uint64_t mo_rng_next(uint64_t *state);

/**
 * mo_backoff_delay() - how long to wait before trying a block again.
 * @failures: how many attempts on this block have failed so far (>= 1)
 * @rng: jitter state (advanced by one step when jitter is non-zero)
 *
 * min(max_usec, initial_usec * factor^(failures-1)), scaled by a uniform
 * factor in [1 - jitter, 1 + jitter] and capped again at max_usec.
 */
uint64_t mo_backoff_delay(const struct mo_backoff *b, unsigned failures, uint64_t *rng);

/**
 * mo_backoff_may_retry() - another attempt fits in the per-block budget
 * after @attempts attempts.
 */
static inline bool mo_backoff_may_retry(const struct mo_backoff *b, unsigned attempts)
{
	return b->max_attempts == 0 || attempts < b->max_attempts;
}

/**
 * mo_deadline_attempt_timeout() - the timeout of the next attempt: the
 * per-attempt timeout, shortened so the attempt ends by @deadline.
 * @deadline: absolute, same clock as @now; 0 means none
 * @min_usec: below this much time left, no attempt is started
 *
 * Return: the timeout in µs, or 0 when no attempt should start.
 */
uint64_t mo_deadline_attempt_timeout(uint64_t attempt_timeout, uint64_t now, uint64_t deadline,
				     uint64_t min_usec);

/**
 * mo_deadline_sleep() - how long to sleep until @until without passing
 * @deadline (0 = none). Return: the sleep in µs (0 when @until is past).
 */
uint64_t mo_deadline_sleep(uint64_t now, uint64_t until, uint64_t deadline);
