/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jobs.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>

#include "block.h"
#include "memoffd-conf.h"
#include "log.h"
#include "forensics.h"
#include "format.h"
#include "job.h"
#include "joblog.h"
#include "release.h"
#include "util.h"

#define KEEP_FINISHED 32

/* In the order of the MO_ZONE_* bits. */
static const char *const zone_names[] = { "DMA", "DMA32", "Normal", "HighMem", "Movable", "Device" };

/* Per-block status as the worker sees it; strings are the engine's static ones. */
struct live_block {
	uint64_t index;
	enum mo_outcome outcome;
	const char *outcome_name;   /* instead of @outcome's name (a release: "released"), or NULL */
	unsigned attempts;
	uint64_t usec;
	const char *reason;
	char *reason_owned;         /* a composed @reason (a release names the device) */
};

/* Written by the worker, read by the loop, both under job->lock. */
struct shared {
	bool plan_dirty;          /* blocks added to @plan since the loop last looked */
	uint64_t *plan;           /* every block the engine planned or touched */
	size_t n_plan;
	bool progress_dirty;
	uint64_t blocks_done, blocks_wanted, bytes_done, bytes_wanted, current;
	bool blocks_dirty;
	struct live_block *live;
	size_t n_live;
	bool blocked_dirty;
	struct mo_pin_report **blocked;
	size_t n_blocked;
	bool finished;
	enum job_result result;
	char *message;
};

struct job {
	struct job_queue *q;
	struct job_record rec;
	struct job_params params;
	uint64_t current_block;
	/* the worker */
	pthread_t thread;
	bool have_thread;
	volatile sig_atomic_t cancel;
	pthread_mutex_t lock;
	struct shared sh;
	/* the worker's journal records (joblog.h) */
	char log_id[16];
	struct mo_joblog log;
	/* what blocked the blocks given up on (the loop's copy) */
	struct mo_pin_report **blocked;
	size_t n_blocked;
};

struct job_queue {
	sd_event *event;
	const struct mo_root *root;
	char *state_path;
	struct job_queue_hooks hooks;
	struct job **jobs;          /* by ascending id */
	size_t n_jobs;
	unsigned next_id;
	struct job *running;
	int efd;
	sd_event_source *efd_source;
	uint64_t block_size;
};

static uint64_t now_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

const struct job_record *job_record(const struct job *j)
{
	return &j->rec;
}

void *job_userdata(const struct job *j)
{
	return j->q->hooks.userdata;
}

uint64_t job_current_block(const struct job *j)
{
	return j->current_block;
}

size_t job_blocked_pages(const struct job *j, struct mo_pin_report *const **ret)
{
	*ret = j->blocked;
	return j->n_blocked;
}

static void reports_free(struct mo_pin_report **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		mo_pin_report_free(v[i]);
	free(v);
}

void job_params_done(struct job_params *p)
{
	free(p->blocks);
	p->blocks = NULL;
	p->n_blocks = 0;
}

static void shared_done(struct shared *s)
{
	for (size_t i = 0; i < s->n_live; i++)
		free(s->live[i].reason_owned);
	free(s->plan);
	free(s->live);
	free(s->message);
	reports_free(s->blocked, s->n_blocked);
	*s = (struct shared) {};
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	job_record_done(&j->rec);
	job_params_done(&j->params);
	shared_done(&j->sh);
	reports_free(j->blocked, j->n_blocked);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* ---- persistence ---- */

static void persist(struct job_queue *q)
{
	_cleanup_free_ const struct job_record **recs = NULL;
	_cleanup_free_ char *text = NULL, *tmp = NULL;
	_cleanup_close_ int fd = -1;
	size_t len;
	int r;

	if (!q->state_path)
		return;
	recs = calloc(q->n_jobs + 1, sizeof(*recs));
	if (!recs)
		return;
	for (size_t i = 0; i < q->n_jobs; i++)
		recs[i] = &q->jobs[i]->rec;
	if (job_records_format(recs, q->n_jobs, q->next_id, &text) < 0)
		return;
	if (asprintf(&tmp, "%s.tmp", q->state_path) < 0)
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		mo_log_warning_errno(errno, "Cannot write %s: %m", tmp);
		return;
	}
	len = strlen(text);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			mo_log_warning_errno(n < 0 ? errno : EIO, "Cannot write %s: %m", tmp);
			unlink(tmp);
			return;
		}
		off += (size_t) n;
	}
	r = fsync(fd);
	if (r < 0 || rename(tmp, q->state_path) < 0) {
		mo_log_warning_errno(errno, "Cannot replace %s: %m", q->state_path);
		unlink(tmp);
	}
}

/* ---- queue bookkeeping ---- */

static int add_job(struct job_queue *q, struct job *j)
{
	struct job **nj = realloc(q->jobs, (q->n_jobs + 1) * sizeof(*nj));

	if (!nj)
		return -ENOMEM;
	q->jobs = nj;
	q->jobs[q->n_jobs++] = j;
	return 0;
}

