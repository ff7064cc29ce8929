/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bounded.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "util.h"

/* How often a waiting caller looks at its cancel flag. */
#define POLL_USEC (20 * 1000ULL)

/*
 * How long each side of a hand-over watches for the other before it goes to
 * sleep: a call of a scan takes microseconds, and a wake-up of a sleeping
 * thread costs tens of them (two a call).
 */
#define SPIN_NSEC (30 * 1000L)

static atomic_uint stuck, running, threads;

/* One helper thread and what it shares with its caller. */
struct helper {
	pthread_mutex_t lock;
	pthread_cond_t wake;    /* the thread waits here for a call, or its end */
	pthread_cond_t done;    /* the caller waits here for the call's end */
	unsigned refs;          /* the caller's (the worker's) and the thread's */
	pthread_t thread;
	atomic_bool busy;       /* a call was handed over and has not finished (set under @lock) */
	bool abandoned;         /* the caller gave up on it: the thread frees ctx and ends */
	bool quit;              /* the worker is freed: end when idle */
	mo_bounded_fn fn;
	void *ctx;              /* the caller's until abandoned, then the thread's to free */
	void (*free_ctx)(void *ctx);
	int result;
};

struct mo_bounded_worker {
	struct helper *h;       /* NULL: no thread yet, or the last one was abandoned */
};

static void helper_unref(struct helper *h)
{
	bool last;

	pthread_mutex_lock(&h->lock);
	last = --h->refs == 0;
	pthread_mutex_unlock(&h->lock);
	if (!last)
		return;
	pthread_cond_destroy(&h->wake);
	pthread_cond_destroy(&h->done);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Whether *@flag reads @want within SPIN_NSEC (then the other side need not be woken). */
static bool spin_until(atomic_bool *flag, bool want)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		for (int i = 0; i < 64; i++)
			if (atomic_load_explicit(flag, memory_order_acquire) == want)
				return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) >= SPIN_NSEC)
			return false;
	}
}

static void *helper_main(void *userdata)
{
	struct helper *h = userdata;
	bool abandoned = false;

	pthread_mutex_lock(&h->lock);
	for (;;) {
		mo_bounded_fn fn;
		void *ctx;
		int r;

		if (!h->busy && !h->quit) {
			/* the next call usually comes at once */
			pthread_mutex_unlock(&h->lock);
			(void) spin_until(&h->busy, true);
			pthread_mutex_lock(&h->lock);
		}
		while (!h->busy && !h->quit)
			pthread_cond_wait(&h->wake, &h->lock);
		if (!h->busy)
			break;
		fn = h->fn;
		ctx = h->ctx;
		pthread_mutex_unlock(&h->lock);
		r = fn(ctx);
		atomic_fetch_sub(&running, 1);
		pthread_mutex_lock(&h->lock);
		h->result = r;
		h->busy = false;
		if (h->abandoned) {
			abandoned = true;
			break;
		}
		pthread_cond_signal(&h->done);
	}
	pthread_mutex_unlock(&h->lock);
	/* an abandoned helper counts as stuck until it has freed what it was left */
	if (abandoned && h->free_ctx)
		h->free_ctx(h->ctx);
	helper_unref(h);
	if (abandoned)
		atomic_fetch_sub(&stuck, 1);
	atomic_fetch_sub(&threads, 1);
	return NULL;
}

static int helper_start(struct helper **ret)
{
	pthread_condattr_t ca;
	sigset_t all, saved;
	struct helper *h;
	int r;

	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->refs = 2;
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->done, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&h->wake, NULL);

	/* The helper takes no signal: the caller's (an attempt's interrupt, SIGTERM) are not for it. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	atomic_fetch_add(&threads, 1);
	r = -pthread_create(&h->thread, NULL, helper_main, h);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (r < 0) {
		atomic_fetch_sub(&threads, 1);
		h->refs = 1;
		helper_unref(h);
		return r;
	}
	*ret = h;
	return 0;
}

/* End an idle helper and wait for it. */
static void helper_stop(struct helper *h)
{
	pthread_mutex_lock(&h->lock);
	h->quit = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	(void) pthread_join(h->thread, NULL);
	helper_unref(h);
}

int mo_bounded_worker_new(struct mo_bounded_worker **ret)
{
	struct mo_bounded_worker *w = calloc(1, sizeof(*w));

	if (!w)
		return -ENOMEM;
	*ret = w;
	return 0;
}

void mo_bounded_worker_free(struct mo_bounded_worker *w)
{
	if (!w)
		return;
	if (w->h)
		helper_stop(w->h);
	free(w);
}

