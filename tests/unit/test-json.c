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
	/* every C1 control too (CSI, U+009B, would drive a terminal), not U+00A0 after them */
	mo_json_string(j, NULL, "\xc2\x80\xc2\x9b" "2J\xc2\x9f\xc2\xa0");
	mo_json_end_array(j);
}

static void test_escapes(void **state)
{
	char *s = capture(escapes);

	assert_string_equal(s, "[\n   \"a\\\"b\\\\c\\nd\\te\\u0001\\u007fé\",\n"
			    "   \"\\u0080\\u009b2J\\u009f\xc2\xa0\"\n]\n");
	free(s);
	(void) state;
}

static void bad_utf8(struct mo_json *j)
{
	mo_json_begin_array(j, NULL);
	/* a lone continuation byte, a truncated sequence, an overlong '/', a surrogate, then good text */
	mo_json_string(j, NULL, "a\x80" "b\xe2\x82" "c\xc0\xaf" "d\xed\xa0\x80" "e\xf0\x9f\x98\x80");
	mo_json_string(j, NULL, NULL);
	mo_json_end_array(j);
}

/* Bytes that are not UTF-8 become U+FFFD (as UTF-8), one per byte; NULL is null. */
static void test_bad_utf8(void **state)
{
	char *s = capture(bad_utf8);

#define R "\xef\xbf\xbd"   /* U+FFFD */
	assert_string_equal(s, "[\n   \"a" R "b" R R "c" R R "d" R R R "e\xf0\x9f\x98\x80\",\n"
			    "   null\n]\n");
#undef R
	free(s);
	(void) state;
}

/* What mo_json_utf8_dup() gives another JSON writer: the same U+FFFD for each stray byte, the rest as it is. */
static void test_utf8_dup(void **state)
{
	char *s = mo_json_utf8_dup("PNP0C80:\xff\x1b[2J \xc2\x9b é \xe2\x82");

	assert_non_null(s);
	assert_string_equal(s, "PNP0C80:\xef\xbf\xbd\x1b[2J \xc2\x9b é \xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_utf8_dup),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
