/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: /proc/iomem (iomem.h).
 *
 * The input is the file's text. It goes through both mo_iomem_parse() (on a
 * string) and mo_iomem_read() (on a tree holding it as proc/iomem); the two
 * must agree when the text has no NUL byte. Checks every managed range is
 * ordered, named "System RAM (...)", and found by mo_iomem_managed().
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-tree.h"
#include "iomem.h"
#include "fuzz-text.h"

static void check(const struct mo_iomem *io)
{
	for (size_t i = 0; i < io->n_managed; i++) {
		const struct mo_iomem_range *m = &io->managed[i];
		size_t n = strnlen(m->name, sizeof(m->name));

		if (n == sizeof(m->name) || m->start > m->end)
			abort();
		if (strncmp(m->name, "System RAM (", 12) != 0)
			abort();
		if (!mo_iomem_managed(io, m->start, m->end) || !mo_iomem_managed(io, m->end, m->end))
			abort();
	}
	if (io->n_managed == 0 && mo_iomem_managed(io, 0, UINT64_MAX))
		abort();
}

static bool same(const struct mo_iomem *a, const struct mo_iomem *b)
{
	if (a->n_managed != b->n_managed || a->addresses_hidden != b->addresses_hidden)
		return false;
	for (size_t i = 0; i < a->n_managed; i++)
		if (a->managed[i].start != b->managed[i].start || a->managed[i].end != b->managed[i].end ||
		    strcmp(a->managed[i].name, b->managed[i].name) != 0)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mo_iomem a, b;
	struct mo_root *root = NULL;
	char *text;
	int ra, rb;

	text = fz_text(data, size);
	if (!text)
		return 0;

	ra = mo_iomem_parse(text, &a);
	if (ra < 0 && ra != -ENOMEM)
		abort();
	if (ra == 0)
		check(&a);

	root = ft_root_with_file("proc/iomem", data, size);
	rb = mo_iomem_read(root, &b);
	if (rb < 0 && rb != -ENOMEM)
		abort();
	if (rb == 0) {
		check(&b);
		if (ra == 0 && !memchr(data, '\0', size) && !same(&a, &b))
			abort();
		mo_iomem_done(&b);
	}
	if (ra == 0)
		mo_iomem_done(&a);
	mo_root_free(root);
	free(text);
	return 0;
}
