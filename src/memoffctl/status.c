/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl status: what the daemon is doing.
 */
#include "config.h"

#include <inttypes.h>

#include "client.h"
#include "escape.h"
#include "json.h"
#include "verbs.h"

static void status_help(FILE *out)
{
	ctl_help_begin(out, "memoffctl status [options]", "Show whether memoffd runs, what it is doing, and its jobs.");
	ctl_help_option(out, "-J, --json", "use JSON output format");
	ctl_help_end(out, "Exit status 0 when the daemon answers, 1 otherwise.");
}

static int get_string(sd_bus *bus, const char *prop, char **ret)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

	return sd_bus_get_property_string(bus, MO_BUS_NAME, MO_BUS_PATH, MO_BUS_INTERFACE, prop, &e, ret);
}

static int verb_status(struct ctl_ctx *ctx, int argc, char *argv[])
{
	_cleanup_free_ char *version = NULL, *state = NULL, *policy = NULL, *autoonline = NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	unsigned queued = 0, running = 0, finished = 0;
	unsigned current = 0;          /* the running job's id, 0: none */
	sd_bus *bus = NULL;
	bool json = false;
	struct mo_json js;
	int ex, r;

	ex = ctl_client_verb(ctx, argc, argv, &json, &bus);
	if (ex >= 0)
		return ex;
	(void) get_string(bus, "Version", &version);
	(void) get_string(bus, "State", &state);
	(void) get_string(bus, "HotplugPolicy", &policy);
	(void) get_string(bus, "AutoOnlineBlocks", &autoonline);
	if (!json) {
		mo_escape_fprintf(stdout, "memoffd %s: %s\n", strempty(version), strempty(state));
		mo_escape_fprintf(stdout, "hotplug policy: %s (kernel auto_online_blocks: %s)\n", strempty(policy),
				  autoonline && *autoonline ? autoonline : "unknown");
	}
	r = sd_bus_call_method(bus, MO_BUS_NAME, MO_BUS_PATH, MO_BUS_INTERFACE, "ListJobs", &e, &reply, NULL);
	if (r >= 0 && sd_bus_message_enter_container(reply, 'a', "(ussso)") >= 0) {
		const char *kind, *st, *res, *path;
		uint32_t id;

		while (sd_bus_message_read(reply, "(ussso)", &id, &kind, &st, &res, &path) > 0) {
			struct ctl_job_info j;

			if (streq(st, "queued"))
				queued++;
			else if (streq(st, "finished"))
				finished++;
			else {
				running++;
				if (ctl_client_get_job(bus, path, &j) >= 0) {
					if (!json)
						mo_escape_fprintf(stdout, "running: job %u (%s): %" PRIu64 " of %" PRIu64
								  " blocks\n", j.id, strempty(j.request), j.blocks_done,
								  j.blocks_wanted);
					else if (!current)
						current = j.id;
					ctl_job_info_done(&j);
				}
			}
		}
	}
	if (json) {
		mo_json_init(&js, stdout);
		mo_json_begin_object(&js, NULL);
		mo_json_string(&js, "version", version);
		mo_json_string(&js, "state", state);
		mo_json_string(&js, "hotplug_policy", policy);
		mo_json_string(&js, "auto_online_blocks", autoonline && *autoonline ? autoonline : NULL);
		if (current)
			mo_json_u64(&js, "current_job", current);
		else
			mo_json_null(&js, "current_job");
		mo_json_begin_object(&js, "jobs");
		mo_json_u64(&js, "running", running);
		mo_json_u64(&js, "queued", queued);
		mo_json_u64(&js, "finished", finished);
		mo_json_end_object(&js);
		mo_json_end_object(&js);
	} else
		printf("jobs: %u running, %u queued, %u finished\n", running, queued, finished);
	sd_bus_flush_close_unref(bus);
	return CTL_EXIT_OK;
}

CTL_VERB(status, "show what memoffd is doing");
