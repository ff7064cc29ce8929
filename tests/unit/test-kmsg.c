/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kmsg record parser, the dump_page()/memory-hotplug assembler and the
 * reader. The kernel lines below are real: quoted from kernel mailing list
 * threads (the thread is named above each), only the dmesg timestamps are
 * stripped by the test helper.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "kmsg.h"
#include "util.h"

/* ---- helpers ---- */

#define MAX_EVENTS 64

struct collected {
	size_t n;
	struct mo_kmsg_event ev[MAX_EVENTS];
	struct mo_page_dump dumps[MAX_EVENTS];
};

static int collect(const struct mo_kmsg_event *ev, void *userdata)
{
	struct collected *c = userdata;

	assert_true(c->n < MAX_EVENTS);
	c->ev[c->n] = *ev;
	if (ev->dump) {
		c->dumps[c->n] = *ev->dump;
		c->ev[c->n].dump = &c->dumps[c->n];
	}
	c->n++;
	return 0;
}

/*
 * Feed dmesg-style text: one line a message, with "<4>", "[  12.345678]" and
 * "[ T2552]" prefixes (as dmesg and mail quotes show them) removed.
 */
static void feed_text(struct mo_dump_parser *p, const char *text)
{
	uint64_t seq = 1000;
	const char *s = text;

	while (*s) {
		const char *eol = strchrnul(s, '\n');
		char line[1024];
		const char *m;
		size_t len = (size_t) (eol - s);

		assert_true(len < sizeof(line));
		memcpy(line, s, len);
		line[len] = '\0';
		m = line;
		while (*m == ' ')
			m++;
		if (m[0] == '<' && m[2] == '>')
			m += 3;
		for (int k = 0; k < 2; k++) {
			while (*m == ' ')
				m++;
			if (*m == '[') {
				const char *close = strchr(m, ']');

				if (close)
					m = close + 1;
			}
		}
		if (*m == ' ')
			m++;
		assert_int_equal(mo_dump_parser_feed_line(p, m, seq++, 0), 0);
		s = *eol ? eol + 1 : eol;
	}
}

static void parse_text(const char *text, struct collected *c)
{
	_cleanup_(mo_dump_parser_freep) struct mo_dump_parser *p = NULL;

	memset(c, 0, sizeof(*c));
	assert_int_equal(mo_dump_parser_new(collect, c, &p), 0);
	feed_text(p, text);
	assert_int_equal(mo_dump_parser_flush(p), 0);
}

static const struct mo_page_dump *nth_dump(const struct collected *c, size_t nth)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ev[i].type == MO_KMSG_EV_DUMP && nth-- == 0)
			return c->ev[i].dump;
	fail_msg("no dump #%zu", nth);
	abort();
}

/* ---- records ---- */

static void test_record_basic(void **state)
{
	char buf[] = "6,1234,5678901,-;hello world\n";
	struct mo_kmsg_record rec;

	assert_int_equal(mo_kmsg_parse(buf, strlen(buf), &rec), 0);
	assert_int_equal(rec.level, 6);
	assert_int_equal(rec.facility, 0);
	assert_int_equal(rec.seq, 1234);
	assert_int_equal(rec.ts_usec, 5678901);
	assert_false(rec.cont);
	assert_null(rec.caller);
	assert_null(rec.dict);
	assert_string_equal(rec.message, "hello world");
	assert_int_equal(rec.message_len, 11);
}

static void test_record_fields(void **state)
{
	/* a systemd message (facility 3), a caller field, dict lines */
	char a[] = "30,5,6,-;systemd[1]: Started foo.service.\n";
	char b[] = "4,99,100,-,caller=T2552;page: refcount:85 mapcount:20\n";
	char c[] = "7,160,424069,-;pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n"
		   " SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n";
	char d[] = "6,7,8,c;continued";
	struct mo_kmsg_record rec;
	char v[64];

	assert_int_equal(mo_kmsg_parse(a, strlen(a), &rec), 0);
	assert_int_equal(rec.facility, 3);
	assert_int_equal(rec.level, 6);

	assert_int_equal(mo_kmsg_parse(b, strlen(b), &rec), 0);
	assert_string_equal(rec.caller, "T2552");
	assert_string_equal(rec.message, "page: refcount:85 mapcount:20");

	assert_int_equal(mo_kmsg_parse(c, strlen(c), &rec), 0);
	assert_string_equal(rec.message, "pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)");
	assert_non_null(rec.dict);
	assert_int_equal(mo_kmsg_dict_get(&rec, "SUBSYSTEM", v, sizeof(v)), 4);
	assert_string_equal(v, "acpi");
	assert_int_equal(mo_kmsg_dict_get(&rec, "DEVICE", v, sizeof(v)), 16);
	assert_string_equal(v, "+acpi:PNP0A03:00");
	assert_int_equal(mo_kmsg_dict_get(&rec, "DEV", v, sizeof(v)), -ENOENT);
	assert_int_equal(mo_kmsg_dict_get(&rec, "DEVICE", v, 4), -ENOBUFS);

	/* no trailing newline (a truncated read), continuation flag */
	assert_int_equal(mo_kmsg_parse(d, strlen(d), &rec), 0);
	assert_true(rec.cont);
	assert_string_equal(rec.message, "continued");
}

static void test_record_escapes(void **state)
{
	char buf[] = "6,1,2,-;a\\x5cb\\x0ac\\x7f \\xzz \\x4\n";
	struct mo_kmsg_record rec;

	assert_int_equal(mo_kmsg_parse(buf, strlen(buf), &rec), 0);
	/* \x5c is a backslash, \x0a a newline; bad escapes stay as they are */
	assert_string_equal(rec.message, "a\\b\nc\x7f \\xzz \\x4");
}

