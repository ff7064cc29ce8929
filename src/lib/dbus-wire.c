/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The server side of D-Bus's SASL handshake and the framing of its message
 * stream (dbus-wire.h), after the D-Bus specification's "Authentication
 * protocol" and "Message format" sections.
 */
#include "dbus-wire.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

void mo_sasl_init(struct mo_sasl *s, uid_t uid, const char *guid)
{
	*s = (struct mo_sasl) { .state = MO_SASL_WANT_NUL, .uid = uid };
	snprintf(s->guid, sizeof(s->guid), "%s", guid);
}

/* Whether @hex (of @len bytes) spells, in hex of its ASCII digits, the decimal @uid. */
static bool token_is_uid(const char *hex, size_t len, uid_t uid)
{
	char dec[16] = "", want[32] = "";
	int k = snprintf(dec, sizeof(dec), "%u", (unsigned) uid);
	size_t n = k > 0 && (size_t) k < sizeof(dec) ? (size_t) k : 0;

	for (size_t i = 0; i < n; i++)
		snprintf(want + 2 * i, 3, "%02x", (unsigned char) dec[i]);
	if (len != 2 * n)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = hex[i];

		if (c >= 'A' && c <= 'F')
			c = (char) (c - 'A' + 'a');
		if (c != want[i])
			return false;
	}
	return true;
}

/* @line (of @len bytes) is @word, alone or followed by a space: *@args is what follows the space. */
static bool command_is(const char *line, size_t len, const char *word, const char **args, size_t *args_len)
{
	size_t w = strlen(word);

	if (len < w || memcmp(line, word, w) != 0 || (len > w && line[w] != ' '))
		return false;
	*args = len > w ? line + w + 1 : line + len;
	*args_len = len > w ? len - w - 1 : 0;
	return true;
}

static void reply_add(const char *text, size_t n, char *reply, size_t reply_size, size_t *reply_len)
{
	if (*reply_len + n <= reply_size) {
		memcpy(reply + *reply_len, text, n);
		*reply_len += n;
	}
}

#define REJECTED "REJECTED EXTERNAL ANONYMOUS\r\n"
/* an answer of the literal @lit */
#define ANSWER(lit) reply_add(lit, sizeof(lit) - 1, reply, reply_size, reply_len)

/* Whether the response @resp (of @len bytes) to mechanism @mech authenticates the peer. */
static bool response_ok(const struct mo_sasl *s, enum mo_sasl_mech mech, const char *resp, size_t len)
{
	if (mech == MO_SASL_MECH_ANONYMOUS)
		return true;   /* a trace string, of no consequence */
	return len == 0 || token_is_uid(resp, len, s->uid);
}

/* One complete line (without its CRLF). Return: 0, or -EPROTO. */
static int sasl_line(struct mo_sasl *s, const char *line, size_t len, char *reply, size_t reply_size,
		     size_t *reply_len)
{
	char ok[3 + 32 + 3];
	const char *args;
	size_t alen;
	int oklen = snprintf(ok, sizeof(ok), "OK %s\r\n", s->guid);
	size_t okn = oklen > 0 && (size_t) oklen < sizeof(ok) ? (size_t) oklen : 0;

	if (command_is(line, len, "BEGIN", &args, &alen)) {
		if (s->state != MO_SASL_WANT_BEGIN)
			return -EPROTO;   /* the specification: disconnect */
		s->state = MO_SASL_DONE;
		return 0;
	}
	if (command_is(line, len, "CANCEL", &args, &alen) || command_is(line, len, "ERROR", &args, &alen)) {
		s->state = MO_SASL_WANT_AUTH;
		s->mech = MO_SASL_MECH_NONE;
		ANSWER(REJECTED);
		return 0;
	}
	if (s->state == MO_SASL_WANT_AUTH && command_is(line, len, "AUTH", &args, &alen)) {
		const char *sp = memchr(args, ' ', alen);
		size_t mlen = sp ? (size_t) (sp - args) : alen;
		const char *resp = sp ? sp + 1 : NULL;
		size_t rlen = sp ? alen - mlen - 1 : 0;
		enum mo_sasl_mech mech = MO_SASL_MECH_NONE;

		if (mlen == 8 && memcmp(args, "EXTERNAL", 8) == 0)
			mech = MO_SASL_MECH_EXTERNAL;
		else if (mlen == 9 && memcmp(args, "ANONYMOUS", 9) == 0)
			mech = MO_SASL_MECH_ANONYMOUS;
		if (mech == MO_SASL_MECH_NONE) {
			ANSWER(REJECTED);
		} else if (!resp) {
			s->mech = mech;
			s->state = MO_SASL_WANT_DATA;
			ANSWER("DATA\r\n");
		} else if (response_ok(s, mech, resp, rlen)) {
			s->mech = mech;
			s->state = MO_SASL_WANT_BEGIN;
			reply_add(ok, okn, reply, reply_size, reply_len);
		} else {
			ANSWER(REJECTED);
		}
		return 0;
	}
	if (s->state == MO_SASL_WANT_DATA && command_is(line, len, "DATA", &args, &alen)) {
		if (response_ok(s, s->mech, args, alen)) {
			s->state = MO_SASL_WANT_BEGIN;
			reply_add(ok, okn, reply, reply_size, reply_len);
		} else {
			s->state = MO_SASL_WANT_AUTH;
			s->mech = MO_SASL_MECH_NONE;
			ANSWER(REJECTED);
		}
		return 0;
	}
	/* NEGOTIATE_UNIX_FD included: no descriptors pass here. */
	ANSWER("ERROR\r\n");
	return 0;
}

