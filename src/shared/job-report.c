/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A job's report as JSON, written and read back: see job-report.h. The
 * frame every report has is written and read once; between its members go
 * an offline or online job's blocks or a release's devices.
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
	[MO_SKIP_EXCLUDED] = "excluded",
};

static uint64_t page_size(void)
{
	long ps = sysconf(_SC_PAGESIZE);

	return ps > 0 ? (uint64_t) ps : 4096;
}

static const char *errno_name(int e)
{
	if (e < 0)
		e = -e;
	return e ? strerrorname_np(e) : NULL;
}

static int errno_from_name(const char *name)
{
	for (int e = 1; name && e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && streq(n, name))
			return e;
	}
	return 0;
}

/* @s as the value of an enum whose names @to_string gives, below @max. */
static int enum_from(const char *s, const char *(*to_string)(int), int max, int *ret)
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
static const char *release_outcome_name(int i) { return mo_release_outcome_to_string((enum mo_release_outcome) i); }

char *job_report_range(const struct mo_block_result *b, char *buf, size_t len)
{
	snprintf(buf, len, "0x%016" PRIx64 "-0x%016" PRIx64, b->start, b->start + b->size - 1);
	return buf;
}

/* A "range" member read back into @start and @size. */
static int read_range(struct json_object *o, uint64_t *start, uint64_t *size)
{
	uint64_t first, last;

	if (mo_parse_range(json_doc_str(o, "range"), &first, &last, NULL) < 0 || last < first)
		return -EBADMSG;
	*start = first;
	*size = last - first + 1;
	return 0;
}

static void node_json(struct mo_json *j, int node)
{
	if (node >= 0)
		mo_json_i64(j, "node", node);
	else
		mo_json_null(j, "node");
}

static int read_node(struct json_object *o)
{
	int64_t node;

	return json_doc_i64(o, "node", &node) == 0 && node >= 0 && node <= INT32_MAX ? (int) node : -1;
}

uint64_t job_report_migrate_bytes(const struct mo_census *c)
{
	return c->movable * page_size();
}

/* A census as migrate_bytes/unmovable_pages/cost, null when @have is false. */
static void census_json(struct mo_json *j, bool have, const struct mo_census *c, uint64_t cost)
{
	if (have) {
		mo_json_u64(j, "migrate_bytes", job_report_migrate_bytes(c));
		mo_json_u64(j, "unmovable_pages", c->unmovable);
		mo_json_u64(j, "cost", cost);
	} else {
		mo_json_null(j, "migrate_bytes");
		mo_json_null(j, "unmovable_pages");
		mo_json_null(j, "cost");
	}
}

/* Whether @o has a census (migrate_bytes not null); then read it into @c and @cost. */
static bool read_census(struct json_object *o, struct mo_census *c, uint64_t *cost)
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

/*
 * Block @i of a job (@rep), or a block of a release's device (@rep NULL:
 * no node, write or driver-managed name; always a census).
 */
