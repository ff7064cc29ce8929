/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The forensics context (forensics.h): the store of the kernel log's page
 * dumps, what each block's attempts left behind and the blocked-page
 * tracker's journal records, an observed attempt (mo_forensics_attempt(),
 * which runs the sampler of forensics-sampler.c beside the write), reports
 * and read-only scans. What the two files share is forensics-internal.h.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <time.h>

#include "block.h"
#include "census.h"
#include "forensics-internal.h"
#include "kmsg.h"
#include "kpageflags.h"
#include "log.h"
#include "parse.h"
#include "stall.h"
#include "util.h"

#define DUMPS_MAX 512
#define SAMPLE_MIN_USEC (50 * UINT64_C(1000))
#define SAMPLE_MAX_USEC (1000 * UINT64_C(1000))
/* A census must end this long before the attempt's timer fires to count. */
#define SAMPLE_MARGIN_USEC (10 * UINT64_C(1000))

struct block_info {
	uint64_t block;
	struct mo_pin_candidate *last;   /* the blocked set of the last observed attempt */
	size_t n_last;
	struct mo_owners *owners;        /* the owners of its groups' first pages, when they were last logged */
};

struct pending_event {
	enum mo_blocked_event_type type;
	struct mo_blocked_group group;
};

/* ---- the dump store ---- */

static void store_dump(struct mo_forensics *f, const struct mo_page_dump *d)
{
	/* the same record read twice (a scan after an attempt) is stored once */
	for (size_t i = 0; i < f->n_dumps; i++)
		if (f->dumps[i].seq == d->seq && f->dumps[i].pfn == d->pfn)
			return;
	if (f->n_dumps < DUMPS_MAX) {
		f->dumps[f->n_dumps++] = *d;
		return;
	}
	f->dumps[f->dumps_next] = *d;
	f->dumps_next = (f->dumps_next + 1) % DUMPS_MAX;
}

static void attempt_failed_pfn(struct mo_forensics *f, uint64_t pfn)
{
	if (!f->att_active || pfn < f->att_first || pfn - f->att_first >= f->att_n)
		return;
	f->att_kmsg_failed++;
	for (unsigned i = 0; i < f->att_n_pfns; i++)
		if (f->att_pfns[i] == pfn)
			return;
	if (f->att_n_pfns < MO_STALL_PFNS_MAX)
		f->att_pfns[f->att_n_pfns++] = pfn;
}

static int on_kmsg_event(const struct mo_kmsg_event *ev, void *userdata)
{
	struct mo_forensics *f = userdata;

	if (ev->type == MO_KMSG_EV_DUMP && ev->dump->have_pfn)
		store_dump(f, ev->dump);
	else if (ev->type == MO_KMSG_EV_MIGRATE_FAILED)
		attempt_failed_pfn(f, ev->pfn);
	return 0;
}

void forensics_drain_kmsg(struct mo_forensics *f, struct mo_kmsg_reader *k, struct mo_dump_parser *p)
{
	struct mo_kmsg_record rec;

	/* bounded: a flood of new records cannot keep us here */
	for (unsigned i = 0; k && i < 100000; i++) {
		int r = mo_kmsg_reader_read(k, &rec);

		if (r <= 0)
			break;
		(void) mo_dump_parser_feed(p, &rec);
	}
}

/* ---- blocks ---- */

static struct block_info *block_info(struct mo_forensics *f, uint64_t block, bool create)
{
	struct block_info *nb;

	for (size_t i = 0; i < f->n_blocks; i++)
		if (f->blocks[i].block == block)
			return &f->blocks[i];
	if (!create)
		return NULL;
	nb = realloc(f->blocks, (f->n_blocks + 1) * sizeof(*nb));
	if (!nb)
		return NULL;
	f->blocks = nb;
	f->blocks[f->n_blocks] = (struct block_info) { .block = block };
	return &f->blocks[f->n_blocks++];
}

