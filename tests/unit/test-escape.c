/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "escape.h"
#include "util.h"

static void test_controls(void **state)
{
	char buf[128];

	(void) state;
	assert_string_equal(mo_escape_cntrl("plain text: 128M, /sys/x", false, buf, sizeof(buf)),
			    "plain text: 128M, /sys/x");
	assert_string_equal(mo_escape_cntrl("\033[31mred\033[0m", false, buf, sizeof(buf)), "\\x1b[31mred\\x1b[0m");
	assert_string_equal(mo_escape_cntrl("a\nb\rc\td\x7f", false, buf, sizeof(buf)), "a\\x0ab\\x0dc\\x09d\\x7f");
	/* a text of several lines keeps its newlines, nothing else */
	assert_string_equal(mo_escape_cntrl("a\nb\033", true, buf, sizeof(buf)), "a\nb\\x1b");
	/* UTF-8 stays; the C1 controls (CSI is U+009B) do not */
	assert_string_equal(mo_escape_cntrl("× µs \xc2\x9b" "2J", false, buf, sizeof(buf)), "× µs \\xc2\\x9b2J");
	/* idempotent: what was escaped once is not escaped again */
	assert_string_equal(mo_escape_cntrl("\\x1b", false, buf, sizeof(buf)), "\\x1b");
}

static void test_cut(void **state)
{
	char buf[8];

	(void) state;
	/* an escape or a UTF-8 sequence that does not fit is left out whole */
	assert_string_equal(mo_escape_cntrl("abcd\033", false, buf, sizeof(buf)), "abcd");
	assert_string_equal(mo_escape_cntrl("abcdef×", false, buf, sizeof(buf)), "abcdef");
	assert_string_equal(mo_escape_cntrl("abc", false, buf, 1), "");
}

static void test_dup(void **state)
{
	_cleanup_free_ char *s = mo_escape_cntrl_dup("\001\002 ok \033", false);

	(void) state;
	assert_non_null(s);
	assert_string_equal(s, "\\x01\\x02 ok \\x1b");
	assert_true(mo_has_cntrl("x\033", false));
	assert_false(mo_has_cntrl("x\n", true));
	assert_true(mo_has_cntrl("x\n", false));
}

/* Human output echoing outside text: each control character of it escaped, the line's own newline kept. */
static void test_fprintf(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void) state;
	assert_non_null(f);
	assert_int_equal(mo_escape_fprintf(f, "comm %s[%d]\n", "pin\033[2J\nfake\xc2\x9b", 42), 36);
	mo_escape_fprintf(f, "; %s: %s", "a\tb", "×");
	mo_escape_fprintf(f, ".\n");
	/* a newline that ends an argument, not the format, is escaped */
	mo_escape_fprintf(f, "reason: %s", "x\n");
	mo_escape_fprintf(f, "%s", "");
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, "comm pin\\x1b[2J\\x0afake\\xc2\\x9b[42]\n; a\\x09b: ×.\nreason: x\\x0a");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_controls),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_fprintf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