static void block_json(struct mo_json *j, const struct mo_block_result *b, const struct job_report *rep, size_t i)
{
	bool offline = !rep || rep->res->action == MO_ACTION_OFFLINE;
	char buf[64];

	mo_json_begin_object(j, NULL);
	mo_json_u64(j, "block", b->index);
	mo_json_string(j, "range", job_report_range(b, buf, sizeof(buf)));
	if (rep) {
		node_json(j, b->node);
		mo_json_string(j, "state_change", mo_action_to_string(b->action));
	}
	mo_json_string(j, "outcome", mo_outcome_to_string(b->outcome));
	mo_json_u64(j, "attempts", b->attempts);
	mo_json_usec(j, "seconds", b->usec);
	mo_json_string(j, "reason", b->reason);
	mo_json_string(j, "errno", errno_name(b->error));
	if (offline)
		census_json(j, b->have_census, &b->census, b->census.cost);
	if (rep)
		mo_json_string(j, "driver_managed", b->managed);
	if (rep && offline) {
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

static int read_block(struct json_object *o, struct mo_block_result *b)
{
	uint64_t u;
	int v;

	if (json_doc_u64(o, "block", &b->index) < 0 || json_doc_u64(o, "attempts", &u) < 0 || u > UINT32_MAX ||
	    json_doc_usec(o, "seconds", &b->usec) < 0 || read_range(o, &b->start, &b->size) < 0)
		return -EBADMSG;
	b->attempts = (unsigned) u;
	b->node = read_node(o);
	if (enum_from(json_doc_str(o, "outcome"), outcome_name, _MO_OUTCOME_MAX, &v) < 0)
		return -EBADMSG;
	b->outcome = (enum mo_outcome) v;
	/* a release's blocks have no state_change: they go offline */
	if (!json_doc_get(o, "state_change"))
		v = MO_ACTION_OFFLINE;
	else if (enum_from(json_doc_str(o, "state_change"), action_name, _MO_ACTION_MAX, &v) < 0)
		return -EBADMSG;
	b->action = (enum mo_action) v;
	b->reason = json_doc_str(o, "reason") ?: "";
	b->error = errno_from_name(json_doc_str(o, "errno"));
	b->managed = json_doc_str(o, "driver_managed");
	b->pinned = json_doc_bool(o, "pinned");
	read_stall(o, &b->stall);
	b->have_census = read_census(o, &b->census, &b->census.cost);
	return 0;
}

/*
 * The array @key of @o read into a new array (*@ret, set even on failure, to
 * be freed) of *@n elements of @size, each by @read.
 */
static int read_array(struct json_object *o, const char *key, size_t size, int (*read)(struct json_object *, void *),
		      void **ret, size_t *n)
{
	struct json_object *a = json_doc_get(o, key);
	size_t len;
	char *v;

	*ret = NULL;
	*n = 0;
	if (!a || !json_object_is_type(a, json_type_array))
		return -EBADMSG;
	len = json_object_array_length(a);
	v = calloc(len ?: 1, size);
	if (!v)
		return -ENOMEM;
	*ret = v;
	for (*n = 0; *n < len; ++*n) {
		int r = read(json_object_array_get_idx(a, *n), v + *n * size);

		if (r < 0) {
			++*n;   /* what it holds is freed with the others */
			return r;
		}
	}
	return 0;
}

static int read_block_v(struct json_object *o, void *b)
{
	return read_block(o, b);
}

/* ---- the frame ---- */

/* The members every report has; the two results name them alike. */
struct frame {
	bool dry_run;
	uint64_t block_size, usec, reserve;
	enum mo_job_stop stop;
	const char *stop_reason;
	int census_error;
	bool have_headroom;
	struct mo_headroom headroom, headroom_after;
};

#define FRAME_OF(r) ((struct frame) { \
	.dry_run = (r)->dry_run, .block_size = (r)->block_size, .usec = (r)->usec, .reserve = (r)->reserve, \
	.stop = (r)->stop, .stop_reason = (r)->stop_reason, .census_error = (r)->census_error, \
	.have_headroom = (r)->have_headroom, .headroom = (r)->headroom, .headroom_after = (r)->headroom_after })

#define FRAME_TO(f, r) do { \
	(r)->dry_run = (f)->dry_run; (r)->block_size = (f)->block_size; (r)->usec = (f)->usec; \
	(r)->reserve = (f)->reserve; (r)->stop = (f)->stop; (r)->stop_reason = (f)->stop_reason; \
	(r)->census_error = (f)->census_error; (r)->have_headroom = (f)->have_headroom; \
	(r)->headroom = (f)->headroom; (r)->headroom_after = (f)->headroom_after; \
} while (0)

/* version, action, request, by (a job's: NULL for a release), dry_run, block_size */
static void frame_begin(struct mo_json *j, const char *action, const char *by, const struct job_report *rep,
			const struct frame *f)
{
	mo_json_begin_object(j, NULL);
	mo_json_u64(j, "version", JOB_REPORT_VERSION);
	mo_json_string(j, "action", action);
	mo_json_string(j, "request", rep->request);
	if (by)
		mo_json_string(j, "by", by);
	mo_json_bool(j, "dry_run", f->dry_run);
	mo_json_u64(j, "block_size", f->block_size);
}

/* The totals' seconds, stop and reason. */
static void frame_stop(struct mo_json *j, const struct frame *f)
{
	mo_json_usec(j, "seconds", f->usec);
	mo_json_string(j, "stop", mo_job_stop_to_string(f->stop));
	mo_json_string(j, "reason", f->stop_reason);
}

