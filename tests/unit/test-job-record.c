/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "memoffd/job-record.h"
#include "util.h"

/* What is written is read back the same, strings with spaces and all. */
static void test_roundtrip(void **state)
{
	struct job_record a = {
		.id = 7, .kind = JOB_OFFLINE, .state = JOB_RUNNING, .result = JOB_RESULT_NONE,
		.request = (char *) "offline 512M zone=Movable", .message = (char *) "",
		.created = 1, .started = 2, .finished = 0,
		.blocks_done = 1, .blocks_wanted = 4, .bytes_done = 128, .bytes_wanted = 512,
	};
	struct job_record b = {
		.id = 9, .kind = JOB_ONLINE, .state = JOB_FINISHED, .result = JOB_RESULT_PARTIAL,
		.request = (char *) "online blocks 3-4", .message = (char *) "50% done: 100%\nnew-line -",
	};
	const struct job_record *recs[] = { &a, &b };
	uint64_t claims[] = { 40, 41, 42, 43 };
	_cleanup_free_ char *text = NULL;
	struct job_record *out = NULL;
	struct job_record copy = {};
	size_t n;
	unsigned next, bad;

	/* build a's claims and blocks through the API */
	copy = a;
	copy.request = strdup(a.request);
	copy.message = strdup("");
	assert_int_equal(job_record_set_claims(&copy, claims, 4), 0);
	assert_int_equal(job_record_add_block(&copy, 40, "done", 1, 1500, "offlined"), 0);
	assert_int_equal(job_record_add_block(&copy, 41, "timed-out", 3, 30000000, "migration did not finish"), 0);
	assert_int_equal(job_record_add_block(&copy, 41, "done", 4, 31000000, "offlined"), 0);
	assert_int_equal(copy.n_blocks, 2);
	assert_true(job_record_claims(&copy, 43));
	assert_false(job_record_claims(&copy, 44));
	recs[0] = &copy;

	assert_int_equal(job_records_format(recs, 2, 10, &text), 0);
	assert_int_equal(job_records_parse(text, &out, &n, &next, &bad), 0);
	assert_int_equal(n, 2);
	assert_int_equal(next, 10);
	assert_int_equal(bad, 0);
	assert_int_equal(out[0].id, 7);
	assert_int_equal(out[0].state, JOB_RUNNING);
	assert_int_equal(out[0].result, JOB_RESULT_NONE);
	assert_string_equal(out[0].request, "offline 512M zone=Movable");
	assert_string_equal(out[0].message, "");
	assert_int_equal(out[0].bytes_wanted, 512);
	assert_int_equal(out[0].n_claims, 4);
	assert_int_equal(out[0].claims[3], 43);
	assert_int_equal(out[0].n_blocks, 2);
	assert_int_equal(out[0].blocks[1].index, 41);
	assert_string_equal(out[0].blocks[1].outcome, "done");
	assert_int_equal(out[0].blocks[1].attempts, 4);
	assert_int_equal(out[0].blocks[1].usec, 31000000);
	assert_string_equal(out[0].blocks[1].reason, "offlined");
	assert_int_equal(out[1].kind, JOB_ONLINE);
	assert_int_equal(out[1].result, JOB_RESULT_PARTIAL);
	assert_string_equal(out[1].message, "50% done: 100%\nnew-line -");
	for (size_t i = 0; i < n; i++)
		job_record_done(&out[i]);
	free(out);
	job_record_done(&copy);
}

/* A damaged file: bad lines are skipped and counted, the rest survives. */
static void test_damaged(void **state)
{
	struct job_record *out = NULL;
	size_t n;
	unsigned next, bad;

	assert_int_equal(job_records_parse("something else\n", &out, &n, &next, &bad), -EBADMSG);
	assert_int_equal(job_records_parse(
		"memoffd-jobs 1\n"
		"next 3\n"
		"job 1 offline finished done 1 2 3 1 1 128 128 offline%20blocks%209 ok\n"
		"job 2 offline sideways done 1 2 3 1 1 128 128 x y\n"       /* bad state */
		"job 1 online finished done 1 2 3 1 1 128 128 dup dup\n"    /* duplicate id */
		"block 1 9 done 1 5 offlined\n"
		"block 5 9 done 1 5 no-such-job\n"                          /* unknown job */
		"block 1 9 done 1 5 cut%4\n"                                /* an escape cut short */
		"block 1 9 done 1 5 not%g0hex\n"                            /* not hex digits */
		"claim 1 9,x\n"                                             /* bad number */
		"future-record whatever\n"                                  /* ignored */
		"job 4 offline queued - 1 0 0 0 1 0 128 truncated\n",       /* too few fields */
		&out, &n, &next, &bad), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 7);
	assert_int_equal(next, 3);
	assert_string_equal(out[0].request, "offline blocks 9");
	assert_int_equal(out[0].n_blocks, 1);
	job_record_done(&out[0]);
	free(out);
}

/* Who asked is kept ("uid ID UID", a record older versions skip); an old file reads as unknown. */
static void test_uid(void **state)
{
	struct job_record a = {
		.id = 3, .uid = 1001, .kind = JOB_OFFLINE, .state = JOB_QUEUED,
		.request = (char *) "offline 128M", .message = (char *) "",
	};
	struct job_record b = a;
	const struct job_record *recs[] = { &a, &b };
	_cleanup_free_ char *text = NULL;
	struct job_record *out = NULL;
	size_t n;
	unsigned next, bad;

	b.id = 4;
	b.uid = JOB_UID_UNKNOWN;
	assert_int_equal(job_records_format(recs, 2, 5, &text), 0);
	assert_non_null(strstr(text, "\nuid 3 1001\n"));
	assert_null(strstr(text, "uid 4 "));
	assert_int_equal(job_records_parse(text, &out, &n, &next, &bad), 0);
	assert_int_equal(n, 2);
	assert_int_equal(bad, 0);
	assert_int_equal(out[0].uid, 1001);
	assert_int_equal(out[1].uid, JOB_UID_UNKNOWN);
	for (size_t i = 0; i < n; i++)
		job_record_done(&out[i]);
	free(out);
}

/* A NUL byte spoils its own line only: the records after it survive (issue 12). */
static void test_nul_byte(void **state)
{
	static const char text[] =
		"memoffd-jobs 1\n"
		"job 1 offline finished done 1 2 3 1 1 128 128 first ok\n"
		"job 2 offline finished done 1 2 3 1 1 128 128 sec\0ond ok\n"
		"job 3 offline finished done 1 2 3 1 1 128 128 third ok\n"
		"uid 3 1001\n";
	struct job_record *out = NULL;
	size_t n;
	unsigned next, bad;

	assert_int_equal(job_records_parse_n(text, sizeof(text) - 1, &out, &n, &next, &bad), 0);
	assert_int_equal(n, 2);
	assert_int_equal(bad, 1);
	assert_int_equal(out[1].id, 3);
	assert_string_equal(out[1].request, "third");
	assert_int_equal(out[1].uid, 1001);
	assert_int_equal(next, 4);
	for (size_t i = 0; i < n; i++)
		job_record_done(&out[i]);
	free(out);
	/* ... and one in the header is not our file. */
	assert_int_equal(job_records_parse_n("memoffd-jobs\0 1\n", 16, &out, &n, &next, &bad), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_uid),
		cmocka_unit_test(test_nul_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
