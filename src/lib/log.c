/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#include "escape.h"
#include "log.h"
#include "parse.h"

#define MESSAGE_MAX 2048
#define MAX_FIELDS 64

static int max_level = LOG_INFO;
static enum mo_log_target target = MO_LOG_TARGET_AUTO;
static enum mo_log_target resolved = MO_LOG_TARGET_AUTO; /* AUTO: not resolved yet */
static mo_log_journal_sink_t journal_sink;

void mo_log_set_max_level(int level)
{
	if (level < LOG_EMERG)
		level = LOG_EMERG;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	max_level = level;
}

int mo_log_get_max_level(void)
{
	return max_level;
}

void mo_log_set_target(enum mo_log_target t)
{
	target = t;
	resolved = MO_LOG_TARGET_AUTO;
}

void mo_log_set_journal_sink(mo_log_journal_sink_t sink)
{
	journal_sink = sink;
}

bool mo_log_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM"), *colon;
	uint64_t dev, ino;
	struct stat st;

	/* "DEV:INODE" of the stream, in decimal (systemd.exec(5)) */
	if (!e || mo_parse_u64_span(e, NULL, 10, &dev, &colon) < 0 || *colon != ':' ||
	    mo_parse_u64_span(colon + 1, NULL, 10, &ino, NULL) < 0)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (uint64_t) st.st_dev == dev && (uint64_t) st.st_ino == ino;
}

enum mo_log_target mo_log_get_target(void)
{
	if (target != MO_LOG_TARGET_AUTO)
		return target;
	if (resolved == MO_LOG_TARGET_AUTO)
		resolved = mo_log_stderr_is_journal() ? MO_LOG_TARGET_JOURNAL : MO_LOG_TARGET_STDERR;
	return resolved;
}

int mo_log_level_from_string(const char *s)
{
	static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };

	if (!s)
		return -EINVAL;
	if (s[0] >= '0' && s[0] <= '7' && s[1] == '\0')
		return s[0] - '0';
	if (streq(s, "error"))
		return LOG_ERR;
	if (streq(s, "warn"))
		return LOG_WARNING;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (streq(s, names[i]))
			return (int) i;
	return -EINVAL;
}

void mo_log_parse_environment(void)
{
	const char *e = getenv("MEMOFF_LOG_LEVEL");
	int l;

	if (e && (l = mo_log_level_from_string(e)) >= 0)
		mo_log_set_max_level(l);
	e = getenv("MEMOFF_LOG_TARGET");
	if (e) {
		if (streq(e, "journal"))
			mo_log_set_target(MO_LOG_TARGET_JOURNAL);
		else if (streq(e, "stderr") || streq(e, "console"))
			mo_log_set_target(MO_LOG_TARGET_STDERR);
		else if (streq(e, "auto"))
			mo_log_set_target(MO_LOG_TARGET_AUTO);
	}
}

const char *mo_log_field(char *buf, size_t size, const char *name, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (size == 0)
		return buf;
	n = snprintf(buf, size, "%s=", name);
	if (n < 0 || (size_t) n >= size) {
		buf[0] = '\0';
		return buf;
	}
	va_start(ap, fmt);
	vsnprintf(buf + n, size - (size_t) n, fmt, ap);
	va_end(ap);
	return buf;
}

/* One journal entry: its fields, and the text of those formatted here. */
struct journal_entry {
	struct iovec iov[MAX_FIELDS + 9];
	int n;
	char text[2048];
	size_t used;
};

static void add_field(struct journal_entry *e, const char *field)
{
	if (e->n < (int) ARRAY_SIZE(e->iov))
		e->iov[e->n++] = (struct iovec) { .iov_base = (void *) field, .iov_len = strlen(field) };
}

