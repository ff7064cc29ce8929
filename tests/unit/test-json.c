/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "json.h"
#include "json-read.h"
#include "parse.h"

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

static void bad_utf8(struct mo_json *j)
{
	mo_json_begin_array(j, NULL);
	/* a lone continuation byte, a truncated sequence, an overlong '/', a surrogate, then good text */
	mo_json_string(j, NULL, "a\x80" "b\xe2\x82" "c\xc0\xaf" "d\xed\xa0\x80" "e\xf0\x9f\x98\x80");
	mo_json_string(j, NULL, NULL);
	mo_json_end_array(j);
}

/* Bytes that are not UTF-8 become U+FFFD, one per byte; NULL is null. */
static void test_bad_utf8(void **state)
{
	char *s = capture(bad_utf8);

	assert_string_equal(s, "[\n   \"a\\ufffdb\\ufffd\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\\ufffde\xf0\x9f\x98\x80\",\n"
			    "   null\n]\n");
	free(s);
	(void) state;
}

/* What the writer writes, the reader reads back. */
static void test_read(void **state)
{
	struct mo_jv *v = NULL;
	uint64_t u;
	int64_t i;
	size_t at = 0;

	assert_int_equal(mo_jv_parse("{\"a\": [1, -2, 1.250], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\", \"n\": null, "
				     "\"t\": true}", &v, NULL), 0);
	assert_string_equal(mo_jv_str(v, "s"), "x\xc3\xa9\xf0\x9f\x98\x80\n");
	assert_true(mo_jv_bool(v, "t"));
	assert_int_equal(mo_jv_u64(v, "n", &u), -ENOENT);
	assert_int_equal(mo_jv_get(v, "a")->n_items, 3);
	assert_int_equal(mo_parse_i64(mo_jv_get(v, "a")->items[1]->str, &i), 0);
	assert_true(i == -2);
	mo_jv_free(v);
	assert_int_equal(mo_jv_parse("{\"s\": 1.250}", &v, NULL), 0);
	assert_int_equal(mo_jv_usec(v, "s", &u), 0);
	assert_true(u == 1250000);
	mo_jv_free(v);
	for (const char *const *p = (const char *const[]) { "", "{", "[1,]", "{\"a\" 1}", "01", "\"\\ud800\"",
							    "\"\\u0000\"", "\"\x80\"", "1 2", "[\"a\nb\"]", "nul", NULL };
	     *p; p++)
		assert_int_equal(mo_jv_parse(*p, &v, &at), -EBADMSG);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested),
		cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_bad_utf8),
		cmocka_unit_test(test_read),
	};
	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