/*
 * The totals' census_errno and exit_code, the end of the totals, then
 * "headroom": what the guard saw (the after values for a dry run), or null.
 */
static void frame_end(struct mo_json *j, const struct job_report *rep, const struct frame *f)
{
	const struct mo_headroom *h = &f->headroom;

	mo_json_string(j, "census_errno", errno_name(f->census_error));
	mo_json_i64(j, "exit_code", rep->exit_code);
	mo_json_end_object(j);
	if (!f->have_headroom)
		mo_json_null(j, "headroom");
	else {
		mo_json_begin_object(j, "headroom");
		mo_json_u64(j, "mem_total", h->mem_total);
		mo_json_u64(j, "mem_available", h->mem_available);
		mo_json_u64(j, "reserve", f->reserve);
		mo_json_bool(j, "enforced", !rep->force);
		if (f->dry_run)
			mo_json_u64(j, "mem_available_after", f->headroom_after.mem_available);
		mo_json_end_object(j);
	}
	mo_json_end_object(j);
}

/* Read the frame of document @doc into @f and @rep; *@totals: its totals. */
static int read_frame(struct json_object *doc, struct frame *f, struct job_report *rep, struct json_object **totals)
{
	struct json_object *head;
	uint64_t version;
	int64_t ex;
	int v;

	*totals = json_doc_get(doc, "totals");
	if (json_doc_u64(doc, "version", &version) < 0 || version != JOB_REPORT_VERSION ||
	    json_doc_usec(*totals, "seconds", &f->usec) < 0 ||
	    enum_from(json_doc_str(*totals, "stop"), stop_name, _MO_STOP_MAX, &v) < 0 ||
	    json_doc_i64(*totals, "exit_code", &ex) < 0)
		return -EBADMSG;
	rep->request = json_doc_str(doc, "request");
	rep->exit_code = (int) ex;
	f->dry_run = json_doc_bool(doc, "dry_run");
	(void) json_doc_u64(doc, "block_size", &f->block_size);
	f->stop = (enum mo_job_stop) v;
	f->stop_reason = json_doc_str(*totals, "reason") ?: "";
	f->census_error = -errno_from_name(json_doc_str(*totals, "census_errno"));
	head = json_doc_get(doc, "headroom");
	f->have_headroom = head && json_object_is_type(head, json_type_object);
	if (f->have_headroom) {
		(void) json_doc_u64(head, "mem_total", &f->headroom.mem_total);
		(void) json_doc_u64(head, "mem_available", &f->headroom.mem_available);
		(void) json_doc_u64(head, "reserve", &f->reserve);
		(void) json_doc_u64(head, "mem_available_after", &f->headroom_after.mem_available);
		rep->force = !json_doc_bool(head, "enforced");
	}
	return 0;
}

/* ---- an offline or online job ---- */

static void job_json(struct mo_json *j, const struct job_report *rep)
{
	const struct mo_job_result *r = rep->res;
	bool offline = r->action == MO_ACTION_OFFLINE;
	struct frame f = FRAME_OF(r);

	f.have_headroom = offline && r->have_headroom;
	frame_begin(j, offline ? "offline" : "online", r->size_request ? "size" : "blocks", rep, &f);
	mo_json_begin_array(j, "blocks");
	for (size_t i = 0; i < r->n_blocks; i++)
		block_json(j, &r->blocks[i], rep, i);
	mo_json_end_array(j);

	mo_json_begin_object(j, "totals");
	mo_json_u64(j, "wanted_blocks", r->wanted_blocks);
	mo_json_u64(j, "done_blocks", r->done_blocks);
	mo_json_u64(j, "wanted_bytes", r->wanted_bytes);
	mo_json_u64(j, "done_bytes", r->done_bytes);
	mo_json_u64(j, "changed_blocks", r->taken_blocks);
	frame_stop(j, &f);
	mo_json_bool(j, "rolled_back", r->rolled_back);
	mo_json_bool(j, "rollback_failed", r->rollback_failed);
	mo_json_u64(j, "eligible_blocks", r->n_candidates);
	if (r->size_request)
		mo_json_u64(j, "examined_blocks", r->n_examined);
	mo_json_begin_object(j, "left_out");
	for (int i = MO_SKIP_NONE + 1; i < _MO_SKIP_MAX; i++)
		mo_json_u64(j, skip_keys[i], r->skipped[i]);
	mo_json_end_object(j);
	frame_end(j, rep, &f);
}