static void test_record_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"no semicolon at all\n",
		"x,1,2,-;letters in the priority\n",
		"6,1;too few fields\n",
		"6,1,2;still too few\n",
		"6,1,2,--;two-character flag\n",
		"6,,2,-;empty sequence\n",
		"6,1,2,-\n;newline before the semicolon\n",
		"99999999999999999999,1,2,-;overflow\n",
		"6,18446744073709551616,2,-;sequence overflows 64 bits\n",
		"6,1,2",
		";",
	};
	struct mo_kmsg_record rec;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char buf[256];

		snprintf(buf, sizeof(buf), "%s", bad[i]);
		assert_int_equal(mo_kmsg_parse(buf, strlen(buf), &rec), -EBADMSG);
	}
}

/* ---- dump_page ---- */

/*
 * 6.1-era format with the hashed page pointer, a block-device page-cache page.
 * "[PATCH] mm/memory_hotplug: ..." (Yajun Deng, linux-kernel, 2023-04-28).
 */
static const char yajun[] =
	"[878020.623959] migrating pfn 1727813 failed ret:1\n"
	"[878020.623960] page:00000000faa9673c refcount:3 mapcount:0 mapping:00000000144ccd79 index:0x14280025 pfn:0x1727813\n"
	"[878020.623962] memcg:ffffa0ff82d5a000\n"
	"[878020.623962] aops:def_blk_aops ino:fd00001\n"
	"[878020.623964] flags: 0x17ffffc000206a(referenced|dirty|active|workingset|private|node=0|zone=2|lastcpupid=0x1fffff)\n"
	"[878020.623966] raw: 0017ffffc000206a ffffb0d14f50fbd8 ffffb0d14f50fbd8 ffffa0ff9c155018\n"
	"[878020.623967] raw: 0000000014280025 ffffa10327d702d8 00000003ffffffff ffffa0ff82d5a000\n"
	"[878020.623968] page dumped because: migration failure\n"
	"[878020.626196] migrating pfn 1727813 failed ret:1\n"
	"[878020.626198] page:00000000faa9673c refcount:3 mapcount:0 mapping:00000000144ccd79 index:0x14280025 pfn:0x1727813\n"
	"[878020.626200] memcg:ffffa0ff82d5a000\n"
	"[878020.626200] aops:def_blk_aops ino:fd00001\n"
	"[878020.626202] flags: 0x17ffffc000206a(referenced|dirty|active|workingset|private|node=0|zone=2|lastcpupid=0x1fffff)\n"
	"[878020.626204] raw: 0017ffffc000206a ffffb0d14f50fbd8 ffffb0d14f50fbd8 ffffa0ff9c155018\n"
	"[878020.626205] raw: 0000000014280025 ffffa10327d702d8 00000003ffffffff ffffa0ff82d5a000\n"
	"[878020.626206] page dumped because: migration failure\n";

static void test_dump_61_file(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	parse_text(yajun, &c);
	/* two samples of the same page: hotplug line, dump, hotplug line, dump */
	assert_int_equal(c.n, 4);
	assert_int_equal(c.ev[0].type, MO_KMSG_EV_MIGRATE_FAILED);
	assert_int_equal(c.ev[0].pfn, 0x1727813);
	assert_int_equal(c.ev[0].ret, 1);
	assert_int_equal(c.ev[1].type, MO_KMSG_EV_DUMP);
	assert_int_equal(c.ev[2].type, MO_KMSG_EV_MIGRATE_FAILED);
	assert_int_equal(c.ev[3].type, MO_KMSG_EV_DUMP);

	d = nth_dump(&c, 0);
	assert_true(d->complete);
	assert_true(d->have_pfn);
	assert_int_equal(d->pfn, 0x1727813);
	assert_int_equal(d->refcount, 3);
	assert_int_equal(d->mapcount, 0);
	assert_true(d->have_mapping);
	assert_int_equal(d->mapping, 0x144ccd79);
	assert_int_equal(d->index, 0x14280025);
	assert_int_equal(d->memcg, 0xffffa0ff82d5a000);
	assert_string_equal(d->aops, "def_blk_aops");
	assert_true(d->have_ino);
	assert_int_equal(d->ino, 0xfd00001);
	assert_string_equal(d->dentry, "");
	assert_int_equal(d->flags, 0x17ffffc000206a);
	assert_string_equal(d->flags_text, "referenced|dirty|active|workingset|private|node=0|zone=2|lastcpupid=0x1fffff");
	assert_true(mo_page_dump_has_flag(d, "private"));
	assert_false(mo_page_dump_has_flag(d, "lru"));
	assert_false(mo_page_dump_has_flag(d, "node"));
	assert_int_equal(d->kind, MO_PAGE_FILE);
	assert_int_equal(d->order, 0);
	assert_int_equal(d->pincount, -1);
	assert_string_equal(d->reason, "migration failure");
	assert_true(d->migrate_failed);
	assert_int_equal(d->migrate_ret, 1);
	assert_false(d->cma);
	/* 3 = page cache + buffer heads (private) + hotplug's isolation reference: nothing extra */
	assert_true(mo_page_dump_in_cache(d));
	assert_int_equal(mo_page_dump_extra_refs(d), 0);
	assert_int_equal(mo_page_dump_pins(d), 0);
}

/*
 * 6.1 format, a shmem THP with a dentry name.
 * "[Intel-gfx] ... mm/huge_memory: do not clobber swp_entry_t during THP split" (6.1-rc2 CI).
 */
