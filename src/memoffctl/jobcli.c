/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl offline / online: parse the request, have memoffd run it or run
 * the job engine in-process (runner.h), show progress on a terminal, and
 * print the report (report.h) with the pages that blocked the blocks given
 * up on.
 */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <strings.h>
#include <unistd.h>

#include "block.h"
#include "client.h"
#include "common.h"
#include "escape.h"
#include "forensics.h"
#include "format.h"
#include "job.h"
#include "jobcli.h"
#include "joblog.h"
#include "log.h"
#include "parse.h"
#include "pinmem.h"
#include "progress-text.h"
#include "report.h"
#include "stall.h"
#include "runner.h"

enum {
	OPT_ALL_OR_NOTHING = CTL_OPT_JOB_FIRST,
	OPT_MAX_ATTEMPTS,
};

#define MAX_ZONES 8

struct opts {
	bool offline;
	bool blocks;                 /* -b: the argument is FIRST[-LAST] */
	const char *arg;
	const char *zone_arg;
	const char *zones[MAX_ZONES];
	size_t n_zones;
	unsigned max_attempts;
	bool have_max_attempts;
	bool all_or_nothing;
	struct ctl_job_opts j;       /* the options every job verb takes (runner.h) */
};

/* ---- help ---- */

void jobcli_help(FILE *out, bool offline)
{
	char d1[MO_DURATION_MAX], d2[MO_DURATION_MAX], d3[MO_DURATION_MAX], d4[MO_DURATION_MAX], tail[256];

	mo_format_duration(MO_JOB_ATTEMPT_TIMEOUT_USEC, d1, sizeof(d1));
	mo_format_duration(MO_JOB_DEADLINE_USEC, d2, sizeof(d2));
	mo_format_duration(MO_BACKOFF_INITIAL_USEC, d3, sizeof(d3));
	mo_format_duration(MO_BACKOFF_MAX_USEC, d4, sizeof(d4));

	if (offline) {
		ctl_help_begin(out, "memoffctl offline [options] <size>|<start>-<end>\n"
				    "memoffctl offline [options] -b <first>[-<last>]",
			       "Take memory offline, each attempt bounded, blocks that fail retried with\n"
			       "backoff while others are tried, never past the deadline, never below the\n"
			       "memory reserve. A size picks the cheapest blocks (free first, pinned last).");
		ctl_help_option(out, "-b, --blocks", "the argument is a block number or range (chmem -b)");
		ctl_help_option(out, "-z, --zone <zones>", "zones a size may take blocks from (default: Movable)");
	} else {
		ctl_help_begin(out, "memoffctl online [options] <size>|<start>-<end>\n"
				    "memoffctl online [options] -b <first>[-<last>]",
			       "Put memory online, as Movable where the block allows it. A size takes the\n"
			       "lowest offline blocks.");
		ctl_help_option(out, "-b, --blocks", "the argument is a block number or range (chmem -b)");
		ctl_help_option(out, "-z, --zone <zone>", "online into this zone (Movable: online_movable,\n"
				"any other: online_kernel)");
	}
	ctl_help_option(out, "-n, --node <node>", "take blocks of this NUMA node only (a size)");
	ctl_help_option(out, "    --attempt-timeout <duration>", "end one write after this long (default: %s)", d1);
	ctl_help_option(out, "    --deadline <duration>", "end the whole request by then (default: %s;\n"
			"infinity: no limit)", d2);
	ctl_help_option(out, "    --max-attempts <n>", "attempts per block, 0 for no limit (default: %u)",
			MO_BACKOFF_MAX_ATTEMPTS);
	if (offline) {
		ctl_help_option(out, "    --reserve <size>", "memory to keep available (default: the larger of\n"
				"256M and 5%% of RAM)");
		ctl_help_option(out, "    --force", "skip the headroom guard; touch driver-managed memory");
		ctl_help_option(out, "    --all-or-nothing", "put back online what was taken if not all is done");
		ctl_help_option(out, "    --long-lived <duration>", "call a page blocked across attempts for this long a\n"
				"long-lived reference (default: 30s; through memoffd\n"
				"its LongLivedThreshold=)");
		ctl_help_option(out, "    --stall-grace <duration>", "end an attempt whose migration made no progress for\n"
				"this long while it kept failing; 0 = off (default:\n"
				"300ms; through memoffd its StallGrace=)");
	}
	ctl_help_job_report(out, "print every attempt");
	snprintf(tail, sizeof(tail), "Retries wait %s, doubling up to %s, with +/-20%% jitter.\n"
		 "Exit status: 0 all done, 1 failed or nothing done, 64 partly done, 2 usage error.", d3, d4);
	ctl_help_end(out, tail);
}

