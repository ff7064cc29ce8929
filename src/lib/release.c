/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Release (release.h): whole hot-pluggable devices offlined through the job
 * engine and ejected. One state machine over one struct mo_release: the
 * survey and plan (which devices, cheapest first), the run loop (try a
 * device, put its blocks back when it cannot be freed whole, retry later,
 * eject with the hotplug knob held) and the dry run. It is longer than our
 * ~900-line guide because the loop's steps share that struct's invariants
 * (a device is final, waiting or in play; its blocks are all offline or all
 * put back); splitting them would spread those invariants over two files.
 */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>

#include "engine-hooks.h"
#include "format.h"
#include "hotplug-knob.h"
#include "release.h"
#include "util.h"

/* One eligible device as the release works on it. */
struct cand {
	const struct mo_device *dev;
	struct mo_release_device_result *res;
	uint64_t next_try;          /* not before (monotonic µs) */
	bool final;                 /* nothing more to do with it */
	char reason[256];           /* res->reason when it is composed */
};

struct mo_release {
	const struct mo_root *root;
	struct mo_release_options o;
	struct mo_memory *mem;
	struct mo_devices devs;
	struct cand *c;             /* eligible devices, in rank order */
	size_t n_c;
	struct mo_release_result res;
	uint64_t rng, t0, deadline;
	bool ran, stopped;
	char stop_buf[256];
	/* The device being tried: the first block that did not go ends the try. */
	bool abandoned;
	uint64_t abandon_block;
	enum mo_outcome abandon_outcome;
	const char *abandon_reason;
	struct cand *cur;
};

static const char *const outcome_names[_MO_RELEASE_OUTCOME_MAX] = {
	[MO_RELEASE_NOT_TRIED] = "not-tried",
	[MO_RELEASE_INELIGIBLE] = "ineligible",
	[MO_RELEASE_PLANNED] = "planned",
	[MO_RELEASE_RELEASED] = "released",
	[MO_RELEASE_BUSY] = "busy",
	[MO_RELEASE_HEADROOM] = "headroom",
	[MO_RELEASE_EJECT_FAILED] = "eject-failed",
	[MO_RELEASE_UNCONFIRMED] = "unconfirmed",
	[MO_RELEASE_CANCELLED] = "cancelled",
	[MO_RELEASE_ERROR] = "error",
};

const char *mo_release_outcome_to_string(enum mo_release_outcome o)
{
	if ((unsigned) o >= _MO_RELEASE_OUTCOME_MAX)
		return "unknown";
	return outcome_names[o];
}

void mo_release_options_init(struct mo_release_options *o)
{
	struct mo_job_options jo;

	/* the engine's defaults, one place for them */
	mo_job_options_init(&jo);
	*o = (struct mo_release_options) {
		.attempt_timeout_usec = jo.attempt_timeout_usec,
		.deadline_usec = jo.deadline_usec,
		.eject_timeout_usec = MO_RELEASE_EJECT_TIMEOUT_USEC,
		.backoff = jo.backoff,
		.reserve = jo.reserve,
		.node = jo.node,
	};
}

uint64_t mo_release_plan(const uint64_t *sizes, size_t n, uint64_t size, bool *chosen)
{
	uint64_t total = 0;
	size_t last = 0;

	for (size_t i = 0; i < n; i++)
		chosen[i] = false;
	if (size == 0)
		return 0;
	for (size_t i = 0; i < n && total < size; i++) {
		chosen[i] = true;
		total += sizes[i];
		last = i;
	}
	if (total < size) {
		for (size_t i = 0; i < n; i++)
			chosen[i] = false;
		return 0;
	}
	/* Drop what the total can spare, least preferred first. */
	for (size_t i = last + 1; i-- > 0;)
		if (chosen[i] && total - sizes[i] >= size) {
			chosen[i] = false;
			total -= sizes[i];
		}
	return total;
}

/* ---- hooks: the engine calls these with the release as userdata ---- */

static int real_eject(void *userdata, const struct mo_root *root, const char *device)
{
	return mo_device_eject(root, device);
}

static bool user_cancelled(const struct mo_release *r)
{
	return r->o.cancel && *r->o.cancel;
}

static int wrap_attempt(void *userdata, const struct mo_root *root, uint64_t block, enum mo_action action,
			uint64_t timeout_usec, volatile sig_atomic_t *cancel, struct mo_attempt_result *ret)
{
	struct mo_release *r = userdata;
	int rc;

	if (action == MO_ACTION_OFFLINE && r->abandoned) {
		/* The engine stops at a cancelled attempt and puts back what it took. */
		*ret = (struct mo_attempt_result) {
			.outcome = MO_OUTCOME_CANCELLED,
			.reason = "not tried: another block of the device did not go offline",
			.state = MO_STATE_UNKNOWN,
		};
		return 0;
	}
	rc = r->o.hooks.job.attempt(r->o.hooks.job.userdata, root, block, action, timeout_usec, cancel, ret);
	if (action == MO_ACTION_OFFLINE && !mo_outcome_is_success(ret->outcome) &&
	    ret->outcome != MO_OUTCOME_CANCELLED && !r->abandoned) {
		r->abandoned = true;
		r->abandon_block = block;
		r->abandon_outcome = ret->outcome;
		r->abandon_reason = ret->reason ? ret->reason : mo_outcome_to_string(ret->outcome);
	}
	return rc;
}