static const char i915[] =
	"<4> [259.367534] page:ffffea0008850000 refcount:0 mapcount:0 mapping:ffff88811a756a00 index:0x0 pfn:0x221400\n"
	"<4> [259.367593] head:ffffea0008850000 order:9 compound_mapcount:0 compound_pincount:0\n"
	"<4> [259.367596] aops:shmem_aops ino:2 dentry name:\"i915\"\n"
	"<4> [259.367600] flags: 0x80000000000d003f(locked|referenced|uptodate|dirty|lru|active|head|reclaim|swapbacked|zone=2)\n"
	"<4> [259.367604] raw: 80000000000d003f ffffea00042d08c8 ffffea0008855248 ffff88811a756a00\n"
	"<4> [259.367606] raw: 0000000000000000 0000000000000000 00000000ffffffff 0000000000000000\n"
	"<4> [259.367607] page dumped because: VM_WARN_ON_ONCE_PAGE(page_tail->private != 0)\n"
	"<4> [259.367613] ------------[ cut here ]------------\n"
	"<4> [259.367614] WARNING: CPU: 2 PID: 5515 at mm/huge_memory.c:2465 split_huge_page_to_list+0x12de/0x1760\n";

static void test_dump_61_shmem_thp(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	parse_text(i915, &c);
	assert_int_equal(c.n, 1);
	d = nth_dump(&c, 0);
	assert_true(d->complete);
	assert_int_equal(d->pfn, 0x221400);
	assert_int_equal(d->refcount, 0);
	assert_int_equal(d->order, 9);
	assert_int_equal(d->entire_mapcount, 0);
	assert_int_equal(d->pincount, 0);
	assert_int_equal(d->folio_mapcount, -1);
	assert_string_equal(d->aops, "shmem_aops");
	assert_int_equal(d->ino, 2);
	assert_string_equal(d->dentry, "i915");
	assert_int_equal(d->kind, MO_PAGE_FILE);
	assert_string_equal(d->reason, "VM_WARN_ON_ONCE_PAGE(page_tail->private != 0)");
	assert_false(d->migrate_failed);
	/* 6.1 does not print a large folio's total mapcount: cannot say */
	assert_int_equal(mo_page_dump_extra_refs(d), -ENODATA);
	/* but its pincount is there */
	assert_int_equal(mo_page_dump_pins(d), 0);
}

/*
 * 6.1 format, anonymous THP, a dump that was cut short (no reason line).
 * "Re: ... flip_mem.py" (linux-kernel, 2022-05, Ampere Altra).
 */
static const char ampere[] =
	"page:fffffc200c7f8000 refcount:393 mapcount:1 mapping:0000000000000000 index:0xffffbb800 pfn:0x8039fe00\n"
	"head:fffffc200c7f8000 order:9 compound_mapcount:0 compound_pincount:0\n"
	"memcg:ffff40026005a000\n"
	"anon flags: 0xbfffc000009001c(uptodate|dirty|lru|head|swapbacked|node=0|zone=2|lastcpupid=0xffff)\n"
	"raw: 0bfffc000009001c fffffc2007b74048 fffffc2009c087c8 ffff08038dab9189\n"
	"raw: 0000000ffffbb800 0000000000000000 0000018900000000 ffff40026005a000\n";

static void test_dump_61_cut_short(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	parse_text(ampere, &c);
	assert_int_equal(c.n, 1);
	d = nth_dump(&c, 0);
	assert_false(d->complete);
	assert_int_equal(d->pfn, 0x8039fe00);
	assert_int_equal(d->refcount, 393);
	assert_int_equal(d->mapcount, 1);
	assert_int_equal(d->order, 9);
	assert_int_equal(d->kind, MO_PAGE_ANON);
	assert_false(mo_page_dump_in_cache(d));
	assert_int_equal(d->memcg, 0xffff40026005a000);
	assert_string_equal(d->reason, "");
	assert_int_equal(mo_page_dump_pins(d), 0);
}

/*
 * The newer format: no page pointer, a swap-cache page of shmem.
 * "[PATCH] mm: ... folio_expected_ref_count ... PG_swapcache" (linux-mm, 2025-12; guest 6.18).
 */
static const char swapcache[] =
	"[   49.641309] migrating pfn b12f25 failed ret:7\n"
	"[   49.641310] page: refcount:2 mapcount:0 mapping:0000000033bd8fe2 index:0x7f404d925 pfn:0xb12f25\n"
	"[   49.641311] aops:swap_aops\n"
	"[   49.641313] flags: 0x300000000030508(uptodate|active|owner_priv_1|reclaim|swapbacked|node=0|zone=3)\n"
	"[   49.641314] raw: 0300000000030508 ffffed312c4bc908 ffffed312c4bc9c8 0000000000000000\n"
	"[   49.641315] raw: 00000007f404d925 00000000000c823b 00000002ffffffff 0000000000000000\n"
	"[   49.641315] page dumped because: migration failure\n";

static void test_dump_new_swapcache(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	parse_text(swapcache, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ev[0].pfn, 0xb12f25);
	assert_int_equal(c.ev[0].ret, 7);
	d = nth_dump(&c, 0);
	assert_true(d->complete);
	assert_int_equal(d->pfn, 0xb12f25);
	assert_int_equal(d->refcount, 2);
	assert_int_equal(d->mapcount, 0);
	assert_int_equal(d->index, 0x7f404d925);
	assert_string_equal(d->aops, "swap_aops");
	assert_false(d->have_ino);
	assert_int_equal(d->kind, MO_PAGE_FILE);
	assert_true(d->migrate_failed);
	assert_int_equal(d->migrate_ret, 7);
	/* swap cache + hotplug's reference: the kernel's expectation was off by one, not a pin */
	assert_int_equal(mo_page_dump_extra_refs(d), 0);
}

/*
 * The newer format with a large folio: hugetlb, "head: order:" plus hex rows
 * that also start with "head:". "Re: [PATCH] mm/memory_hotplug: ... hugetlb"
 * (linux-mm, 2025).
 */
