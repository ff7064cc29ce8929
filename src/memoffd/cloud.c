/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cloud.h"

#include <inttypes.h>

#include "eject-request.h"
#include "format.h"
#include "hook.h"
#include "hotplug-knob.h"
#include "kmsg.h"
#include "log.h"
#include "manager.h"
#include "pins.h"
#include "request.h"
#include "util.h"

struct cloud {
	struct manager *m;
	bool active;                   /* the knob is held and /dev/kmsg watched */
	bool give_back_pending;        /* switched off while a release job ran with the knob held */
	struct mo_kmsg_reader *kmsg;
	sd_event_source *kmsg_source;
	/* The job answering the latest request, per device (a small list: a guest has a few DIMMs). */
	struct pending {
		char device[32];
		unsigned job;
	} *pending;
	size_t n_pending;
};

bool cloud_active(const struct cloud *c)
{
	return c && c->active;
}

static void give_back(struct cloud *c)
{
	bool restored = false;
	int r;

	r = mo_hotplug_knob_give_back(c->m->root, c->m->state_dir, &restored);
	if (r < 0)
		mo_log_error_errno(r, "Cannot put back %s as found (saved in %s/%s): %m",
				   MO_SYSFS_ACPI_MEMORY_HOTPLUG, c->m->state_dir, MO_HOTPLUG_KNOB_SAVE_FILE);
	else if (r > 0)
		mo_log_info("Put %s back to %d, as found", MO_SYSFS_ACPI_MEMORY_HOTPLUG, restored);
	c->give_back_pending = false;
}

/* The job already answering @device's eject request, or NULL. */
static struct job *pending_job(struct cloud *c, const char *device)
{
	for (size_t i = 0; i < c->n_pending; i++) {
		struct job *j;

		if (!streq(c->pending[i].device, device))
			continue;
		j = job_queue_find(c->m->jobs, c->pending[i].job);
		if (j && job_record(j)->state != JOB_FINISHED)
			return j;
	}
	return NULL;
}

static void remember(struct cloud *c, const char *device, unsigned job)
{
	struct pending *n;

	for (size_t i = 0; i < c->n_pending; i++)
		if (streq(c->pending[i].device, device)) {
			c->pending[i].job = job;
			return;
		}
	n = realloc(c->pending, (c->n_pending + 1) * sizeof(*n));
	if (!n)
		return;   /* only a duplicate request could then be queued twice: harmless */
	c->pending = n;
	snprintf(n[c->n_pending].device, sizeof(n->device), "%s", device);
	n[c->n_pending++].job = job;
}

static void on_eject_request(struct cloud *c, const char *device)
{
	struct request_options o = REQUEST_OPTIONS_INIT;
	struct job_params p = {};
	_cleanup_free_ char *text = NULL, *why = NULL;
	struct job *j;
	int r;

	j = pending_job(c, device);
	if (j) {
		mo_log_info("%s: eject requested by the firmware again; job %u is on it", device, job_id(j));
		return;
	}
	if (c->m->stopping) {
		mo_log_warning("%s: eject requested by the firmware while memoffd stops: refused", device);
		return;
	}
	r = request_build(JOB_RELEASE, "device", device, &o, &c->m->config, c->m->block_size, c->m->root,
			  &p, &text, &why);
	if (r >= 0)
		r = job_queue_submit(c->m->jobs, &p, text, c->m->block_size, &j, &why);
	job_params_done(&p);
	if (r < 0) {
		mo_log_error_errno(r, "%s: eject requested by the firmware; cannot queue its release: %s", device,
				   why ? why : strerror(-r));
		return;
	}
	remember(c, device, job_id(j));
	mo_log_info("%s: eject requested by the firmware (refused by the kernel, %s is 0): job %u (%s)",
		    device, MO_SYSFS_ACPI_MEMORY_HOTPLUG, job_id(j), job_record(j)->request);
}

static int on_kmsg(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct cloud *c = userdata;
	struct mo_kmsg_record rec;
	uint64_t lost = mo_kmsg_reader_lost(c->kmsg);
	char device[32];
	int r;

	while ((r = mo_kmsg_reader_read(c->kmsg, &rec)) > 0)
		if (mo_eject_request_match(&rec, device, sizeof(device)))
			on_eject_request(c, device);
	if (r < 0)
		mo_log_warning_errno(r, "Cannot read /dev/kmsg: %m");
	if (mo_kmsg_reader_lost(c->kmsg) != lost)
		mo_log_warning("%" PRIu64 " kernel log records were overwritten before memoffd read them: an eject "
			       "request among them is not answered (the host may request it again)",
			       mo_kmsg_reader_lost(c->kmsg) - lost);
	return 0;
}

static void stop_watching(struct cloud *c)
{
	c->kmsg_source = sd_event_source_disable_unref(c->kmsg_source);
	mo_kmsg_reader_free(c->kmsg);
	c->kmsg = NULL;
}

