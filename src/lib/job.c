/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>

#include "engine-hooks.h"
#include "job.h"
#include "util.h"
#include "zoneinfo.h"

struct entry {
	struct mo_block_result r;
	uint64_t next_try;      /* not before (monotonic µs) */
	bool final;             /* nothing more to do on this block */
	bool taken;             /* this request changed its state and it still is changed */
};

struct mo_job {
	const struct mo_root *root;
	struct mo_job_request req;
	uint64_t *blocks;
	struct mo_job_options o;
	const struct mo_memory *mem;
	struct mo_memory *own_mem;  /* loaded here; NULL when the caller lent its model (req->mem) */
	struct mo_iomem io;
	bool have_io;
	struct mo_census_reader *cr;
	struct mo_block_range *ranges; /* SIZE on an unlisted model: where candidates can be */
	size_t n_ranges;
	struct mo_selection sel;    /* SIZE: more candidates come from here as blocks fail */
	struct entry *e;
	size_t n, cap;
	struct mo_job_result res;
	uint64_t rng;
	uint64_t t0, deadline;
	bool ran;
};

static const char *const stop_names[_MO_STOP_MAX] = {
	[MO_STOP_FINISHED] = "finished",
	[MO_STOP_DEADLINE] = "deadline reached",
	[MO_STOP_CANCELLED] = "cancelled",
	[MO_STOP_HEADROOM] = "cut short by the headroom guard",
	[MO_STOP_EXHAUSTED] = "no block left to try",
	[MO_STOP_ERROR] = "cannot write the state files",
};

const char *mo_job_stop_to_string(enum mo_job_stop s)
{
	if ((unsigned) s >= _MO_STOP_MAX)
		return "unknown";
	return stop_names[s];
}

void mo_job_options_init(struct mo_job_options *o)
{
	*o = (struct mo_job_options) {
		.attempt_timeout_usec = MO_JOB_ATTEMPT_TIMEOUT_USEC,
		.deadline_usec = MO_JOB_DEADLINE_USEC,
		.reserve = MO_JOB_RESERVE_DEFAULT,
		.node = -1,
	};
	mo_backoff_default(&o->backoff, 0);
}

static uint64_t now(struct mo_job *j)
{
	return j->o.hooks.now(j->o.hooks.userdata);
}

static bool cancelled(const struct mo_job *j)
{
	return j->o.cancel && *j->o.cancel;
}

/* ---- planning ---- */

void mo_job_free(struct mo_job *j)
{
	if (!j)
		return;
	free(j->res.blocks);
	free(j->e);
	free(j->blocks);
	mo_selection_done(&j->sel);
	mo_census_reader_free(j->cr);
	free(j->ranges);
	if (j->have_io)
		mo_iomem_done(&j->io);
	mo_memory_free(j->own_mem);
	free(j);
}

const struct mo_job_result *mo_job_result(const struct mo_job *j)
{
	return &j->res;
}

static enum mo_action block_action(const struct mo_job *j, const struct mo_block_result *b)
{
	if (j->req.action != MO_ACTION_OFFLINE && j->req.prefer_movable && b->movable_zone)
		return MO_ACTION_ONLINE_MOVABLE;
	return j->req.action;
}

