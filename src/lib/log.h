/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Structured logging for memoffd and memoffctl.
 *
 * Under systemd — stderr is the journal stream, which systemd says by
 * setting $JOURNAL_STREAM to stderr's "device:inode" — every record goes to
 * the journal with sd_journal_sendv(): MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
 * CODE_FILE/LINE/FUNC, the MESSAGE_ID when there is one (see
 * doc/memoff.catalog) and the caller's own fields (MEMOFF_BLOCK=37,
 * MEMOFF_PFN=0x101d1f, MEMOFF_PID=...). Otherwise a readable line on stderr,
 * "memoffctl: message".
 *
 *   mo_log_full(LOG_WARNING, MO_MESSAGE_PAGES_BLOCKED,
 *               MO_FIELDS(MO_FIELD("MEMOFF_BLOCK", "%" PRIu64, block),
 *                         MO_FIELD("MEMOFF_PID", "%d", pid)),
 *               "block %" PRIu64 ": %" PRIu64 " pages held by %s", block, n, comm);
 *
 * Helpers of the core never log (they return errors); callers do.
 *
 * Field names (the catalog's @FIELD@ substitutions rely on them): MEMOFF_BLOCK,
 * MEMOFF_RANGE, MEMOFF_PFN, MEMOFF_PFN_LAST, MEMOFF_NPAGES, MEMOFF_FLAGS,
 * MEMOFF_PID, MEMOFF_COMM, MEMOFF_CGROUP, MEMOFF_VADDR, MEMOFF_MAPPING,
 * MEMOFF_CLASS, MEMOFF_DURATION_SEC, MEMOFF_ATTEMPTS,
 * MEMOFF_ATTEMPT_TIMEOUT_SEC, MEMOFF_JOB, MEMOFF_RESULT; errors as ERRNO=.
 *
 * mo_log_errno() and friends take an errno (either sign) for "%m" and the
 * ERRNO= field, and return it negative, for "return mo_log_error_errno(r, ...)".
 */

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>
#include <sys/uio.h>

#include "util.h"

/*
 * MESSAGE_IDs, documented for operators in doc/memoff.catalog. Fixed
 * forever: change a message's text, never its ID.
 */
#define MO_MESSAGE_BLOCK_OFFLINED      "29b98dc60143438da0ee87fd1df574c3"
#define MO_MESSAGE_ATTEMPT_TIMED_OUT   "e056594655834a96b8cd1a3008c41614"
#define MO_MESSAGE_ATTEMPT_STALLED     "c3cbe8538c824af08f3e4327dedc4e92"
#define MO_MESSAGE_PAGES_BLOCKED       "d0c392c4d3f7419c8f2a07bde8586e66"
#define MO_MESSAGE_LONG_LIVED_PIN      "5a45353296184df985d49ca85ce6bb2c"
#define MO_MESSAGE_PAGES_UNBLOCKED     "ab9acaeb78f54812b05096632a8dbfcd"
#define MO_MESSAGE_HEADROOM_REFUSED    "61833e3455984c5baa732488ef27e891"
#define MO_MESSAGE_BLOCK_GAVE_UP       "84eef49736fd4b7ea584274270495673"
#define MO_MESSAGE_JOB_FINISHED        "b85627282c924d829ea045614a9e082b"

enum mo_log_target {
	MO_LOG_TARGET_AUTO,     /* the journal when stderr is connected to it, else stderr */
	MO_LOG_TARGET_JOURNAL,
	MO_LOG_TARGET_STDERR,
};

/** mo_log_set_max_level() - records above @level (LOG_ERR .. LOG_DEBUG) are dropped. */
void mo_log_set_max_level(int level);
int mo_log_get_max_level(void);

/** mo_log_set_target() - where records go (default: MO_LOG_TARGET_AUTO). */
void mo_log_set_target(enum mo_log_target target);

/** mo_log_get_target() - the target in effect, AUTO resolved. */
enum mo_log_target mo_log_get_target(void);

/**
 * mo_log_parse_environment() - honour $MEMOFF_LOG_LEVEL (a name or 0-7) and
 * $MEMOFF_LOG_TARGET (auto, journal, stderr).
 */
void mo_log_parse_environment(void);

/** mo_log_level_from_string() - "err"/"error", "warning", "info", "debug", ... or "0"-"7"; -EINVAL. */
int mo_log_level_from_string(const char *s);

/**
 * mo_log_stderr_is_journal() - whether $JOURNAL_STREAM names stderr's
 * device and inode (systemd.exec(5)): a service's stderr connected to the
 * journal. False when stderr was redirected elsewhere since.
 */
bool mo_log_stderr_is_journal(void);

/** The journal writer; replaceable for tests. The default is sd_journal_sendv(). */
typedef int (*mo_log_journal_sink_t)(const struct iovec *iov, int n);
void mo_log_set_journal_sink(mo_log_journal_sink_t sink);

/* Longest "NAME=value" a field made with MO_FIELD() holds. */
#define MO_LOG_FIELD_MAX 256

/**
 * mo_log_field() - format "NAME=value" into @buf (cut to @size).
 * Return: @buf.
 */
const char *mo_log_field(char *buf, size_t size, const char *name, const char *fmt, ...) _printf_(4, 5);

/* A field formatted into storage that lives until the end of the caller's block. */
#define MO_FIELD(name, ...) mo_log_field((char[MO_LOG_FIELD_MAX]){ 0 }, MO_LOG_FIELD_MAX, (name), __VA_ARGS__)
/* A NULL-terminated list of fields, for mo_log_full(). */
#define MO_FIELDS(...) ((const char *const[]){ __VA_ARGS__, NULL })

int mo_log_internal(int level, const char *message_id, const char *const *fields, const char *file, int line,
		    const char *func, const char *fmt, ...) _printf_(7, 8);
int mo_log_errno_internal(int level, int error, const char *message_id, const char *const *fields, const char *file,
			  int line, const char *func, const char *fmt, ...) _printf_(8, 9);

/**
 * mo_log_full() - log one record.
 * @level: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG
 * @message_id: one of MO_MESSAGE_*, or NULL
 * @fields: MO_FIELDS(...) ("NAME=value" strings, NULL-terminated), or NULL
 *
 * Return: 0, or a negative errno when the journal refused the record (it was
 * then written to stderr instead).
 */
#define mo_log_full(level, message_id, fields, ...) \
	mo_log_internal((level), (message_id), (fields), __FILE__, __LINE__, __func__, __VA_ARGS__)

/**
 * mo_log_full_errno() - log one record about an error.
 * @error: an errno, positive or negative; "%m" in the format is its text, and
 *         the journal record carries ERRNO=
 *
 * Return: -|@error| (also when the record is below the level), so that
 * "return mo_log_error_errno(r, ...);" passes the error on.
 */
#define mo_log_full_errno(level, error, message_id, fields, ...) \
	mo_log_errno_internal((level), (error), (message_id), (fields), __FILE__, __LINE__, __func__, __VA_ARGS__)

#define mo_log(level, ...) mo_log_full((level), NULL, NULL, __VA_ARGS__)
#define mo_log_error(...) mo_log(LOG_ERR, __VA_ARGS__)
#define mo_log_warning(...) mo_log(LOG_WARNING, __VA_ARGS__)
#define mo_log_notice(...) mo_log(LOG_NOTICE, __VA_ARGS__)
#define mo_log_info(...) mo_log(LOG_INFO, __VA_ARGS__)
#define mo_log_debug(...) mo_log(LOG_DEBUG, __VA_ARGS__)

#define mo_log_errno(level, error, ...) mo_log_full_errno((level), (error), NULL, NULL, __VA_ARGS__)
#define mo_log_error_errno(error, ...) mo_log_errno(LOG_ERR, (error), __VA_ARGS__)
#define mo_log_warning_errno(error, ...) mo_log_errno(LOG_WARNING, (error), __VA_ARGS__)
#define mo_log_notice_errno(error, ...) mo_log_errno(LOG_NOTICE, (error), __VA_ARGS__)
#define mo_log_debug_errno(error, ...) mo_log_errno(LOG_DEBUG, (error), __VA_ARGS__)
