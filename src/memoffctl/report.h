/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The one renderer of a job's report (job-report.h), whoever ran the job
 * and whatever it was: memoffctl offline, online and release print the
 * result of a job they ran in-process and the Report document of a job
 * memoffd ran with this same code, and so does memoffctl watch (and cancel)
 * for any job of memoffd. -J writes the document; otherwise a table (per
 * block, or per device with -v its blocks), a summary and, for an offline
 * job, the pages that blocked it; -q leaves stdout empty. Why the exit
 * status is not 0 goes to stderr in every case.
 */

#include <stdbool.h>

#include "client.h"
#include "job-report.h"

struct ctl_report_opts {
	bool json, quiet, verbose;
};

/**
 * ctl_report_print() - print @rep (see above).
 * @blocked: an offline job's blocked pages in the order of its blocks (NULL
 *           where none), or NULL
 * Return: @rep's exit code, or CTL_EXIT_FAILED when the table could not be
 * printed.
 */
int ctl_report_print(const struct job_report *rep, struct mo_pin_report *const *blocked,
		     const struct ctl_report_opts *o);

/**
 * ctl_report_print_doc() - print the Report document @text of memoffd's job
 * @info (its BlockedPages go with the blocks they blocked).
 * @what: the request, for messages
 * Return: as ctl_report_print(); CTL_EXIT_FAILED when @text is no report.
 */
int ctl_report_print_doc(const char *text, const struct ctl_job_info *info, const char *what,
			 const struct ctl_report_opts *o);