/* Entries for the selection's candidates from @j->n on. */
static int build_entries(struct mo_job *j)
{
	const struct mo_selection *sel = &j->sel;

	if (sel->n + 1 > j->cap) {
		size_t cap = sel->n + 1 > 2 * j->cap ? sel->n + 1 : 2 * j->cap;
		struct entry *p = reallocarray(j->e, cap, sizeof(*p));

		if (!p)
			return -ENOMEM;
		j->e = p;
		j->cap = cap;
	}
	for (size_t i = j->n; i < sel->n; i++) {
		const struct mo_candidate *c = &sel->c[i];
		struct entry *e = &j->e[i];
		enum mo_state target = j->req.action == MO_ACTION_OFFLINE ? MO_STATE_OFFLINE : MO_STATE_ONLINE;

		*e = (struct entry) {};
		e->r = (struct mo_block_result) {
			.index = c->index,
			.start = c->start,
			.size = c->size,
			.node = c->node,
			.outcome = MO_OUTCOME_NOT_TRIED,
			.reason = "not tried",
			.movable_zone = c->movable_zone,
			.managed = c->managed,
			.have_census = c->have_census,
			.census = c->census,
			.tier = c->tier,
			.pinned = c->pinned,
		};
		e->r.action = block_action(j, &e->r);
		if (c->state == target) {
			e->r.outcome = MO_OUTCOME_ALREADY;
			e->r.reason = target == MO_STATE_OFFLINE ? "already offline" : "already online";
			e->final = true;
		} else if (c->managed && !j->o.force) {
			e->r.outcome = MO_OUTCOME_SKIPPED;
			e->r.reason = "driver-managed memory (virtio-mem, kmem): left alone without --force";
			e->final = true;
		}
		j->n = i + 1;
	}
	j->res.n_candidates = sel->n_eligible;
	j->res.n_examined = sel->n_examined;
	j->res.plan_complete = sel->complete;
	memcpy(j->res.skipped, sel->skipped, sizeof(j->res.skipped));
	if (sel->census_error)
		j->res.census_error = sel->census_error;
	return 0;
}

/*
 * A SIZE request needs another candidate (a block failed, or a dry run went
 * past one): look at more blocks. Return: how many entries were added.
 */
static size_t extend(struct mo_job *j)
{
	size_t before = j->n;

	if (!j->sel.scan || mo_select_more(&j->sel, 1) <= 0)
		return 0;
	if (build_entries(j) < 0)
		return 0;
	return j->n - before;
}

/*
 * The block indexes an offline SIZE request can find candidates in: the
 * allowed zones' spans. Return: how many ranges (0: unknown or none, list the
 * blocks instead: the report then says why none is eligible).
 */
static size_t zone_ranges(struct mo_job *j, struct mo_select_options *so)
{
	_cleanup_free_ struct mo_zone_span *spans = NULL;
	size_t n_spans = 0;

	if (mo_zoneinfo_read(j->root, &spans, &n_spans) < 0 ||
	    mo_select_zone_ranges(spans, n_spans, j->mem->block_size, so, &j->ranges, &j->n_ranges) < 0)
		return 0;
	so->ranges = j->ranges;
	so->n_ranges = j->n_ranges;
	return j->n_ranges;
}

int mo_job_new(const struct mo_root *root, const struct mo_job_request *req, const struct mo_job_options *o,
	       struct mo_job **ret, char **error)
{
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	struct mo_select_options so;
	uint64_t bad = 0;
	int r;

	if (error)
		*error = NULL;
	if ((unsigned) req->action >= _MO_ACTION_MAX)
		return mo_engine_fail(error, -EINVAL, "unknown action");
	if ((req->size == 0) == (req->n_blocks == 0))
		return mo_engine_fail(error, -EINVAL, "a request names either a size or blocks");
	if (o->all_or_nothing && req->action != MO_ACTION_OFFLINE)
		return mo_engine_fail(error, -EINVAL, "all-or-nothing applies to offline requests only");

	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->root = root;
	j->req = *req;
	j->o = *o;
	if (mo_engine_limits_fill(&j->o.attempt_timeout_usec, &j->o.deadline_usec, &j->o.backoff) < 0)
		return mo_engine_fail(error, -EINVAL, "invalid backoff parameters");
	mo_engine_hooks_fill(&j->o.hooks);
	j->rng = mo_rng_init(j->o.backoff.seed);

	if (req->n_blocks) {
		j->blocks = malloc(req->n_blocks * sizeof(*j->blocks));
		if (!j->blocks)
			return -ENOMEM;
		memcpy(j->blocks, req->blocks, req->n_blocks * sizeof(*j->blocks));
		j->req.blocks = j->blocks;
	}

