/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl pins: the pages that would block offlining some memory, and who
 * holds them. Read-only: no offline attempt is made. Through memoffd
 * (GetPins) when one runs and lets the caller: it has CAP_SYS_ADMIN for the
 * owners, and serves members of AllowedGroup= too; in-process otherwise.
 */
#include "config.h"

#include <inttypes.h>
#include <time.h>

#include "block.h"
#include "client.h"
#include "common.h"
#include "forensics.h"
#include "parse.h"
#include "pinmem.h"
#include "pins-json.h"
#include "pinsout.h"
#include "select.h"
#include "verbs.h"

enum {
	OPT_NO_KMSG = CTL_OPT_VERB_FIRST,
};

static void pins_help(FILE *out)
{
	ctl_help_begin(out, "memoffctl pins [options] <start>-<end>\n"
			    "memoffctl pins [options] -b <first>[-<last>]",
		       "List the pages that would block taking memory offline, and the processes\n"
		       "that map them. Read-only: no offline is attempted.\n"
		       "\n"
		       "A page counts when its flags say kernel memory (unmovable), when it is\n"
		       "anonymous and in use but mapped by no process (held by a pipe or another\n"
		       "kernel reference: unmapped), or when the kernel log says an earlier offline\n"
		       "failed to migrate it and it is still in use (kmsg). Pages pinned while still\n"
		       "mapped show up only through the kernel log of an attempt.");
	ctl_help_option(out, "-b, --blocks", "the argument is a block number or range");
	ctl_help_option(out, "-p, --pages", "one line per page instead of per group of pages");
	ctl_help_option(out, "    --no-kmsg", "do not read the kernel log");
	ctl_help_option(out, "-J, --json", "use JSON output format");
	ctl_help_end(out, "Page flags (/proc/kpageflags) and owners (pagemap) need CAP_SYS_ADMIN; the\n"
		     "kernel log needs read access to /dev/kmsg. Exit status: 0 when the blocks\n"
		     "could be examined, 1 otherwise, 2 usage error.");
}

/* What memoffd remembers of the report's blocks (pinmem.h): pages earlier attempts found blocking. */
static void print_remembered(const struct mo_pinmem *m, struct mo_pin_report *const *reports, size_t n)
{
	uint64_t now = (uint64_t) time(NULL);
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		const struct mo_pinmem_block *b = mo_pinmem_find(m, reports[i]->block);
		char ago[MO_DURATION_MAX];

		if (!b)
			continue;
		if (!any)
			printf("memoffd remembers blocks its attempts found blocked (ranked last):\n");
		any = true;
		mo_format_duration((now > b->last_seen ? now - b->last_seen : 0) * UINT64_C(1000000), ago, sizeof(ago));
		printf("  block %" PRIu64 ": last seen %s ago", b->block, ago);
		if (b->n_pfns) {
			printf(", pfn");
			for (unsigned k = 0; k < b->n_pfns && k < 4; k++)
				printf(" 0x%" PRIx64, b->pfns[k]);
			if (b->n_pfns > 4)
				printf(" and %u more", b->n_pfns - 4);
		}
		putchar('\n');
	}
}