void mo_forensics_block_pfns(const struct mo_forensics *f, uint64_t block, uint64_t *first_pfn, uint64_t *n_pfns)
{
	*first_pfn = block * (f->block_size / f->page_size);
	*n_pfns = f->block_size / f->page_size;
}

int mo_forensics_kmsg_error(const struct mo_forensics *f)
{
	return f->kmsg_error;
}

/* ---- logging ---- */

static void log_group(enum mo_blocked_event_type type, const struct mo_pin_group *g, const char *job)
{
	/* last of the fields: when there is no job, the list ends one early */
	const char *job_field = job ? MO_FIELD("MEMOFF_JOB", "%s", job) : NULL;
	const struct mo_pin_page *p = g->n_pages ? &g->pages[0] : NULL;
	const struct mo_owner *w = p && p->n_owners ? &p->owners[0] : NULL;
	char desc[768], dur[MO_DURATION_MAX], flags[256];
	const char *id = MO_MESSAGE_PAGES_BLOCKED;
	int level = LOG_WARNING;

	mo_pin_group_describe(g, desc, sizeof(desc));
	mo_format_duration(g->duration / 1000000 * 1000000, dur, sizeof(dur));
	mo_kpageflags_format(g->kpageflags, flags, sizeof(flags));
	switch (type) {
	case MO_BLOCKED_EV_LONG_LIVED:
		id = MO_MESSAGE_LONG_LIVED_PIN;
		break;
	case MO_BLOCKED_EV_UPDATE:
		level = LOG_NOTICE;
		break;
	case MO_BLOCKED_EV_CLEARED:
		id = MO_MESSAGE_PAGES_UNBLOCKED;
		level = LOG_INFO;
		break;
	case MO_BLOCKED_EV_NEW:
		break;
	}

#define FIELDS(...)                                                                                     \
	MO_FIELDS(MO_FIELD("MEMOFF_BLOCK", "%" PRIu64, g->block),                                       \
		  MO_FIELD("MEMOFF_PFN", "0x%" PRIx64, g->first_pfn),                                   \
		  MO_FIELD("MEMOFF_PFN_LAST", "0x%" PRIx64, g->last_pfn),                               \
		  MO_FIELD("MEMOFF_NPAGES", "%" PRIu64, g->npages),                                     \
		  MO_FIELD("MEMOFF_FLAGS", "%s", flags),                                                \
		  MO_FIELD("MEMOFF_CLASS", "%s", mo_blocked_class_to_string(g->cls)),                   \
		  MO_FIELD("MEMOFF_DURATION_SEC", "%" PRIu64, g->duration / 1000000),                   \
		  MO_FIELD("MEMOFF_PID", "%d", w ? (int) w->pid : 0),                                   \
		  MO_FIELD("MEMOFF_COMM", "%s", w ? w->comm : "none"),                                  \
		  MO_FIELD("MEMOFF_CGROUP", "%s", w && w->cgroup ? w->cgroup : "none"),                 \
		  MO_FIELD("MEMOFF_VADDR", "0x%" PRIx64, w ? w->vaddr : 0),                             \
		  MO_FIELD("MEMOFF_MAPPING", "%s", w && w->mapping ? w->mapping : "none"),              \
		  MO_FIELD("MEMOFF_REFCOUNT", "%" PRIi64, g->have_dump ? g->dump.refcount : -1),        \
		  MO_FIELD("MEMOFF_MAPCOUNT", "%" PRIi64, g->have_dump ? g->dump.mapcount : -1),        \
		  MO_FIELD("MEMOFF_EXTRA_REFS", "%" PRIi64,                                             \
			   g->have_dump ? mo_page_dump_extra_refs(&g->dump) : -1),                      \
		  __VA_ARGS__)

	switch (type) {
	case MO_BLOCKED_EV_NEW:
		mo_log_full(level, id, FIELDS(MO_FIELD("MEMOFF_EVENT", "new"), job_field),
			    "block %" PRIu64 ": offlining blocked by %s", g->block, desc);
		break;
	case MO_BLOCKED_EV_LONG_LIVED:
		mo_log_full(level, id, FIELDS(MO_FIELD("MEMOFF_EVENT", "long-lived"), job_field),
			    "block %" PRIu64 ": long-lived reference, blocking for %s: %s", g->block, dur, desc);
		break;
	case MO_BLOCKED_EV_UPDATE:
		mo_log_full(level, id, FIELDS(MO_FIELD("MEMOFF_EVENT", "update"), job_field),
			    "block %" PRIu64 ": still blocked after %s (%s): %s", g->block, dur,
			    mo_blocked_class_to_string(g->cls), desc);
		break;
	case MO_BLOCKED_EV_CLEARED:
		mo_log_full(level, id, FIELDS(MO_FIELD("MEMOFF_EVENT", "cleared"), job_field),
			    "block %" PRIu64 ": no longer blocked after %s (%s): %s", g->block, dur,
			    mo_blocked_class_to_string(g->cls), desc);
		break;
	}
#undef FIELDS
}

