/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Blocked-page reports (pins.h) for people and programs: a table, one line
 * per group of pages (or per page), and JSON objects. Shared by `memoffctl
 * pins` and `memoffctl offline` (whose text report is the core's grouped
 * summary, mo_pin_summary_print()).
 */

#include <stdbool.h>
#include <stdio.h>

#include "json.h"
#include "pins.h"

/**
 * pinsout_table() - the groups (or, with @pages, every page listed) of
 * @reports in one table on stdout: BLOCK PFN PAGES WHAT EVIDENCE PID COMM
 * VADDR MAPPING REFS, and CLASS/BLOCKED when a report was tracked.
 * Return: 0 or a negative errno.
 */
int pinsout_table(struct mo_pin_report *const *reports, size_t n, bool pages);

/**
 * pinsout_notes() - what the reports could not say, on @out: owners need
 * CAP_SYS_ADMIN, the kernel log is not readable, ...; once each. The page
 * flags that could not be read only with @census_note (`memoffctl pins`
 * reports those as its error instead).
 */
void pinsout_notes(FILE *out, struct mo_pin_report *const *reports, size_t n, bool census_note);

/**
 * pinsout_census_error() - the first report whose page flags could not be
 * read: its error (negative errno), or 0 when every report has them.
 * @n_failed: how many reports lack them
 */
int pinsout_census_error(struct mo_pin_report *const *reports, size_t n, size_t *n_failed);

/**
 * pinsout_json() - @r as a JSON object (member @key, or an array element
 * when @key is NULL), as in the blocked-page document (pins-json.h).
 */
void pinsout_json(struct mo_json *j, const char *key, const struct mo_pin_report *r);
