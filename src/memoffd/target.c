/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "target.h"

#include <inttypes.h>

#include "attempt.h"
#include "backoff.h"
#include "bus-cloud.h"
#include "cloud.h"
#include "format.h"
#include "log.h"
#include "manager.h"
#include "parse.h"
#include "release.h"
#include "request.h"
#include "statefile.h"
#include "util.h"

#define TARGET_STATE_FILE "release-target"

struct target {
	struct manager *m;
	char *path;                   /* the state file */
	struct target_record rec;
	unsigned job;                 /* the target's release job, 0 when none */
	unsigned rounds;              /* jobs in a row that released nothing */
	uint64_t rng;
	sd_event_source *timer;       /* the next round */
};

uint64_t target_bytes(const struct target *t)
{
	return t->rec.target;
}

uint64_t target_released(const struct target *t)
{
	return t->rec.released;
}

bool target_done(const struct target *t)
{
	return t->rec.target > 0 && t->rec.released >= t->rec.target;
}

const char *target_state(const struct target *t)
{
	if (t->rec.target == 0)
		return "none";
	if (target_done(t))
		return "reached";
	return t->rec.given_up ? "given-up" : "working";
}

size_t target_devices(const struct target *t, const struct target_device **ret)
{
	*ret = t->rec.devices;
	return t->rec.n_devices;
}

static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void release_options(const struct target *t, struct mo_release_options *o)
{
	mo_release_options_init(o);
	o->hold_hotplug_knob = cloud_active(t->m->cloud);
}

int target_releasable(const struct target *t, uint64_t *bytes)
{
	struct mo_release_options o;

	release_options(t, &o);
	return mo_release_survey(t->m->root, &o, bytes, NULL);
}

static int persist(struct target *t)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = target_record_format(&t->rec, &text);
	if (r < 0)
		return r;
	r = mo_statefile_write(t->path, text, 0644, MO_STATEFILE_MAX);
	if (r < 0)
		mo_log_error_errno(r, "Cannot write %s: %m", t->path);
	return r;
}

static void kick(struct target *t);

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct target *t = userdata;

	t->timer = sd_event_source_disable_unref(t->timer);
	kick(t);
	return 0;
}

/* The next round after @usec. */
static void schedule(struct target *t, uint64_t usec)
{
	int r;

	t->timer = sd_event_source_disable_unref(t->timer);
	r = sd_event_add_time_relative(t->m->event, &t->timer, CLOCK_MONOTONIC, usec, 100 * 1000, on_timer, t);
	if (r < 0)
		mo_log_error_errno(r, "Cannot arm the release target's timer: %m");
	else
		(void) sd_event_source_set_description(t->timer, "release-target");
}

/* After a round that released nothing: the configured backoff, capped, for as long as it takes. */
static void back_off(struct target *t)
{
	const struct mo_config *c = &t->m->config;
	struct mo_backoff b = {
		.initial_usec = c->backoff_initial_usec,
		.factor = c->backoff_factor,
		.max_usec = c->backoff_cap_usec,
		.jitter = c->backoff_jitter_pct / 100.0,
	};
	uint64_t delay = mo_backoff_delay(&b, t->rounds ? t->rounds : 1, &t->rng), now = realtime_usec();
	char d[MO_DURATION_MAX];

	/* never past the deadline: the round after it gives up */
	if (t->rec.deadline_usec && t->rec.deadline_usec > now && t->rec.deadline_usec - now < delay)
		delay = t->rec.deadline_usec - now;

	mo_log_debug("Release target: next round in %s", mo_format_duration(delay, d, sizeof(d)));
	schedule(t, delay);
}

static struct job *our_job(struct target *t)
{
	struct job *j = t->job ? job_queue_find(t->m->jobs, t->job) : NULL;

	return j && job_record(j)->state != JOB_FINISHED ? j : NULL;
}

/* Start a round: a release job of what is left, or of what can go now when that is less. */
static void kick(struct target *t)
{
	struct request_options o = REQUEST_OPTIONS_INIT;
	struct job_params p = {};
	_cleanup_free_ char *text = NULL, *why = NULL;
	char want[MO_FORMAT_SIZE_MAX], can[MO_FORMAT_SIZE_MAX], bs[32];
	uint64_t left, releasable = 0;
	struct job *j;
	int r;

	if (t->m->stopping || t->rec.target == 0 || target_done(t) || t->rec.given_up || our_job(t) || t->timer)
		return;
	if (t->rec.deadline_usec && realtime_usec() >= t->rec.deadline_usec) {
		char a[MO_FORMAT_SIZE_MAX], b2[MO_FORMAT_SIZE_MAX];

		t->rec.given_up = true;
		(void) persist(t);
		mo_log_warning("Release target given up at its deadline: %s released of %s",
			       mo_format_size(t->rec.released, a), mo_format_size(t->rec.target, b2));
		bus_cloud_target_changed(t->m);
		return;
	}
	left = t->rec.target - t->rec.released;
	r = target_releasable(t, &releasable);
	if (r < 0 || releasable == 0) {
		if (r < 0)
			mo_log_warning_errno(r, "Release target: cannot read the hot-pluggable devices: %m");
		else
			mo_log_info("Release target: %s left, no device can be released now",
				    mo_format_size(left, want));
		t->rounds++;
		back_off(t);
		return;
	}
	/* The job plans by size; its devices are whole, so it may free up to one device more than asked. */
	snprintf(bs, sizeof(bs), "%" PRIu64, t->m->block_size);
	r = request_build(JOB_RELEASE, "size", bs, &o, &t->m->config, t->m->block_size, t->m->root, &p, NULL, &why);
	if (r >= 0) {
		p.size = left < releasable ? left : releasable;
		if (asprintf(&text, "release %s target", mo_format_size(p.size, want)) < 0)
			r = -ENOMEM;
	}
	if (r >= 0)
		r = job_queue_submit(t->m->jobs, &p, text, t->m->block_size, &j, &why);
	job_params_done(&p);
	if (r < 0) {
		mo_log_warning_errno(r, "Release target: cannot queue a release job: %s", why ? why : strerror(-r));
		t->rounds++;
		back_off(t);
		return;
	}
	t->job = job_id(j);
	mo_log_info("Release target: %s left, %s releasable now: job %u", mo_format_size(left, want),
		    mo_format_size(releasable, can), t->job);
}

