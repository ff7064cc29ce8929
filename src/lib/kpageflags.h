/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Names for the bits of /proc/kpageflags (Documentation/admin-guide/mm/pagemap.rst;
 * the kernel's include/uapi/linux/kernel-page-flags.h plus the kernel-internal
 * bits 32 and up that the file exposes as well), and a one-word account of
 * what a page in use is, for messages about pages that block an offline.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MO_KPF_LOCKED = 0,
	MO_KPF_ERROR = 1,
	MO_KPF_REFERENCED = 2,
	MO_KPF_UPTODATE = 3,
	MO_KPF_DIRTY = 4,
	MO_KPF_LRU = 5,
	MO_KPF_ACTIVE = 6,
	MO_KPF_SLAB = 7,
	MO_KPF_WRITEBACK = 8,
	MO_KPF_RECLAIM = 9,
	MO_KPF_BUDDY = 10,
	MO_KPF_MMAP = 11,
	MO_KPF_ANON = 12,
	MO_KPF_SWAPCACHE = 13,
	MO_KPF_SWAPBACKED = 14,
	MO_KPF_COMPOUND_HEAD = 15,
	MO_KPF_COMPOUND_TAIL = 16,
	MO_KPF_HUGE = 17,
	MO_KPF_UNEVICTABLE = 18,
	MO_KPF_HWPOISON = 19,
	MO_KPF_NOPAGE = 20,
	MO_KPF_KSM = 21,
	MO_KPF_THP = 22,
	MO_KPF_OFFLINE = 23,
	MO_KPF_ZERO_PAGE = 24,
	MO_KPF_IDLE = 25,
	MO_KPF_PGTABLE = 26,
	MO_KPF_RESERVED = 32,
	MO_KPF_MLOCKED = 33,
	MO_KPF_MAPPEDTODISK = 34,
	MO_KPF_PRIVATE = 35,
	MO_KPF_PRIVATE_2 = 36,
	MO_KPF_OWNER_PRIVATE = 37,
	MO_KPF_ARCH = 38,
	MO_KPF_UNCACHED = 39,
	MO_KPF_SOFTDIRTY = 40,
	MO_KPF_ARCH_2 = 41,
};

#define MO_KPF(bit) (UINT64_C(1) << (bit))

/*
 * The bits that say what a page is, as opposed to what happened to it lately
 * (referenced, active, dirty, idle, ... flip while a page sits blocked; lru
 * and mmap flip while an offline tries to migrate it: the page is isolated
 * from its LRU list and its mappings are replaced by migration entries, then
 * restored). Pages are grouped by these.
 */
#define MO_KPF_IDENTITY_MASK                                                                  \
	(MO_KPF(MO_KPF_SLAB) | MO_KPF(MO_KPF_BUDDY) | MO_KPF(MO_KPF_ANON) |                       \
	 MO_KPF(MO_KPF_SWAPCACHE) | MO_KPF(MO_KPF_SWAPBACKED) | MO_KPF(MO_KPF_HUGE) |              \
	 MO_KPF(MO_KPF_UNEVICTABLE) | MO_KPF(MO_KPF_HWPOISON) | MO_KPF(MO_KPF_NOPAGE) |            \
	 MO_KPF(MO_KPF_KSM) | MO_KPF(MO_KPF_THP) | MO_KPF(MO_KPF_OFFLINE) |                        \
	 MO_KPF(MO_KPF_ZERO_PAGE) | MO_KPF(MO_KPF_PGTABLE) | MO_KPF(MO_KPF_RESERVED) |             \
	 MO_KPF(MO_KPF_MLOCKED))

/**
 * mo_kpageflags_format() - "anon|lru|mmap|swapbacked" for a flags word.
 * @flags: a /proc/kpageflags word
 * @buf: receives the names, '|'-separated, lowercase as the kernel spells them
 * @size: size of @buf; the text is cut (ending in "...") when too small
 *
 * Return: the length written (without the NUL).
 */
size_t mo_kpageflags_format(uint64_t flags, char *buf, size_t size);

/**
 * mo_kpageflags_what() - what a page with these flags is, in a few words.
 *
 * "free", "hole", "slab", "page table", "reserved", "offline", "hugetlb",
 * "anonymous", "anonymous (THP)", "page cache", "swap cache", "KSM",
 * "hwpoison" or "kernel" (in use, none of the above: a driver or kernel
 * allocation, or a page only a kernel reference such as a pipe buffer keeps).
 */
const char *mo_kpageflags_what(uint64_t flags);

/**
 * mo_kpageflags_unmapped_why() - for a page in use that no process maps,
 * the likely holder: e.g. "pipe buffer or other kernel reference" for an
 * anonymous page, "page cache, not mapped" for a file page.
 */
const char *mo_kpageflags_unmapped_why(uint64_t flags);
