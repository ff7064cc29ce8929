/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl target: set memoffd's release target, show it, wait for it.
 */
#include "config.h"

#include <inttypes.h>

#include "attempt.h"
#include "client.h"
#include "escape.h"
#include "format.h"
#include "json.h"
#include "parse.h"
#include "verbs.h"

static void target_help(FILE *out)
{
	ctl_help_begin(out, "memoffctl target [options] [<size>]",
		       "Ask memoffd to give <size> of hot-pluggable memory back to the hypervisor, as\n"
		       "whole devices (DIMMs), and to keep at it until that much has been ejected:\n"
		       "cheapest devices first, pinned ones last, retried with backoff for as long\n"
		       "as it takes, or until its deadline. A new target replaces the old one and\n"
		       "counts from zero; 0 clears it. Without <size>, show the target and how far it got.");
	ctl_help_option(out, "    --deadline <duration>", "memoffd gives the target up after this long\n"
			"(default and infinity: never)");
	ctl_help_option(out, "    --wait", "wait until the target is reached or given up");
	ctl_help_option(out, "    --timeout <duration>", "with --wait: give up waiting after this long\n"
			"(the target stays set; default and infinity: no limit)");
	ctl_help_option(out, "-J, --json", "use JSON output format");
	ctl_help_end(out, "Exit status: 0 when the target is set (with --wait: reached), 1 on failure\n"
		     "(with --wait: nothing released by the timeout or the deadline), 64 when\n"
		     "part of it was, 2 for a usage error.");
}

struct state {
	char state[16];              /* ReleaseTargetState */
	uint64_t target, released, releasable;
	bool have_releasable;
	char **devices;              /* "PNP0C80:00" */
	uint64_t *bytes;
	size_t n;
	bool json;
	bool changed;
};

static void state_clear(struct state *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->devices[i]);
	free(s->devices);
	free(s->bytes);
	s->devices = NULL;
	s->bytes = NULL;
	s->n = 0;
}

static int get_u64(sd_bus *bus, const char *prop, uint64_t *ret)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = sd_bus_get_property_trivial(bus, MO_BUS_NAME, MO_BUS_PATH, MO_BUS_INTERFACE, prop, &e, 't', ret);

	sd_bus_error_free(&e);
	return r;
}

static int read_state(sd_bus *bus, struct state *s)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *name;
	uint64_t bytes;
	int r;

	state_clear(s);
	{
		_cleanup_free_ char *st = NULL;

		r = sd_bus_get_property_string(bus, MO_BUS_NAME, MO_BUS_PATH, MO_BUS_INTERFACE, "ReleaseTargetState",
					       &e, &st);
		sd_bus_error_free(&e);
		if (r < 0)
			return r;
		snprintf(s->state, sizeof(s->state), "%s", st);
	}
	r = get_u64(bus, "ReleaseTarget", &s->target);
	if (r >= 0)
		r = get_u64(bus, "Released", &s->released);
	if (r < 0)
		return r;
	s->have_releasable = get_u64(bus, "Releasable", &s->releasable) >= 0;
	r = sd_bus_get_property(bus, MO_BUS_NAME, MO_BUS_PATH, MO_BUS_INTERFACE, "ReleasedDevices", &e, &reply,
				"a(st)");
	sd_bus_error_free(&e);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "(st)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(st)", &name, &bytes)) > 0) {
		char **d = realloc(s->devices, (s->n + 1) * sizeof(*d));
		uint64_t *b = realloc(s->bytes, (s->n + 1) * sizeof(*b));

		if (d)
			s->devices = d;
		if (b)
			s->bytes = b;
		if (!d || !b || !(s->devices[s->n] = strdup(name))) {
			r = -ENOMEM;
			break;
		}
		s->bytes[s->n++] = bytes;
	}
	sd_bus_message_unref(reply);
	return r;
}

static bool reached(const struct state *s)
{
	return streq(s->state, "reached");
}

/* memoffd is still working on it: something to wait for. */
static bool working(const struct state *s)
{
	return streq(s->state, "working");
}

