/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The ACPI memory hotplug knob, firmware/acpi/hotplug/memory/enabled.
 *
 * With "0" in it, a firmware eject request of a memory device (a host's
 * device_del of a DIMM) is refused by the kernel at once: it logs
 * "acpi PNP0C80:XX: Eject disabled" and answers the firmware with _OST
 * status 128, offlining nothing. Writing a device's eject file is refused
 * (ENODEV) too, and the kernel's hotplug worker checks the knob again when
 * it runs the ejection: the knob must read "1" from the eject write until
 * the device's blocks are gone.
 *
 * memoffd holds the knob at 0 while it answers eject requests itself
 * ([Cloud] HandleEjectRequests=). The value it found is saved in a file of
 * its state directory before the first write, so that it can be put back
 * when memoffd stops, and after a crash when it starts again.
 */

#include <stdbool.h>

#include "root.h"

#define MO_HOTPLUG_KNOB_SAVE_FILE "hotplug-knob"   /* in the state directory */

/**
 * mo_hotplug_knob_read() - whether firmware/acpi/hotplug/memory/enabled reads 1.
 * Return: 1 or 0; -ENOENT without the file (no ACPI memory hotplug); -EBADMSG
 * when it holds neither; another negative errno.
 */
int mo_hotplug_knob_read(const struct mo_root *root);

/**
 * mo_hotplug_knob_write() - write "1" or "0" to the knob.
 * Return: 0, -EROFS under the write guard, or the open/write errno.
 */
int mo_hotplug_knob_write(const struct mo_root *root, bool enabled);

/**
 * mo_hotplug_knob_take() - save the knob's value and write 0.
 * @state_dir: where the save file lives
 * @found: receives the value to put back: a save file left by a previous
 *         run of this boot that did not put it back (a crash) wins over the
 *         value read now; one written in another boot (its boot_id) is stale
 *
 * The save file is written (atomically, synced) before the knob is changed.
 * Return: 0; -ENOENT without a knob (nothing saved or changed); another
 * negative errno (nothing changed, or the knob was saved and not written).
 */
int mo_hotplug_knob_take(const struct mo_root *root, const char *state_dir, bool *found);

/**
 * mo_hotplug_knob_give_back() - put back the value in the save file and remove it.
 * @restored: receives the value written, when one was
 *
 * Return: 1 when a value was put back; 0 without a save file, or with one
 * of another boot (removed: that knob is gone); -EBADMSG when the save file is not ours (it is left alone); another
 * negative errno (the save file stays, for the next try).
 */
int mo_hotplug_knob_give_back(const struct mo_root *root, const char *state_dir, bool *restored);
