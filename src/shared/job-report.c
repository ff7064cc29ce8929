/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A job's report as JSON, written and read back: see job-report.h.
 */
#include "config.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job-report.h"
#include "json-doc.h"
#include "parse.h"
#include "util.h"

/* Members of "left_out", in the order of enum mo_skip. */
static const char *const skip_keys[_MO_SKIP_MAX] = {
	[MO_SKIP_STATE] = "state",
	[MO_SKIP_ZONE] = "zone",
	[MO_SKIP_ZONES_NONE] = "zones_none",
	[MO_SKIP_MANAGED] = "driver_managed",
	[MO_SKIP_MANAGED_UNKNOWN] = "driver_managed_unknown",
	[MO_SKIP_NODE] = "node",
};

static uint64_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t) ps : 4096;
}

const char *job_report_errno_name(int e)
{
	return e ? strerrorname_np(e) : NULL;
}

int job_report_errno_from_name(const char *name)
{
	for (int e = 1; name && e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && streq(n, name))
			return e;
	}
	return 0;
}

char *job_report_range(const struct mo_block_result *b, char *buf, size_t len)
{
	snprintf(buf, len, "0x%016" PRIx64 "-0x%016" PRIx64, b->start, b->start + b->size - 1);
	return buf;
}

uint64_t job_report_migrate_bytes(const struct mo_block_result *b)
{
	return b->census.movable * page_size();
}

void job_report_census_json(struct mo_json *j, bool have, const struct mo_census *c, uint64_t cost)
{
	if (have) {
		mo_json_u64(j, "migrate_bytes", c->movable * page_size());
		mo_json_u64(j, "unmovable_pages", c->unmovable);
		mo_json_u64(j, "cost", cost);
	} else {
		mo_json_null(j, "migrate_bytes");
		mo_json_null(j, "unmovable_pages");
		mo_json_null(j, "cost");
	}
}

bool job_report_read_census(struct json_object *o, struct mo_census *c, uint64_t *cost)
{
	uint64_t bytes;

	if (json_doc_u64(o, "migrate_bytes", &bytes) < 0)
		return false;
	c->movable = bytes / page_size();
	(void) json_doc_u64(o, "unmovable_pages", &c->unmovable);
	(void) json_doc_u64(o, "cost", cost);
	return true;
}

/* The evidence of the last attempt on a block that stalled (attempt.h). */
static void stall_json(struct mo_json *j, const struct mo_stall_evidence *e)
{
	char buf[32];

	mo_json_begin_object(j, "stall");
	mo_json_usec(j, "grace_seconds", e->grace_usec);
	mo_json_u64(j, "pgmigrate_success", e->migrate_success);
	mo_json_u64(j, "pgmigrate_fail", e->migrate_fail);
	mo_json_u64(j, "kmsg_failed", e->kmsg_failed);
	mo_json_u64(j, "pages_in_use", e->n_blocked);
	mo_json_begin_array(j, "pfns");
	for (unsigned i = 0; i < e->n_pfns; i++) {
		snprintf(buf, sizeof(buf), "0x%" PRIx64, e->pfns[i]);
		mo_json_string(j, NULL, buf);
	}
	mo_json_end_array(j);
	mo_json_end_object(j);
}

static void read_stall(struct json_object *o, struct mo_stall_evidence *e)
{
	struct json_object *s = json_doc_get(o, "stall"), *pfns;

	if (!s)
		return;
	(void) json_doc_usec(s, "grace_seconds", &e->grace_usec);
	(void) json_doc_u64(s, "pgmigrate_success", &e->migrate_success);
	(void) json_doc_u64(s, "pgmigrate_fail", &e->migrate_fail);
	(void) json_doc_u64(s, "kmsg_failed", &e->kmsg_failed);
	(void) json_doc_u64(s, "pages_in_use", &e->n_blocked);
	pfns = json_doc_get(s, "pfns");
	for (size_t i = 0; pfns && json_object_is_type(pfns, json_type_array) && i < json_object_array_length(pfns) &&
	     e->n_pfns < MO_STALL_PFNS_MAX; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(pfns, i));

		if (t && strncmp(t, "0x", 2) == 0 && mo_parse_u64(t + 2, 16, &e->pfns[e->n_pfns]) == 0)
			e->n_pfns++;
	}
}

