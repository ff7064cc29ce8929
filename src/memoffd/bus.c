/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "bus.h"

#include <inttypes.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "block.h"
#include "log.h"
#include "manager.h"
#include "parse.h"
#include "pins-bus.h"
#include "pinscan.h"
#include "request.h"
#include "util.h"

struct conn {
	sd_bus *bus;
	uid_t uid;          /* the peer, from SO_PEERCRED at accept */
	struct conn *next;
};

/* A GetPins call waiting for its scan (pinscan.h). */
struct pins_call {
	struct manager *m;
	sd_bus_message *msg;
	struct pin_scan *scan;
	struct pins_call *next;
};

struct bus_state {
	sd_bus *system;              /* NULL when there is no system bus */
	int listen_fd;
	sd_event_source *listen_source;
	char *socket_path;
	sd_id128_t server_id;
	struct conn *conns;          /* private connections */
	unsigned n_conns;
	struct pins_call *pins;      /* GetPins calls being answered */
	unsigned n_pins;
};

static inline void sd_bus_creds_unrefp_(sd_bus_creds **c) { sd_bus_creds_unref(*c); }
static inline void sd_bus_message_unrefp_(sd_bus_message **m) { sd_bus_message_unref(*m); }

char *bus_job_path(unsigned id, char *buf, size_t len)
{
	snprintf(buf, len, MO_BUS_JOB_PREFIX "/%u", id);
	return buf;
}

/* ---- access ---- */

/*
 * Mutating methods: uid 0, or a member (primary or supplementary group) of
 * AllowedGroup=. The credentials are the kernel's (SO_PEERCRED and
 * SO_PEERGROUPS peer to peer, the bus driver's on the system bus), never
 * read from /proc.
 */
static int check_access(sd_bus_message *msg, struct manager *m, sd_bus_error *error)
{
	_cleanup_(sd_bus_creds_unrefp_) sd_bus_creds *c = NULL;
	const gid_t *gids = NULL;
	uid_t uid;
	gid_t gid;
	int r, n;

	r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID |
				      SD_BUS_CREDS_SUPPLEMENTARY_GIDS, &c);
	if (r < 0 || sd_bus_creds_get_euid(c, &uid) < 0)
		return sd_bus_error_set(error, MO_ERROR_ACCESS_DENIED,
					"cannot tell who is calling: access denied");
	if (uid == 0)
		return 0;
	if (m->config.allowed_group) {
		if (sd_bus_creds_get_egid(c, &gid) >= 0 && gid == m->config.allowed_gid)
			return 0;
		n = sd_bus_creds_get_supplementary_gids(c, &gids);
		for (int i = 0; i < n; i++)
			if (gids[i] == m->config.allowed_gid)
				return 0;
		return sd_bus_error_setf(error, MO_ERROR_ACCESS_DENIED,
					 "uid %u is neither root nor in group %s: access denied",
					 (unsigned) uid, m->config.allowed_group);
	}
	return sd_bus_error_setf(error, MO_ERROR_ACCESS_DENIED,
				 "uid %u is not root: access denied", (unsigned) uid);
}

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