static int read_job(struct json_object *doc, struct json_object *totals, struct mo_job_result *r)
{
	struct json_object *left;
	void *a;
	uint64_t u;
	int v;

	r->action = streq(json_doc_str(doc, "action"), "offline") ? MO_ACTION_OFFLINE : MO_ACTION_ONLINE;
	r->size_request = streq(strempty(json_doc_str(doc, "by")), "size");
	v = read_array(doc, "blocks", sizeof(*r->blocks), read_block_v, &a, &r->n_blocks);
	r->blocks = a;
	if (v < 0)
		return v;
	if (json_doc_u64(totals, "wanted_blocks", &r->wanted_blocks) < 0 ||
	    json_doc_u64(totals, "done_blocks", &r->done_blocks) < 0 ||
	    json_doc_u64(totals, "wanted_bytes", &r->wanted_bytes) < 0 ||
	    json_doc_u64(totals, "done_bytes", &r->done_bytes) < 0 ||
	    json_doc_u64(totals, "changed_blocks", &r->taken_blocks) < 0)
		return -EBADMSG;
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
	return 0;
}

/* ---- a release ---- */

static void device_json(struct mo_json *j, const struct mo_release_device_result *d)
{
	const struct mo_block_result whole = { .start = d->start, .size = d->size };
	char buf[64];

	mo_json_begin_object(j, NULL);
	mo_json_string(j, "device", d->name);
	mo_json_string(j, "range", job_report_range(&whole, buf, sizeof(buf)));
	mo_json_u64(j, "size", d->size);
	node_json(j, d->node);
	mo_json_bool(j, "eligible", d->skip == MO_DEVICE_ELIGIBLE);
	mo_json_string(j, "outcome", mo_release_outcome_to_string(d->outcome));
	mo_json_string(j, "reason", d->reason);
	mo_json_u64(j, "tries", d->tries);
	mo_json_usec(j, "seconds", d->usec);
	if (d->outcome == MO_RELEASE_RELEASED || d->outcome == MO_RELEASE_UNCONFIRMED)
		mo_json_usec(j, "eject_seconds", d->eject_usec);
	else
		mo_json_null(j, "eject_seconds");
	mo_json_bool(j, "rollback_failed", d->rollback_failed);
	census_json(j, d->have_census, &d->census, d->cost);
	mo_json_begin_array(j, "blocks");
	for (size_t k = 0; k < d->n_blocks; k++)
		block_json(j, &d->blocks[k], NULL, k);
	mo_json_end_array(j);
	mo_json_end_object(j);
}

static int read_device(struct json_object *o, void *userdata)
{
	struct mo_release_device_result *d = userdata;
	void *a;
	uint64_t u;
	int v;

	snprintf(d->name, sizeof(d->name), "%s", strempty(json_doc_str(o, "device")));
	if (json_doc_u64(o, "tries", &u) < 0 || u > UINT32_MAX || json_doc_usec(o, "seconds", &d->usec) < 0 ||
	    read_range(o, &d->start, &d->size) < 0 ||
	    enum_from(json_doc_str(o, "outcome"), release_outcome_name, _MO_RELEASE_OUTCOME_MAX, &v) < 0)
		return -EBADMSG;
	d->tries = (unsigned) u;
	d->outcome = (enum mo_release_outcome) v;
	d->node = read_node(o);
	/* the reason why not is in @reason; which rule it was is not in the document */
	d->skip = json_doc_bool(o, "eligible") ? MO_DEVICE_ELIGIBLE : MO_DEVICE_NO_EJECT;
	d->reason = json_doc_str(o, "reason") ?: "";
	(void) json_doc_usec(o, "eject_seconds", &d->eject_usec);
	d->rollback_failed = json_doc_bool(o, "rollback_failed");
	d->cost = UINT64_MAX;
	d->have_census = read_census(o, &d->census, &d->cost);
	v = read_array(o, "blocks", sizeof(*d->blocks), read_block_v, &a, &d->n_blocks);
	d->blocks = a;
	return v;
}

