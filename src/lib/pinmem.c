/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>

#include "parse.h"
#include "pinmem.h"
#include "statefile.h"
#include "util.h"

#define HEADER "# memoff pinned pages v1\n# BLOCK FIRST_SEEN LAST_SEEN [PFN...]\n"
/* A file bigger than this is not ours. */
#define FILE_MAX (16 * 1024 * 1024)

int mo_pinmem_new(struct mo_pinmem **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

void mo_pinmem_free(struct mo_pinmem *m)
{
	if (!m)
		return;
	free(m->blocks);
	free(m);
}

static size_t lower_bound(const struct mo_pinmem *m, uint64_t block)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->blocks[mid].block < block)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct mo_pinmem_block *mo_pinmem_find(const struct mo_pinmem *m, uint64_t block)
{
	size_t i;

	if (!m)
		return NULL;
	i = lower_bound(m, block);
	return i < m->n && m->blocks[i].block == block ? &m->blocks[i] : NULL;
}

static struct mo_pinmem_block *get(struct mo_pinmem *m, uint64_t block, uint64_t now)
{
	size_t i = lower_bound(m, block);
	struct mo_pinmem_block *nb;

	if (i < m->n && m->blocks[i].block == block)
		return &m->blocks[i];
	nb = realloc(m->blocks, (m->n + 1) * sizeof(*nb));
	if (!nb)
		return NULL;
	m->blocks = nb;
	memmove(&m->blocks[i + 1], &m->blocks[i], (m->n - i) * sizeof(*nb));
	m->blocks[i] = (struct mo_pinmem_block) { .block = block, .first_seen = now, .last_seen = now };
	m->n++;
	return &m->blocks[i];
}

static void add_pfn(struct mo_pinmem_block *b, uint64_t pfn)
{
	unsigned i = 0;

	while (i < b->n_pfns && b->pfns[i] < pfn)
		i++;
	if (i < b->n_pfns && b->pfns[i] == pfn)
		return;
	if (b->n_pfns == MO_PINMEM_PFNS_MAX) {
		if (i == MO_PINMEM_PFNS_MAX)
			return;   /* keep the lowest */
		b->n_pfns--;
	}
	memmove(&b->pfns[i + 1], &b->pfns[i], (b->n_pfns - i) * sizeof(b->pfns[0]));
	b->pfns[i] = pfn;
	b->n_pfns++;
}

int mo_pinmem_note(struct mo_pinmem *m, uint64_t block, const uint64_t *pfns, size_t n, uint64_t now)
{
	struct mo_pinmem_block *b = get(m, block, now);

	if (!b)
		return -ENOMEM;
	if (now > b->last_seen)
		b->last_seen = now;
	if (now < b->first_seen)
		b->first_seen = now;
	for (size_t i = 0; i < n; i++)
		add_pfn(b, pfns[i]);
	m->dirty = true;
	return 0;
}

bool mo_pinmem_forget(struct mo_pinmem *m, uint64_t block)
{
	size_t i;

	if (!m)
		return false;
	i = lower_bound(m, block);
	if (i >= m->n || m->blocks[i].block != block)
		return false;
	memmove(&m->blocks[i], &m->blocks[i + 1], (m->n - i - 1) * sizeof(m->blocks[0]));
	m->n--;
	m->dirty = true;
	return true;
}

/* One line, modified in place. Return: 1 added, 0 blank or comment, -EINVAL unreadable, -ENOMEM. */
static int parse_line(struct mo_pinmem *m, char *line)
{
	uint64_t v[3], pfns[MO_PINMEM_PFNS_MAX];
	size_t n = 0, k = 0;
	char *save = NULL, *tok;
	struct mo_pinmem_block *b;

	line += strspn(line, " \t");
	if (!*line || *line == '#')
		return 0;
	for (tok = strtok_r(line, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (k < 3) {
			if (mo_parse_u64_span(tok, NULL, 10, &v[k++], NULL) < 0)
				return -EINVAL;
			continue;
		}
		if (strncmp(tok, "0x", 2) != 0 || mo_parse_u64_span(tok + 2, NULL, 16, &pfns[n], NULL) < 0)
			return -EINVAL;
		if (++n == MO_PINMEM_PFNS_MAX)
			break;
	}
	if (k < 3 || v[1] > v[2])
		return -EINVAL;
	b = get(m, v[0], v[1]);
	if (!b)
		return -ENOMEM;
	b->first_seen = v[1] < b->first_seen ? v[1] : b->first_seen;
	b->last_seen = v[2] > b->last_seen ? v[2] : b->last_seen;
	for (size_t i = 0; i < n; i++)
		add_pfn(b, pfns[i]);
	return 1;
}

int mo_pinmem_parse(struct mo_pinmem *m, const char *text)
{
	_cleanup_free_ char *copy = strdup(text);
	char *save = NULL;
	int skipped = 0;

	if (!copy)
		return -ENOMEM;
	for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int r = parse_line(m, line);

		if (r == -ENOMEM)
			return r;
		if (r < 0)
			skipped++;
	}
	return skipped;
}

int mo_pinmem_format(const struct mo_pinmem *m, char **ret)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	if (!f)
		return -ENOMEM;
	fputs(HEADER, f);
	for (size_t i = 0; i < m->n; i++) {
		const struct mo_pinmem_block *b = &m->blocks[i];

		fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64, b->block, b->first_seen, b->last_seen);
		for (unsigned k = 0; k < b->n_pfns; k++)
			fprintf(f, " 0x%" PRIx64, b->pfns[k]);
		fputc('\n', f);
	}
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

int mo_pinmem_load(struct mo_pinmem *m, const char *path)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = mo_statefile_read_max(path, FILE_MAX, &buf, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	return mo_pinmem_parse(m, buf);
}

int mo_pinmem_save(struct mo_pinmem *m, const char *path)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = mo_pinmem_format(m, &text);
	if (r < 0)
		return r;
	/* PFNs are for root only, as /proc/PID/pagemap keeps them */
	r = mo_statefile_write(path, text, 0600, FILE_MAX);
	if (r < 0)
		return r;
	m->dirty = false;
	return 0;
}
