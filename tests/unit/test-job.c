/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "job.h"
#include "util.h"

#define S (1000 * 1000ULL)
#define BS (128 * MIB)

/*
 * A simulated kernel and clock: each block follows a script of outcomes
 * (the last one repeats), time advances by what attempts and sleeps take,
 * MemAvailable drops by a block for every block offlined.
 */
struct script {
	uint64_t block;
	enum mo_outcome seq[8];
	unsigned n;
};

struct call {
	uint64_t block;
	enum mo_action action;
	uint64_t timeout;
	uint64_t at;
};

struct sim {
	uint64_t now;
	struct script scripts[16];
	unsigned n_scripts;
	unsigned used[16];
	struct call calls[256];
	unsigned n_calls;
	uint64_t slept;
	unsigned n_sleeps;
	uint64_t mem_total, mem_available;
	int headroom_error;
	unsigned cancel_at_call;       /* set the cancel flag during this call (1-based), 0 = never */
	bool cancel_in_sleep;
	volatile sig_atomic_t cancel;
	bool forbid_attempts;
	int error_errno;               /* errno of a scripted MO_OUTCOME_ERROR */
	unsigned progress_attempts, progress_results, progress_waits, progress_rollbacks;
	uint64_t last_done;
};

static void script(struct sim *s, uint64_t block, unsigned n, ...)
{
	struct script *sc = &s->scripts[s->n_scripts++];
	va_list ap;

	sc->block = block;
	sc->n = n;
	va_start(ap, n);
	for (unsigned i = 0; i < n; i++)
		sc->seq[i] = (enum mo_outcome) va_arg(ap, int);
	va_end(ap);
}

static int sim_attempt(void *userdata, const struct mo_root *root, uint64_t block, enum mo_action action,
		       uint64_t timeout_usec, volatile sig_atomic_t *cancel, struct mo_attempt_result *ret)
{
	struct sim *s = userdata;
	enum mo_outcome o = MO_OUTCOME_DONE;

	if (s->forbid_attempts)
		fail_msg("dry run wrote block %" PRIu64, block);
	assert_true(s->n_calls < ARRAY_SIZE(s->calls));
	s->calls[s->n_calls++] = (struct call) { block, action, timeout_usec, s->now };
	*ret = (struct mo_attempt_result) { .state = MO_STATE_UNKNOWN };

	if (cancel && *cancel) {
		ret->outcome = MO_OUTCOME_CANCELLED;
		ret->reason = "cancelled before the write";
		return 0;
	}
	/* online writes (rollback) succeed unless scripted otherwise */
	for (unsigned i = 0; i < s->n_scripts && action == MO_ACTION_OFFLINE; i++) {
		struct script *sc = &s->scripts[i];

		if (sc->block != block)
			continue;
		o = sc->seq[s->used[i] < sc->n ? s->used[i] : sc->n - 1];
		s->used[i]++;
	}
	if (s->cancel_at_call == s->n_calls && cancel) {
		/* SIGINT during the write: the handler sets the flag, the write ends with EINTR */
		*cancel = 1;
		s->now += timeout_usec / 2;
		ret->outcome = MO_OUTCOME_CANCELLED;
		ret->error = EINTR;
		ret->reason = "cancelled during the write";
		ret->usec = timeout_usec / 2;
		return 0;
	}
	ret->outcome = o;
	ret->reason = mo_outcome_to_string(o);
	ret->usec = o == MO_OUTCOME_TIMED_OUT ? timeout_usec : 1000;
	ret->error = o == MO_OUTCOME_TIMED_OUT ? EINTR : o == MO_OUTCOME_UNMOVABLE ? EBUSY :
		     o == MO_OUTCOME_INVALID ? EINVAL : o == MO_OUTCOME_ERROR ? s->error_errno : 0;
	s->now += ret->usec;
	if (o == MO_OUTCOME_DONE) {
		if (action == MO_ACTION_OFFLINE)
			s->mem_available -= BS;
		else
			s->mem_available += BS;
	}
	return 0;
}

