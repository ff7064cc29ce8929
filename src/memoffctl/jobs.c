/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl jobs: the daemon's jobs.
 */
#include "config.h"

#include <inttypes.h>

#include "client.h"
#include "format.h"
#include "verbs.h"

static void jobs_help(FILE *out)
{
	fputs("Usage: memoffctl jobs [-J]\n\n"
	      "List memoffd's jobs: queued, running and the last finished ones.\n\n"
	      "Options:\n"
	      " -J, --json             use JSON output format\n", out);
	ctl_print_common_options(out);
}

static int verb_jobs(struct ctl_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		CTL_COMMON_LONGOPTS,
		{}
	};
	sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	bool json = false, first = true;
	const char *kind, *st, *res, *path;
	uint32_t id;
	int c, ex, r;

	while ((c = ctl_getopt(ctx, argc, argv, "J", longopts, &ex)) != -1) {
		if (c == CTL_GETOPT_EXIT)
			return ex;
		if (c == 'J')
			json = true;
	}
	if (optind < argc)
		return ctl_usage_error("unexpected argument '%s'", argv[optind]);
	r = ctl_client_open(&bus);
	if (r < 0)
		return ctl_error_errno(r, "memoffd is not running");
	r = sd_bus_call_method(bus, "org.memoff.Manager1", "/org/memoff/Manager1", "org.memoff.Manager1",
			       "ListJobs", &e, &reply, NULL);
	if (r < 0) {
		ex = ctl_client_error(&e, r, "ListJobs");
		goto out;
	}
	r = sd_bus_message_enter_container(reply, 'a', "(ussso)");
	if (json)
		fputs("{\n   \"jobs\": [", stdout);
	else
		printf("%5s %-8s %-9s %-12s %9s %s\n", "ID", "KIND", "STATE", "RESULT", "DONE", "REQUEST");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(ussso)", &id, &kind, &st, &res, &path)) > 0) {
		struct ctl_job_info j;
		char done[MO_FORMAT_SIZE_MAX], wanted[MO_FORMAT_SIZE_MAX];

		if (ctl_client_get_job(bus, path, &j) < 0)
			continue;
		if (json) {
			printf("%s\n      {\"id\": %u, \"kind\": ", first ? "" : ",", id);
			ctl_json_string(stdout, kind);
			fputs(", \"state\": ", stdout);
			ctl_json_string(stdout, st);
			fputs(", \"result\": ", stdout);
			ctl_json_string(stdout, res);
			printf(", \"blocks_done\": %" PRIu64 ", \"blocks_wanted\": %" PRIu64 ", \"request\": ",
			       j.blocks_done, j.blocks_wanted);
			ctl_json_string(stdout, j.request);
			fputs(", \"message\": ", stdout);
			ctl_json_string(stdout, j.message);
			fputc('}', stdout);
		} else {
			char d[2 * MO_FORMAT_SIZE_MAX + 2];

			snprintf(d, sizeof(d), "%s/%s", mo_format_size(j.bytes_done, done),
				 mo_format_size(j.bytes_wanted, wanted));
			printf("%5u %-8s %-9s %-12s %9s %s\n", id, kind, st, *res ? res : "-", d, strempty(j.request));
		}
		first = false;
		ctl_job_info_done(&j);
	}
	if (json)
		printf("%s]\n}\n", first ? "" : "\n   ");
	ex = r < 0 ? ctl_error_errno(r, "cannot read the job list") : CTL_EXIT_OK;
out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return ex;
}

const struct ctl_verb ctl_verb_jobs = {
	.name = "jobs",
	.summary = "list memoffd's jobs",
	.run = verb_jobs,
	.help = jobs_help,
};