void mo_forensics_log_group(enum mo_blocked_event_type type, const struct mo_pin_group *g)
{
	log_group(type, g, NULL);
}

static const struct mo_page_dump *newest_dump(const struct mo_forensics *f, uint64_t first, uint64_t last)
{
	const struct mo_page_dump *best = NULL;

	for (size_t i = 0; i < f->n_dumps; i++) {
		const struct mo_page_dump *d = &f->dumps[i];

		if (d->pfn < first || d->pfn > last)
			continue;
		if (!best || d->seq >= best->seq)
			best = d;
	}
	return best;
}

/* A tracker event: logged after the pass (log_events()), when there is a log. */
static int on_tracker_event(const struct mo_blocked_event *ev, void *userdata)
{
	struct mo_forensics *f = userdata;

	if (!f->o.log)
		return 0;
	if (f->n_events == f->cap_events) {
		size_t cap = f->cap_events ? f->cap_events * 2 : 16;
		struct pending_event *nv = reallocarray(f->events, cap, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		f->events = nv;
		f->cap_events = cap;
	}
	f->events[f->n_events++] = (struct pending_event) { .type = ev->type, .group = *ev->group };
	return 0;
}

struct pfn_list {
	uint64_t *v;
	size_t n, cap;
};

static int collect_first_pfn(const struct mo_blocked_group *g, void *userdata)
{
	struct pfn_list *l = userdata;

	if (MO_GROW(l->v, l->n, l->cap, 16) < 0)
		return -ENOMEM;
	l->v[l->n++] = g->first_pfn;
	return 0;
}

/*
 * The records of the events of a pass over @bi, one per group, each with the
 * owner of the group's first page. Owners are looked up here, once, and only
 * when there is something to log: for the block's current groups (a cleared
 * group's owner is the one found when it was last logged).
 */
static void log_events(struct mo_forensics *f, struct block_info *bi)
{
	struct pfn_list pfns = {};
	struct mo_owners *o = NULL;
	bool live = false;

	for (size_t i = 0; i < f->n_events; i++)
		live |= f->events[i].type != MO_BLOCKED_EV_CLEARED;
	if (live && mo_blocked_foreach(f->tracker, bi->block, collect_first_pfn, &pfns) >= 0 && pfns.n > 0 &&
	    mo_owners_resolve(f->root, pfns.v, pfns.n < MO_PIN_OWNERS_MAX ? pfns.n : MO_PIN_OWNERS_MAX,
			      &f->o.owners, &o) < 0)
		o = NULL;  /* no privilege: records without owners */
	free(pfns.v);

	for (size_t i = 0; i < f->n_events; i++) {
		const struct mo_blocked_group *bg = &f->events[i].group;
		struct mo_pin_page page = { .pfn = bg->first_pfn, .kpageflags = bg->flags };
		struct mo_pin_group g = {
			.block = bg->block,
			.first_pfn = bg->first_pfn,
			.last_pfn = bg->last_pfn,
			.npages = bg->npages,
			.kpageflags = bg->flags,
			.evidence = MO_PIN_EV_ATTEMPT,
			.owner_pid = bg->owner,
			.tracked = true,
			.cls = bg->cls,
			.first_seen = bg->first_seen,
			.duration = bg->duration,
			.passes = bg->passes,
			.n_pages = 1,
			.pages = &page,
		};
		const struct mo_pfn_owners *po;
		const struct mo_page_dump *d;

		po = mo_owners_find(f->events[i].type == MO_BLOCKED_EV_CLEARED ? bi->owners : o, bg->first_pfn);
		if (po) {
			/* borrowed for the record only */
			page.n_found = po->n_found;
			page.n_owners = po->n_owners;
			page.owners = po->owners;
		}
		d = newest_dump(f, bg->first_pfn, bg->last_pfn);
		if (d) {
			g.have_dump = true;
			g.dump = *d;
			g.evidence |= MO_PIN_EV_KMSG;
		}
		log_group(f->events[i].type, &g, f->o.job);
	}
	f->n_events = 0;
	if (live) {
		mo_owners_free(bi->owners);
		bi->owners = o;
	} else
		mo_owners_free(o);
}

/* ---- the context ---- */

int mo_forensics_new(const struct mo_root *root, const struct mo_forensics_opts *o, struct mo_forensics **ret)
{
	_cleanup_(mo_forensics_freep) struct mo_forensics *f = NULL;
	struct mo_blocked_opts bo = { .settle_usec = MO_BLOCKED_NO_SETTLE };
	long ps;
	int r;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->root = root;
	if (o)
		f->o = *o;
	ps = sysconf(_SC_PAGESIZE);
	f->page_size = ps > 0 ? (uint64_t) ps : 4096;
	r = mo_memory_read_block_size(root, &f->block_size);
	if (r < 0)
		return r;
	if (f->block_size < f->page_size)
		return -EINVAL;

	f->dumps = calloc(DUMPS_MAX, sizeof(*f->dumps));
	if (!f->dumps)
		return -ENOMEM;
	bo.long_lived_usec = f->o.long_lived_usec;
	bo.update_usec = f->o.update_usec;
	r = mo_blocked_tracker_new(&bo, on_tracker_event, f, &f->tracker);
	if (r < 0)
		return r;
	r = mo_dump_parser_new(on_kmsg_event, f, &f->parser);
	if (r < 0)
		return r;
	if (f->o.no_kmsg)
		f->kmsg_error = -ENOTSUP;
	else {
		r = mo_kmsg_reader_open(root, MO_KMSG_FROM_NOW, &f->kmsg);
		if (r == -ENOMEM)
			return r;
		f->kmsg_error = r < 0 ? r : 0;
	}
	*ret = TAKE_PTR(f);
	return 0;
}

void mo_forensics_free(struct mo_forensics *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n_blocks; i++) {
		free(f->blocks[i].last);
		mo_owners_free(f->blocks[i].owners);
	}
	free(f->blocks);
	free(f->events);
	free(f->dumps);
	mo_blocked_tracker_free(f->tracker);
	mo_dump_parser_free(f->parser);
	mo_kmsg_reader_free(f->kmsg);
	mo_census_reader_free(f->census);
	free(f);
}

