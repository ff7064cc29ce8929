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
#include "statefile.h"
#include "util.h"

static char *path_in(const char *root, const char *rel)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", root, rel) > 0);
	return p;
}

/* Written, read back, with the mode asked for; the temporary file is gone. */
static void test_write_read(void **state)
{
	char *root = fx_mkroot();
	_cleanup_free_ char *path = path_in(root, "state"), *tmp = path_in(root, "state.tmp"), *text = NULL;
	mode_t old = umask(022);
	struct stat st;

	assert_int_equal(mo_statefile_write(path, "one\n", 0644, MO_STATEFILE_MAX), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(stat(tmp, &st), -1);
	assert_int_equal(mo_statefile_read(path, &text), 0);
	assert_string_equal(text, "one\n");
	free(text);
	text = NULL;

	/* replaced whole, and a private file stays private */
	assert_int_equal(mo_statefile_write(path, "two\n", 0600, MO_STATEFILE_MAX), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(mo_statefile_read(path, &text), 0);
	assert_string_equal(text, "two\n");
	umask(old);
	fx_rmroot(root);
}

/* Longer than its reader takes: refused, the old content stays, nothing left behind. */
static void test_size_limit(void **state)
{
	char *root = fx_mkroot();
	_cleanup_free_ char *path = path_in(root, "state"), *tmp = path_in(root, "state.tmp"), *text = NULL;
	struct stat st;

	assert_int_equal(mo_statefile_write(path, "12345678", 0644, 8), 0);
	assert_int_equal(mo_statefile_write(path, "123456789", 0644, 8), -EFBIG);
	assert_int_equal(stat(tmp, &st), -1);
	assert_int_equal(mo_statefile_read_max(path, 8, &text, NULL), 0);
	assert_string_equal(text, "12345678");
	free(text);
	text = NULL;
	/* a file larger than the reader's limit (written by someone else) */
	assert_int_equal(mo_statefile_read_max(path, 4, &text, NULL), -EFBIG);
	fx_rmroot(root);
}

/* What is planted in the directory is neither followed nor read. */
static void test_planted(void **state)
{
	char *root = fx_mkroot();
	_cleanup_free_ char *path = path_in(root, "state"), *victim = path_in(root, "victim"),
			    *link = path_in(root, "link"), *dir = path_in(root, "d"), *text = NULL;

	/* a symlink at the temporary name: removed, not written through */
	fx_write(root, "victim", "untouched");
	fx_symlink(root, "state.tmp", victim);
	assert_int_equal(mo_statefile_write(path, "new", 0644, MO_STATEFILE_MAX), 0);
	assert_int_equal(mo_statefile_read(victim, &text), 0);
	assert_string_equal(text, "untouched");
	free(text);
	text = NULL;
	/* a symlink, a directory, a FIFO in place of the file: not ours */
	fx_symlink(root, "link", victim);
	assert_int_equal(mo_statefile_read(link, &text), -EBADFD);
	fx_write(root, "d/x", "");
	assert_int_equal(mo_statefile_read(dir, &text), -EBADFD);
	fx_unlink(root, "state");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(mo_statefile_read(path, &text), -EBADFD);
	fx_unlink(root, "state");
	assert_int_equal(mo_statefile_read(path, &text), -ENOENT);
	/* a directory that does not exist: an error */
	free(path);
	path = path_in(root, "nodir/state");
	assert_int_equal(mo_statefile_write(path, "x", 0644, MO_STATEFILE_MAX), -ENOENT);
	fx_rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_read),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_planted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