static int method_list_blocks(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	_cleanup_(sd_bus_message_unrefp_) sd_bus_message *reply = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	int r;

	r = mo_memory_load(m->root, &mem);
	if (r < 0)
		return sd_bus_error_setf(error, MO_ERROR_FAILED, "cannot read the memory blocks: %s", strerror(-r));
	r = sd_bus_message_new_method_return(msg, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(reply, 'a', "(tttssis)");
	if (r < 0)
		return r;
	for (size_t i = 0; i < mem->n_blocks; i++) {
		const struct mo_block *b = &mem->blocks[i];

		r = sd_bus_message_append(reply, "(tttssis)", b->index, b->start, b->size,
					  b->state_raw[0] ? b->state_raw : mo_state_to_string(b->state),
					  strempty(b->valid_zones), b->node, strempty(b->device));
		if (r < 0)
			return r;
	}
	r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

static int method_list_jobs(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	_cleanup_(sd_bus_message_unrefp_) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(msg, &reply);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(reply, 'a', "(ussso)");
	if (r < 0)
		return r;
	for (size_t i = 0; i < job_queue_size(m->jobs); i++) {
		const struct job_record *rec = job_record(job_queue_nth(m->jobs, i));
		char p[64];

		r = sd_bus_message_append(reply, "(ussso)", rec->id, job_kind_to_string(rec->kind),
					  job_state_to_string(rec->state), job_result_to_string(rec->result),
					  bus_job_path(rec->id, p, sizeof(p)));
		if (r < 0)
			return r;
	}
	r = sd_bus_message_close_container(reply);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
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

/* A duration option: microseconds (t) or text such as "30s" (s). */
static int read_duration_option(sd_bus_message *msg, const char *key, const char *sig, uint64_t *ret,
				sd_bus_error *error)
{
	const char *s, *why = NULL;
	int r;

	if (streq(sig, "t"))
		return sd_bus_message_read(msg, "v", "t", ret);
	r = sd_bus_message_read(msg, "v", "s", &s);
	if (r < 0)
		return r;
	if (mo_parse_duration(s, ret, &why) < 0)
		return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid %s '%s': %s", key, s,
					 strempty(why));
	return 0;
}

static int read_options(sd_bus_message *msg, struct request_options *o, sd_bus_error *error)
{
	int r;

	r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		const char *key, *sig;
		char type;
		int b;

		r = sd_bus_message_read(msg, "s", &key);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(msg, &type, &sig);
		if (r < 0)
			return r;
#define WANT(cond, what) \
		if (!(cond)) \
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, \
						 "option '%s' must be %s, not of type '%s'", key, what, sig)
		if (streq(key, "zone")) {
			WANT(streq(sig, "s"), "a string (s)");
			r = sd_bus_message_read(msg, "v", "s", &o->zone);
			if (r >= 0 && !mo_zone_from_string(o->zone))
				return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid zone '%s'", o->zone);
		} else if (streq(key, "node")) {
			int32_t node;

			WANT(streq(sig, "i"), "an int32 (i)");
			r = sd_bus_message_read(msg, "v", "i", &node);
			if (r >= 0 && node < -1)
				return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid node %d", node);
			o->node = node;
		} else if (streq(key, "attempt-timeout") || streq(key, "deadline") || streq(key, "eject-timeout") ||
			   streq(key, "long-lived")) {
			uint64_t *field = streq(key, "deadline") ? &o->deadline_usec :
					  streq(key, "eject-timeout") ? &o->eject_timeout_usec :
					  streq(key, "long-lived") ? &o->long_lived_usec : &o->attempt_timeout_usec;

			WANT(streq(sig, "t") || streq(sig, "s"), "microseconds (t) or a duration (s)");
			r = read_duration_option(msg, key, sig, field, error);
			if (r >= 0 && *field == 0)
				return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid %s: zero", key);
		} else if (streq(key, "reserve")) {
			const char *text, *why = NULL;

			WANT(streq(sig, "t") || streq(sig, "s"), "bytes (t) or a size (s)");
			if (streq(sig, "t"))
				r = sd_bus_message_read(msg, "v", "t", &o->reserve);
			else if ((r = sd_bus_message_read(msg, "v", "s", &text)) >= 0 &&
				 mo_parse_size(text, &o->reserve, &why) < 0)
				return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid reserve '%s': %s",
							 text, strempty(why));
		} else if (streq(key, "max-attempts")) {
			uint32_t n;

			WANT(streq(sig, "u"), "a uint32 (u)");
			r = sd_bus_message_read(msg, "v", "u", &n);
			if (r >= 0 && n > 1000000)
				return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "invalid max-attempts %u", n);
			o->max_attempts = (int) n;
		} else if (streq(key, "all-or-nothing") || streq(key, "force") || streq(key, "dry-run")) {
			WANT(streq(sig, "b"), "a boolean (b)");
			r = sd_bus_message_read(msg, "v", "b", &b);
			if (streq(key, "force"))
				o->force = b;
			else if (streq(key, "dry-run"))
				o->dry_run = b;
			else
				o->all_or_nothing = b;
		} else
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT,
						 "unknown option '%s' (known: zone, node, attempt-timeout, deadline, "
						 "eject-timeout, long-lived, reserve, max-attempts, all-or-nothing, force, "
						 "dry-run)", key);