/* Format a field into e->text, cut to what is left of it, and add it. */
_printf_(2, 3)
static void add_fieldf(struct journal_entry *e, const char *fmt, ...)
{
	char *p = e->text + e->used;
	size_t left = sizeof(e->text) - e->used;
	va_list ap;
	int k;

	if (left < 2)
		return;
	va_start(ap, fmt);
	k = vsnprintf(p, left, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	e->used += ((size_t) k < left ? (size_t) k : left - 1) + 1;
	add_field(e, p);
}

static int write_journal(int level, int error, const char *message_id, const char *const *fields, const char *file,
			 int line, const char *func, const char *msg)
{
	struct journal_entry e = {};
	_cleanup_free_ char *m = NULL;

	if (asprintf(&m, "MESSAGE=%s", msg) < 0)
		return -ENOMEM;
	add_field(&e, m);
	add_fieldf(&e, "PRIORITY=%d", level);
	add_fieldf(&e, "SYSLOG_IDENTIFIER=%s", program_invocation_short_name);
	if (message_id)
		add_fieldf(&e, "MESSAGE_ID=%s", message_id);
	if (file) {
		add_fieldf(&e, "CODE_FILE=%s", file);
		add_fieldf(&e, "CODE_LINE=%d", line);
	}
	if (func)
		add_fieldf(&e, "CODE_FUNC=%s", func);
	if (error > 0)
		add_fieldf(&e, "ERRNO=%d", error);
	for (size_t i = 0; fields && fields[i]; i++)
		if (strchr(fields[i], '=') && fields[i][0] != '=')
			add_field(&e, fields[i]);
	return journal_sink ? journal_sink(e.iov, e.n) : sd_journal_sendv(e.iov, e.n);
}

static void write_stderr(const char *const *fields, const char *msg)
{
	char line[MESSAGE_MAX + 1024];
	size_t len;
	int k;

	k = snprintf(line, sizeof(line), "%s: %s", program_invocation_short_name, msg);
	len = k < 0 ? 0 : (size_t) k >= sizeof(line) ? sizeof(line) - 1 : (size_t) k;
	/* the fields are for the journal; show them only when debugging */
	if (max_level >= LOG_DEBUG && fields && fields[0]) {
		for (size_t i = 0; fields[i] && len + 2 < sizeof(line); i++) {
			k = snprintf(line + len, sizeof(line) - len, "%s%s", i ? " " : " [", fields[i]);
			len = k < 0 ? len : len + (size_t) k >= sizeof(line) ? sizeof(line) - 1 : len + (size_t) k;
		}
		if (len + 2 < sizeof(line))
			line[len++] = ']';
	}
	if (len + 1 >= sizeof(line))
		len = sizeof(line) - 2;
	line[len++] = '\n';
	/* one write(2), so that lines of concurrent writers do not mix */
	while (write(STDERR_FILENO, line, len) < 0 && errno == EINTR)
		;
}

/* @error: positive errno for %m and ERRNO=, or 0 (then %m is the caller's errno) */
_printf_(8, 0)
static int log_va(int level, int error, const char *message_id, const char *const *fields, const char *file,
		  int line, const char *func, const char *fmt, va_list ap)
{
	char raw[MESSAGE_MAX], msg[MESSAGE_MAX];
	int saved_errno = errno, r = 0;

	level = LOG_PRI(level);
	if (level > max_level)
		return 0;
	if (error > 0)
		errno = error;
	vsnprintf(raw, sizeof(raw), fmt, ap);
	/* one record, one line, no terminal control from whatever the message echoes */
	mo_escape_cntrl(raw, false, msg, sizeof(msg));

	if (mo_log_get_target() == MO_LOG_TARGET_JOURNAL) {
		r = write_journal(level, error, message_id, fields, file, line, func, msg);
		if (r >= 0) {
			errno = saved_errno;
			return 0;
		}
	}
	write_stderr(fields, msg);
	errno = saved_errno;
	return r < 0 ? r : 0;
}

int mo_log_internal(int level, const char *message_id, const char *const *fields, const char *file, int line,
		    const char *func, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = log_va(level, 0, message_id, fields, file, line, func, fmt, ap);
	va_end(ap);
	return r;
}

int mo_log_errno_internal(int level, int error, const char *message_id, const char *const *fields, const char *file,
			  int line, const char *func, const char *fmt, ...)
{
	va_list ap;

	if (error < 0)
		error = -error;
	va_start(ap, fmt);
	(void) log_va(level, error, message_id, fields, file, line, func, fmt, ap);
	va_end(ap);
	return -error;
}