ssize_t mo_sasl_feed(struct mo_sasl *s, const void *buf, size_t n, char *reply, size_t reply_size,
		     size_t *reply_len)
{
	const char *p = buf;
	size_t used = 0;

	while (used < n && s->state != MO_SASL_DONE) {
		char c = p[used];

		if (s->total >= MO_SASL_MAX)
			return -EPROTO;
		if (s->state == MO_SASL_WANT_NUL) {
			if (c != '\0')
				return -EPROTO;
			s->state = MO_SASL_WANT_AUTH;
			s->total++;
			used++;
			continue;
		}
		if (c == '\n') {
			size_t len = s->len;
			int r;

			if (len == 0 || s->line[len - 1] != '\r')
				return -EPROTO;
			/* the answer must fit, or the line waits for the answers before it to go out */
			if (reply_size - *reply_len < MO_SASL_REPLY_MAX)
				break;
			r = sasl_line(s, s->line, len - 1, reply, reply_size, reply_len);
			if (r < 0)
				return r;
			s->len = 0;
		} else {
			if (c == '\0' || s->len >= MO_SASL_LINE_MAX)
				return -EPROTO;
			s->line[s->len++] = c;
		}
		s->total++;
		used++;
	}
	return (ssize_t) used;
}

/* The 32-bit number at @p, in the message's byte order. */
static uint32_t u32_at(const uint8_t *p, bool little)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return little ? le32toh(v) : be32toh(v);
}

int64_t mo_dbus_message_size(const uint8_t hdr[MO_DBUS_FIXED_HEADER])
{
	uint32_t body, fields;

	if ((hdr[0] != 'l' && hdr[0] != 'B') || hdr[3] != 1)
		return -EBADMSG;
	body = u32_at(hdr + 4, hdr[0] == 'l');
	fields = u32_at(hdr + 12, hdr[0] == 'l');
	/* the fields end the header, padded to 8; the body follows */
	return (int64_t) (((uint64_t) MO_DBUS_FIXED_HEADER + fields + 7) & ~UINT64_C(7)) + body;
}

int mo_dbus_frame_scan(struct mo_dbus_frame *f, const void *buf, size_t n, uint64_t max)
{
	const uint8_t *p = buf;

	while (n > 0) {
		if (f->have < MO_DBUS_FIXED_HEADER) {
			size_t k = MO_DBUS_FIXED_HEADER - f->have;
			int64_t size;

			if (k > n)
				k = n;
			memcpy(f->hdr + f->have, p, k);
			f->have += k;
			p += k;
			n -= k;
			if (f->have < MO_DBUS_FIXED_HEADER)
				return 0;
			size = mo_dbus_message_size(f->hdr);
			if (size < 0)
				return (int) size;
			if ((uint64_t) size > max)
				return -EMSGSIZE;
			f->size = (uint64_t) size;
			f->left = f->size - MO_DBUS_FIXED_HEADER;
		} else {
			uint64_t k = f->left < n ? f->left : n;

			p += k;
			n -= (size_t) k;
			f->left -= k;
		}
		if (f->have == MO_DBUS_FIXED_HEADER && f->left == 0) {
			f->messages++;
			f->have = 0;
			f->size = 0;
		}
	}
	return 0;
}