void job_report_json(struct mo_json *j, const struct job_report *rep)
{
	const struct mo_job_result *r = rep->res;
	bool offline = r->action == MO_ACTION_OFFLINE;
	char buf[64];

	mo_json_begin_object(j, NULL);
	mo_json_u64(j, "version", JOB_REPORT_VERSION);
	mo_json_string(j, "action", offline ? "offline" : "online");
	mo_json_string(j, "request", rep->request);
	mo_json_string(j, "by", r->size_request ? "size" : "blocks");
	mo_json_bool(j, "dry_run", r->dry_run);
	mo_json_u64(j, "block_size", r->block_size);
	mo_json_begin_array(j, "blocks");
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct mo_block_result *b = &r->blocks[i];

		mo_json_begin_object(j, NULL);
		mo_json_u64(j, "block", b->index);
		mo_json_string(j, "range", job_report_range(b, buf, sizeof(buf)));
		if (b->node >= 0)
			mo_json_i64(j, "node", b->node);
		else
			mo_json_null(j, "node");
		mo_json_string(j, "state_change", mo_action_to_string(b->action));
		mo_json_string(j, "outcome", mo_outcome_to_string(b->outcome));
		mo_json_u64(j, "attempts", b->attempts);
		mo_json_usec(j, "seconds", b->usec);
		mo_json_string(j, "reason", b->reason);
		mo_json_string(j, "errno", job_report_errno_name(b->error));
		if (offline)
			job_report_census_json(j, b->have_census, &b->census, b->census.cost);
		mo_json_string(j, "driver_managed", b->managed);
		if (offline) {
			mo_json_bool(j, "pinned", b->pinned);
			if (b->stall.grace_usec)
				stall_json(j, &b->stall);
			else
				mo_json_null(j, "stall");
			if (rep->blocked)
				rep->blocked(j, i, rep->userdata);
			else
				mo_json_null(j, "blocked_pages");
		}
		mo_json_end_object(j);
	}
	mo_json_end_array(j);

	mo_json_begin_object(j, "totals");
	mo_json_u64(j, "wanted_blocks", r->wanted_blocks);
	mo_json_u64(j, "done_blocks", r->done_blocks);
	mo_json_u64(j, "wanted_bytes", r->wanted_bytes);
	mo_json_u64(j, "done_bytes", r->done_bytes);
	mo_json_u64(j, "changed_blocks", r->taken_blocks);
	mo_json_usec(j, "seconds", r->usec);
	mo_json_string(j, "stop", mo_job_stop_to_string(r->stop));
	mo_json_string(j, "reason", r->stop_reason);
	mo_json_bool(j, "rolled_back", r->rolled_back);
	mo_json_bool(j, "rollback_failed", r->rollback_failed);
	mo_json_u64(j, "eligible_blocks", r->n_candidates);
	if (r->size_request)
		mo_json_u64(j, "examined_blocks", r->n_examined);
	mo_json_begin_object(j, "left_out");
	for (int i = MO_SKIP_NONE + 1; i < _MO_SKIP_MAX; i++)
		mo_json_u64(j, skip_keys[i], r->skipped[i]);
	mo_json_end_object(j);
	mo_json_string(j, "census_errno", job_report_errno_name(r->census_error < 0 ? -r->census_error : r->census_error));
	mo_json_i64(j, "exit_code", rep->exit_code);
	mo_json_end_object(j);

	job_report_headroom_json(j, offline && r->have_headroom, &r->headroom, &r->headroom_after, r->reserve,
				 rep->force, r->dry_run);
	mo_json_end_object(j);
}