static uint64_t wrap_now(void *userdata)
{
	struct mo_release *r = userdata;

	return r->o.hooks.job.now(r->o.hooks.job.userdata);
}

static int wrap_sleep(void *userdata, uint64_t usec, volatile sig_atomic_t *cancel)
{
	struct mo_release *r = userdata;

	return r->o.hooks.job.sleep(r->o.hooks.job.userdata, usec, cancel);
}

static int wrap_headroom(void *userdata, const struct mo_root *root, struct mo_headroom *out)
{
	struct mo_release *r = userdata;

	return r->o.hooks.job.headroom(r->o.hooks.job.userdata, root, out);
}

static uint64_t now(struct mo_release *r)
{
	return wrap_now(r);
}

static void emit(struct mo_release *r, enum mo_release_phase phase, const struct cand *c,
		 const struct mo_job_progress *jp, uint64_t wait)
{
	struct mo_release_progress p;

	if (!r->o.progress)
		return;
	p = (struct mo_release_progress) {
		.phase = phase,
		.device = c ? c->dev->name : NULL,
		.device_size = c ? c->dev->size : 0,
		.attempt = c ? c->res->tries : 0,
		.job = jp,
		.outcome = c ? c->res->outcome : MO_RELEASE_NOT_TRIED,
		.reason = c ? c->res->reason : NULL,
		.released_bytes = r->res.released_bytes,
		.wanted_bytes = r->res.wanted_bytes,
		.released_devices = r->res.released_devices,
		.wait_usec = wait,
		.elapsed_usec = now(r) - r->t0,
	};
	r->o.progress(&p, r->o.progress_userdata);
}

static void wrap_progress(const struct mo_job_progress *p, void *userdata)
{
	struct mo_release *r = userdata;

	/* The engine reporting the attempt that wrap_attempt() refused: not news. */
	if (p->phase == MO_PHASE_RESULT && p->outcome == MO_OUTCOME_CANCELLED && r->abandoned &&
	    !user_cancelled(r))
		return;
	emit(r, MO_RELEASE_PHASE_BLOCK, r->cur, p, 0);
}

/* ---- planning ---- */

void mo_release_free(struct mo_release *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->res.n_devices; i++)
		free(r->res.devices[i].blocks);
	free(r->res.devices);
	free(r->c);
	mo_devices_done(&r->devs);
	mo_memory_free(r->mem);
	free(r);
}

const struct mo_release_result *mo_release_result(const struct mo_release *r)
{
	return &r->res;
}

static int fill_result(struct mo_release_device_result *dr, const struct mo_device *d)
{
	*dr = (struct mo_release_device_result) {
		.start = d->start,
		.size = d->size,
		.node = d->node,
		.outcome = d->skip == MO_DEVICE_ELIGIBLE ? MO_RELEASE_NOT_TRIED : MO_RELEASE_INELIGIBLE,
		.reason = d->skip == MO_DEVICE_ELIGIBLE ? "not tried" : mo_device_skip_to_string(d->skip),
		.skip = d->skip,
		.tier = d->tier,
		.cost = d->cost,
		.have_census = d->have_census,
		.census = d->census,
	};
	snprintf(dr->name, sizeof(dr->name), "%s", d->name);
	dr->blocks = calloc(d->n_blocks ? d->n_blocks : 1, sizeof(*dr->blocks));
	if (!dr->blocks)
		return -ENOMEM;
	dr->n_blocks = d->n_blocks;
	for (size_t i = 0; i < d->n_blocks; i++) {
		const struct mo_device_block *b = &d->blocks[i];

		dr->blocks[i] = (struct mo_block_result) {
			.index = b->index,
			.start = b->start,
			.size = b->size,
			.node = d->node,
			.outcome = b->state == MO_STATE_OFFLINE ? MO_OUTCOME_ALREADY : MO_OUTCOME_NOT_TRIED,
			.action = MO_ACTION_OFFLINE,
			.reason = b->state == MO_STATE_OFFLINE ? "already offline" : "not tried",
			.movable_zone = b->movable_zone,
			.have_census = b->have_census,
			.census = b->census,
			.tier = b->tier,
		};
	}
	return 0;
}

