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
#include <stdatomic.h>
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
 * Let the helpers stuck on <root>/<rel> (and <root>/<rel2>) go: a writer
 * opens and closes each FIFO until none is left (a helper may reach its
 * open() after a writer came and went). Not a timing threshold: it waits
 * for as long as it takes.
 */
static void release_fifos(const char *root, const char *rel, const char *rel2)
{
	char path[4200];

	while (mo_bounded_stuck() > 0) {
		for (int i = 0; i < 2; i++) {
			int fd;

			if (i == 1 && !rel2)
				break;
			snprintf(path, sizeof(path), "%s/%s", root, i == 0 ? rel : rel2);
			fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
			if (fd >= 0)
				close(fd);
		}
		usleep(10 * 1000);
	}
}

static void release_fifo(const char *root, const char *rel)
{
	release_fifos(root, rel, NULL);
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
	assert_int_equal(mo_root_read_file_bounded(NULL, r, true, "1/maps", 1 << 20, 10 * 1000 * MS, NULL, &text, &len), 0);
	assert_string_equal(text, "00400000-00401000 r-xp 00000000 08:02 1 /bin/true\n");
	assert_int_equal(len, strlen(text));
	assert_int_equal(mo_root_read_file_bounded(NULL, r, true, "2/maps", 1 << 20, 10 * 1000 * MS, NULL, &text, &len),
			 -ENOENT);
	assert_int_equal(mo_root_read_file_bounded(NULL, r, true, "1/maps", 8, 10 * 1000 * MS, NULL, &text, &len), -EFBIG);
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

	assert_int_equal(mo_root_read_file_bounded(NULL, r, true, "7/maps", 1 << 20, 100 * MS, NULL, &text, NULL),
			 -ETIMEDOUT);
	assert_null(text);
	assert_int_equal(mo_bounded_stuck(), 1);
	/* a cancel ends the wait, however long the bound */
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, (void *) &cancel), 0);
	assert_int_equal(mo_root_read_file_bounded(NULL, r, true, "7/maps", 1 << 20, UINT64_MAX, &cancel, &text, NULL),
			 -ECANCELED);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(mo_bounded_stuck(), 2);
	/* a cancel already set starts nothing */
	assert_int_equal(mo_root_read_file_bounded(NULL, r, true, "7/maps", 1 << 20, UINT64_MAX, &cancel, &text, NULL),
			 -ECANCELED);
	assert_int_equal(mo_bounded_stuck(), 2);
	/* the root may go while helpers are stuck: they hold their own descriptor */
	mo_root_free(TAKE_PTR(r));
	release_fifo(root, "proc/7/maps");

	/* no more than MO_BOUNDED_MAX_STUCK helpers at once: past that, refused without waiting */
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	for (unsigned i = 0; i < MO_BOUNDED_MAX_STUCK; i++)
		assert_int_equal(mo_root_read_file_bounded(NULL, r, true, "7/maps", 1 << 20, 1 * MS, NULL, &text, NULL),
				 -ETIMEDOUT);
	assert_int_equal(mo_root_read_file_bounded(NULL, r, true, "7/maps", 1 << 20, UINT64_MAX, NULL, &text, NULL),
			 -EBUSY);
	for (unsigned i = 0; i < MO_BOUNDED_MAX_STUCK && mo_bounded_stuck() > 0; i++)
		release_fifo(root, "proc/7/maps");
	fx_rmroot(root);
}

/* ---- a persistent worker ---- */

static atomic_uint ctx_freed;

/* A call's context: it waits for a byte on a pipe when @fd >= 0, then says which thread ran it. */
struct pipe_ctx {
	int fd;
	pthread_t ran_on;
	int ret;
};

static struct pipe_ctx *pipe_ctx_new(int fd, int ret)
{
	struct pipe_ctx *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->fd = fd;
	c->ret = ret;
	return c;
}

static void pipe_ctx_free(void *p)
{
	free(p);
	atomic_fetch_add(&ctx_freed, 1);
}

