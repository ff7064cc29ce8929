/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The worker thread of a job (job-internal.h). Every kind of job takes one
 * path, run_engine(): the engine's options from the job's parameters, the
 * forensics (forensics.h) that name what blocks an offline, plan, run, the
 * result and its message, the journal, the blocked-page reports, the final
 * per-block outcomes. What differs by kind is behind struct engine_kind:
 * the job engine (job.h) for offline and online, a release (release.h),
 * which drives the engine device by device, for release.
 */
#include "job-internal.h"

#include <inttypes.h>

#include "forensics.h"
#include "format.h"
#include "job.h"
#include "job-report.h"
#include "log.h"
#include "pinmem.h"
#include "parse.h"
#include "release.h"
#include "util.h"

/* In the order of the MO_ZONE_* bits. */

/* One engine at work for a job. */
struct engine {
	struct job *j;
	struct mo_forensics *forensics;   /* offline and release, not for a dry run; may be NULL */
	const char *zones[8];             /* the zone names the options point to */
	struct mo_job *job;               /* offline, online */
	struct mo_release *rel;           /* release */
};

/* How a run ended, as its kind tells it. */
struct engine_end {
	enum mo_job_stop stop;
	struct job_report report;         /* its exit code and result; run_engine() adds the job's part */
	char *message;                    /* the summary (the Message property), or NULL */
};

struct engine_kind {
	const char *request;              /* "cannot plan the %s" */
	const char *run;                  /* "the %s could not run" */
	/* the options, then the engine planned: 0, or an errno with *error perhaps set */
	int (*plan)(struct engine *e, char **error);
	int (*run_it)(struct engine *e);
	/* after a run that returned 0: how it ended (@end), the journal, the blocked pages */
	void (*result)(struct engine *e, struct engine_end *end);
	/* after any run: the final per-block outcomes */
	void (*publish)(struct engine *e);
};

/* The options mo_job_options and mo_release_options have alike, under the same names. */
#define ENGINE_OPTIONS(o, e) \
	do { \
		const struct job_params *_p = &(e)->j->params; \
		(o)->attempt_timeout_usec = _p->attempt_timeout_usec; \
		(o)->deadline_usec = _p->deadline_usec; \
		(o)->backoff = _p->backoff; \
		(o)->reserve = _p->reserve; \
		(o)->force = _p->force; \
		(o)->dry_run = _p->dry_run; \
		(o)->node = _p->node; \
		(o)->cancel = &(e)->j->cancel; \
	} while (0)

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

/* A block's result as the engine reports it on the way (MO_PHASE_RESULT), lock held. */
static void live_progress(struct shared *s, const struct mo_job_progress *p)
{
	struct live_block *lb;

	if (p->phase != MO_PHASE_RESULT || p->block == UINT64_MAX || !(lb = live_find(s, p->block)))
		return;
	lb->outcome = p->outcome;
	lb->outcome_name = NULL;
	lb->attempts = p->attempt;
	lb->reason = mo_outcome_to_string(p->outcome);
	s->blocks_dirty = true;
}

/* A block's final result, lock held. Return: its live entry, or NULL without memory. */
static struct live_block *live_final(struct shared *s, const struct mo_block_result *b)
{
	struct live_block *lb = live_find(s, b->index);

	if (!lb)
		return NULL;
	lb->outcome = b->outcome;
	lb->attempts = b->attempts;
	lb->usec = b->usec;
	lb->reason = b->reason;
	s->blocks_dirty = true;
	return lb;
}