static void remove_job(struct job_queue *q, size_t i)
{
	struct job *j = q->jobs[i];

	if (q->hooks.job_removed)
		q->hooks.job_removed(j, q->hooks.userdata);
	memmove(&q->jobs[i], &q->jobs[i + 1], (q->n_jobs - i - 1) * sizeof(*q->jobs));
	q->n_jobs--;
	job_free(j);
}

/* Forget the oldest finished jobs beyond KEEP_FINISHED. */
static void trim(struct job_queue *q)
{
	size_t finished = 0;

	for (size_t i = 0; i < q->n_jobs; i++)
		finished += q->jobs[i]->rec.state == JOB_FINISHED;
	for (size_t i = 0; i < q->n_jobs && finished > KEEP_FINISHED;) {
		if (q->jobs[i]->rec.state == JOB_FINISHED) {
			remove_job(q, i);
			finished--;
		} else
			i++;
	}
}

struct job *job_queue_find(struct job_queue *q, unsigned id)
{
	for (size_t i = 0; i < q->n_jobs; i++)
		if (q->jobs[i]->rec.id == id)
			return q->jobs[i];
	return NULL;
}

size_t job_queue_size(struct job_queue *q)
{
	return q->n_jobs;
}

struct job *job_queue_nth(struct job_queue *q, size_t i)
{
	return i < q->n_jobs ? q->jobs[i] : NULL;
}

struct job *job_queue_running(struct job_queue *q)
{
	return q->running;
}

bool job_queue_busy(struct job_queue *q)
{
	for (size_t i = 0; i < q->n_jobs; i++)
		if (q->jobs[i]->rec.state != JOB_FINISHED)
			return true;
	return false;
}

struct job *job_queue_claimed_by(struct job_queue *q, uint64_t block)
{
	for (size_t i = 0; i < q->n_jobs; i++) {
		struct job *j = q->jobs[i];

		if (j->rec.state != JOB_FINISHED && job_record_claims(&j->rec, block))
			return j;
	}
	return NULL;
}

/* ---- the worker ---- */

static struct live_block *live_find(struct shared *s, uint64_t index)
{
	struct live_block *n;

	for (size_t i = 0; i < s->n_live; i++)
		if (s->live[i].index == index)
			return &s->live[i];
	n = realloc(s->live, (s->n_live + 1) * sizeof(*n));
	if (!n)
		return NULL;
	s->live = n;
	s->live[s->n_live] = (struct live_block) { .index = index, .outcome = MO_OUTCOME_NOT_TRIED, .reason = "" };
	return &s->live[s->n_live++];
}

/* Add @index to the blocks the job works on (called with the lock held). */
static void plan_add(struct shared *s, uint64_t index)
{
	uint64_t *n;

	for (size_t i = 0; i < s->n_plan; i++)
		if (s->plan[i] == index)
			return;
	n = realloc(s->plan, (s->n_plan + 1) * sizeof(*n));
	if (!n)
		return;
	s->plan = n;
	s->plan[s->n_plan++] = index;
	s->plan_dirty = true;
}

static void wake(struct job_queue *q)
{
	uint64_t one = 1;

	(void) !write(q->efd, &one, sizeof(one));
}

static void on_progress(const struct mo_job_progress *p, void *userdata)
{
	struct job *j = userdata;
	struct live_block *lb;

	mo_joblog_progress(&j->log, p);
	pthread_mutex_lock(&j->lock);
	j->sh.progress_dirty = true;
	j->sh.blocks_done = p->done_blocks;
	j->sh.blocks_wanted = p->wanted_blocks;
	j->sh.bytes_done = p->done_bytes;
	j->sh.bytes_wanted = p->wanted_bytes;
	j->sh.current = p->phase == MO_PHASE_WAIT ? UINT64_MAX : p->block;
	if (p->block != UINT64_MAX)
		plan_add(&j->sh, p->block);
	if (p->phase == MO_PHASE_RESULT && p->block != UINT64_MAX && (lb = live_find(&j->sh, p->block))) {
		lb->outcome = p->outcome;
		lb->attempts = p->attempt;
		lb->reason = mo_outcome_to_string(p->outcome);
		j->sh.blocks_dirty = true;
	}
	pthread_mutex_unlock(&j->lock);
	wake(j->q);
}

static enum job_result map_result(const struct mo_job_result *r)
{
	if (r->stop == MO_STOP_CANCELLED)
		return JOB_RESULT_CANCELLED;
	switch (mo_job_exit_code(r)) {
	case 0:
		return JOB_RESULT_DONE;
	case 64:
		return JOB_RESULT_PARTIAL;
	default:
		return JOB_RESULT_FAILED;
	}
}

