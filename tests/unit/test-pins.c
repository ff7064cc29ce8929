/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Blocked-page reports (pins.h) and the forensics of attempts (forensics.h)
 * on fake trees: kpageflags/kpagecount, a process with its pagemap, a
 * captured kernel log, and a FIFO as the state file whose write blocks the
 * way offline_pages() spins on a pinned page.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <cmocka.h>

#include "fixture.h"
#include "forensics.h"
#include "kpageflags.h"
#include "log.h"
#include "pins.h"
#include "util.h"

#define PM_PRESENT (UINT64_C(1) << 63)
#define ANON (MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_MMAP) | MO_KPF(MO_KPF_SWAPBACKED))
#define BUDDY MO_KPF(MO_KPF_BUDDY)
/* 1 MiB blocks of 256 pages: block 5 is PFN 0x500-0x5ff */
#define BLOCK 5
#define FIRST 0x500
#define NPFNS 256
#define STATE "sys/devices/system/memory/memory5/state"

static void flags(const char *root, uint64_t pfn, uint64_t f, uint64_t count)
{
	fx_put_u64(root, "proc/kpageflags", pfn, f);
	fx_put_u64(root, "proc/kpagecount", pfn, count);
}

static void append(const char *root, const char *rel, const char *text)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
	close(fd);
}

/*
 * Block 5: every page free but 0x510-0x512 (anonymous, mapped by pinner,
 * pid 117, at 0x7fdcf9a64000...), 0x520 (slab), 0x530 (anonymous, in use,
 * mapped by nobody: a pipe's) and 0x540 (anonymous, mapped by pid 117).
 */
static int setup(void **state)
{
	char *root = fx_mkroot();

	fx_write(root, "sys/devices/system/memory/block_size_bytes", "100000\n");
	fx_block(root, BLOCK, "online", "Movable", 0, NULL);
	for (uint64_t p = FIRST; p < FIRST + NPFNS; p++)
		flags(root, p, BUDDY, 0);
	for (uint64_t p = 0x510; p <= 0x512; p++)
		flags(root, p, ANON, 1);
	flags(root, 0x520, MO_KPF(MO_KPF_SLAB), 0);
	flags(root, 0x530, MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_SWAPBACKED), 0);
	flags(root, 0x540, ANON, 1);
	fx_put_u64(root, "proc/kpagecgroup", FIRST + NPFNS, 0);

	fx_write(root, "proc/117/comm", "pinner\n");
	fx_write(root, "proc/117/cgroup", "0::/system.slice/pinner.service\n");
	fx_write(root, "proc/117/maps",
		 "7fdcf8f94000-7fdcf9f94000 rw-p 00000000 00:00 0 \n"
		 "7ffd2dde1000-7ffd2de02000 rw-p 00000000 00:00 0                          [stack]\n");
	for (uint64_t i = 0; i < 3; i++)
		fx_put_u64(root, "proc/117/pagemap", 0x7fdcf9a64 + i, PM_PRESENT | (0x510 + i));
	fx_put_u64(root, "proc/117/pagemap", 0x7ffd2de00, PM_PRESENT | 0x540);
	fx_write(root, "dev/kmsg", "6,1,1,-;Linux version 6.1.0-18-amd64\n");
	*state = root;
	return 0;
}

/* ---- evidence from flags ---- */

static void test_flags_evidence(void **state)
{
	assert_int_equal(mo_pin_flags_evidence(0), 0);
	assert_int_equal(mo_pin_flags_evidence(BUDDY), 0);
	assert_int_equal(mo_pin_flags_evidence(MO_KPF(MO_KPF_NOPAGE)), 0);
	assert_int_equal(mo_pin_flags_evidence(ANON), 0);
	assert_int_equal(mo_pin_flags_evidence(MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_UPTODATE)), 0);
	assert_int_equal(mo_pin_flags_evidence(MO_KPF(MO_KPF_HUGE) | MO_KPF(MO_KPF_COMPOUND_HEAD)), 0);
	assert_int_equal(mo_pin_flags_evidence(MO_KPF(MO_KPF_SLAB)), MO_PIN_EV_UNMOVABLE);
	assert_int_equal(mo_pin_flags_evidence(MO_KPF(MO_KPF_PGTABLE)), MO_PIN_EV_UNMOVABLE);
	assert_int_equal(mo_pin_flags_evidence(MO_KPF(MO_KPF_RESERVED)), MO_PIN_EV_UNMOVABLE);
	/* in use, off the LRU, no known kind: a kernel allocation */
	assert_int_equal(mo_pin_flags_evidence(MO_KPF(MO_KPF_UPTODATE)), MO_PIN_EV_UNMOVABLE);
	/* anonymous and mapped by nobody; swap cache is another matter */
	assert_int_equal(mo_pin_flags_evidence(MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_LRU)), MO_PIN_EV_UNMAPPED);
	assert_int_equal(mo_pin_flags_evidence(MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_SWAPCACHE)), 0);
}

