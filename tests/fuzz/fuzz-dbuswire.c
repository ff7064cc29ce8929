/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: what memoffd's relay reads from an untrusted peer
 * (dbus-wire.h): the SASL handshake, then the message stream's framing.
 *
 * Input: 4 bytes of the peer's uid, 1 byte of chunk size (the stream is fed
 * in pieces of 1 + byte % 64 bytes), 1 byte of size limit (a message may be
 * at most 16 << (byte % 20) bytes), then the peer's bytes.
 *
 * Checks besides "no crash": the answer never overflows its buffer, every
 * answer is one of the server's lines, consumption never exceeds the input,
 * and feeding the stream in pieces ends exactly where feeding it whole does
 * (same state, same answers, same bytes consumed, same messages framed, same
 * verdict).
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbus-wire.h"

#define GUID "00112233445566778899aabbccddeeff"

struct outcome {
	enum mo_sasl_state state;
	size_t consumed;       /* by the handshake */
	int sasl_error;
	char reply[MO_SASL_MAX * 8];
	size_t reply_len;
	int frame_error;
	uint64_t messages;
};

static void check_replies(const char *r, size_t len)
{
	static const char *const known[] = {
		"OK " GUID "\r\n", "DATA\r\n", "ERROR\r\n", "REJECTED EXTERNAL ANONYMOUS\r\n",
	};

	while (len > 0) {
		bool found = false;

		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
			size_t k = strlen(known[i]);

			if (len >= k && memcmp(r, known[i], k) == 0) {
				r += k;
				len -= k;
				found = true;
				break;
			}
		}
		if (!found)
			abort();
	}
}

static void run(const uint8_t *p, size_t n, uid_t uid, size_t chunk, uint64_t max, struct outcome *o)
{
	struct mo_sasl s;
	struct mo_dbus_frame f = {};
	size_t at = 0, pending = 0;

	memset(o, 0, sizeof(*o));
	mo_sasl_init(&s, uid, GUID);
	/*
	 * The handshake, read @chunk bytes at a time; what a call leaves
	 * unconsumed is offered again (as the relay does). The answers' window
	 * is 4 KiB a call, so every call makes progress.
	 */
	for (;;) {
		size_t room = sizeof(o->reply) - o->reply_len;
		ssize_t r;

		if (s.state == MO_SASL_DONE)
			break;
		if (pending == 0) {
			if (at >= n)
				break;
			pending = n - at < chunk ? n - at : chunk;
			at += pending;
		}
		r = mo_sasl_feed(&s, p + at - pending, pending, o->reply, o->reply_len + (room < 4096 ? room : 4096),
				 &o->reply_len);
		if (r < 0) {
			if (r != -EPROTO)
				abort();
			o->sasl_error = (int) r;
			break;
		}
		if ((size_t) r > pending || o->reply_len > sizeof(o->reply))
			abort();
		if (r == 0 && s.state != MO_SASL_DONE)
			abort();   /* a window of 4 KiB always takes a line */
		pending -= (size_t) r;
		o->consumed += (size_t) r;
	}
	o->state = s.state;
	check_replies(o->reply, o->reply_len);
	if (o->sasl_error || s.state != MO_SASL_DONE)
		return;
	/* the messages, from the first byte after BEGIN */
	for (size_t i = o->consumed; i < n; i += chunk) {
		size_t k = n - i < chunk ? n - i : chunk;
		int r = mo_dbus_frame_scan(&f, p + i, k, max);

		if (r < 0) {
			if (r != -EMSGSIZE && r != -EBADMSG)
				abort();
			o->frame_error = r;
			break;
		}
		if (f.have > MO_DBUS_FIXED_HEADER || (f.size && f.size > max))
			abort();
	}
	o->messages = f.messages;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct outcome whole, pieces;
	uid_t uid;
	size_t chunk;
	uint64_t max;

	if (size < 6)
		return 0;
	uid = (uid_t) ((uint32_t) data[0] | (uint32_t) data[1] << 8 | (uint32_t) data[2] << 16 |
		       (uint32_t) data[3] << 24);
	chunk = 1 + data[4] % 64;
	max = UINT64_C(16) << (data[5] % 20);
	data += 6;
	size -= 6;
	run(data, size, uid, size ? size : 1, max, &whole);
	run(data, size, uid, chunk, max, &pieces);
	if (whole.state != pieces.state || whole.sasl_error != pieces.sasl_error ||
	    whole.reply_len != pieces.reply_len || memcmp(whole.reply, pieces.reply, whole.reply_len) != 0 ||
	    whole.frame_error != pieces.frame_error || whole.messages != pieces.messages)
		abort();
	if (!whole.sasl_error && whole.consumed != pieces.consumed)
		abort();
	return 0;
}
