/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "parse.h"
#include "stall.h"
#include "util.h"

void mo_stall_init(struct mo_stall *s, uint64_t grace_usec, uint64_t t0)
{
	*s = (struct mo_stall) {
		.grace_usec = grace_usec,
		.t0 = t0,
		.last_progress = t0,
	};
}

bool mo_stall_feed(struct mo_stall *s, const struct mo_stall_sample *x)
{
	bool moved = false, failed = false, all_failed;
	uint64_t fail_rise = 0;

	if (s->stalled)
		return true;

	if (x->have_vmstat) {
		if (!s->have_first_vmstat) {
			s->have_first_vmstat = true;
			s->first_success = x->migrate_success;
			s->first_fail = x->migrate_fail;
		} else if (s->have_prev && s->prev.have_vmstat) {
			moved |= x->migrate_success > s->prev.migrate_success;
			failed |= x->migrate_fail > s->prev.migrate_fail;
			if (x->migrate_fail > s->prev.migrate_fail)
				fail_rise = x->migrate_fail - s->prev.migrate_fail;
		}
	}
	/*
	 * A migration pass of the kernel has just ended (its failures are
	 * counted when it ends) and every page still in use in the block is
	 * one that failed in it, after the kernel's own retries: nothing is
	 * left to move, the next pass can only fail the same pages again.
	 */
	all_failed = x->have_census && x->in_use > 0 && fail_rise >= x->in_use;
	if (x->have_census) {
		moved |= s->have_prev_census && x->in_use < s->prev_in_use;
		s->have_prev_census = true;
		s->prev_in_use = x->in_use;
	}
	failed |= x->kmsg_failed > (s->have_prev ? s->prev.kmsg_failed : 0);

	/* keep the last vmstat reading even across samples without one */
	if (!x->have_vmstat && s->have_prev && s->prev.have_vmstat) {
		struct mo_stall_sample keep = *x;

		keep.have_vmstat = true;
		keep.migrate_success = s->prev.migrate_success;
		keep.migrate_fail = s->prev.migrate_fail;
		s->prev = keep;
	} else
		s->prev = *x;
	s->have_prev = true;

	if (moved) {
		s->last_progress = x->t;
		s->failing = false;
	} else if (failed)
		s->failing = true;

	if (s->grace_usec > 0 && ((s->failing && x->t >= s->last_progress &&
				   x->t - s->last_progress >= s->grace_usec) || all_failed)) {
		s->all_failed = all_failed;
		s->stalled = true;
		s->stalled_at = x->t;
	}
	return s->stalled;
}

void mo_stall_evidence(const struct mo_stall *s, uint64_t *success, uint64_t *fail)
{
	*success = 0;
	*fail = 0;
	if (!s->have_first_vmstat || !s->have_prev || !s->prev.have_vmstat)
		return;
	if (s->prev.migrate_success > s->first_success)
		*success = s->prev.migrate_success - s->first_success;
	if (s->prev.migrate_fail > s->first_fail)
		*fail = s->prev.migrate_fail - s->first_fail;
}

static int parse_field(const char *text, const char *name, uint64_t *ret)
{
	size_t len = strlen(name);

	for (const char *p = text; p && *p; ) {
		if (strncmp(p, name, len) == 0 && p[len] == ' ') {
			const char *end;

			if (mo_parse_u64_span(p + len + 1, NULL, 10, ret, &end) < 0 || (*end != '\n' && *end != '\0'))
				return -ENODATA;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -ENODATA;
}

int mo_vmstat_parse_migrate(const char *text, uint64_t *success, uint64_t *fail)
{
	uint64_t s, f;

	if (parse_field(text, "pgmigrate_success", &s) < 0 || parse_field(text, "pgmigrate_fail", &f) < 0)
		return -ENODATA;
	*success = s;
	*fail = f;
	return 0;
}

int mo_vmstat_read_migrate(const struct mo_root *root, uint64_t *success, uint64_t *fail)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = mo_root_read_all(root, true, "vmstat", 1024 * 1024, &text, NULL);
	if (r < 0)
		return r;
	return mo_vmstat_parse_migrate(text, success, fail);
}
