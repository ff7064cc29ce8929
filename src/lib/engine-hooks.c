/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>

#include "engine-hooks.h"
#include "escape.h"

static int real_attempt(void *userdata, const struct mo_root *root, uint64_t block, enum mo_action action,
			uint64_t timeout_usec, volatile sig_atomic_t *cancel, struct mo_attempt_result *ret)
{
	return mo_attempt_run(root, block, action, timeout_usec, cancel, ret);
}

static uint64_t real_now(void *userdata)
{
	return mo_monotonic_usec();
}

static int real_sleep(void *userdata, uint64_t usec, volatile sig_atomic_t *cancel)
{
	return mo_attempt_sleep(usec, cancel);
}

static int real_headroom(void *userdata, const struct mo_root *root, struct mo_headroom *out)
{
	return mo_headroom_read(root, out);
}

void mo_engine_hooks_fill(struct mo_job_hooks *h)
{
	if (!h->attempt)
		h->attempt = real_attempt;
	if (!h->now)
		h->now = real_now;
	if (!h->sleep)
		h->sleep = real_sleep;
	if (!h->headroom)
		h->headroom = real_headroom;
}

int mo_engine_limits_fill(uint64_t *attempt_timeout_usec, uint64_t *deadline_usec, struct mo_backoff *backoff)
{
	if (*attempt_timeout_usec == 0)
		*attempt_timeout_usec = MO_JOB_ATTEMPT_TIMEOUT_USEC;
	if (*deadline_usec == 0)
		*deadline_usec = MO_JOB_DEADLINE_USEC;
	if (backoff->initial_usec == 0 && backoff->max_usec == 0 && backoff->factor == 0.0)
		mo_backoff_default(backoff, backoff->seed);
	return mo_backoff_validate(backoff) < 0 ? -EINVAL : 0;
}

int mo_engine_fail(char **error, int r, const char *fmt, ...)
{
	va_list ap;

	if (error) {
		_cleanup_free_ char *raw = NULL;

		va_start(ap, fmt);
		if (vasprintf(&raw, fmt, ap) < 0)
			raw = NULL;
		va_end(ap);
		/* the text echoes requests (D-Bus strings, arguments): no control character in it */
		*error = raw ? mo_escape_cntrl_dup(raw, false) : NULL;
	}
	return r;
}
