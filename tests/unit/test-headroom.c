/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "headroom.h"
#include "util.h"

/* A 16 GiB machine with 10 GiB available. */
static const char MEMINFO[] =
	"MemTotal:       16777216 kB\n"
	"MemFree:         8388608 kB\n"
	"MemAvailable:   10485760 kB\n"
	"Buffers:            2908 kB\n"
	"Cached:           264208 kB\n"
	"Inactive(file):  1048576 kB\n"
	"SReclaimable:     524288 kB\n"
	"HugePages_Total:       0\n"
	"Hugepagesize:       2048 kB\n";

static void node_meminfo(const char *root, int n, uint64_t total_kb, uint64_t free_kb, uint64_t inactive_file_kb,
			 uint64_t sreclaimable_kb)
{
	char rel[128], text[1024];

	snprintf(rel, sizeof(rel), "sys/devices/system/node/node%d/meminfo", n);
	snprintf(text, sizeof(text),
		 "Node %d MemTotal:       %8lu kB\n"
		 "Node %d MemFree:        %8lu kB\n"
		 "Node %d MemUsed:        %8lu kB\n"
		 "Node %d Active(file):   %8lu kB\n"
		 "Node %d Inactive(file): %8lu kB\n"
		 "Node %d SReclaimable:   %8lu kB\n"
		 "Node %d HugePages_Total:     0\n",
		 n, (unsigned long) total_kb, n, (unsigned long) free_kb, n, (unsigned long) (total_kb - free_kb),
		 n, 999999UL, n, (unsigned long) inactive_file_kb, n, (unsigned long) sreclaimable_kb, n);
	fx_write(root, rel, text);
}

static int setup(void **state)
{
	char *root = fx_mkroot();

	fx_write(root, "proc/meminfo", MEMINFO);
	fx_write(root, "sys/devices/system/node/online", "0-1\n");
	fx_write(root, "sys/devices/system/node/possible", "0-1\n");
	*state = root;
	return 0;
}

static void test_read(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_headroom h;

	node_meminfo(root, 0, 8 * 1024 * 1024, 4 * 1024 * 1024, 512 * 1024, 256 * 1024);
	node_meminfo(root, 1, 8 * 1024 * 1024, 1 * 1024 * 1024, 0, 100);
	/* not node directories */
	fx_write(root, "sys/devices/system/node/nodeX/meminfo", "Node 9 MemTotal: 1 kB\n");
	fx_write(root, "sys/devices/system/node/has_memory", "0-1\n");

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_headroom_read(r, &h), 0);
	assert_int_equal(h.mem_total, 16 * GIB);
	assert_int_equal(h.mem_available, 10 * GIB);
	assert_int_equal(h.n_nodes, 2);
	assert_int_equal(h.node_total[0], 8 * GIB);
	assert_int_equal(h.node_total[1], 8 * GIB);
	/* MemFree + Inactive(file) + SReclaimable / 2; Active(file) is not free */
	assert_int_equal(h.node_free[0], 4 * GIB + 512 * MIB + 128 * MIB);
	assert_int_equal(h.node_free[1], 1 * GIB + 50 * KIB);
	assert_int_equal(h.node_total[2], 0);
}

static void test_sparse_nodes(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_headroom h;

	/* node 0 without memory (a CPU-only node has MemTotal 0), node 3 with */
	node_meminfo(root, 0, 0, 0, 0, 0);
	node_meminfo(root, 3, 4 * 1024 * 1024, 2 * 1024 * 1024, 0, 0);
	/* a node that is beyond what we track */
	node_meminfo(root, MO_MAX_NODES, 4 * 1024 * 1024, 2 * 1024 * 1024, 0, 0);
	/* a node whose meminfo is unreadable garbage */
	fx_write(root, "sys/devices/system/node/node5/meminfo", "nonsense\n");

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_headroom_read(r, &h), 0);
	assert_int_equal(h.n_nodes, 4);
	assert_int_equal(h.node_total[0], 0);
	assert_int_equal(h.node_total[3], 4 * GIB);
	assert_int_equal(h.node_free[3], 2 * GIB);
	assert_int_equal(h.node_total[5], 0);
}