static uint64_t sim_now(void *userdata)
{
	return ((struct sim *) userdata)->now;
}

static int sim_sleep(void *userdata, uint64_t usec, volatile sig_atomic_t *cancel)
{
	struct sim *s = userdata;

	if (s->cancel_in_sleep && cancel) {
		*cancel = 1;
		s->now += usec / 2;
		return -ECANCELED;
	}
	s->now += usec;
	s->slept += usec;
	s->n_sleeps++;
	return 0;
}

static int sim_headroom(void *userdata, const struct mo_root *root, struct mo_headroom *out)
{
	struct sim *s = userdata;

	if (s->headroom_error)
		return s->headroom_error;
	*out = (struct mo_headroom) { .mem_total = s->mem_total, .mem_available = s->mem_available };
	return 0;
}

static void sim_progress(const struct mo_job_progress *p, void *userdata)
{
	struct sim *s = userdata;

	switch (p->phase) {
	case MO_PHASE_ATTEMPT:
		s->progress_attempts++;
		assert_true(p->attempt >= 1);
		break;
	case MO_PHASE_RESULT:
		s->progress_results++;
		break;
	case MO_PHASE_WAIT:
		s->progress_waits++;
		break;
	case MO_PHASE_ROLLBACK:
		s->progress_rollbacks++;
		break;
	}
	assert_true(p->done_blocks <= p->wanted_blocks);
	assert_int_equal(p->wanted_bytes, p->wanted_blocks * BS);
	s->last_done = p->done_blocks;
}

struct fx {
	struct fx_tree t; /* first: fx_teardown() */
	struct sim sim;
	struct mo_job_options o;
};

/*
 * Blocks 8..15 online Movable, block 16 online Normal (node 1), 17 offline
 * "Normal Movable", 18 offline "Normal", 19 offline Movable.
 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->t.root = fx_mkroot();
	fx_write(f->t.root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	for (uint64_t b = 8; b <= 15; b++)
		fx_block(f->t.root, b, "online", "Movable", 0, NULL);
	fx_block(f->t.root, 16, "online", "Normal", 1, NULL);
	fx_block(f->t.root, 17, "offline", "Normal Movable", 0, NULL);
	fx_block(f->t.root, 18, "offline", "Normal", 0, NULL);
	fx_block(f->t.root, 19, "offline", "Movable", 0, NULL);
	fx_write(f->t.root, "proc/.keep", "");
	fx_tree_open(&f->t);

	f->sim.now = 1000 * S;
	f->sim.mem_total = 64 * GIB;
	f->sim.mem_available = 32 * GIB;
	mo_job_options_init(&f->o);
	f->o.backoff.jitter = 0.0;    /* exact delays: 1 s, 2 s, 4 s ... */
	f->o.cancel = &f->sim.cancel;
	f->o.progress = sim_progress;
	f->o.progress_userdata = &f->sim;
	f->o.hooks = (struct mo_job_hooks) {
		.attempt = sim_attempt,
		.now = sim_now,
		.sleep = sim_sleep,
		.headroom = sim_headroom,
		.userdata = &f->sim,
	};
	*state = f;
	return 0;
}

static const struct mo_job_result *run(struct fx *f, const struct mo_job_request *req, struct mo_job **j)
{
	char *err = NULL;
	int r = mo_job_new(f->t.r, req, &f->o, j, &err);

	if (r < 0)
		fail_msg("mo_job_new: %s", err ? err : strerror(-r));
	assert_int_equal(mo_job_run(*j), 0);
	assert_int_equal(mo_job_run(*j), -EALREADY);
	return mo_job_result(*j);
}

/* How a run ended: why it stopped, its exit code, how many writes it made. */
static void expect(const struct fx *f, const struct mo_job_result *r, enum mo_job_stop stop, int exit_code, unsigned n_calls)
{
	assert_int_equal(r->stop, stop);
	assert_int_equal(mo_job_exit_code(r), exit_code);
	assert_int_equal(f->sim.n_calls, n_calls);
}