	/*
	 * The blocks are read as the plan looks at them, not all up front: an
	 * offline SIZE request looks only inside the allowed zones' spans
	 * (/proc/zoneinfo), without even listing the blocks; other requests
	 * list them. A caller that has just loaded the model lends it.
	 */
	j->req.mem = NULL;
	if (req->mem)
		j->mem = req->mem;
	else {
		r = mo_memory_open(root, &j->own_mem);
		if (r < 0)
			return mo_engine_fail(error, r, "cannot read the memory blocks under %s/sys/" MO_SYSFS_MEMORY ": %s",
				    streq(root->sysroot, "/") ? "" : root->sysroot, strerror(-r));
		j->mem = j->own_mem;
	}
	so = (struct mo_select_options) {
		.action = req->action,
		.zones = o->zones,
		.n_zones = o->n_zones,
		.node = o->node,
		.pinmem = o->pinmem,
		.excluded = o->excluded,
		.n_excluded = o->n_excluded,
	};
	if (j->mem->unlisted && !(req->size && req->action == MO_ACTION_OFFLINE && zone_ranges(j, &so) > 0)) {
		struct mo_memory *listed = NULL;

		r = mo_memory_enumerate(root, &listed);
		if (r < 0)
			return mo_engine_fail(error, r, "cannot read the memory blocks under %s/sys/" MO_SYSFS_MEMORY ": %s",
				    streq(root->sysroot, "/") ? "" : root->sysroot, strerror(-r));
		mo_memory_free(j->own_mem);
		j->own_mem = listed;
		j->mem = listed;
		so.ranges = NULL;
		so.n_ranges = 0;
	}
	if (req->size % j->mem->block_size != 0)
		return mo_engine_fail(error, -EINVAL, "size %" PRIu64 " is not a multiple of the block size %" PRIu64,
			    req->size, j->mem->block_size);

	if (mo_iomem_read(root, &j->io) == 0)
		j->have_io = true;
	if (req->action == MO_ACTION_OFFLINE) {
		r = mo_census_reader_new(root, &j->cr);
		if (r < 0)
			j->res.census_error = r;
	}

	if (req->n_blocks) {
		r = mo_select_named(root, j->mem, j->blocks, req->n_blocks, j->have_io ? &j->io : NULL, j->cr, &so,
				    &j->sel, &bad);
		if (r == -ENOENT)
			return mo_engine_fail(error, r, "block %" PRIu64 " does not exist", bad);
	} else
		r = mo_select_size(root, j->mem, j->have_io ? &j->io : NULL, j->cr, &so,
				   (size_t) (req->size / j->mem->block_size), &j->sel);
	if (r < 0)
		return mo_engine_fail(error, r, "cannot select blocks: %s", strerror(-r));

	r = build_entries(j);
	if (r < 0)
		return r;

	j->res.action = req->action;
	j->res.dry_run = o->dry_run;
	j->res.size_request = req->size > 0;
	j->res.block_size = j->mem->block_size;
	j->res.n_memory_blocks = j->mem->n_blocks;
	j->res.wanted_blocks = req->size ? req->size / j->mem->block_size : j->n;
	j->res.wanted_bytes = j->res.wanted_blocks * j->mem->block_size;
	j->res.stop = MO_STOP_EXHAUSTED;
	j->res.stop_reason = stop_names[MO_STOP_EXHAUSTED];
	*ret = TAKE_PTR(j);
	return 0;
}

/* ---- running ---- */

static void count(struct mo_job *j)
{
	uint64_t done = 0, taken = 0;

	for (size_t i = 0; i < j->n; i++) {
		enum mo_outcome oc = j->e[i].r.outcome;

		if (oc == MO_OUTCOME_DONE || oc == MO_OUTCOME_ALREADY || oc == MO_OUTCOME_PLANNED)
			done++;
		if (oc == MO_OUTCOME_DONE || oc == MO_OUTCOME_PLANNED)
			taken++;
	}
	j->res.done_blocks = done;
	j->res.done_bytes = done * j->res.block_size;
	j->res.taken_blocks = taken;
}

