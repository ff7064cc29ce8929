/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What `memoffctl offline` and `memoffctl online` share: parsing a request
 * (SIZE, RANGE or -b BLOCKS and the engine's options), and running it
 * through memoffd or in-process with the job verbs' runner (runner.h) and
 * renderer (report.h).
 */

#include <stdbool.h>
#include <stdio.h>

#include "common.h"

/** jobcli_run() - the whole verb; @offline selects offline or online. Returns a CTL_EXIT_* code. */
int jobcli_run(struct ctl_ctx *ctx, int argc, char *argv[], bool offline);

/** jobcli_help() - the verb's --help text. */
void jobcli_help(FILE *out, bool offline);