static void test_no_nodes_no_available(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	char *root = fx_mkroot();
	struct mo_headroom h;

	/* an old kernel: no MemAvailable, no NUMA sysfs */
	fx_write(root, "sys/.keep", "");
	fx_write(root, "proc/meminfo",
		 "MemTotal:        1048576 kB\n"
		 "MemFree:          262144 kB\n"
		 "Inactive(file):   131072 kB\n"
		 "SReclaimable:      65536 kB\n");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_headroom_read(r, &h), 0);
	assert_int_equal(h.mem_total, 1 * GIB);
	assert_int_equal(h.mem_available, 256 * MIB + 128 * MIB + 32 * MIB);
	assert_int_equal(h.n_nodes, 0);
	fx_rmroot(root);
	(void) state;
}

static void test_bad_meminfo(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_headroom h;

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	fx_write(root, "proc/meminfo", "MemFree: 12 kB\nMemTotal: lots kB\n");
	assert_int_equal(mo_headroom_read(r, &h), -EBADMSG);
	fx_write(root, "proc/meminfo", "");
	assert_int_equal(mo_headroom_read(r, &h), -EBADMSG);
	/* an overflowing value is not a value */
	fx_write(root, "proc/meminfo", "MemTotal: 99999999999999999999 kB\n");
	assert_int_equal(mo_headroom_read(r, &h), -EBADMSG);
	fx_write(root, "proc/meminfo", "MemTotal: 18014398509481984 kB\n");
	assert_int_equal(mo_headroom_read(r, &h), -EBADMSG);
	/* key prefixes do not match longer keys */
	fx_write(root, "proc/meminfo", "MemTotalX: 5 kB\nMemTotal: 7 kB\n");
	assert_int_equal(mo_headroom_read(r, &h), 0);
	assert_int_equal(h.mem_total, 7 * KIB);
	fx_unlink(root, "proc/meminfo");
	assert_int_equal(mo_headroom_read(r, &h), -ENOENT);
}

static void test_default_reserve(void **state)
{
	assert_int_equal(mo_headroom_default_reserve(0), 256 * MIB);
	assert_int_equal(mo_headroom_default_reserve(4 * GIB), 256 * MIB);
	assert_int_equal(mo_headroom_default_reserve(5 * GIB), 256 * MIB);
	assert_int_equal(mo_headroom_default_reserve(5 * GIB + 20 * MIB), 257 * MIB);
	assert_int_equal(mo_headroom_default_reserve(100 * GIB), 5 * GIB);
	(void) state;
}

static struct mo_headroom two_nodes(void)
{
	struct mo_headroom h = {
		.mem_total = 16 * GIB,
		.mem_available = 10 * GIB,
		.n_nodes = 2,
		.node_total = { 8 * GIB, 8 * GIB },
		.node_free = { 6 * GIB, 1 * GIB },
	};
	return h;
}

static void test_check_system(void **state)
{
	struct mo_headroom h = two_nodes();
	const char *why = NULL;

	/* 10 GiB available, 1 GiB reserve: 9 GiB may go, not a byte more */
	assert_int_equal(mo_headroom_check(&h, -1, 9 * GIB, 1 * GIB, &why), 0);
	assert_null(why);
	assert_int_equal(mo_headroom_check(&h, -1, 9 * GIB + 4096, 1 * GIB, &why), -ENOSPC);
	assert_non_null(why);
	/* a block bigger than what is available */
	assert_int_equal(mo_headroom_check(&h, -1, 11 * GIB, 0, NULL), -ENOSPC);
	assert_int_equal(mo_headroom_check(&h, -1, 128 * MIB, UINT64_MAX, NULL), -ENOSPC);
	assert_int_equal(mo_headroom_check(&h, -1, UINT64_MAX, 0, NULL), -ENOSPC);
}

