/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Eject requests the kernel turned away: with ACPI memory hotplug disabled
 * (hotplug-knob.h), a firmware eject request of a memory device (a host's
 * device_del of a DIMM) makes the kernel log, from its ACPI hotplug worker,
 *
 *   acpi PNP0C80:00: Eject disabled
 *
 * (dev_info(): facility kern, level 6, with SUBSYSTEM=acpi and
 * DEVICE=+acpi:PNP0C80:00 in the record's dictionary) and answer the
 * firmware with _OST status 128. memoffd reads these records from /dev/kmsg
 * and frees the device itself.
 */

#include <stdbool.h>
#include <stddef.h>

#include "device.h"
#include "kmsg.h"

/**
 * mo_eject_request_match() - whether @rec is the kernel refusing an eject
 * request of an ACPI memory device, and which.
 * @rec: a parsed /dev/kmsg record
 * @device: receives the device's name, "PNP0C80:00"
 * @size: size of @device
 *
 * Only kernel records count (userspace writes to /dev/kmsg carry another
 * facility); when the record has a dictionary, its SUBSYSTEM must be acpi
 * and its DEVICE the same device.
 *
 * Return: true when it is one (and @device is filled).
 */
bool mo_eject_request_match(const struct mo_kmsg_record *rec, char *device, size_t size);

/** mo_acpi_memory_device_name_valid() - "PNP0C80:" and 1-8 hex digits. */
bool mo_acpi_memory_device_name_valid(const char *name);
