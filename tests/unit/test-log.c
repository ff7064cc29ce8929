/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Structured logging: stderr lines, journal records (through a test sink), the catalog. */
#include "config.h"

#include <ctype.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fixture.h"
#include "log.h"
#include "util.h"

static const char *const all_ids[] = {
	MO_MESSAGE_BLOCK_OFFLINED, MO_MESSAGE_ATTEMPT_TIMED_OUT, MO_MESSAGE_PAGES_BLOCKED,
	MO_MESSAGE_LONG_LIVED_PIN, MO_MESSAGE_PAGES_UNBLOCKED, MO_MESSAGE_HEADROOM_REFUSED,
	MO_MESSAGE_BLOCK_GAVE_UP, MO_MESSAGE_JOB_FINISHED,
};

/* ---- stderr captured in a file ---- */

static int saved_stderr = -1;
static char capture_path[64];

static void capture_begin(void)
{
	int fd;

	strcpy(capture_path, "/tmp/memoff-log-XXXXXX");
	fd = mkstemp(capture_path);
	assert_true(fd >= 0);
	saved_stderr = dup(STDERR_FILENO);
	assert_true(saved_stderr >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* Stop capturing; return what was written (static buffer). */
static const char *capture_end(void)
{
	static char buf[8192];
	ssize_t n;
	int fd;

	assert_int_equal(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
	close(saved_stderr);
	fd = open(capture_path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(fd);
	unlink(capture_path);
	return buf;
}

/* ---- a journal sink that keeps the last record ---- */

static char sunk[64][512];
static int n_sunk;
static int sink_result;

static int sink(const struct iovec *iov, int n)
{
	n_sunk = n < 64 ? n : 64;
	for (int i = 0; i < n_sunk; i++)
		snprintf(sunk[i], sizeof(sunk[i]), "%.*s", (int) iov[i].iov_len, (const char *) iov[i].iov_base);
	return sink_result;
}

static bool sunk_has(const char *field)
{
	for (int i = 0; i < n_sunk; i++)
		if (streq(sunk[i], field))
			return true;
	return false;
}

static bool sunk_has_prefix(const char *prefix)
{
	for (int i = 0; i < n_sunk; i++)
		if (startswith(sunk[i], prefix))
			return true;
	return false;
}

static int reset(void **state)
{
	mo_log_set_max_level(LOG_INFO);
	mo_log_set_target(MO_LOG_TARGET_AUTO);
	mo_log_set_journal_sink(sink);
	unsetenv("JOURNAL_STREAM");
	unsetenv("MEMOFF_LOG_LEVEL");
	unsetenv("MEMOFF_LOG_TARGET");
	n_sunk = 0;
	sink_result = 0;
	return 0;
}

static void test_levels(void **state)
{
	assert_int_equal(mo_log_level_from_string("err"), LOG_ERR);
	assert_int_equal(mo_log_level_from_string("error"), LOG_ERR);
	assert_int_equal(mo_log_level_from_string("warning"), LOG_WARNING);
	assert_int_equal(mo_log_level_from_string("warn"), LOG_WARNING);
	assert_int_equal(mo_log_level_from_string("debug"), LOG_DEBUG);
	assert_int_equal(mo_log_level_from_string("6"), LOG_INFO);
	assert_int_equal(mo_log_level_from_string("8"), -EINVAL);
	assert_int_equal(mo_log_level_from_string("loud"), -EINVAL);
	assert_int_equal(mo_log_level_from_string(NULL), -EINVAL);

	setenv("MEMOFF_LOG_LEVEL", "debug", 1);
	setenv("MEMOFF_LOG_TARGET", "stderr", 1);
	mo_log_parse_environment();
	assert_int_equal(mo_log_get_max_level(), LOG_DEBUG);
	assert_int_equal(mo_log_get_target(), MO_LOG_TARGET_STDERR);
}

static void test_stderr(void **state)
{
	const char *out;

	mo_log_set_target(MO_LOG_TARGET_STDERR);
	capture_begin();
	errno = EBUSY;
	assert_int_equal(mo_log_full(LOG_WARNING, MO_MESSAGE_PAGES_BLOCKED,
				     MO_FIELDS(MO_FIELD("MEMOFF_BLOCK", "%d", 37), MO_FIELD("MEMOFF_PID", "%d", 4242)),
				     "block %d: %d pages held by %s: %m", 37, 3, "pinner"),
			 0);
	/* errno survives logging */
	assert_int_equal(errno, EBUSY);
	mo_log_debug("not shown at the default level");
	mo_log_info("plain %s", "info");
	out = capture_end();
	assert_string_equal(out,
			    "test-log: block 37: 3 pages held by pinner: Device or resource busy\n"
			    "test-log: plain info\n");

	/* debugging: fields shown too */
	mo_log_set_max_level(LOG_DEBUG);
	capture_begin();
	mo_log_full(LOG_NOTICE, NULL, MO_FIELDS(MO_FIELD("MEMOFF_PFN", "0x%x", 0x101d1f)), "pin");
	mo_log_debug("dbg");
	out = capture_end();
	assert_string_equal(out, "test-log: pin [MEMOFF_PFN=0x101d1f]\ntest-log: dbg\n");
}

static void test_journal_stream_detection(void **state)
{
	struct stat st;
	char v[64];

	capture_begin();
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	assert_true(mo_log_stderr_is_journal());
	/* auto: the journal, through the sink */
	assert_int_equal(mo_log_get_target(), MO_LOG_TARGET_JOURNAL);
	mo_log_info("to the journal");
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	assert_false(mo_log_stderr_is_journal());
	setenv("JOURNAL_STREAM", "garbage", 1);
	assert_false(mo_log_stderr_is_journal());
	snprintf(v, sizeof(v), "%llu:%llux", (unsigned long long) st.st_dev, (unsigned long long) st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	assert_false(mo_log_stderr_is_journal());
	unsetenv("JOURNAL_STREAM");
	assert_false(mo_log_stderr_is_journal());
	/* nothing reached stderr */
	assert_string_equal(capture_end(), "");
	assert_true(sunk_has("MESSAGE=to the journal"));
}

static void test_journal_fields(void **state)
{
	char longval[600];

	mo_log_set_target(MO_LOG_TARGET_JOURNAL);
	assert_int_equal(mo_log_full(LOG_WARNING, MO_MESSAGE_LONG_LIVED_PIN,
				     MO_FIELDS(MO_FIELD("MEMOFF_BLOCK", "%d", 37),
					       MO_FIELD("MEMOFF_PFN", "0x%x", 0x101d1f),
					       MO_FIELD("MEMOFF_COMM", "%s", "pinner"),
					       "NOT A FIELD",
					       "=novalue"),
				     "block %d: long-lived reference", 37),
			 0);
	assert_true(sunk_has("MESSAGE=block 37: long-lived reference"));
	assert_true(sunk_has("PRIORITY=4"));
	assert_true(sunk_has("MESSAGE_ID=" MO_MESSAGE_LONG_LIVED_PIN));
	assert_true(sunk_has("SYSLOG_IDENTIFIER=test-log"));
	assert_true(sunk_has("MEMOFF_BLOCK=37"));
	assert_true(sunk_has("MEMOFF_PFN=0x101d1f"));
	assert_true(sunk_has("MEMOFF_COMM=pinner"));
	assert_true(sunk_has("CODE_FUNC=test_journal_fields"));
	assert_true(sunk_has_prefix("CODE_FILE="));
	assert_true(sunk_has_prefix("CODE_LINE="));
	assert_false(sunk_has("NOT A FIELD"));
	assert_false(sunk_has("=novalue"));

	/* below the threshold: nothing at all */
	n_sunk = 0;
	mo_log_debug("quiet");
	assert_int_equal(n_sunk, 0);

	/* a refused record lands on stderr and the error comes back */
	sink_result = -ENOENT;
	capture_begin();
	assert_int_equal(mo_log_warning("fallback"), -ENOENT);
	assert_string_equal(capture_end(), "test-log: fallback\n");

	/* long values are cut, not overflowed */
	memset(longval, 'v', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	sink_result = 0;
	mo_log_full(LOG_INFO, NULL, MO_FIELDS(MO_FIELD("MEMOFF_MAPPING", "%s", longval)), "long");
	for (int i = 0; i < n_sunk; i++)
		if (startswith(sunk[i], "MEMOFF_MAPPING="))
			assert_int_equal(strlen(sunk[i]), MO_LOG_FIELD_MAX - 1);
}

static void test_errno(void **state)
{
	const char *out;

	/* %m is the error given, either sign; the error comes back negative */
	mo_log_set_target(MO_LOG_TARGET_STDERR);
	capture_begin();
	errno = EINTR;
	assert_int_equal(mo_log_error_errno(-EADDRINUSE, "bind %s: %m", "/run/x"), -EADDRINUSE);
	assert_int_equal(errno, EINTR);
	assert_int_equal(mo_log_warning_errno(ENOENT, "open: %m"), -ENOENT);
	/* below the level: nothing written, the error still returned */
	assert_int_equal(mo_log_debug_errno(-EIO, "quiet: %m"), -EIO);
	out = capture_end();
	assert_string_equal(out, "test-log: bind /run/x: Address already in use\n"
				 "test-log: open: No such file or directory\n");

	/* the journal record carries ERRNO= and the caller's fields */
	mo_log_set_target(MO_LOG_TARGET_JOURNAL);
	assert_int_equal(mo_log_full_errno(LOG_WARNING, -EBUSY, MO_MESSAGE_ATTEMPT_TIMED_OUT,
					   MO_FIELDS(MO_FIELD("MEMOFF_BLOCK", "%d", 5)), "busy: %m"),
			 -EBUSY);
	assert_true(sunk_has("MESSAGE=busy: Device or resource busy"));
	assert_true(sunk_has("ERRNO=16"));
	assert_true(sunk_has("MEMOFF_BLOCK=5"));
	assert_true(sunk_has("MESSAGE_ID=" MO_MESSAGE_ATTEMPT_TIMED_OUT));
	/* no error, no ERRNO= */
	mo_log_info("fine");
	assert_false(sunk_has_prefix("ERRNO="));
}

/* Every MESSAGE_ID: 128 bits in lowercase hex, distinct, and explained in doc/memoff.catalog. */
static void test_catalog(void **state)
{
	const char *srcdir = getenv("top_srcdir");
	char *text;

	for (size_t i = 0; i < ARRAY_SIZE(all_ids); i++) {
		assert_int_equal(strlen(all_ids[i]), 32);
		for (const char *c = all_ids[i]; *c; c++)
			assert_true(isxdigit((unsigned char) *c) && !isupper((unsigned char) *c));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(all_ids[i], all_ids[j]);
	}
	if (!srcdir) {
		skip();
		return;
	}
	text = MUST(fx_read(srcdir, "doc/memoff.catalog"));
	for (size_t i = 0; i < ARRAY_SIZE(all_ids); i++) {
		char header[64];
		const char *entry, *subject;

		snprintf(header, sizeof(header), "\n-- %s\n", all_ids[i]);
		entry = strstr(text, header);
		assert_non_null(entry);
		subject = strstr(entry, "\nSubject: ");
		assert_non_null(subject);
		/* the Subject belongs to this entry, not the next one */
		assert_true(!strstr(entry + 1, "\n-- ") || subject < strstr(entry + 1, "\n-- "));
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_levels, reset),
		cmocka_unit_test_setup(test_stderr, reset),
		cmocka_unit_test_setup(test_journal_stream_detection, reset),
		cmocka_unit_test_setup(test_journal_fields, reset),
		cmocka_unit_test_setup(test_errno, reset),
		cmocka_unit_test_setup(test_catalog, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