/* Offline @size bytes, chosen by the planner. */
static const struct mo_job_result *offline_size(struct fx *f, uint64_t size, struct mo_job **j)
{
	const struct mo_job_request req = { .action = MO_ACTION_OFFLINE, .size = size };

	return run(f, &req, j);
}

static const struct mo_job_result *offline_named(struct fx *f, struct mo_job **j, const uint64_t *blocks, size_t n)
{
	const struct mo_job_request req = { .action = MO_ACTION_OFFLINE, .blocks = blocks, .n_blocks = n };

	return run(f, &req, j);
}

/* Offline the blocks named, in this order. */
#define offline_blocks(f, j, ...)                                       \
	offline_named(f, j, (const uint64_t[]) { __VA_ARGS__ }, \
		      sizeof((const uint64_t[]) { __VA_ARGS__ }) / sizeof(uint64_t))

static const struct mo_block_result *find(const struct mo_job_result *r, uint64_t block)
{
	static const struct mo_block_result none = { .outcome = _MO_OUTCOME_MAX };

	for (size_t i = 0; i < r->n_blocks; i++)
		if (r->blocks[i].index == block)
			return &r->blocks[i];
	fail_msg("block %" PRIu64 " not in the result", block);
	return &none;
}

static void test_size_success(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r = offline_size(f, 256 * MIB, &j);

	expect(f, r, MO_STOP_FINISHED, 0, 2);
	assert_int_equal(r->wanted_blocks, 2);
	assert_int_equal(r->done_blocks, 2);
	assert_int_equal(r->done_bytes, 256 * MIB);
	assert_int_equal(r->taken_blocks, 2);
	/* no census in this tree: highest blocks first; only the blocks touched are reported */
	assert_int_equal(r->n_blocks, 2);
	assert_int_equal(r->blocks[0].index, 15);
	assert_int_equal(r->blocks[1].index, 14);
	assert_int_equal(r->blocks[0].outcome, MO_OUTCOME_DONE);
	assert_int_equal(r->blocks[0].attempts, 1);
	/* lazy planning: 19-16 are not eligible, 15 and 14 are enough; 13-8 never read */
	assert_int_equal(r->n_examined, 6);
	assert_int_equal(r->n_candidates, 2);
	assert_false(r->plan_complete);
	assert_int_equal(f->sim.calls[0].action, MO_ACTION_OFFLINE);
	assert_int_equal(f->sim.calls[0].timeout, MO_JOB_ATTEMPT_TIMEOUT_USEC);
	assert_int_equal(f->sim.progress_attempts, 2);
	assert_int_equal(f->sim.progress_results, 2);
	assert_int_equal(f->sim.last_done, 2);
	/* the default reserve was used */
	assert_true(r->have_headroom);
	assert_int_equal(r->reserve, mo_headroom_default_reserve(64 * GIB));
}

/* With /proc/zoneinfo the plan looks inside the Movable zone's span only, without listing the blocks. */
static void test_size_zoneinfo(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	struct mo_job_request req = { .action = MO_ACTION_OFFLINE, .size = 256 * MIB };
	const struct mo_job_result *r;
	const uint64_t ppb = BS / (uint64_t) sysconf(_SC_PAGESIZE);
	char text[256];

	snprintf(text, sizeof(text), "Node 0, zone  Movable\n        spanned  %" PRIu64 "\n  start_pfn:           %" PRIu64 "\n",
		 8 * ppb, 8 * ppb);
	fx_write(f->t.root, "proc/zoneinfo", text);
	r = run(f, &req, &j);
	assert_int_equal(r->stop, MO_STOP_FINISHED);
	assert_int_equal(r->blocks[0].index, 15);
	assert_int_equal(r->blocks[1].index, 14);
	assert_int_equal(r->n_examined, 2);
	assert_int_equal(r->n_memory_blocks, 0);
	mo_job_free(j);
	j = NULL;

	/* a failing block: the next one is looked for inside the span, as before */
	script(&f->sim, 15, 1, MO_OUTCOME_INVALID);
	r = run(f, &req, &j);
	assert_int_equal(r->stop, MO_STOP_FINISHED);
	assert_int_equal(find(r, 13)->outcome, MO_OUTCOME_DONE);
	assert_int_equal(r->n_examined, 3);
}

