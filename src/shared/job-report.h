/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The report of a job as a JSON document, whatever the job (offline,
 * online, release): what `memoffctl offline -J` and `memoffctl release -J`
 * print (memoffctl(8) documents the members) and what memoffd publishes as a
 * job's Report property (doc/org.memoff.Manager1.md), written by one
 * function for both programs. memoffctl reads a daemon job's document back
 * into a result (job_report_parse()) and prints it with the same code as a
 * job it ran itself, so that its output does not depend on who ran the job;
 * `memoffctl watch` prints a job's report the same way.
 *
 * Every report has the same frame: version, action, request, dry_run,
 * block_size, the totals' seconds, stop, reason, census_errno and
 * exit_code, and the headroom. In between, an offline or online job has its
 * blocks (range, node, write, outcome, attempts, time, reason, errno, census,
 * driver-managed iomem name), a release its devices with their blocks.
 * Durations are seconds with three decimals.
 */

#include <stdbool.h>
#include <stddef.h>

#include "job.h"
#include "json.h"
#include "release.h"

#define JOB_REPORT_VERSION 1

/* json-c's object, for the reader (memoffctl reads documents with json-c, as pins-json-read.c does). */
struct json_object;

struct job_report {
	const char *request;          /* what was asked, as typed: "256M", "32-39" */
	bool force;                   /* the headroom guard was not enforced */
	int exit_code;                /* mo_job_exit_code(), mo_release_exit_code() */
	/* the result: of an offline or online job (@res), or of a release (@release) */
	const struct mo_job_result *res;
	const struct mo_release_result *release;
	/* An offline job: writes block @i's "blocked_pages" member; NULL writes null. */
	void (*blocked)(struct mo_json *j, size_t i, void *userdata);
	void *userdata;
};

/** job_report_range() - a block's "0xSTART-0xEND" (inclusive), into @buf. */
char *job_report_range(const struct mo_block_result *b, char *buf, size_t len);

/** job_report_migrate_bytes() - what the census @c says must move out, in bytes. */
uint64_t job_report_migrate_bytes(const struct mo_census *c);

/** job_report_json() - write the document. */
void job_report_json(struct mo_json *j, const struct job_report *rep);

/** job_report_string() - the document as a malloc'd string. Return: 0 or -ENOMEM. */
int job_report_string(const struct job_report *rep, char **ret);

/*
 * A document read back: @rep.res points at @res (offline, online) or
 * @rep.release at @release, whose strings point into @doc.
 */
struct job_report_doc {
	struct job_report rep;
	struct mo_job_result res;
	struct mo_release_result release;
	struct json_object *doc;
};

/**
 * job_report_parse() - read a document job_report_json() wrote, of any job.
 * Return: 0; -EBADMSG when it is not one (or of another version); -ENOMEM.
 */
int job_report_parse(const char *text, struct job_report_doc **ret);

void job_report_doc_free(struct job_report_doc *d);
static inline void job_report_doc_freep(struct job_report_doc **d) { job_report_doc_free(*d); }
