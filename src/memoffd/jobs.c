/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "job-internal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>

#include "block.h"
#include "statefile.h"
#include "log.h"
#include "pins-json.h"
#include "util.h"

#define KEEP_FINISHED 32
/* Bounds on the queue (and so on one rewrite of the state file). */
#define MAX_QUEUED 256
#define MAX_QUEUED_PER_UID 16
/* A state file larger than this is not ours. */
#define MAX_STATE_SIZE (64u << 20)

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

const char *job_progress(const struct job *j)
{
	return j->rec.state == JOB_RUNNING ? j->progress : "";
}

const char *job_report(const struct job *j)
{
	return j->report;
}

size_t job_blocked_pages(const struct job *j, struct mo_pin_report *const **ret)
{
	*ret = j->blocked;
	return j->n_blocked;
}

size_t job_devices(const struct job *j, const struct job_device **ret)
{
	*ret = j->devices;
	return j->n_devices;
}

void job_params_done(struct job_params *p)
{
	free(p->blocks);
	p->blocks = NULL;
	p->n_blocks = 0;
	free(p->device);
	p->device = NULL;
	free(p->what);
	p->what = NULL;
	free(p->excluded);
	p->excluded = NULL;
	p->n_excluded = 0;
}

static void shared_done(struct shared *s)
{
	for (size_t i = 0; i < s->n_live; i++)
		free(s->live[i].reason_owned);
	free(s->plan);
	free(s->live);
	free(s->message);
	free(s->report);
	mo_pin_reports_free(s->blocked, s->n_blocked);
	*s = (struct shared) {};
}