static char *summary(const struct job *j, const struct mo_job_result *r)
{
	char done[MO_FORMAT_SIZE_MAX], wanted[MO_FORMAT_SIZE_MAX];
	char *s = NULL;

	if (asprintf(&s, "%s%s %" PRIu64 " of %" PRIu64 " blocks (%s of %s)%s%s%s",
		     r->dry_run ? "dry run: would have " : "",
		     j->params.kind == JOB_ONLINE ? "online" : "offline",
		     r->done_blocks, r->wanted_blocks,
		     mo_format_size(r->done_bytes, done), mo_format_size(r->wanted_bytes, wanted),
		     r->stop == MO_STOP_FINISHED ? "" : ": ",
		     r->stop == MO_STOP_FINISHED ? "" : strempty(r->stop_reason),
		     r->rolled_back ? (r->rollback_failed ? "; rollback incomplete" : "; rolled back") : "") < 0)
		return NULL;
	return s;
}

/* Whether forensics has something to say about a block: it was attempted and not done. */
static bool gave_up(const struct mo_block_result *b)
{
	return b->attempts > 0 && !mo_outcome_is_success(b->outcome) && b->outcome != MO_OUTCOME_CANCELLED &&
	       b->outcome != MO_OUTCOME_ROLLED_BACK;
}

/*
 * Add the blocked-page report of each block of @blocks given up on to the
 * job's (BlockedPages): what the attempts saw, tracked across them; else
 * what the page flags and the kernel log say now.
 */
static void publish_blocked(struct job *j, struct mo_forensics *f, const struct mo_block_result *blocks, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		struct mo_pin_report *rep = NULL, **v;

		if (!gave_up(&blocks[i]))
			continue;
		if (mo_forensics_report(f, blocks[i].index, &rep) == 0 && rep->n_groups == 0) {
			mo_pin_report_free(rep);
			rep = NULL;
		}
		if (!rep && mo_forensics_scan(f, blocks[i].index, &rep) < 0)
			continue;
		pthread_mutex_lock(&j->lock);
		v = realloc(j->sh.blocked, (j->sh.n_blocked + 1) * sizeof(*v));
		if (v) {
			j->sh.blocked = v;
			j->sh.blocked[j->sh.n_blocked++] = rep;
			j->sh.blocked_dirty = true;
		} else
			mo_pin_report_free(rep);
		pthread_mutex_unlock(&j->lock);
	}
}

static void *worker(void *userdata)
{
	struct job *j = userdata;
	struct job_params *p = &j->params;
	struct mo_job_request req = {
		.action = p->action,
		.prefer_movable = p->prefer_movable,
		.size = p->size,
		.blocks = p->blocks,
		.n_blocks = p->n_blocks,
	};
	struct mo_job_options o;
	_cleanup_(mo_forensics_freep) struct mo_forensics *forensics = NULL;
	_cleanup_(mo_job_freep) struct mo_job *ej = NULL;
	_cleanup_free_ char *error = NULL;
	const char *zones[8];
	size_t n_zones = 0;
	const struct mo_job_result *res;
	enum job_result result;
	char *message;
	int r;

	mo_job_options_init(&o);
	o.attempt_timeout_usec = p->attempt_timeout_usec;
	o.deadline_usec = p->deadline_usec;
	o.backoff = p->backoff;
	o.reserve = p->reserve;
	o.force = p->force;
	o.all_or_nothing = p->all_or_nothing;
	o.dry_run = p->dry_run;
	o.node = p->node;
	o.cancel = &j->cancel;
	o.progress = on_progress;
	o.progress_userdata = j;
	for (unsigned i = 0; i < ARRAY_SIZE(zone_names); i++)
		if (p->zones & (1u << i))
			zones[n_zones++] = zone_names[i];
	if (n_zones) {
		o.zones = zones;
		o.n_zones = n_zones;
	}
	if (p->action == MO_ACTION_OFFLINE && !p->dry_run) {
		/*
		 * Forensics (forensics.h): the pages that keep a block from going
		 * offline, their owners and the kernel's log of them, one journal
		 * record per group (MESSAGE_IDs of memoff.catalog) as they appear,
		 * turn long-lived or go away. Without it the job runs as before.
		 */
		const struct mo_forensics_opts fo = {
			.long_lived_usec = p->long_lived_usec,
			.log = true,
			.job = j->log_id,
		};

		if (mo_forensics_new(j->q->root, &fo, &forensics) == 0) {
			o.hooks.attempt = mo_forensics_attempt;
			o.hooks.userdata = forensics;
		}
	}

	r = mo_job_new(j->q->root, &req, &o, &ej, &error);
	if (r < 0) {
		result = JOB_RESULT_FAILED;
		if (!error && asprintf(&error, "cannot plan the request: %s", strerror(-r)) < 0)
			error = NULL;
		message = TAKE_PTR(error);
		goto finish;
	}

	/* Publish the plan: the blocks this job works on, for overlap checks. */
	res = mo_job_result(ej);
	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < res->n_blocks; i++)
		plan_add(&j->sh, res->blocks[i].index);
	j->sh.blocks_wanted = res->wanted_blocks;
	j->sh.bytes_wanted = res->wanted_bytes;
	j->sh.progress_dirty = true;
	pthread_mutex_unlock(&j->lock);
	wake(j->q);

	r = mo_job_run(ej);
	res = mo_job_result(ej);
	if (r < 0) {
		result = JOB_RESULT_FAILED;
		if (asprintf(&message, "the job could not run: %s", strerror(-r)) < 0)
			message = NULL;
	} else {
		result = map_result(res);
		message = summary(j, res);
		mo_joblog_result(&j->log, res);
		if (!res->dry_run)
			publish_blocked(j, forensics, res->blocks, res->n_blocks);
	}

	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < res->n_blocks; i++) {
		const struct mo_block_result *b = &res->blocks[i];
		struct live_block *lb = live_find(&j->sh, b->index);

		if (!lb)
			break;
		lb->outcome = b->outcome;
		lb->attempts = b->attempts;
		lb->usec = b->usec;
		lb->reason = b->reason;
	}
	j->sh.blocks_dirty = true;
	j->sh.progress_dirty = true;
	j->sh.blocks_done = res->done_blocks;
	j->sh.blocks_wanted = res->wanted_blocks;
	j->sh.bytes_done = res->done_bytes;
	j->sh.bytes_wanted = res->wanted_bytes;
	j->sh.current = UINT64_MAX;
	pthread_mutex_unlock(&j->lock);

