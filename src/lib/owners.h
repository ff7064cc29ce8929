/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Owners of physical pages: which processes map a set of PFNs, where, and
 * through what.
 *
 * For every /proc/PID (through the root's proc dir) the mapped ranges of
 * /proc/PID/maps are looked up in /proc/PID/pagemap, in bulk reads of 8 bytes
 * a page (bit 63 present, bits 0-54 the PFN, bit 61 file page or shared
 * anonymous, bit 56 exclusively mapped). Matching is a range check and a
 * bitmap (or a binary search when the PFNs are spread far apart).
 *
 * Several processes can map one page (page cache, shared memory, fork).
 * Owners are reported up to a limit per PFN (default 8; n_found says how many
 * were seen). The scan stops early when every PFN has all its owners: the
 * page's mapcount from /proc/kpagecount says how many mappings there are
 * (when that file is unreadable, one owner is enough). A PFN that
 * kpagecount says nobody maps is not searched for at all: it is reported as
 * unmapped, with its kpageflags (a pipe buffer after vmsplice, page cache,
 * a kernel allocation).
 *
 * pagemap shows PFNs only to CAP_SYS_ADMIN; without it every PFN reads as 0
 * and mo_owners_resolve() fails with -EPERM, so that callers can say "owners
 * need CAP_SYS_ADMIN" instead of "no owner".
 *
 * The scan scales with the pages looked for, not with the host:
 *  - processes in the memory cgroups the pages are charged to
 *    (/proc/kpagecgroup against the inode of each process's cgroup directory,
 *    or an ancestor's, in the memory controller's hierarchy under
 *    <sysroot>/sys/fs/cgroup) are read first, the others only while a page
 *    still lacks an owner (a page cache page another cgroup faulted in, a
 *    process that changed cgroups);
 *  - mappings that cannot hold the kinds of page looked for are not read
 *    (anonymous pages are never in a shared mapping, page cache pages never
 *    in a private anonymous one);
 *  - on Linux 6.7 and later the PAGEMAP_SCAN ioctl finds a mapping's present
 *    pages, and only their pagemap words are read; before, every page's.
 *
 * Kernel threads (no maps) and processes that exit during the scan are
 * skipped. Mappings with no access at all ("---p", address-space
 * reservations that can span terabytes) are not scanned.
 *
 * Every read of a process's files (maps, pagemap, comm, cgroup) can wait for
 * that process (its mmap_lock): each is bounded (bounded.h), on one helper
 * thread for the whole scan, and a process that is stuck is skipped after
 * the bound, keeping the owners found in it so far. The walk over pagemap is
 * pagemap.h's, a bounded step at a time; between steps the scan matches the
 * hits and stops as soon as every PFN has its owners.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "maps.h"
#include "root.h"

struct mo_owner {
	pid_t pid;
	char comm[17];
	uint64_t vaddr;          /* the page's virtual address in that process */
	enum mo_map_kind kind;
	char *mapping;           /* the maps pathname ("/usr/lib/libc.so.6", "[heap]",
				  * "/memfd:foo (deleted)"), or "[anon]" */
	uint64_t file_offset;    /* offset of the page in the mapped object (file, shmem) */
	bool exclusive;          /* pagemap: mapped by this process only */
	bool file_shared;        /* pagemap: a file page or shared anonymous */
	char *cgroup;            /* the process's cgroup ("/system.slice/x.service"), or NULL */
};

struct mo_pfn_owners {
	uint64_t pfn;
	uint64_t kpageflags;
	bool have_kpageflags;
	uint64_t mapcount;       /* /proc/kpagecount: how many page-table mappings */
	bool have_mapcount;
	uint64_t memcg_ino;      /* /proc/kpagecgroup: inode of the page's memory cgroup */
	bool have_memcg;
	size_t n_found;          /* owners seen (may exceed n_owners: the limit) */
	size_t n_owners;
	struct mo_owner *owners;
};

struct mo_owners {
	size_t n;                /* distinct PFNs asked about */
	struct mo_pfn_owners *pfns; /* sorted by pfn */
	unsigned procs_scanned;  /* processes whose pagemap was read */
	unsigned procs_skipped;  /* vanished, not accessible, or stuck (bounded.h) */
	unsigned procs_deferred; /* in other memory cgroups than the pages: set aside, read only while a
				  * page still lacked an owner after the others */
	bool stopped_early;      /* every PFN had all its owners before the last process */
};

struct mo_owners_opts {
	unsigned max_owners;     /* per PFN; 0 means 8 */
	pid_t pid;               /* only this process; 0 means every process */
	bool exhaustive;         /* scan every process, never stop early */
	const volatile sig_atomic_t *cancel; /* borrowed, or NULL: once set, the scan stops at once
					      * (a stuck read of a process's files is abandoned) and
					      * mo_owners_resolve() returns -ECANCELED */
};

/**
 * mo_owners_resolve() - find the processes that map @pfns.
 * @root: proc/ of this root is scanned
 * @pfns: the PFNs, any order, duplicates allowed
 * @n_pfns: how many
 * @opts: options, or NULL for the defaults
 * @ret: the result, freed with mo_owners_free()
 *
 * Return: 0 (PFNs with no owner have n_found == 0), -EPERM when pagemap hides
 * PFNs (no CAP_SYS_ADMIN) or no process could be read, -ENOENT without proc/,
 * -ECANCELED when @opts' cancel flag was set, -ENOMEM.
 */
int mo_owners_resolve(const struct mo_root *root, const uint64_t *pfns, size_t n_pfns,
		      const struct mo_owners_opts *opts, struct mo_owners **ret);
void mo_owners_free(struct mo_owners *o);
static inline void mo_owners_freep(struct mo_owners **o) { mo_owners_free(*o); }

/** mo_owners_find() - the entry of @pfn, or NULL when it was not asked about. */
const struct mo_pfn_owners *mo_owners_find(const struct mo_owners *o, uint64_t pfn);
