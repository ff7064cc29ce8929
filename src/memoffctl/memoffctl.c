/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl: the operator's CLI. main() parses the common options that come
 * before the verb, then hands the rest of the command line to the verb.
 */
#include "config.h"

#include <locale.h>

#include "common.h"
#include "verbs.h"

/* The order `memoffctl --help` lists them in. */
static const struct ctl_verb *const verbs[] = {
	&ctl_verb_list,
	&ctl_verb_offline,
	&ctl_verb_online,
	&ctl_verb_pins,
	&ctl_verb_release,
	&ctl_verb_target,
	&ctl_verb_status,
	&ctl_verb_jobs,
	&ctl_verb_watch,
	&ctl_verb_cancel,
	&ctl_verb_hotplug,
};

static void main_help(FILE *out)
{
	fputs("\nUsage:\n"
	      " memoffctl [options] <command> [command options]\n"
	      "\n"
	      "Take memory offline safely, find what pins it, and put it back.\n"
	      "\n"
	      "Commands:\n", out);
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(out, " %-12s %s\n", verbs[i]->name, verbs[i]->summary);
	fputs("\nOptions (accepted before the command and by every command):\n", out);
	ctl_print_common_options(out);
	fputs("\nRun 'memoffctl <command> --help' for a command's options.\n"
	      "For more details see memoffctl(8).\n", out);
}

static const struct ctl_verb main_verb = {
	.name = NULL,
	.help = main_help,
};

static const struct ctl_verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (streq(verbs[i]->name, name))
			return verbs[i];
	return NULL;
}

int main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		CTL_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct ctl_ctx ctx = { .verb = &main_verb };
	int c, ex;

	setlocale(LC_ALL, "");

	/* '+': stop at the verb; its options are its own to parse. */
	while ((c = ctl_getopt(&ctx, argc, argv, "+", longopts, &ex)) != -1) {
		if (c == CTL_GETOPT_EXIT)
			return ex;
		/* ctl_getopt() returns nothing else for an option list this short. */
		return ctl_usage_error("unexpected option");
	}
	if (optind >= argc)
		return ctl_usage_error("no command given");

	ctx.verb = find_verb(argv[optind]);
	if (!ctx.verb)
		return ctl_usage_error("unknown command '%s'", argv[optind]);

	ctl_set_verb(ctx.verb->name);
	argc -= optind;
	argv += optind;
	optind = 0; /* full getopt reset for the verb's own parsing */
	ex = ctx.verb->run(&ctx, argc, argv);

	if (fflush(stdout) != 0 || ferror(stdout))
		return ctl_error_errno(errno ? -errno : -EIO, "write error");
	return ex;
}
