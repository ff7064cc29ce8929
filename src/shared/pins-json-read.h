/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reading the blocked-page document (pins-json.h) back into the reports of
 * pins.h: memoffctl reads what memoffd's GetPins and a job's BlockedPages
 * hold and prints it with the code it uses in-process. The reports carry
 * every field the document does; written again they give the same
 * document. Parsed with json-c.
 *
 * Lenient where the document may grow within its version (unknown members
 * are ignored, an unknown enum value reads as the neutral one), strict
 * about its shape: a member of the wrong type, a malformed number, or
 * another version is refused.
 */

#include <stddef.h>

#include "pins.h"

/**
 * pins_json_read() - parse @doc.
 * @ret: receives a calloc'd array of reports (free with mo_pin_reports_free())
 * @n: how many
 * Return: 0; -EBADMSG for a document that is not one (bad JSON, a missing
 * or mistyped member); -EPROTONOSUPPORT for another version; -ENOMEM.
 */
int pins_json_read(const char *doc, struct mo_pin_report ***ret, size_t *n);
