/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal records of a job (joblog.h) and of blocked pages (forensics.h):
 * which events send which MESSAGE_ID, and, against doc/memoff.catalog, that
 * every @FIELD@ an entry's text uses is sent with that MESSAGE_ID and that
 * every MEMOFF_ field sent is listed in the catalog's header.
 */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "forensics.h"
#include "joblog.h"
#include "log.h"
#include "util.h"

#define MAX_RECORDS 64
#define MAX_FIELDS 40

struct record {
	char f[MAX_FIELDS][300];
	int n;
};

static struct record records[MAX_RECORDS];
static int n_records;

static int sink(const struct iovec *iov, int n)
{
	struct record *r;

	if (n_records >= MAX_RECORDS)
		return 0;
	r = &records[n_records++];
	r->n = n < MAX_FIELDS ? n : MAX_FIELDS;
	for (int i = 0; i < r->n; i++)
		snprintf(r->f[i], sizeof(r->f[i]), "%.*s", (int) iov[i].iov_len, (const char *) iov[i].iov_base);
	return 0;
}

/* The value of field @name in @r, or NULL. */
static const char *field(const struct record *r, const char *name)
{
	size_t len = strlen(name);

	for (int i = 0; i < r->n; i++)
		if (strneq(r->f[i], name, len) && r->f[i][len] == '=')
			return r->f[i] + len + 1;
	return NULL;
}

static const struct record *find(const char *id)
{
	for (int i = 0; i < n_records; i++) {
		const char *m = field(&records[i], "MESSAGE_ID");

		if (m && streq(m, id))
			return &records[i];
	}
	return NULL;
}

static int count(const char *id)
{
	int n = 0;

	for (int i = 0; i < n_records; i++) {
		const char *m = field(&records[i], "MESSAGE_ID");

		n += m && streq(m, id);
	}
	return n;
}

static int reset(void **state)
{
	mo_log_set_max_level(LOG_DEBUG);
	mo_log_set_target(MO_LOG_TARGET_JOURNAL);
	mo_log_set_journal_sink(sink);
	n_records = 0;
	return 0;
}

static const struct mo_joblog offline_log = {
	.job = "7",
	.action = MO_ACTION_OFFLINE,
	.block_size = 128 << 20,
};

static void test_progress(void **state)
{
	struct mo_job_progress p = {
		.phase = MO_PHASE_RESULT,
		.block = 37,
		.attempt = 2,
		.outcome = MO_OUTCOME_TIMED_OUT,
		.attempt_usec = 2003000,
		.next_usec = 4000000,
	};
	const struct record *r;

	mo_joblog_progress(&offline_log, &p);
	r = find(MO_MESSAGE_ATTEMPT_TIMED_OUT);
	assert_non_null(r);
	assert_string_equal(field(r, "MEMOFF_BLOCK"), "37");
	assert_string_equal(field(r, "MEMOFF_RANGE"), "0x0000000128000000-0x000000012fffffff");
	assert_string_equal(field(r, "MEMOFF_ATTEMPTS"), "2");
	assert_string_equal(field(r, "MEMOFF_ATTEMPT_TIMEOUT_SEC"), "2");
	assert_string_equal(field(r, "MEMOFF_RETRY_SEC"), "4");
	assert_string_equal(field(r, "MEMOFF_JOB"), "7");
	assert_string_equal(field(r, "MESSAGE"), "block 37: attempt 2 timed out after 2.003s, migration stalled; "
						 "next attempt in 4s");

	p.outcome = MO_OUTCOME_DONE;
	p.attempt_usec = 450000;
	mo_joblog_progress(&offline_log, &p);
	r = find(MO_MESSAGE_BLOCK_OFFLINED);
	assert_non_null(r);
	assert_string_equal(field(r, "MEMOFF_BLOCK"), "37");
	assert_string_equal(field(r, "MESSAGE"), "block 37 offlined (attempt 2, 450ms)");

	/* other outcomes and phases, online jobs: nothing */
	n_records = 0;
	p.outcome = MO_OUTCOME_UNMOVABLE;
	mo_joblog_progress(&offline_log, &p);
	p.outcome = MO_OUTCOME_DONE;
	p.phase = MO_PHASE_ATTEMPT;
	mo_joblog_progress(&offline_log, &p);
	p.phase = MO_PHASE_RESULT;
	mo_joblog_progress(&(struct mo_joblog) { .action = MO_ACTION_ONLINE_MOVABLE }, &p);
	assert_int_equal(n_records, 0);

	/* no job, no block size: those fields are left out */
	mo_joblog_progress(&(struct mo_joblog) { .action = MO_ACTION_OFFLINE }, &p);
	assert_int_equal(n_records, 1);
	assert_null(field(&records[0], "MEMOFF_JOB"));
	assert_null(field(&records[0], "MEMOFF_RANGE"));
}

