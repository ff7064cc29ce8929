/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus-cloud.h"

#include "bus-internal.h"
#include "manager.h"
#include "target.h"
#include "util.h"

static int property_target(sd_bus *bus, const char *path, const char *interface, const char *property,
			   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;

	if (streq(property, "ReleaseTarget"))
		return sd_bus_message_append(reply, "t", target_bytes(m->target));
	return sd_bus_message_append(reply, "t", target_released(m->target));
}

static int property_releasable(sd_bus *bus, const char *path, const char *interface, const char *property,
			       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	uint64_t bytes = 0;
	int r = target_releasable(m->target, &bytes);

	if (r < 0)
		return sd_bus_error_set_errnof(error, -r, "cannot read the hot-pluggable memory devices: %m");
	return sd_bus_message_append(reply, "t", bytes);
}

static int property_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const struct target_device *d;
	size_t n = target_devices(m->target, &d);
	int r;

	r = sd_bus_message_open_container(reply, 'a', "(st)");
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = sd_bus_message_append(reply, "(st)", d[i].name, d[i].bytes);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(reply);
}

static int method_set_release_target(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	_cleanup_free_ char *why = NULL;
	uint64_t bytes, deadline = 0;
	int r;

	r = bus_check_access(msg, m, error);
	if (r < 0)
		return r;
	if (m->stopping)
		return sd_bus_error_set(error, MO_ERROR_SHUTTING_DOWN, "memoffd is stopping");
	r = sd_bus_message_read(msg, "t", &bytes);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		const char *key, *sig;
		char type;

		r = sd_bus_message_read(msg, "s", &key);
		if (r >= 0)
			r = sd_bus_message_peek_type(msg, &type, &sig);
		if (r < 0)
			return r;
		if (!streq(key, "deadline"))
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "unknown option '%s'", key);
		if (!streq(sig, "t") && !streq(sig, "s"))
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "option 'deadline' must be "
						 "microseconds (t) or a duration (s), not of type '%s'", sig);
		r = bus_read_duration_option(msg, key, sig, &deadline, error);
		if (r < 0)
			return r;
		if (deadline == 0)
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid deadline: zero");
		r = sd_bus_message_exit_container(msg);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = target_set(m->target, bytes, deadline, &why);
	if (r == -EINVAL)
		return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "%s", strempty(why));
	if (r < 0)
		return sd_bus_error_setf(error, SD_BUS_ERROR_FAILED, "%s", why ? why : strerror(-r));
	return sd_bus_reply_method_return(msg, NULL);
}

static int property_state(sd_bus *bus, const char *path, const char *interface, const char *property,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;

	return sd_bus_message_append(reply, "s", target_state(m->target));
}

static const sd_bus_vtable cloud_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("ReleaseTarget", "t", property_target, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ReleaseTargetState", "s", property_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Released", "t", property_target, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("ReleasedDevices", "a(st)", property_devices, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	/* Read from sysfs when asked: it changes with every online, offline and hot-add. */
	SD_BUS_PROPERTY("Releasable", "t", property_releasable, 0, 0),
	SD_BUS_METHOD_WITH_NAMES("SetReleaseTarget", "ta{sv}", SD_BUS_PARAM(bytes) SD_BUS_PARAM(options),
				 "", , method_set_release_target, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("DeviceReleased", "st", SD_BUS_PARAM(device) SD_BUS_PARAM(bytes), 0),
	SD_BUS_SIGNAL_WITH_NAMES("DeviceBlocked", "sts",
				 SD_BUS_PARAM(device) SD_BUS_PARAM(bytes) SD_BUS_PARAM(summary), 0),
	SD_BUS_VTABLE_END,
};

int bus_cloud_add_objects(struct manager *m, sd_bus *bus)
{
	return sd_bus_add_object_vtable(bus, NULL, MO_BUS_PATH, MO_BUS_INTERFACE, cloud_vtable, m);
}

void bus_cloud_target_changed(struct manager *m)
{
	if (!m->bus)
		return;
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_properties_changed(b, MO_BUS_PATH, MO_BUS_INTERFACE, "ReleaseTarget",
						      "ReleaseTargetState", "Released", "ReleasedDevices", NULL);
}

void bus_cloud_device_released(struct manager *m, const char *device, uint64_t bytes)
{
	if (!m->bus)
		return;
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_signal(b, MO_BUS_PATH, MO_BUS_INTERFACE, "DeviceReleased", "st", device, bytes);
}

void bus_cloud_device_blocked(struct manager *m, const char *device, uint64_t bytes, const char *summary)
{
	if (!m->bus)
		return;
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_signal(b, MO_BUS_PATH, MO_BUS_INTERFACE, "DeviceBlocked", "sts", device, bytes,
					  summary);
}
