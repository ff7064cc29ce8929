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

static int append_device(sd_bus_message *reply, size_t i, void *userdata)
{
	const struct target_device *d = userdata;

	return sd_bus_message_append(reply, "(st)", d[i].name, d[i].bytes);
}

static int property_devices(sd_bus *bus, const char *path, const char *interface, const char *property,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const struct target_device *d;
	size_t n = target_devices(m->target, &d);

	return bus_append_array(reply, "(st)", n, append_device, (void *) d);
}

/* SetReleaseTarget's options. */
struct target_options {
	uint64_t deadline_usec;   /* 0: none */
};

static const struct bus_option target_options[] = {
	{ "deadline", BUS_OPTION_DURATION, BUS_OPTION_NONZERO, offsetof(struct target_options, deadline_usec) },
	{}
};

static int method_set_release_target(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct target_options o = {};
	_cleanup_free_ char *why = NULL;
	uint64_t bytes;
	int r;

	r = bus_check_start(msg, m, error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(msg, "t", &bytes);
	if (r < 0)
		return r;
	r = bus_read_options(msg, target_options, &o, error);
	if (r < 0)
		return r;
	r = target_set(m->target, bytes, o.deadline_usec, &why);
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