static int cmp_candidate_pfn(const void *a, const void *b)
{
	uint64_t x = ((const struct mo_pin_candidate *) a)->pfn, y = ((const struct mo_pin_candidate *) b)->pfn;

	return x < y ? -1 : x > y;
}

/*
 * One observed attempt: @v (may be empty: nothing blocked) is the block's
 * blocked set at @t. Pages only: their owners are looked up once the pass
 * has something to log, and by the report.
 */
static int observe(struct mo_forensics *f, uint64_t block, const struct mo_pin_candidate *v, size_t n, uint64_t t)
{
	_cleanup_free_ struct mo_pin_candidate *copy = NULL;
	struct block_info *bi = block_info(f, block, true);
	int r;

	if (!bi)
		return -ENOMEM;
	if (n > 0) {
		copy = malloc(n * sizeof(*copy));
		if (!copy)
			return -ENOMEM;
		memcpy(copy, v, n * sizeof(*copy));
		qsort(copy, n, sizeof(*copy), cmp_candidate_pfn);
	}

	f->n_events = 0;
	r = mo_blocked_begin(f->tracker, block, t);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = mo_blocked_add(f->tracker, block, copy[i].pfn, copy[i].kpageflags, 0);
	if (r >= 0)
		r = mo_blocked_end(f->tracker, block);
	else
		(void) mo_blocked_end(f->tracker, block);
	log_events(f, bi);

	free(bi->last);
	bi->last = TAKE_PTR(copy);
	bi->n_last = n;
	return r < 0 ? r : 0;
}

