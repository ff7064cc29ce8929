/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the job engine (job.h) and a release (release.h) share in setting
 * themselves up: the real functions behind their test seams, the defaults
 * of the limits every request has, and the message of a refused request
 * (which memoffd's request parser gives too).
 */

#include "job.h"
#include "util.h"

/** mo_engine_hooks_fill() - set each hook of @h left NULL to the real one (attempt.h, headroom.h). */
void mo_engine_hooks_fill(struct mo_job_hooks *h);

/**
 * mo_engine_limits_fill() - the defaults for the limits left zero: the
 * attempt timeout (MO_JOB_ATTEMPT_TIMEOUT_USEC), the deadline
 * (MO_JOB_DEADLINE_USEC) and an all-zero backoff (mo_backoff_default(),
 * keeping its seed).
 * Return: 0, or -EINVAL when the backoff does not validate.
 */
int mo_engine_limits_fill(uint64_t *attempt_timeout_usec, uint64_t *deadline_usec, struct mo_backoff *backoff);

/**
 * mo_engine_fail() - set *@error (when @error is not NULL) to the formatted
 * message (control characters escaped: it echoes requests), for a request
 * refused with @r.
 * Return: @r.
 */
int mo_engine_fail(char **error, int r, const char *fmt, ...) _printf_(3, 4);
