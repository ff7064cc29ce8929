/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The blocked-page document: the reports of pins.h as one versioned JSON
 * document, what `memoffctl pins -J` prints and what memoffd's GetPins
 * returns and a job's BlockedPages holds (doc/org.memoff.Manager1.md
 * describes every field). memoffd and memoffctl write it with the same code,
 * so the two give the same bytes; memoffctl reads the daemon's back into
 * struct mo_pin_report (src/shared/pins-json-read.h) and prints text from it
 * as it does in-process.
 *
 * The document carries every field the text output uses: read back and
 * written again it is the same document (tests/unit/test-pins-json.c, the
 * pins-json fuzz target). Fields may be added within a version; a reader
 * ignores the ones it does not know. A version bump means a field changed
 * or went away.
 */

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "pins.h"

#define MO_PINS_JSON_VERSION 1

/**
 * mo_pins_json_report() - one block's report as an object of the document's
 * "blocks" array (member @key of an object, or NULL in an array).
 * @owners: false to leave out the processes that map the pages (for a
 *          caller who may not see them), saying so in owners_error (EACCES)
 */
void mo_pins_json_report(struct mo_json *j, const char *key, const struct mo_pin_report *r, bool owners);

/**
 * mo_pins_json_format() - the whole document, {"version": 1, "blocks": [...]}
 * and a newline, into a string the caller frees.
 * Return: 0 or -ENOMEM.
 */
int mo_pins_json_format(struct mo_pin_report *const *reports, size_t n, bool owners, char **ret);

/** mo_pin_reports_free() - free @n reports and the array that holds them. */
void mo_pin_reports_free(struct mo_pin_report **reports, size_t n);