#undef WANT
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(msg);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
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
	int r;

	r = check_access(msg, m, error);
	if (r < 0)
		return r;
	if (m->stopping)
		return sd_bus_error_set(error, MO_ERROR_SHUTTING_DOWN, "memoffd is stopping");
	if (kind == JOB_RELEASE) {
		by = "size";
		r = sd_bus_message_read(msg, "s", &what);
	} else
		r = sd_bus_message_read(msg, "ss", &by, &what);
	if (r < 0)
		return r;
	r = read_options(msg, &o, error);
	if (r < 0)
		return r;
	r = request_build(kind, by, what, &o, &m->config, m->block_size, m->root, &p, &text, &why);
	if (r == -ENOENT)
		return sd_bus_error_setf(error, MO_ERROR_NO_SUCH_BLOCK, "%s", strempty(why));
	if (r < 0)
		return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "%s", why ? why : strerror(-r));
	r = job_queue_submit(m->jobs, &p, text, m->block_size, &j, &why);
	job_params_done(&p);
	if (r == -EBUSY)
		return sd_bus_error_setf(error, MO_ERROR_OVERLAP, "request overlaps a job: %s", strempty(why));
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

/* GetPins' options: only "kmsg" (b). */
static int read_pins_options(sd_bus_message *msg, bool *kmsg, sd_bus_error *error)
{
	int r;

	r = sd_bus_message_enter_container(msg, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
		const char *key, *sig;
		char type;
		int b;

		r = sd_bus_message_read(msg, "s", &key);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(msg, &type, &sig);
		if (r < 0)
			return r;
		if (!streq(key, "kmsg"))
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "unknown option '%s' (known: kmsg)",
						 key);
		if (!streq(sig, "b"))
			return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT,
						 "option 'kmsg' must be a boolean (b), not of type '%s'", sig);
		r = sd_bus_message_read(msg, "v", "b", &b);
		if (r < 0)
			return r;
		*kmsg = b;
		r = sd_bus_message_exit_container(msg);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

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
	_cleanup_(sd_bus_message_unrefp_) sd_bus_message *reply = NULL;
	struct pins_call *c = userdata;
	int r = error;

	if (r >= 0)
		r = sd_bus_message_new_method_return(c->msg, &reply);
	if (r >= 0)
		r = pins_bus_append(reply, reports, n, true);
	if (r >= 0)
		r = sd_bus_send(NULL, reply, NULL);
	else
		(void) sd_bus_reply_method_errorf(c->msg, MO_ERROR_FAILED, "cannot examine memory: %s",
						  strerror(-r));
	if (r < 0)
		mo_log_warning_errno(r, "GetPins: cannot reply: %m");
	pins_bus_reports_free(reports, n);
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
	struct pins_call *c;
	bool kmsg = true;
	size_t n = 0;
	int r;

	r = check_access(msg, m, error);
	if (r < 0)
		return r;
	r = sd_bus_message_read(msg, "ss", &by, &what);
	if (r < 0)
		return r;
	r = read_pins_options(msg, &kmsg, error);
	if (r < 0)
		return r;
	if (m->stopping)
		return sd_bus_error_set(error, MO_ERROR_SHUTTING_DOWN, "memoffd is stopping");
	r = request_blocks(by, what, m->block_size, m->root, &blocks, &n, &why);
	if (r == -ENOENT)
		return sd_bus_error_setf(error, MO_ERROR_NO_SUCH_BLOCK, "%s", strempty(why));
	if (r < 0)
		return sd_bus_error_setf(error, MO_ERROR_INVALID_ARGUMENT, "%s", why ? why : strerror(-r));
	if (m->bus->n_pins >= MO_BUS_MAX_PIN_SCANS)
		return sd_bus_error_setf(error, MO_ERROR_BUSY, "%u GetPins calls are being answered; try again later",
					 m->bus->n_pins);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->m = m;
	c->msg = sd_bus_message_ref(msg);
	r = pin_scan_start(m->event, m->root, blocks, n, kmsg, on_pins_done, c, &c->scan);
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

