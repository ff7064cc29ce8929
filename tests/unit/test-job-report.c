/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The report document of a job (src/shared/job-report.h), of every kind:
 * what memoffd publishes as Report reads back into the result it was written
 * from (what memoffctl prints from), and writes the same document again; a
 * document of another version or shape is refused. And the progress line's
 * detail (src/shared/progress-text.h) that both programs draw.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "job-report.h"
#include "progress-text.h"

/* @text read back and written again: the same text. Returns the document read. */
static struct job_report_doc *round_trip(const char *text)
{
	struct job_report_doc *d = NULL;
	char *again = NULL;

	assert_int_equal(job_report_parse(text, &d), 0);
	assert_int_equal(job_report_string(&d->rep, &again), 0);
	assert_string_equal(again, text);
	free(again);
	return d;
}

static void test_offline(void **state)
{
	struct mo_block_result blocks[2] = {
		{ .index = 32, .start = 0x100000000, .size = 0x8000000, .node = 0, .outcome = MO_OUTCOME_DONE,
		  .action = MO_ACTION_OFFLINE, .attempts = 1, .usec = 1250, .reason = "offline",
		  .have_census = true, .census = { .movable = 10, .unmovable = 0, .cost = 10 } },
		{ .index = 33, .start = 0x108000000, .size = 0x8000000, .node = -1, .outcome = MO_OUTCOME_TIMED_OUT,
		  .action = MO_ACTION_OFFLINE, .attempts = 3, .usec = 3000000, .reason = "attempt timed out",
		  .error = EINTR, .pinned = true },
	};
	const struct mo_job_result res = {
		.action = MO_ACTION_OFFLINE, .size_request = true, .block_size = 0x8000000, .wanted_blocks = 2,
		.wanted_bytes = 0x10000000, .done_blocks = 1, .done_bytes = 0x8000000, .taken_blocks = 1,
		.usec = 3100000, .stop = MO_STOP_EXHAUSTED, .stop_reason = "no candidate left", .have_headroom = true,
		.headroom = { .mem_total = 16ULL << 30, .mem_available = 12ULL << 30 }, .reserve = 256 << 20,
		.n_candidates = 2, .n_examined = 8, .skipped = { [MO_SKIP_ZONE] = 6 }, .blocks = blocks, .n_blocks = 2,
	};
	const struct job_report rep = { .request = "256M", .exit_code = 64, .res = &res };
	struct job_report_doc *d;
	char *text = NULL;

	assert_int_equal(job_report_string(&rep, &text), 0);
	assert_non_null(strstr(text, "\"action\": \"offline\""));
	assert_non_null(strstr(text, "\"request\": \"256M\""));
	d = round_trip(text);
	assert_non_null(d->rep.res);
	assert_null(d->rep.release);
	assert_string_equal(d->rep.request, "256M");
	assert_int_equal(d->rep.exit_code, 64);
	assert_int_equal(d->res.n_blocks, 2);
	assert_int_equal(d->res.blocks[1].index, 33);
	assert_int_equal(d->res.blocks[1].outcome, MO_OUTCOME_TIMED_OUT);
	assert_int_equal(d->res.blocks[1].error, EINTR);
	assert_int_equal(d->res.blocks[1].usec, 3000000);
	assert_int_equal(d->res.blocks[1].node, -1);
	assert_true(d->res.blocks[0].have_census);
	assert_int_equal(d->res.stop, MO_STOP_EXHAUSTED);
	assert_string_equal(d->res.stop_reason, "no candidate left");
	assert_int_equal(d->res.skipped[MO_SKIP_ZONE], 6);
	assert_true(d->res.have_headroom);
	assert_int_equal(d->res.headroom.mem_available, 12ULL << 30);
	assert_false(d->rep.force);
	job_report_doc_free(d);
	free(text);
}