void job_report_headroom_json(struct mo_json *j, bool have, const struct mo_headroom *h,
			      const struct mo_headroom *after, uint64_t reserve, bool force, bool dry_run)
{
	if (!have) {
		mo_json_null(j, "headroom");
		return;
	}
	mo_json_begin_object(j, "headroom");
	mo_json_u64(j, "mem_total", h->mem_total);
	mo_json_u64(j, "mem_available", h->mem_available);
	mo_json_u64(j, "reserve", reserve);
	mo_json_bool(j, "enforced", !force);
	if (dry_run)
		mo_json_u64(j, "mem_available_after", after->mem_available);
	mo_json_end_object(j);
}

bool job_report_read_headroom(struct json_object *doc, struct mo_headroom *h, struct mo_headroom *after,
			      uint64_t *reserve, bool *force)
{
	struct json_object *head = json_doc_get(doc, "headroom");

	if (!head || !json_object_is_type(head, json_type_object))
		return false;
	(void) json_doc_u64(head, "mem_total", &h->mem_total);
	(void) json_doc_u64(head, "mem_available", &h->mem_available);
	(void) json_doc_u64(head, "reserve", reserve);
	(void) json_doc_u64(head, "mem_available_after", &after->mem_available);
	*force = !json_doc_bool(head, "enforced");
	return true;
}

