/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The daemon's own log lines: to stderr, with the sd-daemon(3) "<N>" priority
 * prefix when stderr is the journal (systemd sets JOURNAL_STREAM), plain
 * otherwise. Structured records about blocked pages belong to the forensics
 * logger; these are the daemon's life events.
 */

#include <syslog.h>

#include "util.h"

/** dlog_set_max_level() - drop messages less important than @prio (LOG_INFO by default). */
void dlog_set_max_level(int prio);

/** dlog() - log one line at @prio. Return: -@error when @error is given (for "return log_...") */
int dlog_errno(int prio, int error, const char *fmt, ...) _printf_(3, 4);

#define log_debug(...)   dlog_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    dlog_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  dlog_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) dlog_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   dlog_errno(LOG_ERR, 0, __VA_ARGS__)
/* These return -|err|, with %m meaning strerror(|err|). */
#define log_error_errno(err, ...)   dlog_errno(LOG_ERR, (err), __VA_ARGS__)
#define log_warning_errno(err, ...) dlog_errno(LOG_WARNING, (err), __VA_ARGS__)