static void test_size_moves_on(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	script(&f->sim, 15, 1, MO_OUTCOME_TIMED_OUT);
	script(&f->sim, 14, 1, MO_OUTCOME_TIMED_OUT);
	script(&f->sim, 13, 1, MO_OUTCOME_INVALID);
	r = offline_size(f, 256 * MIB, &j);
	expect(f, r, MO_STOP_FINISHED, 0, 5);
	/*
	 * 15 and 14 time out, 13 is invalid, then 12 and 11: although 15 is due
	 * again after 14's attempt, fresh candidates come before a second try.
	 */
	assert_int_equal(f->sim.calls[2].block, 13);
	assert_int_equal(f->sim.calls[3].block, 12);
	assert_int_equal(f->sim.calls[4].block, 11);
	assert_int_equal(f->sim.n_sleeps, 0);
	assert_int_equal(r->n_blocks, 5);
	assert_int_equal(find(r, 15)->outcome, MO_OUTCOME_TIMED_OUT);
	assert_int_equal(find(r, 15)->error, EINTR);
	assert_int_equal(find(r, 15)->attempts, 1);
	assert_int_equal(find(r, 13)->outcome, MO_OUTCOME_INVALID);
	assert_int_equal(find(r, 12)->outcome, MO_OUTCOME_DONE);
}

static void test_retry_backoff(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	script(&f->sim, 13, 3, MO_OUTCOME_UNMOVABLE, MO_OUTCOME_UNMOVABLE, MO_OUTCOME_DONE);
	r = offline_blocks(f, &j, 13, 12);
	expect(f, r, MO_STOP_FINISHED, 0, 4);
	/* 13 fails, 12 is tried meanwhile, then 13 after 1 s and after 2 more */
	assert_int_equal(f->sim.calls[0].block, 13);
	assert_int_equal(f->sim.calls[1].block, 12);
	assert_int_equal(f->sim.calls[2].block, 13);
	assert_int_equal(f->sim.calls[3].block, 13);
	assert_int_equal(f->sim.calls[3].at - f->sim.calls[2].at, 1000 + 2 * S);
	assert_int_equal(f->sim.calls[2].at - f->sim.calls[0].at, 1000 + 1 * S);
	assert_int_equal(f->sim.n_sleeps, 2);
	assert_int_equal(f->sim.progress_waits, 2);
	assert_int_equal(find(r, 13)->attempts, 3);
	assert_int_equal(find(r, 13)->outcome, MO_OUTCOME_DONE);
	assert_int_equal(find(r, 12)->attempts, 1);
}

static void test_budget(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	f->o.backoff.max_attempts = 3;
	script(&f->sim, 13, 1, MO_OUTCOME_UNMOVABLE);
	r = offline_blocks(f, &j, 13);
	expect(f, r, MO_STOP_EXHAUSTED, 1, 3);
	assert_int_equal(r->blocks[0].attempts, 3);
	assert_int_equal(r->blocks[0].outcome, MO_OUTCOME_UNMOVABLE);
	assert_int_equal(r->blocks[0].error, EBUSY);
}

static void test_deadline(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;
	uint64_t t0 = f->sim.now;

	f->o.attempt_timeout_usec = 10 * S;
	f->o.deadline_usec = 25 * S;
	f->o.backoff.max_attempts = 0; /* only the deadline ends it */
	script(&f->sim, 13, 1, MO_OUTCOME_TIMED_OUT);
	r = offline_blocks(f, &j, 13);
	expect(f, r, MO_STOP_DEADLINE, 1, 3);
	assert_int_equal(r->blocks[0].outcome, MO_OUTCOME_TIMED_OUT);
	/* t=0 10 s, sleep 1, t=11 10 s, sleep 2, t=23: the last attempt is cut to 2 s */
	assert_int_equal(f->sim.calls[2].timeout, 2 * S);
	/* never past the deadline */
	assert_true(f->sim.now <= t0 + 25 * S);
	assert_int_equal(r->usec, f->sim.now - t0);
}