static void test_evidence_format(void **state)
{
	char buf[64];

	assert_int_equal(mo_pin_evidence_format(0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	mo_pin_evidence_format(MO_PIN_EV_ATTEMPT | MO_PIN_EV_KMSG, buf, sizeof(buf));
	assert_string_equal(buf, "attempt,kmsg");
	mo_pin_evidence_format(MO_PIN_EV_UNMOVABLE | MO_PIN_EV_UNMAPPED, buf, 12);
	assert_string_equal(buf, "unmovable");
}

/* ---- reports ---- */

static void test_report_build(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_pin_report_freep) struct mo_pin_report *rep = NULL;
	const struct mo_pin_candidate c[] = {
		{ 0x512, ANON, MO_PIN_EV_ATTEMPT },
		{ 0x510, ANON, MO_PIN_EV_ATTEMPT },
		{ 0x511, ANON, MO_PIN_EV_ATTEMPT },
		{ 0x511, ANON, MO_PIN_EV_KMSG },        /* a duplicate merges */
		{ 0x520, MO_KPF(MO_KPF_SLAB), MO_PIN_EV_UNMOVABLE },
		{ 0x521, MO_KPF(MO_KPF_SLAB), MO_PIN_EV_UNMOVABLE },
		{ 0x530, MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_LRU), MO_PIN_EV_UNMAPPED },
		{ 0x1234, ANON, MO_PIN_EV_ATTEMPT },    /* outside the block: dropped */
	};
	struct mo_page_dump d = {
		.seq = 9, .pfn = 0x511, .have_pfn = true, .refcount = 3, .mapcount = 1, .folio_mapcount = -1,
		.pincount = -1, .have_mapping = true, .kind = MO_PAGE_ANON, .migrate_failed = true,
		.migrate_ret = 3, .complete = true,
	};
	const struct mo_pin_group *g;
	char desc[512];

	strcpy(d.reason, "migration failure");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_pin_report_build(r, BLOCK, FIRST, NPFNS, c, ARRAY_SIZE(c), &d, 1, NULL, NULL, &rep), 0);
	assert_int_equal(rep->owners_error, 0);
	assert_int_equal(rep->n_groups, 3);
	assert_int_equal(rep->pages, 6);

	/* the pinner's three pages: one group, its owner, the kernel's account */
	g = &rep->groups[0];
	assert_int_equal(g->first_pfn, 0x510);
	assert_int_equal(g->last_pfn, 0x512);
	assert_int_equal(g->npages, 3);
	assert_int_equal(g->owner_pid, 117);
	assert_int_equal(g->evidence, MO_PIN_EV_ATTEMPT | MO_PIN_EV_KMSG);
	assert_false(g->tracked);
	assert_true(g->have_dump);
	assert_int_equal(g->dump.pfn, 0x511);
	assert_int_equal(g->n_pages, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(g->pages[i].pfn, 0x510 + i);
		assert_int_equal(g->pages[i].n_owners, 1);
		assert_int_equal(g->pages[i].owners[0].pid, 117);
		assert_int_equal(g->pages[i].owners[0].vaddr, (0x7fdcf9a64 + i) * 4096);
		assert_string_equal(g->pages[i].owners[0].comm, "pinner");
		assert_string_equal(g->pages[i].owners[0].cgroup, "/system.slice/pinner.service");
	}
	assert_false(g->pages[0].have_dump);
	assert_true(g->pages[1].have_dump);
	assert_int_equal(g->pages[1].extra_refs, 1);
	assert_int_equal(g->pages[1].evidence, MO_PIN_EV_ATTEMPT | MO_PIN_EV_KMSG);
	mo_pin_group_describe(g, desc, sizeof(desc));
	assert_string_equal(desc, "3 pages at PFN 0x510-0x512 (anonymous) mapped by pinner[117] at 0x7fdcf9a64000 "
				  "([anon]); kernel log: refcount 3, mapcount 1, 1 extra reference");

	/* kernel memory */
	g = &rep->groups[1];
	assert_int_equal(g->first_pfn, 0x520);
	assert_int_equal(g->npages, 2);
	assert_int_equal(g->owner_pid, 0);
	mo_pin_group_describe(g, desc, sizeof(desc));
	assert_string_equal(desc, "2 pages at PFN 0x520-0x521 (slab): kernel memory");

	/* the pipe's page */
	g = &rep->groups[2];
	assert_int_equal(g->first_pfn, 0x530);
	assert_int_equal(g->evidence, MO_PIN_EV_UNMAPPED);
	mo_pin_group_describe(g, desc, sizeof(desc));
	assert_non_null(strstr(desc, "1 page at PFN 0x530 (anonymous), mapped by no process: "));
	assert_non_null(strstr(desc, "pipe"));

	/* a short buffer is cut, not overflowed */
	mo_pin_group_describe(&rep->groups[0], desc, 20);
	assert_int_equal(strlen(desc), 19);
}

