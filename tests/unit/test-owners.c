/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Owner resolution: fake proc trees (maps text, binary pagemap and kpage*
 * files) and, read-only, this test's own process on the live machine.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fixture.h"
#include "kpageflags.h"
#include "owners.h"
#include "util.h"

#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_FILE (UINT64_C(1) << 61)
#define PM_EXCL (UINT64_C(1) << 56)
#define PAGE 4096

static void map_page(const char *root, int pid, uint64_t vaddr, uint64_t entry)
{
	char rel[64];

	snprintf(rel, sizeof(rel), "proc/%d/pagemap", pid);
	fx_put_u64(root, rel, vaddr / PAGE, entry);
}

static void page_info(const char *root, uint64_t pfn, uint64_t flags, uint64_t count, uint64_t memcg)
{
	fx_put_u64(root, "proc/kpageflags", pfn, flags);
	fx_put_u64(root, "proc/kpagecount", pfn, count);
	fx_put_u64(root, "proc/kpagecgroup", pfn, memcg);
}

#define ANON_LRU (MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_MMAP) | MO_KPF(MO_KPF_SWAPBACKED))
#define FILE_LRU (MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_MMAP) | MO_KPF(MO_KPF_UPTODATE))

static int setup(void **state)
{
	char *root = fx_mkroot();

	fx_write(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");

	/* pid 100: a daemon with a file, heap, anonymous, a reservation, memfd and stack */
	fx_write(root, "proc/100/comm", "dbus-daemon\n");
	fx_write(root, "proc/100/cgroup", "0::/system.slice/dbus.service\n");
	fx_write(root, "proc/100/maps",
		 "00400000-00452000 r-xp 00000000 08:02 173521                             /usr/bin/dbus-daemon\n"
		 "00651000-00652000 rw-p 00051000 08:02 173521                             /usr/bin/dbus-daemon\n"
		 "00e03000-00e24000 rw-p 00000000 00:00 0                                  [heap]\n"
		 "7f0000000000-7f0000004000 rw-p 00000000 00:00 0 \n"
		 "7f0000004000-7f0000008000 ---p 00000000 00:00 0 \n"
		 "7f0000010000-7f0000012000 rw-s 00000000 00:01 1234                       /memfd:pool (deleted)\n"
		 "7ffd00000000-7ffd00002000 rw-p 00000000 00:00 0                          [stack]\n"
		 "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n");
	map_page(root, 100, 0x400000, PM_PRESENT | PM_FILE | 0x5000);
	map_page(root, 100, 0x401000, PM_PRESENT | PM_FILE | 0x5001);
	map_page(root, 100, 0xe03000, PM_PRESENT | PM_EXCL | 0x6000);
	map_page(root, 100, 0x7f0000001000, PM_PRESENT | PM_EXCL | 0x7000);
	map_page(root, 100, 0x7f0000005000, PM_PRESENT | 0x7001); /* inside ---p: not scanned */
	map_page(root, 100, 0x7f0000011000, PM_PRESENT | PM_FILE | 0x8000);
	map_page(root, 100, 0x7ffd00001000, PM_PRESENT | PM_EXCL | 0x9000);

	/* pid 200: a kernel thread (no maps) */
	fx_write(root, "proc/200/comm", "kworker/0:1\n");
	fx_write(root, "proc/200/maps", "");

	/* pid 300: exited between readdir and open */
	fx_write(root, "proc/300/comm", "gone\n");

	/* pid 400: shares the file page and the memfd page, cgroup v1 */
	fx_write(root, "proc/400/comm", "dbus-monitor\n");
	fx_write(root, "proc/400/cgroup",
		 "12:memory:/user.slice\n11:cpu,cpuacct:/user.slice\n1:name=systemd:/user.slice/user-1000.slice/session-2.scope\n");
	fx_write(root, "proc/400/maps",
		 "00400000-00401000 r-xp 00000000 08:02 173521                             /usr/bin/dbus-daemon\n"
		 "7f1000000000-7f1000002000 rw-s 00002000 00:01 1234                       /memfd:pool (deleted)\n");
	map_page(root, 400, 0x400000, PM_PRESENT | PM_FILE | 0x5000);
	map_page(root, 400, 0x7f1000000000, PM_PRESENT | PM_FILE | 0x8000);

	/* entries that are not processes */
	fx_symlink(root, "proc/self", "100");
	fx_write(root, "proc/meminfo", "MemTotal: 1 kB\n");
	fx_write(root, "proc/0abc/maps", "");

	page_info(root, 0x5000, FILE_LRU, 2, 11);
	page_info(root, 0x5001, FILE_LRU, 1, 11);
	page_info(root, 0x6000, ANON_LRU, 1, 22);
	page_info(root, 0x7000, ANON_LRU, 1, 22);
	page_info(root, 0x7001, ANON_LRU, 1, 22);
	page_info(root, 0x8000, FILE_LRU | MO_KPF(MO_KPF_SWAPBACKED), 2, 22);
	page_info(root, 0x9000, ANON_LRU, 1, 22);
	/* vmspliced, then unmapped: in a pipe, no process maps it */
	page_info(root, 0xa000, MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_UPTODATE), 0, 22);
	*state = root;
	return 0;
}