static void print_state(const struct state *s, bool waited, bool timed_out)
{
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX];

	if (s->json) {
		struct mo_json j;

		mo_json_init(&j, stdout);
		mo_json_begin_object(&j, NULL);
		mo_json_string(&j, "state", s->state);
		mo_json_u64(&j, "target", s->target);
		mo_json_u64(&j, "released", s->released);
		if (s->have_releasable)
			mo_json_u64(&j, "releasable", s->releasable);
		else
			mo_json_null(&j, "releasable");
		mo_json_bool(&j, "reached", reached(s));
		if (waited)
			mo_json_bool(&j, "timed_out", timed_out);
		mo_json_begin_array(&j, "devices");
		for (size_t i = 0; i < s->n; i++) {
			mo_json_begin_object(&j, NULL);
			mo_json_string(&j, "device", s->devices[i]);
			mo_json_u64(&j, "bytes", s->bytes[i]);
			mo_json_end_object(&j);
		}
		mo_json_end_array(&j);
		mo_json_end_object(&j);
		return;
	}
	if (s->target == 0) {
		printf("release target: none\n");
	} else {
		mo_escape_fprintf(stdout, "release target: %s, released %s%s", mo_format_size(s->target, a),
				  mo_format_size(s->released, b), s->n ? " (" : "");
		for (size_t i = 0; i < s->n; i++)
			mo_escape_fprintf(stdout, "%s%s", i ? ", " : "", s->devices[i]);
		mo_escape_fprintf(stdout, "%s: %s\n", s->n ? ")" : "", s->state);
	}
	if (s->have_releasable)
		printf("releasable now: %s\n", mo_format_size(s->releasable, a));
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	((struct state *) userdata)->changed = true;
	return 0;
}

static int on_blocked(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct state *s = userdata;
	const char *device, *summary;
	uint64_t bytes;
	char a[MO_FORMAT_SIZE_MAX];

	if (!s->json && sd_bus_message_read(m, "sts", &device, &bytes, &summary) >= 0)
		mo_escape_fprintf(stderr, "memoffctl: %s (%s) not released yet: %s\n", device, mo_format_size(bytes, a),
				  summary);
	return 0;
}

