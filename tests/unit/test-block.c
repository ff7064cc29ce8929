/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "block.h"
#include "fixture.h"
#include "util.h"

static int setup(void **state)
{
	char *root = fx_mkroot();

	fx_write(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	fx_write(root, "sys/devices/system/memory/auto_online_blocks", "online_movable\n");
	*state = root;
	return 0;
}

static void test_load_basic(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *m = NULL;

	fx_block(root, 0, "online", "none", 0, NULL);
	fx_block(root, 10, "online", "Movable", 1, "PNP0C80:00");
	fx_block(root, 2, "offline", "Normal Movable", 0, NULL);
	fx_block(root, 3, "going-offline", "Movable", 0, NULL);

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_false(mo_root_is_live(r));
	assert_int_equal(mo_memory_load(r, &m), 0);
	assert_int_equal(m->block_size, 128 * MIB);
	assert_string_equal(m->auto_online, "online_movable");
	assert_int_equal(m->n_blocks, 4);
	/* sorted numerically, gap kept */
	assert_int_equal(m->blocks[0].index, 0);
	assert_int_equal(m->blocks[1].index, 2);
	assert_int_equal(m->blocks[2].index, 3);
	assert_int_equal(m->blocks[3].index, 10);
	assert_int_equal(m->blocks[1].state, MO_STATE_OFFLINE);
	assert_int_equal(m->blocks[2].state, MO_STATE_GOING_OFFLINE);
	assert_int_equal(m->blocks[3].start, 10 * 128 * MIB);
	assert_int_equal(m->blocks[3].node, 1);
	assert_string_equal(m->blocks[3].device, "PNP0C80:00");
	assert_null(m->blocks[0].device);
	assert_true(mo_block_has_zone(&m->blocks[1], "movable"));
	assert_true(mo_block_has_zone(&m->blocks[1], "Normal"));
	assert_false(mo_block_has_zone(&m->blocks[1], "DMA32"));
	assert_true(mo_block_has_zone(&m->blocks[0], "none"));
	assert_true(m->have_nodes);
	assert_true(m->have_zones);
	assert_ptr_equal(mo_memory_find(m, 10), &m->blocks[3]);
	assert_null(mo_memory_find(m, 4));
}

static void test_missing_optional(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *m = NULL;

	fx_block(root, 5, "online", NULL, -1, NULL);
	fx_unlink(root, "sys/devices/system/memory/memory5/removable");
	fx_unlink(root, "sys/devices/system/memory/auto_online_blocks");
	/* a directory without state: treated as vanished */
	fx_write(root, "sys/devices/system/memory/memory6/phys_index", "6\n");
	/* entries that are not blocks */
	fx_write(root, "sys/devices/system/memory/memoryX/state", "online\n");
	fx_write(root, "sys/devices/system/memory/soft_offline_page", "");

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_memory_load(r, &m), 0);
	assert_int_equal(m->n_blocks, 1);
	assert_int_equal(m->blocks[0].removable, -1);
	assert_int_equal(m->blocks[0].node, -1);
	assert_null(m->blocks[0].valid_zones);
	assert_string_equal(m->auto_online, "");
	assert_false(m->have_nodes);
	assert_false(m->have_zones);
}

static void test_bad_block_size(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_memory *m = NULL;

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	fx_write(root, "sys/devices/system/memory/block_size_bytes", "zz\n");
	assert_int_equal(mo_memory_load(r, &m), -EBADMSG);
	fx_write(root, "sys/devices/system/memory/block_size_bytes", "3000000\n");
	assert_int_equal(mo_memory_load(r, &m), -EBADMSG);
	fx_write(root, "sys/devices/system/memory/block_size_bytes", "0\n");
	assert_int_equal(mo_memory_load(r, &m), -EBADMSG);
	assert_null(m);
}

static void test_no_memory_sysfs(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	char *root = fx_mkroot();
	struct mo_memory *m = NULL;

	fx_write(root, "sys/devices/.keep", "");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_memory_load(r, &m), -ENOENT);
	fx_rmroot(root);
	(void) state;
}

/* Found by fuzz-block: a memory directory without any memoryN (qsort of NULL). */
static void test_no_blocks(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	char *root = fx_mkroot();
	struct mo_memory *m = NULL;

	fx_write(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_memory_load(r, &m), 0);
	assert_non_null(m);
	assert_int_equal(m->n_blocks, 0);
	assert_int_equal(m->block_size, 128 * MIB);
	assert_null(mo_memory_find(m, 0));
	mo_memory_free(m);
	fx_rmroot(root);
	(void) state;
}

/* Found by fuzz-block: "memory09" made a second block 9. */
static void test_leading_zero_name(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	char *root = fx_mkroot();
	struct mo_memory *m = NULL;

	fx_write(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	fx_block(root, 9, "online", "Movable", 0, NULL);
	fx_write(root, "sys/devices/system/memory/memory09/state", "offline\n");
	fx_write(root, "sys/devices/system/memory/memory00/state", "offline\n");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_memory_load(r, &m), 0);
	assert_int_equal(m->n_blocks, 1);
	assert_int_equal(m->blocks[0].index, 9);
	assert_int_equal(m->blocks[0].state, MO_STATE_ONLINE);
	mo_memory_free(m);
	fx_rmroot(root);
	(void) state;
}

static void test_root_missing(void **state)
{
	struct mo_root *r = NULL;

	assert_int_equal(mo_root_new("/nonexistent/memoff", NULL, &r), -ENOENT);
	assert_null(r);
	(void) state;
}

static void test_write_guard(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *fake = NULL, *live = NULL;
	int fd;

	setenv(MO_GUARD_ENV, "1", 1);
	fx_block(root, 1, "online", "Movable", 0, NULL);
	assert_int_equal(mo_root_new(root, NULL, &fake), 0);
	/* a fixture tree stays writable under the guard */
	fd = mo_root_open(fake, false, "devices/system/memory/memory1/state", O_WRONLY);
	assert_true(fd >= 0);
	close(fd);
	/* the real sysfs never is, whatever the file */
	if (mo_root_new("/", NULL, &live) == 0 && mo_root_is_live(live)) {
		assert_int_equal(mo_root_write_allowed(live), -EROFS);
		assert_int_equal(mo_root_open(live, false, "devices/system/memory/auto_online_blocks", O_WRONLY), -EROFS);
		assert_int_equal(mo_root_open(live, false, "kernel/mm/x", O_RDWR | O_CREAT), -EROFS);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_basic, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_missing_optional, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_bad_block_size, setup, fx_teardown_root),
		cmocka_unit_test(test_no_memory_sysfs),
		cmocka_unit_test(test_no_blocks),
		cmocka_unit_test(test_leading_zero_name),
		cmocka_unit_test(test_root_missing),
		cmocka_unit_test_setup_teardown(test_write_guard, setup, fx_teardown_root),
	};
	return cmocka_run_group_tests_name("block", tests, NULL, NULL);
}