static const struct mo_owner *owner_of(const struct mo_pfn_owners *p, pid_t pid)
{
	for (size_t i = 0; i < p->n_owners; i++)
		if (p->owners[i].pid == pid)
			return &p->owners[i];
	return NULL;
}

static void test_resolve_all(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	const uint64_t pfns[] = { 0x9000, 0x5000, 0x6000, 0x7000, 0x8000, 0xa000, 0x7001, 0x5001, 0xbeef, 0x6000 };
	const struct mo_owners_opts opts = { .exhaustive = true };
	const struct mo_pfn_owners *p;
	const struct mo_owner *w;

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_owners_resolve(r, pfns, ARRAY_SIZE(pfns), &opts, &o), 0);
	assert_int_equal(o->n, 9); /* duplicates folded */
	assert_int_equal(o->procs_scanned, 2);
	assert_int_equal(o->procs_skipped, 1);
	assert_false(o->stopped_early);
	for (size_t i = 1; i < o->n; i++)
		assert_true(o->pfns[i - 1].pfn < o->pfns[i].pfn);

	/* a file page both processes map */
	p = MUST(mo_owners_find(o, 0x5000));
	assert_non_null(p);
	assert_int_equal(p->n_found, 2);
	assert_int_equal(p->n_owners, 2);
	assert_true(p->have_mapcount);
	assert_int_equal(p->mapcount, 2);
	assert_true(p->have_memcg);
	assert_int_equal(p->memcg_ino, 11);
	w = MUST(owner_of(p, 100));
	assert_non_null(w);
	assert_string_equal(w->comm, "dbus-daemon");
	assert_int_equal(w->vaddr, 0x400000);
	assert_int_equal(w->kind, MO_MAP_FILE);
	assert_string_equal(w->mapping, "/usr/bin/dbus-daemon");
	assert_int_equal(w->file_offset, 0);
	assert_true(w->file_shared);
	assert_string_equal(w->cgroup, "/system.slice/dbus.service");
	w = MUST(owner_of(p, 400));
	assert_non_null(w);
	assert_string_equal(w->comm, "dbus-monitor");
	assert_string_equal(w->cgroup, "/user.slice");

	p = MUST(mo_owners_find(o, 0x5001));
	assert_int_equal(p->n_owners, 1);
	assert_int_equal(p->owners[0].vaddr, 0x401000);
	assert_int_equal(p->owners[0].file_offset, 0x1000);

	p = MUST(mo_owners_find(o, 0x6000));
	assert_int_equal(p->n_owners, 1);
	assert_int_equal(p->owners[0].kind, MO_MAP_HEAP);
	assert_string_equal(p->owners[0].mapping, "[heap]");
	assert_true(p->owners[0].exclusive);

	p = MUST(mo_owners_find(o, 0x7000));
	assert_int_equal(p->n_owners, 1);
	assert_int_equal(p->owners[0].pid, 100);
	assert_int_equal(p->owners[0].vaddr, 0x7f0000001000);
	assert_int_equal(p->owners[0].kind, MO_MAP_ANON);
	assert_string_equal(p->owners[0].mapping, "[anon]");

	/* mapped only inside a PROT_NONE reservation: not scanned */
	p = MUST(mo_owners_find(o, 0x7001));
	assert_int_equal(p->n_found, 0);

	p = MUST(mo_owners_find(o, 0x8000));
	assert_int_equal(p->n_found, 2);
	w = MUST(owner_of(p, 400));
	assert_int_equal(w->kind, MO_MAP_SHMEM);
	assert_string_equal(w->mapping, "/memfd:pool (deleted)");
	assert_int_equal(w->vaddr, 0x7f1000000000);
	assert_int_equal(w->file_offset, 0x2000);

	p = MUST(mo_owners_find(o, 0x9000));
	assert_int_equal(p->owners[0].kind, MO_MAP_STACK);
	assert_int_equal(p->owners[0].vaddr, 0x7ffd00001000);

	/* the pipe page: nobody maps it, its flags say what it is */
	p = MUST(mo_owners_find(o, 0xa000));
	assert_int_equal(p->n_found, 0);
	assert_true(p->have_mapcount);
	assert_int_equal(p->mapcount, 0);
	assert_true(p->have_kpageflags);
	assert_string_equal(mo_kpageflags_what(p->kpageflags), "anonymous");
	assert_non_null(strstr(mo_kpageflags_unmapped_why(p->kpageflags), "pipe"));

	/* beyond the end of the kpage* files: no information, no owner */
	p = MUST(mo_owners_find(o, 0xbeef));
	assert_int_equal(p->n_found, 0);
	assert_false(p->have_kpageflags);
	assert_null(mo_owners_find(o, 0x1234));
}

