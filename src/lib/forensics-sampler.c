/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sampler: the thread that runs beside an offline attempt's write
 * (forensics.h, mo_forensics_attempt()). It takes the census of the block's
 * pages in use every sample period, keeping the last one taken before the
 * attempt's timer fired as the blocked set, and, with a stall grace, watches
 * the kernel's progress (stall.h) and ends a stalled write with its evidence.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#include "forensics-internal.h"
#include "kpageflags.h"
#include "log.h"
#include "util.h"

/* Once stalled, the write is signalled again this often until it has returned. */
#define STALL_RESIGNAL_USEC (20 * UINT64_C(1000))

static int sample_cb(uint64_t pfn, uint64_t flags, void *userdata)
{
	struct sample *s = userdata;

	/* pages with no flag at all are free-or-unknown (census.h): not blocked pages */
	if (flags == 0)
		return 0;
	if (MO_GROW(s->v, s->n, s->cap, 1024) < 0)
		return -ENOMEM;
	s->v[s->n++] = (struct mo_pin_candidate) { .pfn = pfn, .kpageflags = flags, .evidence = MO_PIN_EV_ATTEMPT };
	if (!(flags & MO_KPF(MO_KPF_BUDDY)))
		s->in_use++;
	return 0;
}

/* One census of the block into s->cur; the blocked set when it ran while the range was isolated. */
static int take_census(struct sampler *s, uint64_t *in_use)
{
	uint64_t t_start, t_end;
	int r;

	s->cur.n = 0;
	s->cur.in_use = 0;
	t_start = mo_monotonic_usec();
	r = mo_census_pfns(s->reader, s->first_pfn, s->n_pfns, sample_cb, &s->cur);
	t_end = mo_monotonic_usec();
	s->n_census++;
	s->census_usec += t_end - t_start;
	if (r < 0)
		return r;
	*in_use = s->cur.in_use;
	if (t_end <= s->deadline) {
		struct sample tmp = s->last;

		pthread_mutex_lock(&s->lock);
		s->last = s->cur;
		s->last.t = t_start;
		s->have_last = true;
		pthread_mutex_unlock(&s->lock);
		s->cur = tmp;
	}
	return 0;
}

/*
 * The kernel's progress now: /proc/vmstat's migration counters and the kernel
 * log (cheap), and the census of the block (a read of every page's flags,
 * tens of ms under emulation, taken from the kernel's own migration on a
 * small machine) only while migration is failing, when the pages in use are
 * what tells a slow block from a stalled one. True once the attempt has
 * stalled.
 */
static int watch(struct sampler *s, bool *ret_stalled)
{
	struct mo_stall_sample x = { .t = mo_monotonic_usec() };
	bool failed_now;
	int r;

	x.have_vmstat = mo_vmstat_read_migrate(s->f->root, &x.migrate_success, &x.migrate_fail) == 0;
	forensics_drain_kmsg(s->f, s->f->kmsg, s->f->parser);
	x.kmsg_failed = s->f->att_kmsg_failed;
	failed_now = (x.have_vmstat && s->have_counters && x.migrate_fail > s->last_fail) ||
		     x.kmsg_failed > s->last_kmsg_failed;
	if (s->stall.failing || failed_now) {
		r = take_census(s, &x.in_use);
		if (r < 0)
			return r;
		x.have_census = true;
	}
	if (x.have_vmstat && s->have_counters &&
	    (x.migrate_success != s->last_success || x.migrate_fail != s->last_fail))
		mo_log_debug("block %" PRIu64 ": +%" PRIu64 "ms: pgmigrate_success +%" PRIu64 ", pgmigrate_fail +%"
			     PRIu64 ", %" PRIu64 " failures logged, %" PRIu64 " pages in use",
			     s->first_pfn / (s->f->block_size / s->f->page_size), (x.t - s->t0) / 1000, x.migrate_success - s->last_success, x.migrate_fail - s->last_fail,
			     x.kmsg_failed, x.in_use);
	if (x.have_vmstat) {
		s->have_counters = true;
		s->last_success = x.migrate_success;
		s->last_fail = x.migrate_fail;
	}
	s->last_kmsg_failed = x.kmsg_failed;
	*ret_stalled = mo_stall_feed(&s->stall, &x);
	if (!s->t_first_fail && (failed_now || s->stall.failing))
		s->t_first_fail = x.t;
	return 0;
}