static int cancel_job(sd_bus_message *msg, struct manager *m, struct job *j, sd_bus_error *error)
{
	int r = check_access(msg, m, error);

	if (r < 0)
		return r;
	r = job_queue_cancel(m->jobs, j);
	if (r == -EALREADY)
		return sd_bus_error_setf(error, MO_ERROR_JOB_FINISHED, "job %u has already finished (%s)",
					 job_id(j), job_result_to_string(job_record(j)->result));
	if (r < 0)
		return r;
	return sd_bus_reply_method_return(msg, NULL);
}

static int method_cancel_job(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	struct job *j;
	uint32_t id;
	int r;

	r = sd_bus_message_read(msg, "u", &id);
	if (r < 0)
		return r;
	j = job_queue_find(m->jobs, id);
	if (!j)
		return sd_bus_error_setf(error, MO_ERROR_NO_SUCH_JOB, "no job %u", id);
	return cancel_job(msg, m, j, error);
}

static int method_apply_hotplug(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	const char *action = "", *reason = "";
	uint64_t index;
	int r;

	r = check_access(msg, m, error);
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

	r = check_access(msg, m, error);
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
				 PINS_BUS_REPORTS_SIG, SD_BUS_PARAM(blocks), method_get_pins,
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

/* ---- Job1 ---- */

#define JOB_U32(name, field) \
	static int prop_job_##name(sd_bus *bus, const char *path, const char *iface, const char *prop, \
				   sd_bus_message *reply, void *userdata, sd_bus_error *error) \
	{ return sd_bus_message_append(reply, "u", (uint32_t) job_record(userdata)->field); }
#define JOB_U64(name, field) \
	static int prop_job_##name(sd_bus *bus, const char *path, const char *iface, const char *prop, \
				   sd_bus_message *reply, void *userdata, sd_bus_error *error) \
	{ return sd_bus_message_append(reply, "t", (uint64_t) job_record(userdata)->field); }
#define JOB_STR(name, expr) \
	static int prop_job_##name(sd_bus *bus, const char *path, const char *iface, const char *prop, \
				   sd_bus_message *reply, void *userdata, sd_bus_error *error) \
	{ const struct job_record *rec = job_record(userdata); return sd_bus_message_append(reply, "s", expr); }

JOB_U32(id, id)
JOB_U64(blocks_done, blocks_done)
JOB_U64(blocks_wanted, blocks_wanted)
JOB_U64(bytes_done, bytes_done)
JOB_U64(bytes_wanted, bytes_wanted)
JOB_U64(created, created)
JOB_U64(started, started)
JOB_U64(finished, finished)
JOB_STR(kind, job_kind_to_string(rec->kind))
JOB_STR(state, job_state_to_string(rec->state))
JOB_STR(result, job_result_to_string(rec->result))
JOB_STR(request, strempty(rec->request))
JOB_STR(message, strempty(rec->message))

static int prop_job_current(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	uint64_t b = job_current_block(userdata);

	return sd_bus_message_append(reply, "x", b == UINT64_MAX ? (int64_t) -1 : (int64_t) b);
}

static int prop_job_blocks(sd_bus *bus, const char *path, const char *iface, const char *prop,
			   sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	const struct job_record *rec = job_record(userdata);

	return sd_bus_message_append_array(reply, 't', rec->claims, rec->n_claims * sizeof(uint64_t));
}

static int prop_job_results(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	const struct job_record *rec = job_record(userdata);
	int r;

	r = sd_bus_message_open_container(reply, 'a', "(tsuts)");
	if (r < 0)
		return r;
	for (size_t i = 0; i < rec->n_blocks; i++) {
		const struct job_block *b = &rec->blocks[i];

		r = sd_bus_message_append(reply, "(tsuts)", b->index, strempty(b->outcome), b->attempts,
					  b->usec, strempty(b->reason));
		if (r < 0)
			return r;
	}
	return sd_bus_message_close_container(reply);
}

/*
 * Owners name other processes: only callers who may call GetPins see them
 * (doc/security.md); others get the pages without owners.
 */
static bool may_see_owners(sd_bus *bus, struct manager *m)
{
	sd_bus_message *msg = sd_bus_get_current_message(bus);
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	if (!msg)
		return false;
	r = check_access(msg, m, &e);
	sd_bus_error_free(&e);
	return r >= 0;
}