static int verb_pins(struct ctl_ctx *ctx, int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "blocks",  no_argument, NULL, 'b' },
		{ "pages",   no_argument, NULL, 'p' },
		{ "json",    no_argument, NULL, 'J' },
		{ "no-kmsg", no_argument, NULL, OPT_NO_KMSG },
		CTL_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	_cleanup_(mo_forensics_freep) struct mo_forensics *f = NULL;
	_cleanup_free_ uint64_t *blocks = NULL;
	_cleanup_free_ struct mo_pin_report **reports = NULL;
	struct mo_forensics_opts fo = {};
	_cleanup_(mo_pinmem_freep) struct mo_pinmem *pins = NULL;
	bool by_blocks = false, pages = false, json = false;
	const char *arg, *why = NULL;
	size_t n_blocks = 0, n_reports = 0, n_unread = 0;
	int census;
	uint64_t first, last;
	int c, ex, r, ret = CTL_EXIT_OK;

	while ((c = ctl_getopt(ctx, argc, argv, "bpJ", longopts, &ex)) != -1) {
		switch (c) {
		case CTL_GETOPT_EXIT:
			return ex;
		case 'b':
			by_blocks = true;
			break;
		case 'p':
			pages = true;
			break;
		case 'J':
			json = true;
			break;
		case OPT_NO_KMSG:
			fo.no_kmsg = true;
			break;
		default:
			return ctl_usage_error("unexpected option");
		}
	}
	if (optind >= argc)
		return ctl_usage_error("no range or blocks given");
	if (optind + 1 < argc)
		return ctl_usage_error("unexpected argument '%s'", argv[optind + 1]);
	arg = argv[optind];

	if (ctl_client_wanted(ctx)) {
		r = ctl_client_pins(by_blocks ? "blocks" : "range", arg, !fo.no_kmsg, &reports, &n_reports, &ex);
		if (r == 0 && ex != CTL_EXIT_OK)
			return ex;
		if (r == 0)
			goto print;
		if (r != -ENOENT && r != -ECONNREFUSED && r != -EACCES)
			return ctl_error_errno(r, "cannot talk to memoffd (try --direct)");
		/* no daemon, or not for this user: look ourselves */
	}

	if (ctl_open_memory(ctx, true, &root, &mem) < 0)
		return CTL_EXIT_FAILED;

	if (by_blocks) {
		r = mo_parse_blocks(arg, &first, &last, &why);
		if (r < 0)
			return ctl_usage_error("invalid block range '%s': %s", arg, strempty(why));
		if (last - first >= (UINT64_C(1) << 24))
			return ctl_usage_error("block range '%s' is too large", arg);
		n_blocks = (size_t) (last - first + 1);
		blocks = calloc(n_blocks, sizeof(*blocks));
		if (!blocks)
			return ctl_error_errno(-ENOMEM, "%s", arg);
		for (size_t i = 0; i < n_blocks; i++)
			blocks[i] = first + i;
	} else {
		r = mo_parse_range(arg, &first, &last, &why);
		if (r < 0)
			return ctl_usage_error("invalid range '%s': %s", arg, strempty(why));
		r = mo_check_range_aligned(first, last, mem->block_size, &why);
		if (r < 0)
			return ctl_usage_error("range '%s': %s", arg, strempty(why));
		r = mo_select_range_blocks(mem->block_size, first, last, &blocks, &n_blocks);
		if (r < 0)
			return ctl_usage_error("range '%s' does not cover whole memory blocks", arg);
	}
	for (size_t i = 0; i < n_blocks; i++)
		if (!mo_memory_find(mem, blocks[i]))
			return ctl_error("block %" PRIu64 " does not exist", blocks[i]);

	r = mo_forensics_new(root, &fo, &f);
	if (r < 0)
		return ctl_error_errno(r, "cannot examine memory");
	reports = calloc(n_blocks ? n_blocks : 1, sizeof(*reports));
	if (!reports)
		return ctl_error_errno(-ENOMEM, "%s", arg);
	for (size_t i = 0; i < n_blocks; i++) {
		const struct mo_block *b = mo_memory_find(mem, blocks[i]);

		/* an offline block has nothing in use */
		if (b->state == MO_STATE_OFFLINE)
			continue;
		r = mo_forensics_scan(f, blocks[i], &reports[n_reports]);
		if (r < 0) {
			ret = ctl_error_errno(r, "block %" PRIu64, blocks[i]);
			goto out;
		}
		n_reports++;
	}

print:
	(void) ctl_load_daemon_pins(root, &pins);
	census = pinsout_census_error(reports, n_reports, &n_unread);
	if (census)
		ret = CTL_EXIT_FAILED;

	if (json) {
		/* the document GetPins returns (pins-json.h), the same bytes with or without the daemon */
		_cleanup_free_ char *doc = NULL;

		r = mo_pins_json_format(reports, n_reports, true, &doc);
		if (r < 0) {
			ret = ctl_error_errno(r, "cannot format the report");
			goto out;
		}
		fputs(doc, stdout);
	} else {
		uint64_t total = 0;

		for (size_t i = 0; i < n_reports; i++)
			total += reports[i]->pages;
		if (total > 0) {
			r = pinsout_table(reports, n_reports, pages);
			if (r < 0) {
				ret = ctl_error_errno(r, "cannot print the table");
				goto out;
			}
		}
		/* Without the page flags, "0 pages would block" would be a guess: say what was read. */
		if (!census)
			printf("%" PRIu64 " page%s in %zu block%s would block offlining.\n", total,
			       total == 1 ? "" : "s", n_reports, n_reports == 1 ? "" : "s");
		else if (n_unread < n_reports)
			printf("%" PRIu64 " page%s in %zu of %zu blocks would block offlining; the other blocks "
			       "could not be examined.\n", total, total == 1 ? "" : "s", n_reports - n_unread, n_reports);
		else if (total > 0)
			printf("%" PRIu64 " page%s named by the kernel log; the blocks' page flags could not be read.\n",
			       total, total == 1 ? "" : "s");
		if (pins)
			print_remembered(pins, reports, n_reports);
		pinsout_notes(stdout, reports, n_reports, false);
	}
	fflush(stdout);
	/* the one error, on stderr only */
	if (census == -EACCES || census == -EPERM)
		ctl_error("cannot read the page flags (/proc/kpageflags) of %zu block%s: reading them needs "
			  "CAP_SYS_ADMIN (run as root, or as a member of memoffd's AllowedGroup=)", n_unread, n_unread == 1 ? "" : "s");
	else if (census)
		ctl_error("cannot read the page flags (/proc/kpageflags) of %zu block%s: %s", n_unread,
			  n_unread == 1 ? "" : "s", strerror(-census));
out:
	for (size_t i = 0; i < n_reports; i++)
		mo_pin_report_free(reports[i]);
	return ret;
}

CTL_VERB(pins, "show the pages that block offlining and who holds them");
