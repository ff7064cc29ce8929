/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What the parts of memoffd's D-Bus service share, as systemd's core shares
 * dbus.h between dbus.c and dbus-manager.c/dbus-job.c:
 *
 *  - bus.c          setup, the private socket's connections, the emulated
 *                   bus driver, signal emission to every connection;
 *  - bus-access.c   the caller's credentials and the root/AllowedGroup= check;
 *  - bus-options.c  the a{sv} options of the methods, read from a table;
 *  - bus-manager.c  org.memoff.Manager1 (properties, methods, GetPins' scans);
 *  - bus-job.c      org.memoff.Job1, one object per job;
 *  - bus-cloud.c    the release target (SetReleaseTarget and its properties).
 */

#include <stddef.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "bus.h"
#include "ratelimit.h"

struct relay;

struct conn {
	sd_bus *bus;
	struct relay *relay; /* between the peer's socket and bus (relay.h) */
	struct manager *m;
	uid_t uid;          /* the peer, from SO_PEERCRED at accept: sd-bus sees memoffd as its peer */
	gid_t gid;
	gid_t *groups;      /* its supplementary groups, from SO_PEERGROUPS */
	int n_groups;       /* -1: the kernel did not say */
	bool ready;         /* may receive signals: its Hello was answered, or it called something else first */
	bool dead;          /* disconnected by us; freed from the loop (bus_sweep) */
	struct conn *next;
};

/* Warnings a caller can trigger, rate-limited per uid (a small table, least recently used replaced). */
#define MO_BUS_LOG_UIDS 32
struct uid_log {
	uid_t uid;
	bool used;
	uint64_t last;
	struct mo_ratelimit rl;
};

struct pins_call;

struct bus_state {
	sd_bus *system;              /* NULL when there is no system bus */
	int listen_fd;
	sd_event_source *listen_source;
	char *socket_path;
	sd_id128_t server_id;
	struct conn *conns;          /* private connections */
	unsigned n_conns;
	struct pins_call *pins;      /* GetPins calls being answered (bus-manager.c) */
	unsigned n_pins;
	sd_event_source *sweep;      /* frees the connections marked dead */
	sd_event_source *accept_retry; /* accept() failed for want of resources: try again later */
	uint64_t accept_backoff_usec;
	struct mo_ratelimit accept_log;
	struct uid_log uid_log[MO_BUS_LOG_UIDS];
};

/** bus_find_conn() - the private connection served by @bus, or NULL (the system bus). */
struct conn *bus_find_conn(struct bus_state *s, sd_bus *bus);

/** bus_all_buses() - every connection: the system bus (when joined) and the private ones. */
size_t bus_all_buses(struct bus_state *s, sd_bus **out);

#define FOREACH_BUS(s, b) \
	for (sd_bus *_all[MO_BUS_MAX_CONNECTIONS + 1], **_p = _all, **_end = _all + bus_all_buses((s), _all), *b; \
	     _p < _end && (b = *_p, true); _p++)

/**
 * bus_append_array() - append to @m an array of @n elements of signature
 * @contents ("(st)"), the i-th appended by @append(@m, i, @userdata).
 * Return: 0 or a negative errno.
 */
int bus_append_array(sd_bus_message *m, const char *contents, size_t n,
		     int (*append)(sd_bus_message *m, size_t i, void *userdata), void *userdata);

/** bus_reply_array() - reply to the call @msg with such an array. Return: as sd_bus_send(). */
int bus_reply_array(sd_bus_message *msg, const char *contents, size_t n,
		    int (*append)(sd_bus_message *m, size_t i, void *userdata), void *userdata);

/* What an a{sv} option holds, and the D-Bus types it takes (bus-options.c). */
enum bus_option_kind {
	BUS_OPTION_BOOL,        /* b → bool */
	BUS_OPTION_ZONE,        /* s, a zone name (parse.h) → const char *, valid while the message is */
	BUS_OPTION_NODE,        /* i, -1 (any) or a node → int */
	BUS_OPTION_ATTEMPTS,    /* u, up to 1000000 → int */
	BUS_OPTION_DURATION,    /* t (µs) or s ("30s", parse.h) → uint64_t */
	BUS_OPTION_SIZE,        /* t (bytes) or s ("1G", parse.h) → uint64_t */
};

/* Flags of a duration or size option. */
#define BUS_OPTION_NONZERO (1u << 0)   /* 0 is refused */
#define BUS_OPTION_FINITE  (1u << 1)   /* UINT64_MAX (infinity) is refused */

/* One option a method takes: its key, what it holds, where in the method's options it goes. */
struct bus_option {
	const char *key;
	enum bus_option_kind kind;
	unsigned flags;
	size_t offset;
};

/**
 * bus_read_options() - read the a{sv} argument at @msg's read position into
 * @target, by @table (ended by an entry with a NULL key). A key may come
 * more than once; the last one counts.
 * Return: 0, or a negative errno, with @error set (InvalidArgument) for an
 * unknown key, a value of the wrong type or a bad value, all naming the key.
 */
int bus_read_options(sd_bus_message *msg, const struct bus_option *table, void *target, sd_bus_error *error);

/**
 * bus_check_access() - whether the caller of @msg may call a mutating
 * method: uid 0, or a member of AllowedGroup=.
 * Return: 0, or a negative errno with @error set (AccessDenied).
 */
int bus_check_access(sd_bus_message *msg, struct manager *m, sd_bus_error *error);

/**
 * bus_check_start() - what a method that starts work (a job, a scan, a
 * release target) checks first: bus_check_access(), then that memoffd is
 * not stopping.
 * Return: 0, or a negative errno with @error set (AccessDenied, ShuttingDown).
 */
int bus_check_start(sd_bus_message *msg, struct manager *m, sd_bus_error *error);

/** bus_caller_uid() - the effective uid of @msg's sender. Return: 0 or a negative errno. */
int bus_caller_uid(sd_bus_message *msg, struct manager *m, uid_t *ret);

/**
 * bus_may_see_owners() - whether the caller of the message being processed
 * on @bus passes bus_check_access(): owners of blocked pages name other
 * processes, and only such callers see them (doc/security.md).
 */
bool bus_may_see_owners(sd_bus *bus, struct manager *m);

/** bus_manager_add_objects() - org.memoff.Manager1 at /org/memoff/Manager1 on @bus. */
int bus_manager_add_objects(struct manager *m, sd_bus *bus);

/** bus_manager_abandon_pins() - forget the GetPins calls still waiting for their scan. */
void bus_manager_abandon_pins(struct bus_state *s);

/** bus_job_add_objects() - org.memoff.Job1 under /org/memoff/job on @bus. */
int bus_job_add_objects(struct manager *m, sd_bus *bus);

/**
 * bus_job_cancel() - Manager1.CancelJob and Job1.Cancel: check access, then
 * cancel job @id and reply to @msg.
 */
int bus_job_cancel(sd_bus_message *msg, struct manager *m, uint32_t id, sd_bus_error *error);