static int prop_job_blocked(sd_bus *bus, const char *path, const char *iface, const char *prop,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct mo_pin_report *const *reports;
	size_t n = job_blocked_pages(userdata, &reports);

	return pins_bus_append(reply, reports, n, may_see_owners(bus, job_userdata(userdata)));
}

static int method_job_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct job *j = userdata;
	return cancel_job(msg, job_userdata(j), j, error);
}

#define EC SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE
static const sd_bus_vtable job_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Id", "u", prop_job_id, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Kind", "s", prop_job_kind, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Request", "s", prop_job_request, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("State", "s", prop_job_state, 0, EC),
	SD_BUS_PROPERTY("Result", "s", prop_job_result, 0, EC),
	SD_BUS_PROPERTY("Message", "s", prop_job_message, 0, EC),
	SD_BUS_PROPERTY("BlocksDone", "t", prop_job_blocks_done, 0, EC),
	SD_BUS_PROPERTY("BlocksWanted", "t", prop_job_blocks_wanted, 0, EC),
	SD_BUS_PROPERTY("BytesDone", "t", prop_job_bytes_done, 0, EC),
	SD_BUS_PROPERTY("BytesWanted", "t", prop_job_bytes_wanted, 0, EC),
	SD_BUS_PROPERTY("CurrentBlock", "x", prop_job_current, 0, EC),
	SD_BUS_PROPERTY("Blocks", "at", prop_job_blocks, 0, EC),
	SD_BUS_PROPERTY("Results", "a(tsuts)", prop_job_results, 0, EC),
	SD_BUS_PROPERTY("BlockedPages", PINS_BUS_REPORTS_SIG, prop_job_blocked, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_INVALIDATION),
	SD_BUS_PROPERTY("CreatedAt", "t", prop_job_created, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("StartedAt", "t", prop_job_started, 0, EC),
	SD_BUS_PROPERTY("FinishedAt", "t", prop_job_finished, 0, EC),
	SD_BUS_METHOD("Cancel", NULL, NULL, method_job_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_NAMES("Finished", "ss", SD_BUS_PARAM(result) SD_BUS_PARAM(message), 0),
	SD_BUS_VTABLE_END,
};
#undef EC

static struct job *job_from_path(struct manager *m, const char *path)
{
	const char *p;
	uint64_t id = 0;

	if (!startswith(path, MO_BUS_JOB_PREFIX "/"))
		return NULL;
	p = path + strlen(MO_BUS_JOB_PREFIX "/");
	if (!*p || (p[0] == '0'))
		return NULL;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || id > UINT32_MAX)
			return NULL;
		id = id * 10 + (uint64_t) (*p - '0');
	}
	return id <= UINT32_MAX ? job_queue_find(m->jobs, (unsigned) id) : NULL;
}

static int job_find(sd_bus *bus, const char *path, const char *iface, void *userdata, void **found,
		    sd_bus_error *error)
{
	struct job *j = job_from_path(userdata, path);

	if (!j)
		return 0;
	*found = j;
	return 1;
}

static int job_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes, sd_bus_error *error)
{
	struct manager *m = userdata;
	size_t n = job_queue_size(m->jobs);
	char **l = calloc(n + 1, sizeof(char *));

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char p[64];

		l[i] = strdup(bus_job_path(job_id(job_queue_nth(m->jobs, i)), p, sizeof(p)));
		if (!l[i]) {
			for (size_t k = 0; k < i; k++)
				free(l[k]);
			free(l);
			return -ENOMEM;
		}
	}
	*nodes = l;
	return 0;
}

/*
 * A peer-to-peer connection has no bus driver, but clients written for a bus
 * (busctl --address=..., any sd-bus client that is a "bus client") start with
 * Hello and add matches for signals. Answer the few driver calls they make:
 * the connection behaves like a bus on which memoffd is the only peer.
 */
static int driver_hello(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	static unsigned counter;
	char name[32];

	snprintf(name, sizeof(name), ":1.%u", ++counter);
	return sd_bus_reply_method_return(msg, "s", name);
}

static int driver_ok(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return sd_bus_reply_method_return(msg, NULL);
}

