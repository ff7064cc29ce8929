/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.memoff.Job1: one object per job at /org/memoff/job/N, found from the
 * path (a fallback vtable) and enumerated from the job queue. The
 * properties read the job's record (job-record.h); the loop emits their
 * changes (bus.c).
 */
#include "bus-internal.h"

#include "jobs.h"
#include "manager.h"
#include "pins-json.h"
#include "util.h"

int bus_job_cancel(sd_bus_message *msg, struct manager *m, uint32_t id, sd_bus_error *error)
{
	struct job *j;
	int r;

	/* access first: a refused caller does not learn which jobs exist */
	r = bus_check_access(msg, m, error);
	if (r < 0)
		return r;
	j = job_queue_find(m->jobs, id);
	if (!j)
		return sd_bus_error_setf(error, MO_ERROR_NO_SUCH_JOB, "no job %u", id);
	r = job_queue_cancel(m->jobs, j);
	if (r == -EALREADY)
		return sd_bus_error_setf(error, MO_ERROR_JOB_FINISHED, "job %u has already finished (%s)",
					 job_id(j), job_result_to_string(job_record(j)->result));
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, NULL);
}

/* ---- properties ---- */

#define JOB_U32(name, field) \
	static int prop_job_##name(sd_bus *bus, const char *path, const char *iface, const char *prop, \
				   sd_bus_message *reply, void *userdata, sd_bus_error *error) \
	{ return sd_bus_message_append(reply, "u", (uint32_t) job_record(userdata)->field); }
#define JOB_U64(name, field) \
	static int prop_job_##name(sd_bus *bus, const char *path, const char *iface, const char *prop, \
				   sd_bus_message *reply, void *userdata, sd_bus_error *error) \
	{ return sd_bus_message_append(reply, "t", (uint64_t) job_record(userdata)->field); }
#define JOB_STR(name, expr) \
	static int prop_job_##name(sd_bus *bus, const char *path, const char *iface, const char *prop, \
				   sd_bus_message *reply, void *userdata, sd_bus_error *error) \
	{ const struct job_record *rec = job_record(userdata); return sd_bus_message_append(reply, "s", expr); }

JOB_U32(id, id)
JOB_U32(uid, uid)
JOB_U64(blocks_done, blocks_done)
JOB_U64(blocks_wanted, blocks_wanted)
JOB_U64(bytes_done, bytes_done)
JOB_U64(bytes_wanted, bytes_wanted)
JOB_U64(created, created)
JOB_U64(started, started)
JOB_U64(finished, finished)
JOB_STR(kind, job_kind_to_string(rec->kind))
JOB_STR(state, job_state_to_string(rec->state))
JOB_STR(result, job_result_to_string(rec->result))
JOB_STR(request, strempty(rec->request))
JOB_STR(message, strempty(rec->message))

/* The finished job's report (job-report.h); "" before, or for a job of an earlier run. */
static int prop_job_report(sd_bus *bus, const char *path, const char *iface, const char *prop,
			   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", strempty(job_report(userdata)));
}

static int prop_job_progress(sd_bus *bus, const char *path, const char *iface, const char *prop,
			     sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", job_progress(userdata));
}

static int prop_job_current(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	uint64_t b = job_current_block(userdata);

	return sd_bus_message_append(reply, "x", b == UINT64_MAX ? (int64_t) -1 : (int64_t) b);
}

static int prop_job_blocks(sd_bus *bus, const char *path, const char *iface, const char *prop,
			   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	const struct job_record *rec = job_record(userdata);

	return sd_bus_message_append_array(reply, 't', rec->claims, rec->n_claims * sizeof(uint64_t));
}

static int append_result(sd_bus_message *reply, size_t i, void *userdata)
{
	const struct job_block *b = &((const struct job_record *) userdata)->blocks[i];

	return sd_bus_message_append(reply, "(tsuts)", b->index, strempty(b->outcome), b->attempts, b->usec,
				     strempty(b->reason));
}

static int prop_job_results(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	const struct job_record *rec = job_record(userdata);

	return bus_append_array(reply, "(tsuts)", rec->n_blocks, append_result, (void *) rec);
}

