/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The relay between a private-socket peer and sd-bus (relay.h): two
 * non-blocking sockets, a bounded buffer each way, the handshake answered
 * here and the message stream checked against the size limit on its way.
 */
#include "relay.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dbus-wire.h"
#include "util.h"

struct relay_buf {
	size_t len;
	uint8_t data[RELAY_BUFFER];
};

struct relay {
	int peer_fd;
	int bus_fd;                   /* our end of the socketpair sd-bus serves */
	sd_event_source *peer_src;
	sd_event_source *bus_src;
	sd_event_source *handshake_timer;
	struct mo_sasl sasl;          /* the peer's handshake, answered here */
	size_t sasl_len;              /* bytes of the handshake read, not yet consumed */
	uint8_t sasl_in[1024];
	bool bus_authed;              /* sd-bus's own "OK" to our handshake has been read */
	size_t bus_line_len;
	char bus_line[128];
	struct mo_dbus_frame frame;   /* where the peer's messages end */
	uint64_t max_message;
	bool peer_eof;                /* the peer sent all it will: pass it on, then end sd-bus's input */
	bool bus_shut;                /* ... done (shutdown(SHUT_WR) on our end) */
	bool peer_dead;               /* ... and it reads no more either: sd-bus's answers are dropped */
	bool ended;
	relay_end_t end;
	void *userdata;
	struct relay_buf to_bus;      /* the peer's messages, for sd-bus */
	struct relay_buf to_peer;     /* our handshake answers, then sd-bus's messages */
};

/*
 * memoffd authenticates to its own sd-bus end anonymously (the server allows
 * it), with the trace "memoffd", and starts at once: sd-bus's "OK" is read
 * and dropped before anything it says is passed on.
 */
#define STR_(x) #x
#define STR(x) STR_(x)

static const char bus_handshake[] = "\0AUTH ANONYMOUS 6d656d6f666664\r\nBEGIN\r\n";

static void relay_end(struct relay *r, int error, const char *why)
{
	if (r->ended)
		return;
	r->ended = true;
	(void) sd_event_source_set_enabled(r->peer_src, SD_EVENT_OFF);
	(void) sd_event_source_set_enabled(r->bus_src, SD_EVENT_OFF);
	(void) sd_event_source_set_enabled(r->handshake_timer, SD_EVENT_OFF);
	r->end(r, error, why, r->userdata);
}

/* Return: bytes read (> 0), 0 when nothing is there now, -1 when the connection ended. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t k;

	if (len == 0)
		return 0;   /* no room: not an end of file */
	k = recv(fd, buf, len, MSG_DONTWAIT);

	if (k > 0)
		return k;
	if (k < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return -1;
}

