/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "kpageflags.h"
#include "pins-json.h"
#include "util.h"

static void json_hex(struct mo_json *j, const char *key, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
	mo_json_string(j, key, buf);
}

/* A value the kernel may not have printed: null without it. */
static void json_hex_or_null(struct mo_json *j, const char *key, bool have, uint64_t v)
{
	if (have)
		json_hex(j, key, v);
	else
		mo_json_null(j, key);
}

/* A count the kernel may not have printed: null when negative. */
static void json_count(struct mo_json *j, const char *key, int64_t v)
{
	if (v >= 0)
		mo_json_i64(j, key, v);
	else
		mo_json_null(j, key);
}

static void json_owner(struct mo_json *j, const char *key, const struct mo_owner *w)
{
	mo_json_begin_object(j, key);
	mo_json_i64(j, "pid", w->pid);
	mo_json_string(j, "comm", w->comm);
	json_hex(j, "vaddr", w->vaddr);
	mo_json_string(j, "mapping", w->mapping);
	mo_json_string(j, "kind", mo_map_kind_to_string(w->kind));
	mo_json_string(j, "cgroup", w->cgroup);
	json_hex(j, "file_offset", w->file_offset);
	mo_json_bool(j, "exclusive", w->exclusive);
	mo_json_bool(j, "file_shared", w->file_shared);
	mo_json_end_object(j);
}

static const char *page_kind_str(enum mo_page_kind k)
{
	return k == MO_PAGE_ANON ? "anon" : k == MO_PAGE_KSM ? "ksm" : k == MO_PAGE_FILE ? "file" : NULL;
}

static void json_dump(struct mo_json *j, const char *key, const struct mo_page_dump *d)
{
	mo_json_begin_object(j, key);
	json_hex_or_null(j, "pfn", d->have_pfn, d->pfn);
	mo_json_i64(j, "refcount", d->refcount);
	mo_json_i64(j, "mapcount", d->mapcount);
	json_count(j, "folio_mapcount", d->folio_mapcount);
	json_count(j, "entire_mapcount", d->entire_mapcount);
	json_count(j, "nr_pages_mapped", d->nr_pages_mapped);
	json_count(j, "pincount", d->pincount);
	mo_json_i64(j, "order", d->order);
	json_count(j, "extra_refs", mo_page_dump_extra_refs(d));
	json_count(j, "foll_pins", mo_page_dump_pins(d));
	mo_json_string(j, "kind", page_kind_str(d->kind));
	json_hex_or_null(j, "mapping", d->have_mapping, d->mapping);
	json_hex(j, "index", d->index);
	mo_json_string(j, "flags", d->flags_text);
	mo_json_string(j, "aops", d->aops[0] ? d->aops : NULL);
	mo_json_string(j, "file", d->dentry[0] ? d->dentry : NULL);
	mo_json_string(j, "reason", d->reason[0] ? d->reason : NULL);
	if (d->migrate_failed)
		mo_json_i64(j, "migrate_ret", d->migrate_ret);
	else
		mo_json_null(j, "migrate_ret");
	mo_json_bool(j, "isolate_failed", d->isolate_failed);
	mo_json_bool(j, "poisoned", d->poisoned);
	mo_json_u64(j, "kmsg_seq", d->seq);
	mo_json_usec(j, "kmsg_time", d->ts_usec);
	mo_json_end_object(j);
}

static void json_evidence(struct mo_json *j, const char *key, unsigned ev)
{
	char buf[64], *save = NULL;

	mo_pin_evidence_format(ev, buf, sizeof(buf));
	mo_json_begin_array(j, key);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		mo_json_string(j, NULL, t);
	mo_json_end_array(j);
}

/* "owners_error": the message, "owners_errno": "EPERM"; both null for none. */
static void json_error(struct mo_json *j, const char *what, int e)
{
	char key[32];

	snprintf(key, sizeof(key), "%s_error", what);
	mo_json_string(j, key, e ? strerror(-e) : NULL);
	snprintf(key, sizeof(key), "%s_errno", what);
	mo_json_string(j, key, e ? strerrorname_np(-e) : NULL);
}

