/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the readers of the report documents memoffd publishes as
 * a job's Report and memoffctl prints (job-report.h), of any job.
 *
 * Besides "no crash, no sanitizer report", it checks what the readers
 * promise: a document that reads back is written again by the report writer
 * as a document that reads back too, and writes the same text again.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "job-report.h"
#include "fuzz-text.h"

static void report(const char *text)
{
	struct job_report_doc *d = NULL, *d2 = NULL;
	char *again = NULL, *third = NULL;

	if (job_report_parse(text, &d) != 0)
		return;
	if (job_report_string(&d->rep, &again) == 0) {
		if (job_report_parse(again, &d2) != 0)
			abort();
		if (job_report_string(&d2->rep, &third) == 0 && strcmp(again, third) != 0)
			abort();
	}
	free(third);
	free(again);
	job_report_doc_free(d2);
	job_report_doc_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_text(data, size);

	if (!text)
		return 0;
	if (strlen(text) == size) {
		report(text);
	}
	free(text);
	return 0;
}
