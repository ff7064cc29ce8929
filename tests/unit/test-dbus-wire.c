/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dbus-wire.h"
#include "util.h"

#define GUID "0123456789abcdef0123456789abcdef"

struct talk {
	struct mo_sasl s;
	char reply[4096];
	size_t reply_len;
};

/* Feed @in (of @n bytes) whole; return what was consumed. */
static ssize_t feed(struct talk *t, const char *in, size_t n)
{
	ssize_t r = mo_sasl_feed(&t->s, in, n, t->reply, sizeof(t->reply) - 1, &t->reply_len);

	t->reply[t->reply_len] = '\0';
	return r;
}

#define FEED(t, lit) feed((t), (lit), sizeof(lit) - 1)

static void start(struct talk *t, uid_t uid)
{
	memset(t, 0, sizeof(*t));
	mo_sasl_init(&t->s, uid, GUID);
}

static void test_sd_bus_client(void **state)
{
	/* what sd-bus (systemd 252 and later) sends, all at once */
	static const char in[] = "\0AUTH EXTERNAL\r\nDATA\r\nNEGOTIATE_UNIX_FD\r\nBEGIN\r\n";
	struct talk t;

	(void) state;
	start(&t, 1001);
	assert_int_equal(feed(&t, in, sizeof(in) - 1), sizeof(in) - 1);
	assert_int_equal(t.s.state, MO_SASL_DONE);
	/* no descriptors: NEGOTIATE_UNIX_FD is refused */
	assert_string_equal(t.reply, "DATA\r\nOK " GUID "\r\nERROR\r\n");
}

static void test_claimed_uid(void **state)
{
	struct talk t;

	(void) state;
	/* libdbus, python clients: AUTH EXTERNAL with the uid's digits in hex ("1001") */
	start(&t, 1001);
	assert_int_equal(FEED(&t, "\0AUTH EXTERNAL 31303031\r\n"), 25);
	assert_string_equal(t.reply, "OK " GUID "\r\n");
	assert_int_equal(t.s.state, MO_SASL_WANT_BEGIN);

	/* claiming to be root from uid 1001: rejected, and it may try again */
	start(&t, 1001);
	assert_int_equal(FEED(&t, "\0AUTH EXTERNAL 30\r\n"), 19);
	assert_string_equal(t.reply, "REJECTED EXTERNAL ANONYMOUS\r\n");
	assert_int_equal(t.s.state, MO_SASL_WANT_AUTH);
	assert_int_equal(FEED(&t, "AUTH EXTERNAL 3130303\r\n"), 23);   /* odd length */
	assert_int_equal(FEED(&t, "AUTH EXTERNAL 31303031\r\nBEGIN\r\nl"), 31);
	assert_int_equal(t.s.state, MO_SASL_DONE);
	assert_string_equal(t.reply, "REJECTED EXTERNAL ANONYMOUS\r\nREJECTED EXTERNAL ANONYMOUS\r\nOK " GUID "\r\n");

	/* upper-case hex is hex too; DATA with the wrong uid is rejected */
	start(&t, 0);
	assert_int_equal(FEED(&t, "\0AUTH EXTERNAL\r\nDATA 31\r\n"), 25);
	assert_string_equal(t.reply, "DATA\r\nREJECTED EXTERNAL ANONYMOUS\r\n");
	start(&t, 42);
	FEED(&t, "\0AUTH EXTERNAL 3432\r\n");
	assert_int_equal(t.s.state, MO_SASL_WANT_BEGIN);
}

static void test_other_commands(void **state)
{
	struct talk t;

	(void) state;
	start(&t, 7);
	FEED(&t, "\0AUTH\r\nAUTH DBUS_COOKIE_SHA1 x\r\nHELLO\r\nAUTH ANONYMOUS 6d656d\r\n");
	assert_string_equal(t.reply, "REJECTED EXTERNAL ANONYMOUS\r\nREJECTED EXTERNAL ANONYMOUS\r\nERROR\r\nOK " GUID "\r\n");
	/* CANCEL after OK starts over */
	t.reply_len = 0;
	FEED(&t, "CANCEL\r\n");
	assert_string_equal(t.reply, "REJECTED EXTERNAL ANONYMOUS\r\n");
	assert_int_equal(t.s.state, MO_SASL_WANT_AUTH);
}

static void test_protocol_errors(void **state)
{
	char big[MO_SASL_LINE_MAX + 8];
	struct talk t;

	(void) state;
	start(&t, 7);
	assert_int_equal(FEED(&t, "AUTH EXTERNAL\r\n"), -EPROTO);       /* no NUL byte first */
	start(&t, 7);
	assert_int_equal(FEED(&t, "\0BEGIN\r\n"), -EPROTO);              /* BEGIN before OK */
	start(&t, 7);
	assert_int_equal(FEED(&t, "\0AUTH EXTERNAL\nDATA\r\n"), -EPROTO); /* a bare newline */
	start(&t, 7);
	assert_int_equal(FEED(&t, "\0AUTH EXT\0ERNAL\r\n"), -EPROTO);    /* a NUL in a line */
	start(&t, 7);
	memset(big, 'A', sizeof(big));
	big[0] = '\0';
	assert_int_equal(feed(&t, big, sizeof(big)), -EPROTO);           /* a line too long */

	/* a handshake that never ends: cut at MO_SASL_MAX bytes */
	start(&t, 7);
	assert_int_equal(FEED(&t, "\0"), 1);
	for (size_t i = 0; i < MO_SASL_MAX; i += 7) {
		ssize_t r;

		t.reply_len = 0;
		r = FEED(&t, "ERROR\r\n");
		if (r < 0) {
			assert_int_equal(r, -EPROTO);
			assert_true(i + 7 >= MO_SASL_MAX);
			return;
		}
	}
	fail_msg("the handshake was not cut");
}

