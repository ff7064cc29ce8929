/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl offline: take memory offline through the bounded job engine.
 */
#include "config.h"

#include "jobcli.h"
#include "verbs.h"

static int verb_offline(struct ctl_ctx *ctx, int argc, char *argv[])
{
	return jobcli_run(ctx, argc, argv, true);
}

static void offline_help(FILE *out)
{
	jobcli_help(out, true);
}

CTL_VERB(offline, "take memory offline, bounded and safely (chmem -d)");