finish:
	pthread_mutex_lock(&j->lock);
	j->sh.finished = true;
	j->sh.result = result;
	j->sh.message = message;
	pthread_mutex_unlock(&j->lock);
	wake(j->q);
	return NULL;
}

/* ---- the release worker ---- */

struct release_ctx {
	struct job *j;
	struct mo_release *rel;     /* set once planned */
};

static const struct mo_release_device_result *release_device(const struct release_ctx *c, const char *name)
{
	const struct mo_release_result *res;

	if (!c->rel || !name)
		return NULL;
	res = mo_release_result(c->rel);
	for (size_t i = 0; i < res->n_devices; i++)
		if (streq(res->devices[i].name, name))
			return &res->devices[i];
	return NULL;
}

static void on_release_progress(const struct mo_release_progress *p, void *userdata)
{
	struct release_ctx *c = userdata;
	struct job *j = c->j;
	const struct mo_job_progress *jp = p->job;
	const struct mo_release_device_result *d;
	uint64_t bs = j->q->block_size;
	struct live_block *lb;

	pthread_mutex_lock(&j->lock);
	j->sh.progress_dirty = true;
	j->sh.bytes_done = p->released_bytes;
	j->sh.bytes_wanted = p->wanted_bytes;
	j->sh.blocks_done = bs ? p->released_bytes / bs : 0;
	j->sh.blocks_wanted = bs ? p->wanted_bytes / bs : 0;
	j->sh.current = jp && jp->phase != MO_PHASE_WAIT ? jp->block : UINT64_MAX;
	/* A device's blocks become the job's when it is tried (overlap checks). */
	if (p->phase == MO_RELEASE_PHASE_DEVICE && (d = release_device(c, p->device)))
		for (size_t i = 0; i < d->n_blocks; i++)
			plan_add(&j->sh, d->blocks[i].index);
	if (p->phase == MO_RELEASE_PHASE_BLOCK && jp)
		mo_joblog_progress(&j->log, jp);
	if (p->phase == MO_RELEASE_PHASE_BLOCK && jp && jp->phase == MO_PHASE_RESULT && jp->block != UINT64_MAX &&
	    (lb = live_find(&j->sh, jp->block))) {
		lb->outcome = jp->outcome;
		lb->outcome_name = NULL;
		lb->attempts = jp->attempt;
		lb->reason = mo_outcome_to_string(jp->outcome);
		j->sh.blocks_dirty = true;
	}
	pthread_mutex_unlock(&j->lock);
	wake(j->q);
}

static enum job_result map_release_result(const struct mo_release_result *r)
{
	if (r->stop == MO_STOP_CANCELLED)
		return JOB_RESULT_CANCELLED;
	switch (mo_release_exit_code(r)) {
	case 0:
		return JOB_RESULT_DONE;
	case 64:
		return JOB_RESULT_PARTIAL;
	default:
		return JOB_RESULT_FAILED;
	}
}

/* "released 512M of 512M (PNP0C80:01)", "dry run: would release ...", with the stop reason. */
static char *release_summary(const struct mo_release_result *r)
{
	char done[MO_FORMAT_SIZE_MAX], wanted[MO_FORMAT_SIZE_MAX], names[256] = "";
	enum mo_release_outcome want = r->dry_run ? MO_RELEASE_PLANNED : MO_RELEASE_RELEASED;
	size_t pos = 0;
	char *s = NULL;

	for (size_t i = 0; i < r->n_devices && pos < sizeof(names); i++) {
		int n;

		if (r->devices[i].outcome != want)
			continue;
		n = snprintf(names + pos, sizeof(names) - pos, "%s%s", pos ? ", " : " (", r->devices[i].name);
		if (n < 0)
			break;
		pos += (size_t) n;
	}
	if (pos && pos + 1 < sizeof(names))
		strcat(names, ")");
	if (asprintf(&s, "%s %s of %s%s%s%s",
		     r->dry_run ? "dry run: would release" : "released",
		     mo_format_size(r->dry_run ? r->planned_bytes : r->released_bytes, done),
		     mo_format_size(r->wanted_bytes, wanted), names,
		     r->stop == MO_STOP_FINISHED ? "" : ": ",
		     r->stop == MO_STOP_FINISHED ? "" : strempty(r->stop_reason)) < 0)
		return NULL;
	return s;
}

