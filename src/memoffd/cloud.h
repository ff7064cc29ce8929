/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Host-initiated unplug made safe ([Cloud] HandleEjectRequests=).
 *
 * While it is on, memoffd holds firmware/acpi/hotplug/memory/enabled at 0
 * (hotplug-knob.h) so that the kernel turns a host's eject request of a
 * DIMM away at once, reads the kernel's "Eject disabled" records from
 * /dev/kmsg (eject-request.h), and answers each with a release job of
 * exactly that device (request "release device PNP0C80:XX"): bounded
 * attempts, backoff, the headroom guard and forensics as for any release
 * job, then the eject with the knob at 1. A request for a device whose job
 * is still queued or running is not queued twice.
 *
 * The knob is given back as found when the feature is switched off
 * (reload) and when memoffd stops; a save file in the state directory lets
 * the next start give it back after a crash.
 */

#include <stdbool.h>
#include <stdint.h>

#include "jobs.h"

struct manager;
struct cloud;

/**
 * cloud_new() - give back a knob a crashed run left held, then apply the
 * configuration (cloud_apply()). Errors are logged; a missing knob or
 * /dev/kmsg turns the feature off with a warning, it does not stop memoffd.
 * Return: 0 or -ENOMEM.
 */
int cloud_new(struct manager *m, struct cloud **ret);

/** cloud_free() - stop watching and give the knob back (after the job queue is gone). */
void cloud_free(struct cloud *c);

/** cloud_apply() - follow HandleEjectRequests= after a (re)load of the configuration. */
void cloud_apply(struct cloud *c);

/** cloud_idle() - the job queue went idle: a give-back deferred until no release job runs is done now. */
void cloud_idle(struct cloud *c);

/** cloud_active() - eject requests are being handled (the knob is held). */
bool cloud_active(const struct cloud *c);

/**
 * cloud_job_finished() - a job ended. For a release job that ran: the
 * DeviceHook= program for each device it freed or gave up on, and for an
 * eject request's job, what became of the device.
 */
void cloud_job_finished(struct cloud *c, struct job *j);

/**
 * cloud_device_summary() - what kept @d, a device a release job tried, from
 * going: "block 41: 1 page at PFN ... mapped by pinner[300] ...; block 42:
 * ...", from the job's blocked-page reports, else its reason.
 * Return: the text (caller frees), or NULL without memory.
 */
char *cloud_device_summary(struct job *j, const struct job_device *d, uint64_t block_size);