static void test_check_node(void **state)
{
	struct mo_headroom h = two_nodes();
	const char *why = NULL;

	/* node 1 has 1 GiB free; its share of a 1 GiB reserve is 512 MiB */
	assert_int_equal(mo_headroom_check(&h, 1, 512 * MIB, 1 * GIB, &why), 0);
	assert_int_equal(mo_headroom_check(&h, 1, 512 * MIB + 4096, 1 * GIB, &why), -ENOSPC);
	assert_non_null(why);
	assert_true(strstr(why, "node") != NULL);
	/* the same block fits on node 0, and on an unknown node (system rule only) */
	assert_int_equal(mo_headroom_check(&h, 0, 512 * MIB + 4096, 1 * GIB, NULL), 0);
	assert_int_equal(mo_headroom_check(&h, -1, 512 * MIB + 4096, 1 * GIB, NULL), 0);
	assert_int_equal(mo_headroom_check(&h, 7, 512 * MIB + 4096, 1 * GIB, NULL), 0);
	assert_int_equal(mo_headroom_check(&h, MO_MAX_NODES + 3, 512 * MIB + 4096, 1 * GIB, NULL), 0);
	/* the block alone must fit in the node's free memory, even without a reserve */
	assert_int_equal(mo_headroom_check(&h, 1, 1 * GIB, 0, NULL), 0);
	assert_int_equal(mo_headroom_check(&h, 1, 1 * GIB + 4096, 0, NULL), -ENOSPC);

	/* a single node with memory: the system rule is the whole story */
	h.node_total[1] = 0;
	h.node_free[0] = 0;
	assert_int_equal(mo_headroom_check(&h, 0, 1 * GIB, 1 * GIB, NULL), 0);
}

static void test_account(void **state)
{
	struct mo_headroom h = two_nodes();
	int fits = 0;

	/* a dry-run plan: take 128 MiB blocks from node 1 until the guard says no */
	while (mo_headroom_check(&h, 1, 128 * MIB, 1 * GIB, NULL) == 0) {
		mo_headroom_account(&h, 1, 128 * MIB);
		fits++;
	}
	/* node 1: 1 GiB free; its reserve share shrinks as its total does */
	assert_int_equal(h.node_total[1], 8 * GIB - fits * 128 * MIB);
	assert_int_equal(h.mem_available, 10 * GIB - fits * 128 * MIB);
	assert_int_equal(h.mem_total, 16 * GIB - fits * 128 * MIB);
	assert_int_equal(fits, 4);
	assert_int_equal(h.node_total[0], 8 * GIB);
	assert_int_equal(h.node_free[0], 6 * GIB);

	/* accounting never wraps around */
	mo_headroom_account(&h, 1, 100 * GIB);
	assert_int_equal(h.mem_available, 0);
	assert_int_equal(h.node_free[1], 0);
	assert_int_equal(h.node_total[1], 0);
	/* an unknown node only touches the system numbers */
	h = two_nodes();
	mo_headroom_account(&h, -1, 1 * GIB);
	mo_headroom_account(&h, 40, 1 * GIB);
	assert_int_equal(h.mem_available, 8 * GIB);
	assert_int_equal(h.node_free[0], 6 * GIB);
	assert_int_equal(h.node_free[1], 1 * GIB);
	(void) state;
}

static void test_live(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_headroom h;

	if (mo_root_new("/", NULL, &r) < 0 || !mo_root_is_live(r))
		skip();
	assert_int_equal(mo_headroom_read(r, &h), 0);
	assert_true(h.mem_total > 0);
	assert_true(h.mem_available <= h.mem_total);
	for (int i = 0; i < h.n_nodes; i++)
		assert_true(h.node_free[i] <= h.node_total[i]);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_sparse_nodes, setup, fx_teardown_root),
		cmocka_unit_test(test_no_nodes_no_available),
		cmocka_unit_test_setup_teardown(test_bad_meminfo, setup, fx_teardown_root),
		cmocka_unit_test(test_default_reserve),
		cmocka_unit_test(test_check_system),
		cmocka_unit_test(test_check_node),
		cmocka_unit_test(test_account),
		cmocka_unit_test(test_live),
	};
	return cmocka_run_group_tests_name("headroom", tests, NULL, NULL);
}