/*
 * "infinity" (UINT64_MAX, systemd's) and a deadline so long that the clock
 * plus it does not fit in 64 bits (213503982 days) mean no deadline: the job
 * runs its attempts (issue 12: it failed at once with "deadline reached"
 * after 0 attempts).
 */
static void test_deadline_infinity(void **state)
{
	static const uint64_t longest[] = { UINT64_MAX, UINT64_C(213503982) * 86400 * S };
	struct fx *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(longest); i++) {
		_cleanup_(mo_job_freep) struct mo_job *j = NULL;
		const uint64_t blocks[] = { 13 };
		struct mo_job_request req = { .action = MO_ACTION_OFFLINE, .blocks = blocks, .n_blocks = 1 };
		const struct mo_job_result *r;

		f->sim.n_calls = 0;
		f->sim.n_scripts = 0;
		memset(f->sim.used, 0, sizeof(f->sim.used));
		f->o.attempt_timeout_usec = 10 * S;
		f->o.deadline_usec = longest[i];
		f->o.backoff.max_attempts = 3;
		script(&f->sim, 13, 3, MO_OUTCOME_TIMED_OUT, MO_OUTCOME_TIMED_OUT, MO_OUTCOME_DONE);
		r = run(f, &req, &j);
		assert_int_equal(r->stop, MO_STOP_FINISHED);
		assert_int_equal(r->blocks[0].outcome, MO_OUTCOME_DONE);
		assert_int_equal(r->blocks[0].attempts, 3);
		assert_int_equal(f->sim.calls[0].timeout, 10 * S);
	}
}

static void test_headroom_cuts_short(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	f->sim.mem_available = 1 * GIB;
	f->o.reserve = 512 * MIB;
	r = offline_size(f, 1 * GIB, &j);
	expect(f, r, MO_STOP_HEADROOM, 64, 4);
	/* 1024 -> 896 -> 768 -> 640 -> 512 MiB available; the fifth would leave 384 */
	assert_non_null(strstr(r->stop_reason, "reserve"));
	assert_int_equal(r->done_blocks, 4);
	assert_int_equal(r->n_blocks, 5);
	assert_int_equal(r->blocks[4].outcome, MO_OUTCOME_HEADROOM);
	assert_int_equal(r->blocks[4].attempts, 0);
	assert_int_equal(r->reserve, 512 * MIB);
}

static void test_headroom_force(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	f->sim.mem_available = 1 * GIB;
	f->o.reserve = 512 * MIB;
	f->o.force = true;
	r = offline_size(f, 1 * GIB, &j);
	expect(f, r, MO_STOP_FINISHED, 0, 8);
	assert_int_equal(r->done_blocks, 8);
}

static void test_headroom_unreadable(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL, *j2 = NULL;
	struct mo_job_request req = { .action = MO_ACTION_OFFLINE, .size = 128 * MIB };
	const struct mo_job_result *r;

	f->sim.headroom_error = -ENOENT;
	r = run(f, &req, &j);
	expect(f, r, MO_STOP_HEADROOM, 1, 0);

	/* forced: it goes ahead without knowing */
	f->o.force = true;
	r = run(f, &req, &j2);
	assert_int_equal(r->stop, MO_STOP_FINISHED);
	assert_false(r->have_headroom);
}

static void test_all_or_nothing(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	for (uint64_t b = 8; b <= 13; b++)
		script(&f->sim, b, 1, MO_OUTCOME_INVALID);
	f->o.all_or_nothing = true;
	r = offline_size(f, 384 * MIB, &j);
	expect(f, r, MO_STOP_EXHAUSTED, 1, 10);
	/* 15 and 14 went offline, nothing else could: both are put back, as Movable */
	assert_true(r->rolled_back);
	assert_false(r->rollback_failed);
	assert_int_equal(r->done_blocks, 0);
	assert_int_equal(r->taken_blocks, 0);
	assert_int_equal(find(r, 15)->outcome, MO_OUTCOME_ROLLED_BACK);
	assert_int_equal(find(r, 14)->outcome, MO_OUTCOME_ROLLED_BACK);
	assert_int_equal(f->sim.calls[f->sim.n_calls - 2].action, MO_ACTION_ONLINE_MOVABLE);
	assert_int_equal(f->sim.calls[f->sim.n_calls - 1].action, MO_ACTION_ONLINE_MOVABLE);
	assert_int_equal(f->sim.progress_rollbacks, 2);
	assert_int_equal(f->sim.mem_available, 32 * GIB);
}

