/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The release target on org.memoff.Manager1 (doc/org.memoff.Manager1.md):
 * SetReleaseTarget, the properties ReleaseTarget, ReleaseTargetState,
 * Released, ReleasedDevices and Releasable, the signals DeviceReleased and
 * DeviceBlocked. A vtable of its own on the Manager1 object (sd-bus merges
 * the vtables of one interface).
 */

#include <stdint.h>
#include <systemd/sd-bus.h>

struct manager;

/** bus_cloud_add_objects() - the release target's part of Manager1 on @bus. */
int bus_cloud_add_objects(struct manager *m, sd_bus *bus);

/** bus_cloud_target_changed() - PropertiesChanged of the target's properties. */
void bus_cloud_target_changed(struct manager *m);

/** bus_cloud_device_released() - the DeviceReleased signal. */
void bus_cloud_device_released(struct manager *m, const char *device, uint64_t bytes);

/** bus_cloud_device_blocked() - the DeviceBlocked signal. */
void bus_cloud_device_blocked(struct manager *m, const char *device, uint64_t bytes, const char *summary);