static const char hugetlb[] =
	"[  707.443105] migrating pfn c080000 failed ret:-12\n"
	"[  707.453353] page: refcount:2 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0xc080000\n"
	"[  707.471315] head: order:18 mapcount:1 entire_mapcount:1 nr_pages_mapped:0 pincount:0\n"
	"[  707.488504] anon flags: 0x17ffff0000000848(uptodate|owner_2|head|node=1|zone=3|lastcpupid=0x1ffff)\n"
	"[  707.508393] page_type: f4(hugetlb)\n"
	"[  707.515940] raw: 17ffff0000000848 ffa000007d873cc0 ffa000007d873cc0 ff1100082366c6e9\n"
	"[  707.533126] raw: 0000000000000000 0000000000000010 00000002f4000000 0000000000000000\n"
	"[  707.550317] head: 17ffff0000000848 ffa000007d873cc0 ffa000007d873cc0 ff1100082366c6e9\n"
	"[  707.567699] head: 0000000000000000 0000000000000010 00000002f4000000 0000000000000000\n"
	"[  707.585085] head: 17ffff0000000012 ffd4000302000001 0000000000000000 0000000000000000\n"
	"[  707.602469] head: ffffffffffffffff 0000000000000000 00000000ffffffff 0000000000040000\n"
	"[  707.619851] page dumped because: migration failure\n";

static void test_dump_new_hugetlb(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	parse_text(hugetlb, &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ev[0].ret, -12);
	d = nth_dump(&c, 0);
	assert_true(d->complete);
	assert_int_equal(d->order, 18);
	assert_int_equal(d->folio_mapcount, 1);
	assert_int_equal(d->entire_mapcount, 1);
	assert_int_equal(d->nr_pages_mapped, 0);
	assert_int_equal(d->pincount, 0);
	assert_string_equal(d->page_type, "f4(hugetlb)");
	assert_int_equal(d->kind, MO_PAGE_ANON);
	assert_int_equal(d->migrate_ret, -12);
	/* 2 = one mapping + hotplug's reference (ENOMEM: no room, not a pin) */
	assert_int_equal(mo_page_dump_extra_refs(d), 0);
	assert_int_equal(mo_page_dump_pins(d), 0);
}

/*
 * The newer format with CONFIG_PRINTK_CALLER, a page-cache folio of order 2
 * with dentry name(?). "[PATCH] mm: ... pte batching ... Xen PV" (linux-mm,
 * 2025). The dump is cut at its first "head:" hex rows here.
 */
static const char libc[] =
	"[   53.465751] [ T2552] page: refcount:85 mapcount:20 mapping:ffff88813ff4f6a8 index:0x110 pfn:0x10085c\n"
	"[   53.465754] [ T2552] head: order:2 mapcount:80 entire_mapcount:0 nr_pages_mapped:4 pincount:0\n"
	"[   53.465756] [ T2552] memcg:ffff888003573000\n"
	"[   53.465758] [ T2552] aops:0xffffffff8226fd20 ino:82467c dentry name(?):\"libc.so.6\"\n"
	"[   53.465761] [ T2552] flags: 0x2000000000416c(referenced|uptodate|lru|active|private|head|node=0|zone=2)\n"
	"[   53.465764] [ T2552] raw: 002000000000416c ffffea0004021f08 ffffea0004021908 ffff88813ff4f6a8\n"
	"[   53.465767] [ T2552] raw: 0000000000000110 ffff888133d8bd40 0000005500000013 ffff888003573000\n"
	"[   53.465768] [ T2552] head: 002000000000416c ffffea0004021f08 ffffea0004021908 ffff88813ff4f6a8\n";

static void test_dump_new_large_file(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	parse_text(libc, &c);
	assert_int_equal(c.n, 1);
	d = nth_dump(&c, 0);
	assert_false(d->complete);
	assert_int_equal(d->refcount, 85);
	assert_int_equal(d->mapcount, 20);
	assert_int_equal(d->folio_mapcount, 80);
	assert_int_equal(d->order, 2);
	assert_string_equal(d->aops, "0xffffffff8226fd20");
	assert_int_equal(d->ino, 0x82467c);
	assert_string_equal(d->dentry, "libc.so.6");
	assert_int_equal(d->kind, MO_PAGE_FILE);
	/* 85 = 80 mappings + 4 page-cache references (order 2) + private */
	assert_int_equal(mo_page_dump_extra_refs(d), 0);
}

/*
 * The 6.5 format of an unmovable page (the immediate EBUSY of an offline),
 * "page_type:" of a page without one. "[RFC] mm: movablecore= ..." (linux-mm, 2023).
 */
static const char reserved[] =
	"  [   57.439849] page:0000000076a3e320 refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x13ff00\n"
	"  [   57.444073] flags: 0x1fffffc0001000(reserved|node=0|zone=3|lastcpupid=0x1fffff)\n"
	"  [   57.447301] page_type: 0xffffffff()\n"
	"  [   57.448754] raw: 001fffffc0001000 ffffdd6384ffc008 ffffdd6384ffc008 0000000000000000\n"
	"  [   57.450383] raw: 0000000000000000 0000000000000000 00000001ffffffff 0000000000000000\n"
	"  [   57.452011] page dumped because: unmovable page\n";

static void test_dump_unmovable(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	parse_text(reserved, &c);
	assert_int_equal(c.n, 1);
	d = nth_dump(&c, 0);
	assert_int_equal(d->pfn, 0x13ff00);
	assert_int_equal(d->kind, MO_PAGE_UNKNOWN);
	assert_true(mo_page_dump_has_flag(d, "reserved"));
	assert_string_equal(d->page_type, "0xffffffff()");
	assert_string_equal(d->reason, "unmovable page");
	assert_false(d->migrate_failed);
	/* nothing held by hotplug here: the reserved page's own reference */
	assert_int_equal(mo_page_dump_extra_refs(d), 1);
}