/* ---- parsing ---- */

static int parse_zones(struct opts *o)
{
	_cleanup_free_ char *bad = NULL;
	unsigned zones;
	int r;

	r = mo_parse_zones(o->zone_arg, &zones, &bad);
	if (r == -ENOMEM)
		return ctl_error_errno(r, "%s", o->zone_arg);
	if (r < 0)
		return ctl_usage_error("unknown zone '%s' (DMA, DMA32, Normal, HighMem, Movable or Device)", bad);
	if (!zones)
		return ctl_usage_error("no zone in '%s'", o->zone_arg);
	o->n_zones = 0;
	for (unsigned z = 1; z <= MO_ZONE_ALL && o->n_zones < MAX_ZONES; z <<= 1)
		if (zones & z)
			o->zones[o->n_zones++] = mo_zone_to_string(z);
	if (!o->offline && o->n_zones > 1)
		return ctl_usage_error("online takes one zone, not '%s'", o->zone_arg);
	if (!o->offline && streq(o->zones[0], "Device"))
		return ctl_usage_error("memory cannot be onlined into zone Device");
	return 0;
}

static int parse_args(struct ctl_ctx *ctx, int argc, char *argv[], struct opts *o, int *ret_exit)
{
	static const struct option offline_longopts[] = {
		CTL_JOB_LONGOPTS,
		CTL_JOB_TAKE_LONGOPTS,
		{ "blocks",          no_argument,       NULL, 'b' },
		{ "zone",            required_argument, NULL, 'z' },
		{ "max-attempts",    required_argument, NULL, OPT_MAX_ATTEMPTS },
		{ "all-or-nothing",  no_argument,       NULL, OPT_ALL_OR_NOTHING },
		CTL_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	static const struct option online_longopts[] = {
		CTL_JOB_LONGOPTS,
		{ "blocks",          no_argument,       NULL, 'b' },
		{ "zone",            required_argument, NULL, 'z' },
		{ "max-attempts",    required_argument, NULL, OPT_MAX_ATTEMPTS },
		CTL_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c, r;

	while ((c = ctl_job_getopt(ctx, argc, argv, "bz:" CTL_JOB_SHORTOPTS,
				   o->offline ? offline_longopts : online_longopts, &o->j, ret_exit)) != -1) {
		switch (c) {
		case CTL_GETOPT_EXIT:
			return -1;
		case 'b':
			o->blocks = true;
			break;
		case 'z':
			o->zone_arg = optarg;
			break;
		case OPT_MAX_ATTEMPTS:
			if (ctl_parse_count("number of attempts", optarg, &o->max_attempts, ret_exit) < 0)
				return -1;
			o->have_max_attempts = true;
			break;
		case OPT_ALL_OR_NOTHING:
			o->all_or_nothing = true;
			break;
		default:
			*ret_exit = ctl_usage_error("unexpected option");
			return -1;
		}
	}
	o->arg = ctl_job_arg(argc, argv, "no size, range or blocks given", ret_exit);
	if (!o->arg)
		return -1;
	if (o->zone_arg) {
		r = parse_zones(o);
		if (r != 0) {
			*ret_exit = r;
			return -1;
		}
	}
	return 0;
}

/*
 * The request from the argument: a size, a physical range or block numbers.
 * @blocks receives the named blocks (freed by the caller).
 */
static int build_request(const struct opts *o, uint64_t block_size, struct mo_job_request *req,
			 uint64_t **blocks)
{
	char bs[MO_FORMAT_SIZE_MAX];
	const char *why = NULL;
	uint64_t first, last;
	size_t n;
	int r;

	mo_format_size(block_size, bs);
	if (o->blocks) {
		r = mo_parse_blocks(o->arg, &first, &last, &why);
		if (r < 0)
			return ctl_usage_error("invalid block range '%s': %s", o->arg, strempty(why));
		if (last - first >= (UINT64_C(1) << 24))
			return ctl_usage_error("block range '%s' is too large", o->arg);
		n = (size_t) (last - first + 1);
		*blocks = calloc(n, sizeof(**blocks));
		if (!*blocks)
			return ctl_error_errno(-ENOMEM, "%s", o->arg);
		for (size_t i = 0; i < n; i++)
			(*blocks)[i] = first + i;
		req->blocks = *blocks;
		req->n_blocks = n;
	} else if (strchr(o->arg, '-')) {
		r = mo_parse_range(o->arg, &first, &last, &why);
		if (r < 0)
			return ctl_usage_error("invalid range '%s': %s", o->arg, strempty(why));
		r = mo_check_range_aligned(first, last, block_size, &why);
		if (r < 0)
			return ctl_usage_error("range '%s': %s (%s)", o->arg, strempty(why), bs);
		r = mo_select_range_blocks(block_size, first, last, blocks, &n);
		if (r == -E2BIG)
			return ctl_usage_error("range '%s' is too large", o->arg);
		if (r < 0)
			return ctl_usage_error("range '%s' does not cover whole memory blocks of %s", o->arg, bs);
		req->blocks = *blocks;
		req->n_blocks = n;
	} else {
		r = mo_parse_size(o->arg, &req->size, &why);
		if (r < 0)
			return ctl_usage_error("invalid size '%s': %s", o->arg, strempty(why));
		r = mo_check_size_aligned(req->size, block_size, &why);
		if (r < 0)
			return ctl_usage_error("size '%s': %s (%s)", o->arg, strempty(why), bs);
	}
	return 0;
}

/* ---- progress ---- */

struct ui {
	bool verbose;
	struct ctl_progress line;
	const struct mo_joblog *log;   /* journal records of the job (&jl), or NULL */
	struct mo_joblog jl;
	char log_id[32];               /* "memoffctl-PID" */
	struct mo_pinmem *pins;        /* memoffd's pin store, read-only, or NULL */
};

static void on_progress(const struct mo_job_progress *p, void *userdata)
{
	struct ui *u = userdata;
	char d[MO_DURATION_MAX], n[MO_DURATION_MAX], detail[PROGRESS_TEXT_MAX];

	if (u->log)
		mo_joblog_progress(u->log, p);
	if (u->verbose) {
		ctl_progress_clear(&u->line);
		switch (p->phase) {
		case MO_PHASE_RESULT:
			mo_escape_fprintf(stderr, "memoffctl: block %" PRIu64 ": attempt %u: %s after %s: %s", p->block,
					  p->attempt, mo_outcome_to_string(p->outcome),
					  ctl_usec_str(p->attempt_usec, d), strempty(p->reason));
			if (p->outcome == MO_OUTCOME_STALLED) {
				fprintf(stderr, " (pgmigrate_success +%" PRIu64 ", pgmigrate_fail +%" PRIu64,
					p->stall.migrate_success, p->stall.migrate_fail);
				if (p->stall.n_pfns)
					fprintf(stderr, "; pfn 0x%" PRIx64 "%s", p->stall.pfns[0],
						p->stall.n_pfns > 1 ? " and others" : "");
				fputc(')', stderr);
			}
			if (p->next_usec)
				fprintf(stderr, "; retry in %s", ctl_usec_str(p->next_usec, n));
			fputc('\n', stderr);
			break;
		case MO_PHASE_WAIT:
			fprintf(stderr, "memoffctl: waiting %s for the next retry\n", ctl_usec_str(p->wait_usec, d));
			break;
		case MO_PHASE_ROLLBACK:
			fprintf(stderr, "memoffctl: block %" PRIu64 ": putting it back online (all-or-nothing)\n",
				p->block);
			break;
		case MO_PHASE_ATTEMPT:
			break;
		}
	}
	ctl_progress_draw(&u->line, p->done_bytes, p->wanted_bytes, p->done_blocks, p->wanted_blocks,
			  progress_text_job(p, detail));
}

/* ---- the pages that blocked it (forensics) ---- */

/* Whether forensics has something to say about a block: it was attempted and not done. */
static bool gave_up(const struct mo_block_result *b)
{
	return b->attempts > 0 && !mo_outcome_is_success(b->outcome) && b->outcome != MO_OUTCOME_CANCELLED &&
	       b->outcome != MO_OUTCOME_ROLLED_BACK;
}

/* The blocked pages of every block given up on, in the order of the result (NULL for the others). */
static struct mo_pin_report **blocked_reports(struct mo_forensics *f, const struct mo_job_result *r)
{
	struct mo_pin_report **v;

	if (!f || r->dry_run || r->action != MO_ACTION_OFFLINE)
		return NULL;
	v = calloc(r->n_blocks ? r->n_blocks : 1, sizeof(*v));
	if (!v)
		return NULL;
	for (size_t i = 0; i < r->n_blocks; i++) {
		const struct mo_block_result *b = &r->blocks[i];

		if (!gave_up(b))
			continue;
		/* what the attempts saw, tracked; else what flags and the kernel log say */
		if (mo_forensics_report(f, b->index, &v[i]) == 0 && v[i]->n_groups == 0) {
			mo_pin_report_free(v[i]);
			v[i] = NULL;
		}
		if (!v[i])
			(void) mo_forensics_scan(f, b->index, &v[i]);
	}
	return v;
}

static void free_reports(struct mo_pin_report **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		mo_pin_report_free(v[i]);
	free(v);
}

/* ---- journal records ---- */

/*
 * Run under systemd (stderr is the journal), memoffctl sends the records
 * memoffd sends for its jobs (joblog.h), the job being "memoffctl-PID". On a
 * terminal it does not: the table and the summary say the same.
 */
static void log_job_end(const struct mo_joblog *l, const struct opts *o, const struct mo_job_result *r, int ex)
{
	char request[256], message[128];
	const char *result = r->stop == MO_STOP_CANCELLED ? "cancelled" :
			     ex == CTL_EXIT_OK ? "done" : ex == CTL_EXIT_PARTIAL ? "partial" : "failed";

	mo_joblog_result(l, r);
	snprintf(request, sizeof(request), "%s %s%s", o->offline ? "offline" : "online",
		 o->blocks ? "blocks " : strchr(o->arg, '-') ? "range " : "", o->arg);
	snprintf(message, sizeof(message), "%s %" PRIu64 " of %" PRIu64 " blocks%s%s", o->offline ? "offline" : "online",
		 r->done_blocks, r->wanted_blocks, r->stop == MO_STOP_FINISHED ? "" : ": ",
		 r->stop == MO_STOP_FINISHED ? "" : strempty(r->stop_reason));
	mo_joblog_finished(l->job, request, result, message);
}

/* ---- through memoffd ---- */

static int run_on_daemon(sd_bus *bus, const struct opts *o, struct ctl_progress *line)
{
	struct ctl_client_request cr = CTL_CLIENT_REQUEST_INIT;

	ctl_job_opts_request(&o->j, &cr);
	cr.offline = o->offline;
	cr.by = o->blocks ? "blocks" : strchr(o->arg, '-') ? "range" : "size";
	cr.what = o->arg;
	cr.zone = o->n_zones ? o->zones[0] : NULL;
	cr.max_attempts = o->have_max_attempts ? (int) o->max_attempts : -1;
	cr.all_or_nothing = o->all_or_nothing;
	return ctl_runner_daemon_job(bus, &cr, &o->j, line, o->arg);
}

/* ---- in-process ---- */

static int run_here(struct ctl_ctx *ctx, const struct opts *o, struct ui *ui)
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	_cleanup_(mo_job_freep) struct mo_job *job = NULL;
	_cleanup_(mo_forensics_freep) struct mo_forensics *forensics = NULL;
	struct mo_pin_report **blocked = NULL;
	_cleanup_free_ uint64_t *blocks = NULL;
	_cleanup_free_ char *error = NULL;
	struct mo_job_request req = {};
	struct mo_job_options jo;
	const struct mo_job_result *res;
	const struct ctl_report_opts ro = ctl_job_opts_report(&o->j);
	struct job_report rep;
	int r, ex;

	/* none read yet: the job reads the blocks it looks at */
	if (ctl_open_memory(ctx, false, &root, &mem) < 0)
		return CTL_EXIT_FAILED;
	r = build_request(o, mem->block_size, &req, &blocks);
	if (r != 0)
		return r;
	req.mem = mem;
	if (o->offline)
		req.action = MO_ACTION_OFFLINE;
	else if (!o->zone_arg) {
		req.action = MO_ACTION_ONLINE;
		req.prefer_movable = true;
	} else
		req.action = streq(o->zones[0], "Movable") ? MO_ACTION_ONLINE_MOVABLE : MO_ACTION_ONLINE_KERNEL;

	r = ctl_runner_may_write(root, &o->j);
	if (r != 0)
		return r;

	mo_job_options_init(&jo);
	CTL_ENGINE_OPTIONS(&jo, &o->j);
	if (o->have_max_attempts)
		jo.backoff.max_attempts = o->max_attempts;
	jo.all_or_nothing = o->all_or_nothing;
	jo.zones = o->n_zones ? o->zones : NULL;
	jo.n_zones = o->n_zones;
	jo.progress = on_progress;
	jo.progress_userdata = ui;
	mo_log_parse_environment();
	if (!o->j.dry_run && mo_log_get_target() == MO_LOG_TARGET_JOURNAL) {
		snprintf(ui->log_id, sizeof(ui->log_id), "memoffctl-%d", (int) getpid());
		ui->jl = (struct mo_joblog) { .job = ui->log_id, .action = req.action, .block_size = mem->block_size };
		ui->log = &ui->jl;
	}
	if (o->offline && !o->j.dry_run) {
		/*
		 * Forensics: a census of each block while its attempt spins, and the
		 * kernel log, name the pages (and processes) that block it; groups of
		 * blocked pages are logged as they appear, clear or turn long-lived:
		 * to the journal, or with -v or MEMOFF_LOG_LEVEL=debug to stderr (else
		 * the report says it).
		 */
		struct mo_forensics_opts fo = { .long_lived_usec = o->j.long_lived,
						.log = ui->log || o->j.verbose || mo_log_get_max_level() >= LOG_DEBUG,
						.job = ui->log ? ui->log_id : NULL,
						.stall_grace_usec = o->j.stall_grace != UINT64_MAX ? o->j.stall_grace :
								    MO_STALL_GRACE_USEC,
						.owners.cancel = &ctl_cancel_requested };

		if (mo_forensics_new(root, &fo, &forensics) == 0) {
			jo.hooks.attempt = mo_forensics_attempt;
			jo.hooks.userdata = forensics;
		}
	}

	/* what memoffd remembers of pins ranks those blocks last here too (read-only) */
	if (o->offline && ctl_load_daemon_pins(root, &ui->pins) == 0)
		jo.pinmem = ui->pins;

	r = mo_job_new(root, &req, &jo, &job, &error);
	if (r == -ENOENT && req.n_blocks && o->blocks)
		return ctl_error("%s", error ? error : strerror(-r));
	if (r == -ENOENT && req.n_blocks)
		return ctl_error("range '%s': %s", o->arg, error ? error : strerror(-r));
	if (r == -EINVAL)
		return ctl_usage_error("%s: %s", o->arg, error ? error : strerror(-r));
	if (r < 0)
		return ctl_error_errno(r, "%s", error ? error : o->arg);

	r = mo_job_run(job);
	ctl_progress_clear(&ui->line);
	if (r < 0)
		return ctl_error_errno(r, "%s", o->arg);

	res = mo_job_result(job);
	rep = (struct job_report) { .request = o->arg, .force = o->j.force, .exit_code = mo_job_exit_code(res),
				    .res = res };
	if (ui->log)
		log_job_end(ui->log, o, res, rep.exit_code);
	blocked = blocked_reports(forensics, res);
	ex = ctl_report_print(&rep, blocked, &ro);
	free_reports(blocked, res->n_blocks);
	return ex;
}

/* ---- the verb ---- */

int jobcli_run(struct ctl_ctx *ctx, int argc, char *argv[], bool offline)
{
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	struct opts o = { .offline = offline, .j = CTL_JOB_OPTS_INIT };
	struct ui ui = {};
	bool named;
	int ex;

	/* From the first option on, a SIGINT/SIGTERM is a cancel request, answered with a report. */
	ctl_runner_signals();
	if (parse_args(ctx, argc, argv, &o, &ex) < 0)
		return ex;
	named = o.blocks || strchr(o.arg, '-');
	if (o.j.node >= 0 && named)
		return ctl_usage_error("-n chooses where a size takes blocks from; blocks named are taken as named");
	if (offline && o.zone_arg && named)
		return ctl_usage_error("-z chooses where a size takes blocks from; blocks named are taken as named");

	ui.verbose = o.j.verbose;
	ctl_progress_init(&ui.line, offline ? "offline" : "online", &o.j);
	/* memoffd runs the job when it runs (and serializes it with its other jobs); else the engine here */
	switch (ctl_runner_connect(ctx, o.j.dry_run || o.n_zones > 1, &bus)) {
	case 1:
		return run_on_daemon(bus, &o, &ui.line);
	case 0:
		ex = run_here(ctx, &o, &ui);
		mo_pinmem_free(ui.pins);
		return ex;
	default:
		return CTL_EXIT_FAILED;
	}
}
