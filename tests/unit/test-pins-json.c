/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The blocked-page document (src/lib/pins-json.h) and its reader
 * (src/shared/pins-json-read.h): what memoffd sends for GetPins and
 * BlockedPages reads back into reports that print as the originals do, and
 * write the same document again.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pins-json.h"
#include "pins-json-read.h"

static struct mo_owner owner(pid_t pid, const char *comm, uint64_t vaddr, const char *mapping)
{
	struct mo_owner w = { .pid = pid, .vaddr = vaddr, .kind = MO_MAP_SHMEM, .file_offset = 0x3000,
			      .exclusive = true, .file_shared = true };

	snprintf(w.comm, sizeof(w.comm), "%s", comm);
	w.mapping = strdup(mapping);
	w.cgroup = strdup("/system.slice/pinner.service");
	assert_non_null(w.mapping);
	assert_non_null(w.cgroup);
	return w;
}

/* Two groups: one tracked, logged by the kernel, mapped by two processes; one of kernel memory. */
static struct mo_pin_report *sample(void)
{
	struct mo_pin_report *r = calloc(1, sizeof(*r));
	struct mo_pin_group *g;
	struct mo_pin_page *p;

	assert_non_null(r);
	*r = (struct mo_pin_report) { .block = 13, .first_pfn = 0x68000, .n_pfns = 32768, .pages = 4,
				      .owners_error = 0, .kmsg_error = -EPERM, .census_error = 0 };
	r->groups = calloc(2, sizeof(*r->groups));
	assert_non_null(r->groups);
	r->n_groups = 2;

	g = &r->groups[0];
	*g = (struct mo_pin_group) {
		.block = 13, .first_pfn = 0x68020, .last_pfn = 0x68020, .npages = 1,
		.kpageflags = (1ULL << 5) | (1ULL << 12), .evidence = MO_PIN_EV_ATTEMPT | MO_PIN_EV_KMSG,
		.owner_pid = 4242, .tracked = true, .cls = MO_BLOCKED_LONG_LIVED, .duration = 1999700,
		.passes = 3, .have_dump = true,
	};
	g->dump = (struct mo_page_dump) {
		.seq = 101, .ts_usec = 5000000, .pfn = 0x68020, .have_pfn = true, .refcount = 3, .mapcount = 1,
		.folio_mapcount = -1, .entire_mapcount = -1, .nr_pages_mapped = -1, .pincount = -1, .order = 0,
		.mapping = 0xffff8880aa, .have_mapping = true, .index = 0x7f37f7745, .kind = MO_PAGE_ANON,
		.migrate_failed = true, .migrate_ret = 1, .complete = true,
	};
	snprintf(g->dump.flags_text, sizeof(g->dump.flags_text), "uptodate|dirty|lru|swapbacked|node=0|zone=3");
	snprintf(g->dump.reason, sizeof(g->dump.reason), "migration failure");
	g->pages = calloc(1, sizeof(*g->pages));
	assert_non_null(g->pages);
	g->n_pages = 1;
	p = &g->pages[0];
	*p = (struct mo_pin_page) { .pfn = 0x68020, .kpageflags = g->kpageflags, .evidence = g->evidence,
				    .n_found = 2, .have_dump = true, .extra_refs = 1, .pins = 0 };
	p->owners = calloc(2, sizeof(*p->owners));
	assert_non_null(p->owners);
	p->owners[0] = owner(4242, "pinner", 0x10000000, "/memfd:pin (deleted)");
	p->owners[1] = owner(4243, "a \"quoted\"\tname", 0x20000000, "[anon]");
	p->n_owners = 2;

	g = &r->groups[1];
	*g = (struct mo_pin_group) { .block = 13, .first_pfn = 0x68100, .last_pfn = 0x68102, .npages = 3,
				     .kpageflags = 1ULL << 7, .evidence = MO_PIN_EV_UNMOVABLE };
	g->pages = calloc(3, sizeof(*g->pages));
	assert_non_null(g->pages);
	g->n_pages = 3;
	for (size_t i = 0; i < 3; i++)
		g->pages[i] = (struct mo_pin_page) { .pfn = 0x68100 + i, .kpageflags = 1ULL << 7,
						     .evidence = MO_PIN_EV_UNMOVABLE, .extra_refs = -ENODATA,
						     .pins = -ENODATA };
	return r;
}

static char *format(struct mo_pin_report **v, size_t n, bool owners)
{
	char *doc = NULL;

	assert_int_equal(mo_pins_json_format(v, n, owners, &doc), 0);
	return doc;
}

/* The reports read back from @doc write @doc again, to the byte (all owners shown); frees both. */
static void writes_again(struct mo_pin_report **back, size_t n, char *doc)
{
	char *again = format(back, n, true);

	assert_string_equal(again, doc);
	free(again);
	free(doc);
	mo_pin_reports_free(back, n);
}