/*
 * A 4.x dump: "count:", the kind on a line of its own, no pfn, raw
 * page->mapping (the anon_vma pointer with its low bit set), and a page_owner
 * trace after the reason. The page held an O_DIRECT (GUP) reference.
 * "Re: page cache: Store only head pages in i_pages" (linux-mm, 2019; ppc64).
 */
static const char old_dio[] =
	"[  446.578064] migrating pfn 2003d5eaa failed ret:22\n"
	"[  446.578066] page:c00a00800f57aa80 count:2 mapcount:0 mapping:c000001db4c827e9 index:0x13c08a\n"
	"[  446.578220] anon\n"
	"[  446.578222] flags: 0x83fffc00008002e(referenced|uptodate|dirty|active|swapbacked)\n"
	"[  446.578347] raw: 083fffc00008002e c00a00800f57f808 c00a00800f579f88 c000001db4c827e9\n"
	"[  446.944807] raw: 000000000013c08a 0000000000000000 00000002ffffffff c00020141a738008\n"
	"[  446.944883] page dumped because: migration failure\n"
	"[  446.944948] page->mem_cgroup:c00020141a738008\n"
	"[  446.945024] page allocated via order 0, migratetype Movable, gfp_mask 0x100cca(GFP_HIGHUSER_MOVABLE)\n"
	"[  446.945148]  prep_new_page+0x390/0x3a0\n"
	"[  446.946082] migrating pfn 2003d5fe0 failed ret:22\n";

static void test_dump_old_format(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	parse_text(old_dio, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ev[0].pfn, 0x2003d5eaa);
	assert_int_equal(c.ev[2].type, MO_KMSG_EV_MIGRATE_FAILED);
	assert_int_equal(c.ev[2].pfn, 0x2003d5fe0);
	d = nth_dump(&c, 0);
	assert_false(d->have_pfn);
	assert_true(d->migrate_failed);
	assert_int_equal(d->migrate_ret, 22);
	assert_int_equal(d->refcount, 2);
	assert_int_equal(d->kind, MO_PAGE_ANON);
	/* the raw anon_vma pointer is no cache: one extra reference, the DIO */
	assert_false(mo_page_dump_in_cache(d));
	assert_int_equal(mo_page_dump_extra_refs(d), 1);
	assert_int_equal(mo_page_dump_pins(d), 0);
}

/* A FOLL_PIN'd small page: refcount carries GUP_PIN_COUNTING_BIAS per pin. */
static void test_dump_foll_pin(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	/* the 6.1 line of DESIGN.md (measured under QEMU), with a pin's bias added */
	parse_text("migrating pfn 101d1f failed ret:1\n"
		   "page:(____ptrval____) refcount:1027 mapcount:1 mapping:0000000000000000 index:0x7f37f7745 pfn:0x101d1f\n"
		   "anon flags: 0x17ffffc0080015(locked|uptodate|dirty|swapbacked|node=0|zone=3|lastcpupid=0x1fffff)\n"
		   "page dumped because: migration failure\n",
		   &c);
	d = nth_dump(&c, 0);
	assert_int_equal(d->pfn, 0x101d1f);
	assert_true(d->have_mapping);
	assert_int_equal(d->mapping, 0);
	assert_int_equal(mo_page_dump_extra_refs(d), 1025);
	assert_int_equal(mo_page_dump_pins(d), 1);

	/* the same page as a vmsplice leaves it: one plain extra reference */
	parse_text("migrating pfn 101d1f failed ret:1 \n"
		   "page:(____ptrval____) refcount:3 mapcount:1 mapping:0000000000000000 index:0x7f37f7745 pfn:0x101d1f\n"
		   "anon flags: 0x17ffffc0080015(locked|uptodate|dirty|swapbacked|node=0|zone=3|lastcpupid=0x1fffff)\n"
		   "page dumped because: migration failure\n",
		   &c);
	d = nth_dump(&c, 0);
	assert_int_equal(mo_page_dump_extra_refs(d), 1);
	assert_int_equal(mo_page_dump_pins(d), 0);
}

static void test_dump_isolate_and_poison(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	/* "failed to isolate pfn" introduces an "isolation failed" dump */
	parse_text("failed to isolate pfn 12345\n"
		   "page:00000000467f4890 refcount:2 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x12345\n"
		   "flags: 0x17fffc00000000(node=0|zone=2|lastcpupid=0x1ffff)\n"
		   "page dumped because: isolation failed\n"
		   /* "[PATCH] mm/huge_memory: use pfn_to_online_page() ..." (2022-09) */
		   "page:000000007d7ab72e is uninitialized and poisoned\n"
		   "page dumped because: VM_BUG_ON_PAGE(PagePoisoned(p))\n",
		   &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ev[0].type, MO_KMSG_EV_ISOLATE_FAILED);
	assert_int_equal(c.ev[0].pfn, 0x12345);
	d = nth_dump(&c, 0);
	assert_true(d->isolate_failed);
	assert_int_equal(mo_page_dump_extra_refs(d), 1);
	d = nth_dump(&c, 1);
	assert_true(d->poisoned);
	assert_true(d->complete);
	assert_false(d->isolate_failed);
	assert_int_equal(mo_page_dump_extra_refs(d), -ENODATA);
	assert_int_equal(mo_page_dump_pins(d), -ENODATA);
}