/* An eligible device with a block in one of @excluded is not. */
static void exclude_devices(struct mo_devices *devs, const struct mo_addr_range *excluded, size_t n_excluded)
{
	for (size_t i = 0; i < devs->n; i++) {
		struct mo_device *d = &devs->d[i];

		for (size_t k = 0; d->skip == MO_DEVICE_ELIGIBLE && k < d->n_blocks; k++)
			if (mo_addr_ranges_overlap(excluded, n_excluded, d->blocks[k].start,
						   d->blocks[k].start + d->blocks[k].size - 1))
				d->skip = MO_DEVICE_EXCLUDED;
	}
}

/* Why the eligible devices are not enough: the first few ineligible ones and why. */
static void explain(const struct mo_release *r, char *buf, size_t len)
{
	size_t pos = 0, shown = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < r->devs.n && shown < 4; i++) {
		const struct mo_device *d = &r->devs.d[i];
		int n;

		if (d->skip == MO_DEVICE_ELIGIBLE)
			continue;
		n = snprintf(buf + pos, len - pos, "; %s: %s", d->name, mo_device_skip_to_string(d->skip));
		if (n < 0 || (size_t) n >= len - pos)
			break;
		pos += (size_t) n;
		shown++;
	}
}

/* @survey: only load and rank the devices (any size, even 0, even more than there is). */
static int release_new(const struct mo_root *root, uint64_t size, const struct mo_release_options *o, bool survey,
		       struct mo_release **ret, char **error)
{
	_cleanup_(mo_release_freep) struct mo_release *r = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *cr = NULL;
	_cleanup_free_ const struct mo_device **order = NULL;
	struct mo_iomem io = {};
	bool have_io = false;
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX], why[512];
	size_t k = 0;
	int rc;

	if (error)
		*error = NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->root = root;
	r->o = *o;
	if (!r->o.eject_timeout_usec)
		r->o.eject_timeout_usec = MO_RELEASE_EJECT_TIMEOUT_USEC;
	if (mo_engine_limits_fill(&r->o.attempt_timeout_usec, &r->o.deadline_usec, &r->o.backoff) < 0)
		return mo_engine_fail(error, -EINVAL, "invalid backoff parameters");
	mo_engine_hooks_fill(&r->o.hooks.job);
	if (!r->o.hooks.eject)
		r->o.hooks.eject = real_eject;
	r->rng = mo_rng_init(r->o.backoff.seed);

	rc = mo_memory_load(root, &r->mem);
	if (rc < 0)
		return mo_engine_fail(error, rc, "cannot read the memory blocks under %s/sys/" MO_SYSFS_MEMORY ": %s",
			    streq(root->sysroot, "/") ? "" : root->sysroot, strerror(-rc));
	r->res.block_size = r->mem->block_size;
	r->res.wanted_bytes = size;
	r->res.dry_run = r->o.dry_run;
	if (size == 0 && !r->o.device && !survey)
		return mo_engine_fail(error, -EINVAL, "size must not be zero");
	if (size % r->mem->block_size != 0)
		return mo_engine_fail(error, -EINVAL, "size must be aligned to the memory block size (%s)",
			    mo_format_size(r->mem->block_size, a));

	if (mo_iomem_read(root, &io) == 0)
		have_io = true;
	rc = mo_census_reader_new(root, &cr);
	if (rc < 0)
		r->res.census_error = rc;
	rc = mo_devices_load(root, r->mem, have_io ? &io : NULL, cr, r->o.node, &r->devs);
	if (rc >= 0) {
		/* Keep the driver-managed names valid without the iomem: they only say why. */
		for (size_t i = 0; i < r->devs.n; i++)
			if (r->devs.d[i].managed)
				r->devs.d[i].managed = "driver-managed";
	}
	if (have_io)
		mo_iomem_done(&io);
	if (rc < 0)
		return mo_engine_fail(error, rc, "cannot read the hot-pluggable memory devices: %s", strerror(-rc));
	if (r->devs.census_error)
		r->res.census_error = r->devs.census_error;
	if (r->o.device) {
		/* One device: the others are none of this release's business. */
		struct mo_device *d = mo_devices_find(&r->devs, r->o.device);

		if (!d)
			return mo_engine_fail(error, -ENOENT, "%s is not a hot-pluggable memory device owning memory blocks",
				    r->o.device);
		if (size && size != d->size)
			return mo_engine_fail(error, -EINVAL, "%s holds %s, not %s", d->name,
				    mo_format_size(d->size, a), mo_format_size(size, b));
		if (d != r->devs.d) {
			struct mo_device t = r->devs.d[0];

			r->devs.d[0] = *d;
			*d = t;
		}
		for (size_t i = 1; i < r->devs.n; i++)
			free(r->devs.d[i].blocks);
		r->devs.n = 1;
		size = r->res.wanted_bytes = r->devs.d[0].size;
	}
	for (size_t i = 0; r->o.hold_hotplug_knob && i < r->devs.n; i++)
		if (r->devs.d[i].skip == MO_DEVICE_HOTPLUG_DISABLED)
			r->devs.d[i].skip = MO_DEVICE_ELIGIBLE;
	exclude_devices(&r->devs, r->o.excluded, r->o.n_excluded);
	r->res.hotplug_disabled = r->devs.hotplug_disabled;
	r->res.n_found = r->devs.n;

	/* Results: eligible devices in rank order, then the others by address. */
	order = calloc(r->devs.n ? r->devs.n : 1, sizeof(*order));
	r->res.devices = calloc(r->devs.n ? r->devs.n : 1, sizeof(*r->res.devices));
	r->c = calloc(r->devs.n ? r->devs.n : 1, sizeof(*r->c));
	if (!order || !r->res.devices || !r->c)
		return -ENOMEM;
	for (size_t i = 0; i < r->devs.n; i++)
		if (r->devs.d[i].skip == MO_DEVICE_ELIGIBLE)
			order[k++] = &r->devs.d[i];
	qsort(order, k, sizeof(*order), mo_device_rank);
	r->n_c = k;
	for (size_t i = 0; i < r->devs.n; i++)
		if (r->devs.d[i].skip != MO_DEVICE_ELIGIBLE)
			order[k++] = &r->devs.d[i];
	for (size_t i = 0; i < k; i++) {
		rc = fill_result(&r->res.devices[i], order[i]);
		if (rc < 0)
			return rc;
		r->res.n_devices++;
		if (i < r->n_c) {
			r->c[i] = (struct cand) { .dev = order[i], .res = &r->res.devices[i] };
			r->res.n_eligible++;
			r->res.eligible_bytes += order[i]->size;
		}
	}

	if (r->res.eligible_bytes < size && !survey) {
		explain(r, why, sizeof(why));
		if (r->devs.n == 0)
			return mo_engine_fail(error, -ENOSPC, "cannot release %s: no hot-pluggable memory device "
				    "(no memory block links to an ACPI memory device)", mo_format_size(size, a));
		return mo_engine_fail(error, -ENOSPC, "cannot release %s as whole devices: the %zu eligible of %zu "
			    "hot-pluggable devices hold %s%s", mo_format_size(size, a), r->res.n_eligible,
			    r->res.n_found, mo_format_size(r->res.eligible_bytes, b), why);
	}
	r->res.stop = MO_STOP_EXHAUSTED;
	r->res.stop_reason = mo_job_stop_to_string(MO_STOP_EXHAUSTED);
	*ret = TAKE_PTR(r);
	return 0;
}