static int pipe_ctx_fn(void *p)
{
	struct pipe_ctx *c = p;
	char b;

	c->ran_on = pthread_self();
	if (c->fd >= 0)
		while (read(c->fd, &b, 1) < 0 && errno == EINTR)
			;
	return c->ret;
}

/* Until no helper is stuck and only @n threads are left (the abandoned ones end on their own). */
static void wait_settled(unsigned n)
{
	while (mo_bounded_stuck() > 0 || mo_bounded_threads() > n)
		usleep(1000);
}

/* Many calls, one thread: each call's result and context are the caller's again. */
static void test_worker_reuses_thread(void **state)
{
	struct mo_bounded_worker *w = NULL;
	pthread_t first = 0;

	wait_settled(0); /* the helpers the tests before abandoned */
	assert_int_equal(mo_bounded_worker_new(&w), 0);
	assert_int_equal(mo_bounded_threads(), 0); /* no thread before the first call */
	for (int i = 0; i < 1000; i++) {
		struct pipe_ctx *c = pipe_ctx_new(-1, -i);

		assert_int_equal(mo_bounded_call(w, pipe_ctx_fn, c, pipe_ctx_free, UINT64_MAX, NULL), -i);
		assert_false(pthread_equal(c->ran_on, pthread_self()));
		if (i == 0)
			first = c->ran_on;
		assert_true(pthread_equal(c->ran_on, first));
		free(c);
		assert_int_equal(mo_bounded_threads(), 1);
	}
	assert_int_equal(mo_bounded_running(), 0);
	mo_bounded_worker_free(w);
	assert_int_equal(mo_bounded_threads(), 0); /* joined */
	assert_int_equal(mo_bounded_stuck(), 0);
}

/*
 * A call that overruns: abandoned with its thread, counted as stuck, its
 * context freed by that thread once the read returns; the worker's next
 * call runs on a new thread.
 */
static void test_worker_timeout(void **state)
{
	struct mo_bounded_worker *w = NULL;
	struct pipe_ctx *c, *d;
	unsigned freed = atomic_load(&ctx_freed);
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(mo_bounded_worker_new(&w), 0);
	c = pipe_ctx_new(p[0], 0);
	assert_int_equal(mo_bounded_call(w, pipe_ctx_fn, c, pipe_ctx_free, 50 * MS, NULL), -ETIMEDOUT);
	assert_int_equal(mo_bounded_stuck(), 1);
	assert_int_equal(mo_bounded_threads(), 1);
	assert_int_equal(atomic_load(&ctx_freed), freed); /* still in the stuck thread's hands */

	d = pipe_ctx_new(-1, 7);
	assert_int_equal(mo_bounded_call(w, pipe_ctx_fn, d, pipe_ctx_free, UINT64_MAX, NULL), 7);
	free(d);
	assert_int_equal(mo_bounded_threads(), 2);

	/* the kernel lets it go: it frees what it was left and ends */
	assert_int_equal(write(p[1], "x", 1), 1);
	wait_settled(1);
	assert_int_equal(atomic_load(&ctx_freed), freed + 1);
	mo_bounded_worker_free(w);
	assert_int_equal(mo_bounded_threads(), 0);
	close(p[0]);
	close(p[1]);
}

/* A cancel ends the wait at once, however long the bound; a cancel set before starts nothing. */
static void test_worker_cancel(void **state)
{
	struct mo_bounded_worker *w = NULL;
	volatile sig_atomic_t cancel = 0;
	unsigned freed = atomic_load(&ctx_freed);
	pthread_t t;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(mo_bounded_worker_new(&w), 0);
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, (void *) &cancel), 0);
	assert_int_equal(mo_bounded_call(w, pipe_ctx_fn, pipe_ctx_new(p[0], 0), pipe_ctx_free, UINT64_MAX, &cancel),
			 -ECANCELED);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(mo_bounded_stuck(), 1);

	assert_int_equal(mo_bounded_call(w, pipe_ctx_fn, pipe_ctx_new(-1, 0), pipe_ctx_free, UINT64_MAX, &cancel),
			 -ECANCELED);
	assert_int_equal(atomic_load(&ctx_freed), freed + 1); /* freed at once */
	assert_int_equal(mo_bounded_threads(), 1);            /* no thread started for it */

	assert_int_equal(write(p[1], "x", 1), 1);
	wait_settled(0);
	assert_int_equal(atomic_load(&ctx_freed), freed + 2);
	mo_bounded_worker_free(w);
	close(p[0]);
	close(p[1]);
}