static void test_result(void **state)
{
	struct mo_block_result blocks[] = {
		{ .index = 10, .outcome = MO_OUTCOME_TIMED_OUT, .attempts = 5, .reason = "timed out (migration stalled)" },
		{ .index = 11, .outcome = MO_OUTCOME_DONE, .attempts = 1, .reason = "offlined" },
		{ .index = 12, .outcome = MO_OUTCOME_NOT_TRIED, .reason = "not tried" },
		{ .index = 13, .outcome = MO_OUTCOME_ROLLED_BACK, .attempts = 1, .reason = "put back" },
		{ .index = 14, .outcome = MO_OUTCOME_UNMOVABLE, .attempts = 2, .error = EBUSY, .reason = "busy" },
	};
	struct mo_job_result r = {
		.action = MO_ACTION_OFFLINE,
		.stop = MO_STOP_DEADLINE,
		.stop_reason = "deadline reached",
		.blocks = blocks,
		.n_blocks = ARRAY_SIZE(blocks),
	};
	const struct record *rec;

	mo_joblog_result(&offline_log, &r);
	assert_int_equal(n_records, 2);
	assert_int_equal(count(MO_MESSAGE_BLOCK_GAVE_UP), 2);
	rec = &records[0];
	assert_string_equal(field(rec, "MEMOFF_BLOCK"), "10");
	assert_string_equal(field(rec, "MEMOFF_ATTEMPTS"), "5");
	assert_string_equal(field(rec, "MEMOFF_OUTCOME"), "timed-out");
	assert_string_equal(field(rec, "MESSAGE"),
			    "block 10: gave up after 5 attempts: timed out (migration stalled); deadline reached");
	assert_null(field(rec, "ERRNO"));
	assert_string_equal(field(&records[1], "MEMOFF_BLOCK"), "14");
	assert_string_equal(field(&records[1], "ERRNO"), "16");

	/* cancelled, dry run, online: nothing */
	n_records = 0;
	r.stop = MO_STOP_CANCELLED;
	mo_joblog_result(&offline_log, &r);
	r.stop = MO_STOP_DEADLINE;
	r.dry_run = true;
	mo_joblog_result(&offline_log, &r);
	r.dry_run = false;
	mo_joblog_result(&(struct mo_joblog) { .action = MO_ACTION_ONLINE }, &r);
	assert_int_equal(n_records, 0);

	/* the headroom guard stopped it: one record naming the refused block, first */
	blocks[2].outcome = MO_OUTCOME_HEADROOM;
	blocks[2].reason = "node 0 would keep 100M available, less than the reserve";
	r.stop = MO_STOP_HEADROOM;
	r.stop_reason = blocks[2].reason;
	r.reserve = 256 << 20;
	mo_joblog_result(&offline_log, &r);
	assert_int_equal(count(MO_MESSAGE_HEADROOM_REFUSED), 1);
	rec = &records[0];
	assert_string_equal(field(rec, "MESSAGE_ID"), MO_MESSAGE_HEADROOM_REFUSED);
	assert_string_equal(field(rec, "MEMOFF_BLOCK"), "12");
	assert_string_equal(field(rec, "MEMOFF_RESERVE"), "268435456");
	assert_string_equal(field(rec, "MESSAGE"), "not offlining block 12: node 0 would keep 100M available, "
						   "less than the reserve (reserve 256M)");
	assert_int_equal(count(MO_MESSAGE_BLOCK_GAVE_UP), 2);
}

static void test_finished(void **state)
{
	const struct record *r;

	mo_joblog_finished("3", "offline blocks 12-13", "partial", "offline 1 of 2 blocks (128M of 256M)");
	r = find(MO_MESSAGE_JOB_FINISHED);
	assert_non_null(r);
	assert_string_equal(field(r, "MEMOFF_JOB"), "3");
	assert_string_equal(field(r, "MEMOFF_REQUEST"), "offline blocks 12-13");
	assert_string_equal(field(r, "MEMOFF_RESULT"), "partial");
	assert_string_equal(field(r, "PRIORITY"), "5");
	assert_string_equal(field(r, "MESSAGE"),
			    "Job 3 (offline blocks 12-13) partial: offline 1 of 2 blocks (128M of 256M)");
	n_records = 0;
	mo_joblog_finished("4", "online 1G", "done", "");
	assert_string_equal(field(&records[0], "MESSAGE"), "Job 4 (online 1G) done");
	assert_string_equal(field(&records[0], "PRIORITY"), "6");
}

/* ---- against the catalog ---- */

static char *read_catalog(void)
{
	const char *srcdir = getenv("top_srcdir");

	return srcdir ? MUST(fx_read(srcdir, "doc/memoff.catalog")) : NULL;
}

