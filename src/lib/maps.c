/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /proc/PID/maps (maps.h). */
#include "config.h"

#include "maps.h"
#include "parse.h"
#include "util.h"

const char *mo_map_kind_to_string(enum mo_map_kind k)
{
	switch (k) {
	case MO_MAP_ANON:
		return "anon";
	case MO_MAP_HEAP:
		return "heap";
	case MO_MAP_STACK:
		return "stack";
	case MO_MAP_FILE:
		return "file";
	case MO_MAP_SHMEM:
		return "shmem";
	case MO_MAP_OTHER:
		return "other";
	}
	return "other";
}

enum mo_map_kind mo_owners_classify_mapping(const char *path, bool shared)
{
	if (!path || !*path)
		return shared ? MO_MAP_SHMEM : MO_MAP_ANON;
	if (streq(path, "[heap]"))
		return MO_MAP_HEAP;
	if (startswith(path, "[stack"))
		return MO_MAP_STACK;
	if (startswith(path, "/SYSV") || startswith(path, "/memfd:") || startswith(path, "/dev/shm/") ||
	    startswith(path, "/dev/zero") || startswith(path, "[anon_shmem:"))
		return MO_MAP_SHMEM;
	if (path[0] == '[')
		return MO_MAP_OTHER;
	if (startswith(path, "/dev/"))
		return MO_MAP_OTHER;
	return MO_MAP_FILE;
}

int mo_maps_parse(char *text, struct mo_mapping **ret, size_t *ret_n)
{
	_cleanup_free_ struct mo_mapping *v = NULL;
	size_t n = 0, cap = 0;
	char *line = text;

	while (line && *line) {
		char *eol = strchr(line, '\n');
		const char *p, *e;
		struct mo_mapping m = {};

		if (eol)
			*eol = '\0';
		/* start-end perms offset dev inode [path] */
		if (mo_parse_u64_span(line, NULL, 16, &m.start, &e) < 0 || *e != '-')
			goto next;
		if (mo_parse_u64_span(e + 1, NULL, 16, &m.end, &e) < 0 || *e != ' ' || m.end <= m.start)
			goto next;
		p = e + 1;
		if (strlen(p) < 5 || p[4] != ' ')
			goto next;
		m.shared = p[3] == 's';
		/* no access at all: a reservation, not scanned */
		if (p[0] == '-' && p[1] == '-' && p[2] == '-')
			goto next;
		p += 5;
		if (mo_parse_u64_span(p, NULL, 16, &m.offset, &e) < 0 || *e != ' ')
			goto next;
		p = e + 1;
		p = strchr(p, ' '); /* dev */
		if (!p)
			goto next;
		p++;
		while (*p && *p != ' ')
			p++; /* inode */
		while (*p == ' ')
			p++;
		m.path = p;
		/* kernel addresses ([vsyscall]) are not in pagemap */
		if (m.start >= (UINT64_C(1) << 63))
			goto next;
		if (n == cap) {
			struct mo_mapping *nv;

			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				return -ENOMEM;
			v = nv;
		}
		v[n++] = m;
next:
		line = eol ? eol + 1 : NULL;
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

