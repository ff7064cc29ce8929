/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the blocked-page document (src/lib/pins-json.h) as
 * memoffctl reads it from memoffd (GetPins, a job's BlockedPages) with
 * src/shared/pins-json-read.c.
 *
 * The input is the document's text. Checks: a read either fails with
 * -EBADMSG, -EPROTONOSUPPORT or -ENOMEM, or gives reports whose PFN ranges
 * make sense; what they write reads back to reports that write the same
 * document (a fixed point after one round), so memoffctl prints through the
 * daemon what it prints in-process.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pins-json.h"
#include "pins-json-read.h"
#include "fuzz-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mo_pin_report **v = NULL, **v2 = NULL;
	size_t n = 0, n2 = 0;
	char *text, *t1 = NULL, *t2 = NULL;
	int r;

	text = fz_text(data, size);
	if (!text)
		return 0;

	r = pins_json_read(text, &v, &n);
	if (r < 0) {
		if (r != -EBADMSG && r != -EPROTONOSUPPORT && r != -ENOMEM)
			abort();
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i] || v[i]->n_pfns == 0)
			abort();
		for (size_t g = 0; g < v[i]->n_groups; g++)
			if (v[i]->groups[g].last_pfn < v[i]->groups[g].first_pfn)
				abort();
	}
	if (mo_pins_json_format(v, n, true, &t1) < 0)
		goto out;
	r = pins_json_read(t1, &v2, &n2);
	if (r < 0 || n2 != n)
		abort();
	if (mo_pins_json_format(v2, n2, true, &t2) < 0)
		goto out;
	if (strcmp(t1, t2) != 0)
		abort();
out:
	mo_pin_reports_free(v, n);
	mo_pin_reports_free(v2, n2);
	free(t1);
	free(t2);
	free(text);
	return 0;
}