/*
 * The report a person reads: two THPs of pid 117 (seen unmapped while
 * migration tried them, mapped again by the time the report is made), its
 * three small pages, slab and a pipe's page: four lines, one per owner and
 * kind; the THPs counted as two folios, not 128 pages' worth of lines.
 */
static void test_summary(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_pin_report_freep) struct mo_pin_report *rep = NULL;
	const uint64_t thp = MO_KPF(MO_KPF_THP), head = MO_KPF(MO_KPF_COMPOUND_HEAD),
		       tail = MO_KPF(MO_KPF_COMPOUND_TAIL), sampled = MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_LOCKED);
	struct mo_pin_candidate c[3 + 2 + 1 + 128];
	struct mo_pin_summary s;
	size_t n = 0;
	char line[1024];
	char *text = NULL;
	size_t text_len = 0;
	FILE *out;

	/* now: mapped by 117 (a 64-page folio stands in for a THP) */
	for (uint64_t i = 0; i < 128; i++) {
		flags(root, 0x580 + i, i % 64 == 0 ? ANON | thp | head : MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_MMAP) | thp | tail, 1);
		fx_put_u64(root, "proc/117/pagemap", 0x7fdcf9c00 + i, PM_PRESENT | (0x580 + i));
	}
	for (uint64_t p = 0x510; p <= 0x512; p++)
		c[n++] = (struct mo_pin_candidate) { p, ANON, MO_PIN_EV_ATTEMPT };
	c[n++] = (struct mo_pin_candidate) { 0x520, MO_KPF(MO_KPF_SLAB), MO_PIN_EV_UNMOVABLE };
	c[n++] = (struct mo_pin_candidate) { 0x521, MO_KPF(MO_KPF_SLAB), MO_PIN_EV_UNMOVABLE };
	c[n++] = (struct mo_pin_candidate) { 0x530, MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_LRU), MO_PIN_EV_UNMAPPED };
	/* as the sample saw them: unmapped, locked, under migration */
	for (uint64_t i = 0; i < 128; i++)
		c[n++] = (struct mo_pin_candidate) { 0x580 + i, sampled | thp | (i % 64 == 0 ? head : tail),
						     MO_PIN_EV_ATTEMPT | MO_PIN_EV_UNMAPPED };

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_pin_report_build(r, BLOCK, FIRST, NPFNS, c, n, NULL, 0, NULL, NULL, &rep), 0);
	assert_int_equal(rep->owners_error, 0);
	/* the THPs: one group, two folios listed by their heads, owned by 117 at the head's own address */
	assert_int_equal(rep->groups[rep->n_groups - 1].first_pfn, 0x580);
	assert_int_equal(rep->groups[rep->n_groups - 1].npages, 128);
	assert_int_equal(rep->groups[rep->n_groups - 1].folios, 2);
	assert_int_equal(rep->groups[rep->n_groups - 1].n_pages, 2);
	assert_int_equal(rep->groups[rep->n_groups - 1].pages[1].pfn, 0x5c0);
	assert_int_equal(rep->groups[rep->n_groups - 1].pages[1].owners[0].vaddr, (0x7fdcf9c00 + 64) * 4096);
	assert_int_equal(rep->groups[rep->n_groups - 1].evidence, MO_PIN_EV_ATTEMPT);

	assert_int_equal(mo_pin_summary_build(&rep, 1, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.pages, 3 + 2 + 1 + 128);
	assert_int_equal(s.folios, 3 + 2 + 1 + 2);
	assert_int_equal(s.lines[0].pid, 117);
	assert_int_equal(s.lines[0].pages, 3);
	assert_true(s.lines[1].kernel);
	assert_true(s.lines[2].unmapped);
	assert_int_equal(s.lines[2].pid, 0);
	assert_int_equal(s.lines[3].pid, 117);
	assert_true(s.lines[3].thp);
	assert_false(s.lines[3].unmapped);
	assert_int_equal(s.lines[3].folios, 2);
	assert_int_equal(s.lines[3].pages, 128);
	assert_string_equal(mo_pin_summary_line_format(&s.lines[3], line, sizeof(line)),
			    "block 5: 2 THPs (128 pages) of anonymous (THP), mapped by pinner[117] "
			    "(at 0x7fdcf9c00000, [anon]); evidence attempt");
	assert_string_equal(mo_pin_summary_line_format(&s.lines[1], line, sizeof(line)),
			    "block 5: 2 pages of slab: kernel memory; evidence unmovable");
	assert_non_null(strstr(mo_pin_summary_line_format(&s.lines[2], line, sizeof(line)),
			       "1 page of anonymous, mapped by no process: "));
	mo_pin_summary_done(&s);

	/* printed: a heading and the four lines */
	out = open_memstream(&text, &text_len);
	assert_non_null(out);
	assert_int_equal(mo_pin_summary_print(out, &rep, 1), 5);
	fclose(out);
	assert_true(startswith(text, "Blocked pages:\n  block 5: 3 pages of anonymous, mapped by pinner[117]"));
	free(text);
}