static void test_dump_interleaved(void **state)
{
	struct collected c;
	const struct mo_page_dump *d;

	/* other CPUs' lines in the middle; a hotplug line whose dump names another pfn */
	parse_text("migrating pfn 1000 failed ret:1\n"
		   "e1000: eth0 NIC Link is Up 1000 Mbps Full Duplex\n"
		   "page: refcount:3 mapcount:1 mapping:0000000000000000 index:0x1 pfn:0x2000\n"
		   "systemd[1]: Started foo.service.\n"
		   "anon flags: 0x17ffffc0080015(uptodate|swapbacked)\n"
		   "audit: type=1400 audit(0.0:1): apparmor=\"DENIED\"\n"
		   "page dumped because: migration failure\n"
		   "page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x3000\n"
		   "page: refcount:1 mapcount:0 mapping:0000000000000000 index:0x0 pfn:0x3001\n",
		   &c);
	assert_int_equal(c.n, 4);
	d = nth_dump(&c, 0);
	assert_true(d->complete);
	assert_int_equal(d->pfn, 0x2000);
	assert_int_equal(d->kind, MO_PAGE_ANON);
	assert_false(d->migrate_failed); /* different pfn: not that line's dump */
	/* the reason says hotplug held it: 3 - 1 - 1 */
	assert_int_equal(mo_page_dump_extra_refs(d), 1);
	/* two dumps without a reason: the second header ends the first */
	assert_false(nth_dump(&c, 1)->complete);
	assert_int_equal(nth_dump(&c, 1)->pfn, 0x3000);
	assert_int_equal(nth_dump(&c, 2)->pfn, 0x3001);
}

static void test_dump_truncated(void **state)
{
	static const char *const lines[] = {
		"page:",
		"page: ",
		"page: refcount:",
		"page: refcount:abc mapcount: mapping:zz index:0xq pfn:0x",
		"page: refcount:99999999999999999999999 mapcount:-1 pfn:0x10",
		"head: order:",
		"head: order:999 pincount:x",
		"anon flags: 0xZZ(",
		"flags: 0x12(uptodate|",
		"flags: ",
		"aops:",
		"aops:x ino:",
		"aops:x ino:zz dentry name(?):\"unterminated",
		"memcg:",
		"page_type:",
		"migrating pfn zz failed ret:1",
		"migrating pfn 1234",
		"migrating pfn 1234 failed ret:",
		"failed to isolate pfn ",
		"failed to isolate pfn xyz",
		"page: refcount:1",
		"page dumped because:",
	};
	_cleanup_(mo_dump_parser_freep) struct mo_dump_parser *p = NULL;
	struct collected c = {};

	assert_int_equal(mo_dump_parser_new(collect, &c, &p), 0);
	for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
		assert_int_equal(mo_dump_parser_feed_line(p, lines[i], i, 0), 0);
	assert_int_equal(mo_dump_parser_flush(p), 0);
	for (size_t i = 0; i < c.n; i++) {
		const struct mo_page_dump *d = c.ev[i].dump;

		if (!d)
			continue;
		assert_true(d->order >= 0 && d->order < 64);
		assert_true(strlen(d->flags_text) < sizeof(d->flags_text));
		assert_true(strlen(d->dentry) < sizeof(d->dentry));
	}
	/* the malformed hotplug lines made no event; "migrating pfn 1234 failed ret:" did */
	for (size_t i = 0; i < c.n; i++)
		if (c.ev[i].type == MO_KMSG_EV_MIGRATE_FAILED)
			assert_int_equal(c.ev[i].pfn, 0x1234);
	/* the last dump ("page dumped because:" with nothing) ended complete */
	assert_true(c.n > 0);
	assert_int_equal(c.ev[c.n - 1].type, MO_KMSG_EV_DUMP);
	assert_true(c.ev[c.n - 1].dump->complete);
	/* NULL and very long lines */
	assert_int_equal(mo_dump_parser_feed_line(p, NULL, 0, 0), 0);
	{
		char big[8192];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memcpy(big, "page: refcount:1 mapcount:", 26);
		assert_int_equal(mo_dump_parser_feed_line(p, big, 0, 0), 0);
		memcpy(big, "flags: 0x1(", 11);
		assert_int_equal(mo_dump_parser_feed_line(p, big, 0, 0), 0);
		assert_int_equal(mo_dump_parser_flush(p), 0);
	}
}

/* Random bytes and mutations of real lines: no crash, sane fields. */
static void test_dump_fuzz(void **state)
{
	static const char *const seeds[] = { yajun, i915, ampere, swapcache, hugetlb, libc, reserved, old_dio };
	_cleanup_(mo_dump_parser_freep) struct mo_dump_parser *p = NULL;
	struct collected c = {};
	uint64_t x = 0x9e3779b97f4a7c15;
	char line[512], rec[600];

	assert_int_equal(mo_dump_parser_new(collect, &c, &p), 0);
	for (unsigned round = 0; round < 20000; round++) {
		const char *seed = seeds[round % ARRAY_SIZE(seeds)];
		size_t len, pos;
		struct mo_kmsg_record r;

		/* xorshift64 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* pick a line of the seed */
		pos = (size_t) (x % strlen(seed));
		while (pos > 0 && seed[pos - 1] != '\n')
			pos--;
		len = strcspn(seed + pos, "\n");
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
		memcpy(line, seed + pos, len);
		line[len] = '\0';
		/* mutate: flip, cut, or replace bytes */
		for (unsigned k = 0; k < 1 + (x >> 60); k++) {
			size_t at = len ? (size_t) ((x >> ((k * 8) % 64)) % len) : 0;

			switch ((x >> (k + 3)) % 4) {
			case 0:
				if (len)
					line[at] = (char) (x >> 24);
				break;
			case 1:
				line[at] = '\0';
				len = at;
				break;
			case 2:
				if (len)
					line[at] = "0123456789abcdefx:() |\"-"[(x >> 16) % 24];
				break;
			default:
				break;
			}
		}
		assert_int_equal(mo_dump_parser_feed_line(p, line, round, 0), 0);
		/* and as a kmsg record with a random prefix */
		snprintf(rec, sizeof(rec), "%u,%u,%u,-;%s\n", (unsigned) (x % 200), round, round, line);
		if (x & 1)
			rec[(x >> 8) % strlen(rec)] = (char) (x >> 32);
		if (mo_kmsg_parse(rec, strlen(rec), &r) == 0)
			assert_int_equal(mo_dump_parser_feed(p, &r), 0);
		if (c.n >= MAX_EVENTS - 4) {
			for (size_t i = 0; i < c.n; i++)
				if (c.ev[i].dump)
					assert_true(c.ev[i].dump->order >= 0 && c.ev[i].dump->order < 64);
			c.n = 0;
		}
	}
	assert_int_equal(mo_dump_parser_flush(p), 0);
}

