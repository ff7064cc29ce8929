/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "iomem.h"
#include "util.h"

/* Captured on the development host (Firecracker guest, Linux 6.18): no driver-managed memory. */
#define HOST_CAPTURE "tests/unit/data/iomem-firecracker-6.18.txt"

static char *capture_path(void)
{
	const char *top = getenv("top_srcdir");
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", top && *top ? top : ".", HOST_CAPTURE) > 0);
	return p;
}

static void test_host_capture(void **state)
{
	_cleanup_free_ char *path = capture_path(), *text = MUST(fx_read(NULL, path));
	struct mo_iomem io;

	assert_int_equal(mo_iomem_parse(text, &io), 0);
	/* plain "System RAM" and everything else is not driver-managed */
	assert_int_equal(io.n_managed, 0);
	assert_false(io.addresses_hidden);
	assert_null(mo_iomem_managed(&io, 0x100000000, 0x107ffffff));
	mo_iomem_done(&io);
	(void) state;
}

static void test_host_capture_with_drivers(void **state)
{
	_cleanup_free_ char *path = capture_path(), *text = MUST(fx_read(NULL, path)), *all = NULL;
	const struct mo_iomem_range *m;
	struct mo_iomem io;

	/* the same machine after a virtio-mem device and a dax device added memory */
	assert_true(asprintf(&all, "%s"
			     "640000000-647ffffff : System RAM (virtio_mem)\n"
			     "648000000-64fffffff : System RAM (virtio_mem)\n"
			     "658000000-65fffffff : System RAM (virtio_mem)\n"
			     "680000000-87fffffff : Soft Reserved\n"
			     "  680000000-87fffffff : dax0.0\n"
			     "    680000000-87fffffff : System RAM (kmem)\n",
			     text) > 0);
	assert_int_equal(mo_iomem_parse(all, &io), 0);
	assert_int_equal(io.n_managed, 3);
	/* the first two are adjacent and merged, the third is not */
	assert_int_equal(io.managed[0].start, 0x640000000);
	assert_int_equal(io.managed[0].end, 0x64fffffff);
	assert_string_equal(io.managed[0].name, "System RAM (virtio_mem)");
	assert_string_equal(io.managed[0].driver, "virtio_mem");
	assert_int_equal(io.managed[1].start, 0x658000000);
	assert_string_equal(io.managed[2].name, "System RAM (kmem)");
	assert_string_equal(io.managed[2].driver, "kmem");
	assert_int_equal(io.managed[2].end, 0x87fffffff);

	/* block 200 (0x640000000) is virtio-mem's; block 199 is plain RAM */
	m = mo_iomem_managed(&io, 0x640000000, 0x647ffffff);
	assert_non_null(m);
	assert_string_equal(m->name, "System RAM (virtio_mem)");
	assert_null(mo_iomem_managed(&io, 0x638000000, 0x63fffffff));
	/* the gap between the virtio-mem ranges is not managed */
	assert_null(mo_iomem_managed(&io, 0x650000000, 0x657ffffff));
	/* overlap at either edge counts */
	assert_non_null(mo_iomem_managed(&io, 0x63ffff000, 0x640000fff));
	m = mo_iomem_managed(&io, 0x87ffff000, 0x900000000);
	assert_non_null(m);
	assert_string_equal(m->name, "System RAM (kmem)");
	mo_iomem_done(&io);
	assert_int_equal(io.n_managed, 0);
	assert_null(io.managed);
}

static void test_hidden(void **state)
{
	struct mo_iomem io;
	const char *text =
		"00000000-00000000 : Reserved\n"
		"00000000-00000000 : System RAM\n"
		"  00000000-00000000 : Kernel code\n"
		"00000000-00000000 : System RAM (virtio_mem)\n";

	assert_int_equal(mo_iomem_parse(text, &io), 0);
	assert_true(io.addresses_hidden);
	assert_int_equal(io.n_managed, 1);
	/* nothing can be told apart: every range may be virtio-mem's */
	assert_non_null(mo_iomem_managed(&io, 0x100000000, 0x107ffffff));
	mo_iomem_done(&io);

	/* hidden, and no driver-managed memory at all */
	assert_int_equal(mo_iomem_parse("00000000-00000000 : System RAM\n", &io), 0);
	assert_true(io.addresses_hidden);
	assert_null(mo_iomem_managed(&io, 0, 0xfff));
	mo_iomem_done(&io);
	(void) state;
}