static void test_resolve_limit(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	const uint64_t pfns[] = { 0x5000 };
	const struct mo_owners_opts opts = { .max_owners = 1 };
	const struct mo_pfn_owners *p;

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_owners_resolve(r, pfns, 1, &opts, &o), 0);
	p = MUST(mo_owners_find(o, 0x5000));
	/* both mappings seen (kpagecount says 2), one reported */
	assert_int_equal(p->n_found, 2);
	assert_int_equal(p->n_owners, 1);
	assert_true(o->stopped_early);
}

static void test_resolve_early_stop(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	const uint64_t mapped[] = { 0x7000, 0x6000 }, unmapped[] = { 0xa000 };

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_owners_resolve(r, mapped, 2, NULL, &o), 0);
	assert_true(o->stopped_early);
	assert_int_equal(MUST(mo_owners_find(o, 0x7000))->n_found, 1);
	assert_int_equal(MUST(mo_owners_find(o, 0x6000))->n_found, 1);
	mo_owners_free(o);
	o = NULL;

	/* kpagecount 0: no process is even looked at */
	assert_int_equal(mo_owners_resolve(r, unmapped, 1, NULL, &o), 0);
	assert_int_equal(o->procs_scanned, 0);
	assert_int_equal(MUST(mo_owners_find(o, 0xa000))->n_found, 0);
	mo_owners_free(o);
	o = NULL;

	/* without kpagecount one owner is enough */
	fx_unlink(root, "proc/kpagecount");
	mo_root_free(r);
	r = NULL;
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	{
		const uint64_t shared[] = { 0x5000 };

		assert_int_equal(mo_owners_resolve(r, shared, 1, NULL, &o), 0);
		assert_true(o->stopped_early);
		assert_int_equal(MUST(mo_owners_find(o, 0x5000))->n_found, 1);
		assert_false(MUST(mo_owners_find(o, 0x5000))->have_mapcount);
	}
}