/* The final per-block outcomes: every block of every device tried or planned, naming its device. */
static void publish_release(struct job *j, const struct mo_release_result *res)
{
	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < res->n_devices; i++) {
		const struct mo_release_device_result *d = &res->devices[i];

		if (d->outcome == MO_RELEASE_NOT_TRIED || d->outcome == MO_RELEASE_INELIGIBLE)
			continue;
		for (size_t k = 0; k < d->n_blocks; k++) {
			const struct mo_block_result *b = &d->blocks[k];
			struct live_block *lb;
			char *reason = NULL;

			plan_add(&j->sh, b->index);
			lb = live_find(&j->sh, b->index);
			if (!lb)
				break;
			lb->outcome = b->outcome;
			lb->outcome_name = d->outcome == MO_RELEASE_RELEASED ? "released" : NULL;
			lb->attempts = b->attempts;
			lb->usec = b->usec;
			if (d->outcome == MO_RELEASE_RELEASED ?
			    asprintf(&reason, "%s released (offline, ejected)", d->name) < 0 :
			    asprintf(&reason, "%s %s: %s", d->name, mo_release_outcome_to_string(d->outcome),
				     b->reason) < 0)
				reason = NULL;
			free(lb->reason_owned);
			lb->reason_owned = reason;
			lb->reason = reason ? reason : b->reason;
		}
	}
	j->sh.blocks_dirty = true;
	j->sh.progress_dirty = true;
	j->sh.bytes_done = res->dry_run ? res->planned_bytes : res->released_bytes;
	j->sh.bytes_wanted = res->wanted_bytes;
	j->sh.blocks_done = res->block_size ? j->sh.bytes_done / res->block_size : 0;
	j->sh.blocks_wanted = res->block_size ? res->wanted_bytes / res->block_size : 0;
	j->sh.current = UINT64_MAX;
	pthread_mutex_unlock(&j->lock);
}

/* The journal records of a release's end: the headroom refusal, each block of a device given up. */
static void log_release(struct job *j, const struct mo_release_result *res)
{
	if (res->dry_run || res->stop == MO_STOP_CANCELLED)
		return;
	if (res->stop == MO_STOP_HEADROOM)
		mo_joblog_headroom(&j->log, UINT64_MAX, res->stop_reason, res->reserve);
	for (size_t i = 0; i < res->n_devices; i++) {
		const struct mo_release_device_result *d = &res->devices[i];

		if (d->outcome == MO_RELEASE_RELEASED || d->outcome == MO_RELEASE_NOT_TRIED ||
		    d->outcome == MO_RELEASE_INELIGIBLE)
			continue;
		for (size_t k = 0; k < d->n_blocks; k++) {
			const struct mo_block_result *b = &d->blocks[k];
			char why[160];

			if (b->attempts == 0 || mo_outcome_is_success(b->outcome) ||
			    b->outcome == MO_OUTCOME_CANCELLED || b->outcome == MO_OUTCOME_ROLLED_BACK)
				continue;
			snprintf(why, sizeof(why), "%s %s", d->name, mo_release_outcome_to_string(d->outcome));
			mo_joblog_gave_up(&j->log, b, why);
		}
	}
}

