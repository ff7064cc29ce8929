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
		"claim 1 9,x\n"                                             /* bad number */
		"future-record whatever\n"                                  /* ignored */
		"job 4 offline queued - 1 0 0 0 1 0 128 truncated\n",       /* too few fields */
		&out, &n, &next, &bad), 0);
	assert_int_equal(n, 1);
	assert_int_equal(bad, 5);
	assert_int_equal(next, 3);
	assert_string_equal(out[0].request, "offline blocks 9");
	assert_int_equal(out[0].n_blocks, 1);
	job_record_done(&out[0]);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_damaged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