static uint64_t dir_ino(const char *root, const char *rel)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t) st.st_ino;
}

/*
 * Memory cgroups first: the pages' cgroups (kpagecgroup) name the processes
 * to read; a process elsewhere (a big guest) is read only when a page still
 * has no owner.
 */
static void test_resolve_memcg(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	const uint64_t pinned[] = { 0xb000, 0xb001 }, elsewhere[] = { 0xb002 };
	uint64_t pinner_cg, qemu_cg;

	fx_write(root, "sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
	fx_write(root, "sys/fs/cgroup/system.slice/pinner.service/cgroup.procs", "");
	fx_write(root, "sys/fs/cgroup/system.slice/pinner.service/work/cgroup.procs", "");
	fx_write(root, "sys/fs/cgroup/machine.slice/qemu.scope/cgroup.procs", "");
	pinner_cg = dir_ino(root, "sys/fs/cgroup/system.slice/pinner.service");
	qemu_cg = dir_ino(root, "sys/fs/cgroup/machine.slice/qemu.scope");

	/* guests that map the pinner's pages too (as far as the fake pagemap says) */
	for (int pid = 500; pid < 510; pid++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
		fx_write(root, rel, "qemu-system-x86\n");
		snprintf(rel, sizeof(rel), "proc/%d/cgroup", pid);
		fx_write(root, rel, "0::/machine.slice/qemu.scope\n");
		snprintf(rel, sizeof(rel), "proc/%d/maps", pid);
		fx_write(root, rel, "7f4000000000-7f4100000000 rw-p 00000000 00:00 0 \n");
		map_page(root, pid, 0x7f4000000000, PM_PRESENT | 0xb000);
		map_page(root, pid, 0x7f4000001000, PM_PRESENT | 0xb001);
	}
	/* the pinner, in a child of the cgroup its pages are charged to */
	fx_write(root, "proc/600/comm", "pinner\n");
	fx_write(root, "proc/600/cgroup", "0::/system.slice/pinner.service/work\n");
	fx_write(root, "proc/600/maps",
		 "7f5000000000-7f5000010000 rw-p 00000000 00:00 0 \n"
		 "7f5000010000-7f5000020000 rw-s 00000000 00:01 77 /memfd:x (deleted)\n");
	map_page(root, 600, 0x7f5000000000, PM_PRESENT | 0xb000);
	map_page(root, 600, 0x7f5000001000, PM_PRESENT | 0xb001);
	map_page(root, 600, 0x7f5000002000, PM_PRESENT | 0xb002);
	page_info(root, 0xb000, ANON_LRU, 1, pinner_cg);
	page_info(root, 0xb001, ANON_LRU, 1, pinner_cg);
	/* charged to the guest's cgroup, but only the pinner maps it now */
	page_info(root, 0xb002, ANON_LRU, 1, qemu_cg);

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_owners_resolve(r, pinned, 2, NULL, &o), 0);
	assert_true(o->stopped_early);
	for (size_t i = 0; i < 2; i++) {
		const struct mo_pfn_owners *p = MUST(mo_owners_find(o, pinned[i]));

		assert_int_equal(p->n_found, 1);
		assert_int_equal(p->owners[0].pid, 600);
		assert_string_equal(p->owners[0].comm, "pinner");
	}
	/* the guests and dbus-daemon were never read: the pinner and dbus-monitor (no cgroup2 line) at most */
	assert_true(o->procs_scanned <= 2);
	mo_owners_free(o);
	o = NULL;

	/* a page of the pinner's cgroup that only dbus-daemon maps: every process set aside is read after */
	map_page(root, 100, 0x7f0000002000, PM_PRESENT | 0xb003);
	page_info(root, 0xb003, ANON_LRU, 1, pinner_cg);
	{
		const uint64_t both[] = { 0xb000, 0xb003 };

		assert_int_equal(mo_owners_resolve(r, both, 2, NULL, &o), 0);
		assert_int_equal(o->procs_deferred, 11); /* ten guests and dbus-daemon */
		assert_int_equal(MUST(mo_owners_find(o, 0xb000))->owners[0].pid, 600);
		assert_int_equal(MUST(mo_owners_find(o, 0xb003))->owners[0].pid, 100);
	}
	mo_owners_free(o);
	o = NULL;

	/* the guest's cgroup first, then the others: still found */
	assert_int_equal(mo_owners_resolve(r, elsewhere, 1, NULL, &o), 0);
	assert_int_equal(MUST(mo_owners_find(o, 0xb002))->n_found, 1);
	assert_int_equal(MUST(mo_owners_find(o, 0xb002))->owners[0].pid, 600);
	mo_owners_free(o);
	o = NULL;

	/* exhaustive: every process, the guest's mappings too */
	{
		const struct mo_owners_opts all = { .exhaustive = true };

		assert_int_equal(mo_owners_resolve(r, pinned, 2, &all, &o), 0);
		assert_int_equal(MUST(mo_owners_find(o, 0xb000))->n_found, 11);
	}
}