static void stalled(struct sampler *s)
{
	struct mo_stall_evidence *e = &s->evidence;
	const struct mo_forensics *f = s->f;

	e->grace_usec = s->stall.grace_usec;
	e->all_failed = s->stall.all_failed;
	mo_stall_evidence(&s->stall, &e->migrate_success, &e->migrate_fail);
	e->kmsg_failed = f->att_kmsg_failed;
	e->n_pfns = 0;
	for (unsigned i = 0; i < f->att_n_pfns && e->n_pfns < MO_STALL_PFNS_MAX; i++)
		e->pfns[e->n_pfns++] = f->att_pfns[i];
	if (s->have_last) {
		e->n_blocked = s->last.in_use;
		for (size_t i = 0; i < s->last.n && e->n_pfns < MO_STALL_PFNS_MAX; i++) {
			bool dup = s->last.v[i].kpageflags & MO_KPF(MO_KPF_BUDDY);

			for (unsigned k = 0; k < e->n_pfns && !dup; k++)
				dup = e->pfns[k] == s->last.v[i].pfn;
			if (!dup)
				e->pfns[e->n_pfns++] = s->last.v[i].pfn;
		}
	}
	s->stop_write = 1;
}

void *forensics_sampler_main(void *userdata)
{
	struct sampler *s = userdata;
	uint64_t start = mo_monotonic_usec(), next_census, next_tick = start + s->tick;
	bool is_stalled = false;
	int r;

	/*
	 * The census is the blocked set when an attempt times out. With stall
	 * detection, a stalled attempt takes its own (watch()), so the periodic
	 * one starts only halfway to the timeout: an attempt that goes well
	 * pays for none.
	 */
	next_census = usec_add(start, s->tick && s->deadline > start ? (s->deadline - start) / 2 : s->period);
	if (s->tick) {
		bool ignored;

		r = watch(s, &ignored);   /* the counters before anything moved */
		if (r < 0) {
			s->error = r;
			return NULL;
		}
	}

	pthread_mutex_lock(&s->lock);
	for (;;) {
		uint64_t wake = s->tick && next_tick < next_census ? next_tick : next_census, t, in_use;
		struct timespec ts = {
			.tv_sec = (time_t) (wake / 1000000),
			.tv_nsec = (long) (wake % 1000000) * 1000,
		};

		while (!s->stop && pthread_cond_timedwait(&s->cond, &s->lock, &ts) != ETIMEDOUT)
			;
		if (s->stop)
			break;
		pthread_mutex_unlock(&s->lock);
		t = mo_monotonic_usec();
		if (is_stalled) {
			/* again until the write has returned: one signal may land before it entered the kernel */
			pthread_kill(s->writer, MO_ATTEMPT_SIGNAL);
			next_tick = t + STALL_RESIGNAL_USEC;
			pthread_mutex_lock(&s->lock);
			continue;
		}
		if (t >= next_census) {
			r = take_census(s, &in_use);
			if (r < 0) {
				pthread_mutex_lock(&s->lock);
				s->error = r;
				break;
			}
			next_census = t + s->period;
		}
		if (s->tick && t >= next_tick) {
			r = watch(s, &is_stalled);
			if (r < 0) {
				pthread_mutex_lock(&s->lock);
				s->error = r;
				break;
			}
			/* once migration fails, look closely: the grace is what matters now */
			next_tick = t + (s->stall.failing ? STALL_TICK_MIN_USEC : s->tick);
			if (is_stalled) {
				s->t_stalled = mo_monotonic_usec();
				stalled(s);
				pthread_kill(s->writer, MO_ATTEMPT_SIGNAL);
				next_tick = t + STALL_RESIGNAL_USEC;
			}
		}
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}
