/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The report of a release as a JSON document: what `memoffctl release -J`
 * prints (memoffctl(8)) and what memoffd publishes as a release job's Report,
 * written by one function and read back by memoffctl to print a release
 * memoffd ran exactly as one it ran itself (as job-report.h does for offline
 * and online).
 */

#include <stdbool.h>

#include "job-report.h"
#include "release.h"

#define RELEASE_REPORT_VERSION 1

struct release_report {
	const char *request;          /* the size, as typed */
	bool force;
	int exit_code;                /* mo_release_exit_code() */
	const struct mo_release_result *res;
};

void release_report_json(struct mo_json *j, const struct release_report *rep);
int release_report_string(const struct release_report *rep, char **ret);

/* A document read back: strings point into @doc. */
struct release_report_doc {
	struct release_report rep;
	struct mo_release_result res;
	struct json_object *doc;
};

/** release_report_parse() - Return: 0; -EBADMSG when @text is not such a document; -ENOMEM. */
int release_report_parse(const char *text, struct release_report_doc **ret);

void release_report_doc_free(struct release_report_doc *d);
static inline void release_report_doc_freep(struct release_report_doc **d) { release_report_doc_free(*d); }