static void test_all_or_nothing_normal(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	script(&f->sim, 13, 1, MO_OUTCOME_REFUSED);
	f->o.all_or_nothing = true;
	r = offline_blocks(f, &j, 16, 13);
	expect(f, r, MO_STOP_EXHAUSTED, 1, 3);
	/* a Normal block goes back as plain "online" */
	assert_int_equal(find(r, 16)->outcome, MO_OUTCOME_ROLLED_BACK);
	assert_int_equal(find(r, 13)->outcome, MO_OUTCOME_REFUSED);
	assert_int_equal(f->sim.calls[f->sim.n_calls - 1].block, 16);
	assert_int_equal(f->sim.calls[f->sim.n_calls - 1].action, MO_ACTION_ONLINE);
}

static void test_partial_without_all_or_nothing(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	script(&f->sim, 13, 1, MO_OUTCOME_REFUSED);
	r = offline_blocks(f, &j, 16, 13);
	expect(f, r, MO_STOP_EXHAUSTED, 64, 2);
	assert_false(r->rolled_back);
	assert_int_equal(find(r, 16)->outcome, MO_OUTCOME_DONE);
}

static void test_dry_run(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;
	char buf[32];

	f->sim.forbid_attempts = true;
	f->o.dry_run = true;
	f->o.reserve = 1 * GIB;
	r = offline_size(f, 384 * MIB, &j);
	expect(f, r, MO_STOP_FINISHED, 0, 0);
	assert_true(r->dry_run);
	assert_int_equal(r->n_blocks, 3);
	for (size_t i = 0; i < r->n_blocks; i++) {
		assert_int_equal(r->blocks[i].outcome, MO_OUTCOME_PLANNED);
		assert_int_equal(r->blocks[i].attempts, 0);
	}
	assert_int_equal(r->headroom.mem_available, 32 * GIB);
	assert_int_equal(r->headroom_after.mem_available, 32 * GIB - 3 * BS);
	/* the tree was not touched */
	assert_string_equal(MUST(fx_read_buf(f->t.root, "sys/devices/system/memory/memory15/state", buf, sizeof(buf))),
			    "online\n");
}

static void test_dry_run_headroom(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	f->sim.forbid_attempts = true;
	f->sim.mem_available = 512 * MIB;
	f->o.reserve = 256 * MIB;
	f->o.dry_run = true;
	r = offline_size(f, 512 * MIB, &j);
	expect(f, r, MO_STOP_HEADROOM, 64, 0);
	assert_int_equal(r->n_blocks, 3);
	assert_int_equal(r->blocks[0].outcome, MO_OUTCOME_PLANNED);
	assert_int_equal(r->blocks[1].outcome, MO_OUTCOME_PLANNED);
	assert_int_equal(r->blocks[2].outcome, MO_OUTCOME_HEADROOM);
	assert_int_equal(r->headroom_after.mem_available, 256 * MIB);
}

static void test_cancel_during_attempt(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	f->sim.cancel_at_call = 2;
	r = offline_size(f, 512 * MIB, &j);
	expect(f, r, MO_STOP_CANCELLED, 64, 2);
	assert_int_equal(r->done_blocks, 1);
	assert_int_equal(find(r, 14)->outcome, MO_OUTCOME_CANCELLED);
	assert_int_equal(find(r, 14)->attempts, 1);
}