static void turn_on(struct cloud *c)
{
	bool found = false;
	int r;

	/* Watch first: a request refused after the knob is written must be seen. */
	r = mo_kmsg_reader_open(c->m->root, MO_KMSG_FROM_NOW, &c->kmsg);
	if (r >= 0)
		r = sd_event_add_io(c->m->event, &c->kmsg_source, mo_kmsg_reader_fd(c->kmsg), EPOLLIN, on_kmsg, c);
	if (r < 0) {
		mo_log_warning_errno(r, "HandleEjectRequests=yes, but the kernel log cannot be read (%s/dev/kmsg): "
				     "%m; eject requests are left to the kernel", c->m->root->sysroot);
		stop_watching(c);
		give_back(c);
		return;
	}
	(void) sd_event_source_set_description(c->kmsg_source, "kmsg");
	r = mo_hotplug_knob_take(c->m->root, c->m->state_dir, &found);
	if (r < 0) {
		if (r == -ENOENT)
			mo_log_warning("HandleEjectRequests=yes, but there is no %s (no ACPI memory hotplug): ignored",
				       MO_SYSFS_ACPI_MEMORY_HOTPLUG);
		else
			mo_log_error_errno(r, "HandleEjectRequests=yes, but %s cannot be taken: %m; eject requests are "
					   "left to the kernel", MO_SYSFS_ACPI_MEMORY_HOTPLUG);
		stop_watching(c);
		return;
	}
	c->active = true;
	c->give_back_pending = false;
	job_queue_set_hold_hotplug_knob(c->m->jobs, true);
	mo_log_info("Handling eject requests of memory devices: %s is 0 (it was %d)",
		    MO_SYSFS_ACPI_MEMORY_HOTPLUG, found);
}

static void turn_off(struct cloud *c)
{
	struct job *running = job_queue_running(c->m->jobs);

	stop_watching(c);
	c->active = false;
	job_queue_set_hold_hotplug_knob(c->m->jobs, false);
	mo_log_info("No longer handling eject requests of memory devices");
	/* A release job holding the knob sets it back to 0 after its eject: give it back after that. */
	if (running && job_record(running)->kind == JOB_RELEASE)
		c->give_back_pending = true;
	else
		give_back(c);
}

void cloud_apply(struct cloud *c)
{
	bool want = c->m->config.handle_eject_requests;

	if (want && !c->active)
		turn_on(c);
	else if (!want && c->active)
		turn_off(c);
}

void cloud_idle(struct cloud *c)
{
	if (c && c->give_back_pending && !c->active)
		give_back(c);
}

int cloud_new(struct manager *m, struct cloud **ret)
{
	struct cloud *c = calloc(1, sizeof(*c));

	if (!c)
		return mo_log_error_errno(ENOMEM, "Out of memory");
	c->m = m;
	/*
	 * A crash while holding the knob left its save file: put it back now,
	 * or, to go on holding it, let turn_on() take the value saved then.
	 */
	if (!m->config.handle_eject_requests)
		give_back(c);
	cloud_apply(c);
	*ret = c;
	return 0;
}

void cloud_free(struct cloud *c)
{
	if (!c)
		return;
	stop_watching(c);
	if (c->active || c->give_back_pending)
		give_back(c);
	free(c->pending);
	free(c);
}

char *cloud_device_summary(struct job *j, const struct job_device *d, uint64_t block_size)
{
	struct mo_pin_report *const *reports;
	size_t n = job_blocked_pages(j, &reports);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const struct mo_pin_report *rep = reports[i];
		uint64_t start = rep->block * block_size;

		if (start < d->start || start >= d->start + d->size)
			continue;
		for (size_t g = 0; g < rep->n_groups; g++) {
			char desc[512];

			fprintf(f, "%sblock %" PRIu64 ": %s", ftell(f) > 0 ? "; " : "", rep->block,
				mo_pin_group_describe(&rep->groups[g], desc, sizeof(desc)));
		}
	}
	if (ftell(f) == 0)
		fputs(d->reason ? d->reason : d->outcome, f);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* The eject request @j answered, by device, or NULL. */
static const char *requested_device(struct cloud *c, struct job *j)
{
	for (size_t i = 0; i < c->n_pending; i++)
		if (c->pending[i].job == job_id(j))
			return c->pending[i].device;
	return NULL;
}

void cloud_job_finished(struct cloud *c, struct job *j)
{
	const struct job_device *devs;
	const char *hook = c ? c->m->config.device_hook : NULL;
	const char *requested = c ? requested_device(c, j) : NULL;
	char sz[MO_FORMAT_SIZE_MAX];
	size_t n;

	if (!c || job_record(j)->kind != JOB_RELEASE)
		return;
	n = job_devices(j, &devs);
	for (size_t i = 0; i < n; i++) {
		const struct job_device *d = &devs[i];
		_cleanup_free_ char *summary = d->released ? NULL : cloud_device_summary(j, d, c->m->block_size);

		if (requested && streq(requested, d->name) && !d->released)
			mo_log_warning("%s: eject request not carried out, the device stays online (%s): %s; the host "
				       "may request it again", d->name, mo_format_size(d->size, sz), strempty(summary));
		if (hook)
			hook_run(c->m->event, hook, d->released ? "released" : "given-up", d->name, d->size, summary);
	}
	if (requested && n == 0)
		mo_log_warning("%s: eject request not carried out: %s", requested, strempty(job_record(j)->message));
}
