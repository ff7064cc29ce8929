/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The two things memoffd must know of the D-Bus wire protocol to stand
 * between an untrusted peer and sd-bus (src/memoffd/relay.c):
 *
 *  - the server side of the SASL handshake that opens a connection (a NUL
 *    byte, then text lines: AUTH, DATA, NEGOTIATE_UNIX_FD, CANCEL, ERROR,
 *    BEGIN), so that the peer is identified by the kernel's credentials of
 *    its own socket, not by whoever relays its bytes;
 *  - where each message of the binary stream after BEGIN ends, from its
 *    16-byte fixed header alone, so that a message larger than the peer may
 *    send is refused before any of it is stored.
 *
 * Both are pure: bytes in, a verdict and bytes to answer out.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The handshake may take this many bytes in all, a line this many. */
#define MO_SASL_MAX 16384
#define MO_SASL_LINE_MAX 512
/* The longest answer mo_sasl_feed() writes for one line. */
#define MO_SASL_REPLY_MAX 64

enum mo_sasl_state {
	MO_SASL_WANT_NUL,    /* nothing read yet: the credentials byte comes first */
	MO_SASL_WANT_AUTH,   /* waiting for an AUTH the server accepts */
	MO_SASL_WANT_DATA,   /* AUTH without a response: "DATA" asked for it */
	MO_SASL_WANT_BEGIN,  /* authenticated ("OK" sent): BEGIN ends the handshake */
	MO_SASL_DONE,        /* BEGIN read: what follows is D-Bus messages */
};

enum mo_sasl_mech {
	MO_SASL_MECH_NONE,
	MO_SASL_MECH_EXTERNAL,
	MO_SASL_MECH_ANONYMOUS,
};

struct mo_sasl {
	enum mo_sasl_state state;
	enum mo_sasl_mech mech;
	uid_t uid;                 /* the peer, from the kernel (SO_PEERCRED) */
	char guid[33];             /* the server's id, 32 hex digits */
	size_t total;              /* bytes of the handshake so far */
	size_t len;                /* bytes in line */
	char line[MO_SASL_LINE_MAX];
};

/**
 * mo_sasl_init() - a handshake with a peer whose uid the kernel says is
 * @uid, answering "OK @guid" (32 hex digits) when it succeeds.
 *
 * EXTERNAL succeeds when the peer claims no identity or claims @uid (in hex
 * of its decimal digits, as the D-Bus specification says); ANONYMOUS always
 * does: who the peer is comes from its socket either way. NEGOTIATE_UNIX_FD
 * is refused: no descriptors pass.
 */
void mo_sasl_init(struct mo_sasl *s, uid_t uid, const char *guid);

/**
 * mo_sasl_feed() - read the peer's bytes @buf[0..@n) and append the answers
 * to @reply (*@reply_len bytes used of @reply_size).
 *
 * Stops after BEGIN (state MO_SASL_DONE: the bytes after it are messages and
 * not consumed) and before a complete line whose answer would not fit in
 * @reply (MO_SASL_REPLY_MAX bytes free are always enough): call again when
 * the answers are sent.
 *
 * Return: how many bytes of @buf were consumed, or -EPROTO when the peer broke
 * the protocol and must be disconnected (no NUL byte first, a line over
 * MO_SASL_LINE_MAX, a handshake over MO_SASL_MAX, BEGIN before it is
 * authenticated, a NUL inside a line).
 */
ssize_t mo_sasl_feed(struct mo_sasl *s, const void *buf, size_t n, char *reply, size_t reply_size,
		     size_t *reply_len);

/* The length of D-Bus's fixed header, which says how long the message is. */
#define MO_DBUS_FIXED_HEADER 16

struct mo_dbus_frame {
	uint8_t hdr[MO_DBUS_FIXED_HEADER];
	size_t have;     /* bytes of hdr read of the current message */
	uint64_t size;   /* the current message's whole length, 0 until its fixed header is read */
	uint64_t left;   /* bytes of the current message not seen yet (once size is known) */
	uint64_t messages; /* messages seen whole */
};

/**
 * mo_dbus_message_size() - the whole length of the message whose fixed
 * header is @hdr: the header (fixed part and fields, padded to 8) and the
 * body.
 * Return: the length, or -EBADMSG (not a D-Bus message of protocol version
 * 1: its first byte is neither 'l' nor 'B').
 */
int64_t mo_dbus_message_size(const uint8_t hdr[MO_DBUS_FIXED_HEADER]);

/**
 * mo_dbus_frame_scan() - follow the message stream through @buf[0..@n).
 * Return: 0, -EBADMSG (a header mo_dbus_message_size() refuses) or
 * -EMSGSIZE (a message longer than @max bytes), as soon as its fixed header
 * is complete: nothing of it need be passed on.
 */
int mo_dbus_frame_scan(struct mo_dbus_frame *f, const void *buf, size_t n, uint64_t max);
