/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bounded reads (bounded.h): a file whose open or read never ends (a FIFO
 * nobody writes, standing in for /proc/PID/maps of a process stuck holding
 * its mmap_lock) costs the caller its timeout, not its life; a cancel ends
 * the wait; abandoned helpers are bounded in number and go away when the
 * kernel lets them go. And the owners scan skips such a process (issue 12:
 * four GetPins calls wedged memoffd for ever).
 */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bounded.h"
#include "fixture.h"
#include "owners.h"
#include "util.h"

#define MS 1000ULL

static void fifo(const char *root, const char *rel)
{
	char path[4200];

	fx_write(root, rel, "");
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
}

/*
 * Let the helpers stuck on <root>/<rel> go: a writer opens and closes the
 * FIFO until none is left (a helper may reach its open() after a writer
 * came and went). Not a timing threshold: it waits for as long as it takes.
 */
static void release_fifo(const char *root, const char *rel)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	while (mo_bounded_stuck() > 0) {
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

		if (fd >= 0)
			close(fd);
		usleep(10 * 1000);
	}
}

static void test_regular(void **state)
{
	char *root = fx_mkroot();
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_free_ char *text = NULL;
	size_t len = 0;

	fx_write(root, "sys/x", "");
	fx_write(root, "proc/1/maps", "00400000-00401000 r-xp 00000000 08:02 1 /bin/true\n");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_root_read_file_bounded(r, true, "1/maps", 1 << 20, 10 * 1000 * MS, NULL, &text, &len), 0);
	assert_string_equal(text, "00400000-00401000 r-xp 00000000 08:02 1 /bin/true\n");
	assert_int_equal(len, strlen(text));
	assert_int_equal(mo_root_read_file_bounded(r, true, "2/maps", 1 << 20, 10 * 1000 * MS, NULL, &text, &len),
			 -ENOENT);
	assert_int_equal(mo_root_read_file_bounded(r, true, "1/maps", 8, 10 * 1000 * MS, NULL, &text, &len), -EFBIG);
	fx_rmroot(root);
}

/* Sets the flag once a helper more than those abandoned is running: the caller waits for it. */
static void *cancel_soon(void *p)
{
	volatile sig_atomic_t *cancel = p;

	while (mo_bounded_running() <= mo_bounded_stuck())
		usleep(1000);
	*cancel = 1;
	return NULL;
}

static void test_stuck(void **state)
{
	char *root = fx_mkroot();
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	volatile sig_atomic_t cancel = 0;
	char *text = NULL;
	pthread_t t;

	fx_write(root, "sys/x", "");
	fifo(root, "proc/7/maps");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);

	assert_int_equal(mo_root_read_file_bounded(r, true, "7/maps", 1 << 20, 100 * MS, NULL, &text, NULL),
			 -ETIMEDOUT);
	assert_null(text);
	assert_int_equal(mo_bounded_stuck(), 1);
	/* a cancel ends the wait, however long the bound */
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, (void *) &cancel), 0);
	assert_int_equal(mo_root_read_file_bounded(r, true, "7/maps", 1 << 20, UINT64_MAX, &cancel, &text, NULL),
			 -ECANCELED);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(mo_bounded_stuck(), 2);
	/* a cancel already set starts nothing */
	assert_int_equal(mo_root_read_file_bounded(r, true, "7/maps", 1 << 20, UINT64_MAX, &cancel, &text, NULL),
			 -ECANCELED);
	assert_int_equal(mo_bounded_stuck(), 2);
	/* the root may go while helpers are stuck: they hold their own descriptor */
	mo_root_free(TAKE_PTR(r));
	release_fifo(root, "proc/7/maps");

	/* no more than MO_BOUNDED_MAX_STUCK helpers at once: past that, refused without waiting */
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	for (unsigned i = 0; i < MO_BOUNDED_MAX_STUCK; i++)
		assert_int_equal(mo_root_read_file_bounded(r, true, "7/maps", 1 << 20, 1 * MS, NULL, &text, NULL),
				 -ETIMEDOUT);
	assert_int_equal(mo_root_read_file_bounded(r, true, "7/maps", 1 << 20, UINT64_MAX, NULL, &text, NULL),
			 -EBUSY);
	for (unsigned i = 0; i < MO_BOUNDED_MAX_STUCK && mo_bounded_stuck() > 0; i++)
		release_fifo(root, "proc/7/maps");
	fx_rmroot(root);
}

/* Process 100, "worker", maps PFN 0x5000 at 0x400000. */
static void worker_maps_pfn(const char *root)
{
	fx_write(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	fx_write(root, "proc/100/comm", "worker\n");
	fx_write(root, "proc/100/maps", "00400000-00401000 rw-p 00000000 00:00 0 \n");
	fx_put_u64(root, "proc/100/pagemap", 0x400, (UINT64_C(1) << 63) | 0x5000);
}

/* The owners of PFN 0x5000: the worker only, one process skipped. */
static void assert_worker_only(const struct mo_root *r)
{
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	const struct mo_owners_opts opts = { .exhaustive = true };
	const uint64_t pfns[] = { 0x5000 };
	const struct mo_pfn_owners *p;

	assert_int_equal(mo_owners_resolve(r, pfns, 1, &opts, &o), 0);
	p = mo_owners_find(o, 0x5000);
	assert_non_null(p);
	assert_int_equal(p->n_owners, 1);
	assert_int_equal(p->owners[0].pid, 100);
	assert_int_equal(o->procs_skipped, 1);
}

/* A process whose maps never reads is skipped; the others are still found. */
static void test_owners_skip_stuck(void **state)
{
	char *root = fx_mkroot();
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;

	worker_maps_pfn(root);
	fx_write(root, "proc/200/comm", "stuck\n");
	fifo(root, "proc/200/maps");

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_worker_only(r);
	release_fifo(root, "proc/200/maps");
	fx_rmroot(root);
}

/* A process whose pagemap never opens (a FIFO, standing in for a wait on its mmap_lock) is skipped. */
static void test_owners_skip_stuck_pagemap(void **state)
{
	char *root = fx_mkroot();
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	const uint64_t pfns[] = { 0x5000 };
	volatile sig_atomic_t cancel = 0;
	const struct mo_owners_opts opts = { .exhaustive = true, .cancel = &cancel };
	pthread_t t;

	worker_maps_pfn(root);
	fx_write(root, "proc/300/comm", "stuck\n");
	fx_write(root, "proc/300/maps", "00400000-00401000 rw-p 00000000 00:00 0 \n");
	fifo(root, "proc/300/pagemap");

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_worker_only(r);
	release_fifo(root, "proc/300/pagemap");

	/* a cancel while it waits there: the scan ends with -ECANCELED, not after the bound */
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, (void *) &cancel), 0);
	assert_int_equal(mo_owners_resolve(r, pfns, 1, &opts, &o), -ECANCELED);
	assert_int_equal(pthread_join(t, NULL), 0);
	release_fifo(root, "proc/300/pagemap");
	fx_rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular),
		cmocka_unit_test(test_stuck),
		cmocka_unit_test(test_owners_skip_stuck),
		cmocka_unit_test(test_owners_skip_stuck_pagemap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
