/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: memoffd's job state file (src/memoffd/job-record.h),
 * read back after a restart or a crash, so possibly cut short or damaged.
 *
 * The input is the file's text. Checks: a parse either fails with -EBADMSG
 * (not our header) or gives records with distinct ids below next_id; what
 * they format to parses back without a bad line to the same records, which
 * format to the same text (a fixed point after one round).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memoffd/job-record.h"
#include "fuzz-text.h"

static void free_records(struct job_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		job_record_done(&recs[i]);
	free(recs);
}

static char *format_all(struct job_record *recs, size_t n, unsigned next_id)
{
	const struct job_record **p = calloc(n ? n : 1, sizeof(*p));
	char *text = NULL;

	if (!p)
		return NULL;
	for (size_t i = 0; i < n; i++)
		p[i] = &recs[i];
	if (job_records_format(p, n, next_id, &text) < 0)
		text = NULL;
	free(p);
	return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct job_record *recs = NULL, *recs2 = NULL;
	size_t n = 0, n2 = 0;
	unsigned next = 0, next2 = 0, bad = 0, bad2 = 0;
	char *text, *t1 = NULL, *t2 = NULL;
	int r;

	text = fz_text(data, size);
	if (!text)
		return 0;

	r = job_records_parse(text, &recs, &n, &next, &bad);
	if (r < 0) {
		if (r != -EBADMSG && r != -ENOMEM)
			abort();
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (recs[i].id >= next)
			abort();
		for (size_t k = 0; k < i; k++)
			if (recs[k].id == recs[i].id)
				abort();
		if ((unsigned) recs[i].kind >= _JOB_KIND_MAX || (unsigned) recs[i].state >= _JOB_STATE_MAX ||
		    (unsigned) recs[i].result >= _JOB_RESULT_MAX)
			abort();
	}

	t1 = format_all(recs, n, next);
	if (!t1)
		goto out;
	r = job_records_parse(t1, &recs2, &n2, &next2, &bad2);
	if (r < 0 || bad2 != 0 || n2 != n || next2 != next)
		abort();
	t2 = format_all(recs2, n2, next2);
	if (t2 && strcmp(t1, t2) != 0)
		abort();
out:
	free_records(recs, n);
	free_records(recs2, n2);
	free(t1);
	free(t2);
	free(text);
	return 0;
}
