/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /proc/iomem: find the driver-managed System RAM that memoff leaves alone.
 *
 * Each line is "START-END : NAME" in hex, inclusive, indented by two spaces
 * per nesting level:
 *
 *     100000000-13fffffff : System RAM
 *     140000000-17fffffff : System RAM (virtio_mem)
 *     180000000-37fffffff : Soft Reserved
 *       180000000-37fffffff : dax0.0
 *         180000000-37fffffff : System RAM (kmem)
 *
 * Memory added with add_memory_driver_managed() is named "System RAM
 * ($DRIVER)" (the kernel insists on that form): virtio_mem, kmem (dax), and
 * whatever comes next. Such ranges are collected at any nesting depth;
 * adjacent ranges of the same driver are merged (virtio-mem adds one
 * resource per memory block).
 *
 * Without CAP_SYS_ADMIN the kernel prints every address as zero. The names
 * are still collected, and mo_iomem_managed() then answers conservatively:
 * any range may be driver-managed when some driver-managed memory exists.
 */
#include "config.h"


#include "iomem.h"
#include "parse.h"
#include "util.h"

#define PROC_IOMEM "iomem"
/* far more than any machine's (a line per resource, ~50 bytes each) */
#define IOMEM_MAX (16 * 1024 * 1024)
#define SYSRAM_DRIVER_PREFIX "System RAM ("

struct parse_state {
	bool any;        /* at least one well-formed line */
	bool nonzero;    /* some line had a nonzero address */
	size_t cap;
};

static bool driver_managed(const char *name, size_t len)
{
	size_t plen = strlen(SYSRAM_DRIVER_PREFIX);

	/* "System RAM (" + at least one character + ")" */
	return len > plen + 1 && strneq(name, SYSRAM_DRIVER_PREFIX, plen) && name[len - 1] == ')';
}

static int add_managed(struct mo_iomem *io, struct parse_state *st, uint64_t start, uint64_t end,
		       const char *name, size_t len)
{
	struct mo_iomem_range *last = io->n_managed ? &io->managed[io->n_managed - 1] : NULL;
	size_t n = len < sizeof(last->name) - 1 ? len : sizeof(last->name) - 1;

	if (last && last->end != UINT64_MAX && last->end + 1 == start && strlen(last->name) == n &&
	    strneq(last->name, name, n)) {
		last->end = end;
		return 0;
	}
	if (MO_GROW(io->managed, io->n_managed, st->cap, 8) < 0)
		return -ENOMEM;
	last = &io->managed[io->n_managed++];
	last->start = start; /* NOLINT(clang-analyzer-core.NullDereference): cap > 0 means managed != NULL */
	last->end = end;
	memcpy(last->name, name, n);
	last->name[n] = '\0';
	/* the driver: between "System RAM (" and the last ')', cut to fit */
	n = len - strlen(SYSRAM_DRIVER_PREFIX) - 1;
	if (n > sizeof(last->driver) - 1)
		n = sizeof(last->driver) - 1;
	memcpy(last->driver, name + strlen(SYSRAM_DRIVER_PREFIX), n);
	last->driver[n] = '\0';
	return 0;
}

/* One line (without its newline, @len bytes). Malformed lines are skipped. */
static int parse_line(const char *line, size_t len, struct mo_iomem *io, struct parse_state *st)
{
	const char *p = line, *e = line + len, *name;
	uint64_t start, end;

	while (p < e && *p == ' ')
		p++;
	if (mo_parse_u64_span(p, e, 16, &start, &p) < 0 || p >= e || *p != '-')
		return 0;
	p++;
	if (mo_parse_u64_span(p, e, 16, &end, &p) < 0 || end < start)
		return 0;
	if (e - p < 3 || !strneq(p, " : ", 3))
		return 0;
	name = p + 3;
	while (e > name && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;

	st->any = true;
	if (start != 0 || end != 0)
		st->nonzero = true;
	if (!driver_managed(name, (size_t) (e - name)))
		return 0;
	return add_managed(io, st, start, end, name, (size_t) (e - name));
}

static void finish(struct mo_iomem *io, const struct parse_state *st)
{
	io->addresses_hidden = st->any && !st->nonzero;
}

int mo_iomem_parse(const char *text, struct mo_iomem *out)
{
	struct parse_state st = {};
	const char *p = text;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -EINVAL;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t) (nl - p) : strlen(p);
		int r = parse_line(p, len, out, &st);

		if (r < 0) {
			mo_iomem_done(out);
			return r;
		}
		p += len + (nl ? 1 : 0);
	}
	finish(out, &st);
	return 0;
}

int mo_iomem_read(const struct mo_root *root, struct mo_iomem *out)
{
	_cleanup_free_ char *text = NULL;
	int r;

	memset(out, 0, sizeof(*out));
	r = mo_root_read_all(root, true, PROC_IOMEM, IOMEM_MAX, &text, NULL);
	if (r < 0)
		return r;
	return mo_iomem_parse(text, out);
}

void mo_iomem_done(struct mo_iomem *io)
{
	if (!io)
		return;
	free(io->managed);
	io->managed = NULL;
	io->n_managed = 0;
	io->addresses_hidden = false;
}

const struct mo_iomem_range *mo_iomem_managed(const struct mo_iomem *io, uint64_t start, uint64_t end)
{
	if (io->n_managed == 0)
		return NULL;
	if (io->addresses_hidden)
		return &io->managed[0];
	for (size_t i = 0; i < io->n_managed; i++)
		if (io->managed[i].start <= end && start <= io->managed[i].end)
			return &io->managed[i];
	return NULL;
}
