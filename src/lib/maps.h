/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * /proc/PID/maps: the mappings of a process, and what kind of memory each
 * one maps. Each line is
 *
 *     START-END PERMS OFFSET DEV INODE [PATHNAME]
 *
 * with START, END (exclusive) and OFFSET in hexadecimal (fs/proc/task_mmu.c,
 * show_map_vma()). owners.c looks the mappings up in /proc/PID/pagemap.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mo_map_kind {
	MO_MAP_ANON,    /* private anonymous memory */
	MO_MAP_HEAP,    /* [heap] */
	MO_MAP_STACK,   /* [stack] */
	MO_MAP_FILE,    /* a mapped file */
	MO_MAP_SHMEM,   /* System V shm, memfd, /dev/shm, shared anonymous (/dev/zero) */
	MO_MAP_OTHER,   /* [vdso], named anonymous memory ([anon:...]), devices */
};

/** mo_map_kind_to_string() - "anon", "heap", "stack", "file", "shmem", "other". */
const char *mo_map_kind_to_string(enum mo_map_kind k);

/**
 * mo_owners_classify_mapping() - the kind of a /proc/PID/maps pathname.
 * @path: the pathname column, "" for anonymous memory
 * @shared: the mapping's permissions say 's'
 */
enum mo_map_kind mo_owners_classify_mapping(const char *path, bool shared);

/* One line of /proc/PID/maps that can hold pages. */
struct mo_mapping {
	uint64_t start, end;   /* virtual addresses, @end exclusive */
	uint64_t offset;       /* of @start in the mapped object */
	const char *path;      /* the pathname column ("" for none), into the parsed text */
	bool shared;           /* 's' in the permissions */
};

/**
 * mo_maps_parse() - the mappings of a maps text.
 * @text: the file's text, NUL-terminated; cut into lines in place, and the
 *        mappings' paths point into it (keep it while they are used)
 * @ret:  a new array, to be freed
 * @ret_n: its length
 *
 * Left out: malformed lines, mappings with no access at all ("---p",
 * address-space reservations that can span terabytes) and kernel addresses
 * ([vsyscall]: not in pagemap).
 *
 * Return: 0, or -ENOMEM.
 */
int mo_maps_parse(char *text, struct mo_mapping **ret, size_t *ret_n);

/** mo_mapping_anon_only() - the mapping maps no file: only anonymous pages (and the zero page). */
static inline bool mo_mapping_anon_only(const struct mo_mapping *m)
{
	return !m->shared && (!*m->path || m->path[0] == '[');
}