/* The job's progress as the loop publishes it, lock held. */
static void set_progress(struct shared *s, uint64_t blocks_done, uint64_t blocks_wanted, uint64_t bytes_done,
			 uint64_t bytes_wanted, uint64_t current)
{
	s->progress_dirty = true;
	s->blocks_done = blocks_done;
	s->blocks_wanted = blocks_wanted;
	s->bytes_done = bytes_done;
	s->bytes_wanted = bytes_wanted;
	s->current = current;
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

	mo_joblog_progress(&j->log, p);
	pthread_mutex_lock(&j->lock);
	set_progress(&j->sh, p->done_blocks, p->wanted_blocks, p->done_bytes, p->wanted_bytes,
		     p->phase == MO_PHASE_WAIT ? UINT64_MAX : p->block);
	progress_text_job(p, j->sh.progress);
	if (p->block != UINT64_MAX)
		plan_add(&j->sh, p->block);
	live_progress(&j->sh, p);
	pthread_mutex_unlock(&j->lock);
	wake(j->q);
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

/* The forensics' attempt hook, when there are forensics. */
static void forensics_hooks(const struct engine *e, struct mo_job_hooks *h)
{
	if (!e->forensics)
		return;
	h->attempt = mo_forensics_attempt;
	h->userdata = e->forensics;
}

/* What the job wants, once planned. */
static void publish_wanted(struct job *j, uint64_t blocks, uint64_t bytes)
{
	pthread_mutex_lock(&j->lock);
	j->sh.blocks_wanted = blocks;
	j->sh.bytes_wanted = bytes;
	j->sh.progress_dirty = true;
	pthread_mutex_unlock(&j->lock);
	wake(j->q);
}

static enum job_result map_result(enum mo_job_stop stop, int exit_code)
{
	if (stop == MO_STOP_CANCELLED)
		return JOB_RESULT_CANCELLED;
	switch (exit_code) {
	case 0:
		return JOB_RESULT_DONE;
	case 64:
		return JOB_RESULT_PARTIAL;
	default:
		return JOB_RESULT_FAILED;
	}
}

/* ---- offline and online: the job engine ---- */

static int engine_plan(struct engine *e, char **error)
{
	struct job *j = e->j;
	const struct job_params *p = &j->params;
	const struct mo_job_request req = {
		.action = p->action,
		.prefer_movable = p->prefer_movable,
		.size = p->size,
		.blocks = p->blocks,
		.n_blocks = p->n_blocks,
	};
	const struct mo_job_result *res;
	struct mo_job_options o;
	size_t n_zones = 0;
	int r;

	mo_job_options_init(&o);
	ENGINE_OPTIONS(&o, e);
	o.all_or_nothing = p->all_or_nothing;
	o.progress = on_progress;
	o.progress_userdata = j;
	for (unsigned z = 1; z <= MO_ZONE_ALL; z <<= 1)
		if (p->zones & z)
			e->zones[n_zones++] = mo_zone_to_string(z);
	if (n_zones) {
		o.zones = e->zones;
		o.n_zones = n_zones;
	}
	forensics_hooks(e, &o.hooks);
	o.pinmem = j->q->pins;
	o.excluded = p->excluded;
	o.n_excluded = p->n_excluded;
	r = mo_job_new(j->q->root, &req, &o, &e->job, error);
	if (r < 0)
		return r;

	/* Publish the plan: the blocks this job works on, for overlap checks. */
	res = mo_job_result(e->job);
	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < res->n_blocks; i++)
		plan_add(&j->sh, res->blocks[i].index);
	pthread_mutex_unlock(&j->lock);
	publish_wanted(j, res->wanted_blocks, res->wanted_bytes);
	return 0;
}

static int engine_run(struct engine *e)
{
	return mo_job_run(e->job);
}

static void engine_result(struct engine *e, struct engine_end *end)
{
	const struct mo_job_result *res = mo_job_result(e->job);

	end->stop = res->stop;
	end->report.exit_code = mo_job_exit_code(res);
	end->report.res = res;
	end->message = summary(e->j, res);
	mo_joblog_result(&e->j->log, res);
	if (!res->dry_run)
		publish_blocked(e->j, e->forensics, res->blocks, res->n_blocks);
}

static void engine_publish(struct engine *e)
{
	const struct mo_job_result *res = mo_job_result(e->job);
	struct job *j = e->j;

	pthread_mutex_lock(&j->lock);
	for (size_t i = 0; i < res->n_blocks; i++)
		if (!live_final(&j->sh, &res->blocks[i]))
			break;
	j->sh.blocks_dirty = true;
	set_progress(&j->sh, res->done_blocks, res->wanted_blocks, res->done_bytes, res->wanted_bytes, UINT64_MAX);
	pthread_mutex_unlock(&j->lock);
}

static const struct engine_kind engine_job = {
	.request = "request",
	.run = "job",
	.plan = engine_plan,
	.run_it = engine_run,
	.result = engine_result,
	.publish = engine_publish,
};

/* ---- release: whole devices (release.h) ---- */