static void json_page(struct mo_json *j, const struct mo_pin_page *p, bool owners)
{
	mo_json_begin_object(j, NULL);
	json_hex(j, "pfn", p->pfn);
	json_hex(j, "kpageflags", p->kpageflags);
	json_evidence(j, "evidence", p->evidence);
	mo_json_u64(j, "mappings", p->n_found);
	mo_json_bool(j, "in_kernel_log", p->have_dump);
	json_count(j, "extra_refs", p->have_dump ? p->extra_refs : -1);
	json_count(j, "foll_pins", p->have_dump ? p->pins : -1);
	mo_json_begin_array(j, "owners");
	for (size_t w = 0; owners && w < p->n_owners; w++)
		json_owner(j, NULL, &p->owners[w]);
	mo_json_end_array(j);
	mo_json_end_object(j);
}

static void json_group(struct mo_json *j, const struct mo_pin_group *g, int owners_error, bool owners)
{
	const struct mo_pin_page *p0 = g->n_pages ? &g->pages[0] : NULL;
	char flags[256];

	mo_json_begin_object(j, NULL);
	json_hex(j, "first_pfn", g->first_pfn);
	json_hex(j, "last_pfn", g->last_pfn);
	mo_json_u64(j, "pages", g->npages);
	mo_json_u64(j, "folios", g->folios);
	json_hex(j, "kpageflags", g->kpageflags);
	mo_kpageflags_format(g->kpageflags, flags, sizeof(flags));
	mo_json_string(j, "flags", flags);
	mo_json_string(j, "what", mo_kpageflags_what(g->kpageflags));
	json_evidence(j, "evidence", g->evidence);
	mo_json_u64(j, "owner_pid", owners ? g->owner_pid : 0);
	if (g->tracked) {
		mo_json_string(j, "class", mo_blocked_class_to_string(g->cls));
		mo_json_usec(j, "blocked_seconds", g->duration);
		mo_json_u64(j, "blocked_usec", g->duration);
		mo_json_u64(j, "attempts_seen", g->passes);
	} else {
		mo_json_null(j, "class");
		mo_json_null(j, "blocked_seconds");
		mo_json_null(j, "blocked_usec");
		mo_json_null(j, "attempts_seen");
	}
	if (owners && p0 && p0->n_owners)
		json_owner(j, "owner", &p0->owners[0]);
	else
		mo_json_null(j, "owner");
	mo_json_string(j, "unmapped", p0 && p0->n_found == 0 && !owners_error ?
		       mo_kpageflags_unmapped_why(g->kpageflags) : NULL);
	if (g->have_dump)
		json_dump(j, "kernel_log", &g->dump);
	else
		mo_json_null(j, "kernel_log");
	mo_json_begin_array(j, "page_list");
	for (size_t k = 0; g->pages && k < g->n_pages; k++)
		json_page(j, &g->pages[k], owners);
	mo_json_end_array(j);
	mo_json_end_object(j);
}

void mo_pins_json_report(struct mo_json *j, const char *key, const struct mo_pin_report *r, bool owners)
{
	int owners_error = owners ? r->owners_error : -EACCES;

	mo_json_begin_object(j, key);
	mo_json_u64(j, "block", r->block);
	json_hex(j, "first_pfn", r->first_pfn);
	json_hex(j, "last_pfn", r->first_pfn + r->n_pfns - 1);
	mo_json_u64(j, "blocked_pages", r->pages);
	json_error(j, "owners", owners_error);
	/* not asked (-ENOTSUP) is no error */
	json_error(j, "kmsg", r->kmsg_error == -ENOTSUP ? 0 : r->kmsg_error);
	json_error(j, "census", r->census_error);
	mo_json_begin_array(j, "groups");
	for (size_t i = 0; i < r->n_groups; i++)
		json_group(j, &r->groups[i], owners_error, owners);
	mo_json_end_array(j);
	mo_json_end_object(j);
}

struct doc {
	struct mo_pin_report *const *reports;
	size_t n;
	bool owners;
};

static void write_doc(struct mo_json *j, const void *userdata)
{
	const struct doc *d = userdata;

	mo_json_begin_object(j, NULL);
	mo_json_u64(j, "version", MO_PINS_JSON_VERSION);
	mo_json_begin_array(j, "blocks");
	for (size_t i = 0; i < d->n; i++)
		mo_pins_json_report(j, NULL, d->reports[i], d->owners);
	mo_json_end_array(j);
	mo_json_end_object(j);
}

int mo_pins_json_format(struct mo_pin_report *const *reports, size_t n, bool owners, char **ret)
{
	const struct doc d = { .reports = reports, .n = n, .owners = owners };

	return mo_json_to_string(write_doc, &d, ret);
}

void mo_pin_reports_free(struct mo_pin_report **reports, size_t n)
{
	for (size_t i = 0; reports && i < n; i++)
		mo_pin_report_free(reports[i]);
	free(reports);
}
