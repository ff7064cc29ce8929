/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The OOM headroom guard.
 *
 * What offlining B bytes does to memory: the B bytes leave the system. The
 * pages of the block that were free vanish with it; the pages that were in
 * use are migrated and take free pages elsewhere. Whatever the mix, the
 * system's free (and available) memory drops by B. Hence the system rule:
 *
 *     MemAvailable - B >= reserve
 *
 * MemAvailable is the kernel's own estimate of what can be allocated without
 * swapping (free + reclaimable page cache and slab, minus watermarks), the
 * right quantity to protect; a reserve keeps the kernel out of the OOM
 * killer, which it would otherwise reach without any check of its own.
 *
 * Per node: offline_pages() migrates to *other* nodes first (do_migrate_range
 * clears the page's node from the target mask unless it is the only node
 * with memory), so the block's node loses the block's free pages, and on a
 * single-node machine the used ones land there too. Either way the node's
 * free memory drops by at most B, so the node rule is:
 *
 *     node_free - B >= reserve * node_total / mem_total
 *
 * (the node's proportional share of the reserve). node_free is estimated from
 * nodeN/meminfo as MemFree + Inactive(file) + SReclaimable / 2: free pages,
 * cold page cache, and half of the reclaimable slab (dentries and inodes in
 * use cannot be freed). Active(file) is left out: it is the working set. The
 * migrated pages that go to other nodes are covered by the system rule. The
 * node rule is skipped when only one node has memory (the system rule is the
 * whole story there) or the node is unknown.
 *
 * libnuma is not used: numa_node_size64() reads the same nodeN/meminfo
 * (MemFree only, no reclaimable part) and cannot be pointed at a fixture
 * root.
 */
#include "config.h"

#include <dirent.h>
#include <stddef.h>

#include "headroom.h"
#include "parse.h"
#include "util.h"

#define PROC_MEMINFO "meminfo"
#define SYSFS_NODE "devices/system/node"
/* a meminfo file is about 1.5 KiB */
#define MEMINFO_MAX (1024 * 1024)

/* The meminfo fields we use, in bytes; UINT64_MAX when absent. */
struct meminfo {
	uint64_t total, free, available, inactive_file, sreclaimable;
};

/*
 * Parse one "Key:   123 kB" line (after any "Node N " prefix) into @mi.
 * Lines that are not of that shape are ignored.
 */
static void meminfo_line(const char *line, struct meminfo *mi)
{
	static const struct {
		const char *key;
		size_t off;
	} keys[] = {
		{ "MemTotal", offsetof(struct meminfo, total) },
		{ "MemFree", offsetof(struct meminfo, free) },
		{ "MemAvailable", offsetof(struct meminfo, available) },
		{ "Inactive(file)", offsetof(struct meminfo, inactive_file) },
		{ "SReclaimable", offsetof(struct meminfo, sreclaimable) },
	};
	const char *colon = strchr(line, ':'), *end;
	uint64_t v;
	size_t klen;

	if (!colon)
		return;
	klen = (size_t) (colon - line);
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (strlen(keys[i].key) != klen || !strneq(line, keys[i].key, klen))
			continue;
		if (mo_parse_u64_span(skip_blanks(colon + 1), NULL, 10, &v, &end) < 0)
			return;
		if (startswith(skip_blanks(end), "kB")) {
			if (v > UINT64_MAX / KIB)
				return;
			v *= KIB;
		}
		*(uint64_t *) ((char *) mi + keys[i].off) = v;
		return;
	}
}

/* Read a meminfo file, skipping a "Node N " prefix on each line. */
static int meminfo_read(const struct mo_root *root, bool proc, const char *rel, struct meminfo *mi)
{
	_cleanup_free_ char *text = NULL;
	int r;

	memset(mi, 0xff, sizeof(*mi));
	r = mo_root_read_all(root, proc, rel, MEMINFO_MAX, &text, NULL);
	if (r < 0)
		return r;
	for (char *line = text, *eol; line && *line; line = eol ? eol + 1 : NULL) {
		const char *p = line;

		eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		if (startswith(p, "Node ")) {
			p += 5;
			p += strspn(p, "0123456789");
			p += strspn(p, " ");
		}
		meminfo_line(p, mi);
	}
	return 0;
}