static void test_roundtrip(void **state)
{
	struct mo_pin_report *v[1] = { sample() }, **back = NULL;
	char *doc = format(v, 1, true);
	const struct mo_pin_group *g;
	size_t n = 0;

	assert_int_equal(pins_json_read(doc, &back, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(back[0]->block, 13);
	assert_int_equal(back[0]->first_pfn, 0x68000);
	assert_int_equal(back[0]->n_pfns, 32768);
	assert_int_equal(back[0]->pages, 4);
	assert_int_equal(back[0]->kmsg_error, -EPERM);
	assert_int_equal(back[0]->owners_error, 0);
	assert_int_equal(back[0]->n_groups, 2);
	g = &back[0]->groups[0];
	assert_int_equal(g->block, 13);
	assert_int_equal(g->kpageflags, v[0]->groups[0].kpageflags);
	assert_int_equal(g->evidence, MO_PIN_EV_ATTEMPT | MO_PIN_EV_KMSG);
	assert_int_equal(g->owner_pid, 4242);
	assert_true(g->tracked);
	assert_int_equal(g->cls, MO_BLOCKED_LONG_LIVED);
	assert_int_equal(g->duration, 1999700);   /* exact: the text shows whole seconds of it */
	assert_int_equal(g->passes, 3);
	assert_true(g->have_dump);
	assert_int_equal(g->dump.refcount, 3);
	assert_int_equal(g->dump.mapcount, 1);
	assert_int_equal(g->dump.folio_mapcount, -1);
	assert_int_equal(g->dump.mapping, 0xffff8880aa);
	assert_true(g->dump.migrate_failed);
	assert_int_equal(g->dump.kind, MO_PAGE_ANON);
	assert_int_equal(mo_page_dump_extra_refs(&g->dump), mo_page_dump_extra_refs(&v[0]->groups[0].dump));
	assert_string_equal(g->dump.reason, "migration failure");
	assert_int_equal(g->n_pages, 1);
	assert_int_equal(g->pages[0].n_found, 2);
	assert_int_equal(g->pages[0].extra_refs, 1);
	assert_int_equal(g->pages[0].n_owners, 2);
	assert_string_equal(g->pages[0].owners[1].comm, "a \"quoted\"\tname");
	assert_string_equal(g->pages[0].owners[0].mapping, "/memfd:pin (deleted)");
	assert_string_equal(g->pages[0].owners[0].cgroup, "/system.slice/pinner.service");
	assert_int_equal(g->pages[0].owners[0].kind, MO_MAP_SHMEM);
	assert_int_equal(g->pages[0].owners[0].file_offset, 0x3000);
	assert_true(g->pages[0].owners[0].exclusive);
	g = &back[0]->groups[1];
	assert_false(g->tracked);
	assert_false(g->have_dump);
	assert_int_equal(g->n_pages, 3);
	assert_int_equal(g->pages[2].pfn, 0x68102);

	writes_again(back, n, doc);
	mo_pin_report_free(v[0]);
}

static void test_owners_hidden(void **state)
{
	struct mo_pin_report *v[1] = { sample() }, **back = NULL;
	char *doc = format(v, 1, false);
	size_t n = 0;

	assert_null(strstr(doc, "pinner"));
	assert_non_null(strstr(doc, "\"owners_errno\": \"EACCES\""));
	assert_int_equal(pins_json_read(doc, &back, &n), 0);
	assert_int_equal(back[0]->owners_error, -EACCES);
	assert_int_equal(back[0]->groups[0].owner_pid, 0);
	assert_int_equal(back[0]->groups[0].pages[0].n_owners, 0);
	assert_int_equal(back[0]->groups[0].pages[0].n_found, 2);
	writes_again(back, n, doc);
	mo_pin_report_free(v[0]);
}

static void test_empty(void **state)
{
	struct mo_pin_report **back = NULL;
	char *doc = format(NULL, 0, true);
	size_t n = 1;

	assert_string_equal(doc, "{\n   \"version\": 1,\n   \"blocks\": []\n}\n");
	assert_int_equal(pins_json_read(doc, &back, &n), 0);
	assert_int_equal(n, 0);
	mo_pin_reports_free(back, n);
	free(doc);
}

static void test_refused(void **state)
{
	static const struct {
		const char *doc;
		int error;
	} cases[] = {
		{ "", -EBADMSG },
		{ "[]", -EBADMSG },
		{ "{}", -EBADMSG },
		{ "{\"version\": 2, \"blocks\": []}", -EPROTONOSUPPORT },
		{ "{\"version\": \"1\", \"blocks\": []}", -EBADMSG },
		{ "{\"version\": 1}", -EBADMSG },
		{ "{\"version\": 1, \"blocks\": {}}", -EBADMSG },
		{ "{\"version\": 1, \"blocks\": [1]}", -EBADMSG },
		{ "{\"version\": 1, \"blocks\": [{\"block\": 1, \"first_pfn\": \"0x10\", \"last_pfn\": \"0x0f\","
		  " \"blocked_pages\": 0, \"groups\": []}]}", -EBADMSG },
		{ "{\"version\": 1, \"blocks\": [{\"block\": 1, \"first_pfn\": \"16\", \"last_pfn\": \"0x1f\","
		  " \"blocked_pages\": 0, \"groups\": []}]}", -EBADMSG },
		{ "{\"version\": 1, \"blocks\": [{\"block\": -1, \"first_pfn\": \"0x10\", \"last_pfn\": \"0x1f\","
		  " \"blocked_pages\": 0, \"groups\": []}]}", -EBADMSG },
		{ "{\"version\": 1, \"blocks\": [{\"block\": 1, \"first_pfn\": \"0x10\", \"last_pfn\": \"0x1f\","
		  " \"blocked_pages\": 1, \"groups\": [{\"first_pfn\": \"0x10\", \"last_pfn\": \"0x10\", \"pages\": 1,"
		  " \"page_list\": [{\"pfn\": \"0x10\", \"owners\": [{\"pid\": \"x\"}]}]}]}]}", -EBADMSG },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mo_pin_report **back = NULL;
		size_t n = 0;

		if (pins_json_read(cases[i].doc, &back, &n) != cases[i].error)
			fail_msg("case %zu: %s", i, cases[i].doc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_owners_hidden),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
