/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "maps.h"
#include "util.h"

/* What a process's /proc/PID/maps holds, and what mo_maps_parse() keeps of it. */
static void test_parse(void **state)
{
	static const char text[] =
		"55d0c4a00000-55d0c4a21000 r--p 00000000 fe:01 1311 /usr/bin/cat\n"
		"55d0c5c3b000-55d0c5c5c000 rw-p 00000000 00:00 0                          [heap]\n"
		"7f37f7745000-7f37f7748000 rw-s 0001f000 00:01 4097                       /memfd:pin (deleted)\n"
		"7f37f8000000-7f37fc000000 ---p 00000000 00:00 0 \n"           /* a reservation */
		"7F37FC000000-7F37FC001000 rw-p 00000000 00:00 0\n"            /* upper case, no path */
		"ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0       [vsyscall]\n"
		"8000000000000000-8000000000001000 r--p 00000000 00:00 0\n"    /* kernel half */
		"1000-1000 r--p 00000000 00:00 0\n"                            /* empty */
		"2000-1000 r--p 00000000 00:00 0\n"                            /* reversed */
		" 1000-2000 r--p 00000000 00:00 0\n"                           /* leading space */
		"-1000-2000 r--p 00000000 00:00 0\n"                           /* a sign */
		"0x1000-0x2000 r--p 00000000 00:00 0\n"                        /* "0x" */
		"10000000000000000-10000000000001000 r--p 00000000 00:00 0\n"  /* past 64 bits */
		"1000-2000 r--p\n"                                             /* cut short */
		"1000-2000 r--p 0000000g 00:00 0\n"                            /* bad offset */
		"1000-2000 r--p  00:00 0\n"                                    /* no offset */
		"3000-4000 r--s 00002000 00:05 7 /SYSV00000000 (deleted)";     /* no newline at the end */
	char *copy = strdup(text);
	struct mo_mapping *m = NULL;
	size_t n = 0;

	assert_non_null(copy);
	assert_int_equal(mo_maps_parse(copy, &m, &n), 0);
	assert_int_equal(n, 5);

	assert_true(m[0].start == UINT64_C(0x55d0c4a00000) && m[0].end == UINT64_C(0x55d0c4a21000));
	assert_true(m[0].offset == 0 && !m[0].shared);
	assert_string_equal(m[0].path, "/usr/bin/cat");
	assert_false(mo_mapping_anon_only(&m[0]));

	assert_string_equal(m[1].path, "[heap]");
	assert_true(mo_mapping_anon_only(&m[1]));
	assert_int_equal(mo_owners_classify_mapping(m[1].path, m[1].shared), MO_MAP_HEAP);

	assert_true(m[2].shared && m[2].offset == 0x1f000);
	assert_string_equal(m[2].path, "/memfd:pin (deleted)");
	assert_false(mo_mapping_anon_only(&m[2]));
	assert_int_equal(mo_owners_classify_mapping(m[2].path, m[2].shared), MO_MAP_SHMEM);

	assert_true(m[3].start == UINT64_C(0x7f37fc000000) && m[3].end == UINT64_C(0x7f37fc001000));
	assert_string_equal(m[3].path, "");
	assert_true(mo_mapping_anon_only(&m[3]));
	assert_int_equal(mo_owners_classify_mapping(m[3].path, m[3].shared), MO_MAP_ANON);

	assert_true(m[4].start == 0x3000 && m[4].offset == 0x2000 && m[4].shared);
	assert_string_equal(m[4].path, "/SYSV00000000 (deleted)");

	free(m);
	free(copy);
	(void) state;
}

static void test_empty(void **state)
{
	char empty[] = "", junk[] = "\n\nnot maps\n";
	struct mo_mapping *m = NULL;
	size_t n = 7;

	assert_int_equal(mo_maps_parse(empty, &m, &n), 0);
	assert_int_equal(n, 0);
	free(m);
	assert_int_equal(mo_maps_parse(junk, &m, &n), 0);
	assert_int_equal(n, 0);
	free(m);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_empty),
	};
	return cmocka_run_group_tests_name("maps", tests, NULL, NULL);
}