static void progress_full(struct mo_job *j, enum mo_job_phase phase, const struct entry *e, enum mo_outcome oc,
			  uint64_t wait, const struct mo_attempt_result *ar)
{
	struct mo_job_progress p;
	uint64_t t;

	if (!j->o.progress)
		return;
	count(j);
	p = (struct mo_job_progress) {
		.phase = phase,
		.done_blocks = j->res.done_blocks,
		.wanted_blocks = j->res.wanted_blocks,
		.done_bytes = j->res.done_bytes,
		.wanted_bytes = j->res.wanted_bytes,
		.block = e ? e->r.index : UINT64_MAX,
		.attempt = e ? e->r.attempts + (phase == MO_PHASE_ATTEMPT) : 0,
		.outcome = oc,
		.wait_usec = wait,
	};
	t = now(j);
	p.elapsed_usec = t - j->t0;
	if (ar) {
		p.reason = ar->reason;
		p.error = ar->error;
		p.attempt_usec = ar->usec;
		p.stall = ar->stall;
		if (e && !e->final && e->next_try > t)
			p.next_usec = e->next_try - t;
	}
	j->o.progress(&p, j->o.progress_userdata);
}

static void progress(struct mo_job *j, enum mo_job_phase phase, const struct entry *e, enum mo_outcome oc,
		     uint64_t wait)
{
	progress_full(j, phase, e, oc, wait, NULL);
}

static void stop(struct mo_job *j, enum mo_job_stop s, const char *why)
{
	j->res.stop = s;
	j->res.stop_reason = why ? why : stop_names[s];
}

/* The reserve in bytes, once the headroom is known. */
static uint64_t reserve(struct mo_job *j)
{
	if (j->o.reserve != MO_JOB_RESERVE_DEFAULT)
		return j->o.reserve;
	return mo_headroom_default_reserve(j->res.headroom.mem_total);
}

static int read_headroom(struct mo_job *j, struct mo_headroom *h)
{
	*h = (struct mo_headroom) {};
	return j->o.hooks.headroom(j->o.hooks.userdata, j->root, h);
}

static bool guarded(const struct mo_job *j)
{
	return j->req.action == MO_ACTION_OFFLINE && !j->o.force;
}

static void collect(struct mo_job *j)
{
	size_t n = 0;

	count(j);
	free(j->res.blocks);
	j->res.blocks = calloc(j->n ? j->n : 1, sizeof(*j->res.blocks));
	j->res.n_blocks = 0;
	if (!j->res.blocks)
		return;
	for (size_t i = 0; i < j->n; i++) {
		const struct entry *e = &j->e[i];

		/* A SIZE request reports what it touched (or would touch), not every candidate. */
		if (j->req.size && e->r.outcome == MO_OUTCOME_NOT_TRIED)
			continue;
		j->res.blocks[n++] = e->r;
	}
	j->res.n_blocks = n;
}

#define HEADROOM_UNREADABLE "cannot read the memory statistics (meminfo) for the headroom guard"

/*
 * Before the first block of an offline request: the headroom and the
 * reserve, when meminfo can be read. Return: false when the guard is on and
 * it cannot (the job is then stopped).
 */
static bool start_headroom(struct mo_job *j)
{
	if (j->req.action != MO_ACTION_OFFLINE)
		return true;
	if (read_headroom(j, &j->res.headroom) == 0) {
		j->res.have_headroom = true;
		j->res.reserve = reserve(j);
	} else if (guarded(j)) {
		stop(j, MO_STOP_HEADROOM, HEADROOM_UNREADABLE);
		return false;
	}
	return true;
}