static int prop_job_blocked(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct mo_pin_report *const *reports;
	size_t n = job_blocked_pages(userdata, &reports);
	_cleanup_free_ char *doc = NULL;
	int r;

	r = mo_pins_json_format(reports, n, bus_may_see_owners(bus, job_userdata(userdata)), &doc);
	if (r < 0)
		return r;
	return sd_bus_message_append(reply, "s", doc);
}

static int method_job_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct job *j = userdata;

	return bus_job_cancel(msg, job_userdata(j), job_id(j), error);
}

#define EC SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
static const sd_bus_vtable job_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Id", "u", prop_job_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Kind", "s", prop_job_kind, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Uid", "u", prop_job_uid, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Request", "s", prop_job_request, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", prop_job_state, 0, EC),
	SD_BUS_PROPERTY("Result", "s", prop_job_result, 0, EC),
	SD_BUS_PROPERTY("Message", "s", prop_job_message, 0, EC),
	SD_BUS_PROPERTY("BlocksDone", "t", prop_job_blocks_done, 0, EC),
	SD_BUS_PROPERTY("BlocksWanted", "t", prop_job_blocks_wanted, 0, EC),
	SD_BUS_PROPERTY("BytesDone", "t", prop_job_bytes_done, 0, EC),
	SD_BUS_PROPERTY("BytesWanted", "t", prop_job_bytes_wanted, 0, EC),
	SD_BUS_PROPERTY("CurrentBlock", "x", prop_job_current, 0, EC),
	SD_BUS_PROPERTY("Progress", "s", prop_job_progress, 0, EC),
	SD_BUS_PROPERTY("Blocks", "at", prop_job_blocks, 0, EC),
	SD_BUS_PROPERTY("Results", "a(tsuts)", prop_job_results, 0, EC),
	SD_BUS_PROPERTY("Report", "s", prop_job_report, 0, SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
	SD_BUS_PROPERTY("BlockedPages", "s", prop_job_blocked, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
	SD_BUS_PROPERTY("CreatedAt", "t", prop_job_created, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("StartedAt", "t", prop_job_started, 0, EC),
	SD_BUS_PROPERTY("FinishedAt", "t", prop_job_finished, 0, EC),
	SD_BUS_METHOD("Cancel", NULL, NULL, method_job_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("Finished", "ss", SD_BUS_PARAM(result) SD_BUS_PARAM(message), 0),
	SD_BUS_VTABLE_END,
};
#undef EC

static struct job *job_from_path(struct manager *m, const char *path)
{
	const char *p;
	uint64_t id = 0;

	if (!startswith(path, MO_BUS_JOB_PREFIX "/"))
		return NULL;
	p = path + strlen(MO_BUS_JOB_PREFIX "/");
	if (!*p || (p[0] == '0'))
		return NULL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || id > UINT32_MAX)
			return NULL;
		id = id * 10 + (uint64_t) (*p - '0');
	}
	return id <= UINT32_MAX ? job_queue_find(m->jobs, (unsigned) id) : NULL;
}

static int job_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		    sd_bus_error *error)
{
	struct job *j = job_from_path(userdata, path);

	if (!j)
		return 0;
	*found = j;
	return 1;
}

static int job_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error)
{
	struct manager *m = userdata;
	size_t n = job_queue_size(m->jobs);
	char **l = calloc(n + 1, sizeof(char *));

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char p[64];

		l[i] = strdup(bus_job_path(job_id(job_queue_nth(m->jobs, i)), p, sizeof(p)));
		if (!l[i]) {
			for (size_t k = 0; k < i; k++)
				free(l[k]);
			free(l);
			return -ENOMEM;
		}
	}
	*nodes = l;
	return 0;
}

int bus_job_add_objects(struct manager *m, sd_bus *bus)
{
	int r;

	r = sd_bus_add_fallback_vtable(bus, NULL, MO_BUS_JOB_PREFIX, MO_BUS_JOB_IFACE, job_vtable, job_find, m);
	if (r < 0)
		return r;
	return sd_bus_add_node_enumerator(bus, NULL, MO_BUS_JOB_PREFIX, job_enumerate, m);
}