/* What the pin store learns from an attempt (pinmem.h). */
static void remember(struct mo_forensics *f, uint64_t block, const struct mo_attempt_result *ar,
		     const struct sample *last, bool have_last)
{
	uint64_t pfns[MO_PINMEM_PFNS_MAX];
	size_t n = 0;

	if (!f->o.pinmem)
		return;
	if (mo_outcome_is_success(ar->outcome)) {
		mo_pinmem_forget(f->o.pinmem, block);
		return;
	}
	if (ar->outcome != MO_OUTCOME_STALLED && ar->outcome != MO_OUTCOME_TIMED_OUT)
		return;
	/* the kernel log's failing PFNs first: they are the pins; then what the census saw in use */
	for (unsigned i = 0; i < f->att_n_pfns && n < MO_PINMEM_PFNS_MAX; i++)
		pfns[n++] = f->att_pfns[i];
	for (size_t i = 0; have_last && i < last->n && n < MO_PINMEM_PFNS_MAX; i++)
		if (!(last->v[i].kpageflags & MO_KPF(MO_KPF_BUDDY)))
			pfns[n++] = last->v[i].pfn;
	(void) mo_pinmem_note(f->o.pinmem, block, pfns, n, (uint64_t) time(NULL));
}

int mo_forensics_attempt(void *userdata, const struct mo_root *root, uint64_t block, enum mo_action action,
			 uint64_t timeout_usec, volatile sig_atomic_t *cancel, struct mo_attempt_result *ret)
{
	struct mo_forensics *f = userdata;
	struct sampler s = {};
	pthread_condattr_t ca;
	pthread_t th;
	sigset_t all, saved;
	bool started = false;
	uint64_t t0, t_ret;
	int r;

	if (!f || action != MO_ACTION_OFFLINE || timeout_usec == 0)
		return mo_attempt_run(root, block, action, timeout_usec, cancel, ret);

	/* what the kernel logged before this attempt is not about it, but keep it */
	forensics_drain_kmsg(f, f->kmsg, f->parser);

	s.f = f;
	mo_forensics_block_pfns(f, block, &s.first_pfn, &s.n_pfns);
	f->att_first = s.first_pfn;
	f->att_n = s.n_pfns;
	f->att_kmsg_failed = 0;
	f->att_n_pfns = 0;
	f->att_active = true;
	s.period = f->o.sample_usec ? f->o.sample_usec : timeout_usec / 8;
	if (s.period < SAMPLE_MIN_USEC)
		s.period = SAMPLE_MIN_USEC;
	if (!f->o.sample_usec && s.period > SAMPLE_MAX_USEC)
		s.period = SAMPLE_MAX_USEC;
	if (f->o.stall_grace_usec > 0 && f->o.stall_grace_usec < timeout_usec) {
		s.tick = f->o.stall_grace_usec / 4;
		if (s.tick < STALL_TICK_MIN_USEC)
			s.tick = STALL_TICK_MIN_USEC;
		s.writer = pthread_self();
	}
	r = mo_census_reader_new(f->root, &s.reader);
	if (r >= 0 && pthread_mutex_init(&s.lock, NULL) == 0) {
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		if (pthread_cond_init(&s.cond, &ca) == 0) {
			t0 = mo_monotonic_usec();
			s.t0 = t0;
			s.deadline = usec_add(t0, timeout_usec > SAMPLE_MARGIN_USEC ?
						  timeout_usec - SAMPLE_MARGIN_USEC : 0);
			mo_stall_init(&s.stall, s.tick ? f->o.stall_grace_usec : 0, t0);
			/* the sampler takes no signal: SIGINT must interrupt the write, not a census */
			sigfillset(&all);
			pthread_sigmask(SIG_BLOCK, &all, &saved);
			started = pthread_create(&th, NULL, forensics_sampler_main, &s) == 0;
			pthread_sigmask(SIG_SETMASK, &saved, NULL);
			if (!started)
				pthread_cond_destroy(&s.cond);
		}
		pthread_condattr_destroy(&ca);
		if (!started)
			pthread_mutex_destroy(&s.lock);
	}

	/* the sampler owns the kernel log reader until it is joined */
	r = mo_attempt_run_stoppable(root, block, action, timeout_usec, cancel, started ? &s.stop_write : NULL,
				     ret);

	if (started) {
		pthread_mutex_lock(&s.lock);
		s.stop = true;
		pthread_cond_signal(&s.cond);
		pthread_mutex_unlock(&s.lock);
		pthread_join(th, NULL);
		pthread_cond_destroy(&s.cond);
		pthread_mutex_destroy(&s.lock);
		if (s.stop_write)
			mo_attempt_drain_signal();
	}
	mo_census_reader_free(s.reader);

	t_ret = mo_monotonic_usec();
	forensics_drain_kmsg(f, f->kmsg, f->parser);
	f->att_active = false;
	if (r >= 0) {
		if (ret->outcome == MO_OUTCOME_STALLED) {
			ret->stall = s.evidence;
			if (s.evidence.all_failed)
				ret->reason = "every page left in the block failed the kernel's last migration pass; "
					      "the kernel rolled back";
		}
		if ((ret->outcome == MO_OUTCOME_TIMED_OUT || ret->outcome == MO_OUTCOME_STALLED) && s.have_last) {
			uint64_t t = mo_monotonic_usec();

			(void) observe(f, block, s.last.v, s.last.n, s.last.t);
			mo_log_debug("block %" PRIu64 ": tracking %zu pages took %" PRIu64 "ms", block, s.last.n,
				     (mo_monotonic_usec() - t) / 1000);
		}
		else if (mo_outcome_is_success(ret->outcome) && block_info(f, block, false))
			/* offline now: whatever blocked it is gone */
			(void) observe(f, block, NULL, 0, mo_monotonic_usec());
		remember(f, block, ret, &s.last, s.have_last);
	}
	if (started)
		mo_log_debug("block %" PRIu64 ": %s: write %" PRIu64 "ms, first failure seen at %" PRIu64
			     "ms, stalled at %" PRIu64 "ms; %" PRIu64 " censuses in %" PRIu64 "ms; %" PRIu64
			     "ms after the write", block, mo_outcome_to_string(ret->outcome), ret->usec / 1000,
			     s.t_first_fail ? (s.t_first_fail - s.t0) / 1000 : 0,
			     s.t_stalled ? (s.t_stalled - s.t0) / 1000 : 0, s.n_census, s.census_usec / 1000,
			     (mo_monotonic_usec() - t_ret) / 1000);
	free(s.cur.v);
	free(s.last.v);
	return r;
}

