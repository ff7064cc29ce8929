/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "kpageflags.h"
#include "util.h"

static const char *const names[64] = {
	[MO_KPF_LOCKED] = "locked",
	[MO_KPF_ERROR] = "error",
	[MO_KPF_REFERENCED] = "referenced",
	[MO_KPF_UPTODATE] = "uptodate",
	[MO_KPF_DIRTY] = "dirty",
	[MO_KPF_LRU] = "lru",
	[MO_KPF_ACTIVE] = "active",
	[MO_KPF_SLAB] = "slab",
	[MO_KPF_WRITEBACK] = "writeback",
	[MO_KPF_RECLAIM] = "reclaim",
	[MO_KPF_BUDDY] = "buddy",
	[MO_KPF_MMAP] = "mmap",
	[MO_KPF_ANON] = "anon",
	[MO_KPF_SWAPCACHE] = "swapcache",
	[MO_KPF_SWAPBACKED] = "swapbacked",
	[MO_KPF_COMPOUND_HEAD] = "compound_head",
	[MO_KPF_COMPOUND_TAIL] = "compound_tail",
	[MO_KPF_HUGE] = "huge",
	[MO_KPF_UNEVICTABLE] = "unevictable",
	[MO_KPF_HWPOISON] = "hwpoison",
	[MO_KPF_NOPAGE] = "nopage",
	[MO_KPF_KSM] = "ksm",
	[MO_KPF_THP] = "thp",
	[MO_KPF_OFFLINE] = "offline",
	[MO_KPF_ZERO_PAGE] = "zero_page",
	[MO_KPF_IDLE] = "idle",
	[MO_KPF_PGTABLE] = "pgtable",
	[MO_KPF_RESERVED] = "reserved",
	[MO_KPF_MLOCKED] = "mlocked",
	[MO_KPF_MAPPEDTODISK] = "mappedtodisk",
	[MO_KPF_PRIVATE] = "private",
	[MO_KPF_PRIVATE_2] = "private_2",
	[MO_KPF_OWNER_PRIVATE] = "owner_private",
	[MO_KPF_ARCH] = "arch",
	[MO_KPF_UNCACHED] = "uncached",
	[MO_KPF_SOFTDIRTY] = "softdirty",
	[MO_KPF_ARCH_2] = "arch_2",
};

size_t mo_kpageflags_format(uint64_t flags, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return 0;
	buf[0] = '\0';
	for (unsigned bit = 0; bit < 64; bit++) {
		char unknown[16];
		const char *n;
		size_t nlen;

		if (!(flags & MO_KPF(bit)))
			continue;
		n = names[bit];
		if (!n) {
			snprintf(unknown, sizeof(unknown), "bit%u", bit);
			n = unknown;
		}
		nlen = strlen(n) + (len ? 1 : 0);
		if (len + nlen + 1 > size) {
			/* does not fit: end in "..." when there is room for it */
			if (size >= 4) {
				size_t at = len + 4 > size ? size - 4 : len;

				memcpy(buf + at, "...", 4);
				return at + 3;
			}
			return len;
		}
		if (len)
			buf[len++] = '|';
		strcpy(buf + len, n);
		len += strlen(n);
	}
	return len;
}

const char *mo_kpageflags_what(uint64_t flags)
{
#define F(b) (flags & MO_KPF(MO_KPF_##b))
	if (F(NOPAGE))
		return "hole";
	if (F(HWPOISON))
		return "hwpoison";
	if (F(BUDDY))
		return "free";
	if (F(OFFLINE))
		return "offline";
	if (F(SLAB))
		return "slab";
	if (F(PGTABLE))
		return "page table";
	if (F(RESERVED))
		return "reserved";
	if (F(ZERO_PAGE))
		return "zero page";
	if (F(HUGE))
		return "hugetlb";
	if (F(KSM))
		return "KSM";
	if (F(ANON))
		return F(THP) ? "anonymous (THP)" : "anonymous";
	if (F(SWAPCACHE))
		return "swap cache";
	if (F(LRU) || F(MAPPEDTODISK) || F(MMAP))
		return F(SWAPBACKED) ? "shared memory" : "page cache";
	return "kernel";
#undef F
}

const char *mo_kpageflags_unmapped_why(uint64_t flags)
{
#define F(b) (flags & MO_KPF(MO_KPF_##b))
	if (F(BUDDY))
		return "free";
	if (F(SLAB) || F(PGTABLE) || F(RESERVED) || F(OFFLINE))
		return "kernel memory";
	if (F(ANON) || F(KSM))
		return "anonymous page no process maps: a pipe buffer (vmsplice) or another kernel reference";
	if (F(SWAPCACHE))
		return "swap cache, not mapped";
	if (F(LRU) || F(MAPPEDTODISK) || F(SWAPBACKED))
		return F(SWAPBACKED) ? "shared memory (tmpfs/shmem), not mapped" : "page cache, not mapped";
	return "kernel allocation or reference (driver, pipe, socket)";
#undef F
}
