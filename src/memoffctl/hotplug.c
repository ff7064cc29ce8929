/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl hotplug BLOCK: apply memoffd's hotplug policy to a block that
 * appeared (the udev rule 60-memoff.rules runs it for every memory block
 * added offline). Through the daemon when it runs, else in-process with the
 * same configuration files and the same policy code.
 */
#include "config.h"

#include <inttypes.h>

#include "attempt.h"
#include "client.h"
#include "escape.h"
#include "json.h"
#include "parse.h"
#include "runner.h"
#include "memoffd-conf.h"
#include "hotplug-policy.h"
#include "verbs.h"

#ifndef MEMOFF_SYSCONFDIR
#define MEMOFF_SYSCONFDIR "/etc"
#endif

static void hotplug_help(FILE *out)
{
	ctl_help_begin(out, "memoffctl hotplug [options] <block>",
		       "Apply the [Hotplug] policy of memoffd.conf to memory block <block> (memoryN\n"
		       "or N), as for hot-added memory: online it movable, in a kernel zone, or\n"
		       "leave it, and say why. Runs through memoffd when it runs, else here.");
	ctl_help_option(out, "-c, --config <file>", "the configuration when no daemon runs\n"
			"(default: %s/" MO_CONFIG_FILE ")", MEMOFF_SYSCONFDIR);
	ctl_help_option(out, "-J, --json", "use JSON output format");
	ctl_help_option(out, "-q, --quiet", "print nothing; the exit status says whether it worked");
	ctl_help_end(out, "Exit status: 0 applied (or left alone by the policy), 1 failed, 2 usage error.");
}

static int parse_block(const char *s, uint64_t *ret)
{
	return mo_parse_u64(startswith(s, "memory") ? s + 6 : s, 10, ret);
}

/* "memory40: online_movable (...)", or its JSON; nothing with -q. */
static void print_outcome(uint64_t index, const char *action, const char *reason, bool json, bool quiet)
{
	struct mo_json j;

	if (quiet)
		return;
	if (!json) {
		mo_escape_fprintf(stdout, "memory%" PRIu64 ": %s (%s)\n", index, action ? action : "left as it is",
				  reason);
		return;
	}
	mo_json_init(&j, stdout);
	mo_json_begin_object(&j, NULL);
	mo_json_u64(&j, "block", index);
	mo_json_string(&j, "action", action);
	mo_json_string(&j, "reason", reason);
	mo_json_end_object(&j);
}

static int via_daemon(sd_bus *bus, uint64_t index, bool json, bool quiet)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *action, *reason;
	int r;

	r = sd_bus_call_method(bus, MO_BUS_NAME, MO_BUS_PATH, MO_BUS_INTERFACE, "ApplyHotplugPolicy", &e, &reply,
			       "t", index);
	if (r < 0)
		return ctl_client_error(&e, r, "hotplug");
	if (sd_bus_message_read(reply, "ss", &action, &reason) < 0)
		return ctl_error("malformed reply");
	print_outcome(index, *action ? action : NULL, reason, json, quiet);
	return CTL_EXIT_OK;
}

static int verb_hotplug(struct ctl_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json",   no_argument,       NULL, 'J' },
		{ "quiet",  no_argument,       NULL, 'q' },
		CTL_COMMON_LONGOPTS,
		{}
	};
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	bool json = false, quiet = false;
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_free_ char *config = NULL, *errors = NULL;
	struct mo_hotplug_outcome o;
	struct mo_config cfg;
	uint64_t index;
	int c, ex, r;

	while ((c = ctl_getopt(ctx, argc, argv, "c:Jq", longopts, &ex)) != -1) {
		if (c == CTL_GETOPT_EXIT)
			return ex;
		if (c == 'c') {
			free(config);
			config = strdup(optarg);
		} else if (c == 'J')
			json = true;
		else if (c == 'q')
			quiet = true;
	}
	if (optind >= argc)
		return ctl_usage_error("which block? (memoryN or N)");
	if (parse_block(argv[optind], &index) < 0)
		return ctl_usage_error("invalid block '%s': expected memoryN or N", argv[optind]);
	if (optind + 1 < argc)
		return ctl_usage_error("unexpected argument '%s'", argv[optind + 1]);

	r = ctl_runner_connect(ctx, false, &bus);
	if (r < 0)
		return CTL_EXIT_FAILED;
	if (r > 0)
		return via_daemon(bus, index, json, quiet);

	/* No daemon: the same policy, from the same files, here. */
	if (!config && asprintf(&config, "%s/" MO_CONFIG_FILE, MEMOFF_SYSCONFDIR) < 0)
		return ctl_error("out of memory");
	/* A problem elsewhere in the file never stops the policy: it is reported and ignored, as memoffd does. */
	r = mo_config_load(config, NULL, &cfg, &errors);
	if (errors)
		fputs(errors, stderr);
	if (r < 0) {
		mo_config_done(&cfg);
		return ctl_error_errno(r, "%s: cannot read the configuration", config);
	}
	if (ctl_open_root(ctx, &root) < 0) {
		mo_config_done(&cfg);
		return CTL_EXIT_FAILED;
	}
	r = mo_hotplug_apply(root, cfg.hotplug_policy, cfg.movable_ratio_pct, 2 * cfg.attempt_timeout_usec,
			     index, &o);
	mo_config_done(&cfg);
	if (r == -ENOENT)
		return ctl_error("block %" PRIu64 " does not exist", index);
	if (r < 0)
		return ctl_error_errno(r, "memory%" PRIu64 ": %s failed: %s", index, mo_action_to_string(o.action),
				       o.reason);
	print_outcome(index, o.acted ? mo_action_to_string(o.action) : NULL, o.reason, json, quiet);
	return CTL_EXIT_OK;
}

CTL_VERB(hotplug, "apply the hotplug policy to a block that appeared");