void target_job_finished(struct target *t, struct job *j)
{
	const struct job_device *devs;
	size_t n;
	bool progress = false;
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX], c[MO_FORMAT_SIZE_MAX];

	if (!t || job_id(j) != t->job)
		return;
	t->job = 0;
	n = job_devices(j, &devs);
	for (size_t i = 0; i < n; i++) {
		const struct job_device *d = &devs[i];

		if (d->released) {
			if (target_record_add_device(&t->rec, d->name, d->size) < 0)
				t->rec.released += d->size;
			progress = true;
			mo_log_info("Release target: %s released (%s); %s of %s", d->name, mo_format_size(d->size, a),
				    mo_format_size(t->rec.released, b), mo_format_size(t->rec.target, c));
			bus_cloud_device_released(t->m, d->name, d->size);
		} else {
			_cleanup_free_ char *summary = cloud_device_summary(j, d, t->m->block_size);

			mo_log_info("Release target: %s not released this round: %s", d->name, strempty(summary));
			bus_cloud_device_blocked(t->m, d->name, d->size, strempty(summary));
		}
	}
	if (progress) {
		(void) persist(t);
		bus_cloud_target_changed(t->m);
	}
	if (t->rec.target == 0)
		return;
	if (target_done(t)) {
		mo_log_info("Release target reached: %s released of %s", mo_format_size(t->rec.released, a),
			    mo_format_size(t->rec.target, b));
		return;
	}
	if (job_record(j)->result == JOB_RESULT_CANCELLED && t->m->stopping)
		return;
	if (progress) {
		t->rounds = 0;
		kick(t);
	} else {
		t->rounds++;
		back_off(t);
	}
}

int target_set(struct target *t, uint64_t bytes, uint64_t deadline_usec, char **error)
{
	struct target_record old = t->rec;
	char a[MO_FORMAT_SIZE_MAX];
	struct job *j;
	int r;

	if (bytes % t->m->block_size != 0) {
		if (error && asprintf(error, "target %" PRIu64 " is not a multiple of the memory block size (%s)",
				      bytes, mo_format_size(t->m->block_size, a)) < 0)
			*error = NULL;
		return -EINVAL;
	}
	t->rec = (struct target_record) { .target = bytes, .set_usec = realtime_usec() };
	if (bytes && deadline_usec)
		t->rec.deadline_usec = t->rec.set_usec + deadline_usec;
	r = persist(t);
	if (r < 0) {
		target_record_done(&t->rec);
		t->rec = old;
		if (error && asprintf(error, "cannot write %s: %s", t->path, strerror(-r)) < 0)
			*error = NULL;
		return -EIO;
	}
	target_record_done(&old);
	j = our_job(t);
	if (j) {
		/*
		 * Its devices still count if it releases them before it stops. A
		 * queued job ends here and then (target_job_finished()) schedules a
		 * retry: the new target starts now instead.
		 */
		(void) job_queue_cancel(t->m->jobs, j);
	}
	t->rounds = 0;
	t->timer = sd_event_source_disable_unref(t->timer);
	if (bytes && deadline_usec) {
		char d[MO_DURATION_MAX];

		mo_log_info("Release target set: %s, deadline in %s", mo_format_size(bytes, a),
			    mo_format_duration(deadline_usec, d, sizeof(d)));
	} else if (bytes)
		mo_log_info("Release target set: %s", mo_format_size(bytes, a));
	else
		mo_log_info("Release target cleared");
	bus_cloud_target_changed(t->m);
	kick(t);
	return 0;
}

void target_start(struct target *t)
{
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX];

	if (t->rec.target && !target_done(t) && !t->rec.given_up)
		mo_log_info("Release target %s, %s released so far: resuming", mo_format_size(t->rec.target, a),
			    mo_format_size(t->rec.released, b));
	kick(t);
}

int target_new(struct manager *m, struct target **ret)
{
	_cleanup_free_ char *text = NULL;
	struct target *t = calloc(1, sizeof(*t));
	int r;

	if (!t || asprintf(&t->path, "%s/" TARGET_STATE_FILE, m->state_dir) < 0) {
		free(t);
		return mo_log_error_errno(ENOMEM, "Out of memory");
	}
	t->m = m;
	t->rng = mo_rng_init(mo_monotonic_usec());
	r = mo_statefile_read(t->path, &text);
	if (r >= 0)
		r = target_record_parse(text, &t->rec);
	if (r == -EBADMSG || r == -EFBIG)
		mo_log_warning("%s is not a memoffd release target file; it is replaced at the next change", t->path);
	else if (r < 0 && r != -ENOENT)
		mo_log_warning_errno(r, "Cannot read %s: %m", t->path);
	*ret = t;
	return 0;
}

void target_free(struct target *t)
{
	if (!t)
		return;
	sd_event_source_disable_unref(t->timer);
	target_record_done(&t->rec);
	free(t->path);
	free(t);
}