/* No more than MO_BOUNDED_MAX_STUCK abandoned helpers: past that a worker's calls are refused too. */
static void test_worker_stuck_limit(void **state)
{
	struct mo_bounded_worker *w = NULL;
	struct pipe_ctx *c;
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(mo_bounded_worker_new(&w), 0);
	for (unsigned i = 0; i < MO_BOUNDED_MAX_STUCK; i++)
		assert_int_equal(mo_bounded_call(w, pipe_ctx_fn, pipe_ctx_new(p[0], 0), pipe_ctx_free, 1 * MS, NULL),
				 -ETIMEDOUT);
	assert_int_equal(mo_bounded_stuck(), MO_BOUNDED_MAX_STUCK);
	c = pipe_ctx_new(-1, 0);
	assert_int_equal(mo_bounded_call(w, pipe_ctx_fn, c, pipe_ctx_free, UINT64_MAX, NULL), -EBUSY);
	free(c); /* -EBUSY leaves it the caller's */
	/* one byte a stuck thread: they all end */
	for (unsigned i = 0; i < MO_BOUNDED_MAX_STUCK; i++)
		assert_int_equal(write(p[1], "x", 1), 1);
	wait_settled(0);
	c = pipe_ctx_new(-1, 3);
	assert_int_equal(mo_bounded_call(w, pipe_ctx_fn, c, pipe_ctx_free, UINT64_MAX, NULL), 3);
	free(c);
	mo_bounded_worker_free(w);
	assert_int_equal(mo_bounded_threads(), 0);
	close(p[0]);
	close(p[1]);
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

/*
 * A process whose comm and cgroup never read (FIFOs): still named as the
 * owner, comm "?" and no cgroup, after the bound.
 */
static void test_owners_stuck_comm_cgroup(void **state)
{
	char *root = fx_mkroot();
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	const struct mo_owners_opts opts = { .exhaustive = true };
	const uint64_t pfns[] = { 0x5000 };
	const struct mo_pfn_owners *p;

	fx_write(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	fx_write(root, "proc/100/maps", "00400000-00401000 rw-p 00000000 00:00 0 \n");
	fx_put_u64(root, "proc/100/pagemap", 0x400, (UINT64_C(1) << 63) | 0x5000);
	fifo(root, "proc/100/comm");
	fifo(root, "proc/100/cgroup");

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_owners_resolve(r, pfns, 1, &opts, &o), 0);
	p = mo_owners_find(o, 0x5000);
	assert_non_null(p);
	assert_int_equal(p->n_owners, 1);
	assert_int_equal(p->owners[0].pid, 100);
	assert_int_equal(p->owners[0].vaddr, 0x400000);
	assert_string_equal(p->owners[0].comm, "?");
	assert_null(p->owners[0].cgroup);
	assert_int_equal(mo_bounded_stuck(), 2);
	release_fifos(root, "proc/100/comm", "proc/100/cgroup");
	fx_rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regular),
		cmocka_unit_test(test_stuck),
		cmocka_unit_test(test_worker_reuses_thread),
		cmocka_unit_test(test_worker_timeout),
		cmocka_unit_test(test_worker_cancel),
		cmocka_unit_test(test_worker_stuck_limit),
		cmocka_unit_test(test_owners_skip_stuck),
		cmocka_unit_test(test_owners_skip_stuck_pagemap),
		cmocka_unit_test(test_owners_stuck_comm_cgroup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