static int driver_get_name_owner(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	const char *name;
	int r;

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	if (!streq(name, MO_BUS_NAME) && !streq(name, "org.freedesktop.DBus"))
		return sd_bus_error_setf(error, "org.freedesktop.DBus.Error.NameHasNoOwner",
					 "only %s is here", MO_BUS_NAME);
	return sd_bus_reply_method_return(msg, "s", streq(name, MO_BUS_NAME) ? ":1.0" : name);
}

static int driver_get_id(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	char id[SD_ID128_STRING_MAX];

	return sd_bus_reply_method_return(msg, "s", sd_id128_to_string(m->bus->server_id, id));
}

static const sd_bus_vtable driver_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Hello", NULL, "s", driver_hello, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("AddMatch", "s", NULL, driver_ok, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RemoveMatch", "s", NULL, driver_ok, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetNameOwner", "s", "s", driver_get_name_owner, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetId", NULL, "s", driver_get_id, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

static int attach_objects(struct manager *m, sd_bus *bus)
{
	int r;

	r = sd_bus_add_object_vtable(bus, NULL, MO_BUS_PATH, MO_BUS_INTERFACE, manager_vtable, m);
	if (r < 0)
		return r;
	r = sd_bus_add_fallback_vtable(bus, NULL, MO_BUS_JOB_PREFIX, MO_BUS_JOB_IFACE, job_vtable, job_find, m);
	if (r < 0)
		return r;
	return sd_bus_add_node_enumerator(bus, NULL, MO_BUS_JOB_PREFIX, job_enumerate, m);
}

/* ---- emitting to every connection ---- */

/* Every connection: the system bus (when joined) and the private ones. */
static size_t all_buses(struct bus_state *s, sd_bus **out)
{
	size_t n = 0;

	if (s->system)
		out[n++] = s->system;
	for (struct conn *c = s->conns; c && n < MO_BUS_MAX_CONNECTIONS + 1; c = c->next)
		out[n++] = c->bus;
	return n;
}

#define FOREACH_BUS(s, b) \
	for (sd_bus *_all[MO_BUS_MAX_CONNECTIONS + 1], **_p = _all, **_end = _all + all_buses((s), _all), *b; \
	     _p < _end && (b = *_p, true); _p++)

void bus_job_new(struct manager *m, struct job *j)
{
	char p[64];

	if (!m->bus)
		return;
	bus_job_path(job_id(j), p, sizeof(p));
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_signal(b, MO_BUS_PATH, MO_BUS_INTERFACE, "JobNew", "uo", job_id(j), p);
}

void bus_job_changed(struct manager *m, struct job *j, unsigned what)
{
	const char *names[16];
	size_t n = 0;
	char p[64];

	if (!m->bus)
		return;
	if (what & JOB_CHANGED_STATE) {
		names[n++] = "State";
		names[n++] = "Result";
		names[n++] = "Message";
		names[n++] = "StartedAt";
		names[n++] = "FinishedAt";
	}
	if (what & (JOB_CHANGED_PROGRESS | JOB_CHANGED_STATE)) {
		names[n++] = "BlocksDone";
		names[n++] = "BlocksWanted";
		names[n++] = "BytesDone";
		names[n++] = "BytesWanted";
		names[n++] = "CurrentBlock";
	}
	if (what & JOB_CHANGED_BLOCKS)
		names[n++] = "Results";
	if (what & JOB_CHANGED_CLAIMS)
		names[n++] = "Blocks";
	if (what & JOB_CHANGED_BLOCKED)
		names[n++] = "BlockedPages";
	names[n] = NULL;
	if (!n)
		return;
	bus_job_path(job_id(j), p, sizeof(p));
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_properties_changed_strv(b, p, MO_BUS_JOB_IFACE, (char **) names);
	if (what & JOB_CHANGED_STATE)
		bus_manager_changed(m, "CurrentJob");
}

void bus_job_finished(struct manager *m, struct job *j)
{
	const struct job_record *rec = job_record(j);
	char p[64];

	if (!m->bus)
		return;
	bus_job_path(rec->id, p, sizeof(p));
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_signal(b, p, MO_BUS_JOB_IFACE, "Finished", "ss",
					  job_result_to_string(rec->result), strempty(rec->message));
}