static void *release_worker(void *userdata)
{
	struct job *j = userdata;
	struct job_params *p = &j->params;
	struct release_ctx ctx = { .j = j };
	struct mo_release_options o;
	_cleanup_(mo_forensics_freep) struct mo_forensics *forensics = NULL;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	_cleanup_free_ char *error = NULL;
	const struct mo_release_result *res;
	enum job_result result;
	char *message;
	int r;

	mo_release_options_init(&o);
	o.attempt_timeout_usec = p->attempt_timeout_usec;
	o.deadline_usec = p->deadline_usec;
	if (p->eject_timeout_usec)
		o.eject_timeout_usec = p->eject_timeout_usec;
	o.backoff = p->backoff;
	o.reserve = p->reserve;
	o.force = p->force;
	o.dry_run = p->dry_run;
	o.node = p->node;
	o.cancel = &j->cancel;
	o.progress = on_release_progress;
	o.progress_userdata = &ctx;
	if (!p->dry_run) {
		/* as for an offline job: the pages that keep a device's blocks from going */
		const struct mo_forensics_opts fo = {
			.long_lived_usec = p->long_lived_usec,
			.log = true,
			.job = j->log_id,
		};

		if (mo_forensics_new(j->q->root, &fo, &forensics) == 0) {
			o.hooks.job.attempt = mo_forensics_attempt;
			o.hooks.job.userdata = forensics;
		}
	}

	r = mo_release_new(j->q->root, p->size, &o, &rel, &error);
	if (r < 0) {
		result = JOB_RESULT_FAILED;
		if (!error && asprintf(&error, "cannot plan the release: %s", strerror(-r)) < 0)
			error = NULL;
		message = TAKE_PTR(error);
		goto finish;
	}
	ctx.rel = rel;
	pthread_mutex_lock(&j->lock);
	j->sh.bytes_wanted = p->size;
	j->sh.blocks_wanted = j->q->block_size ? p->size / j->q->block_size : 0;
	j->sh.progress_dirty = true;
	pthread_mutex_unlock(&j->lock);
	wake(j->q);

	r = mo_release_run(rel);
	res = mo_release_result(rel);
	if (r < 0) {
		result = JOB_RESULT_FAILED;
		if (asprintf(&message, "the release could not run: %s", strerror(-r)) < 0)
			message = NULL;
	} else {
		result = map_release_result(res);
		message = release_summary(res);
		log_release(j, res);
		for (size_t i = 0; !res->dry_run && i < res->n_devices; i++)
			if (res->devices[i].outcome != MO_RELEASE_RELEASED)
				publish_blocked(j, forensics, res->devices[i].blocks, res->devices[i].n_blocks);
	}
	publish_release(j, res);

finish:
	pthread_mutex_lock(&j->lock);
	j->sh.finished = true;
	j->sh.result = result;
	j->sh.message = message;
	pthread_mutex_unlock(&j->lock);
	wake(j->q);
	return NULL;
}

static void start_next(struct job_queue *q);

static void finish_job(struct job_queue *q, struct job *j, enum job_result result, const char *message)
{
	j->rec.state = JOB_FINISHED;
	j->rec.result = result;
	j->rec.finished = now_realtime();
	free(j->rec.message);
	j->rec.message = strdup(strempty(message));
	j->current_block = UINT64_MAX;
	snprintf(j->log_id, sizeof(j->log_id), "%u", j->rec.id);
	mo_joblog_finished(j->log_id, j->rec.request, job_result_to_string(result), message);
	if (q->hooks.job_changed)
		q->hooks.job_changed(j, JOB_CHANGED_STATE | JOB_CHANGED_PROGRESS, q->hooks.userdata);
	if (q->hooks.job_finished)
		q->hooks.job_finished(j, q->hooks.userdata);
}

/* Take what the worker published; finish the job when the worker is done. */
static void collect(struct job_queue *q, struct job *j)
{
	unsigned what = 0;
	bool finished;
	enum job_result result = JOB_RESULT_NONE;
	_cleanup_free_ char *message = NULL;

	pthread_mutex_lock(&j->lock);
	if (j->sh.plan_dirty) {
		for (size_t i = 0; i < j->sh.n_plan; i++)
			if (!job_record_claims(&j->rec, j->sh.plan[i]) &&
			    job_record_set_claims_add(&j->rec, j->sh.plan[i]) == 0)
				what |= JOB_CHANGED_CLAIMS;
		j->sh.plan_dirty = false;
	}
	if (j->sh.progress_dirty) {
		j->rec.blocks_done = j->sh.blocks_done;
		j->rec.blocks_wanted = j->sh.blocks_wanted;
		j->rec.bytes_done = j->sh.bytes_done;
		j->rec.bytes_wanted = j->sh.bytes_wanted;
		j->current_block = j->sh.current;
		j->sh.progress_dirty = false;
		what |= JOB_CHANGED_PROGRESS;
	}
	if (j->sh.blocks_dirty) {
		for (size_t i = 0; i < j->sh.n_live; i++) {
			const struct live_block *lb = &j->sh.live[i];

			(void) job_record_add_block(&j->rec, lb->index,
						    lb->outcome_name ? lb->outcome_name : mo_outcome_to_string(lb->outcome),
						    lb->attempts, lb->usec, lb->reason);
		}
		j->sh.blocks_dirty = false;
		what |= JOB_CHANGED_BLOCKS;
	}
	if (j->sh.blocked_dirty) {
		reports_free(j->blocked, j->n_blocked);
		j->blocked = TAKE_PTR(j->sh.blocked);
		j->n_blocked = j->sh.n_blocked;
		j->sh.n_blocked = 0;
		j->sh.blocked_dirty = false;
		what |= JOB_CHANGED_BLOCKED;
	}
	finished = j->sh.finished;
	if (finished) {
		result = j->sh.result;
		message = TAKE_PTR(j->sh.message);
	}
	pthread_mutex_unlock(&j->lock);

	if (what & JOB_CHANGED_CLAIMS)
		persist(q);
	if (what && q->hooks.job_changed)
		q->hooks.job_changed(j, what, q->hooks.userdata);
	if (!finished)
		return;

	pthread_join(j->thread, NULL);
	j->have_thread = false;
	q->running = NULL;
	finish_job(q, j, result, message);
	trim(q);
	persist(q);
	start_next(q);
}