static const struct mo_release_device_result *release_device(const struct engine *e, const char *name)
{
	const struct mo_release_result *res;

	if (!e->rel || !name)
		return NULL;
	res = mo_release_result(e->rel);
	for (size_t i = 0; i < res->n_devices; i++)
		if (streq(res->devices[i].name, name))
			return &res->devices[i];
	return NULL;
}

static void on_release_progress(const struct mo_release_progress *p, void *userdata)
{
	struct engine *e = userdata;
	struct job *j = e->j;
	const struct mo_job_progress *jp = p->job;
	const struct mo_release_device_result *d;
	uint64_t bs = j->q->block_size;

	pthread_mutex_lock(&j->lock);
	set_progress(&j->sh, bs ? p->released_bytes / bs : 0, bs ? p->wanted_bytes / bs : 0, p->released_bytes,
		     p->wanted_bytes, jp && jp->phase != MO_PHASE_WAIT ? jp->block : UINT64_MAX);
	progress_text_release(p, j->sh.progress);
	/* A device's blocks become the job's when it is tried (overlap checks). */
	if (p->phase == MO_RELEASE_PHASE_DEVICE && (d = release_device(e, p->device)))
		for (size_t i = 0; i < d->n_blocks; i++)
			plan_add(&j->sh, d->blocks[i].index);
	if (p->phase == MO_RELEASE_PHASE_BLOCK && jp) {
		mo_joblog_progress(&j->log, jp);
		live_progress(&j->sh, jp);
	}
	pthread_mutex_unlock(&j->lock);
	wake(j->q);
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
static void release_publish(struct engine *e)
{
	const struct mo_release_result *res = mo_release_result(e->rel);
	uint64_t done = res->dry_run ? res->planned_bytes : res->released_bytes, bs = res->block_size;
	struct job *j = e->j;

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
			lb = live_final(&j->sh, b);
			if (!lb)
				break;
			lb->outcome_name = d->outcome == MO_RELEASE_RELEASED ? "released" : NULL;
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
	set_progress(&j->sh, bs ? done / bs : 0, bs ? res->wanted_bytes / bs : 0, done, res->wanted_bytes,
		     UINT64_MAX);
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

/* The devices the release tried, for the job's owner (job_devices()). */
static void publish_devices(struct job *j, const struct mo_release_result *res)
{
	struct job_device *v = calloc(res->n_devices ? res->n_devices : 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return;
	for (size_t i = 0; !res->dry_run && i < res->n_devices; i++) {
		const struct mo_release_device_result *d = &res->devices[i];

		if (d->outcome == MO_RELEASE_NOT_TRIED || d->outcome == MO_RELEASE_INELIGIBLE)
			continue;
		snprintf(v[n].name, sizeof(v[n].name), "%s", d->name);
		v[n].start = d->start;
		v[n].size = d->size;
		v[n].released = d->outcome == MO_RELEASE_RELEASED;
		v[n].outcome = mo_release_outcome_to_string(d->outcome);
		v[n].reason = strdup(d->reason);
		n++;
	}
	pthread_mutex_lock(&j->lock);
	j->devices = v;
	j->n_devices = n;
	pthread_mutex_unlock(&j->lock);
}

static int release_plan(struct engine *e, char **error)
{
	struct job *j = e->j;
	const struct job_params *p = &j->params;
	struct mo_release_options o;
	int r;

	mo_release_options_init(&o);
	ENGINE_OPTIONS(&o, e);
	if (p->eject_timeout_usec)
		o.eject_timeout_usec = p->eject_timeout_usec;
	o.device = p->device;
	o.hold_hotplug_knob = p->hold_hotplug_knob;
	o.excluded = p->excluded;
	o.n_excluded = p->n_excluded;
	o.progress = on_release_progress;
	o.progress_userdata = e;
	forensics_hooks(e, &o.hooks.job);
	r = mo_release_new(j->q->root, p->size, &o, &e->rel, error);
	if (r < 0)
		return r;
	/* a device's release wants the device's size */
	publish_wanted(j, j->q->block_size ? mo_release_result(e->rel)->wanted_bytes / j->q->block_size : 0,
		       mo_release_result(e->rel)->wanted_bytes);
	return 0;
}

static int release_run(struct engine *e)
{
	return mo_release_run(e->rel);
}

static void release_result(struct engine *e, struct engine_end *end)
{
	const struct mo_release_result *res = mo_release_result(e->rel);

	end->stop = res->stop;
	end->report.exit_code = mo_release_exit_code(res);
	end->report.release = res;
	end->message = release_summary(res);
	log_release(e->j, res);
	for (size_t i = 0; !res->dry_run && i < res->n_devices; i++)
		if (res->devices[i].outcome != MO_RELEASE_RELEASED)
			publish_blocked(e->j, e->forensics, res->devices[i].blocks, res->devices[i].n_blocks);
	publish_devices(e->j, res);
}

static const struct engine_kind engine_release = {
	.request = "release",
	.run = "release",
	.plan = release_plan,
	.run_it = release_run,
	.result = release_result,
	.publish = release_publish,
};

/* ---- remembered pins ---- */

/*
 * Forget the remembered pins of blocks that are no longer online (offlined by
 * anyone, or gone), and write the store back when it changed.
 */
static void remember_pins(struct job_queue *q)
{
	int r;

	if (!q->pins)
		return;
	for (size_t i = q->pins->n; i > 0; i--) {
		uint64_t block = q->pins->blocks[i - 1].block;
		char path[96], buf[32];
		ssize_t n;

		snprintf(path, sizeof(path), MO_SYSFS_MEMORY "/memory%" PRIu64 "/state", block);
		n = mo_root_read(q->root, false, path, buf, sizeof(buf));
		if (n == -ENOENT || (n >= 0 && !streq(buf, "online")))
			mo_pinmem_forget(q->pins, block);
	}
	if (!q->pins->dirty || !q->pins_path)
		return;
	r = mo_pinmem_save(q->pins, q->pins_path);
	if (r < 0)
		mo_log_warning_errno(r, "Cannot write %s: %m", q->pins_path);
}

/* ---- the one path ---- */

static void engine_done(struct engine *e)
{
	mo_job_free(e->job);
	mo_release_free(e->rel);
	mo_forensics_free(e->forensics);
}

static void *run_engine(struct job *j, const struct engine_kind *k)
{
	const struct job_params *p = &j->params;
	struct engine e = { .j = j };
	_cleanup_free_ char *error = NULL;
	enum job_result result;
	char *message = NULL;
	int r;

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
			.stall_grace_usec = p->stall_grace_usec,
			/* what stalled or timed out is remembered; a release ranks devices, not blocks */
			.pinmem = p->kind == JOB_RELEASE ? NULL : j->q->pins,
			/* a cancel or a stop abandons an owners scan stuck in a process's maps */
			.owners.cancel = &j->cancel,
		};

		if (mo_forensics_new(j->q->root, &fo, &e.forensics) < 0)
			e.forensics = NULL;
	}

	r = k->plan(&e, &error);
	if (r < 0) {
		result = JOB_RESULT_FAILED;
		if (!error && asprintf(&error, "cannot plan the %s: %s", k->request, strerror(-r)) < 0)
			error = NULL;
		message = TAKE_PTR(error);
		goto finish;
	}
	r = k->run_it(&e);
	if (r < 0) {
		result = JOB_RESULT_FAILED;
		if (asprintf(&message, "the %s could not run: %s", k->run, strerror(-r)) < 0)
			message = NULL;
	} else {
		struct engine_end end = {};
		char *report = NULL;

		k->result(&e, &end);
		result = map_result(end.stop, end.report.exit_code);
		message = end.message;
		/* the finished job's report document (the Report property) */
		end.report.request = p->what ?: j->rec.request;
		end.report.force = p->force;
		if (job_report_string(&end.report, &report) == 0) {
			pthread_mutex_lock(&j->lock);
			free(j->sh.report);
			j->sh.report = report;
			pthread_mutex_unlock(&j->lock);
		}
	}
	k->publish(&e);

finish:
	remember_pins(j->q);
	pthread_mutex_lock(&j->lock);
	j->sh.finished = true;
	j->sh.result = result;
	j->sh.message = message;
	pthread_mutex_unlock(&j->lock);
	wake(j->q);
	engine_done(&e);
	return NULL;
}

void *job_worker(void *userdata)
{
	struct job *j = userdata;

	return run_engine(j, j->params.kind == JOB_RELEASE ? &engine_release : &engine_job);
}