static int dry_run(struct mo_job *j)
{
	struct mo_headroom sim = {};
	uint64_t planned = 0, already = 0;

	for (size_t i = 0; i < j->n; i++)
		if (j->e[i].r.outcome == MO_OUTCOME_ALREADY)
			already++;

	if (!start_headroom(j))
		goto out;
	sim = j->res.headroom;

	for (size_t i = 0; i < j->n || (j->req.size && planned + already < j->res.wanted_blocks && extend(j)); i++) {
		struct entry *e = &j->e[i];
		const char *why = NULL;

		if (e->final)
			continue;
		if (j->req.size && planned + already >= j->res.wanted_blocks)
			break;
		if (guarded(j) && mo_headroom_check(&sim, e->r.node, e->r.size, j->res.reserve, &why) < 0) {
			e->r.outcome = MO_OUTCOME_HEADROOM;
			e->r.reason = why ? why : "would breach the memory reserve";
			stop(j, MO_STOP_HEADROOM, e->r.reason);
			goto out;
		}
		if (j->res.have_headroom)
			mo_headroom_account(&sim, e->r.node, e->r.size);
		e->r.outcome = MO_OUTCOME_PLANNED;
		e->r.reason = j->req.action == MO_ACTION_OFFLINE ? "would be offlined" : "would be onlined";
		planned++;
	}
	if (planned + already >= j->res.wanted_blocks)
		stop(j, MO_STOP_FINISHED, NULL);
	else
		stop(j, MO_STOP_EXHAUSTED, j->req.size ? "not enough eligible blocks" : NULL);
out:
	j->res.headroom_after = sim;
	return 0;
}

/* The next block to try: fewest attempts first, then rank; only those due by @t. */
static struct entry *pick(struct mo_job *j, uint64_t t, uint64_t *earliest)
{
	struct entry *best = NULL;

	*earliest = UINT64_MAX;
	for (size_t i = 0; i < j->n; i++) {
		struct entry *e = &j->e[i];

		if (e->final)
			continue;
		if (e->next_try > t) {
			if (e->next_try < *earliest)
				*earliest = e->next_try;
			continue;
		}
		if (!best || e->r.attempts < best->r.attempts)
			best = e;
	}
	return best;
}

static void rollback(struct mo_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		struct entry *e = &j->e[i];
		struct mo_attempt_result ar;
		enum mo_action a;

		if (!e->taken)
			continue;
		progress(j, MO_PHASE_ROLLBACK, e, MO_OUTCOME_DONE, 0);
		a = e->r.movable_zone ? MO_ACTION_ONLINE_MOVABLE : MO_ACTION_ONLINE;
		/* No cancel flag: a cancelled request still gets its blocks back. */
		(void) j->o.hooks.attempt(j->o.hooks.userdata, j->root, e->r.index, a,
					  j->o.attempt_timeout_usec, NULL, &ar);
		if (ar.outcome == MO_OUTCOME_INVALID && a == MO_ACTION_ONLINE_MOVABLE)
			(void) j->o.hooks.attempt(j->o.hooks.userdata, j->root, e->r.index, MO_ACTION_ONLINE,
						  j->o.attempt_timeout_usec, NULL, &ar);
		j->res.rolled_back = true;
		if (mo_outcome_is_success(ar.outcome)) {
			e->taken = false;
			e->r.outcome = MO_OUTCOME_ROLLED_BACK;
			e->r.reason = "put back online (all-or-nothing)";
		} else {
			j->res.rollback_failed = true;
			e->r.reason = "offlined; putting it back online failed";
			e->r.error = ar.error;
		}
	}
}