/* ---- reports ---- */

int mo_forensics_report(struct mo_forensics *f, uint64_t block, struct mo_pin_report **ret)
{
	struct block_info *bi = block_info(f, block, false);
	uint64_t first, n, t = mo_monotonic_usec();
	int r;

	forensics_drain_kmsg(f, f->kmsg, f->parser);
	mo_forensics_block_pfns(f, block, &first, &n);
	r = mo_pin_report_build(f->root, block, first, n, bi ? bi->last : NULL, bi ? bi->n_last : 0, f->dumps,
				f->n_dumps, f->tracker, &f->o.owners, ret);
	mo_log_debug("block %" PRIu64 ": the blocked-page report took %" PRIu64 "ms", block,
		     (mo_monotonic_usec() - t) / 1000);
	if (r < 0)
		return r;
	(*ret)->kmsg_error = f->kmsg_error;
	return 0;
}

struct scan_ctx {
	struct mo_pin_candidate *v;
	size_t n, cap;
	bool only_flags;      /* keep pages whose flags say they would block */
	uint64_t evidence;    /* added to every page kept */
};

static int scan_cb(uint64_t pfn, uint64_t flags, void *userdata)
{
	struct scan_ctx *c = userdata;
	unsigned ev = mo_pin_flags_evidence(flags);

	if (c->only_flags && !ev)
		return 0;
	if (MO_GROW(c->v, c->n, c->cap, 256) < 0)
		return -ENOMEM;
	c->v[c->n++] = (struct mo_pin_candidate) { .pfn = pfn, .kpageflags = flags,
						   .evidence = ev | (unsigned) c->evidence };
	return 0;
}

