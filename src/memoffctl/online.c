/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl online: put memory back online (Movable where it may be).
 */
#include "config.h"

#include "jobcli.h"
#include "verbs.h"

static int verb_online(struct ctl_ctx *ctx, int argc, char *argv[])
{
	return jobcli_run(ctx, argc, argv, false);
}

static void online_help(FILE *out)
{
	jobcli_help(out, false);
}

CTL_VERB(online, "put memory online, Movable where it may be (chmem -e)");
