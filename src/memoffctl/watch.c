/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl watch [JOB] and memoffctl cancel JOB: follow a job of the daemon
 * to its end (a progress line on a terminal) and report it; cancel first.
 */
#include "config.h"

#include <inttypes.h>

#include "client.h"
#include "parse.h"
#include "report.h"
#include "runner.h"
#include "verbs.h"

static void help(FILE *out, bool cancel)
{
	if (cancel)
		ctl_help_begin(out, "memoffctl cancel [options] <job>",
			       "Cancel memoffd's job <job>: a queued job ends at once, a running one\n"
			       "within one attempt timeout (the kernel puts the block being worked on\n"
			       "back as it was). Then wait for it and report it as watch does, unless\n"
			       "--no-wait.");
	else
		ctl_help_begin(out, "memoffctl watch [options] [<job>]",
			       "Follow memoffd's job <job> (default: the running one) until it finishes,\n"
			       "with a progress line on a terminal, then print its report as the verb\n"
			       "that asked for it prints it. Ctrl-C stops watching; the job goes on.");
	if (cancel)
		ctl_help_option(out, "    --no-wait", "return once the cancel was requested");
	ctl_help_option(out, "-J, --json", "use JSON output format (the job's report)");
	ctl_help_end(out, "Exit status as the job's: 0 done, 64 partly done, 1 failed or nothing done.");
}

static void watch_help(FILE *out)
{
	help(out, false);
}

static void cancel_help(FILE *out)
{
	help(out, true);
}

static int parse_job_id(const char *s, unsigned *ret)
{
	int r = mo_parse_unsigned(s, UINT32_MAX, ret);

	return r < 0 || *ret == 0 ? -EINVAL : 0;
}

/*
 * Follow the job to its end and print its report as the verb that asked for
 * it prints it (report.h). A job without one could not run at all (the verb
 * says why on stderr, and so does watch), or ran before memoffd restarted:
 * then its record (blocks as the state file kept them).
 */
static int follow(sd_bus *bus, const char *path, bool json)
{
	struct ctl_progress line = { .tty = isatty(STDERR_FILENO) == 1 && !json, .verb = "job" };
	const struct ctl_report_opts ro = { .json = json };
	_cleanup_free_ char *text = NULL, *kind = NULL;
	struct ctl_job_info j;
	int r, ex;

	/* the line the verb that asked for the job draws: "offline 128M of 256M ..." */
	if (ctl_client_get_job(bus, path, &j) >= 0) {
		kind = TAKE_PTR(j.kind);
		ctl_job_info_done(&j);
		line.verb = strempty(kind);
	}
	r = ctl_client_wait(bus, path, &line, false, &j);
	if (r < 0)
		return ctl_error_errno(r, "lost track of %s", path);
	if (ctl_client_get_report(bus, path, &text) >= 0 && *text)
		ex = ctl_report_print_doc(text, &j, strempty(j.request), &ro);
	else if (j.n_blocks == 0)
		ex = ctl_error("%s: %s", strempty(j.request), strempty(j.message));
	else {
		ctl_job_print(stdout, &j, json);
		ex = ctl_job_exit_code(&j);
	}
	ctl_job_info_done(&j);
	return ex;
}

static int run(struct ctl_ctx *ctx, int argc, char *argv[], bool cancel)
{
	enum { OPT_NO_WAIT = CTL_OPT_VERB_FIRST };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
		CTL_COMMON_LONGOPTS,
		{}
	};
	sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	_cleanup_free_ char *path = NULL;
	sd_bus *bus = NULL;
	bool json = false, wait = true;
	unsigned id = 0;
	int c, ex, r;

	while ((c = ctl_getopt_json(ctx, argc, argv, longopts, &json, &ex)) != -1) {
		if (c == CTL_GETOPT_EXIT)
			return ex;
		if (c == OPT_NO_WAIT && cancel)
			wait = false;
		else
			return ctl_usage_error("unexpected option");
	}
	if (optind < argc && parse_job_id(argv[optind++], &id) < 0)
		return ctl_usage_error("invalid job '%s': expected a job number", argv[optind - 1]);
	if (optind < argc)
		return ctl_usage_error("unexpected argument '%s'", argv[optind]);
	if (cancel && !id)
		return ctl_usage_error("which job? (memoffctl jobs lists them)");

	ex = ctl_client_require(&bus);
	if (ex >= 0)
		return ex;
	if (id) {
		r = sd_bus_call_method(bus, "org.memoff.Manager1", "/org/memoff/Manager1", "org.memoff.Manager1",
				       "GetJob", &e, &reply, "u", id);
		if (r >= 0) {
			const char *p;

			r = sd_bus_message_read(reply, "o", &p);
			if (r >= 0 && !(path = strdup(p)))
				r = -ENOMEM;
		}
	} else {
		r = sd_bus_get_property_string(bus, "org.memoff.Manager1", "/org/memoff/Manager1",
					       "org.memoff.Manager1", "CurrentJob", &e, &path);
		if (r >= 0 && streq(path, "/")) {
			ex = ctl_error("no job is running");
			goto out;
		}
	}
	if (r < 0) {
		ex = ctl_client_error(&e, r, "job");
		goto out;
	}
	if (cancel) {
		sd_bus_error_free(&e);
		r = sd_bus_call_method(bus, "org.memoff.Manager1", path, "org.memoff.Job1", "Cancel", &e, NULL, NULL);
		if (r < 0) {
			ex = ctl_client_error(&e, r, "cancel");
			goto out;
		}
		if (!wait) {
			ex = CTL_EXIT_OK;
			goto out;
		}
	}
	ex = follow(bus, path, json);
out:
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return ex;
}

static int verb_watch(struct ctl_ctx *ctx, int argc, char *argv[])
{
	return run(ctx, argc, argv, false);
}

static int verb_cancel(struct ctl_ctx *ctx, int argc, char *argv[])
{
	return run(ctx, argc, argv, true);
}

CTL_VERB(watch, "follow a job of memoffd to its end");

CTL_VERB(cancel, "cancel a job of memoffd");
