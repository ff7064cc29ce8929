/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The a{sv} options of memoffd's methods (Offline, Online, Release, GetPins,
 * SetReleaseTarget), read by one table-driven reader: each method lists its
 * keys, their kind and where each value goes (bus-internal.h), and every
 * refusal reads the same way whatever the method:
 *
 *   unknown option 'colour' (known: zone, node, ...)
 *   option 'deadline' must be microseconds (t) or a duration (s), not of type 'b'
 *   invalid deadline '5 parsecs': ...
 */
#include "bus-internal.h"

#include <stdio.h>

#include "escape.h"
#include "parse.h"
#include "util.h"

/* A caller's string as an error may echo it: control characters escaped (escape.h), cut to fit. */
#define ESC(s) mo_escape_cntrl((s), false, (char[256]) {}, 256)

/* What each kind takes: its D-Bus signatures (one or two), and how a refusal names it. */
static const struct {
	const char *sig1, *sig2;
	const char *what;
} kinds[] = {
	[BUS_OPTION_BOOL]     = { "b", NULL, "a boolean (b)" },
	[BUS_OPTION_ZONE]     = { "s", NULL, "a string (s)" },
	[BUS_OPTION_NODE]     = { "i", NULL, "an int32 (i)" },
	[BUS_OPTION_ATTEMPTS] = { "u", NULL, "a uint32 (u)" },
	[BUS_OPTION_DURATION] = { "t", "s",  "microseconds (t) or a duration (s)" },
	[BUS_OPTION_SIZE]     = { "t", "s",  "bytes (t) or a size (s)" },
};

/* Tries per block or device past this are a typo, not a plan. */
#define MAX_ATTEMPTS 1000000

static const struct bus_option *find(const struct bus_option *table, const char *key)
{
	for (const struct bus_option *o = table; o->key; o++)
		if (streq(o->key, key))
			return o;
	return NULL;
}

static int unknown(const struct bus_option *table, const char *key, sd_bus_error *error)
{
	char known[512];
	size_t pos = 0;

	known[0] = '\0';
	for (const struct bus_option *o = table; o->key && pos < sizeof(known); o++) {
		int n = snprintf(known + pos, sizeof(known) - pos, "%s%s", pos ? ", " : "", o->key);

		if (n < 0)
			break;
		pos += (size_t) n;
	}
	return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "unknown option '%s' (known: %s)", ESC(key), known);
}

/* A t (a number) or s (text for @parse) variant: microseconds or bytes. */
static int read_number(sd_bus_message *msg, const struct bus_option *o, const char *sig,
		       int (*parse)(const char *s, uint64_t *ret, const char **why), uint64_t *ret,
		       sd_bus_error *error)
{
	const char *s, *why = NULL;
	int r;

	if (streq(sig, "t"))
		return sd_bus_message_read(msg, "v", "t", ret);
	r = sd_bus_message_read(msg, "v", "s", &s);
	if (r < 0)
		return r;
	if (parse(s, ret, &why) < 0)
		return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid %s '%s': %s", o->key, ESC(s),
					 strempty(why));
	return 0;
}

/* The value of option @o (of signature @sig, checked) into its place in @target. */
static int read_value(sd_bus_message *msg, const struct bus_option *o, const char *sig, void *target,
		      sd_bus_error *error)
{
	void *field = (char *) target + o->offset;
	uint64_t v;
	int32_t node;
	uint32_t n;
	const char *s;
	int b, r;

	switch (o->kind) {
	case BUS_OPTION_BOOL:
		r = sd_bus_message_read(msg, "v", "b", &b);
		if (r >= 0)
			*(bool *) field = b;
		return r;
	case BUS_OPTION_ZONE:
		r = sd_bus_message_read(msg, "v", "s", &s);
		if (r >= 0 && !mo_zone_from_string(s))
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid %s '%s'", o->key, ESC(s));
		if (r >= 0)
			*(const char **) field = s;
		return r;
	case BUS_OPTION_NODE:
		r = sd_bus_message_read(msg, "v", "i", &node);
		if (r >= 0 && node < -1)
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid %s %d", o->key, node);
		if (r >= 0)
			*(int *) field = node;
		return r;
	case BUS_OPTION_ATTEMPTS:
		r = sd_bus_message_read(msg, "v", "u", &n);
		if (r >= 0 && n > MAX_ATTEMPTS)
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid %s %u", o->key, n);
		if (r >= 0)
			*(int *) field = (int) n;
		return r;
	case BUS_OPTION_DURATION:
	case BUS_OPTION_SIZE:
		r = read_number(msg, o, sig, o->kind == BUS_OPTION_SIZE ? mo_parse_size : mo_parse_duration, &v,
				error);
		if (r < 0)
			return r;
		if ((o->flags & BUS_OPTION_NONZERO) && v == 0)
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid %s: zero", o->key);
		if ((o->flags & BUS_OPTION_FINITE) && v == UINT64_MAX)
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid %s: infinite", o->key);
		*(uint64_t *) field = v;
		return 0;
	}
	return -EINVAL;
}

int bus_read_options(sd_bus_message *msg, const struct bus_option *table, void *target, sd_bus_error *error)
{
	int r;

	r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		const struct bus_option *o;
		const char *key, *sig;
		char type;

		r = sd_bus_message_read(msg, "s", &key);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(msg, &type, &sig);
		if (r < 0)
			return r;
		o = find(table, key);
		if (!o)
			return unknown(table, key, error);
		if (!streq(sig, kinds[o->kind].sig1) && !(kinds[o->kind].sig2 && streq(sig, kinds[o->kind].sig2)))
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "option '%s' must be %s, not of type '%s'",
						 key, kinds[o->kind].what, sig);
		r = read_value(msg, o, sig, target, error);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(msg);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}