unsigned mo_bounded_stuck(void)
{
	return atomic_load(&stuck);
}

unsigned mo_bounded_running(void)
{
	return atomic_load(&running);
}

unsigned mo_bounded_threads(void)
{
	return atomic_load(&threads);
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

/* Hand @fn(@ctx) to @w's thread (started when it has none) and wait for it, as mo_bounded_call(). */
static int worker_call(struct mo_bounded_worker *w, mo_bounded_fn fn, void *ctx, void (*free_ctx)(void *ctx),
		       uint64_t timeout_usec, const volatile sig_atomic_t *cancel)
{
	struct helper *h;
	uint64_t waited = 0;
	int r = -ETIMEDOUT;

	if (atomic_load(&stuck) >= MO_BOUNDED_MAX_STUCK)
		return -EBUSY;
	if (cancel && *cancel) {
		/* -ECANCELED gives @ctx away (bounded.h), also when no helper took it */
		if (free_ctx)
			free_ctx(ctx);
		return -ECANCELED;
	}
	if (!w->h) {
		r = helper_start(&w->h);
		if (r < 0)
			return r;
	}
	h = w->h;

	pthread_mutex_lock(&h->lock);
	h->fn = fn;
	h->ctx = ctx;
	h->free_ctx = free_ctx;
	h->busy = true;
	atomic_fetch_add(&running, 1);
	pthread_cond_signal(&h->wake);
	if (!(cancel && *cancel)) {
		/* most calls take microseconds */
		pthread_mutex_unlock(&h->lock);
		(void) spin_until(&h->busy, false);
		pthread_mutex_lock(&h->lock);
	}
	while (h->busy) {
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
		(void) pthread_cond_timedwait(&h->done, &h->lock, &ts);
		waited += slice;
	}
	if (!h->busy) {
		r = h->result;
		pthread_mutex_unlock(&h->lock);
		return r;
	}
	/* abandoned: the thread is on its own now, and the worker starts another next time */
	h->abandoned = true;
	atomic_fetch_add(&stuck, 1);
	pthread_mutex_unlock(&h->lock);
	(void) pthread_detach(h->thread);
	w->h = NULL;
	helper_unref(h);
	return r;
}

int mo_bounded_call(struct mo_bounded_worker *w, mo_bounded_fn fn, void *ctx, void (*free_ctx)(void *ctx),
		    uint64_t timeout_usec, const volatile sig_atomic_t *cancel)
{
	struct mo_bounded_worker once = {};
	int r;

	if (w)
		return worker_call(w, fn, ctx, free_ctx, timeout_usec, cancel);
	/* a thread for this call only */
	r = worker_call(&once, fn, ctx, free_ctx, timeout_usec, cancel);
	if (once.h)
		helper_stop(once.h);
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
static int at_op_run(struct mo_bounded_worker *w, const struct mo_root *root, bool proc, const char *rel, int flags,
		     bool read_all, size_t max, uint64_t timeout_usec, const volatile sig_atomic_t *cancel, struct at_op **ret)
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
	r = mo_bounded_call(w, at_op_fn, o, at_op_free, timeout_usec, cancel);
	if (r == -ETIMEDOUT || r == -ECANCELED)
		return r; /* the helper has it now */
	if (r < 0) {
		at_op_free(o);
		return r;
	}
	*ret = o;
	return 0;
}

int mo_root_read_file_bounded(struct mo_bounded_worker *w, const struct mo_root *root, bool proc, const char *rel,
			      size_t max, uint64_t timeout_usec, const volatile sig_atomic_t *cancel, char **ret,
			      size_t *ret_len)
{
	struct at_op *o = NULL;
	int r;

	r = at_op_run(w, root, proc, rel, O_RDONLY, true, max, timeout_usec, cancel, &o);
	if (r < 0 || !o)
		return r < 0 ? r : -EIO;
	*ret = TAKE_PTR(o->buf);
	if (ret_len)
		*ret_len = o->len;
	at_op_free(o);
	return 0;
}

int mo_root_open_bounded(struct mo_bounded_worker *w, const struct mo_root *root, bool proc, const char *rel,
			 int flags, uint64_t timeout_usec, const volatile sig_atomic_t *cancel)
{
	struct at_op *o = NULL;
	int r;

	if ((flags & O_ACCMODE) != O_RDONLY)
		return -EROFS; /* reads only: the write guard lives in mo_root_open() */
	r = at_op_run(w, root, proc, rel, flags, false, 0, timeout_usec, cancel, &o);
	if (r < 0 || !o)
		return r < 0 ? r : -EIO;
	r = TAKE_FD(o->fd);
	at_op_free(o);
	return r;
}