static void test_resolve_one_pid(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	const uint64_t pfns[] = { 0x5000, 0x6000 };
	const struct mo_owners_opts opts = { .pid = 400 };

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_owners_resolve(r, pfns, 2, &opts, &o), 0);
	assert_int_equal(o->procs_scanned, 1);
	assert_int_equal(MUST(mo_owners_find(o, 0x5000))->n_found, 1);
	assert_int_equal(MUST(mo_owners_find(o, 0x5000))->owners[0].pid, 400);
	assert_int_equal(MUST(mo_owners_find(o, 0x6000))->n_found, 0);
}

static void test_resolve_no_privilege(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_owners *o = NULL;
	const uint64_t pfns[] = { 0x6000 };
	const struct mo_owners_opts only500 = { .pid = 500 };

	/* what pagemap shows without CAP_SYS_ADMIN: present, PFN 0 */
	fx_write(root, "proc/500/comm", "cat\n");
	fx_write(root, "proc/500/maps", "00e03000-00e24000 rw-p 00000000 00:00 0     [heap]\n");
	map_page(root, 500, 0xe03000, PM_PRESENT | PM_EXCL);
	map_page(root, 500, 0xe04000, PM_PRESENT | PM_EXCL);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_owners_resolve(r, pfns, 1, &only500, &o), -EPERM);
	assert_null(o);
	/* nothing at all readable */
	fx_write(root, "proc/600/comm", "x\n");
	assert_int_equal(mo_owners_resolve(r, pfns, 1, &(struct mo_owners_opts) { .pid = 600 }, &o), 0);
	assert_int_equal(o->procs_skipped, 1);
	mo_owners_free(o);
}

static void test_resolve_empty(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_owners_resolve(r, NULL, 0, NULL, &o), 0);
	assert_int_equal(o->n, 0);
	assert_null(mo_owners_find(o, 1));
}

static void test_classify(void **state)
{
	assert_int_equal(mo_owners_classify_mapping("", false), MO_MAP_ANON);
	assert_int_equal(mo_owners_classify_mapping("", true), MO_MAP_SHMEM);
	assert_int_equal(mo_owners_classify_mapping("[heap]", false), MO_MAP_HEAP);
	assert_int_equal(mo_owners_classify_mapping("[stack]", false), MO_MAP_STACK);
	assert_int_equal(mo_owners_classify_mapping("[stack:1234]", false), MO_MAP_STACK);
	assert_int_equal(mo_owners_classify_mapping("/SYSV00000000 (deleted)", true), MO_MAP_SHMEM);
	assert_int_equal(mo_owners_classify_mapping("/memfd:wayland-shm (deleted)", true), MO_MAP_SHMEM);
	assert_int_equal(mo_owners_classify_mapping("/dev/shm/pulse-shm-1", true), MO_MAP_SHMEM);
	assert_int_equal(mo_owners_classify_mapping("/dev/zero (deleted)", true), MO_MAP_SHMEM);
	assert_int_equal(mo_owners_classify_mapping("[vdso]", false), MO_MAP_OTHER);
	assert_int_equal(mo_owners_classify_mapping("[anon:dalvik-heap]", false), MO_MAP_OTHER);
	assert_int_equal(mo_owners_classify_mapping("/dev/dri/renderD128", true), MO_MAP_OTHER);
	assert_int_equal(mo_owners_classify_mapping("/usr/lib/x86_64-linux-gnu/libc.so.6", false), MO_MAP_FILE);
	assert_string_equal(mo_map_kind_to_string(MO_MAP_SHMEM), "shmem");
}