static void test_garbage(void **state)
{
	struct mo_iomem io;
	const char *text =
		"\n"
		"garbage\n"
		"12345 : System RAM (virtio_mem)\n"          /* no end */
		"-fff : System RAM (virtio_mem)\n"           /* no start */
		"2000-1000 : System RAM (virtio_mem)\n"      /* end before start */
		"1000-1fff: System RAM (virtio_mem)\n"       /* bad separator */
		"1000-1fffzz : System RAM (virtio_mem)\n"
		"10000000000000000-10000000000000fff : System RAM (virtio_mem)\n" /* > 64 bits */
		"3000-3fff : System RAM (\n"                 /* no driver name */
		"4000-4fff : System RAM ()\n"
		"5000-5fff : System RAM (kmem\n"             /* unterminated */
		"6000-6fff : System RAM\n"
		"7000-7fff : system ram (kmem)\n"            /* not the kernel's spelling */
		"ffffffff00000000-ffffffffffffffff : System RAM (toolongdrivername_toolongdrivername_x)\n"
		"8000-8fff : System RAM (kmem)";             /* last line without newline */

	assert_int_equal(mo_iomem_parse(text, &io), 0);
	assert_false(io.addresses_hidden);
	assert_int_equal(io.n_managed, 2);
	assert_int_equal(io.managed[0].start, UINT64_C(0xffffffff00000000));
	assert_int_equal(io.managed[0].end, UINT64_MAX);
	/* names are cut to fit, NUL-terminated */
	assert_int_equal(strlen(io.managed[0].name), sizeof(io.managed[0].name) - 1);
	assert_true(startswith(io.managed[0].name, "System RAM (toolong"));
	assert_int_equal(io.managed[1].start, 0x8000);
	assert_int_equal(io.managed[1].end, 0x8fff);
	assert_null(mo_iomem_managed(&io, 0x1000, 0x7fff));
	mo_iomem_done(&io);

	assert_int_equal(mo_iomem_parse("", &io), 0);
	assert_false(io.addresses_hidden);
	assert_int_equal(io.n_managed, 0);
	assert_int_equal(mo_iomem_parse(NULL, &io), -EINVAL);
	(void) state;
}

static void test_many_ranges(void **state)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0, cap = 0;
	FILE *f = open_memstream(&text, &len);
	struct mo_iomem io;

	assert_non_null(f);
	/* 100 virtio-mem blocks with a hole after every other one: 50 ranges */
	for (uint64_t i = 0; i < 100; i++) {
		uint64_t start = 0x100000000 + (i + i / 2) * 0x8000000;
		fprintf(f, "%" PRIx64 "-%" PRIx64 " : System RAM (virtio_mem)\n", start, start + 0x7ffffff);
	}
	fclose(f);
	assert_int_equal(mo_iomem_parse(text, &io), 0);
	assert_int_equal(io.n_managed, 50);
	assert_int_equal(io.managed[49].end - io.managed[49].start + 1, 2 * 0x8000000);
	mo_iomem_done(&io);
	(void) cap;
	(void) state;
}

static void test_read_root(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	char *root = fx_mkroot();
	struct mo_iomem io;

	fx_write(root, "sys/.keep", "");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_iomem_read(r, &io), -ENOENT);
	mo_root_free(TAKE_PTR(r));
	fx_write(root, "proc/iomem",
		 "00001000-0009fbff : System RAM\n"
		 "100000000-13fffffff : System RAM (virtio_mem)\n");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_iomem_read(r, &io), 0);
	assert_int_equal(io.n_managed, 1);
	assert_int_equal(io.managed[0].start, 0x100000000);
	assert_string_equal(io.managed[0].name, "System RAM (virtio_mem)");
	mo_iomem_done(&io);
	fx_rmroot(root);
	(void) state;
}

static void test_live(void **state)
{
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_iomem io;

	/* the running machine's own iomem parses, and every range found is found again */
	if (mo_root_new("/", NULL, &r) < 0 || !mo_root_is_live(r))
		skip();
	assert_int_equal(mo_iomem_read(r, &io), 0);
	for (size_t i = 0; i < io.n_managed; i++) {
		assert_true(io.managed[i].start <= io.managed[i].end);
		assert_non_null(mo_iomem_managed(&io, io.managed[i].start, io.managed[i].end));
	}
	mo_iomem_done(&io);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_capture),
		cmocka_unit_test(test_host_capture_with_drivers),
		cmocka_unit_test(test_hidden),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_many_ranges),
		cmocka_unit_test(test_read_root),
		cmocka_unit_test(test_live),
	};
	return cmocka_run_group_tests_name("iomem", tests, NULL, NULL);
}