static void job_free(struct job *j)
{
	if (!j)
		return;
	job_record_done(&j->rec);
	job_params_done(&j->params);
	shared_done(&j->sh);
	mo_pin_reports_free(j->blocked, j->n_blocked);
	for (size_t i = 0; i < j->n_devices; i++)
		free(j->devices[i].reason);
	free(j->devices);
	free(j->report);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

/* ---- persistence ---- */

/*
 * Replace the state file with the records of every job (statefile.h: a
 * temporary file created O_EXCL|O_NOFOLLOW, synced, renamed, the directory
 * synced). The queue is bounded (MAX_QUEUED + KEEP_FINISHED + the running
 * job), so one rewrite is too.
 * Return: 0, or a negative errno (logged, at a limited rate).
 */
static int persist(struct job_queue *q)
{
	_cleanup_free_ const struct job_record **recs = NULL;
	_cleanup_free_ char *text = NULL;
	unsigned suppressed = 0;
	int r;

	if (!q->state_path)
		return 0;
	recs = calloc(q->n_jobs + 1, sizeof(*recs));
	if (!recs)
		return -ENOMEM;
	for (size_t i = 0; i < q->n_jobs; i++)
		recs[i] = &q->jobs[i]->rec;
	if (job_records_format(recs, q->n_jobs, q->next_id, &text) < 0)
		return -ENOMEM;
	r = mo_statefile_write(q->state_path, text, 0644, MAX_STATE_SIZE);
	if (r < 0 && mo_ratelimit_below(&q->persist_log, mo_monotonic_usec(), &suppressed))
		mo_log_warning_errno(r, "Cannot write %s (%u more such failures not logged): %m", q->state_path,
				     suppressed);
	return r;
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

/*
 * Forget the finished jobs beyond KEEP_FINISHED that finished first (not
 * the lowest ids: a client following a job that just finished must still
 * find it, and a stop keeps the job it cancelled).
 */
static void trim(struct job_queue *q)
{
	size_t finished = 0;

	for (size_t i = 0; i < q->n_jobs; i++)
		finished += q->jobs[i]->rec.state == JOB_FINISHED;
	for (; finished > KEEP_FINISHED; finished--) {
		size_t oldest = SIZE_MAX;

		for (size_t i = 0; i < q->n_jobs; i++) {
			const struct job_record *r = &q->jobs[i]->rec;

			if (r->state == JOB_FINISHED &&
			    (oldest == SIZE_MAX || r->finished < q->jobs[oldest]->rec.finished))
				oldest = i;
		}
		remove_job(q, oldest);
	}
}

void job_queue_set_hold_hotplug_knob(struct job_queue *q, bool hold)
{
	q->hold_hotplug_knob = hold;
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
		memcpy(j->progress, j->sh.progress, sizeof(j->progress));
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
		mo_pin_reports_free(j->blocked, j->n_blocked);
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
		free(j->report);
		j->report = TAKE_PTR(j->sh.report);
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
	j->params.hold_hotplug_knob = q->hold_hotplug_knob;
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
	r = -pthread_create(&j->thread, NULL, job_worker, j);
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
	q->persist_log = MO_RATELIMIT_INIT(60 * UINT64_C(1000000), 3);
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
	mo_pinmem_free(q->pins);
	free(q->pins_path);
	free(q);
}

int job_queue_load_pins(struct job_queue *q, const char *path)
{
	int r;

	if (!q->pins) {
		r = mo_pinmem_new(&q->pins);
		if (r < 0)
			return r;
	}
	free(q->pins_path);
	q->pins_path = strdup(path);
	if (!q->pins_path)
		return -ENOMEM;
	r = mo_pinmem_load(q->pins, path);
	return r < 0 ? r : 0;
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
	size_t len = 0;
	int r;

	*n_interrupted = 0;
	if (!q->state_path)
		return 0;
	(void) mo_memory_read_block_size(q->root, &q->block_size);
	r = mo_statefile_read_max(q->state_path, MAX_STATE_SIZE, &text, &len);
	if (r == -ENOENT || (r == 0 && len == 0))
		return 0;
	if (r < 0)
		return r;
	r = job_records_parse_n(text, len, &recs, &n, &next, &bad);
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
	unsigned queued, queued_uid;
	struct job *j;
	int r;

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
	queued = 0;
	queued_uid = 0;
	for (size_t i = 0; i < q->n_jobs; i++)
		if (q->jobs[i]->rec.state == JOB_QUEUED) {
			queued++;
			queued_uid += q->jobs[i]->rec.uid == p->uid;
		}
	if (queued >= MAX_QUEUED || (p->uid != 0 && queued_uid >= MAX_QUEUED_PER_UID)) {
		if (error && asprintf(error, "%u jobs are queued already%s (at most %u, %u for a uid other than root)",
				      queued_uid >= MAX_QUEUED_PER_UID && p->uid != 0 ? queued_uid : queued,
				      queued_uid >= MAX_QUEUED_PER_UID && p->uid != 0 ? " for this uid" : "",
				      MAX_QUEUED, MAX_QUEUED_PER_UID) < 0)
			*error = NULL;
		return -EUSERS;
	}
	/* Ids wrap past UINT32_MAX to 1, and never onto a job that is still known. */
	for (unsigned tries = 0; job_queue_find(q, q->next_id) || q->next_id == 0; tries++) {
		if (tries > q->n_jobs + 1)
			return -ENOSPC;
		q->next_id = q->next_id == UINT32_MAX ? 1 : q->next_id + 1;
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
	j->rec.id = q->next_id;
	q->next_id = q->next_id == UINT32_MAX ? 1 : q->next_id + 1;
	j->rec.uid = p->uid;
	j->rec.kind = j->params.kind;
	j->rec.state = JOB_QUEUED;
	j->rec.created = now_realtime();
	j->rec.request = strdup(request);
	j->rec.message = strdup("");
	j->rec.blocks_wanted = j->params.n_blocks;
	j->rec.bytes_wanted = j->params.n_blocks ? j->params.n_blocks * block_size : j->params.size;
	if (!j->rec.request || !j->rec.message ||
	    job_record_set_claims(&j->rec, j->params.blocks, j->params.n_blocks) < 0)
		r = -ENOMEM;
	else
		r = persist(q);
	if (r < 0) {
		/* A job that could not be recorded does not run: a crash would leave no trace of it. */
		j->params = (struct job_params) {};
		q->n_jobs--;
		job_free(j);
		if (error && asprintf(error, "the job cannot be recorded in %s: %s", strempty(q->state_path),
				      strerror(-r)) < 0)
			*error = NULL;
		return r == -ENOMEM ? r : -EIO;
	}
	*p = (struct job_params) {};
	mo_log_full(LOG_INFO, NULL, MO_FIELDS(MO_FIELD("MEMOFF_JOB", "%u", j->rec.id),
					      MO_FIELD("MEMOFF_UID", "%u", (unsigned) j->rec.uid)),
		    "Job %u (%s) queued by uid %u", j->rec.id, j->rec.request, (unsigned) j->rec.uid);
	if (q->hooks.job_new)
		q->hooks.job_new(j, q->hooks.userdata);
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
