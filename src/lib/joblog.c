/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>

#include "format.h"
#include "joblog.h"
#include "log.h"
#include "parse.h"

#define FIELDS_MAX 12

/* A record's fields, some of them optional (MO_FIELDS() cannot skip one). */
struct fields {
	const char *v[FIELDS_MAX + 1];
	char buf[FIELDS_MAX][MO_LOG_FIELD_MAX];
	size_t n;
};

_printf_(3, 4)
static void add(struct fields *f, const char *name, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (f->n >= FIELDS_MAX)
		return;
	k = snprintf(f->buf[f->n], MO_LOG_FIELD_MAX, "%s=", name);
	if (k < 0 || k >= MO_LOG_FIELD_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(f->buf[f->n] + k, MO_LOG_FIELD_MAX - (size_t) k, fmt, ap);
	va_end(ap);
	f->v[f->n] = f->buf[f->n];
	f->v[++f->n] = NULL;
}

/* MEMOFF_BLOCK, MEMOFF_RANGE and MEMOFF_JOB, as far as known. */
static void add_block(struct fields *f, const struct mo_joblog *l, uint64_t block)
{
	if (block != UINT64_MAX) {
		add(f, "MEMOFF_BLOCK", "%" PRIu64, block);
		if (l->block_size)
			add(f, "MEMOFF_RANGE", "0x%016" PRIx64 "-0x%016" PRIx64, block * l->block_size,
			    (block + 1) * l->block_size - 1);
	}
	if (l->job)
		add(f, "MEMOFF_JOB", "%s", l->job);
}

/* A duration for a message: "450ms", "2.003s" (to the millisecond). */
static const char *duration(uint64_t usec, char buf[static MO_DURATION_MAX])
{
	return mo_format_duration(usec / 1000 * 1000, buf, MO_DURATION_MAX);
}

/* Seconds with one decimal, "2" rather than "2.0", for the _SEC fields. */
static const char *seconds(uint64_t usec, char *buf, size_t size)
{
	uint64_t tenths = (usec + 50000) / 100000;

	if (tenths % 10)
		snprintf(buf, size, "%" PRIu64 ".%" PRIu64, tenths / 10, tenths % 10);
	else
		snprintf(buf, size, "%" PRIu64, tenths / 10);
	return buf;
}

void mo_joblog_progress(const struct mo_joblog *l, const struct mo_job_progress *p)
{
	struct fields f = {};
	char s[32], d[MO_DURATION_MAX], retry[64] = "";

	if (l->action != MO_ACTION_OFFLINE || p->phase != MO_PHASE_RESULT || p->block == UINT64_MAX)
		return;
	switch (p->outcome) {
	case MO_OUTCOME_DONE:
		add_block(&f, l, p->block);
		add(&f, "MEMOFF_ATTEMPTS", "%u", p->attempt);
		mo_log_full(LOG_INFO, MO_MESSAGE_BLOCK_OFFLINED, f.v, "block %" PRIu64 " offlined (attempt %u, %s)",
			    p->block, p->attempt, duration(p->attempt_usec, d));
		break;
	case MO_OUTCOME_TIMED_OUT:
		add_block(&f, l, p->block);
		add(&f, "MEMOFF_ATTEMPTS", "%u", p->attempt);
		add(&f, "MEMOFF_ATTEMPT_TIMEOUT_SEC", "%s", seconds(p->attempt_usec, s, sizeof(s)));
		if (p->next_usec) {
			char n[32], nd[MO_DURATION_MAX];

			snprintf(retry, sizeof(retry), "; next attempt in %s", duration(p->next_usec, nd));
			add(&f, "MEMOFF_RETRY_SEC", "%s", seconds(p->next_usec, n, sizeof(n)));
		}
		mo_log_full(LOG_NOTICE, MO_MESSAGE_ATTEMPT_TIMED_OUT, f.v,
			    "block %" PRIu64 ": attempt %u timed out after %s, migration stalled%s", p->block,
			    p->attempt, duration(p->attempt_usec, d), retry);
		break;
	case MO_OUTCOME_STALLED: {
		char g[32], gd[MO_DURATION_MAX], pfns[MO_STALL_PFNS_MAX * 20 + 8] = "", n[32], nd[MO_DURATION_MAX];
		size_t len = 0;

		for (unsigned i = 0; i < p->stall.n_pfns && len < sizeof(pfns); i++)
			len += (size_t) snprintf(pfns + len, sizeof(pfns) - len, "%s0x%" PRIx64, i ? " " : "",
						 p->stall.pfns[i]);
		add_block(&f, l, p->block);
		add(&f, "MEMOFF_ATTEMPTS", "%u", p->attempt);
		add(&f, "MEMOFF_ATTEMPT_SEC", "%s", seconds(p->attempt_usec, s, sizeof(s)));
		add(&f, "MEMOFF_STALL_GRACE_SEC", "%s", seconds(p->stall.grace_usec, g, sizeof(g)));
		add(&f, "MEMOFF_PGMIGRATE_SUCCESS", "%" PRIu64, p->stall.migrate_success);
		add(&f, "MEMOFF_PGMIGRATE_FAIL", "%" PRIu64, p->stall.migrate_fail);
		add(&f, "MEMOFF_PFNS", "%s", p->stall.n_pfns ? pfns : "unknown");
		if (p->next_usec) {
			snprintf(retry, sizeof(retry), "; next attempt in %s", duration(p->next_usec, nd));
			add(&f, "MEMOFF_RETRY_SEC", "%s", seconds(p->next_usec, n, sizeof(n)));
		}
		if (p->stall.all_failed)
			mo_log_full(LOG_NOTICE, MO_MESSAGE_ATTEMPT_STALLED, f.v,
				    "block %" PRIu64 ": attempt %u stalled after %s: all %" PRIu64 " pages left in use "
				    "failed to migrate (pgmigrate_fail +%" PRIu64 ")%s", p->block, p->attempt,
				    duration(p->attempt_usec, d), p->stall.n_blocked, p->stall.migrate_fail, retry);
		else
			mo_log_full(LOG_NOTICE, MO_MESSAGE_ATTEMPT_STALLED, f.v,
				    "block %" PRIu64 ": attempt %u stalled after %s: no page moved for %s while migration "
				    "kept failing (pgmigrate_fail +%" PRIu64 ")%s", p->block, p->attempt,
				    duration(p->attempt_usec, d), duration(p->stall.grace_usec, gd), p->stall.migrate_fail,
				    retry);
		break;
	}
	default:
		break;
	}
}

void mo_joblog_gave_up(const struct mo_joblog *l, const struct mo_block_result *b, const char *why)
{
	struct fields f = {};

	add_block(&f, l, b->index);
	add(&f, "MEMOFF_ATTEMPTS", "%u", b->attempts);
	add(&f, "MEMOFF_OUTCOME", "%s", mo_outcome_to_string(b->outcome));
	mo_log_full_errno(LOG_WARNING, b->error, MO_MESSAGE_BLOCK_GAVE_UP, f.v,
			  "block %" PRIu64 ": gave up after %u attempt%s: %s%s%s", b->index, b->attempts,
			  b->attempts == 1 ? "" : "s", strempty(b->reason), why ? "; " : "", strempty(why));
}

void mo_joblog_headroom(const struct mo_joblog *l, uint64_t block, const char *reason, uint64_t reserve)
{
	struct fields f = {};
	char rs[MO_FORMAT_SIZE_MAX];

	add_block(&f, l, block);
	add(&f, "MEMOFF_RESERVE", "%" PRIu64, reserve);
	if (block != UINT64_MAX)
		mo_log_full(LOG_WARNING, MO_MESSAGE_HEADROOM_REFUSED, f.v,
			    "not offlining block %" PRIu64 ": %s (reserve %s)", block, strempty(reason),
			    mo_format_size(reserve, rs));
	else
		mo_log_full(LOG_WARNING, MO_MESSAGE_HEADROOM_REFUSED, f.v, "not offlining memory: %s (reserve %s)",
			    strempty(reason), mo_format_size(reserve, rs));
}

void mo_joblog_result(const struct mo_joblog *l, const struct mo_job_result *r)
{
	if (l->action != MO_ACTION_OFFLINE || r->dry_run || r->stop == MO_STOP_CANCELLED)
		return;
	if (r->stop == MO_STOP_HEADROOM) {
		uint64_t refused = UINT64_MAX;

		for (size_t i = 0; i < r->n_blocks && refused == UINT64_MAX; i++)
			if (r->blocks[i].outcome == MO_OUTCOME_HEADROOM)
				refused = r->blocks[i].index;
		mo_joblog_headroom(l, refused, r->stop_reason, r->reserve);
	}
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct mo_block_result *b = &r->blocks[i];

		if (b->attempts == 0 || mo_outcome_is_success(b->outcome) || b->outcome == MO_OUTCOME_CANCELLED ||
		    b->outcome == MO_OUTCOME_ROLLED_BACK)
			continue;
		mo_joblog_gave_up(l, b, r->stop == MO_STOP_FINISHED ? NULL : r->stop_reason);
	}
}

void mo_joblog_finished(const char *job, const char *request, const char *result, const char *message)
{
	struct fields f = {};
	int level = LOG_INFO;

	if (job)
		add(&f, "MEMOFF_JOB", "%s", job);
	add(&f, "MEMOFF_REQUEST", "%s", strempty(request));
	add(&f, "MEMOFF_RESULT", "%s", strempty(result));
	if (streq(strempty(result), "failed"))
		level = LOG_WARNING;
	else if (!streq(strempty(result), "done"))
		level = LOG_NOTICE;
	mo_log_full(level, MO_MESSAGE_JOB_FINISHED, f.v, "Job %s (%s) %s%s%s", job ? job : "-", strempty(request),
		    strempty(result), message && *message ? ": " : "", strempty(message));
}