static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct job_queue *q = userdata;
	uint64_t n;

	(void) !read(fd, &n, sizeof(n));
	if (q->running)
		collect(q, q->running);
	return 0;
}

static int start_job(struct job_queue *q, struct job *j)
{
	sigset_t all, saved;
	int r;

	j->rec.state = JOB_RUNNING;
	j->rec.started = now_realtime();
	j->current_block = UINT64_MAX;
	q->running = j;
	snprintf(j->log_id, sizeof(j->log_id), "%u", j->rec.id);
	j->log = (struct mo_joblog) {
		.job = j->log_id,
		.action = j->params.kind == JOB_ONLINE ? j->params.action : MO_ACTION_OFFLINE,
		.block_size = q->block_size,
	};
	/* The worker blocks every signal; the engine unblocks MO_ATTEMPT_SIGNAL around its writes. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &saved);
	r = -pthread_create(&j->thread, NULL, j->params.kind == JOB_RELEASE ? release_worker : worker, j);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (r < 0) {
		q->running = NULL;
		finish_job(q, j, JOB_RESULT_FAILED, "cannot start a worker thread");
		return r;
	}
	j->have_thread = true;
	mo_log_info("Job %u (%s) started", j->rec.id, j->rec.request);
	if (q->hooks.job_changed)
		q->hooks.job_changed(j, JOB_CHANGED_STATE, q->hooks.userdata);
	return 0;
}

static void start_next(struct job_queue *q)
{
	while (!q->running) {
		struct job *next = NULL;

		for (size_t i = 0; i < q->n_jobs; i++)
			if (q->jobs[i]->rec.state == JOB_QUEUED) {
				next = q->jobs[i];
				break;
			}
		if (!next) {
			if (q->hooks.idle)
				q->hooks.idle(q->hooks.userdata);
			return;
		}
		(void) start_job(q, next);
		persist(q);
	}
}

/* ---- public ---- */

int job_queue_new(sd_event *event, const struct mo_root *root, const char *state_path,
		  const struct job_queue_hooks *hooks, struct job_queue **ret)
{
	struct job_queue *q;
	int r;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->event = sd_event_ref(event);
	q->root = root;
	q->next_id = 1;
	q->efd = -1;
	if (hooks)
		q->hooks = *hooks;
	if (state_path && !(q->state_path = strdup(state_path))) {
		job_queue_free(q);
		return -ENOMEM;
	}
	q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->efd < 0) {
		r = -errno;
		job_queue_free(q);
		return r;
	}
	r = sd_event_add_io(event, &q->efd_source, q->efd, EPOLLIN, on_wake, q);
	if (r < 0) {
		job_queue_free(q);
		return r;
	}
	(void) sd_event_source_set_description(q->efd_source, "job-worker");
	*ret = q;
	return 0;
}

void job_queue_free(struct job_queue *q)
{
	if (!q)
		return;
	if (q->running && q->running->have_thread) {
		q->running->cancel = 1;
		pthread_kill(q->running->thread, MO_ATTEMPT_SIGNAL);
		pthread_join(q->running->thread, NULL);
	}
	for (size_t i = 0; i < q->n_jobs; i++)
		job_free(q->jobs[i]);
	free(q->jobs);
	sd_event_source_disable_unref(q->efd_source);
	if (q->efd >= 0)
		close(q->efd);
	sd_event_unref(q->event);
	free(q->state_path);
	free(q);
}

static struct job *job_alloc(struct job_queue *q)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->q = q;
	j->current_block = UINT64_MAX;
	pthread_mutex_init(&j->lock, NULL);
	return j;
}

/* A job the daemon did not see finish: record what sysfs says about its blocks now. */
static void reconcile(struct job_queue *q, struct job *j)
{
	uint64_t done = 0;
	enum mo_state want = j->rec.kind == JOB_ONLINE ? MO_STATE_ONLINE : MO_STATE_OFFLINE;

	for (size_t i = 0; i < j->rec.n_claims; i++) {
		uint64_t b = j->rec.claims[i];
		enum mo_state st = MO_STATE_UNKNOWN;
		char reason[96];
		bool had = false, reached;

		for (size_t k = 0; k < j->rec.n_blocks; k++)
			had |= j->rec.blocks[k].index == b;
		if (mo_block_read_state(q->root, b, &st) < 0) {
			snprintf(reason, sizeof(reason), "after the restart the block no longer exists");
			/* A release ejects the device: its blocks vanishing is what it wanted. */
			if (j->rec.kind == JOB_RELEASE) {
				done++;
				(void) job_record_add_block(&j->rec, b, "released", 0, 0, reason);
				continue;
			}
		} else
			snprintf(reason, sizeof(reason), "after the restart the block is %s", mo_state_to_string(st));
		/* ... and a block of it still there was not released, offline or not. */
		reached = j->rec.kind != JOB_RELEASE && st == want;
		if (reached)
			done++;
		if (!had || !reached)
			(void) job_record_add_block(&j->rec, b, reached ? "done" : "interrupted",
						    0, 0, reason);
	}
	j->rec.blocks_done = done;
	if (q->block_size)
		j->rec.bytes_done = done * q->block_size;
}

