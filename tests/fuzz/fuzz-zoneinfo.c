/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: /proc/zoneinfo (zoneinfo.h) and the block ranges a size
 * request looks in (mo_select_zone_ranges(), select.h).
 *
 * The input is the file's text. It goes through mo_zoneinfo_parse() (on a
 * string) and mo_zoneinfo_read() (on a tree holding it as proc/zoneinfo);
 * the two must agree when the text has no NUL byte. The ranges of every zone
 * name it holds must be sorted, disjoint, and no larger than a machine.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-tree.h"
#include "select.h"
#include "zoneinfo.h"
#include "fuzz-text.h"

static void check_ranges(const struct mo_zone_span *z, size_t n)
{
	static const char *const zones[] = { "Movable", "Normal", "DMA32" };
	struct mo_select_options o = { .action = MO_ACTION_OFFLINE, .node = -1, .zones = zones, .n_zones = 3 };
	struct mo_block_range *r = NULL;
	size_t nr = 0;

	for (size_t i = 0; i < n; i++)
		if (strnlen(z[i].zone, sizeof(z[i].zone)) == sizeof(z[i].zone))
			abort();
	if (mo_select_zone_ranges(z, n, UINT64_C(128) << 20, &o, &r, &nr) < 0)
		return;
	for (size_t i = 0; i < nr; i++) {
		if (r[i].first > r[i].last || r[i].last - r[i].first >= (UINT64_C(1) << 24) * 3)
			abort();
		if (i > 0 && r[i].first <= r[i - 1].last + 1)
			abort();
	}
	free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mo_zone_span *a = NULL, *b = NULL;
	size_t na = 0, nb = 0;
	struct mo_root *root = NULL;
	char *text;
	int ra, rb;

	text = fz_text(data, size);
	if (!text)
		return 0;

	ra = mo_zoneinfo_parse(text, &a, &na);
	if (ra < 0 && ra != -ENOMEM && ra != -EBADMSG)
		abort();
	if (ra == 0)
		check_ranges(a, na);

	root = ft_root_with_file("proc/zoneinfo", data, size);
	rb = mo_zoneinfo_read(root, &b, &nb);
	if (rb < 0 && rb != -ENOMEM && rb != -EBADMSG)
		abort();
	if (rb == 0 && ra == 0 && !memchr(data, '\0', size)) {
		if (na != nb)
			abort();
		for (size_t i = 0; i < na; i++)
			if (a[i].node != b[i].node || strcmp(a[i].zone, b[i].zone) != 0 ||
			    a[i].start_pfn != b[i].start_pfn || a[i].spanned != b[i].spanned)
				abort();
	}
	mo_root_free(root);
	free(a);
	free(b);
	free(text);
	return 0;
}