/* ---- the live machine, read-only: this process's own pages ---- */

static uint64_t own_pfn(const void *addr)
{
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &e, sizeof(e), (off_t) ((uintptr_t) addr / (uintptr_t) sysconf(_SC_PAGESIZE) * 8)),
			 sizeof(e));
	close(fd);
	assert_true(e & PM_PRESENT);
	return e & ((UINT64_C(1) << 55) - 1);
}

static void test_live_self(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	long ps = sysconf(_SC_PAGESIZE);
	char *anon;
	uint64_t pfns[1];
	const struct mo_pfn_owners *p;
	int k;

	anon = mmap(NULL, (size_t) ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(anon != MAP_FAILED);
	memset(anon, 0x5a, (size_t) ps);
	pfns[0] = own_pfn(anon);

	assert_int_equal(mo_root_new("/", NULL, &r), 0);
	k = mo_owners_resolve(r, pfns, 1, NULL, &o);
	if (pfns[0] == 0) {
		/* no CAP_SYS_ADMIN: pagemap hides PFNs, and resolution says so */
		assert_int_equal(k, -EPERM);
		munmap(anon, (size_t) ps);
		skip();
		return;
	}
	assert_int_equal(k, 0);
	p = mo_owners_find(o, pfns[0]);
	assert_non_null(p);
	assert_int_equal(p->n_found, 1);
	assert_int_equal(p->owners[0].pid, getpid());
	assert_int_equal(p->owners[0].vaddr, (uint64_t) (uintptr_t) anon);
	assert_int_equal(p->owners[0].kind, MO_MAP_ANON);
	assert_string_equal(p->owners[0].comm, "test-owners");
	assert_true(p->have_kpageflags);
	assert_true(p->kpageflags & MO_KPF(MO_KPF_ANON));
	munmap(anon, (size_t) ps);
}

static void test_live_self_file(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_owners_freep) struct mo_owners *o = NULL;
	const struct mo_owners_opts opts = { .pid = getpid() };
	uint64_t pfns[1];
	const struct mo_pfn_owners *p;
	char exe[4096];
	ssize_t n;
	/* a page of this program's own text is mapped from the executable */
	const void *text = (const void *) (uintptr_t) test_live_self_file;

	pfns[0] = own_pfn(text);
	if (pfns[0] == 0) {
		skip();
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(mo_root_new("/", NULL, &r), 0);
	assert_int_equal(mo_owners_resolve(r, pfns, 1, &opts, &o), 0);
	p = mo_owners_find(o, pfns[0]);
	assert_true(p->n_found >= 1);
	assert_int_equal(p->owners[0].pid, getpid());
	assert_int_equal(p->owners[0].vaddr, (uint64_t) (uintptr_t) text & ~(uint64_t) (sysconf(_SC_PAGESIZE) - 1));
	assert_int_equal(p->owners[0].kind, MO_MAP_FILE);
	assert_string_equal(p->owners[0].mapping, exe);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resolve_all, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_resolve_limit, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_resolve_early_stop, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_resolve_memcg, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_resolve_one_pid, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_resolve_no_privilege, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_resolve_empty, setup, fx_teardown_root),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_live_self),
		cmocka_unit_test(test_live_self_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