static void test_reply_room(void **state)
{
	static const char in[] = "\0AUTH\r\nAUTH\r\nAUTH\r\n";
	char reply[MO_SASL_REPLY_MAX + 10];
	size_t len = 0;
	struct mo_sasl s;
	ssize_t r;

	(void) state;
	mo_sasl_init(&s, 7, GUID);
	/* room for one answer: the second line waits at its newline */
	r = mo_sasl_feed(&s, in, sizeof(in) - 1, reply, sizeof(reply), &len);
	assert_int_equal(r, 12);
	assert_int_equal(len, strlen("REJECTED EXTERNAL ANONYMOUS\r\n"));
	len = 0;
	r = mo_sasl_feed(&s, in + 12, sizeof(in) - 1 - 12, reply, sizeof(reply), &len);
	assert_int_equal(r, 6);
	len = 0;
	r = mo_sasl_feed(&s, in + 18, sizeof(in) - 1 - 18, reply, sizeof(reply), &len);
	assert_int_equal(r, 1);
	assert_int_equal(len, strlen("REJECTED EXTERNAL ANONYMOUS\r\n"));
}

static void test_byte_by_byte(void **state)
{
	static const char in[] = "\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\nlmessage";
	struct talk t;
	size_t used = 0;

	(void) state;
	start(&t, 1001);
	for (size_t i = 0; i < sizeof(in) - 1 && t.s.state != MO_SASL_DONE; i++) {
		ssize_t r = feed(&t, in + i, 1);

		assert_true(r >= 0);
		used += (size_t) r;
	}
	/* everything up to BEGIN's newline, nothing of the message */
	assert_int_equal(used, strlen("\0AUTH EXTERNAL\r\nDATA\r\nBEGIN\r\n" + 1) + 1);
	assert_string_equal(t.reply, "DATA\r\nOK " GUID "\r\n");
}

/* A fixed header: endianness, version 1, body and fields lengths. */
static void header(uint8_t h[16], char endian, uint32_t body, uint32_t fields)
{
	memset(h, 0, 16);
	h[0] = (uint8_t) endian;
	h[1] = 1;
	h[3] = 1;
	for (int i = 0; i < 4; i++) {
		int shift = endian == 'l' ? 8 * i : 8 * (3 - i);

		h[4 + i] = (uint8_t) (body >> shift);
		h[12 + i] = (uint8_t) (fields >> shift);
	}
}

static void test_message_size(void **state)
{
	uint8_t h[16];

	(void) state;
	header(h, 'l', 100, 61);       /* 16 + 61 = 77, padded to 80 */
	assert_int_equal(mo_dbus_message_size(h), 180);
	header(h, 'B', 100, 61);
	assert_int_equal(mo_dbus_message_size(h), 180);
	header(h, 'l', 0, 0);
	assert_int_equal(mo_dbus_message_size(h), 16);
	header(h, 'l', UINT32_MAX, UINT32_MAX);   /* no overflow */
	assert_true(mo_dbus_message_size(h) > (int64_t) UINT32_MAX * 2);
	header(h, 'x', 1, 1);
	assert_int_equal(mo_dbus_message_size(h), -EBADMSG);
	header(h, 'l', 1, 1);
	h[3] = 2;                      /* GVariant framing: not ours to follow */
	assert_int_equal(mo_dbus_message_size(h), -EBADMSG);
}

static void test_frame_scan(void **state)
{
	uint8_t stream[3 * 64];
	struct mo_dbus_frame f = {};

	(void) state;
	/* three messages of 64 bytes (16 + 8 fields + 40 body), scanned in odd pieces */
	memset(stream, 0xee, sizeof(stream));
	for (int i = 0; i < 3; i++)
		header(stream + 64 * i, i == 1 ? 'B' : 'l', 40, 8);
	for (size_t at = 0, step = 1; at < sizeof(stream); at += step, step = step * 2 + 1) {
		size_t n = at + step > sizeof(stream) ? sizeof(stream) - at : step;

		assert_int_equal(mo_dbus_frame_scan(&f, stream + at, n, 64), 0);
	}
	assert_int_equal(f.messages, 3);
	assert_int_equal(f.have, 0);

	/* one byte over the limit: refused when its header is complete, not before */
	memset(&f, 0, sizeof(f));
	header(stream, 'l', 41, 8);
	assert_int_equal(mo_dbus_frame_scan(&f, stream, 15, 64), 0);
	assert_int_equal(mo_dbus_frame_scan(&f, stream + 15, 1, 64), -EMSGSIZE);

	/* garbage after a whole message */
	memset(&f, 0, sizeof(f));
	header(stream, 'l', 40, 8);
	memset(stream + 64, 'x', 16);
	assert_int_equal(mo_dbus_frame_scan(&f, stream, 80, 1024), -EBADMSG);
	assert_int_equal(f.messages, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sd_bus_client),
		cmocka_unit_test(test_claimed_uid),
		cmocka_unit_test(test_other_commands),
		cmocka_unit_test(test_protocol_errors),
		cmocka_unit_test(test_reply_room),
		cmocka_unit_test(test_byte_by_byte),
		cmocka_unit_test(test_message_size),
		cmocka_unit_test(test_frame_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
