/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>

#include "block.h"
#include "forensics.h"
#include "pinscan.h"
#include "util.h"

struct pin_scan {
	int refs;                       /* the loop's and the thread's; atomic */
	int efd;                        /* the thread writes it when done */
	sd_event_source *source;        /* loop side */
	pin_scan_done_t done;
	void *userdata;
	/* the thread's */
	struct mo_root *root;
	uint64_t *blocks;
	size_t n;
	bool kmsg;
	/* the result, written by the thread before it writes @efd */
	int error;
	struct mo_pin_report **reports;
	size_t n_reports;
};

static void unref(struct pin_scan *s)
{
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; i < s->n_reports; i++)
		mo_pin_report_free(s->reports[i]);
	free(s->reports);
	if (s->efd >= 0)
		close(s->efd);
	mo_root_free(s->root);
	free(s->blocks);
	free(s);
}

static int scan(struct pin_scan *s)
{
	_cleanup_(mo_forensics_freep) struct mo_forensics *f = NULL;
	const struct mo_forensics_opts fo = { .no_kmsg = !s->kmsg };
	int r;

	r = mo_forensics_new(s->root, &fo, &f);
	if (r < 0)
		return r;
	s->reports = calloc(s->n ? s->n : 1, sizeof(*s->reports));
	if (!s->reports)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++) {
		enum mo_state st = MO_STATE_UNKNOWN;

		r = mo_block_read_state(s->root, s->blocks[i], &st);
		if (r < 0)
			return r;
		/* an offline block has nothing in use */
		if (st == MO_STATE_OFFLINE)
			continue;
		r = mo_forensics_scan(f, s->blocks[i], &s->reports[s->n_reports]);
		if (r < 0)
			return r;
		s->n_reports++;
	}
	return 0;
}

static void *thread_main(void *userdata)
{
	struct pin_scan *s = userdata;
	uint64_t one = 1;

	s->error = scan(s);
	(void) !write(s->efd, &one, sizeof(one));
	unref(s);
	return NULL;
}

static int on_done(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct pin_scan *s = userdata;
	struct mo_pin_report **reports = s->error < 0 ? NULL : TAKE_PTR(s->reports);
	size_t n = reports ? s->n_reports : 0;

	s->n_reports = reports ? 0 : s->n_reports;
	s->source = sd_event_source_disable_unref(s->source);
	if (s->done)
		s->done(s, s->error, reports, n, s->userdata);
	else {
		for (size_t i = 0; i < n; i++)
			mo_pin_report_free(reports[i]);
		free(reports);
	}
	unref(s);
	return 0;
}

int pin_scan_start(sd_event *event, const struct mo_root *root, const uint64_t *blocks, size_t n, bool kmsg,
		   pin_scan_done_t done, void *userdata, struct pin_scan **ret)
{
	struct pin_scan *s;
	sigset_t all, saved;
	pthread_attr_t attr;
	pthread_t t;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->refs = 1;
	s->efd = -1;
	s->done = done;
	s->userdata = userdata;
	s->kmsg = kmsg;
	s->n = n;
	s->blocks = malloc((n ? n : 1) * sizeof(*blocks));
	if (!s->blocks) {
		unref(s);
		return -ENOMEM;
	}
	memcpy(s->blocks, blocks, n * sizeof(*blocks));
	r = mo_root_new(root->sysroot, root->procroot, &s->root);
	if (r < 0) {
		unref(s);
		return r;
	}
	s->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->efd < 0) {
		r = -errno;
		unref(s);
		return r;
	}
	r = sd_event_add_io(event, &s->source, s->efd, EPOLLIN, on_done, s);
	if (r < 0) {
		unref(s);
		return r;
	}
	(void) sd_event_source_set_description(s->source, "pin-scan");

	/* The thread blocks every signal: they are the loop's (signalfd) and the job worker's. */
	s->refs = 2;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	r = -pthread_create(&t, &attr, thread_main, s);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	pthread_attr_destroy(&attr);
	if (r < 0) {
		s->refs = 1;
		s->source = sd_event_source_disable_unref(s->source);
		unref(s);
		return r;
	}
	*ret = s;
	return 0;
}

void pin_scan_abandon(struct pin_scan *s)
{
	if (!s)
		return;
	s->done = NULL;
	s->source = sd_event_source_disable_unref(s->source);
	unref(s);
}
