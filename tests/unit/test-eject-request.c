/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which /dev/kmsg records are the kernel turning away a host's eject request
 * of an ACPI memory device (memoffd answers those itself).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "eject-request.h"
#include "util.h"

/* Parse a record as read(2) on /dev/kmsg returns it, and match it. */
static bool match(const char *record, char *dev, size_t size)
{
	char buf[512];
	struct mo_kmsg_record rec;

	snprintf(buf, sizeof(buf), "%s", record);
	assert_int_equal(mo_kmsg_parse(buf, strlen(buf), &rec), 0);
	dev[0] = '\0';
	return mo_eject_request_match(&rec, dev, size);
}

static void test_matches(void **state)
{
	char dev[32];

	/* 6.1 under QEMU: dev_info() from acpi_generic_hotplug_event() */
	assert_true(match("6,1523,48262161,-;acpi PNP0C80:00: Eject disabled\n"
			  " SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0C80:00\n", dev, sizeof(dev)));
	assert_string_equal(dev, "PNP0C80:00");
	/* without a dictionary; a caller id (CONFIG_PRINTK_CALLER); a wider instance number */
	assert_true(match("6,7,100,-,caller=T42;acpi PNP0C80:1a: Eject disabled\n", dev, sizeof(dev)));
	assert_string_equal(dev, "PNP0C80:1a");
	assert_true(match("4,8,100,-;acpi PNP0C80:100: Eject disabled\n", dev, sizeof(dev)));
	assert_string_equal(dev, "PNP0C80:100");
}

static void test_rejects(void **state)
{
	char dev[32], small[8];

	/* userspace writing to /dev/kmsg gets facility user (8 + level): never ours */
	assert_false(match("14,9,100,-;acpi PNP0C80:00: Eject disabled\n", dev, sizeof(dev)));
	/* other devices: a CPU, a PCI slot */
	assert_false(match("6,9,100,-;acpi ACPI0007:02: Eject disabled\n", dev, sizeof(dev)));
	assert_false(match("6,9,100,-;acpi PNP0A06:00: Eject disabled\n", dev, sizeof(dev)));
	/* other messages about the device */
	assert_false(match("6,9,100,-;acpi PNP0C80:00: Eject disabled, really\n", dev, sizeof(dev)));
	assert_false(match("6,9,100,-;acpi PNP0C80:00: Hotplug event 3 failed\n", dev, sizeof(dev)));
	assert_false(match("6,9,100,-;PNP0C80:00: Eject disabled\n", dev, sizeof(dev)));
	assert_false(match("6,9,100,-;acpi PNP0C80:: Eject disabled\n", dev, sizeof(dev)));
	assert_false(match("6,9,100,-;acpi PNP0C80:0g: Eject disabled\n", dev, sizeof(dev)));
	assert_false(match("6,9,100,-;acpi PNP0C80:00/x: Eject disabled\n", dev, sizeof(dev)));
	/* a dictionary that names another subsystem or device */
	assert_false(match("6,9,100,-;acpi PNP0C80:00: Eject disabled\n SUBSYSTEM=pci\n", dev, sizeof(dev)));
	assert_false(match("6,9,100,-;acpi PNP0C80:00: Eject disabled\n DEVICE=+acpi:PNP0C80:01\n",
			   dev, sizeof(dev)));
	/* an embedded NUL cannot smuggle a match */
	assert_false(match("6,9,100,-;acpi PNP0C80:00: Eject disabled\\x00x\n", dev, sizeof(dev)));
	/* no room for the name */
	assert_false(match("6,9,100,-;acpi PNP0C80:00: Eject disabled\n", small, sizeof(small)));
	assert_string_equal(dev, "");
}

static void test_name_valid(void **state)
{
	assert_true(mo_acpi_memory_device_name_valid("PNP0C80:00"));
	assert_true(mo_acpi_memory_device_name_valid("PNP0C80:ffffffff"));
	assert_false(mo_acpi_memory_device_name_valid("PNP0C80:1ffffffff"));
	assert_false(mo_acpi_memory_device_name_valid("PNP0C80:"));
	assert_false(mo_acpi_memory_device_name_valid("PNP0C80:0 "));
	assert_false(mo_acpi_memory_device_name_valid("PNP0C81:00"));
	assert_false(mo_acpi_memory_device_name_valid(""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matches),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_name_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
