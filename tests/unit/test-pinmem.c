/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "pinmem.h"
#include "util.h"

static void test_note_forget(void **state)
{
	_cleanup_(mo_pinmem_freep) struct mo_pinmem *m = NULL;
	const uint64_t a[] = { 0x8005, 0x8001, 0x8005 }, b[] = { 0x8003 };
	const struct mo_pinmem_block *r;

	assert_int_equal(mo_pinmem_new(&m), 0);
	assert_null(mo_pinmem_find(m, 16));
	assert_int_equal(mo_pinmem_note(m, 16, a, 3, 1000), 0);
	assert_int_equal(mo_pinmem_note(m, 9, NULL, 0, 1001), 0);   /* blocked, pages unknown */
	assert_int_equal(mo_pinmem_note(m, 16, b, 1, 1500), 0);
	assert_true(m->dirty);
	assert_int_equal(m->n, 2);
	assert_int_equal(m->blocks[0].block, 9);             /* ascending */
	r = mo_pinmem_find(m, 16);
	assert_non_null(r);
	assert_int_equal(r->first_seen, 1000);
	assert_int_equal(r->last_seen, 1500);
	assert_int_equal(r->n_pfns, 3);                       /* duplicates once, ascending */
	assert_int_equal(r->pfns[0], 0x8001);
	assert_int_equal(r->pfns[1], 0x8003);
	assert_int_equal(r->pfns[2], 0x8005);
	assert_true(mo_pinmem_forget(m, 16));
	assert_false(mo_pinmem_forget(m, 16));
	assert_null(mo_pinmem_find(m, 16));
	assert_non_null(mo_pinmem_find(m, 9));
	assert_null(mo_pinmem_find(NULL, 9));
}

static void test_pfns_capped(void **state)
{
	_cleanup_(mo_pinmem_freep) struct mo_pinmem *m = NULL;
	uint64_t v[40];

	for (unsigned i = 0; i < 40; i++)
		v[i] = 0x10000 + 39 - i;
	assert_int_equal(mo_pinmem_new(&m), 0);
	assert_int_equal(mo_pinmem_note(m, 2, v, 40, 5), 0);
	assert_int_equal(m->blocks[0].n_pfns, MO_PINMEM_PFNS_MAX);
	/* the lowest are kept */
	assert_int_equal(m->blocks[0].pfns[0], 0x10000);
	assert_int_equal(m->blocks[0].pfns[MO_PINMEM_PFNS_MAX - 1], 0x10000 + MO_PINMEM_PFNS_MAX - 1);
}

static void test_format_parse_roundtrip(void **state)
{
	_cleanup_(mo_pinmem_freep) struct mo_pinmem *m = NULL, *n = NULL;
	_cleanup_free_ char *text = NULL, *again = NULL;
	const uint64_t a[] = { 0x1b2000, 0x1b2200 };

	assert_int_equal(mo_pinmem_new(&m), 0);
	assert_int_equal(mo_pinmem_note(m, 54, a, 2, 1733500000), 0);
	assert_int_equal(mo_pinmem_note(m, 53, NULL, 0, 1733500100), 0);
	assert_int_equal(mo_pinmem_format(m, &text), 0);
	assert_non_null(strstr(text, "\n53 1733500100 1733500100\n54 1733500000 1733500000 0x1b2000 0x1b2200\n"));
	assert_int_equal(mo_pinmem_new(&n), 0);
	assert_int_equal(mo_pinmem_parse(n, text), 0);
	assert_false(n->dirty);
	assert_int_equal(mo_pinmem_format(n, &again), 0);
	assert_string_equal(text, again);
}

/* Read tolerantly: lines that do not parse are skipped and counted, the rest kept. */
static void test_parse_tolerant(void **state)
{
	_cleanup_(mo_pinmem_freep) struct mo_pinmem *m = NULL;

	assert_int_equal(mo_pinmem_new(&m), 0);
	assert_int_equal(mo_pinmem_parse(m,
					 "# comment\n"
					 "\n"
					 "7 10 20 0x100 0x101\n"
					 "garbage\n"
					 "8 30 20\n"                /* first seen after last seen */
					 "9 10\n"                   /* too short */
					 "10 1 2 100\n"             /* a PFN without 0x */
					 "-11 1 2\n"
					 "12 1 2 0xzz\n"
					 "13 5 6\n"
					 "   14\t5\t9\t0xa   \n"
					 "15 1 99999999999999999999999\n"), 7);
	assert_int_equal(m->n, 3);
	assert_int_equal(m->blocks[0].block, 7);
	assert_int_equal(m->blocks[0].n_pfns, 2);
	assert_int_equal(m->blocks[1].block, 13);
	assert_int_equal(m->blocks[2].block, 14);
	assert_int_equal(m->blocks[2].pfns[0], 0xa);
	/* a truncated last line (a torn write cannot happen with rename, a hand edit can) */
	assert_int_equal(mo_pinmem_parse(m, "16 1 2 0x1"), 0);
	assert_non_null(mo_pinmem_find(m, 16));
}

static void test_save_load(void **state)
{
	_cleanup_(mo_pinmem_freep) struct mo_pinmem *m = NULL, *n = NULL, *e = NULL;
	char *root = fx_mkroot();
	_cleanup_free_ char *path = NULL, *tmp = NULL, *dir = NULL;
	const uint64_t a[] = { 0x42 };
	struct stat st;

	assert_true(asprintf(&path, "%s/pins", root) > 0);
	assert_true(asprintf(&tmp, "%s/pins.tmp", root) > 0);
	assert_true(asprintf(&dir, "%s/nodir/pins", root) > 0);
	/* no file: an empty store */
	assert_int_equal(mo_pinmem_new(&e), 0);
	assert_int_equal(mo_pinmem_load(e, path), 0);
	assert_int_equal(e->n, 0);

	assert_int_equal(mo_pinmem_new(&m), 0);
	assert_int_equal(mo_pinmem_note(m, 3, a, 1, 77), 0);
	assert_int_equal(mo_pinmem_save(m, path), 0);
	assert_false(m->dirty);
	assert_int_equal(stat(tmp, &st), -1);     /* renamed away */
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* PFNs: root only */
	assert_int_equal(mo_pinmem_new(&n), 0);
	assert_int_equal(mo_pinmem_load(n, path), 0);
	assert_non_null(mo_pinmem_find(n, 3));
	assert_int_equal(mo_pinmem_find(n, 3)->pfns[0], 0x42);

	/* a directory that does not exist: an error, nothing left behind */
	assert_int_equal(mo_pinmem_save(m, dir), -ENOENT);
	/* a directory in place of the file: not ours */
	fx_write(root, "d/x", "");
	free(path);
	assert_true(asprintf(&path, "%s/d", root) > 0);
	assert_int_equal(mo_pinmem_load(n, path), -EBADFD);
	fx_rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_note_forget),
		cmocka_unit_test(test_pfns_capped),
		cmocka_unit_test(test_format_parse_roundtrip),
		cmocka_unit_test(test_parse_tolerant),
		cmocka_unit_test(test_save_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
