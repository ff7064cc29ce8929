/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bounded.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "util.h"

/* How often a waiting caller looks at its cancel flag. */
#define POLL_USEC (20 * 1000ULL)

static atomic_uint stuck;

struct request {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned refs;          /* the caller's and the helper's */
	bool done, abandoned;
	int dfd;                /* a dup of the root's directory: the helper's own */
	char *rel;
	size_t max;
	/* the result */
	char *buf;
	size_t len;
	int error;
};

static void request_unref(struct request *q)
{
	bool last;

	pthread_mutex_lock(&q->lock);
	last = --q->refs == 0;
	pthread_mutex_unlock(&q->lock);
	if (!last)
		return;
	if (q->dfd >= 0)
		close(q->dfd);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->lock);
	free(q->rel);
	free(q->buf);
	free(q);
}

static int read_all(struct request *q, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;

	fd = openat(q->dfd, q->rel, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	return mo_read_fd_all(fd, q->max, ret, ret_len);
}

static void *helper(void *userdata)
{
	struct request *q = userdata;
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = read_all(q, &buf, &len);
	pthread_mutex_lock(&q->lock);
	q->buf = buf;
	q->len = len;
	q->error = r;
	q->done = true;
	if (q->abandoned)
		atomic_fetch_sub(&stuck, 1);
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
	request_unref(q);
	return NULL;
}

unsigned mo_bounded_stuck(void)
{
	return atomic_load(&stuck);
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

int mo_root_read_file_bounded(const struct mo_root *root, bool proc, const char *rel, size_t max,
			      uint64_t timeout_usec, const volatile sig_atomic_t *cancel, char **ret,
			      size_t *ret_len)
{
	int dfd = proc ? root->proc_fd : root->sys_fd;
	pthread_condattr_t ca;
	pthread_attr_t attr;
	sigset_t all, saved;
	struct request *q;
	pthread_t t;
	uint64_t waited = 0;
	int r;

	if (dfd < 0)
		return -ENOENT;
	if (atomic_load(&stuck) >= MO_BOUNDED_MAX_STUCK)
		return -EBUSY;
	while (*rel == '/')
		rel++;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->refs = 2;
	q->max = max;
	q->dfd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
	q->rel = strdup(*rel ? rel : ".");
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (q->dfd < 0 || !q->rel) {
		r = q->dfd < 0 ? -errno : -ENOMEM;
		q->refs = 1;
		request_unref(q);
		return r;
	}

	/* The helper takes no signal: the caller's (an attempt's interrupt, SIGTERM) are not for it. */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	r = -pthread_create(&t, &attr, helper, q);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	pthread_attr_destroy(&attr);
	if (r < 0) {
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
	if (q->done) {
		r = q->error;
		if (r == 0) {
			*ret = TAKE_PTR(q->buf);
			if (ret_len)
				*ret_len = q->len;
		}
	} else {
		q->abandoned = true;
		atomic_fetch_add(&stuck, 1);
	}
	pthread_mutex_unlock(&q->lock);
	request_unref(q);
	return r;
}
