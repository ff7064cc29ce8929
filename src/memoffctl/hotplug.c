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
#include "memoffd-conf.h"
#include "hotplug-policy.h"
#include "verbs.h"

#ifndef MEMOFF_SYSCONFDIR
#define MEMOFF_SYSCONFDIR "/etc"
#endif

static void hotplug_help(FILE *out)
{
	fprintf(out, "Usage: memoffctl hotplug BLOCK [-c FILE]\n\n"
		"Apply the [Hotplug] policy of memoffd.conf to memory block BLOCK (memoryN\n"
		"or N), as for hot-added memory: online it movable, in a kernel zone, or\n"
		"leave it, and say why. Runs through memoffd when it runs, else here.\n\n"
		"Options:\n"
		" -c, --config FILE      the configuration when no daemon runs\n"
		"                        (default %s/" MO_CONFIG_FILE ")\n", MEMOFF_SYSCONFDIR);
	ctl_print_common_options(out);
}

static int parse_block(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (startswith(s, "memory"))
		s += 6;
	if (!*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t) (*s - '0');
	}
	*ret = v;
	return 0;
}

static int via_daemon(uint64_t index)
{
	sd_bus *bus = NULL;
	sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *action, *reason;
	int r, ex;

	r = ctl_client_open(&bus);
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, "org.memoff.Manager1", "/org/memoff/Manager1", "org.memoff.Manager1",
			       "ApplyHotplugPolicy", &e, &reply, "t", index);
	if (r < 0)
		ex = ctl_client_error(&e, r, "hotplug");
	else if (sd_bus_message_read(reply, "ss", &action, &reason) < 0)
		ex = ctl_error("malformed reply");
	else {
		printf("memory%" PRIu64 ": %s (%s)\n", index, *action ? action : "left as it is", reason);
		ex = CTL_EXIT_OK;
	}
	sd_bus_message_unref(reply);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return ex;
}

static int verb_hotplug(struct ctl_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		CTL_COMMON_LONGOPTS,
		{}
	};
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_free_ char *config = NULL, *errors = NULL;
	struct mo_hotplug_outcome o;
	struct mo_config cfg;
	uint64_t index;
	int c, ex, r;

	while ((c = ctl_getopt(ctx, argc, argv, "c:", longopts, &ex)) != -1) {
		if (c == CTL_GETOPT_EXIT)
			return ex;
		if (c == 'c') {
			free(config);
			config = strdup(optarg);
		}
	}
	if (optind >= argc)
		return ctl_usage_error("which block? (memoryN or N)");
	if (parse_block(argv[optind], &index) < 0)
		return ctl_usage_error("invalid block '%s': expected memoryN or N", argv[optind]);
	if (optind + 1 < argc)
		return ctl_usage_error("unexpected argument '%s'", argv[optind + 1]);

	if (ctl_client_wanted(ctx)) {
		r = via_daemon(index);
		if (r >= 0)
			return r;
	}

	/* No daemon: the same policy, from the same files, here. */
	if (!config && asprintf(&config, "%s/" MO_CONFIG_FILE, MEMOFF_SYSCONFDIR) < 0)
		return ctl_error("out of memory");
	r = mo_config_load(config, &cfg, &errors);
	if (r < 0) {
		if (errors)
			fputs(errors, stderr);
		mo_config_done(&cfg);
		return ctl_error("%s: not applying the hotplug policy", config);
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
	printf("memory%" PRIu64 ": %s (%s)\n", index, o.acted ? mo_action_to_string(o.action) : "left as it is",
	       o.reason);
	return CTL_EXIT_OK;
}

const struct ctl_verb ctl_verb_hotplug = {
	.name = "hotplug",
	.summary = "apply the hotplug policy to a block that appeared",
	.run = verb_hotplug,
	.help = hotplug_help,
};
