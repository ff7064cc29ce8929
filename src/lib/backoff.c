/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <math.h>

#include "backoff.h"

void mo_backoff_default(struct mo_backoff *b, uint64_t seed)
{
	*b = (struct mo_backoff) {
		.initial_usec = MO_BACKOFF_INITIAL_USEC,
		.factor = MO_BACKOFF_FACTOR,
		.max_usec = MO_BACKOFF_MAX_USEC,
		.jitter = MO_BACKOFF_JITTER,
		.max_attempts = MO_BACKOFF_MAX_ATTEMPTS,
		.seed = seed,
	};
}

int mo_backoff_validate(const struct mo_backoff *b)
{
	if (!(b->factor >= 1.0) || !isfinite(b->factor))
		return -EINVAL;
	if (!(b->jitter >= 0.0) || !(b->jitter < 1.0))
		return -EINVAL;
	if (b->max_usec < b->initial_usec)
		return -EINVAL;
	return 0;
}

uint64_t mo_rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t mo_backoff_delay(const struct mo_backoff *b, unsigned failures, uint64_t *rng)
{
	double d = (double) b->initial_usec, cap = (double) b->max_usec;

	for (unsigned i = 1; i < failures && d < cap; i++)
		d *= b->factor;
	if (d > cap)
		d = cap;
	if (b->jitter > 0.0 && rng) {
		/* 53 random bits -> [0, 1) -> [1 - jitter, 1 + jitter) */
		double u = (double) (mo_rng_next(rng) >> 11) / 9007199254740992.0;
		d *= 1.0 - b->jitter + 2.0 * b->jitter * u;
		if (d > cap)
			d = cap;
	}
	/* 2^64 and above does not convert: saturate */
	return d <= 0.0 ? 0 : d >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t) d;
}

uint64_t mo_deadline_attempt_timeout(uint64_t attempt_timeout, uint64_t now, uint64_t deadline,
				     uint64_t min_usec)
{
	uint64_t left;

	if (deadline == 0)
		return attempt_timeout;
	if (now >= deadline)
		return 0;
	left = deadline - now;
	if (left < min_usec)
		return 0;
	return attempt_timeout == 0 || left < attempt_timeout ? left : attempt_timeout;
}

uint64_t mo_deadline_sleep(uint64_t now, uint64_t until, uint64_t deadline)
{
	if (deadline != 0 && until > deadline)
		until = deadline;
	return until > now ? until - now : 0;
}