int job_report_to_string(void (*write)(struct mo_json *j, const void *what), const void *what, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	struct mo_json j;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	mo_json_init(&j, f);
	write(&j, what);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

static void write_job(struct mo_json *j, const void *rep)
{
	job_report_json(j, rep);
}

int job_report_string(const struct job_report *rep, char **ret)
{
	return job_report_to_string(write_job, rep, ret);
}

void job_report_doc_free(struct job_report_doc *d)
{
	if (!d)
		return;
	free(d->res.blocks);
	json_object_put(d->doc);
	free(d);
}


int job_report_enum(const char *s, const char *(*to_string)(int), int max, int *ret)
{
	for (int i = 0; s && i < max; i++)
		if (streq(to_string(i), s)) {
			*ret = i;
			return 0;
		}
	return -EBADMSG;
}

static const char *outcome_name(int i) { return mo_outcome_to_string((enum mo_outcome) i); }
static const char *action_name(int i) { return mo_action_to_string((enum mo_action) i); }
static const char *stop_name(int i) { return mo_job_stop_to_string((enum mo_job_stop) i); }

int job_report_read_block(struct json_object *o, struct mo_block_result *b)
{
	uint64_t first, last, u;
	int64_t node;
	int v, r;

	if (json_doc_u64(o, "block", &b->index) < 0 || json_doc_u64(o, "attempts", &u) < 0 || u > UINT32_MAX ||
	    json_doc_usec(o, "seconds", &b->usec) < 0 ||
	    mo_parse_range(json_doc_str(o, "range"), &first, &last, NULL) < 0 || last < first)
		return -EBADMSG;
	b->attempts = (unsigned) u;
	b->start = first;
	b->size = last - first + 1;
	r = json_doc_i64(o, "node", &node);
	b->node = r == 0 && node >= 0 && node <= INT32_MAX ? (int) node : -1;
	if (job_report_enum(json_doc_str(o, "outcome"), outcome_name, _MO_OUTCOME_MAX, &v) < 0)
		return -EBADMSG;
	b->outcome = (enum mo_outcome) v;
	/* a release's blocks have no state_change: they go offline */
	if (!json_doc_get(o, "state_change"))
		v = MO_ACTION_OFFLINE;
	else if (job_report_enum(json_doc_str(o, "state_change"), action_name, _MO_ACTION_MAX, &v) < 0)
		return -EBADMSG;
	b->action = (enum mo_action) v;
	b->reason = json_doc_str(o, "reason") ?: "";
	b->error = job_report_errno_from_name(json_doc_str(o, "errno"));
	b->managed = json_doc_str(o, "driver_managed");
	b->pinned = json_doc_bool(o, "pinned");
	read_stall(o, &b->stall);
	b->have_census = job_report_read_census(o, &b->census, &b->census.cost);
	return 0;
}

int job_report_parse(const char *text, struct job_report_doc **ret)
{
	_cleanup_(job_report_doc_freep) struct job_report_doc *d = calloc(1, sizeof(*d));
	struct mo_job_result *r;
	struct json_object *blocks, *totals, *left;
	const char *action;
	size_t n;
	uint64_t version, u;
	int64_t ex;
	int v;

	if (!d)
		return -ENOMEM;
	v = json_doc_parse(text, &d->doc);
	if (v < 0)
		return v;
	r = &d->res;
	d->rep.res = r;
	action = json_doc_str(d->doc, "action");
	blocks = json_doc_get(d->doc, "blocks");
	totals = json_doc_get(d->doc, "totals");
	if (json_doc_u64(d->doc, "version", &version) < 0 || version != JOB_REPORT_VERSION || !action ||
	    !blocks || !json_object_is_type(blocks, json_type_array) || !totals)
		return -EBADMSG;
	n = json_object_array_length(blocks);
	d->rep.request = json_doc_str(d->doc, "request");
	r->action = streq(action, "offline") ? MO_ACTION_OFFLINE : MO_ACTION_ONLINE;
	r->size_request = streq(strempty(json_doc_str(d->doc, "by")), "size");
	r->dry_run = json_doc_bool(d->doc, "dry_run");
	(void) json_doc_u64(d->doc, "block_size", &r->block_size);

	r->blocks = calloc(n ?: 1, sizeof(*r->blocks));
	if (!r->blocks)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++, r->n_blocks++)
		if (job_report_read_block(json_object_array_get_idx(blocks, i), &r->blocks[i]) < 0)
			return -EBADMSG;

	if (json_doc_u64(totals, "wanted_blocks", &r->wanted_blocks) < 0 ||
	    json_doc_u64(totals, "done_blocks", &r->done_blocks) < 0 ||
	    json_doc_u64(totals, "wanted_bytes", &r->wanted_bytes) < 0 ||
	    json_doc_u64(totals, "done_bytes", &r->done_bytes) < 0 ||
	    json_doc_u64(totals, "changed_blocks", &r->taken_blocks) < 0 ||
	    json_doc_usec(totals, "seconds", &r->usec) < 0 ||
	    job_report_enum(json_doc_str(totals, "stop"), stop_name, _MO_STOP_MAX, &v) < 0 ||
	    json_doc_i64(totals, "exit_code", &ex) < 0)
		return -EBADMSG;
	r->stop = (enum mo_job_stop) v;
	r->stop_reason = json_doc_str(totals, "reason") ?: "";
	r->rolled_back = json_doc_bool(totals, "rolled_back");
	r->rollback_failed = json_doc_bool(totals, "rollback_failed");
	if (json_doc_u64(totals, "eligible_blocks", &u) == 0)
		r->n_candidates = (size_t) u;
	if (json_doc_u64(totals, "examined_blocks", &u) == 0)
		r->n_examined = (size_t) u;
	left = json_doc_get(totals, "left_out");
	for (int i = MO_SKIP_NONE + 1; i < _MO_SKIP_MAX; i++)
		if (json_doc_u64(left, skip_keys[i], &u) == 0)
			r->skipped[i] = (size_t) u;
	r->census_error = -job_report_errno_from_name(json_doc_str(totals, "census_errno"));
	d->rep.exit_code = (int) ex;

	r->have_headroom = job_report_read_headroom(d->doc, &r->headroom, &r->headroom_after, &r->reserve,
						    &d->rep.force);
	*ret = TAKE_PTR(d);
	return 0;
}
