/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The report of an offline or online job as a JSON document: what
 * `memoffctl offline -J` prints (memoffctl(8) documents the members) and what
 * memoffd publishes as a job's Report property (doc/org.memoff.Manager1.md),
 * written by one function for both. memoffctl reads a daemon job's document
 * back into a result (job_report_parse()) and prints it with the same code as
 * a job it ran itself, so that its output does not depend on who ran the job.
 *
 * The document carries every fact the text report shows: per block its
 * range, node, write, outcome, attempts, time, reason, errno, census and
 * driver-managed iomem name; the totals; the SIZE selection's left-out
 * blocks; the headroom. Durations are seconds with three decimals.
 */

#include <stdbool.h>
#include <stddef.h>

#include "job.h"
#include "json.h"

#define JOB_REPORT_VERSION 1

/* json-c's object, for the readers (memoffctl reads documents with json-c, as pins-json-read.c does). */
struct json_object;

struct job_report {
	const char *request;          /* what was asked, as typed: "256M", "32-39" */
	bool force;                   /* the headroom guard was not enforced */
	int exit_code;                /* mo_job_exit_code() */
	const struct mo_job_result *res;
	/* Writes block @i's "blocked_pages" member; NULL writes null. */
	void (*blocked)(struct mo_json *j, size_t i, void *userdata);
	void *userdata;
};

/** job_report_range() - a block's "0xSTART-0xEND" (inclusive), into @buf. */
char *job_report_range(const struct mo_block_result *b, char *buf, size_t len);

/** job_report_migrate_bytes() - what the census says must move out of @b, in bytes. */
uint64_t job_report_migrate_bytes(const struct mo_block_result *b);

/*
 * Pieces the release report (release-report.h) shares: a census as
 * migrate_bytes/unmovable_pages/cost (null when @have is false), errno names,
 * enum names read back, a block's common members read back, the document as a
 * string.
 */
void job_report_census_json(struct mo_json *j, bool have, const struct mo_census *c, uint64_t cost);
const char *job_report_errno_name(int e);
int job_report_errno_from_name(const char *name);
int job_report_enum(const char *s, const char *(*to_string)(int), int max, int *ret);
int job_report_read_block(struct json_object *o, struct mo_block_result *b);
/* "headroom": what the guard saw (the after values for a dry run), or null when @have is false. */
void job_report_headroom_json(struct mo_json *j, bool have, const struct mo_headroom *h,
			      const struct mo_headroom *after, uint64_t reserve, bool force, bool dry_run);
/* Read "headroom" back: whether there is one; @force is !enforced. */
bool job_report_read_headroom(struct json_object *doc, struct mo_headroom *h, struct mo_headroom *after,
			      uint64_t *reserve, bool *force);
/* Whether @o has a census (migrate_bytes not null); then read it into @c and @cost. */
bool job_report_read_census(struct json_object *o, struct mo_census *c, uint64_t *cost);

int job_report_to_string(void (*write)(struct mo_json *j, const void *what), const void *what, char **ret);

/** job_report_json() - write the document. */
void job_report_json(struct mo_json *j, const struct job_report *rep);

/** job_report_string() - the document as a malloc'd string. Return: 0 or -ENOMEM. */
int job_report_string(const struct job_report *rep, char **ret);

/* A document read back: @rep.res points at @res, whose strings point into @doc. */
struct job_report_doc {
	struct job_report rep;
	struct mo_job_result res;
	struct json_object *doc;
};

/**
 * job_report_parse() - read a document job_report_json() wrote.
 * Return: 0; -EBADMSG when it is not one (or of another version); -ENOMEM.
 */
int job_report_parse(const char *text, struct job_report_doc **ret);

void job_report_doc_free(struct job_report_doc *d);
static inline void job_report_doc_freep(struct job_report_doc **d) { job_report_doc_free(*d); }