static uint64_t orzero(uint64_t v)
{
	return v == UINT64_MAX ? 0 : v;
}

/* MemFree + Inactive(file) + SReclaimable / 2, saturating. */
static uint64_t free_estimate(const struct meminfo *mi)
{
	uint64_t a = orzero(mi->free), b = orzero(mi->inactive_file), c = orzero(mi->sreclaimable) / 2;
	uint64_t s = a + b;

	if (s < a)
		return UINT64_MAX;
	return s + c < s ? UINT64_MAX : s + c;
}

static int parse_node_name(const char *name)
{
	unsigned n;

	if (!startswith(name, "node") || mo_parse_unsigned(name + 4, MO_MAX_NODES - 1, &n) < 0)
		return -1;
	return (int) n;
}

int mo_headroom_read(const struct mo_root *root, struct mo_headroom *out)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct meminfo mi;
	struct dirent *de;
	int r;

	memset(out, 0, sizeof(*out));
	r = meminfo_read(root, true, PROC_MEMINFO, &mi);
	if (r < 0)
		return r;
	if (mi.total == UINT64_MAX)
		return -EBADMSG;
	out->mem_total = mi.total;
	out->mem_available = mi.available != UINT64_MAX ? mi.available : free_estimate(&mi);

	if (mo_root_opendir(root, false, SYSFS_NODE, &d) < 0)
		return 0; /* no NUMA information: system rule only */
	while ((de = readdir(d))) {
		char rel[64];
		int n = parse_node_name(de->d_name);

		if (n < 0)
			continue;
		snprintf(rel, sizeof(rel), SYSFS_NODE "/node%d/meminfo", n);
		if (meminfo_read(root, false, rel, &mi) < 0)
			continue; /* node vanished or no meminfo: unknown */
		if (mi.total == UINT64_MAX || mi.total == 0)
			continue;
		out->node_total[n] = mi.total;
		out->node_free[n] = free_estimate(&mi);
		if (n + 1 > out->n_nodes)
			out->n_nodes = n + 1;
	}
	return 0;
}

uint64_t mo_headroom_default_reserve(uint64_t mem_total)
{
	uint64_t pct = mem_total / 20;

	return pct > 256 * MIB ? pct : 256 * MIB;
}

static int nodes_with_memory(const struct mo_headroom *h)
{
	int k = 0;

	for (int i = 0; i < h->n_nodes && i < MO_MAX_NODES; i++)
		if (h->node_total[i] > 0)
			k++;
	return k;
}

int mo_headroom_check(const struct mo_headroom *h, int node, uint64_t block_bytes, uint64_t reserve, const char **why)
{
	uint64_t node_reserve;

	if (h->mem_available < block_bytes || h->mem_available - block_bytes < reserve) {
		if (why)
			*why = "available memory minus the block would fall below the reserve";
		return -ENOSPC;
	}
	if (node < 0 || node >= h->n_nodes || node >= MO_MAX_NODES || h->node_total[node] == 0 ||
	    nodes_with_memory(h) < 2)
		return 0;

	if (h->mem_total == 0 || h->node_total[node] >= h->mem_total)
		node_reserve = reserve;
	else
		node_reserve = (uint64_t) (((unsigned __int128) reserve * h->node_total[node] + h->mem_total - 1) /
					   h->mem_total);
	if (h->node_free[node] < block_bytes || h->node_free[node] - block_bytes < node_reserve) {
		if (why)
			*why = "the node's free memory minus the block would fall below its share of the reserve";
		return -ENOSPC;
	}
	return 0;
}

static void sub_floor(uint64_t *v, uint64_t d)
{
	*v = *v > d ? *v - d : 0;
}

void mo_headroom_account(struct mo_headroom *h, int node, uint64_t block_bytes)
{
	sub_floor(&h->mem_total, block_bytes);
	sub_floor(&h->mem_available, block_bytes);
	if (node < 0 || node >= h->n_nodes || node >= MO_MAX_NODES || h->node_total[node] == 0)
		return;
	sub_floor(&h->node_total[node], block_bytes);
	sub_floor(&h->node_free[node], block_bytes);
}