void bus_job_removed(struct manager *m, struct job *j)
{
	const struct job_record *rec = job_record(j);
	char p[64];

	if (!m->bus)
		return;
	bus_job_path(rec->id, p, sizeof(p));
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_signal(b, MO_BUS_PATH, MO_BUS_INTERFACE, "JobRemoved", "uos", rec->id, p,
					  job_result_to_string(rec->result));
}

void bus_manager_changed(struct manager *m, const char *property)
{
	if (!m->bus)
		return;
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_properties_changed(b, MO_BUS_PATH, MO_BUS_INTERFACE, property, NULL);
}

/* ---- connections ---- */

static void drop_conn(struct manager *m, sd_bus *bus)
{
	struct bus_state *s = m->bus;

	for (struct conn **pc = &s->conns; *pc; pc = &(*pc)->next) {
		struct conn *c = *pc;

		if (c->bus != bus)
			continue;
		*pc = c->next;
		s->n_conns--;
		sd_bus_flush_close_unref(c->bus);
		free(c);
		return;
	}
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	sd_bus *bus = sd_bus_message_get_bus(msg);

	if (bus == m->bus->system) {
		mo_log_warning("Lost the system bus; still serving on %s", m->bus->socket_path);
		m->bus->system = NULL;
		sd_bus_flush_close_unref(bus);
		return 0;
	}
	drop_conn(m, bus);
	return 0;
}

/*
 * Whether one more connection of @uid fits: root always does, up to the hard
 * limit; others share the unprivileged slots, a few each.
 * Return: 0, -EUSERS (this uid holds its share), -EMFILE (no slot left).
 */
static int connection_allowed(const struct bus_state *s, uid_t uid)
{
	unsigned unpriv = 0, mine = 0;

	if (s->n_conns >= MO_BUS_MAX_CONNECTIONS)
		return -EMFILE;
	if (uid == 0)
		return 0;
	for (const struct conn *c = s->conns; c; c = c->next) {
		if (c->uid != 0)
			unpriv++;
		if (c->uid == uid)
			mine++;
	}
	if (mine >= MO_BUS_MAX_PER_UID)
		return -EUSERS;
	if (unpriv >= MO_BUS_MAX_UNPRIVILEGED)
		return -EMFILE;
	return 0;
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct manager *m = userdata;
	struct bus_state *s = m->bus;
	struct ucred cred;
	sd_bus *bus = NULL;
	struct conn *c;
	int cfd, r;

	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			mo_log_warning_errno(errno, "accept() on %s failed: %m", s->socket_path);
		return 0;
	}
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &(socklen_t) { sizeof(cred) }) < 0) {
		mo_log_warning_errno(errno, "Cannot get the peer of a connection on %s: %m", s->socket_path);
		close(cfd);
		return 0;
	}
	r = connection_allowed(s, cred.uid);
	if (r < 0) {
		mo_log_warning("Too many connections on %s%s, refusing one of uid %u",
			       s->socket_path, r == -EUSERS ? " from this user" : "", (unsigned) cred.uid);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->uid = cred.uid;
	if ((r = sd_bus_new(&bus)) < 0 ||
	    (r = sd_bus_set_fd(bus, cfd, cfd)) < 0)
		goto fail;
	cfd = -1;   /* the bus owns it */
	if ((r = sd_bus_set_server(bus, 1, s->server_id)) < 0 ||
	    (r = sd_bus_set_anonymous(bus, 1)) < 0 ||
	    (r = sd_bus_set_description(bus, "private")) < 0 ||
	    (r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
				     "Disconnected", on_disconnected, m)) < 0 ||
	    (r = attach_objects(m, bus)) < 0 ||
	    (r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus",
					  driver_vtable, m)) < 0 ||
	    (r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL)) < 0 ||
	    (r = sd_bus_start(bus)) < 0)
		goto fail;
	c->bus = bus;
	c->next = s->conns;
	s->conns = c;
	s->n_conns++;
	return 0;
fail:
	mo_log_warning_errno(r, "Cannot set up a connection on %s: %m", s->socket_path);
	if (cfd >= 0)
		close(cfd);
	sd_bus_flush_close_unref(bus);
	free(c);
	return 0;
}

