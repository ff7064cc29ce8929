/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * memoffd's D-Bus API (doc/org.memoff.Manager1.md): org.memoff.Manager1 at
 * /org/memoff/Manager1 and one org.memoff.Job1 object per job at
 * /org/memoff/job/N, served
 *
 *  - on the system bus, under the name org.memoff.Manager1, when there is one;
 *  - always on a private socket, RUNTIME_DIR/control, where every accepted
 *    connection is a peer-to-peer sd-bus server (no broker) behind a relay
 *    that bounds what the peer may send (relay.h): the CLI works without a
 *    bus, and early in boot.
 *
 * Mutating methods are allowed to uid 0 and to members of AllowedGroup=;
 * the caller's credentials come from the bus driver or, peer to peer, from
 * SO_PEERCRED/SO_PEERGROUPS of the connection.
 */

#include "bus-names.h"
#include "jobs.h"

struct manager;


/*
 * Connections on the private socket at the same time. Unprivileged peers
 * share MO_BUS_MAX_UNPRIVILEGED slots, at most MO_BUS_MAX_PER_UID each; the
 * rest are kept for root, so nobody who holds idle connections can lock root
 * out of the socket.
 */
#define MO_BUS_MAX_UNPRIVILEGED 64
#define MO_BUS_MAX_PER_UID 16
#define MO_BUS_MAX_CONNECTIONS (MO_BUS_MAX_UNPRIVILEGED + 64)
/*
 * Memory a caller may make memoffd hold for it: messages parsed but not yet
 * dispatched (calls in flight) and replies and signals it has not read, per
 * connection, per uid and in all. Past a limit the connection that asks for
 * more is closed; root's never are.
 */
#define MO_BUS_MAX_INFLIGHT 32
#define MO_BUS_MAX_UNSENT 64
#define MO_BUS_MAX_UNSENT_PER_UID 128
#define MO_BUS_MAX_UNSENT_TOTAL 1024
/*
 * The longest message a peer of the private socket may send: what an
 * unprivileged peer can make memoffd hold in one message that never finishes
 * arriving (every call of the API fits in a few KiB). Root's is sd-bus's own
 * limit.
 */
#define MO_BUS_MAX_MESSAGE (1024 * 1024)
#define MO_BUS_MAX_MESSAGE_ROOT (128 * 1024 * 1024)
/* GetPins calls answered at the same time, at most (each scans in a thread). */
#define MO_BUS_MAX_PIN_SCANS 4

/**
 * bus_setup() - listen on RUNTIME_DIR/control and, when asked, join the
 * system bus and take the name. Refuses to start when another memoffd
 * answers on the socket or owns the name.
 * Return: 0 or a negative errno (logged).
 */
int bus_setup(struct manager *m, bool system_bus);

/** bus_done() - close every connection and remove the socket. */
void bus_done(struct manager *m);

/* Hooks from the job queue and the manager: signals and PropertiesChanged. */
void bus_job_new(struct manager *m, struct job *j);
void bus_job_changed(struct manager *m, struct job *j, unsigned what);
void bus_job_finished(struct manager *m, struct job *j);
void bus_manager_changed(struct manager *m, const char *property);

/** bus_job_path() - "/org/memoff/job/N" into @buf (at least 32 bytes). */
char *bus_job_path(unsigned id, char *buf, size_t len);