static int stop_cb(const struct mo_kmsg_event *ev, void *userdata)
{
	return -ECANCELED;
}

static void test_dump_callback_error(void **state)
{
	_cleanup_(mo_dump_parser_freep) struct mo_dump_parser *p = NULL;

	assert_int_equal(mo_dump_parser_new(stop_cb, NULL, &p), 0);
	assert_int_equal(mo_dump_parser_feed_line(p, "migrating pfn 10 failed ret:1", 1, 0), -ECANCELED);
	assert_int_equal(mo_dump_parser_feed_line(p, "page: refcount:1 mapcount:0 pfn:0x10", 2, 0), 0);
	assert_int_equal(mo_dump_parser_flush(p), -ECANCELED);
}

/* ---- the reader ---- */

static int setup(void **state)
{
	*state = fx_mkroot();
	fx_write(*state, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	return 0;
}

static void test_reader_file(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_kmsg_reader_freep) struct mo_kmsg_reader *k = NULL;
	_cleanup_(mo_dump_parser_freep) struct mo_dump_parser *p = NULL;
	struct mo_kmsg_record rec;
	struct collected c = {};

	/* a captured log: dict lines, a malformed record, a sequence gap, no final newline */
	fx_write(root, "dev/kmsg",
		 "6,10,100,-;Linux version 6.1.0-18-amd64\n"
		 "7,11,200,-;pci_root PNP0A03:00: host bridge\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n"
		 "garbage without a prefix\n"
		 "4,12,300,-;migrating pfn 101d1f failed ret:1\n"
		 "4,13,301,-;page:(____ptrval____) refcount:3 mapcount:1 mapping:0000000000000000 index:0x7f37f7745 pfn:0x101d1f\n"
		 "4,14,302,-;anon flags: 0x17ffffc0080015(locked|uptodate|dirty|swapbacked|node=0|zone=3)\n"
		 "4,20,303,-;page dumped because: migration failure");

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_kmsg_reader_open(r, MO_KMSG_FROM_START, &k), 0);
	assert_int_equal(mo_dump_parser_new(collect, &c, &p), 0);

	assert_int_equal(mo_kmsg_reader_read(k, &rec), 1);
	assert_int_equal(rec.seq, 10);
	assert_string_equal(rec.message, "Linux version 6.1.0-18-amd64");
	assert_int_equal(mo_kmsg_reader_read(k, &rec), 1);
	assert_int_equal(rec.seq, 11);
	assert_non_null(rec.dict);
	{
		char v[32];

		assert_int_equal(mo_kmsg_dict_get(&rec, "SUBSYSTEM", v, sizeof(v)), 4);
	}
	for (unsigned n = 0;; n++) {
		int k2 = mo_kmsg_reader_read(k, &rec);

		assert_true(k2 >= 0);
		if (k2 == 0)
			break;
		assert_true(n < 10);
		assert_int_equal(mo_dump_parser_feed(p, &rec), 0);
	}
	assert_int_equal(mo_dump_parser_flush(p), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(nth_dump(&c, 0)->pfn, 0x101d1f);
	assert_int_equal(nth_dump(&c, 0)->seq, 13);
	assert_true(nth_dump(&c, 0)->complete);
	/* one malformed record, and 15..19 overwritten */
	assert_int_equal(mo_kmsg_reader_lost(k), 1 + 5);
	/* at the end: nothing more, again */
	assert_int_equal(mo_kmsg_reader_read(k, &rec), 0);
}

/*
 * A real capture of /dev/kmsg (Debian 12, kernel 6.1.0, under QEMU) while an
 * offline of a block spun on three pages that tests/vm/pinner had vmspliced
 * into a pipe: "page:(____ptrval____)" (the hash key was not ready yet),
 * memcg and anon flags, ret:3. It starts in the middle of a dump, as a reader
 * opened "from now" does.
 */
