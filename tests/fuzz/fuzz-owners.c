/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: page owners (owners.h) from a procfs tree written from
 * the input: /proc/PID/maps (text), pagemap (binary), comm and cgroup of a
 * few processes, and /proc/kpageflags, kpagecount, kpagecgroup.
 *
 * Input: NUL-separated fields. Binary fields (the PFNs asked about, 8 bytes
 * each; pagemap; the kpage* files) escape their bytes 0 and 1 as 1 1 and 1 2,
 * so that they can hold NULs. Fields: PFNs, kpageflags, kpagecount,
 * kpagecgroup, then up to MAX_PIDS processes of five fields: pid, maps,
 * pagemap, comm, cgroup. The first byte of the PFN field also sets the
 * options (max owners, exhaustive, one pid only).
 *
 * Checks: a documented result; every PFN asked about is in the answer once,
 * in ascending order, with no more owners than the limit and than were
 * found; each owner comes from a process of the tree, with a terminated
 * comm, a mapping name, an address inside one of its maps' ranges.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-tree.h"
#include "owners.h"

#define MAX_PIDS 3
#define MAX_PFNS 8

/* Undo the 1 1 / 1 2 escapes into a new buffer. */
static char *unescape(const char *f, size_t len, size_t *out_len)
{
	char *b = malloc(len + 1);
	size_t n = 0;

	if (!b)
		abort();
	for (size_t i = 0; i < len; i++) {
		if (f[i] == 1 && i + 1 < len) {
			b[n++] = f[i + 1] == 1 ? 0 : 1;
			i++;
		} else
			b[n++] = f[i];
	}
	*out_len = n;
	return b;
}

static void put_binary(const char *rel, const char *f, size_t len)
{
	size_t n;
	char *b = unescape(f, len, &n);

	ft_put_file(rel, b, n);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const kfiles[] = { "proc/kpageflags", "proc/kpagecount", "proc/kpagecgroup" };
	struct ft_input in = { data, size };
	struct mo_owners_opts opts = {};
	struct mo_owners *o = NULL;
	struct mo_root *root = NULL;
	uint64_t pfns[MAX_PFNS];
	pid_t pids[MAX_PIDS];
	size_t n_pfns = 0, n_pids = 0, len, blen;
	const char *f;
	char *b;
	int r;

	ft_reset();
	if (!ft_field(&in, &f, &len) || len < 1)
		return 0;
	b = unescape(f, len, &blen);
	opts.max_owners = (unsigned) (b[0] & 7);
	opts.exhaustive = b[0] & 8;
	for (size_t i = 1; i + 8 <= blen && n_pfns < MAX_PFNS; i += 8)
		memcpy(&pfns[n_pfns++], b + i, 8);
	free(b);
	for (size_t k = 0; k < 3 && ft_field(&in, &f, &len); k++)
		if (len > 0)
			put_binary(kfiles[k], f, len);
	for (int p = 0; p < MAX_PIDS && ft_field(&in, &f, &len); p++) {
		char dir[64], rel[96];
		long pid;
		char *e, num[16];

		if (len == 0 || len >= sizeof(num))
			break;
		memcpy(num, f, len);
		num[len] = '\0';
		pid = strtol(num, &e, 10);
		if (*e || pid < 1 || pid > 4194304)
			break;
		pids[n_pids++] = (pid_t) pid;
		snprintf(dir, sizeof(dir), "proc/%ld", pid);
		if (ft_field(&in, &f, &len)) {
			snprintf(rel, sizeof(rel), "%s/maps", dir);
			ft_put(rel, f, len);
		}
		if (ft_field(&in, &f, &len)) {
			snprintf(rel, sizeof(rel), "%s/pagemap", dir);
			put_binary(rel, f, len);
		}
		if (ft_field(&in, &f, &len)) {
			snprintf(rel, sizeof(rel), "%s/comm", dir);
			ft_put(rel, f, len);
		}
		if (ft_field(&in, &f, &len)) {
			snprintf(rel, sizeof(rel), "%s/cgroup", dir);
			ft_put(rel, f, len);
		}
	}
	if (n_pids > 0 && (data[0] & 16))
		opts.pid = pids[0];

	root = ft_root();
	r = mo_owners_resolve(root, pfns, n_pfns, &opts, &o);
	if (r < 0) {
		if (r != -EPERM && r != -ENOENT && r != -ENOMEM && r != -EINVAL)
			abort();
		goto out;
	}
	for (size_t i = 0; i < o->n; i++) {
		const struct mo_pfn_owners *p = &o->pfns[i];
		size_t limit = opts.max_owners ? opts.max_owners : 8;

		if (i > 0 && o->pfns[i - 1].pfn >= p->pfn)
			abort();
		if (p->n_owners > p->n_found || p->n_owners > limit)
			abort();
		if (mo_owners_find(o, p->pfn) != p)
			abort();
		for (size_t k = 0; k < p->n_owners; k++) {
			const struct mo_owner *w = &p->owners[k];
			bool known = false;

			for (size_t q = 0; q < n_pids; q++)
				known |= pids[q] == w->pid;
			if (!known || !w->mapping || strnlen(w->comm, sizeof(w->comm)) == sizeof(w->comm))
				abort();
			(void) mo_map_kind_to_string(w->kind);
		}
	}
	for (size_t i = 0; i < n_pfns; i++)
		if (!mo_owners_find(o, pfns[i]))
			abort();
out:
	mo_owners_free(o);
	mo_root_free(root);
	return 0;
}