/* Write out what @b holds. Return: 0, or -1 when the connection ended. */
static int flush(int fd, struct relay_buf *b)
{
	while (b->len > 0) {
		ssize_t k = send(fd, b->data, b->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (k < 0)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		memmove(b->data, b->data + k, b->len - (size_t) k);
		b->len -= (size_t) k;
	}
	return 0;
}

/* Messages from the peer, @n bytes at the end of to_bus not yet counted in it. Return: 0 or ended. */
static int take_messages(struct relay *r, const uint8_t *p, size_t n)
{
	int e = mo_dbus_frame_scan(&r->frame, p, n, r->max_message);

	if (e == -EMSGSIZE) {
		relay_end(r, e, "it sent a message longer than it may");
		return e;
	}
	if (e < 0) {
		relay_end(r, e, "it sent something that is not a D-Bus message");
		return e;
	}
	if (p != r->to_bus.data + r->to_bus.len)
		memmove(r->to_bus.data + r->to_bus.len, p, n);
	r->to_bus.len += n;
	return 0;
}

/* Answer what the peer's handshake holds; after BEGIN, what follows is messages. Return: 0 or ended. */
static int handshake(struct relay *r)
{
	ssize_t used;

	if (r->sasl_len == 0 || r->sasl.state == MO_SASL_DONE)
		return 0;
	used = mo_sasl_feed(&r->sasl, r->sasl_in, r->sasl_len, (char *) r->to_peer.data, RELAY_BUFFER,
			    &r->to_peer.len);
	if (used < 0) {
		relay_end(r, (int) used, "it broke the D-Bus authentication protocol");
		return (int) used;
	}
	memmove(r->sasl_in, r->sasl_in + used, r->sasl_len - (size_t) used);
	r->sasl_len -= (size_t) used;
	if (r->sasl.state == MO_SASL_DONE)
		(void) sd_event_source_set_enabled(r->handshake_timer, SD_EVENT_OFF);
	if (r->sasl.state == MO_SASL_DONE && r->sasl_len > 0) {
		/* to_bus holds at most our own short handshake now: the rest of sasl_in fits */
		size_t n = r->sasl_len;

		r->sasl_len = 0;
		return take_messages(r, r->sasl_in, n);
	}
	return 0;
}

static int peer_read(struct relay *r)
{
	ssize_t k;

	if (r->sasl.state != MO_SASL_DONE) {
		k = read_some(r->peer_fd, r->sasl_in + r->sasl_len, sizeof(r->sasl_in) - r->sasl_len);
		if (k < 0) {
			relay_end(r, 0, NULL);
			return -1;
		}
		r->sasl_len += (size_t) k;
		return handshake(r);
	}
	k = read_some(r->peer_fd, r->to_bus.data + r->to_bus.len, RELAY_BUFFER - r->to_bus.len);
	if (k < 0) {
		/*
		 * The peer is gone, but what it sent is sd-bus's to carry out
		 * (a call that expects no reply, from a client that exits at
		 * once): pass it on and end sd-bus's input; sd-bus reads it,
		 * then the end, and disconnects (bus.c drops the connection).
		 */
		r->peer_eof = true;
		return 0;
	}
	return take_messages(r, r->to_bus.data + r->to_bus.len, (size_t) k);
}

/* sd-bus's bytes: its answer to our handshake first (dropped), then messages for the peer. */
static int bus_read(struct relay *r)
{
	ssize_t k;

	if (r->bus_authed) {
		k = read_some(r->bus_fd, r->to_peer.data + r->to_peer.len, RELAY_BUFFER - r->to_peer.len);
		if (k < 0) {
			relay_end(r, 0, NULL);
			return -1;
		}
		r->to_peer.len = r->peer_dead ? 0 : r->to_peer.len + (size_t) k;
		return 0;
	}
	k = read_some(r->bus_fd, r->bus_line + r->bus_line_len, sizeof(r->bus_line) - r->bus_line_len);
	if (k < 0) {
		relay_end(r, 0, NULL);
		return -1;
	}
	r->bus_line_len += (size_t) k;
	char *e = memmem(r->bus_line, r->bus_line_len, "\r\n", 2);
	if (!e) {
		if (r->bus_line_len == sizeof(r->bus_line)) {
			relay_end(r, -EPROTO, "memoffd's own D-Bus end did not accept it");
			return -1;
		}
		return 0;
	}
	if (strncmp(r->bus_line, "OK ", 3) != 0) {
		relay_end(r, -EPROTO, "memoffd's own D-Bus end did not accept it");
		return -1;
	}
	r->bus_authed = true;
	size_t rest = r->bus_line_len - (size_t) (e + 2 - r->bus_line);
	/* to_peer has room: nothing of sd-bus's has been passed on yet, and our answers are short */
	if (rest > RELAY_BUFFER - r->to_peer.len) {
		relay_end(r, -ENOBUFS, "the peer does not read");
		return -1;
	}
	memcpy(r->to_peer.data + r->to_peer.len, e + 2, rest);
	r->to_peer.len += rest;
	return 0;
}

/* Listen for what can be done now; a side with nothing to do is not polled at all (no busy EPOLLHUP). */
static void update(struct relay *r)
{
	uint32_t peer = 0, bus = 0;

	if (r->ended)
		return;
	if (r->peer_eof && r->to_bus.len == 0 && !r->bus_shut) {
		if (shutdown(r->bus_fd, SHUT_WR) < 0) {
			relay_end(r, 0, NULL);
			return;
		}
		r->bus_shut = true;
	}
	if (r->peer_eof) {
		/* nothing more to read from the peer */
	} else if (r->sasl.state != MO_SASL_DONE) {
		if (r->sasl_len < sizeof(r->sasl_in) && RELAY_BUFFER - r->to_peer.len >= MO_SASL_REPLY_MAX)
			peer |= EPOLLIN;
	} else if (r->to_bus.len < RELAY_BUFFER) {
		peer |= EPOLLIN;
	}
	if (r->to_peer.len > 0 && !r->peer_dead)
		peer |= EPOLLOUT;
	if (r->to_peer.len < RELAY_BUFFER)
		bus |= EPOLLIN;
	if (r->to_bus.len > 0)
		bus |= EPOLLOUT;
	if (peer)
		(void) sd_event_source_set_io_events(r->peer_src, peer);
	(void) sd_event_source_set_enabled(r->peer_src, peer ? SD_EVENT_ON : SD_EVENT_OFF);
	if (bus)
		(void) sd_event_source_set_io_events(r->bus_src, bus);
	(void) sd_event_source_set_enabled(r->bus_src, bus ? SD_EVENT_ON : SD_EVENT_OFF);
}

static int on_peer(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct relay *r = userdata;

	if ((revents & EPOLLOUT) && flush(r->peer_fd, &r->to_peer) < 0) {
		if (!r->peer_eof) {
			relay_end(r, 0, NULL);
			return 0;
		}
		/* gone both ways: sd-bus still carries out what the peer sent, and ends on its own */
		r->peer_dead = true;
		r->to_peer.len = 0;
	}
	/* answers went out: handshake lines that waited for room can be answered now */
	if (handshake(r) < 0)
		return 0;
	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && peer_read(r) < 0)
		return 0;
	update(r);
	return 0;
}

