/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bounded.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "util.h"

/* How often a waiting caller looks at its cancel flag. */
#define POLL_USEC (20 * 1000ULL)

static atomic_uint stuck, running;

struct request {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned refs;          /* the caller's and the helper's */
	bool done, abandoned;
	mo_bounded_fn fn;
	void *ctx;              /* the caller's until abandoned, then the helper's to free */
	void (*free_ctx)(void *ctx);
	int result;
};

static void request_unref(struct request *q)
{
	bool last;

	pthread_mutex_lock(&q->lock);
	last = --q->refs == 0;
	pthread_mutex_unlock(&q->lock);
	if (!last)
		return;
	if (q->abandoned && q->free_ctx)
		q->free_ctx(q->ctx);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q);
}

static void *helper(void *userdata)
{
	struct request *q = userdata;
	bool abandoned;
	int r;

	r = q->fn(q->ctx);
	atomic_fetch_sub(&running, 1);
	pthread_mutex_lock(&q->lock);
	q->result = r;
	q->done = true;
	abandoned = q->abandoned;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	request_unref(q);
	/* an abandoned helper counts as stuck until it has freed what it was left */
	if (abandoned)
		atomic_fetch_sub(&stuck, 1);
	return NULL;
}

unsigned mo_bounded_stuck(void)
{
	return atomic_load(&stuck);
}

unsigned mo_bounded_running(void)
{
	return atomic_load(&running);
}

static void deadline_in(struct timespec *ts, uint64_t usec)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t) (usec / 1000000);
	ts->tv_nsec += (long) (usec % 1000000) * 1000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

int mo_bounded_call(mo_bounded_fn fn, void *ctx, void (*free_ctx)(void *ctx), uint64_t timeout_usec,
		    const volatile sig_atomic_t *cancel)
{
	pthread_condattr_t ca;
	pthread_attr_t attr;
	sigset_t all, saved;
	struct request *q;
	pthread_t t;
	uint64_t waited = 0;
	int r;

	if (atomic_load(&stuck) >= MO_BOUNDED_MAX_STUCK)
		return -EBUSY;
	if (cancel && *cancel) {
		/* -ECANCELED gives @ctx away (bounded.h), also when no helper took it */
		if (free_ctx)
			free_ctx(ctx);
		return -ECANCELED;
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->refs = 2;
	q->fn = fn;
	q->ctx = ctx;
	q->free_ctx = free_ctx;
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);

	/* The helper takes no signal: the caller's (an attempt's interrupt, SIGTERM) are not for it. */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	atomic_fetch_add(&running, 1);
	r = -pthread_create(&t, &attr, helper, q);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	pthread_attr_destroy(&attr);
	if (r < 0) {
		atomic_fetch_sub(&running, 1);
		q->refs = 1;
		request_unref(q);
		return r;
	}

	pthread_mutex_lock(&q->lock);
	while (!q->done) {
		struct timespec ts;
		uint64_t slice;

		if (cancel && *cancel) {
			r = -ECANCELED;
			break;
		}
		if (waited >= timeout_usec) {
			r = -ETIMEDOUT;
			break;
		}
		slice = timeout_usec - waited < POLL_USEC ? timeout_usec - waited : POLL_USEC;
		deadline_in(&ts, slice);
		(void) pthread_cond_timedwait(&q->cond, &q->lock, &ts);
		waited += slice;
	}
	if (q->done)
		r = q->result;
	else {
		q->abandoned = true;
		atomic_fetch_add(&stuck, 1);
	}
	pthread_mutex_unlock(&q->lock);
	request_unref(q);
	return r;
}

/* ---- an open, and a whole file ---- */

struct at_op {
	int dfd;                /* a dup of the root's directory: the helper's own */
	char *rel;
	int flags;
	bool read_all;          /* and read it to its end (at most @max bytes) */
	size_t max;
	int fd;
	char *buf;
	size_t len;
};

static void at_op_free(void *p)
{
	struct at_op *o = p;

	if (o->dfd >= 0)
		close(o->dfd);
	if (o->fd >= 0)
		close(o->fd);
	free(o->rel);
	free(o->buf);
	free(o);
}

static int at_op_fn(void *p)
{
	struct at_op *o = p;

	o->fd = openat(o->dfd, o->rel, o->flags | O_CLOEXEC | O_NOCTTY);
	if (o->fd < 0)
		return -errno;
	return o->read_all ? mo_read_fd_all(o->fd, o->max, &o->buf, &o->len) : 0;
}

/* Return: as mo_bounded_call(); on 0, *@ret is the finished operation (caller frees with at_op_free()). */
static int at_op_run(const struct mo_root *root, bool proc, const char *rel, int flags, bool read_all, size_t max,
		     uint64_t timeout_usec, const volatile sig_atomic_t *cancel, struct at_op **ret)
{
	int dfd = proc ? root->proc_fd : root->sys_fd;
	struct at_op *o;
	int r;

	if (dfd < 0)
		return -ENOENT;
	while (*rel == '/')
		rel++;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	*o = (struct at_op) { .fd = -1, .flags = flags, .read_all = read_all, .max = max };
	o->dfd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	o->rel = strdup(*rel ? rel : ".");
	if (o->dfd < 0 || !o->rel) {
		r = o->dfd < 0 ? -errno : -ENOMEM;
		at_op_free(o);
		return r;
	}
	r = mo_bounded_call(at_op_fn, o, at_op_free, timeout_usec, cancel);
	if (r == -ETIMEDOUT || r == -ECANCELED)
		return r; /* the helper has it now */
	if (r < 0) {
		at_op_free(o);
		return r;
	}
	*ret = o;
	return 0;
}

int mo_root_read_file_bounded(const struct mo_root *root, bool proc, const char *rel, size_t max,
			      uint64_t timeout_usec, const volatile sig_atomic_t *cancel, char **ret,
			      size_t *ret_len)
{
	struct at_op *o = NULL;
	int r;

	r = at_op_run(root, proc, rel, O_RDONLY, true, max, timeout_usec, cancel, &o);
	if (r < 0 || !o)
		return r < 0 ? r : -EIO;
	*ret = TAKE_PTR(o->buf);
	if (ret_len)
		*ret_len = o->len;
	at_op_free(o);
	return 0;
}

int mo_root_open_bounded(const struct mo_root *root, bool proc, const char *rel, int flags, uint64_t timeout_usec,
			 const volatile sig_atomic_t *cancel)
{
	struct at_op *o = NULL;
	int r;

	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EROFS; /* reads only: the write guard lives in mo_root_open() */
	r = at_op_run(root, proc, rel, flags, false, 0, timeout_usec, cancel, &o);
	if (r < 0 || !o)
		return r < 0 ? r : -EIO;
	r = TAKE_FD(o->fd);
	at_op_free(o);
	return r;
}