static void test_cancel_all_or_nothing(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	f->sim.cancel_at_call = 3;
	f->o.all_or_nothing = true;
	r = offline_size(f, 512 * MIB, &j);
	expect(f, r, MO_STOP_CANCELLED, 1, 5);
	/* cancelled, and what was taken still goes back */
	assert_true(r->rolled_back);
	assert_int_equal(r->done_blocks, 0);
	assert_int_equal(f->sim.calls[3].action, MO_ACTION_ONLINE_MOVABLE);
}

static void test_cancel_during_sleep(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	script(&f->sim, 13, 1, MO_OUTCOME_UNMOVABLE);
	f->sim.cancel_in_sleep = true;
	r = offline_blocks(f, &j, 13);
	expect(f, r, MO_STOP_CANCELLED, 1, 1);
	assert_int_equal(r->blocks[0].outcome, MO_OUTCOME_UNMOVABLE);
}

static void test_cancel_before_start(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	f->sim.cancel = 1;
	r = offline_size(f, 128 * MIB, &j);
	expect(f, r, MO_STOP_CANCELLED, 1, 0);
	assert_int_equal(r->n_blocks, 0);
}

static void test_named_already_and_managed(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	r = offline_blocks(f, &j, 19, 12);
	expect(f, r, MO_STOP_FINISHED, 0, 1);
	assert_int_equal(find(r, 19)->outcome, MO_OUTCOME_ALREADY);
	assert_int_equal(find(r, 19)->attempts, 0);
	assert_int_equal(find(r, 12)->outcome, MO_OUTCOME_DONE);
}

static void test_managed_named(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL, *j2 = NULL;
	const uint64_t blocks[] = { 12 };
	struct mo_job_request req = { .action = MO_ACTION_OFFLINE, .blocks = blocks, .n_blocks = 1 };
	const struct mo_job_result *r;
	char text[128];

	snprintf(text, sizeof(text), "%08" PRIx64 "-%08" PRIx64 " : System RAM (virtio_mem)\n",
		 12 * BS, 13 * BS - 1);
	fx_write(f->t.root, "proc/iomem", text);
	r = run(f, &req, &j);
	assert_int_equal(r->blocks[0].outcome, MO_OUTCOME_SKIPPED);
	assert_non_null(r->blocks[0].managed);
	assert_int_equal(f->sim.n_calls, 0);
	assert_int_equal(mo_job_exit_code(r), 1);

	f->o.force = true;
	r = run(f, &req, &j2);
	assert_int_equal(r->blocks[0].outcome, MO_OUTCOME_DONE);
}

static void test_bad_requests(void **state)
{
	struct fx *f = *state;
	struct mo_job *j = NULL;
	const uint64_t blocks[] = { 12, 99 };
	struct mo_job_request req = { .action = MO_ACTION_OFFLINE, .blocks = blocks, .n_blocks = 2 };
	char *err = NULL;

	assert_int_equal(mo_job_new(f->t.r, &req, &f->o, &j, &err), -ENOENT);
	assert_null(j);
	assert_string_equal(err, "block 99 does not exist");
	free(err);

	req = (struct mo_job_request) { .action = MO_ACTION_OFFLINE, .size = 100 * MIB };
	assert_int_equal(mo_job_new(f->t.r, &req, &f->o, &j, &err), -EINVAL);
	assert_non_null(strstr(err, "block size"));
	free(err);

	req = (struct mo_job_request) { .action = MO_ACTION_OFFLINE };
	assert_int_equal(mo_job_new(f->t.r, &req, &f->o, &j, &err), -EINVAL);
	free(err);

	req = (struct mo_job_request) { .action = MO_ACTION_ONLINE, .size = 128 * MIB };
	f->o.all_or_nothing = true;
	assert_int_equal(mo_job_new(f->t.r, &req, &f->o, &j, &err), -EINVAL);
	free(err);
	assert_int_equal(f->sim.n_calls, 0);
}

