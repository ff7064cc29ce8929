/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A tiny streaming JSON writer for nested results that libsmartcols' flat
 * tables cannot express. Output is indented like libsmartcols' JSON (three
 * spaces per level); strings are escaped per RFC 8259; numbers never depend
 * on the locale. Output is always valid UTF-8: a byte of a string that is
 * not part of a well-formed UTF-8 sequence (RFC 3629) is replaced by U+FFFD,
 * the replacement character (written as its UTF-8 bytes, so that a reader
 * that writes the text again writes the same bytes), one for each such byte;
 * NULL strings are null. Every control character is escaped: the C0 ones
 * and DEL as \uXXXX (or \n, \t, \r, \b, \f), and the C1 ones (U+0080..
 * U+009F, which RFC 8259 lets through raw) as \u0080..\u009f too, so that
 * a document shown on a terminal can hold no escape sequence (a process
 * named with ESC [ 2 J stays "\u001b[2J"), and a reader gets the exact
 * characters back.
 *
 * Every value function takes a key: pass the member name inside an object,
 * NULL inside an array or at the top level.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MO_JSON_MAX_DEPTH 32

struct mo_json {
	FILE *f;
	int depth;
	bool has_items[MO_JSON_MAX_DEPTH];
};

/** mo_json_init() - start writing to @f. */
void mo_json_init(struct mo_json *j, FILE *f);

void mo_json_begin_object(struct mo_json *j, const char *key);
void mo_json_end_object(struct mo_json *j);
void mo_json_begin_array(struct mo_json *j, const char *key);
void mo_json_end_array(struct mo_json *j);

/** mo_json_string() - a string, or null when @v is NULL. */
void mo_json_string(struct mo_json *j, const char *key, const char *v);
void mo_json_u64(struct mo_json *j, const char *key, uint64_t v);
void mo_json_i64(struct mo_json *j, const char *key, int64_t v);
void mo_json_bool(struct mo_json *j, const char *key, bool v);
void mo_json_null(struct mo_json *j, const char *key);

/** mo_json_usec() - @usec as a number of seconds with three decimals ("1.250"). */
void mo_json_usec(struct mo_json *j, const char *key, uint64_t usec);

/**
 * mo_json_utf8_len() - the length of the well-formed UTF-8 sequence at @p
 * (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF), 1
 * for ASCII, 0 when the bytes there are not one.
 */
size_t mo_json_utf8_len(const unsigned char *p);

/**
 * mo_json_to_string() - a document written by @write (given @userdata) into
 * a malloc'd string, for a D-Bus property or a reply.
 * Return: 0, or -ENOMEM.
 */
int mo_json_to_string(void (*write)(struct mo_json *j, const void *userdata), const void *userdata, char **ret);

/**
 * mo_json_utf8_dup() - a copy of @s with each byte that is not part of
 * well-formed UTF-8 replaced by U+FFFD, as mo_json_escape() writes it: for
 * text given to another JSON writer (libsmartcols' cells), so that its
 * document is valid UTF-8 too. Return: the copy (caller frees), or NULL.
 */
char *mo_json_utf8_dup(const char *s);

/** mo_json_escape() - write @s as a quoted JSON string to @f. */
void mo_json_escape(FILE *f, const char *s);