static int verb_target(struct ctl_ctx *ctx, int argc, char *argv[])
{
	enum { ARG_WAIT = CTL_OPT_VERB_FIRST, ARG_TIMEOUT, ARG_DEADLINE };
	static const struct option longopts[] = {
		{ "wait", no_argument, NULL, ARG_WAIT },
		{ "deadline", required_argument, NULL, ARG_DEADLINE },
		{ "timeout", required_argument, NULL, ARG_TIMEOUT },
		{ "json", no_argument, NULL, 'J' },
		CTL_COMMON_LONGOPTS,
		{}
	};
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_slot *s1 = NULL, *s2 = NULL;
	struct state st = {};
	sd_bus *bus = NULL;
	bool wait = false, have_size = false, timed_out = false;
	uint64_t size = 0, timeout = 0, deadline = 0, until = UINT64_MAX;
	const char *why = NULL;
	int c, ex, r;

	while ((c = ctl_getopt(ctx, argc, argv, "J", longopts, &ex)) != -1) {
		switch (c) {
		case CTL_GETOPT_EXIT:
			return ex;
		case ARG_WAIT:
			wait = true;
			break;
		case ARG_TIMEOUT:
			/* durations as memoffd.conf reads them; infinity: no limit */
			if (mo_parse_timeout(optarg, &timeout, &why) < 0 || timeout == 0)
				return ctl_usage_error("invalid timeout '%s': %s", optarg, why ? why : "must not be zero");
			if (timeout == MO_USEC_INFINITY)
				timeout = 0;
			break;
		case ARG_DEADLINE:
			if (mo_parse_timeout(optarg, &deadline, &why) < 0 || deadline == 0)
				return ctl_usage_error("invalid deadline '%s': %s", optarg, why ? why : "must not be zero");
			if (deadline == MO_USEC_INFINITY)
				deadline = 0;
			break;
		case 'J':
			st.json = true;
			break;
		}
	}
	if (optind < argc) {
		if (mo_parse_size(argv[optind], &size, &why) < 0)
			return ctl_usage_error("invalid size '%s': %s", argv[optind], strempty(why));
		have_size = true;
		optind++;
	}
	if (optind < argc)
		return ctl_usage_error("unexpected argument '%s'", argv[optind]);
	if (timeout && !wait)
		return ctl_usage_error("--timeout applies to --wait only");
	if (deadline && (!have_size || size == 0))
		return ctl_usage_error("--deadline applies to a new target only");
	if (ctx->direct)
		return ctl_usage_error("the release target is memoffd's: target has no --direct mode");

	r = ctl_client_open(&bus);
	if (r < 0)
		return ctl_error_errno(r, "memoffd is not running (%s)",
				       getenv(CTL_SOCKET_ENV) ? getenv(CTL_SOCKET_ENV) : CTL_SOCKET_DEFAULT);
	/* Subscribe first, then call: no change can slip between the two. */
	if (wait) {
		r = sd_bus_match_signal(bus, &s1, NULL, MO_BUS_PATH, "org.freedesktop.DBus.Properties",
					"PropertiesChanged", on_changed, &st);
		if (r >= 0)
			r = sd_bus_match_signal(bus, &s2, NULL, MO_BUS_PATH, MO_BUS_INTERFACE, "DeviceBlocked",
						on_blocked, &st);
		if (r < 0) {
			ex = ctl_error_errno(r, "cannot subscribe to memoffd's signals: %m");
			goto out;
		}
	}
	if (have_size) {
		if (deadline)
			r = sd_bus_call_method(bus, MO_BUS_NAME, MO_BUS_PATH, MO_BUS_INTERFACE, "SetReleaseTarget", &e,
					       NULL, "ta{sv}", size, 1, "deadline", "t", deadline);
		else
			r = sd_bus_call_method(bus, MO_BUS_NAME, MO_BUS_PATH, MO_BUS_INTERFACE, "SetReleaseTarget", &e,
					       NULL, "ta{sv}", size, 0);
		if (r < 0) {
			ex = ctl_client_error(&e, r, "SetReleaseTarget");
			goto out;
		}
	}
	if (timeout)
		until = mo_monotonic_usec() + timeout;
	for (;;) {
		uint64_t now;

		st.changed = false;
		r = read_state(bus, &st);
		if (r < 0) {
			ex = ctl_error_errno(r, "cannot read the release target: %m");
			goto out;
		}
		if (!wait || !working(&st))
			break;
		now = mo_monotonic_usec();
		if (now >= until) {
			timed_out = true;
			break;
		}
		/* Whatever arrives, read the properties again; the signals only wake us. */
		do {
			r = sd_bus_process(bus, NULL);
		} while (r > 0 && !st.changed);
		if (r < 0) {
			ex = ctl_error_errno(r, "lost memoffd: %m");
			goto out;
		}
		if (!st.changed) {
			r = sd_bus_wait(bus, until == UINT64_MAX ? UINT64_MAX : until - now);
			if (r < 0 && r != -EINTR) {
				ex = ctl_error_errno(r, "lost memoffd: %m");
				goto out;
			}
		}
	}
	print_state(&st, wait, timed_out);
	if (!wait || reached(&st) || st.target == 0)
		ex = CTL_EXIT_OK;
	else
		ex = st.released ? CTL_EXIT_PARTIAL : CTL_EXIT_FAILED;
	if (timed_out && !st.json)
		fprintf(stderr, "memoffctl: the target was not reached within the timeout; it stays set\n");
	else if (wait && streq(st.state, "given-up") && !st.json)
		fprintf(stderr, "memoffctl: memoffd gave the target up at its deadline\n");
out:
	state_clear(&st);
	sd_bus_slot_unref(s1);
	sd_bus_slot_unref(s2);
	sd_bus_error_free(&e);
	sd_bus_flush_close_unref(bus);
	return ex;
}

CTL_VERB(target, "set, show or wait for memoffd's release target");