static void test_report_no_privilege(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_pin_report_freep) struct mo_pin_report *rep = NULL;
	const struct mo_pin_candidate c[] = { { 0x510, ANON, MO_PIN_EV_ATTEMPT } };
	char desc[256];

	/* what pagemap shows without CAP_SYS_ADMIN: present, no PFN */
	for (uint64_t i = 0; i < 3; i++)
		fx_put_u64(root, "proc/117/pagemap", 0x7fdcf9a64 + i, PM_PRESENT);
	fx_put_u64(root, "proc/117/pagemap", 0x7ffd2de00, PM_PRESENT);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_pin_report_build(r, BLOCK, FIRST, NPFNS, c, 1, NULL, 0, NULL, NULL, &rep), 0);
	assert_int_equal(rep->owners_error, -EPERM);
	assert_int_equal(rep->n_groups, 1);
	assert_int_equal(rep->groups[0].pages[0].n_owners, 0);
	mo_pin_group_describe(&rep->groups[0], desc, sizeof(desc));
	assert_string_equal(desc, "1 page at PFN 0x510 (anonymous), mapped by no process: "
				  "anonymous page no process maps: a pipe buffer (vmsplice) or another kernel reference");
}

/* ---- forensics: the read-only scan ---- */

static void test_scan(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_forensics_freep) struct mo_forensics *f = NULL;
	_cleanup_(mo_pin_report_freep) struct mo_pin_report *rep = NULL;
	uint64_t first, n;

	/* an earlier offline failed to migrate 0x511 and 0x5f0 (free by now) */
	append(root, "dev/kmsg",
	       "4,2,100,-;migrating pfn 511 failed ret:3\n"
	       "4,3,101,-;page:(____ptrval____) refcount:3 mapcount:1 mapping:0000000000000000 index:0x7fdcf9a65 pfn:0x511\n"
	       "4,4,102,-;anon flags: 0x1fffffc00a000e(referenced|uptodate|dirty|mappedtodisk|swapbacked|node=0|zone=3)\n"
	       "4,5,103,-;page dumped because: migration failure\n"
	       "4,6,104,-;migrating pfn 5f0 failed ret:3\n"
	       "4,7,105,-;page:(____ptrval____) refcount:3 mapcount:1 mapping:0000000000000000 index:0x1 pfn:0x5f0\n"
	       "4,8,106,-;page dumped because: migration failure\n");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_forensics_new(r, NULL, &f), 0);
	mo_forensics_block_pfns(f, BLOCK, &first, &n);
	assert_int_equal(first, FIRST);
	assert_int_equal(n, NPFNS);
	assert_int_equal(mo_forensics_scan(f, BLOCK, &rep), 0);
	assert_int_equal(rep->kmsg_error, 0);
	assert_int_equal(rep->census_error, 0);
	/* 0x511 (kmsg), the slab page, the pipe's page; 0x510/0x512/0x540 look movable */
	assert_int_equal(rep->n_groups, 3);
	assert_int_equal(rep->groups[0].first_pfn, 0x511);
	assert_int_equal(rep->groups[0].npages, 1);
	assert_int_equal(rep->groups[0].evidence, MO_PIN_EV_KMSG);
	assert_int_equal(rep->groups[0].owner_pid, 117);
	assert_true(rep->groups[0].have_dump);
	assert_int_equal(rep->groups[0].pages[0].owners[0].vaddr, 0x7fdcf9a65000);
	assert_int_equal(rep->groups[1].first_pfn, 0x520);
	assert_int_equal(rep->groups[1].evidence, MO_PIN_EV_UNMOVABLE);
	assert_int_equal(rep->groups[2].first_pfn, 0x530);
	assert_int_equal(rep->groups[2].evidence, MO_PIN_EV_UNMAPPED);
}

