/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the JSON reader (json-read.h) and the readers of the
 * report documents memoffd publishes and memoffctl prints (job-report.h,
 * release-report.h).
 *
 * Besides "no crash, no sanitizer report", it checks what the reader
 * promises: a value that parses is written back (through json.h) as text
 * that parses again to the same shape; a report that reads back is written
 * again by the report writer as a document that reads back too.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job-report.h"
#include "json-read.h"
#include "release-report.h"

static void write_value(struct mo_json *j, const char *key, const struct mo_jv *v)
{
	switch (v->type) {
	case MO_JV_NULL:
		mo_json_null(j, key);
		break;
	case MO_JV_BOOL:
		mo_json_bool(j, key, v->b);
		break;
	case MO_JV_NUMBER:
	case MO_JV_STRING:
		mo_json_string(j, key, v->str);
		break;
	case MO_JV_ARRAY:
	case MO_JV_OBJECT:
		if (v->type == MO_JV_ARRAY)
			mo_json_begin_array(j, key);
		else
			mo_json_begin_object(j, key);
		for (size_t i = 0; i < v->n_items; i++)
			write_value(j, v->type == MO_JV_OBJECT ? v->items[i]->key : NULL, v->items[i]);
		if (v->type == MO_JV_ARRAY)
			mo_json_end_array(j);
		else
			mo_json_end_object(j);
		break;
	}
}

static size_t count(const struct mo_jv *v)
{
	size_t n = 1;

	for (size_t i = 0; i < v->n_items; i++)
		n += count(v->items[i]);
	return n;
}

static void roundtrip(const struct mo_jv *v)
{
	char *buf = NULL;
	size_t len = 0;
	struct mo_json j;
	struct mo_jv *again = NULL;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	mo_json_init(&j, f);
	write_value(&j, NULL, v);
	if (fclose(f) != 0) {
		free(buf);
		return;
	}
	/* scalars at the top level have no newline; everything the writer writes parses */
	if (mo_jv_parse(buf, &again, NULL) != 0 || count(again) != count(v))
		abort();
	mo_jv_free(again);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct mo_jv *v = NULL;
	struct job_report_doc *jd = NULL;
	struct release_report_doc *rd = NULL;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strlen(text) == size && mo_jv_parse(text, &v, NULL) == 0) {
		roundtrip(v);
		mo_jv_free(v);
	}
	if (strlen(text) == size && job_report_parse(text, &jd) == 0) {
		char *again = NULL;
		struct job_report_doc *jd2 = NULL;

		if (job_report_string(&jd->rep, &again) == 0) {
			if (job_report_parse(again, &jd2) != 0)
				abort();
			job_report_doc_free(jd2);
			free(again);
		}
		job_report_doc_free(jd);
	}
	if (strlen(text) == size && release_report_parse(text, &rd) == 0) {
		char *again = NULL;
		struct release_report_doc *rd2 = NULL;

		if (release_report_string(&rd->rep, &again) == 0) {
			if (release_report_parse(again, &rd2) != 0)
				abort();
			release_report_doc_free(rd2);
			free(again);
		}
		release_report_doc_free(rd);
	}
	free(text);
	return 0;
}