static int on_bus(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct relay *r = userdata;

	if ((revents & EPOLLOUT) && flush(r->bus_fd, &r->to_bus) < 0) {
		relay_end(r, 0, NULL);
		return 0;
	}
	if ((revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) && bus_read(r) < 0)
		return 0;
	update(r);
	return 0;
}

static int on_handshake_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct relay *r = userdata;

	if (r->sasl.state != MO_SASL_DONE)
		relay_end(r, -ETIMEDOUT,
			  "it did not finish the D-Bus authentication within " STR(RELAY_HANDSHAKE_SEC) " s");
	return 0;
}

int relay_new(sd_event *event, int peer_fd, int bus_fd, uid_t uid, sd_id128_t server_id, uint64_t max_message,
	      relay_end_t end, void *userdata, struct relay **ret)
{
	char guid[SD_ID128_STRING_MAX];
	struct relay *r;
	int e;

	r = calloc(1, sizeof(*r));
	if (!r) {
		close(peer_fd);
		close(bus_fd);
		return -ENOMEM;
	}
	r->peer_fd = peer_fd;
	r->bus_fd = bus_fd;
	r->max_message = max_message;
	r->end = end;
	r->userdata = userdata;
	mo_sasl_init(&r->sasl, uid, sd_id128_to_string(server_id, guid));
	memcpy(r->to_bus.data, bus_handshake, sizeof(bus_handshake) - 1);
	r->to_bus.len = sizeof(bus_handshake) - 1;
	e = sd_event_add_io(event, &r->peer_src, peer_fd, EPOLLIN, on_peer, r);
	if (e >= 0)
		e = sd_event_add_io(event, &r->bus_src, r->bus_fd, EPOLLIN | EPOLLOUT, on_bus, r);
	if (e >= 0)
		e = sd_event_add_time_relative(event, &r->handshake_timer, CLOCK_MONOTONIC, RELAY_HANDSHAKE_SEC * 1000000ULL, 0,
					       on_handshake_timeout, r);
	if (e < 0) {
		relay_free(r);
		return e;
	}
	(void) sd_event_source_set_description(r->peer_src, "relay-peer");
	(void) sd_event_source_set_description(r->bus_src, "relay-bus");
	(void) sd_event_source_set_description(r->handshake_timer, "relay-handshake");
	*ret = r;
	return 0;
}

struct relay *relay_free(struct relay *r)
{
	if (!r)
		return NULL;
	sd_event_source_disable_unref(r->peer_src);
	sd_event_source_disable_unref(r->bus_src);
	sd_event_source_disable_unref(r->handshake_timer);
	if (r->peer_fd >= 0)
		close(r->peer_fd);
	if (r->bus_fd >= 0)
		close(r->bus_fd);
	free(r);
	return NULL;
}
