/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The relay between a peer of the private socket and memoffd's sd-bus
 * connection to it. sd-bus allocates a whole message as soon as its header
 * arrives (up to 128 MiB) and keeps a message that never finishes arriving,
 * with no way to see or cap it: a peer could make memoffd hold gigabytes.
 * So sd-bus never reads the peer's socket. The relay does:
 *
 *  - it answers the SASL handshake itself (dbus-wire.h), the peer's identity
 *    being its socket's SO_PEERCRED;
 *  - it passes the message stream on to one end of a socketpair, whose other
 *    end sd-bus serves, and refuses (closes the connection) as soon as a
 *    message's fixed header says it is longer than the peer may send;
 *  - it reads no descriptors (the kernel discards any sent);
 *  - it gives the handshake RELAY_HANDSHAKE_SEC seconds to end;
 *  - it holds at most RELAY_BUFFER bytes each way and reads no more while they
 *    wait: a peer that sends faster than memoffd reads, or reads slower than
 *    memoffd answers, is held back by its socket, not by memoffd's memory.
 *
 * sd-bus sees memoffd itself as its peer: who is calling is what the relay
 * recorded at accept() (bus-access.c asks the connection, not sd-bus).
 */

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#define RELAY_BUFFER (64 * 1024)
/* A peer that has not finished the handshake after this long is closed (sd-bus set such a limit too). */
#define RELAY_HANDSHAKE_SEC 30

struct relay;

/*
 * The relay has ended: the peer went away or broke the protocol (@error
 * -EPROTO, -EBADMSG, -EMSGSIZE: @why says how), or sd-bus closed its end
 * (@error 0). Called from the relay's own event sources: free the relay
 * later, not from here. After it the relay does nothing more.
 */
typedef void (*relay_end_t)(struct relay *r, int error, const char *why, void *userdata);

/**
 * relay_new() - relay between @peer_fd, whose kernel-given uid is @uid, and
 * @bus_fd, one end of a socketpair whose other end sd-bus serves (server
 * mode, anonymous authentication allowed; the relay authenticates there by
 * itself). Both descriptors are taken over, and closed on error too. The peer
 * may send messages of at most @max_message bytes.
 * Return: 0 or a negative errno.
 */
int relay_new(sd_event *event, int peer_fd, int bus_fd, uid_t uid, sd_id128_t server_id, uint64_t max_message,
	      relay_end_t end, void *userdata, struct relay **ret);

/** relay_free() - close both ends and free @r (NULL is fine). Return: NULL. */
struct relay *relay_free(struct relay *r);
