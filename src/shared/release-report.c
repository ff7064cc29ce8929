/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A release's report as JSON, written and read back: see release-report.h.
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
#include "release-report.h"
#include "util.h"

void release_report_json(struct mo_json *j, const struct release_report *rep)
{
	const struct mo_release_result *r = rep->res;
	char buf[64];

	mo_json_begin_object(j, NULL);
	mo_json_u64(j, "version", RELEASE_REPORT_VERSION);
	mo_json_string(j, "action", "release");
	mo_json_string(j, "request", rep->request);
	mo_json_bool(j, "dry_run", r->dry_run);
	mo_json_u64(j, "block_size", r->block_size);
	mo_json_begin_array(j, "devices");
	for (size_t i = 0; i < r->n_devices; i++) {
		const struct mo_release_device_result *d = &r->devices[i];
		const struct mo_block_result whole = { .start = d->start, .size = d->size };

		mo_json_begin_object(j, NULL);
		mo_json_string(j, "device", d->name);
		mo_json_string(j, "range", job_report_range(&whole, buf, sizeof(buf)));
		mo_json_u64(j, "size", d->size);
		if (d->node >= 0)
			mo_json_i64(j, "node", d->node);
		else
			mo_json_null(j, "node");
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
		job_report_census_json(j, d->have_census, &d->census, d->cost);
		mo_json_begin_array(j, "blocks");
		for (size_t k = 0; k < d->n_blocks; k++) {
			const struct mo_block_result *b = &d->blocks[k];

			mo_json_begin_object(j, NULL);
			mo_json_u64(j, "block", b->index);
			mo_json_string(j, "range", job_report_range(b, buf, sizeof(buf)));
			mo_json_string(j, "outcome", mo_outcome_to_string(b->outcome));
			mo_json_u64(j, "attempts", b->attempts);
			mo_json_usec(j, "seconds", b->usec);
			mo_json_string(j, "reason", b->reason);
			mo_json_string(j, "errno", job_report_errno_name(b->error));
			job_report_census_json(j, b->have_census, &b->census, b->census.cost);
			mo_json_end_object(j);
		}
		mo_json_end_array(j);
		mo_json_end_object(j);
	}
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
	mo_json_usec(j, "seconds", r->usec);
	mo_json_string(j, "stop", mo_job_stop_to_string(r->stop));
	mo_json_string(j, "reason", r->stop_reason);
	mo_json_string(j, "census_errno", job_report_errno_name(r->census_error < 0 ? -r->census_error :
							     r->census_error));
	mo_json_i64(j, "exit_code", rep->exit_code);
	mo_json_end_object(j);

	job_report_headroom_json(j, r->have_headroom, &r->headroom, &r->headroom_after, r->reserve, rep->force,
				 r->dry_run);
	mo_json_end_object(j);
}

static void write_release(struct mo_json *j, const void *rep)
{
	release_report_json(j, rep);
}

int release_report_string(const struct release_report *rep, char **ret)
{
	return job_report_to_string(write_release, rep, ret);
}

void release_report_doc_free(struct release_report_doc *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->res.n_devices; i++)
		free(d->res.devices[i].blocks);
	free(d->res.devices);
	json_object_put(d->doc);
	free(d);
}

static const char *outcome_name(int i) { return mo_release_outcome_to_string((enum mo_release_outcome) i); }
static const char *stop_name(int i) { return mo_job_stop_to_string((enum mo_job_stop) i); }

static int read_device(struct json_object *o, struct mo_release_device_result *d)
{
	struct json_object *blocks = json_doc_get(o, "blocks");
	struct mo_block_result whole = {};
	uint64_t u;
	int64_t node;
	size_t n;
	int v;

	snprintf(d->name, sizeof(d->name), "%s", strempty(json_doc_str(o, "device")));
	if (!blocks || !json_object_is_type(blocks, json_type_array) || json_doc_u64(o, "tries", &u) < 0 ||
	    u > UINT32_MAX ||
	    json_doc_usec(o, "seconds", &d->usec) < 0 ||
	    mo_parse_range(json_doc_str(o, "range"), &whole.start, &u, NULL) < 0 || u < whole.start ||
	    job_report_enum(json_doc_str(o, "outcome"), outcome_name, _MO_RELEASE_OUTCOME_MAX, &v) < 0)
		return -EBADMSG;
	d->size = u - whole.start + 1;
	d->start = whole.start;
	(void) json_doc_u64(o, "tries", &u);
	d->tries = (unsigned) u;
	d->outcome = (enum mo_release_outcome) v;
	d->node = json_doc_i64(o, "node", &node) == 0 && node >= 0 && node <= INT32_MAX ? (int) node : -1;
	/* the reason why not is in @reason; which rule it was is not in the document */
	d->skip = json_doc_bool(o, "eligible") ? MO_DEVICE_ELIGIBLE : MO_DEVICE_NO_EJECT;
	d->reason = json_doc_str(o, "reason") ?: "";
	(void) json_doc_usec(o, "eject_seconds", &d->eject_usec);
	d->rollback_failed = json_doc_bool(o, "rollback_failed");
	d->cost = UINT64_MAX;
	d->have_census = job_report_read_census(o, &d->census, &d->cost);
	n = json_object_array_length(blocks);
	d->blocks = calloc(n ?: 1, sizeof(*d->blocks));
	if (!d->blocks)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++, d->n_blocks++)
		if (job_report_read_block(json_object_array_get_idx(blocks, i), &d->blocks[i]) < 0)
			return -EBADMSG;
	return 0;
}

int release_report_parse(const char *text, struct release_report_doc **ret)
{
	_cleanup_(release_report_doc_freep) struct release_report_doc *d = calloc(1, sizeof(*d));
	struct mo_release_result *r;
	struct json_object *devices, *totals;
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
	devices = json_doc_get(d->doc, "devices");
	totals = json_doc_get(d->doc, "totals");
	if (json_doc_u64(d->doc, "version", &version) < 0 || version != RELEASE_REPORT_VERSION ||
	    !streq(strempty(json_doc_str(d->doc, "action")), "release") || !devices ||
	    !json_object_is_type(devices, json_type_array) || !totals)
		return -EBADMSG;
	n = json_object_array_length(devices);
	d->rep.request = json_doc_str(d->doc, "request");
	r->dry_run = json_doc_bool(d->doc, "dry_run");
	(void) json_doc_u64(d->doc, "block_size", &r->block_size);
	r->devices = calloc(n ?: 1, sizeof(*r->devices));
	if (!r->devices)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v = read_device(json_object_array_get_idx(devices, i), &r->devices[i]);
		r->n_devices++;
		if (v < 0)
			return v;
	}

	if (json_doc_u64(totals, "wanted_bytes", &r->wanted_bytes) < 0 ||
	    json_doc_u64(totals, "released_bytes", &r->released_bytes) < 0 ||
	    json_doc_usec(totals, "seconds", &r->usec) < 0 ||
	    job_report_enum(json_doc_str(totals, "stop"), stop_name, _MO_STOP_MAX, &v) < 0 ||
	    json_doc_i64(totals, "exit_code", &ex) < 0)
		return -EBADMSG;
	r->stop = (enum mo_job_stop) v;
	r->stop_reason = json_doc_str(totals, "reason") ?: "";
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
	r->census_error = -job_report_errno_from_name(json_doc_str(totals, "census_errno"));
	d->rep.exit_code = (int) ex;

	r->have_headroom = job_report_read_headroom(d->doc, &r->headroom, &r->headroom_after, &r->reserve,
						    &d->rep.force);
	*ret = TAKE_PTR(d);
	return 0;
}