int mo_release_new(const struct mo_root *root, uint64_t size, const struct mo_release_options *o,
		   struct mo_release **ret, char **error)
{
	return release_new(root, size, o, false, ret, error);
}

int mo_release_survey(const struct mo_root *root, const struct mo_release_options *o, uint64_t *bytes,
		      size_t *n_devices)
{
	_cleanup_(mo_release_freep) struct mo_release *r = NULL;
	int rc = release_new(root, 0, o, true, &r, NULL);

	if (rc < 0)
		return rc;
	if (!r)
		return -EIO;   /* not reached: release_new() sets it on success */
	*bytes = r->res.eligible_bytes;
	if (n_devices)
		*n_devices = r->res.n_eligible;
	return 0;
}

/* ---- running ---- */

static void stop(struct mo_release *r, enum mo_job_stop s, const char *fmt, ...) _printf_(3, 4);
static void stop(struct mo_release *r, enum mo_job_stop s, const char *fmt, ...)
{
	va_list ap;

	r->stopped = true;
	r->res.stop = s;
	if (!fmt) {
		r->res.stop_reason = mo_job_stop_to_string(s);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(r->stop_buf, sizeof(r->stop_buf), fmt, ap);
	va_end(ap);
	r->res.stop_reason = r->stop_buf;
}

static void set_reason(struct cand *c, const char *fmt, ...) _printf_(2, 3);
static void set_reason(struct cand *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	c->res->reason = c->reason;
}

static uint64_t reserve(const struct mo_release *r)
{
	if (r->o.reserve != MO_JOB_RESERVE_DEFAULT)
		return r->o.reserve;
	return mo_headroom_default_reserve(r->res.headroom.mem_total);
}

static struct mo_block_result *block_result(struct cand *c, uint64_t index)
{
	for (size_t i = 0; i < c->res->n_blocks; i++)
		if (c->res->blocks[i].index == index)
			return &c->res->blocks[i];
	return NULL;
}

/* Put back online the blocks this try took (after the engine finished). */
static void put_back(struct mo_release *r, struct cand *c)
{
	for (size_t i = 0; i < c->res->n_blocks; i++) {
		struct mo_block_result *b = &c->res->blocks[i];
		struct mo_attempt_result ar;
		enum mo_action a = b->movable_zone ? MO_ACTION_ONLINE_MOVABLE : MO_ACTION_ONLINE;

		if (b->outcome != MO_OUTCOME_DONE)
			continue;
		(void) r->o.hooks.job.attempt(r->o.hooks.job.userdata, r->root, b->index, a,
					      r->o.attempt_timeout_usec, NULL, &ar);
		if (ar.outcome == MO_OUTCOME_INVALID && a == MO_ACTION_ONLINE_MOVABLE)
			(void) r->o.hooks.job.attempt(r->o.hooks.job.userdata, r->root, b->index, MO_ACTION_ONLINE,
						      r->o.attempt_timeout_usec, NULL, &ar);
		if (mo_outcome_is_success(ar.outcome)) {
			b->outcome = MO_OUTCOME_ROLLED_BACK;
			b->reason = "put back online (the device was not released)";
		} else {
			c->res->rollback_failed = true;
			b->reason = "offlined; putting it back online failed";
			b->error = ar.error;
		}
	}
}

/* The blocks costliest first: the one most likely to fail is tried before any is taken. */
static int cmp_costliest(const void *a, const void *b)
{
	const struct mo_device_block *x = a, *y = b;
	uint64_t cx = x->have_census ? x->census.cost : UINT64_MAX, cy = y->have_census ? y->census.cost : UINT64_MAX;

	if ((x->state == MO_STATE_ONLINE) != (y->state == MO_STATE_ONLINE))
		return x->state == MO_STATE_ONLINE ? -1 : 1;
	if (x->tier != y->tier)
		return x->tier > y->tier ? -1 : 1;
	if (cx != cy)
		return cx > cy ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Take a finished engine run's per-block outcomes into the device's result. */
static void take_blocks(struct mo_release *r, struct cand *c, const struct mo_job_result *jr)
{
	for (size_t i = 0; i < jr->n_blocks; i++) {
		const struct mo_block_result *src = &jr->blocks[i];
		struct mo_block_result *dst = block_result(c, src->index);

		if (!dst)
			continue;
		*dst = *src;
		dst->managed = NULL;
		if (src->outcome == MO_OUTCOME_CANCELLED && r->abandoned && !user_cancelled(r)) {
			dst->outcome = MO_OUTCOME_NOT_TRIED;
			dst->reason = "not tried: another block of the device did not go offline";
		}
	}
}

/* Every block still reads offline (nothing onlined one behind our back). */
static int check_offline(struct mo_release *r, struct cand *c, uint64_t *bad)
{
	for (size_t i = 0; i < c->dev->n_blocks; i++) {
		enum mo_state st;
		int rc = mo_block_read_state(r->root, c->dev->blocks[i].index, &st);

		*bad = c->dev->blocks[i].index;
		if (rc < 0)
			return rc;
		if (st != MO_STATE_OFFLINE)
			return -EBUSY;
	}
	return 0;
}

static void retry_later(struct mo_release *r, struct cand *c, bool retryable)
{
	if (retryable && mo_backoff_may_retry(&r->o.backoff, c->res->tries))
		c->next_try = usec_add(now(r), mo_backoff_delay(&r->o.backoff, c->res->tries, &r->rng));
	else
		c->final = true;
}

/* hold_hotplug_knob: the eject is over (its worker has run, or we stop waiting): back to 0. */
static void knob_back(struct mo_release *r)
{
	int rc;

	if (!r->o.hold_hotplug_knob)
		return;
	rc = mo_hotplug_knob_write(r->root, false);
	if (rc < 0)
		r->res.hotplug_knob_error = rc;
}

/* Eject a device whose blocks are all offline and wait for them to vanish. */
static void eject(struct mo_release *r, struct cand *c)
{
	uint64_t t0, limit, bad = 0;
	char sz[MO_FORMAT_SIZE_MAX];
	int rc;

	rc = check_offline(r, c, &bad);
	if (rc < 0) {
		put_back(r, c);
		if (rc == -EBUSY) {
			c->res->outcome = MO_RELEASE_BUSY;
			set_reason(c, "block %" PRIu64 " came back online before the eject; the blocks taken "
				   "were put back online", bad);
			retry_later(r, c, true);
		} else {
			c->res->outcome = MO_RELEASE_ERROR;
			set_reason(c, "block %" PRIu64 " cannot be read before the eject: %s", bad, strerror(-rc));
			c->final = true;
		}
		return;
	}

	emit(r, MO_RELEASE_PHASE_EJECT, c, NULL, 0);
	t0 = now(r);
	rc = r->o.hold_hotplug_knob ? mo_hotplug_knob_write(r->root, true) : 0;
	if (rc < 0) {
		put_back(r, c);
		c->res->outcome = MO_RELEASE_EJECT_FAILED;
		set_reason(c, "cannot enable %s for the eject: %s; the blocks taken were put back online%s",
			   MO_SYSFS_ACPI_MEMORY_HOTPLUG, strerror(-rc), c->res->rollback_failed ? " (not all of them)" : "");
		c->final = true;
		stop(r, MO_STOP_ERROR, "cannot write %s: %s", MO_SYSFS_ACPI_MEMORY_HOTPLUG, strerror(-rc));
		return;
	}
	rc = r->o.hooks.eject(r->o.hooks.job.userdata, r->root, c->dev->name);
	if (rc < 0) {
		knob_back(r);
		put_back(r, c);
		c->res->outcome = MO_RELEASE_EJECT_FAILED;
		set_reason(c, "writing %s/%s/eject failed: %s; the blocks taken were put back online%s",
			   MO_SYSFS_ACPI_DEVICES, c->dev->name, strerror(-rc),
			   c->res->rollback_failed ? " (not all of them)" : "");
		c->final = true;
		if (rc == -EROFS || rc == -EACCES || rc == -EPERM)
			stop(r, MO_STOP_ERROR, "cannot write the eject file of %s: %s", c->dev->name, strerror(-rc));
		return;
	}

	/* Cut at the deadline: the caller is never held past it. */
	limit = usec_add(t0, r->o.eject_timeout_usec);
	if (limit > r->deadline)
		limit = r->deadline;
	for (;;) {
		uint64_t t;

		if (mo_device_gone(r->root, c->dev) == 1) {
			knob_back(r);
			c->res->outcome = MO_RELEASE_RELEASED;
			c->res->eject_usec = now(r) - t0;
			set_reason(c, "released %s: offline, ejected, its blocks are gone",
				   mo_format_size(c->dev->size, sz));
			c->final = true;
			r->res.released_bytes += c->dev->size;
			r->res.released_devices++;
			return;
		}
		t = now(r);
		if (t >= limit)
			break;
		if (r->o.hooks.job.sleep(r->o.hooks.job.userdata, limit - t < MO_RELEASE_POLL_USEC ?
					 limit - t : MO_RELEASE_POLL_USEC, r->o.cancel) == -ECANCELED) {
			knob_back(r);
			c->res->outcome = MO_RELEASE_UNCONFIRMED;
			set_reason(c, "cancelled after the eject was written; the kernel may still complete it");
			c->final = true;
			stop(r, MO_STOP_CANCELLED, NULL);
			return;
		}
	}
	knob_back(r);
	c->res->outcome = MO_RELEASE_UNCONFIRMED;
	c->res->eject_usec = now(r) - t0;
	set_reason(c, "eject written, but its blocks were still there after %.1f s; the kernel may still "
		   "complete it", (double) c->res->eject_usec / 1e6);
	c->final = true;
	stop(r, limit == r->deadline ? MO_STOP_DEADLINE : MO_STOP_ERROR,
	     "%s: eject not confirmed within %.1f s", c->dev->name, (double) c->res->eject_usec / 1e6);
}

static void try_device(struct mo_release *r, struct cand *c)
{
	_cleanup_(mo_job_freep) struct mo_job *j = NULL;
	_cleanup_free_ char *error = NULL;
	_cleanup_free_ uint64_t *blocks = NULL;
	_cleanup_free_ struct mo_device_block *sorted = NULL;
	struct mo_job_request req = { .action = MO_ACTION_OFFLINE };
	struct mo_job_options jo;
	const struct mo_job_result *jr;
	uint64_t t0 = now(r), left = r->deadline > t0 ? r->deadline - t0 : 0;
	int rc;

	r->cur = c;
	r->abandoned = false;
	c->res->tries++;
	c->res->outcome = MO_RELEASE_NOT_TRIED;
	c->res->reason = "trying";
	emit(r, MO_RELEASE_PHASE_DEVICE, c, NULL, 0);

	sorted = malloc(c->dev->n_blocks * sizeof(*sorted));
	blocks = malloc(c->dev->n_blocks * sizeof(*blocks));
	if (!sorted || !blocks) {
		c->res->outcome = MO_RELEASE_ERROR;
		c->res->reason = "out of memory";
		stop(r, MO_STOP_ERROR, "out of memory");
		goto out;
	}
	memcpy(sorted, c->dev->blocks, c->dev->n_blocks * sizeof(*sorted));
	qsort(sorted, c->dev->n_blocks, sizeof(*sorted), cmp_costliest);
	for (size_t i = 0; i < c->dev->n_blocks; i++)
		blocks[i] = sorted[i].index;
	req.blocks = blocks;
	req.n_blocks = c->dev->n_blocks;

	mo_job_options_init(&jo);
	jo.attempt_timeout_usec = r->o.attempt_timeout_usec;
	jo.deadline_usec = left;
	jo.backoff = r->o.backoff;
	jo.backoff.max_attempts = 1;   /* retries are per device, after the others had their turn */
	jo.backoff.seed = mo_rng_next(&r->rng);
	jo.reserve = r->o.reserve;
	jo.force = r->o.force;
	jo.all_or_nothing = true;
	jo.cancel = r->o.cancel;
	jo.progress = wrap_progress;
	jo.progress_userdata = r;
	jo.hooks = (struct mo_job_hooks) {
		.attempt = wrap_attempt,
		.now = wrap_now,
		.sleep = wrap_sleep,
		.headroom = wrap_headroom,
		.userdata = r,
	};

	rc = mo_job_new(r->root, &req, &jo, &j, &error);
	if (rc < 0) {
		c->res->outcome = MO_RELEASE_ERROR;
		set_reason(c, "%s", error ? error : strerror(-rc));
		c->final = true;
		goto out;
	}
	rc = mo_job_run(j);
	jr = mo_job_result(j);
	take_blocks(r, c, jr);
	if (jr->rollback_failed)
		c->res->rollback_failed = true;

	if (rc < 0) {
		c->res->outcome = MO_RELEASE_ERROR;
		set_reason(c, "the offline could not run: %s", strerror(-rc));
		c->final = true;
	} else if (user_cancelled(r)) {
		c->res->outcome = MO_RELEASE_CANCELLED;
		set_reason(c, "cancelled; the blocks taken were put back online%s",
			   jr->rollback_failed ? " (not all of them)" : "");
		c->final = true;
		stop(r, MO_STOP_CANCELLED, NULL);
	} else if (r->abandoned) {
		c->res->outcome = MO_RELEASE_BUSY;
		set_reason(c, "block %" PRIu64 ": %s; the blocks taken were put back online%s", r->abandon_block,
			   r->abandon_reason, jr->rollback_failed ? " (not all of them)" : "");
		retry_later(r, c, mo_outcome_is_retryable(r->abandon_outcome) && !jr->rollback_failed);
	} else if (jr->stop == MO_STOP_HEADROOM) {
		c->res->outcome = MO_RELEASE_HEADROOM;
		set_reason(c, "%s", jr->stop_reason);
		c->final = true;
		stop(r, MO_STOP_HEADROOM, "%s: %s", c->dev->name, jr->stop_reason);
	} else if (jr->stop == MO_STOP_ERROR) {
		c->res->outcome = MO_RELEASE_ERROR;
		set_reason(c, "%s", jr->stop_reason);
		c->final = true;
		stop(r, MO_STOP_ERROR, "%s", jr->stop_reason);
	} else if (jr->stop == MO_STOP_DEADLINE) {
		c->res->outcome = MO_RELEASE_BUSY;
		set_reason(c, "the deadline came first; the blocks taken were put back online");
		c->final = true;
		stop(r, MO_STOP_DEADLINE, NULL);
	} else if (jr->stop != MO_STOP_FINISHED) {
		c->res->outcome = MO_RELEASE_ERROR;
		set_reason(c, "%s", jr->stop_reason ? jr->stop_reason : mo_job_stop_to_string(jr->stop));
		c->final = true;
	} else
		eject(r, c);
out:
	c->res->usec += now(r) - t0;
	emit(r, MO_RELEASE_PHASE_RESULT, c, NULL, 0);
	r->cur = NULL;
}

/* The devices still in play, fewest tries first, then rank (stable). */
static size_t in_play(struct mo_release *r, struct cand **out)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_c; i++)
		if (!r->c[i].final)
			out[n++] = &r->c[i];
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && out[k - 1]->res->tries > out[k]->res->tries; k--) {
			struct cand *t = out[k];
			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

/* An array of one @size element per candidate device (at least one). */
static void *per_candidate(const struct mo_release *r, size_t size)
{
	return calloc(r->n_c ? r->n_c : 1, size);
}

/* The headroom and the reserve before the first device. Return: false when meminfo cannot be read. */
static bool start_headroom(struct mo_release *r)
{
	if (wrap_headroom(r, r->root, &r->res.headroom) < 0)
		return false;
	r->res.have_headroom = true;
	r->res.reserve = reserve(r);
	return true;
}

static int execute(struct mo_release *r)
{
	_cleanup_free_ struct cand **play = NULL;
	_cleanup_free_ uint64_t *sizes = NULL;
	_cleanup_free_ bool *chosen = NULL;
	char a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX];

	play = per_candidate(r, sizeof(*play));
	sizes = per_candidate(r, sizeof(*sizes));
	chosen = per_candidate(r, sizeof(*chosen));
	if (!play || !sizes || !chosen)
		return -ENOMEM;

	/* unreadable: the job offlining each device stops under the guard itself */
	(void) start_headroom(r);

	while (!r->stopped) {
		uint64_t t, want, earliest = UINT64_MAX;
		struct cand *next = NULL;
		size_t n;

		if (r->res.released_bytes >= r->res.wanted_bytes) {
			stop(r, MO_STOP_FINISHED, NULL);
			break;
		}
		if (user_cancelled(r)) {
			stop(r, MO_STOP_CANCELLED, NULL);
			break;
		}
		want = r->res.wanted_bytes - r->res.released_bytes;
		n = in_play(r, play);
		for (size_t i = 0; i < n; i++)
			sizes[i] = play[i]->dev->size;
		if (n == 0) {
			if (r->res.released_devices == 0)
				stop(r, MO_STOP_EXHAUSTED, "no device could be freed");
			else
				stop(r, MO_STOP_EXHAUSTED, "no device left that could be freed (%s of %s released)",
				     mo_format_size(r->res.released_bytes, a), mo_format_size(r->res.wanted_bytes, b));
			break;
		}
		/* Devices failed and the rest cannot make up the size: release what can be (partly done). */
		if (mo_release_plan(sizes, n, want, chosen) == 0)
			for (size_t i = 0; i < n; i++)
				chosen[i] = true;
		t = now(r);
		for (size_t i = 0; i < n && !next; i++) {
			if (!chosen[i])
				continue;
			if (play[i]->next_try <= t)
				next = play[i];
			else if (play[i]->next_try < earliest)
				earliest = play[i]->next_try;
		}
		if (!next) {
			uint64_t wait;

			if (earliest >= r->deadline) {
				stop(r, MO_STOP_DEADLINE, NULL);
				break;
			}
			wait = mo_deadline_sleep(t, earliest, r->deadline);
			emit(r, MO_RELEASE_PHASE_WAIT, NULL, NULL, wait);
			if (wrap_sleep(r, wait, r->o.cancel) == -ECANCELED) {
				stop(r, MO_STOP_CANCELLED, NULL);
				break;
			}
			continue;
		}
		if (t >= r->deadline || r->deadline - t < MO_JOB_MIN_ATTEMPT_USEC) {
			stop(r, MO_STOP_DEADLINE, NULL);
			break;
		}
		try_device(r, next);
	}
	return 0;
}