static void scan_kmsg_once(struct mo_forensics *f)
{
	_cleanup_(mo_kmsg_reader_freep) struct mo_kmsg_reader *k = NULL;
	_cleanup_(mo_dump_parser_freep) struct mo_dump_parser *p = NULL;
	int r;

	if (f->kmsg_scanned || f->o.no_kmsg)
		return;
	f->kmsg_scanned = true;
	r = mo_kmsg_reader_open(f->root, MO_KMSG_FROM_START, &k);
	if (r < 0) {
		f->kmsg_error = r;
		return;
	}
	if (mo_dump_parser_new(on_kmsg_event, f, &p) < 0)
		return;
	forensics_drain_kmsg(f, k, p);
	(void) mo_dump_parser_flush(p);
	f->kmsg_error = 0;
}

int mo_forensics_scan(struct mo_forensics *f, uint64_t block, struct mo_pin_report **ret)
{
	struct scan_ctx c = { .only_flags = true };
	struct block_info *bi = block_info(f, block, false);
	uint64_t first, n;
	int r, census_error = 0;

	mo_forensics_block_pfns(f, block, &first, &n);
	scan_kmsg_once(f);
	forensics_drain_kmsg(f, f->kmsg, f->parser);

	if (!f->census && !f->census_error) {
		r = mo_census_reader_new(f->root, &f->census);
		if (r < 0)
			f->census_error = r;
	}
	if (f->census) {
		/* pages the flags say would block */
		r = mo_census_pfns(f->census, first, n, scan_cb, &c);
		if (r == -ENOMEM)
			goto fail;
		if (r < 0)
			census_error = r;
		/* pages the kernel failed to migrate, if still in use (any flags) */
		c.only_flags = false;
		c.evidence = MO_PIN_EV_KMSG;
		for (size_t i = 0; i < f->n_dumps && census_error == 0; i++) {
			const struct mo_page_dump *d = &f->dumps[i];
			uint64_t span = d->order > 0 && d->order < 31 ? UINT64_C(1) << d->order : 1;

			if (d->pfn < first || d->pfn - first >= n)
				continue;
			if (span > n - (d->pfn - first))
				span = n - (d->pfn - first);
			r = mo_census_pfns(f->census, d->pfn, span, scan_cb, &c);
			if (r == -ENOMEM)
				goto fail;
		}
	} else
		census_error = f->census_error;

	/* and what attempts in this context saw */
	for (size_t i = 0; bi && i < bi->n_last; i++) {
		c.only_flags = false;
		c.evidence = MO_PIN_EV_ATTEMPT;
		r = scan_cb(bi->last[i].pfn, bi->last[i].kpageflags, &c);
		if (r < 0)
			goto fail;
	}

	r = mo_pin_report_build(f->root, block, first, n, c.v, c.n, f->dumps, f->n_dumps, NULL, &f->o.owners, ret);
	free(c.v);
	if (r < 0)
		return r;
	(*ret)->kmsg_error = f->kmsg_error;
	(*ret)->census_error = census_error;
	return 0;
fail:
	free(c.v);
	return -ENOMEM;
}
