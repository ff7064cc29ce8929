/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The Manager: the one object that owns memoffd's sd-event loop and
 * everything on it: the configuration, the job queue, the D-Bus endpoints,
 * the udev monitor, the signals (SIGTERM/SIGINT stop, SIGHUP reloads) and
 * the sd_notify state. When idle it has no timer: it sleeps in epoll until a
 * uevent, a D-Bus message or a signal arrives.
 */

#include <libudev.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "bus-names.h"
#include "memoffd-conf.h"
#include "jobs.h"
#include "root.h"

#define MO_RUNTIME_DIR_DEFAULT "/run/memoff"
#define MO_CONTROL_SOCKET      "control"
#define MO_STATE_FILE          "jobs"

struct manager_options {
	const char *sysroot;      /* NULL = "/" */
	const char *procroot;     /* NULL = sysroot */
	const char *config_path;  /* the main config file */
	const char *runtime_dir;  /* holds the control socket */
	const char *state_dir;    /* holds the job state file */
	bool system_bus;          /* also serve on the system bus when there is one */
	bool monitor;             /* watch memory uevents */
};

struct bus_state;
struct cloud;
struct target;

struct manager {
	sd_event *event;
	struct mo_root *root;
	char *config_path, *runtime_dir, *state_dir;
	bool want_system_bus, want_monitor;
	struct mo_config config;
	bool config_present;      /* the main file existed at the last (re)load */
	struct job_queue *jobs;
	struct bus_state *bus;
	struct cloud *cloud;      /* [Cloud]: eject requests */
	struct target *target;    /* the release target */
	struct udev *udev;
	struct udev_monitor *monitor;
	sd_event_source *monitor_source;
	bool monitor_is_kernel;   /* raw kernel uevents (no udevd): no rule ran before us */
	bool stopping;
	uint64_t block_size;
};

/**
 * manager_new() - read the config, open the root, the job queue (restoring
 * and reconciling the state file), the D-Bus endpoints and the udev monitor.
 * Errors are logged here (this is the daemon's top level).
 * Return: 0 or a negative errno.
 */
int manager_new(const struct manager_options *o, struct manager **ret);
void manager_free(struct manager *m);
static inline void manager_freep(struct manager **m) { manager_free(*m); }

/** manager_run() - sd_notify READY=1 and run the loop until stopped. Return: the exit code. */
int manager_run(struct manager *m);

/**
 * manager_reload() - re-read the configuration. A value that is refused
 * keeps the value in force; the problems are logged (and returned in
 * @errors when not NULL). When the main file has gone since the last load,
 * nothing changes (the defaults would silently drop ExcludedRanges=).
 * Return: 0 (also with problems), -ENOENT when the file has gone, -ENOMEM.
 */
int manager_reload(struct manager *m, char **errors);

/** manager_stop() - cancel the jobs and leave the loop once the worker is done. */
void manager_stop(struct manager *m);

/** manager_state() - "idle", "running" or "stopping". */
const char *manager_state(const struct manager *m);

/** manager_update_status() - refresh sd_notify STATUS= (and the bus State property). */
void manager_update_status(struct manager *m);

/**
 * manager_apply_hotplug() - apply the hotplug policy to block @index now.
 * @action: receives what was written ("online_movable") or "" when nothing
 * @reason: receives why (static)
 * Return: 0 (also when the policy left the block alone), or a negative errno
 * when the block does not exist or the write failed.
 */
int manager_apply_hotplug(struct manager *m, uint64_t index, const char **action, const char **reason);