static int execute(struct mo_job *j)
{
	const struct mo_backoff *b = &j->o.backoff;

	if (!start_headroom(j))
		return 0;

	for (;;) {
		struct mo_attempt_result ar;
		struct entry *e;
		uint64_t t, earliest, timeout;

		count(j);
		if (j->res.done_blocks >= j->res.wanted_blocks) {
			stop(j, MO_STOP_FINISHED, NULL);
			break;
		}
		if (cancelled(j)) {
			stop(j, MO_STOP_CANCELLED, NULL);
			break;
		}
		t = now(j);
		e = pick(j, t, &earliest);
		/* Every block gets its first attempt before any gets a second: look further first. */
		if ((!e || e->r.attempts > 0) && extend(j))
			continue;
		if (!e) {
			uint64_t wait;

			if (earliest == UINT64_MAX) {
				stop(j, MO_STOP_EXHAUSTED, j->req.size ? "no eligible block left to try" : NULL);
				break;
			}
			if (earliest >= j->deadline) {
				stop(j, MO_STOP_DEADLINE, NULL);
				break;
			}
			wait = mo_deadline_sleep(t, earliest, j->deadline);
			progress(j, MO_PHASE_WAIT, NULL, MO_OUTCOME_NOT_TRIED, wait);
			if (j->o.hooks.sleep(j->o.hooks.userdata, wait, j->o.cancel) == -ECANCELED) {
				stop(j, MO_STOP_CANCELLED, NULL);
				break;
			}
			continue;
		}

		timeout = mo_deadline_attempt_timeout(j->o.attempt_timeout_usec, t, j->deadline,
						      MO_JOB_MIN_ATTEMPT_USEC);
		if (timeout == 0) {
			stop(j, MO_STOP_DEADLINE, NULL);
			break;
		}

		if (guarded(j)) {
			struct mo_headroom h;
			const char *why = NULL;

			if (read_headroom(j, &h) < 0) {
				stop(j, MO_STOP_HEADROOM, HEADROOM_UNREADABLE);
				break;
			}
			if (mo_headroom_check(&h, e->r.node, e->r.size, j->res.reserve, &why) < 0) {
				e->r.outcome = MO_OUTCOME_HEADROOM;
				e->r.reason = why ? why : "would breach the memory reserve";
				e->final = true;
				stop(j, MO_STOP_HEADROOM, e->r.reason);
				break;
			}
		}

		progress(j, MO_PHASE_ATTEMPT, e, MO_OUTCOME_NOT_TRIED, 0);
		(void) j->o.hooks.attempt(j->o.hooks.userdata, j->root, e->r.index, e->r.action, timeout,
					  j->o.cancel, &ar);
		e->r.attempts++;
		e->r.usec += ar.usec;
		e->r.outcome = ar.outcome;
		e->r.reason = ar.reason ? ar.reason : mo_outcome_to_string(ar.outcome);
		if (ar.error)
			e->r.error = ar.error;
		if (ar.outcome == MO_OUTCOME_STALLED)
			e->r.stall = ar.stall;
		if (ar.outcome == MO_OUTCOME_DONE)
			e->taken = true;

		if (mo_outcome_is_success(ar.outcome))
			e->final = true;
		else if (ar.outcome == MO_OUTCOME_ERROR && (ar.error == EACCES || ar.error == EROFS)) {
			/* Systemic: every other block would fail the same way. */
			e->final = true;
			progress_full(j, MO_PHASE_RESULT, e, ar.outcome, 0, &ar);
			stop(j, MO_STOP_ERROR, ar.reason);
			break;
		} else if (ar.outcome == MO_OUTCOME_CANCELLED) {
			/* An attempt cancelled before its write did not count. */
			if (ar.error != EINTR)
				e->r.attempts--;
			progress_full(j, MO_PHASE_RESULT, e, ar.outcome, 0, &ar);
			stop(j, MO_STOP_CANCELLED, NULL);
			break;
		} else if (mo_outcome_is_retryable(ar.outcome) && mo_backoff_may_retry(b, e->r.attempts))
			e->next_try = usec_add(now(j), mo_backoff_delay(b, e->r.attempts, &j->rng));
		else
			e->final = true;
		progress_full(j, MO_PHASE_RESULT, e, ar.outcome, 0, &ar);
	}

	count(j);
	if (j->o.all_or_nothing && j->res.done_blocks < j->res.wanted_blocks)
		rollback(j);
	return 0;
}

int mo_job_run(struct mo_job *j)
{
	int r;

	if (j->ran)
		return -EALREADY;
	j->ran = true;
	j->t0 = now(j);
	j->deadline = usec_add(j->t0, j->o.deadline_usec);  /* UINT64_MAX: no deadline */
	if (j->o.dry_run)
		r = dry_run(j);
	else
		r = execute(j);
	j->res.usec = now(j) - j->t0;
	collect(j);
	return r;
}

int mo_job_exit_code(const struct mo_job_result *r)
{
	if (r->done_blocks >= r->wanted_blocks && r->wanted_blocks > 0)
		return 0;
	if (r->taken_blocks == 0)
		return 1;
	return 64;
}