/* The catalog's header comment lists @name ("#   MEMOFF_X ..." or ", MEMOFF_X"). */
static bool header_lists(const char *text, const char *name)
{
	const char *end = strstr(text, "\n-- ");
	size_t len = strlen(name);

	for (const char *p = text; (p = strstr(p, name)) && p < end; p += len) {
		char after = p[len], before = p[-1];

		if (!(after == ' ' || after == ',' || after == '\n') || !(before == ' ' || before == ','))
			continue;
		return true;
	}
	return false;
}

/* Every @FIELD@ of the entry of @r's MESSAGE_ID is in @r; every MEMOFF_ field of @r is in the header. */
static void check_record(const char *text, const struct record *r)
{
	const char *id = field(r, "MESSAGE_ID"), *entry, *next;
	char header[64];

	assert_non_null(id);
	snprintf(header, sizeof(header), "\n-- %s\n", id);
	entry = strstr(text, header);
	assert_non_null(entry);
	entry += strlen(header);
	next = strstr(entry, "\n-- ");
	if (!next)
		next = entry + strlen(entry);
	for (const char *p = entry; (p = strchr(p, '@')) && p < next;) {
		const char *q = strchr(p + 1, '@');
		char name[64];

		assert_non_null(q);
		assert_true(q - p - 1 < (ptrdiff_t) sizeof(name));
		snprintf(name, sizeof(name), "%.*s", (int) (q - p - 1), p + 1);
		if (!field(r, name))
			fail_msg("catalog entry %s uses @%s@, which the record does not send", id, name);
		p = q + 1;
	}
	for (int i = 0; i < r->n; i++) {
		char name[64];

		if (!startswith(r->f[i], "MEMOFF_"))
			continue;
		snprintf(name, sizeof(name), "%.*s", (int) strcspn(r->f[i], "="), r->f[i]);
		if (!header_lists(text, name))
			fail_msg("%s is sent (MESSAGE_ID %s) but not listed in the catalog's header", name, id);
	}
}

static void test_catalog(void **state)
{
	_cleanup_free_ char *text = read_catalog();
	struct mo_owner owner = { .pid = 117, .comm = "pinner", .vaddr = 0x7f0000001000, .mapping = (char *) "[anon]" };
	struct mo_pin_page page = { .pfn = 0x101d1f, .n_found = 1, .n_owners = 1, .owners = &owner };
	struct mo_pin_group g = {
		.block = 37, .first_pfn = 0x101d1f, .last_pfn = 0x101d21, .npages = 3, .tracked = true,
		.cls = MO_BLOCKED_LONG_LIVED, .duration = 31000000, .n_pages = 1, .pages = &page,
	};
	struct mo_block_result b = { .index = 37, .outcome = MO_OUTCOME_TIMED_OUT, .attempts = 4, .reason = "x" };
	static const char *const ids[] = {
		MO_MESSAGE_BLOCK_OFFLINED, MO_MESSAGE_ATTEMPT_TIMED_OUT, MO_MESSAGE_PAGES_BLOCKED,
		MO_MESSAGE_LONG_LIVED_PIN, MO_MESSAGE_PAGES_UNBLOCKED, MO_MESSAGE_HEADROOM_REFUSED,
		MO_MESSAGE_BLOCK_GAVE_UP, MO_MESSAGE_JOB_FINISHED,
	};

	if (!text) {
		skip();
		return;
	}
	/* one record of every kind */
	mo_joblog_progress(&offline_log, &(struct mo_job_progress) { .phase = MO_PHASE_RESULT, .block = 37,
		.attempt = 1, .outcome = MO_OUTCOME_DONE });
	mo_joblog_progress(&offline_log, &(struct mo_job_progress) { .phase = MO_PHASE_RESULT, .block = 37,
		.attempt = 1, .outcome = MO_OUTCOME_TIMED_OUT, .attempt_usec = 1000000, .next_usec = 1 });
	mo_joblog_gave_up(&offline_log, &b, "deadline reached");
	mo_joblog_headroom(&offline_log, 37, "not enough", 1 << 28);
	mo_joblog_finished("7", "offline blocks 37", "failed", "offline 0 of 1 blocks");
	for (int t = MO_BLOCKED_EV_NEW; t <= MO_BLOCKED_EV_CLEARED; t++)
		mo_forensics_log_group((enum mo_blocked_event_type) t, &g);

	for (size_t i = 0; i < ARRAY_SIZE(ids); i++)
		if (count(ids[i]) == 0)
			fail_msg("no record sends MESSAGE_ID %s", ids[i]);
	for (int i = 0; i < n_records; i++)
		check_record(text, &records[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_progress, reset),
		cmocka_unit_test_setup(test_result, reset),
		cmocka_unit_test_setup(test_finished, reset),
		cmocka_unit_test_setup(test_catalog, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
