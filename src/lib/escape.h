/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Control characters out of messages. Error and log messages echo outside
 * input (command-line arguments, configuration values, sysfs contents,
 * D-Bus strings); a control character in it could move the cursor, recolour
 * or clear a terminal, or forge a log line. Every message sink (mo_log, the
 * CLI's error printer, the configuration's problem list, the engine's error
 * texts) passes its text through here: C0 controls, DEL and the C1 controls
 * (U+0080..U+009F in UTF-8) become \xHH; everything else, valid UTF-8
 * included, stays as it is.
 *
 * Human output that echoes such text (a process name, a file or cgroup
 * path, a job's request or reason, a device name) is written with
 * mo_escape_fprintf(): memoffctl's text summaries, progress and status
 * lines. Its tables need nothing: libsmartcols encodes every non-printable
 * character of a cell as \xHH itself (and a literal "\x" as "\x5cx"), so
 * cells are given to it as they are. JSON output escapes in json.c.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/**
 * mo_escape_cntrl() - copy @s into @buf (of @size bytes, NUL-terminated,
 * cut at a character boundary when it does not fit), each control character
 * written as \xHH.
 * @keep_newline: leave '\n' alone (for a text of several lines)
 *
 * Return: @buf.
 */
char *mo_escape_cntrl(const char *s, bool keep_newline, char *buf, size_t size);

/**
 * mo_escape_cntrl_dup() - the same into a new string (caller frees), or
 * NULL when out of memory.
 */
char *mo_escape_cntrl_dup(const char *s, bool keep_newline);

/** mo_has_cntrl() - whether @s holds a character mo_escape_cntrl() escapes. */
bool mo_has_cntrl(const char *s, bool keep_newline);

/**
 * mo_escape_fprintf() - fprintf() for human output that echoes outside
 * text: the formatted text is written with every control character escaped
 * (as mo_escape_cntrl() does, '\n' included) but the newline that ends
 * @fmt, so that no argument can move the cursor or start a line of its own.
 * A format writes one line, or a part of one; it holds no control character
 * of its own but that final newline.
 *
 * Return: the number of bytes written, or a negative errno.
 */
int mo_escape_fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int mo_escape_vfprintf(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
