/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The progress line's detail: see progress-text.h.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "parse.h"
#include "progress-text.h"

/* "waiting 1.25s": to the millisecond, as memoffctl prints durations */
static char *waiting(uint64_t usec, char buf[static PROGRESS_TEXT_MAX])
{
	char d[MO_DURATION_MAX];

	snprintf(buf, PROGRESS_TEXT_MAX, "waiting %s", mo_format_duration((usec + 500) / 1000 * 1000, d, sizeof(d)));
	return buf;
}

char *progress_text_job(const struct mo_job_progress *p, char buf[static PROGRESS_TEXT_MAX])
{
	buf[0] = '\0';
	switch (p->phase) {
	case MO_PHASE_ATTEMPT:
		snprintf(buf, PROGRESS_TEXT_MAX, "block %" PRIu64 " attempt %u", p->block, p->attempt);
		break;
	case MO_PHASE_WAIT:
		return waiting(p->wait_usec, buf);
	case MO_PHASE_ROLLBACK:
		snprintf(buf, PROGRESS_TEXT_MAX, "putting block %" PRIu64 " back online", p->block);
		break;
	case MO_PHASE_RESULT:
		snprintf(buf, PROGRESS_TEXT_MAX, "block %" PRIu64 " %s", p->block, mo_outcome_to_string(p->outcome));
		break;
	}
	return buf;
}

char *progress_text_release(const struct mo_release_progress *p, char buf[static PROGRESS_TEXT_MAX])
{
	const struct mo_job_progress *jp = p->job;

	buf[0] = '\0';
	switch (p->phase) {
	case MO_RELEASE_PHASE_DEVICE:
		snprintf(buf, PROGRESS_TEXT_MAX, "%s try %u", p->device, p->attempt);
		break;
	case MO_RELEASE_PHASE_BLOCK:
		if (jp && jp->phase == MO_PHASE_ROLLBACK)
			snprintf(buf, PROGRESS_TEXT_MAX, "%s: putting block %" PRIu64 " back online", p->device, jp->block);
		else if (jp && jp->block != UINT64_MAX)
			snprintf(buf, PROGRESS_TEXT_MAX, "%s: block %" PRIu64 " %s", p->device, jp->block,
				 jp->phase == MO_PHASE_RESULT ? mo_outcome_to_string(jp->outcome) : "offlining");
		break;
	case MO_RELEASE_PHASE_EJECT:
		snprintf(buf, PROGRESS_TEXT_MAX, "%s: ejecting", p->device);
		break;
	case MO_RELEASE_PHASE_RESULT:
		snprintf(buf, PROGRESS_TEXT_MAX, "%s %s", p->device, mo_release_outcome_to_string(p->outcome));
		break;
	case MO_RELEASE_PHASE_WAIT:
		return waiting(p->wait_usec, buf);
	}
	return buf;
}