/* ---- forensics of attempts ---- */

static void fifo_state(const char *root, int *rfd)
{
	char path[4200], chunk[4096];
	int wfd;

	fx_unlink(root, STATE);
	snprintf(path, sizeof(path), "%s/%s", root, STATE);
	assert_int_equal(mkfifo(path, 0600), 0);
	*rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(*rfd >= 0);
	wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(wfd >= 0);
	memset(chunk, 'x', sizeof(chunk));
	while (write(wfd, chunk, sizeof(chunk)) > 0)
		;
	while (write(wfd, chunk, 1) > 0)
		;
	close(wfd);
}

static char journal[32][1024];
static int n_journal;

static int sink(const struct iovec *iov, int n)
{
	char *out = journal[n_journal++ % 32];
	size_t len = 0;

	out[0] = '\0';
	for (int i = 0; i < n; i++) {
		int k = snprintf(out + len, 1024 - len, "%.*s\n", (int) iov[i].iov_len, (const char *) iov[i].iov_base);

		if (k < 0 || (size_t) k >= 1024 - len)
			break;
		len += (size_t) k;
	}
	return 0;
}

static const char *journal_find(const char *id, const char *event)
{
	char want_id[64], want_ev[64];

	snprintf(want_id, sizeof(want_id), "MESSAGE_ID=%s\n", id);
	snprintf(want_ev, sizeof(want_ev), "MEMOFF_EVENT=%s\n", event);
	for (int i = 0; i < n_journal && i < 32; i++)
		if (strstr(journal[i], want_id) && strstr(journal[i], want_ev))
			return journal[i];
	return NULL;
}