static void test_release(void **state)
{
	struct mo_block_result blocks[1] = {
		{ .index = 40, .start = 0x140000000, .size = 0x8000000, .outcome = MO_OUTCOME_DONE,
		  .action = MO_ACTION_OFFLINE, .attempts = 1, .usec = 2000, .reason = "offline" },
	};
	struct mo_release_device_result dev = {
		.start = 0x140000000, .size = 0x8000000, .node = 0, .outcome = MO_RELEASE_RELEASED, .reason = "ejected",
		.skip = MO_DEVICE_ELIGIBLE, .tries = 1, .usec = 5000, .eject_usec = 3000, .cost = UINT64_MAX,
		.blocks = blocks, .n_blocks = 1,
	};
	const struct mo_release_result res = {
		.block_size = 0x8000000, .wanted_bytes = 0x8000000, .released_bytes = 0x8000000, .released_devices = 1,
		.usec = 6000, .stop = MO_STOP_FINISHED, .stop_reason = "", .n_found = 2, .n_eligible = 1,
		.eligible_bytes = 0x8000000, .devices = &dev, .n_devices = 1,
	};
	const struct job_report rep = { .request = "128M", .force = true, .res = NULL, .release = &res };
	struct job_report_doc *d;
	char *text = NULL;

	snprintf(dev.name, sizeof(dev.name), "PNP0C80:01");
	assert_int_equal(job_report_string(&rep, &text), 0);
	assert_non_null(strstr(text, "\"action\": \"release\""));
	d = round_trip(text);
	assert_null(d->rep.res);
	assert_non_null(d->rep.release);
	assert_int_equal(d->release.n_devices, 1);
	assert_string_equal(d->release.devices[0].name, "PNP0C80:01");
	assert_int_equal(d->release.devices[0].outcome, MO_RELEASE_RELEASED);
	assert_int_equal(d->release.devices[0].n_blocks, 1);
	assert_int_equal(d->release.devices[0].blocks[0].index, 40);
	assert_int_equal(d->release.released_bytes, 0x8000000);
	assert_int_equal(d->release.n_found, 2);
	assert_false(d->release.have_headroom);
	job_report_doc_free(d);
	free(text);
}

static void test_refused(void **state)
{
	struct job_report_doc *d = NULL;

	assert_int_equal(job_report_parse("", &d), -EBADMSG);
	assert_int_equal(job_report_parse("[]", &d), -EBADMSG);
	assert_int_equal(job_report_parse("{\"version\": 2, \"action\": \"offline\"}", &d), -EBADMSG);
	/* the frame, but no blocks */
	assert_int_equal(job_report_parse("{\"version\": 1, \"action\": \"offline\", \"totals\": {\"seconds\": 1.000, "
					  "\"stop\": \"finished\", \"exit_code\": 0}}", &d), -EBADMSG);
	/* a release without devices */
	assert_int_equal(job_report_parse("{\"version\": 1, \"action\": \"release\", \"blocks\": [], \"totals\": "
					  "{\"seconds\": 1.000, \"stop\": \"finished\", \"exit_code\": 0, "
					  "\"wanted_bytes\": 0, \"released_bytes\": 0}}", &d), -EBADMSG);
	assert_null(d);
}

static void test_progress_text(void **state)
{
	char buf[PROGRESS_TEXT_MAX];
	struct mo_job_progress p = { .phase = MO_PHASE_ATTEMPT, .block = 33, .attempt = 2 };
	struct mo_release_progress rp = { .phase = MO_RELEASE_PHASE_BLOCK, .device = "PNP0C80:01", .job = &p };

	assert_string_equal(progress_text_job(&p, buf), "block 33 attempt 2");
	p.phase = MO_PHASE_RESULT;
	p.outcome = MO_OUTCOME_TIMED_OUT;
	assert_string_equal(progress_text_job(&p, buf), "block 33 timed-out");
	p.phase = MO_PHASE_ROLLBACK;
	assert_string_equal(progress_text_job(&p, buf), "putting block 33 back online");
	p.phase = MO_PHASE_WAIT;
	p.wait_usec = 1250400;
	assert_string_equal(progress_text_job(&p, buf), "waiting 1.25s");

	p.phase = MO_PHASE_ATTEMPT;
	assert_string_equal(progress_text_release(&rp, buf), "PNP0C80:01: block 33 offlining");
	rp.phase = MO_RELEASE_PHASE_DEVICE;
	rp.attempt = 1;
	assert_string_equal(progress_text_release(&rp, buf), "PNP0C80:01 try 1");
	rp.phase = MO_RELEASE_PHASE_EJECT;
	assert_string_equal(progress_text_release(&rp, buf), "PNP0C80:01: ejecting");
	rp.phase = MO_RELEASE_PHASE_RESULT;
	rp.outcome = MO_RELEASE_RELEASED;
	assert_string_equal(progress_text_release(&rp, buf), "PNP0C80:01 released");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offline),
		cmocka_unit_test(test_release),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_progress_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