static int listen_private(struct manager *m)
{
	struct bus_state *s = m->bus;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&s->socket_path, "%s/" MO_CONTROL_SOCKET, m->runtime_dir) < 0)
		return -ENOMEM;
	if (strlen(s->socket_path) >= sizeof(sa.sun_path))
		return mo_log_error_errno(ENAMETOOLONG, "Socket path %s is too long", s->socket_path);
	strcpy(sa.sun_path, s->socket_path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return mo_log_error_errno(errno, "socket() failed: %m");
	/* Someone answering there is another memoffd: do not steal its socket. */
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
		return mo_log_error_errno(EADDRINUSE, "Another memoffd is serving %s", s->socket_path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return mo_log_error_errno(errno, "socket() failed: %m");
	(void) unlink(s->socket_path);
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return mo_log_error_errno(errno, "Cannot bind %s: %m", s->socket_path);
	/* Anyone may connect and read; the uid check guards the mutating methods. */
	if (chmod(s->socket_path, 0666) < 0)
		return mo_log_error_errno(errno, "Cannot chmod %s: %m", s->socket_path);
	if (listen(fd, 16) < 0)
		return mo_log_error_errno(errno, "listen() on %s failed: %m", s->socket_path);
	r = sd_event_add_io(m->event, &s->listen_source, fd, EPOLLIN, on_accept, m);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot watch %s: %m", s->socket_path);
	(void) sd_event_source_set_description(s->listen_source, "control-socket");
	s->listen_fd = TAKE_FD(fd);
	return 0;
}

static int join_system_bus(struct manager *m)
{
	struct bus_state *s = m->bus;
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_open_system(&bus);
	if (r < 0) {
		mo_log_info("No system bus (%s); serving on %s only", strerror(-r), s->socket_path);
		return 0;
	}
	if ((r = attach_objects(m, bus)) < 0 ||
	    (r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
				     "Disconnected", on_disconnected, m)) < 0) {
		sd_bus_flush_close_unref(bus);
		return mo_log_error_errno(r, "Cannot export objects on the system bus: %m");
	}
	r = sd_bus_request_name(bus, MO_BUS_NAME, 0);
	if (r < 0) {
		sd_bus_flush_close_unref(bus);
		if (r == -EEXIST)
			return mo_log_error_errno(r, "%s is owned by another process (another memoffd?)", MO_BUS_NAME);
		if (r == -EACCES || r == -EPERM) {
			mo_log_warning("Not allowed to own %s on the system bus (install the D-Bus policy); "
				    "serving on %s only", MO_BUS_NAME, s->socket_path);
			return 0;
		}
		return mo_log_error_errno(r, "Cannot own %s on the system bus: %m", MO_BUS_NAME);
	}
	r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0) {
		sd_bus_flush_close_unref(bus);
		return mo_log_error_errno(r, "Cannot attach the system bus: %m");
	}
	s->system = bus;
	mo_log_debug("Serving %s on the system bus", MO_BUS_NAME);
	return 0;
}

int bus_setup(struct manager *m, bool system_bus)
{
	int r;

	m->bus = calloc(1, sizeof(*m->bus));
	if (!m->bus)
		return -ENOMEM;
	m->bus->listen_fd = -1;
	r = sd_id128_randomize(&m->bus->server_id);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot make a server id: %m");
	r = listen_private(m);
	if (r < 0)
		return r;
	if (system_bus)
		return join_system_bus(m);
	return 0;
}

void bus_done(struct manager *m)
{
	struct bus_state *s = m->bus;
	struct pins_call *c;

	if (!s)
		return;
	/* scans still running finish (or die with the process) on their own */
	while ((c = s->pins)) {
		s->pins = c->next;
		s->n_pins--;
		pin_scan_abandon(c->scan);
		sd_bus_message_unref(c->msg);
		free(c);
	}
	while (s->conns)
		drop_conn(m, s->conns->bus);
	if (s->system)
		sd_bus_flush_close_unref(s->system);
	sd_event_source_disable_unref(s->listen_source);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (s->socket_path)
			(void) unlink(s->socket_path);
	}
	free(s->socket_path);
	free(s);
	m->bus = NULL;
}