int job_queue_load(struct job_queue *q, unsigned *n_interrupted)
{
	_cleanup_free_ char *text = NULL;
	struct job_record *recs = NULL;
	size_t n = 0;
	unsigned next = 1, bad = 0, interrupted = 0;
	char buf[64];
	_cleanup_fclose_ FILE *f = NULL;
	size_t len = 0;
	int r;

	*n_interrupted = 0;
	if (!q->state_path)
		return 0;
	if (mo_root_read(q->root, false, MO_SYSFS_MEMORY "/block_size_bytes", buf, sizeof(buf)) > 0)
		q->block_size = strtoull(buf, NULL, 16);
	f = fopen(q->state_path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	if (getdelim(&text, &len, '\0', f) < 0)
		return feof(f) ? 0 : -errno;
	r = job_records_parse(text, &recs, &n, &next, &bad);
	if (r < 0)
		return r;
	if (bad)
		mo_log_warning("%s: %u malformed lines skipped", q->state_path, bad);
	q->next_id = next;
	for (size_t i = 0; i < n; i++) {
		struct job *j = job_alloc(q);

		if (!j || add_job(q, j) < 0) {
			job_free(j);
			for (; i < n; i++)
				job_record_done(&recs[i]);
			r = -ENOMEM;
			break;
		}
		j->rec = recs[i];
		if (j->rec.state != JOB_FINISHED) {
			reconcile(q, j);
			j->rec.state = JOB_FINISHED;
			j->rec.result = JOB_RESULT_INTERRUPTED;
			j->rec.finished = now_realtime();
			free(j->rec.message);
			j->rec.message = strdup("the daemon stopped while the job was queued or running; "
						"block states were read back from sysfs");
			interrupted++;
			mo_log_warning("Job %u (%s) was interrupted: %" PRIu64 " of %zu blocks in the wanted state now",
				    j->rec.id, strempty(j->rec.request), j->rec.blocks_done, j->rec.n_claims);
		}
	}
	free(recs);
	trim(q);
	persist(q);
	*n_interrupted = interrupted;
	return r < 0 ? r : 0;
}

int job_queue_submit(struct job_queue *q, struct job_params *p, const char *request, uint64_t block_size,
		     struct job **ret, char **error)
{
	struct job *j;

	for (size_t i = 0; i < p->n_blocks; i++) {
		struct job *other = job_queue_claimed_by(q, p->blocks[i]);

		if (other) {
			if (error && asprintf(error, "block %" PRIu64 " belongs to job %u (%s, %s)",
					      p->blocks[i], other->rec.id, other->rec.request,
					      job_state_to_string(other->rec.state)) < 0)
				*error = NULL;
			return -EBUSY;
		}
	}
	j = job_alloc(q);
	if (!j)
		return -ENOMEM;
	if (add_job(q, j) < 0) {
		job_free(j);
		return -ENOMEM;
	}
	q->block_size = block_size;
	j->params = *p;
	*p = (struct job_params) {};
	j->rec.id = q->next_id++;
	if (q->next_id == 0)
		q->next_id = 1;
	j->rec.kind = j->params.kind;
	j->rec.state = JOB_QUEUED;
	j->rec.created = now_realtime();
	j->rec.request = strdup(request);
	j->rec.message = strdup("");
	(void) job_record_set_claims(&j->rec, j->params.blocks, j->params.n_blocks);
	j->rec.blocks_wanted = j->params.n_blocks;
	j->rec.bytes_wanted = j->params.n_blocks ? j->params.n_blocks * block_size : j->params.size;
	mo_log_info("Job %u (%s) queued", j->rec.id, j->rec.request);
	if (q->hooks.job_new)
		q->hooks.job_new(j, q->hooks.userdata);
	persist(q);
	*ret = j;
	start_next(q);
	return 0;
}

int job_queue_cancel(struct job_queue *q, struct job *j)
{
	switch (j->rec.state) {
	case JOB_FINISHED:
		return -EALREADY;
	case JOB_QUEUED:
		finish_job(q, j, JOB_RESULT_CANCELLED, "cancelled before it started");
		persist(q);
		if (!job_queue_busy(q) && q->hooks.idle)
			q->hooks.idle(q->hooks.userdata);
		return 0;
	case JOB_RUNNING:
	default:
		if (!j->cancel)
			mo_log_info("Job %u (%s): cancelling", j->rec.id, j->rec.request);
		j->cancel = 1;
		if (j->have_thread)
			pthread_kill(j->thread, MO_ATTEMPT_SIGNAL);
		return 0;
	}
}

void job_queue_cancel_all(struct job_queue *q)
{
	/* Queued ones first, so that the running one's end does not start them. */
	for (size_t i = 0; i < q->n_jobs; i++)
		if (q->jobs[i]->rec.state == JOB_QUEUED)
			(void) job_queue_cancel(q, q->jobs[i]);
	if (q->running)
		(void) job_queue_cancel(q, q->running);
}