static int dry_run(struct mo_release *r)
{
	_cleanup_free_ uint64_t *sizes = NULL;
	_cleanup_free_ bool *chosen = NULL;
	struct mo_headroom sim;
	bool guarded = !r->o.force;

	sizes = per_candidate(r, sizeof(*sizes));
	chosen = per_candidate(r, sizeof(*chosen));
	if (!sizes || !chosen)
		return -ENOMEM;

	if (!start_headroom(r) && guarded) {
		stop(r, MO_STOP_HEADROOM, "cannot read the memory statistics (meminfo) for the headroom guard");
		return 0;
	}
	sim = r->res.headroom;

	for (size_t i = 0; i < r->n_c; i++)
		sizes[i] = r->c[i].dev->size;
	(void) mo_release_plan(sizes, r->n_c, r->res.wanted_bytes, chosen);
	for (size_t i = 0; i < r->n_c && !r->stopped; i++) {
		struct cand *c = &r->c[i];

		if (!chosen[i])
			continue;
		for (size_t k = 0; k < c->res->n_blocks; k++) {
			struct mo_block_result *b = &c->res->blocks[k];
			const char *why = NULL;

			if (b->outcome == MO_OUTCOME_ALREADY)
				continue;
			if (guarded && mo_headroom_check(&sim, c->dev->node, b->size, r->res.reserve, &why) < 0) {
				b->outcome = MO_OUTCOME_HEADROOM;
				b->reason = why ? why : "would breach the memory reserve";
				c->res->outcome = MO_RELEASE_HEADROOM;
				c->res->reason = b->reason;
				stop(r, MO_STOP_HEADROOM, "%s: %s", c->dev->name, b->reason);
				break;
			}
			if (r->res.have_headroom)
				mo_headroom_account(&sim, c->dev->node, b->size);
			b->outcome = MO_OUTCOME_PLANNED;
			b->reason = "would be offlined";
		}
		if (r->stopped)
			break;
		c->res->outcome = MO_RELEASE_PLANNED;
		c->res->reason = "would be offlined and ejected";
		r->res.planned_bytes += c->dev->size;
		r->res.planned_devices++;
	}
	r->res.headroom_after = sim;
	if (!r->stopped)
		stop(r, r->res.planned_bytes >= r->res.wanted_bytes ? MO_STOP_FINISHED : MO_STOP_EXHAUSTED, NULL);
	return 0;
}

int mo_release_run(struct mo_release *r)
{
	int rc;

	if (r->ran)
		return -EALREADY;
	r->ran = true;
	r->t0 = now(r);
	r->deadline = usec_add(r->t0, r->o.deadline_usec);  /* UINT64_MAX: no deadline */
	rc = r->o.dry_run ? dry_run(r) : execute(r);
	r->res.usec = now(r) - r->t0;
	return rc;
}

int mo_release_exit_code(const struct mo_release_result *r)
{
	uint64_t got = r->dry_run ? r->planned_bytes : r->released_bytes;

	if (r->wanted_bytes > 0 && got >= r->wanted_bytes)
		return 0;
	if (got == 0)
		return 1;
	return 64;
}
