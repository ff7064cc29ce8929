/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The release target's state file: what is written is read back the same;
 * anything else is refused as a whole.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "memoffd/target-record.h"
#include "util.h"

static void test_round_trip(void **state)
{
	struct target_record t = { .target = 1ULL << 30, .set_usec = 1700000000123456ULL,
				   .deadline_usec = 1700000600123456ULL, .given_up = true }, u;
	_cleanup_free_ char *text = NULL, *again = NULL;

	assert_int_equal(target_record_add_device(&t, "PNP0C80:00", 512ULL << 20), 0);
	assert_int_equal(target_record_add_device(&t, "PNP0C80:02", 512ULL << 20), 0);
	assert_int_equal(t.released, 1ULL << 30);
	assert_int_equal(target_record_add_device(&t, "bad name", 1), -EINVAL);
	assert_int_equal(target_record_add_device(&t, "", 1), -EINVAL);
	assert_int_equal(target_record_format(&t, &text), 0);
	assert_string_equal(text, "memoffd-target 1\ntarget 1073741824\nreleased 1073741824\n"
			    "set 1700000000123456\ndeadline 1700000600123456\ngiven-up 1\n"
			    "device PNP0C80:00 536870912\ndevice PNP0C80:02 536870912\n");
	assert_int_equal(target_record_parse(text, &u), 0);
	assert_int_equal(u.target, t.target);
	assert_int_equal(u.released, t.released);
	assert_int_equal(u.set_usec, t.set_usec);
	assert_int_equal(u.deadline_usec, t.deadline_usec);
	assert_true(u.given_up);
	assert_int_equal(u.n_devices, 2);
	assert_string_equal(u.devices[1].name, "PNP0C80:02");
	assert_int_equal(target_record_format(&u, &again), 0);
	assert_string_equal(again, text);
	target_record_done(&t);
	target_record_done(&u);
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
		"",
		"memoffd-target 2\ntarget 1\nreleased 0\nset 0\ndeadline 0\ngiven-up 0\n",
		"memoffd-target 1\ntarget 1\nreleased 0\nset 0\ndeadline 0\n",                /* no given-up */
		"memoffd-target 1\ntarget 1\nreleased 0\nset 0\ndeadline 0\ngiven-up 2\n",
		"memoffd-target 1\ntarget 1\nreleased 0\nset 0\ndeadline 0\ngiven-up 0\ncolour blue\n",
		"memoffd-target 1\ntarget 1\nreleased 0\n",                    /* no set */
		"memoffd-target 1\ntarget 1\nreleased 0\nset 0",               /* cut short */
		"memoffd-target 1\ntarget 1\nreleased 0\nset 0\nset 0\n",      /* twice */
		"memoffd-target 1\ntarget -1\nreleased 0\nset 0\n",
		"memoffd-target 1\ntarget 18446744073709551616\nreleased 0\nset 0\n",
		"memoffd-target 1\ntarget 1\nreleased 0\nset 0\ncolour blue\n",
		"memoffd-target 1\ntarget 1\nreleased 0\nset 0\ndevice PNP0C80:00\n",
		"memoffd-target 1\ntarget 1\nreleased 0\nset 0\ndevice PNP0C80:00 x\n",
		"memoffd-target 1\ntarget 1\nreleased 0\nset 0\ndevice a/b 1\n",
		"memoffd-jobs 1\nnext 1\n",
	};
	struct target_record t;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (target_record_parse(bad[i], &t) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(t.target, 0);
		assert_null(t.devices);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
