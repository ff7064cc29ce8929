/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl jobs: the daemon's jobs.
 */
#include "config.h"

#include <inttypes.h>
#include <libsmartcols.h>

#include "client.h"
#include "format.h"
#include "json.h"
#include "verbs.h"

static void jobs_help(FILE *out)
{
	ctl_help_begin(out, "memoffctl jobs [options]", "List memoffd's jobs: queued, running and the last finished ones.");
	ctl_help_option(out, "-J, --json", "use JSON output format");
	ctl_help_end(out, NULL);
}

static int verb_jobs(struct ctl_ctx *ctx, int argc, char *argv[])
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	static const char *const cols[] = { ">ID", "KIND", "STATE", "RESULT", ">DONE", "REQUEST" };
	struct libscols_table *tb = NULL;
	bool json = false;
	struct mo_json js;
	const char *kind, *st, *res, *path;
	uint32_t id;
	int ex, r;

	ex = ctl_client_verb(ctx, argc, argv, &json, &bus);
	if (ex >= 0)
		return ex;
	r = sd_bus_call_method(bus, MO_BUS_NAME, MO_BUS_PATH, MO_BUS_INTERFACE, "ListJobs", &e, &reply, NULL);
	if (r < 0) {
		ex = ctl_client_error(&e, r, "ListJobs");
		goto out;
	}
	r = sd_bus_message_enter_container(reply, 'a', "(ussso)");
	mo_json_init(&js, stdout);
	if (json) {
		mo_json_begin_object(&js, NULL);
		mo_json_begin_array(&js, "jobs");
	} else if (!(tb = ctl_table_new(stdout, cols, ARRAY_SIZE(cols)))) {
		ex = ctl_error_errno(-ENOMEM, "cannot print the table");
		goto out;
	}
	while (r >= 0 && (r = sd_bus_message_read(reply, "(ussso)", &id, &kind, &st, &res, &path)) > 0) {
		struct ctl_job_info j;
		char done[MO_FORMAT_SIZE_MAX], wanted[MO_FORMAT_SIZE_MAX];

		if (ctl_client_get_job(bus, path, &j) < 0)
			continue;
		if (json) {
			mo_json_begin_object(&js, NULL);
			mo_json_u64(&js, "id", id);
			mo_json_string(&js, "kind", kind);
			mo_json_string(&js, "state", st);
			mo_json_string(&js, "result", *res ? res : NULL);
			mo_json_u64(&js, "blocks_done", j.blocks_done);
			mo_json_u64(&js, "blocks_wanted", j.blocks_wanted);
			mo_json_u64(&js, "bytes_done", j.bytes_done);
			mo_json_u64(&js, "bytes_wanted", j.bytes_wanted);
			mo_json_string(&js, "request", j.request);
			mo_json_string(&js, "message", j.message);
			mo_json_end_object(&js);
		} else {
			char d[2 * MO_FORMAT_SIZE_MAX + 2], ids[16];
			const char *cells[] = { ids, kind, st, *res ? res : "-", d, j.request };

			snprintf(d, sizeof(d), "%s/%s", mo_format_size(j.bytes_done, done),
				 mo_format_size(j.bytes_wanted, wanted));
			snprintf(ids, sizeof(ids), "%u", id);
			(void) ctl_table_add(tb, cells, ARRAY_SIZE(cells));
		}
		ctl_job_info_done(&j);
	}
	if (json) {
		mo_json_end_array(&js);
		mo_json_end_object(&js);
	} else {
		scols_print_table(tb);
		scols_unref_table(tb);
	}
	ex = r < 0 ? ctl_error_errno(r, "cannot read the job list") : CTL_EXIT_OK;
out:
	sd_bus_flush_close_unref(bus);
	return ex;
}

CTL_VERB(jobs, "list memoffd's jobs");
