/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "json.h"

static char *capture(void (*write)(struct mo_json *j))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct mo_json j;

	assert_non_null(f);
	mo_json_init(&j, f);
	write(&j);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void nested(struct mo_json *j)
{
	mo_json_begin_object(j, NULL);
	mo_json_string(j, "action", "offline");
	mo_json_begin_array(j, "blocks");
	mo_json_begin_object(j, NULL);
	mo_json_u64(j, "block", 37);
	mo_json_usec(j, "seconds", 1250400);
	mo_json_string(j, "errno", NULL);
	mo_json_end_object(j);
	mo_json_begin_object(j, NULL);
	mo_json_i64(j, "node", -1);
	mo_json_bool(j, "ok", false);
	mo_json_end_object(j);
	mo_json_end_array(j);
	mo_json_begin_array(j, "empty");
	mo_json_end_array(j);
	mo_json_null(j, "none");
	mo_json_end_object(j);
}

static void test_nested(void **state)
{
	char *s = capture(nested);

	assert_string_equal(s,
		"{\n"
		"   \"action\": \"offline\",\n"
		"   \"blocks\": [\n"
		"      {\n"
		"         \"block\": 37,\n"
		"         \"seconds\": 1.250,\n"
		"         \"errno\": null\n"
		"      },\n"
		"      {\n"
		"         \"node\": -1,\n"
		"         \"ok\": false\n"
		"      }\n"
		"   ],\n"
		"   \"empty\": [],\n"
		"   \"none\": null\n"
		"}\n");
	free(s);
	(void) state;
}

static void escapes(struct mo_json *j)
{
	mo_json_begin_array(j, NULL);
	mo_json_string(j, NULL, "a\"b\\c\nd\te\x01\x7f" "é");
	mo_json_end_array(j);
}

static void test_escapes(void **state)
{
	char *s = capture(escapes);

	assert_string_equal(s, "[\n   \"a\\\"b\\\\c\\nd\\te\\u0001\\u007fé\"\n]\n");
	free(s);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_escapes),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
