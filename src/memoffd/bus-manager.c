/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.memoff.Manager1 at /org/memoff/Manager1 (doc/org.memoff.Manager1.md):
 * its properties and methods. Offline, Online and Release queue a job
 * (jobs.h) and return its path; GetPins scans in a thread (pinscan.h) and
 * replies from the loop when the scan is done.
 */
#include "bus-internal.h"

#include <inttypes.h>

#include "attempt.h"
#include "block.h"
#include "iomem.h"
#include "log.h"
#include "manager.h"
#include "parse.h"
#include "pins-json.h"
#include "pinscan.h"
#include "request.h"
#include "util.h"

/* A GetPins call waiting for its scan (pinscan.h). */
struct pins_call {
	struct manager *m;
	sd_bus_message *msg;
	struct pin_scan *scan;
	struct pins_call *next;
};

/* ---- Manager1 properties ---- */

static int prop_version(sd_bus *bus, const char *path, const char *iface, const char *prop,
			sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int prop_state(sd_bus *bus, const char *path, const char *iface, const char *prop,
		      sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	return sd_bus_message_append(reply, "s", manager_state(userdata));
}

static int prop_block_size(sd_bus *bus, const char *path, const char *iface, const char *prop,
			   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;

	return sd_bus_message_append(reply, "t", m->block_size);
}

static int prop_auto_online(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	char buf[64] = "";

	if (mo_root_read(m->root, false, MO_SYSFS_MEMORY "/auto_online_blocks", buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	return sd_bus_message_append(reply, "s", buf);
}

static int prop_hotplug_policy(sd_bus *bus, const char *path, const char *iface, const char *prop,
			       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;

	return sd_bus_message_append(reply, "s", mo_hotplug_policy_to_string(m->config.hotplug_policy));
}

static int prop_current_job(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct job *j = job_queue_running(m->jobs);
	char p[64];

	return sd_bus_message_append(reply, "o", j ? bus_job_path(job_id(j), p, sizeof(p)) : "/");
}

/* ---- Manager1 methods ---- */

/*
 * Blocks whose sysfs entry is malformed are left out of the reply (a(tttssis)
 * has no room for a warning) and named in the log, as `memoffctl list` names
 * them. Any caller can call ListBlocks: at most 5 such reports a minute.
 */
static void log_skipped_blocks(struct manager *m, const struct mo_memory *mem)
{
	static struct mo_ratelimit rl = MO_RATELIMIT_INIT(60 * UINT64_C(1000000), 5);
	unsigned suppressed = 0;

	if (mem->n_skipped == 0 || !mo_ratelimit_below(&rl, mo_monotonic_usec(), &suppressed))
		return;
	for (size_t i = 0; i < mem->n_skipped && i < 8; i++) {
		_cleanup_free_ char *msg = mo_block_skip_message(m->root, &mem->skipped[i]);

		mo_log_warning("%s; block %" PRIu64 " left out of ListBlocks", msg ? msg : "(out of memory)", mem->skipped[i].index);
	}
	if (mem->n_skipped > 8)
		mo_log_warning("... and %zu more blocks left out of ListBlocks", mem->n_skipped - 8);
	if (suppressed > 0)
		mo_log_warning("(%u earlier ListBlocks reports of malformed blocks were not logged)", suppressed);
}

/* What ListBlocks reads once for all its entries. */
struct list_blocks {
	struct mo_memory *mem;
	struct mo_iomem io;
	bool have_io;
};

static int append_block(sd_bus_message *reply, size_t i, void *userdata)
{
	const struct list_blocks *l = userdata;
	const struct mo_block *b = &l->mem->blocks[i];
	const struct mo_iomem_range *mr = NULL;

	/* driver-managed memory (virtio-mem, dax kmem) is its driver's: the device field names the driver */
	if (!b->device && l->have_io)
		mr = mo_iomem_managed(&l->io, b->start, b->start + b->size - 1);
	return sd_bus_message_append(reply, "(tttssis)", b->index, b->start, b->size,
				     b->state_raw[0] ? b->state_raw : mo_state_to_string(b->state),
				     strempty(b->valid_zones), b->node, b->device ? b->device : mr ? mr->driver : "");
}

static int method_list_blocks(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct list_blocks l = {};
	int r;

	r = mo_memory_load(m->root, &l.mem);
	if (r < 0)
		return sd_bus_error_setf(error, MO_ERROR_FAILED, "cannot read the memory blocks: %s", strerror(-r));
	log_skipped_blocks(m, l.mem);
	l.have_io = mo_iomem_read(m->root, &l.io) == 0 && !l.io.addresses_hidden;
	r = bus_reply_array(msg, "(tttssis)", l.mem->n_blocks, append_block, &l);
	mo_iomem_done(&l.io);
	mo_memory_free(l.mem);
	return r;
}

static int append_job(sd_bus_message *reply, size_t i, void *userdata)
{
	struct manager *m = userdata;
	const struct job_record *rec = job_record(job_queue_nth(m->jobs, i));
	char p[64];

	return sd_bus_message_append(reply, "(ussso)", rec->id, job_kind_to_string(rec->kind),
				     job_state_to_string(rec->state), job_result_to_string(rec->result),
				     bus_job_path(rec->id, p, sizeof(p)));
}

static int method_list_jobs(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;

	return bus_reply_array(msg, "(ussso)", job_queue_size(m->jobs), append_job, m);
}

static int method_get_job(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	uint32_t id;
	char p[64];
	int r;

	r = sd_bus_message_read(msg, "u", &id);
	if (r < 0)
		return r;
	if (!job_queue_find(m->jobs, id))
		return sd_bus_error_setf(error, MO_ERROR_NO_SUCH_JOB, "no job %u", id);
	return sd_bus_reply_method_return(msg, "o", bus_job_path(id, p, sizeof(p)));
}

#define RO(field) offsetof(struct request_options, field)
/* The options of Offline, Online and Release (request_build() refuses those a kind does not take). */
static const struct bus_option request_options[] = {
	{ "zone",            BUS_OPTION_ZONE,     0,                   RO(zone) },
	{ "node",            BUS_OPTION_NODE,     0,                   RO(node) },
	{ "attempt-timeout", BUS_OPTION_DURATION, BUS_OPTION_NONZERO,  RO(attempt_timeout_usec) },
	{ "deadline",        BUS_OPTION_DURATION, BUS_OPTION_NONZERO,  RO(deadline_usec) },
	{ "eject-timeout",   BUS_OPTION_DURATION, BUS_OPTION_NONZERO,  RO(eject_timeout_usec) },
	{ "long-lived",      BUS_OPTION_DURATION, BUS_OPTION_NONZERO,  RO(long_lived_usec) },
	/* zero is allowed here: no stall detection */
	{ "stall-grace",     BUS_OPTION_DURATION, BUS_OPTION_FINITE,   RO(stall_grace_usec) },
	{ "reserve",         BUS_OPTION_SIZE,     0,                   RO(reserve) },
	{ "max-attempts",    BUS_OPTION_ATTEMPTS, 0,                   RO(max_attempts) },
	{ "all-or-nothing",  BUS_OPTION_BOOL,     0,                   RO(all_or_nothing) },
	{ "force",           BUS_OPTION_BOOL,     0,                   RO(force) },
	{ "dry-run",         BUS_OPTION_BOOL,     0,                   RO(dry_run) },
	{}
};
#undef RO

/* A request refused by request.h: NoSuchBlock for a block that does not exist, else InvalidArgument. */
static int request_error(int r, const char *why, sd_bus_error *error)
{
	if (r == -ENOENT)
		return sd_bus_error_setf(error, MO_ERROR_NO_SUCH_BLOCK, "%s", strempty(why));
	return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "%s", why ? why : strerror(-r));
}

/* Offline and Online take (s by, s what, a{sv} options), Release (s size, a{sv} options). */
static int start_job(sd_bus_message *msg, struct manager *m, enum job_kind kind, sd_bus_error *error)
{
	struct request_options o = REQUEST_OPTIONS_INIT;
	struct job_params p = {};
	_cleanup_free_ char *text = NULL, *why = NULL;
	const char *by, *what;
	struct job *j;
	char path[64];
	uid_t uid;
	int r;

	r = bus_check_start(msg, m, error);
	if (r < 0)
		return r;
	if (kind == JOB_RELEASE) {
		by = "size";
		r = sd_bus_message_read(msg, "s", &what);
	} else
		r = sd_bus_message_read(msg, "ss", &by, &what);
	if (r < 0)
		return r;
	r = bus_read_options(msg, request_options, &o, error);
	if (r < 0)
		return r;
	r = request_build(kind, by, what, &o, &m->config, m->block_size, m->root, &p, &text, &why);
	if (r < 0)
		return request_error(r, why, error);
	/* Every job records who asked (bus_check_access() above has read the credentials). */
	if (bus_caller_uid(msg, m, &uid) >= 0)
		p.uid = (uint32_t) uid;
	p.what = strdup(what);
	r = p.what ? job_queue_submit(m->jobs, &p, text, m->block_size, &j, &why) : -ENOMEM;
	job_params_done(&p);
	if (r == -EBUSY)
		return sd_bus_error_setf(error, MO_ERROR_OVERLAP, "request overlaps a job: %s", strempty(why));
	if (r == -EUSERS)
		return sd_bus_error_setf(error, MO_ERROR_BUSY, "%s; try again later", strempty(why));
	if (r == -EIO)
		return sd_bus_error_setf(error, MO_ERROR_FAILED, "%s; nothing was started", strempty(why));
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, "o", bus_job_path(job_id(j), path, sizeof(path)));
}

static int method_offline(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return start_job(msg, userdata, JOB_OFFLINE, error);
}

static int method_online(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return start_job(msg, userdata, JOB_ONLINE, error);
}

static int method_release(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return start_job(msg, userdata, JOB_RELEASE, error);
}

/* GetPins' options. */
struct pins_options {
	bool kmsg;      /* read the kernel log for the pages' own account */
};

static const struct bus_option pins_options[] = {
	{ "kmsg", BUS_OPTION_BOOL, 0, offsetof(struct pins_options, kmsg) },
	{}
};

static void pins_call_free(struct pins_call *c)
{
	struct bus_state *s = c->m->bus;

	for (struct pins_call **p = &s->pins; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			s->n_pins--;
			break;
		}
	sd_bus_message_unref(c->msg);
	free(c);
}

/* On the loop: the scan of a GetPins call is done; reply. */
static void on_pins_done(struct pin_scan *scan, int error, struct mo_pin_report **reports, size_t n, void *userdata)
{
	_cleanup_free_ char *doc = NULL;
	struct pins_call *c = userdata;
	int r = error;

	if (r >= 0)
		r = mo_pins_json_format(reports, n, true, &doc);
	if (r >= 0)
		r = sd_bus_reply_method_return(c->msg, "s", doc);
	if (r < 0) {
		mo_log_warning_errno(r, "GetPins: cannot reply: %m");
		(void) sd_bus_reply_method_errorf(c->msg, MO_ERROR_FAILED, "cannot examine memory: %s",
						  strerror(-r));
	}
	mo_pin_reports_free(reports, n);
	pins_call_free(c);
}

/*
 * GetPins: the read-only scan runs in a thread (pinscan.h: owners can take
 * seconds); the reply is sent from the loop when it is done.
 */
static int method_get_pins(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	_cleanup_free_ uint64_t *blocks = NULL;
	_cleanup_free_ char *why = NULL;
	const char *by, *what;
	struct pins_options o = { .kmsg = true };
	struct pins_call *c;
	size_t n = 0;
	int r;

	r = bus_check_start(msg, m, error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(msg, "ss", &by, &what);
	if (r < 0)
		return r;
	r = bus_read_options(msg, pins_options, &o, error);
	if (r < 0)
		return r;
	r = request_blocks(by, what, m->block_size, m->root, &blocks, &n, &why);
	if (r < 0)
		return request_error(r, why, error);
	if (m->bus->n_pins >= MO_BUS_MAX_PIN_SCANS)
		return sd_bus_error_setf(error, MO_ERROR_BUSY, "%u GetPins calls are being answered; try again later",
					 m->bus->n_pins);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->m = m;
	c->msg = sd_bus_message_ref(msg);
	r = pin_scan_start(m->event, m->root, blocks, n, o.kmsg, on_pins_done, c, &c->scan);
	if (r < 0) {
		sd_bus_message_unref(c->msg);
		free(c);
		return sd_bus_error_setf(error, MO_ERROR_FAILED, "cannot examine memory: %s", strerror(-r));
	}
	c->next = m->bus->pins;
	m->bus->pins = c;
	m->bus->n_pins++;
	return 1;
}

static int method_cancel_job(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	uint32_t id;
	int r;

	r = sd_bus_message_read(msg, "u", &id);
	if (r < 0)
		return r;
	return bus_job_cancel(msg, userdata, id, error);
}

static int method_apply_hotplug(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const char *action = "", *reason = "";
	uint64_t index;
	int r;

	r = bus_check_access(msg, m, error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(msg, "t", &index);
	if (r < 0)
		return r;
	r = manager_apply_hotplug(m, index, &action, &reason);
	if (r == -ENOENT)
		return sd_bus_error_setf(error, MO_ERROR_NO_SUCH_BLOCK, "block %" PRIu64 " does not exist", index);
	if (r < 0)
		return sd_bus_error_setf(error, MO_ERROR_FAILED, "block %" PRIu64 ": %s: %s", index, reason,
					 strerror(-r));
	return sd_bus_reply_method_return(msg, "ss", action, reason);
}

static int method_reload(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	_cleanup_free_ char *errors = NULL;
	int r;

	r = bus_check_access(msg, m, error);
	if (r < 0)
		return r;
	r = manager_reload(m, &errors);
	if (r < 0)
		return sd_bus_error_setf(error, MO_ERROR_CONFIG, "configuration not reloaded, the old one stays:\n%s",
					 errors ? errors : strerror(-r));
	return sd_bus_reply_method_return(msg, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Version", "s", prop_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", prop_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("CurrentJob", "o", prop_current_job, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("BlockSize", "t", prop_block_size, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("AutoOnlineBlocks", "s", prop_auto_online, 0, 0),
	SD_BUS_PROPERTY("HotplugPolicy", "s", prop_hotplug_policy, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	/*
	 * Every method is UNPRIVILEGED for sd-bus (which would otherwise demand
	 * CAP_SYS_ADMIN of the caller): the read-only ones are open to all, and
	 * the mutating ones make their own check (root or AllowedGroup=).
	 */
	SD_BUS_METHOD_WITH_NAMES("ListBlocks", NULL, , "a(tttssis)", SD_BUS_PARAM(blocks),
				 method_list_blocks, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ListJobs", NULL, , "a(ussso)", SD_BUS_PARAM(jobs), method_list_jobs,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetJob", "u", SD_BUS_PARAM(id), "o", SD_BUS_PARAM(job), method_get_job,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Offline", "ssa{sv}", SD_BUS_PARAM(by) SD_BUS_PARAM(what) SD_BUS_PARAM(options),
				 "o", SD_BUS_PARAM(job), method_offline, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Online", "ssa{sv}", SD_BUS_PARAM(by) SD_BUS_PARAM(what) SD_BUS_PARAM(options),
				 "o", SD_BUS_PARAM(job), method_online, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("Release", "sa{sv}", SD_BUS_PARAM(size) SD_BUS_PARAM(options),
				 "o", SD_BUS_PARAM(job), method_release, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("GetPins", "ssa{sv}", SD_BUS_PARAM(by) SD_BUS_PARAM(what) SD_BUS_PARAM(options),
				 "s", SD_BUS_PARAM(document), method_get_pins,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("CancelJob", "u", SD_BUS_PARAM(id), NULL, , method_cancel_job,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_NAMES("ApplyHotplugPolicy", "t", SD_BUS_PARAM(block),
				 "ss", SD_BUS_PARAM(action) SD_BUS_PARAM(reason), method_apply_hotplug,
				 SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("Reload", NULL, NULL, method_reload, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("JobNew", "uo", SD_BUS_PARAM(id) SD_BUS_PARAM(job), 0),
	SD_BUS_SIGNAL_WITH_NAMES("JobRemoved", "uos", SD_BUS_PARAM(id) SD_BUS_PARAM(job) SD_BUS_PARAM(result), 0),
	SD_BUS_VTABLE_END,
};

int bus_manager_add_objects(struct manager *m, sd_bus *bus)
{
	return sd_bus_add_object_vtable(bus, NULL, MO_BUS_PATH, MO_BUS_INTERFACE, manager_vtable, m);
}

void bus_manager_abandon_pins(struct bus_state *s)
{
	struct pins_call *c;

	/* scans still running finish (or die with the process) on their own */
	while ((c = s->pins)) {
		s->pins = c->next;
		s->n_pins--;
		pin_scan_abandon(c->scan);
		sd_bus_message_unref(c->msg);
		free(c);
	}
}