static void release_json(struct mo_json *j, const struct job_report *rep)
{
	const struct mo_release_result *r = rep->release;
	const struct frame f = FRAME_OF(r);

	frame_begin(j, "release", NULL, rep, &f);
	mo_json_begin_array(j, "devices");
	for (size_t i = 0; i < r->n_devices; i++)
		device_json(j, &r->devices[i]);
	mo_json_end_array(j);

	mo_json_begin_object(j, "totals");
	mo_json_u64(j, "wanted_bytes", r->wanted_bytes);
	mo_json_u64(j, "released_bytes", r->released_bytes);
	mo_json_u64(j, "released_devices", r->released_devices);
	mo_json_u64(j, "planned_bytes", r->planned_bytes);
	mo_json_u64(j, "planned_devices", r->planned_devices);
	mo_json_u64(j, "hotplug_devices", r->n_found);
	mo_json_u64(j, "eligible_devices", r->n_eligible);
	mo_json_u64(j, "eligible_bytes", r->eligible_bytes);
	mo_json_bool(j, "hotplug_disabled", r->hotplug_disabled);
	frame_stop(j, &f);
	frame_end(j, rep, &f);
}

static int read_release(struct json_object *doc, struct json_object *totals, struct mo_release_result *r)
{
	void *a;
	uint64_t u;
	int v;

	v = read_array(doc, "devices", sizeof(*r->devices), read_device, &a, &r->n_devices);
	r->devices = a;
	if (v < 0)
		return v;
	if (json_doc_u64(totals, "wanted_bytes", &r->wanted_bytes) < 0 ||
	    json_doc_u64(totals, "released_bytes", &r->released_bytes) < 0)
		return -EBADMSG;
	if (json_doc_u64(totals, "released_devices", &u) == 0)
		r->released_devices = (unsigned) u;
	(void) json_doc_u64(totals, "planned_bytes", &r->planned_bytes);
	if (json_doc_u64(totals, "planned_devices", &u) == 0)
		r->planned_devices = (unsigned) u;
	if (json_doc_u64(totals, "hotplug_devices", &u) == 0)
		r->n_found = (size_t) u;
	if (json_doc_u64(totals, "eligible_devices", &u) == 0)
		r->n_eligible = (size_t) u;
	(void) json_doc_u64(totals, "eligible_bytes", &r->eligible_bytes);
	r->hotplug_disabled = json_doc_bool(totals, "hotplug_disabled");
	return 0;
}

/* ---- the document ---- */

void job_report_json(struct mo_json *j, const struct job_report *rep)
{
	if (rep->release)
		release_json(j, rep);
	else
		job_json(j, rep);
}

static void write_report(struct mo_json *j, const void *rep)
{
	job_report_json(j, rep);
}

int job_report_string(const struct job_report *rep, char **ret)
{
	return mo_json_to_string(write_report, rep, ret);
}

void job_report_doc_free(struct job_report_doc *d)
{
	if (!d)
		return;
	free(d->res.blocks);
	for (size_t i = 0; i < d->release.n_devices; i++)
		free(d->release.devices[i].blocks);
	free(d->release.devices);
	json_object_put(d->doc);
	free(d);
}

int job_report_parse(const char *text, struct job_report_doc **ret)
{
	_cleanup_(job_report_doc_freep) struct job_report_doc *d = calloc(1, sizeof(*d));
	struct json_object *totals;
	const char *action;
	struct frame f = {};
	int r;

	if (!d)
		return -ENOMEM;
	r = json_doc_parse(text, &d->doc);
	if (r < 0)
		return r;
	action = json_doc_str(d->doc, "action");
	if (!action || read_frame(d->doc, &f, &d->rep, &totals) < 0)
		return -EBADMSG;
	if (streq(action, "release")) {
		r = read_release(d->doc, totals, &d->release);
		FRAME_TO(&f, &d->release);
		d->rep.release = &d->release;
	} else {
		r = read_job(d->doc, totals, &d->res);
		FRAME_TO(&f, &d->res);
		d->rep.res = &d->res;
	}
	if (r < 0)
		return r;
	*ret = TAKE_PTR(d);
	return 0;
}