static void test_reader_real_61(void **state)
{
	const char *root = *state, *srcdir = getenv("top_srcdir");
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_kmsg_reader_freep) struct mo_kmsg_reader *k = NULL;
	_cleanup_(mo_dump_parser_freep) struct mo_dump_parser *p = NULL;
	_cleanup_free_ char *text = NULL;
	struct mo_kmsg_record rec;
	struct collected c = {};
	char path[4200];
	size_t dumps = 0, migrates = 0;
	FILE *f;
	long len;

	if (!srcdir) {
		skip();
		return;
	}
	snprintf(path, sizeof(path), "%s/tests/unit/data/kmsg-6.1-vmsplice.txt", srcdir);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t) len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t) len, f), (size_t) len);
	fclose(f);
	fx_write(root, "dev/kmsg", text);

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_kmsg_reader_open(r, MO_KMSG_FROM_START, &k), 0);
	assert_int_equal(mo_dump_parser_new(collect, &c, &p), 0);
	while (mo_kmsg_reader_read(k, &rec) == 1) {
		assert_int_equal(mo_dump_parser_feed(p, &rec), 0);
		if (c.n > MAX_EVENTS - 8) {
			for (size_t i = 0; i < c.n; i++) {
				const struct mo_page_dump *d = c.ev[i].dump;

				if (c.ev[i].type == MO_KMSG_EV_MIGRATE_FAILED) {
					migrates++;
					assert_int_equal(c.ev[i].ret, 3);
					continue;
				}
				dumps++;
				/* the dump cut at the start of the capture is not one */
				assert_true(d->have_pfn);
				assert_true(d->pfn >= 0x108000 && d->pfn <= 0x108002);
				assert_true(d->complete);
				assert_int_equal(d->kind, MO_PAGE_ANON);
				assert_int_equal(d->refcount, 3);
				assert_int_equal(d->mapcount, 1);
				assert_int_equal(d->index, 0x7fdcf9a64 + (d->pfn - 0x108000));
				assert_int_equal(d->memcg, 0xffff8d9e8111a000);
				assert_true(d->migrate_failed);
				assert_int_equal(d->migrate_ret, 3);
				assert_true(mo_page_dump_has_flag(d, "mappedtodisk"));
				/* mapped once, held by hotplug, and one reference more: the pipe */
				assert_int_equal(mo_page_dump_extra_refs(d), 1);
				assert_int_equal(mo_page_dump_pins(d), 0);
			}
			c.n = 0;
		}
	}
	assert_int_equal(mo_dump_parser_flush(p), 0);
	for (size_t i = 0; i < c.n; i++)
		if (c.ev[i].type == MO_KMSG_EV_MIGRATE_FAILED)
			migrates++;
		else
			dumps++;
	assert_int_equal(migrates, 8);
	assert_int_equal(dumps, 8);
	assert_int_equal(mo_kmsg_reader_lost(k), 0);
}

static void test_reader_from_now(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_kmsg_reader_freep) struct mo_kmsg_reader *k = NULL;
	struct mo_kmsg_record rec;
	char path[4200];
	int fd;

	fx_write(root, "dev/kmsg", "6,1,1,-;old record\n");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_kmsg_reader_open(r, MO_KMSG_FROM_NOW, &k), 0);
	assert_int_equal(mo_kmsg_reader_read(k, &rec), 0);
	/* what is logged after the open is read */
	snprintf(path, sizeof(path), "%s/dev/kmsg", root);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "6,2,2,-;new record\n", 19), 19);
	close(fd);
	assert_int_equal(mo_kmsg_reader_read(k, &rec), 1);
	assert_string_equal(rec.message, "new record");
	assert_int_equal(mo_kmsg_reader_read(k, &rec), 0);
	assert_true(mo_kmsg_reader_fd(k) >= 0);
}

static void test_reader_missing(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_kmsg_reader *k = NULL;

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_kmsg_reader_open(r, MO_KMSG_FROM_NOW, &k), -ENOENT);
	/* dev/ exists but no kmsg */
	fx_write(root, "dev/null-not-really", "");
	mo_root_free(r);
	r = NULL;
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_kmsg_reader_open(r, MO_KMSG_FROM_NOW, &k), -ENOENT);
	/* and dev/ is read-only for memoff */
	assert_int_equal(mo_root_open_dev(r, "null-not-really", O_WRONLY), -EROFS);
}

/*
 * The live /dev/kmsg, read-only: from now there is usually nothing, and
 * whatever there is parses. Skipped without access (dmesg_restrict).
 */
static void test_reader_live(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_kmsg_reader_freep) struct mo_kmsg_reader *k = NULL;
	struct mo_kmsg_record rec;
	int n;

	assert_int_equal(mo_root_new("/", NULL, &r), 0);
	n = mo_kmsg_reader_open(r, MO_KMSG_FROM_START, &k);
	if (n == -EACCES || n == -EPERM || n == -ENOENT) {
		skip();
		return;
	}
	assert_int_equal(n, 0);
	/* the whole ring buffer parses; a record from the start has seq >= 0 */
	for (unsigned i = 0; i < 100000; i++) {
		n = mo_kmsg_reader_read(k, &rec);
		assert_true(n >= 0);
		if (n == 0)
			break;
		assert_true(rec.level <= 7);
		assert_non_null(rec.message);
	}
	mo_kmsg_reader_free(k);
	k = NULL;
	assert_int_equal(mo_kmsg_reader_open(r, MO_KMSG_FROM_NOW, &k), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_basic),
		cmocka_unit_test(test_record_fields),
		cmocka_unit_test(test_record_escapes),
		cmocka_unit_test(test_record_garbage),
		cmocka_unit_test(test_dump_61_file),
		cmocka_unit_test(test_dump_61_shmem_thp),
		cmocka_unit_test(test_dump_61_cut_short),
		cmocka_unit_test(test_dump_new_swapcache),
		cmocka_unit_test(test_dump_new_hugetlb),
		cmocka_unit_test(test_dump_new_large_file),
		cmocka_unit_test(test_dump_unmovable),
		cmocka_unit_test(test_dump_old_format),
		cmocka_unit_test(test_dump_foll_pin),
		cmocka_unit_test(test_dump_isolate_and_poison),
		cmocka_unit_test(test_dump_interleaved),
		cmocka_unit_test(test_dump_truncated),
		cmocka_unit_test(test_dump_fuzz),
		cmocka_unit_test(test_dump_callback_error),
		cmocka_unit_test_setup_teardown(test_reader_file, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_reader_real_61, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_reader_from_now, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_reader_missing, setup, fx_teardown_root),
		cmocka_unit_test(test_reader_live),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
