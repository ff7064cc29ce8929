/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "manager.h"

#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>

#include "attempt.h"
#include "block.h"
#include "bus.h"
#include "cloud.h"
#include "target.h"
#include "hotplug-policy.h"
#include "log.h"
#include "pinmem.h"
#include "util.h"

/* The property a udev rule sets when it has already applied the policy (60-memoff.rules). */
#define UDEV_PROP_HANDLED "MEMOFF_HOTPLUG"

static int mkdir_p(const char *dir)
{
	_cleanup_free_ char *p = strdup(dir);

	if (!p)
		return -ENOMEM;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

const char *manager_state(const struct manager *m)
{
	if (m->stopping)
		return "stopping";
	return m->jobs && job_queue_running(m->jobs) ? "running" : "idle";
}

void manager_update_status(struct manager *m)
{
	struct job *j = m->jobs ? job_queue_running(m->jobs) : NULL;

	if (j) {
		const struct job_record *rec = job_record(j);

		(void) sd_notifyf(false, "STATUS=%sJob %u (%s): %" PRIu64 " of %" PRIu64 " blocks",
				  m->stopping ? "Stopping; " : "", rec->id, strempty(rec->request),
				  rec->blocks_done, rec->blocks_wanted);
	} else
		(void) sd_notifyf(false, "STATUS=%s", m->stopping ? "Stopping." : "Idle.");
}

/* ---- job hooks ---- */

static void hook_job_new(struct job *j, void *userdata)
{
	bus_job_new(userdata, j);
}

static void hook_job_changed(struct job *j, unsigned what, void *userdata)
{
	struct manager *m = userdata;

	bus_job_changed(m, j, what);
	if (what & JOB_CHANGED_STATE)
		bus_manager_changed(m, "State");
	manager_update_status(m);
}

static void hook_job_finished(struct job *j, void *userdata)
{
	struct manager *m = userdata;

	bus_job_finished(m, j);
	cloud_job_finished(m->cloud, j);
	target_job_finished(m->target, j);
}

static void hook_idle(void *userdata)
{
	struct manager *m = userdata;

	manager_update_status(m);
	bus_manager_changed(m, "State");
	cloud_idle(m->cloud);
	if (m->stopping)
		(void) sd_event_exit(m->event, 0);
}

/* ---- stop and reload ---- */

void manager_stop(struct manager *m)
{
	if (m->stopping)
		return;
	m->stopping = true;
	(void) sd_notify(false, "STOPPING=1");
	mo_log_info("Stopping");
	job_queue_cancel_all(m->jobs);
	manager_update_status(m);
	bus_manager_changed(m, "State");
	if (!job_queue_running(m->jobs))
		(void) sd_event_exit(m->event, 0);
	/* else: the worker ends within one attempt timeout; the idle hook exits. */
}

/* Whether the main configuration file is there (a missing one is allowed: all defaults). */
static bool config_present(const char *path)
{
	return access(path, F_OK) == 0 || errno != ENOENT;
}

/* One record a problem ("FILE:LINE: message" lines): a log record is one line. */
static void log_config_problems(const char *errors)
{
	for (const char *p = strempty(errors); *p;) {
		size_t n = strcspn(p, "\n");

		if (n > 0)
			mo_log_warning("%.*s", (int) n, p);
		p += n;
		if (*p)
			p++;
	}
}

int manager_reload(struct manager *m, char **errors)
{
	struct mo_config c;
	_cleanup_free_ char *e = NULL;
	bool policy_changed;
	int r;

	(void) sd_notify(false, "RELOADING=1");
	if (m->config_present && !config_present(m->config_path)) {
		/*
		 * The file the daemon runs with has gone: reverting to the
		 * defaults would silently drop ExcludedRanges= and the rest.
		 * An empty file asks for the defaults explicitly.
		 */
		r = -ENOENT;
		mo_log_error("Configuration not reloaded: %s is gone; keeping the configuration in force "
			     "(create an empty file to return to the defaults)", m->config_path);
		if (errors && asprintf(errors, "%s: no such file; the configuration in force is kept "
				       "(create an empty file to return to the defaults)\n", m->config_path) < 0)
			*errors = NULL;
		goto out;
	}
	r = mo_config_load(m->config_path, &m->config, &c, &e);
	if (r < 0) {
		mo_log_error_errno(r, "Configuration not reloaded, keeping the old one: %m");
		mo_config_done(&c);
		goto out;
	}
	if (r > 0) {
		mo_log_warning("Configuration reloaded from %s with %d problem%s, each ignored (the value in force "
			       "kept):", m->config_path, r, r == 1 ? "" : "s");
		log_config_problems(e);
	} else
		mo_log_info("Configuration reloaded from %s", m->config_path);
	if (errors)
		*errors = TAKE_PTR(e);
	policy_changed = c.hotplug_policy != m->config.hotplug_policy;
	mo_config_done(&m->config);
	m->config = c;
	m->config_present = config_present(m->config_path);
	if (policy_changed)
		bus_manager_changed(m, "HotplugPolicy");
	cloud_apply(m->cloud);
	r = 0;
out:
	(void) sd_notify(false, "READY=1");
	manager_update_status(m);
	return r;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct manager *m = userdata;

	if (si->ssi_signo == SIGHUP)
		(void) manager_reload(m, NULL);
	else
		manager_stop(m);
	return 0;
}

/* ---- hotplug ---- */

int manager_apply_hotplug(struct manager *m, uint64_t index, const char **action, const char **reason)
{
	struct mo_hotplug_outcome o;
	struct job *owner;
	int r;

	*action = "";
	*reason = "";
	owner = job_queue_claimed_by(m->jobs, index);
	if (owner) {
		*reason = "the block belongs to a queued or running job";
		mo_log_info("memory%" PRIu64 ": hotplug policy not applied: %s (job %u)", index, *reason, job_id(owner));
		return 0;
	}
	/*
	 * Onlining migrates nothing and is quick, but it waits for the kernel's
	 * hotplug lock, which a running offline attempt holds for up to one
	 * attempt timeout: bound the write by twice that.
	 */
	r = mo_hotplug_apply(m->root, m->config.hotplug_policy, m->config.movable_ratio_pct,
			     2 * m->config.attempt_timeout_usec, index, &o);
	*reason = o.reason;
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return mo_log_error_errno(r, "memory%" PRIu64 ": %s failed: %s", index,
				       mo_action_to_string(o.action), o.reason);
	if (o.acted) {
		*action = mo_action_to_string(o.action);
		mo_log_info("memory%" PRIu64 ": %s (%s)", index, *action, o.reason);
	} else
		mo_log_info("memory%" PRIu64 ": left as it is: %s", index, o.reason);
	return 0;
}

static bool parse_block_name(const char *name, uint64_t *ret)
{
	uint64_t v = 0;

	if (!name || !startswith(name, "memory") || !name[6])
		return false;
	for (const char *p = name + 6; *p; p++) {
		if (*p < '0' || *p > '9' || v > UINT64_MAX / 10 - 1)
			return false;
		v = v * 10 + (uint64_t) (*p - '0');
	}
	*ret = v;
	return true;
}

static int on_uevent(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct manager *m = userdata;
	struct udev_device *dev;
	const char *action, *name, *handled;
	uint64_t index;

	dev = udev_monitor_receive_device(m->monitor);
	if (!dev)
		return 0;
	action = udev_device_get_action(dev);
	name = udev_device_get_sysname(dev);
	if (!action || !parse_block_name(name, &index))
		goto out;
	if (streq(action, "add")) {
		const char *why = "", *what = "";

		handled = udev_device_get_property_value(dev, UDEV_PROP_HANDLED);
		mo_log_info("%s: added (hot-plugged memory)", name);
		if (handled && *handled) {
			/* Our udev rule already asked for the policy (memoffctl hotplug): do not double-online. */
			mo_log_debug("%s: the udev rule applied the hotplug policy (%s=%s)", name, UDEV_PROP_HANDLED, handled);
			goto out;
		}
		if (!m->stopping)
			(void) manager_apply_hotplug(m, index, &what, &why);
	} else if (streq(action, "remove"))
		mo_log_info("%s: removed (hot-unplugged memory)", name);
	else if (streq(action, "online") || streq(action, "offline"))
		mo_log_debug("%s: %s", name, action);
out:
	udev_device_unref(dev);
	return 0;
}

static int setup_monitor(struct manager *m)
{
	struct udev_queue *queue;
	const char *source = "udev";
	int r;

	m->udev = udev_new();
	if (!m->udev)
		return mo_log_error_errno(ENOMEM, "udev_new() failed");
	/* Without udevd (an initramfs, a container) the raw kernel uevents are all there is. */
	queue = udev_queue_new(m->udev);
	if (!queue || !udev_queue_get_udev_is_active(queue))
		source = "kernel";
	udev_queue_unref(queue);
	m->monitor_is_kernel = streq(source, "kernel");
	m->monitor = udev_monitor_new_from_netlink(m->udev, source);
	if (!m->monitor) {
		mo_log_warning("Cannot watch memory uevents (no netlink access): hot-added memory will not be "
			    "handled by this daemon");
		return 0;
	}
	(void) udev_monitor_set_receive_buffer_size(m->monitor, 4 * 1024 * 1024);
	r = udev_monitor_filter_add_match_subsystem_devtype(m->monitor, "memory", NULL);
	if (r >= 0)
		r = udev_monitor_enable_receiving(m->monitor);
	if (r < 0) {
		mo_log_warning_errno(r, "Cannot watch memory uevents: %m");
		udev_monitor_unref(m->monitor);
		m->monitor = NULL;
		return 0;
	}
	r = sd_event_add_io(m->event, &m->monitor_source, udev_monitor_get_fd(m->monitor), EPOLLIN, on_uevent, m);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot watch the udev monitor: %m");
	(void) sd_event_source_set_description(m->monitor_source, "udev-monitor");
	mo_log_debug("Watching memory uevents from %s", source);
	return 0;
}

/* ---- life ---- */

int manager_new(const struct manager_options *o, struct manager **ret)
{
	_cleanup_(manager_freep) struct manager *m = NULL;
	_cleanup_free_ char *errors = NULL, *state_path = NULL;
	static const struct job_queue_hooks hooks = {
		.job_new = hook_job_new,
		.job_changed = hook_job_changed,
		.job_finished = hook_job_finished,
		.idle = hook_idle,
	};
	struct job_queue_hooks h = hooks;
	unsigned interrupted = 0;
	sigset_t ss;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return mo_log_error_errno(ENOMEM, "Out of memory");
	mo_config_init(&m->config);
	m->config_path = strdup(o->config_path);
	m->runtime_dir = strdup(o->runtime_dir);
	m->state_dir = strdup(o->state_dir);
	if (!m->config_path || !m->runtime_dir || !m->state_dir)
		return mo_log_error_errno(ENOMEM, "Out of memory");

	/* A configuration mistake never keeps the daemon (and the hotplug policy) from starting. */
	m->config_present = config_present(m->config_path);
	mo_config_done(&m->config);
	r = mo_config_load(m->config_path, NULL, &m->config, &errors);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot read the configuration: %m");
	if (r > 0) {
		mo_log_warning("The configuration has %d problem%s, each ignored (the default kept):", r,
			       r == 1 ? "" : "s");
		log_config_problems(errors);
	}

	r = mo_root_new(o->sysroot, o->procroot, &m->root);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot open %s/sys: %m", o->sysroot ? o->sysroot : "");
	r = mo_memory_read_block_size(m->root, &m->block_size);
	if (r == -EBADMSG)
		return mo_log_error_errno(r, "Malformed block_size_bytes under %s (%s)", m->root->sysroot, MO_SYSFS_MEMORY);
	if (r < 0)
		return mo_log_error_errno(r, "No memory-block sysfs under %s (%s/block_size_bytes): %m",
				       m->root->sysroot, MO_SYSFS_MEMORY);

	r = sd_event_default(&m->event);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot create the event loop: %m");
	/* The engine's interrupt signal is only ever unblocked by the engine, around a write. */
	r = mo_attempt_setup_signal();
	if (r < 0)
		return mo_log_error_errno(r, "Cannot install the attempt signal handler: %m");
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGCHLD);     /* DeviceHook= programs, reaped by the loop */
	sigaddset(&ss, MO_ATTEMPT_SIGNAL);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		return mo_log_error_errno(errno, "Cannot block signals: %m");
	if ((r = sd_event_add_signal(m->event, NULL, SIGTERM, on_signal, m)) < 0 ||
	    (r = sd_event_add_signal(m->event, NULL, SIGINT, on_signal, m)) < 0 ||
	    (r = sd_event_add_signal(m->event, NULL, SIGHUP, on_signal, m)) < 0)
		return mo_log_error_errno(r, "Cannot watch signals: %m");
	/* A timer only when systemd asked for a watchdog (WATCHDOG_USEC). */
	r = sd_event_set_watchdog(m->event, true);
	if (r < 0)
		mo_log_warning_errno(r, "Cannot set up the watchdog: %m");

	r = mkdir_p(m->state_dir);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot create %s: %m", m->state_dir);
	r = mkdir_p(m->runtime_dir);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot create %s: %m", m->runtime_dir);
	if (asprintf(&state_path, "%s/" MO_STATE_FILE, m->state_dir) < 0)
		return mo_log_error_errno(ENOMEM, "Out of memory");
	h.userdata = m;
	r = job_queue_new(m->event, m->root, state_path, &h, &m->jobs);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot create the job queue: %m");
	{
		_cleanup_free_ char *pins_path = NULL;

		if (asprintf(&pins_path, "%s/" MO_PINMEM_FILE, m->state_dir) < 0)
			return mo_log_error_errno(ENOMEM, "Out of memory");
		r = job_queue_load_pins(m->jobs, pins_path);
		if (r == -ENOMEM)
			return mo_log_error_errno(r, "Out of memory");
		if (r < 0)
			mo_log_warning_errno(r, "Cannot read %s, starting without remembered pins: %m", pins_path);
	}

	r = bus_setup(m, o->system_bus);
	if (r < 0)
		return r;

	r = job_queue_load(m->jobs, &interrupted);
	if (r == -EBADMSG)
		mo_log_warning("%s is not a memoffd state file; it will be replaced", state_path);
	else if (r < 0)
		mo_log_warning_errno(r, "Cannot read %s: %m", state_path);
	if (interrupted)
		mo_log_warning("%u job(s) were interrupted by the previous stop; their blocks were read back from sysfs",
			    interrupted);

	r = cloud_new(m, &m->cloud);
	if (r < 0)
		return r;
	r = target_new(m, &m->target);
	if (r < 0)
		return r;

	if (o->monitor) {
		r = setup_monitor(m);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

void manager_free(struct manager *m)
{
	if (!m)
		return;
	/* The queue first: it joins a running worker, which must not outlive the root. */
	job_queue_free(m->jobs);
	m->jobs = NULL;
	/* then the knob: no release job can set it any more */
	cloud_free(m->cloud);
	target_free(m->target);
	bus_done(m);
	sd_event_source_disable_unref(m->monitor_source);
	udev_monitor_unref(m->monitor);
	udev_unref(m->udev);
	sd_event_unref(m->event);
	mo_root_free(m->root);
	mo_config_done(&m->config);
	free(m->config_path);
	free(m->runtime_dir);
	free(m->state_dir);
	free(m);
}

int manager_run(struct manager *m)
{
	int r;

	mo_log_info("Ready: %s memory blocks of %" PRIu64 " MiB under %s, hotplug policy %s",
		 MO_SYSFS_MEMORY, m->block_size >> 20, m->root->sysroot,
		 mo_hotplug_policy_to_string(m->config.hotplug_policy));
	manager_update_status(m);
	(void) sd_notify(false, "READY=1");
	target_start(m->target);
	r = sd_event_loop(m->event);
	if (r < 0)
		return mo_log_error_errno(r, "Event loop failed: %m");
	return r;
}
