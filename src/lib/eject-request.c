/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>

#include "eject-request.h"
#include "util.h"

#define PREFIX "acpi "
#define SUFFIX ": Eject disabled"

bool mo_acpi_memory_device_name_valid(const char *name)
{
	size_t n;

	if (!startswith(name, MO_ACPI_MEMORY_HID ":"))
		return false;
	name += strlen(MO_ACPI_MEMORY_HID ":");
	n = strspn(name, "0123456789abcdefABCDEF");
	return n >= 1 && n <= 8 && name[n] == '\0';
}

bool mo_eject_request_match(const struct mo_kmsg_record *rec, char *device, size_t size)
{
	char name[32], val[64], want[64];
	const char *msg = rec->message, *end;
	size_t len;
	int r;

	if (rec->facility != 0 || !msg || rec->message_len != strlen(msg))
		return false;
	if (!startswith(msg, PREFIX))
		return false;
	msg += strlen(PREFIX);
	end = strstr(msg, SUFFIX);
	if (!end || !streq(end, SUFFIX))
		return false;
	len = (size_t) (end - msg);
	if (len >= sizeof(name))
		return false;
	memcpy(name, msg, len);
	name[len] = '\0';
	if (!mo_acpi_memory_device_name_valid(name))
		return false;
	if (rec->dict) {
		r = mo_kmsg_dict_get(rec, "SUBSYSTEM", val, sizeof(val));
		if (r >= 0 && !streq(val, "acpi"))
			return false;
		r = mo_kmsg_dict_get(rec, "DEVICE", val, sizeof(val));
		snprintf(want, sizeof(want), "+acpi:%s", name);
		if (r >= 0 && !streq(val, want))
			return false;
	}
	if (len >= size)
		return false;
	memcpy(device, name, len + 1);
	return true;
}