static void test_attempts(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_forensics_freep) struct mo_forensics *f = NULL;
	_cleanup_(mo_pin_report_freep) struct mo_pin_report *rep = NULL;
	const struct mo_forensics_opts opts = {
		.long_lived_usec = 500 * 1000,
		.sample_usec = 50 * 1000,
		.log = true,
	};
	struct mo_attempt_result res;
	int rfd;

	fifo_state(root, &rfd);
	mo_log_set_target(MO_LOG_TARGET_JOURNAL);
	mo_log_set_journal_sink(sink);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_forensics_new(r, &opts, &f), 0);
	assert_int_equal(mo_forensics_kmsg_error(f), 0);
	/* the kernel logs while the attempt spins (the reader started "from now") */
	append(root, "dev/kmsg",
	       "4,2,100,-;migrating pfn 510 failed ret:3\n"
	       "4,3,101,-;page:(____ptrval____) refcount:3 mapcount:1 mapping:0000000000000000 index:0x7fdcf9a64 pfn:0x510\n"
	       "4,4,102,-;anon flags: 0x1fffffc00a000e(referenced|uptodate|dirty|mappedtodisk|swapbacked|node=0|zone=3)\n"
	       "4,5,103,-;page dumped because: migration failure\n");

	/* 1: times out; what stayed in use is reported once */
	assert_int_equal(mo_forensics_attempt(f, r, BLOCK, MO_ACTION_OFFLINE, 1000 * 1000, NULL, &res), 0);
	assert_int_equal(res.outcome, MO_OUTCOME_TIMED_OUT);
	fx_contains(journal_find(MO_MESSAGE_PAGES_BLOCKED, "new"), "MEMOFF_BLOCK=5\n",
		    "MEMOFF_PFN=0x510\nMEMOFF_PFN_LAST=0x512\nMEMOFF_NPAGES=3\n", "MEMOFF_PID=117\nMEMOFF_COMM=pinner\n",
		    "MEMOFF_VADDR=0x7fdcf9a64000\n", "MEMOFF_EXTRA_REFS=1\n", "MEMOFF_CLASS=pending\n", NULL);
	assert_null(journal_find(MO_MESSAGE_LONG_LIVED_PIN, "long-lived"));

	assert_int_equal(mo_forensics_report(f, BLOCK, &rep), 0);
	/* 0x510-0x512 (pinner), 0x520 (slab), 0x530 (pipe), 0x540 (pinner's stack) */
	assert_int_equal(rep->n_groups, 4);
	assert_true(rep->groups[0].tracked);
	assert_int_equal(rep->groups[0].evidence, MO_PIN_EV_ATTEMPT | MO_PIN_EV_KMSG);
	assert_int_equal(rep->groups[0].cls, MO_BLOCKED_PENDING);
	assert_int_equal(rep->groups[0].pages[2].owners[0].vaddr, 0x7fdcf9a66000);
	assert_int_equal(rep->groups[3].first_pfn, 0x540);
	assert_int_equal(rep->groups[3].pages[0].owners[0].kind, MO_MAP_STACK);
	mo_pin_report_free(rep);
	rep = NULL;

	/* 2: a second timeout, an attempt's length later: past the threshold */
	assert_int_equal(mo_forensics_attempt(f, r, BLOCK, MO_ACTION_OFFLINE, 1000 * 1000, NULL, &res), 0);
	assert_int_equal(res.outcome, MO_OUTCOME_TIMED_OUT);
	fx_contains(journal_find(MO_MESSAGE_LONG_LIVED_PIN, "long-lived"), "MEMOFF_CLASS=long-lived\n",
		    "MEMOFF_COMM=pinner\n", NULL);

	/* 3: the pinner lets go of its pages; the slab page stays */
	for (uint64_t p = 0x510; p <= 0x512; p++)
		flags(root, p, BUDDY, 0);
	assert_int_equal(mo_forensics_attempt(f, r, BLOCK, MO_ACTION_OFFLINE, 1000 * 1000, NULL, &res), 0);
	fx_contains(journal_find(MO_MESSAGE_PAGES_UNBLOCKED, "cleared"), "MEMOFF_PFN=0x510\n",
		    "MEMOFF_CLASS=long-lived\n", NULL);
	assert_int_equal(mo_forensics_report(f, BLOCK, &rep), 0);
	assert_int_equal(rep->n_groups, 3);
	assert_int_equal(rep->groups[0].first_pfn, 0x520);

	/* online actions run plainly */
	close(rfd);
	mo_log_set_target(MO_LOG_TARGET_AUTO);
	mo_log_set_journal_sink(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags_evidence),
		cmocka_unit_test(test_evidence_format),
		cmocka_unit_test_setup_teardown(test_report_build, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_summary, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_report_no_privilege, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_scan, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_attempts, setup, fx_teardown_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