static void test_online_named(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const uint64_t blocks[] = { 17, 18, 12 };
	struct mo_job_request req = {
		.action = MO_ACTION_ONLINE, .prefer_movable = true, .blocks = blocks, .n_blocks = 3,
	};
	const struct mo_job_result *r;

	f->sim.headroom_error = -ENOENT; /* online needs no headroom */
	r = run(f, &req, &j);
	expect(f, r, MO_STOP_FINISHED, 0, 2);
	/* Movable where the block allows it, else the kernel's default */
	assert_int_equal(find(r, 17)->action, MO_ACTION_ONLINE_MOVABLE);
	assert_int_equal(find(r, 18)->action, MO_ACTION_ONLINE);
	assert_int_equal(find(r, 12)->outcome, MO_OUTCOME_ALREADY);
	assert_false(r->have_headroom);
}

static void test_online_size_kernel(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const char *normal[] = { "Normal" };
	struct mo_job_request req = { .action = MO_ACTION_ONLINE_KERNEL, .size = 256 * MIB };
	const struct mo_job_result *r;

	f->o.zones = normal;
	f->o.n_zones = 1;
	r = run(f, &req, &j);
	/* offline blocks that may go to Normal, lowest first */
	assert_int_equal(r->stop, MO_STOP_FINISHED);
	assert_int_equal(f->sim.calls[0].block, 17);
	assert_int_equal(f->sim.calls[0].action, MO_ACTION_ONLINE_KERNEL);
	assert_int_equal(f->sim.calls[1].block, 18);
}

static void test_size_not_enough(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	r = offline_size(f, 2 * GIB, &j);
	expect(f, r, MO_STOP_EXHAUSTED, 64, 8);
	assert_int_equal(r->n_candidates, 8);
	assert_int_equal(r->done_blocks, 8);
	assert_int_equal(r->wanted_blocks, 16);
	assert_int_equal(r->skipped[MO_SKIP_ZONE], 1);
	assert_int_equal(r->skipped[MO_SKIP_STATE], 3);
}

/* A write guard or missing permission fails every block alike: stop at the first. */
static void test_systemic_error(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;

	script(&f->sim, 15, 1, MO_OUTCOME_ERROR);
	f->sim.error_errno = EROFS;
	r = offline_size(f, 512 * MIB, &j);
	expect(f, r, MO_STOP_ERROR, 1, 1);
	assert_int_equal(r->blocks[0].error, EROFS);
}

/* The real attempt, the real clock, the real headroom reader, on the fake tree. */
static void test_end_to_end(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	const struct mo_job_result *r;
	char buf[32];

	fx_write(f->t.root, "proc/meminfo", "MemTotal:       16777216 kB\nMemFree:         8388608 kB\n"
					  "MemAvailable:    8388608 kB\n");
	f->o.hooks = (struct mo_job_hooks) {};
	f->o.attempt_timeout_usec = 2 * S;
	f->o.deadline_usec = 10 * S;
	r = offline_size(f, 256 * MIB, &j);
	expect(f, r, MO_STOP_FINISHED, 0, 0);
	assert_true(r->have_headroom);
	assert_int_equal(r->headroom.mem_available, 8 * GIB);
	assert_string_equal(MUST(fx_read_buf(f->t.root, "sys/devices/system/memory/memory15/state", buf, sizeof(buf))),
			    "offline");
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_size_success),
		T(test_size_zoneinfo),
		T(test_size_moves_on),
		T(test_retry_backoff),
		T(test_budget),
		T(test_deadline),
		T(test_deadline_infinity),
		T(test_headroom_cuts_short),
		T(test_headroom_force),
		T(test_headroom_unreadable),
		T(test_all_or_nothing),
		T(test_all_or_nothing_normal),
		T(test_partial_without_all_or_nothing),
		T(test_dry_run),
		T(test_dry_run_headroom),
		T(test_cancel_during_attempt),
		T(test_cancel_all_or_nothing),
		T(test_cancel_during_sleep),
		T(test_cancel_before_start),
		T(test_named_already_and_managed),
		T(test_managed_named),
		T(test_bad_requests),
		T(test_online_named),
		T(test_online_size_kernel),
		T(test_size_not_enough),
		T(test_systemic_error),
		T(test_end_to_end),
	};
	alarm(120);
	return cmocka_run_group_tests_name("job", tests, NULL, NULL);
}
