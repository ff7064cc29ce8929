/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <string.h>

#include "json-doc.h"
#include "pins-json.h"
#include "pins-json-read.h"
#include "util.h"

static inline void json_object_putp(json_object **o) { json_object_put(*o); }

/* @key of object @o: NULL when absent or null. */
static json_object *member(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || json_object_get_type(v) == json_type_null)
		return NULL;
	return v;
}

static int get_i64(json_object *o, const char *key, bool required, int64_t def, int64_t *ret)
{
	json_object *v = member(o, key);

	if (!v) {
		*ret = def;
		return required ? -EBADMSG : 0;
	}
	if (json_object_get_type(v) != json_type_int)
		return -EBADMSG;
	errno = 0;
	*ret = json_object_get_int64(v);
	return errno ? -EBADMSG : 0;
}

static int get_u64(json_object *o, const char *key, bool required, uint64_t *ret)
{
	int64_t v;
	int r = get_i64(o, key, required, 0, &v);

	if (r < 0 || v < 0)
		return -EBADMSG;
	*ret = (uint64_t) v;
	return 0;
}

/* "0x1f": hexadecimal, as pins-json.c writes addresses, PFNs and flag words. */
static int get_hex(json_object *o, const char *key, bool required, bool *have, uint64_t *ret)
{
	json_object *v = member(o, key);
	const char *s;
	uint64_t x = 0;
	size_t len;

	*ret = 0;
	if (have)
		*have = v;
	if (!v)
		return required ? -EBADMSG : 0;
	if (json_object_get_type(v) != json_type_string)
		return -EBADMSG;
	s = json_object_get_string(v);
	len = strlen(s);
	if (len < 3 || len > 18 || s[0] != '0' || s[1] != 'x')
		return -EBADMSG;
	for (size_t i = 2; i < len; i++) {
		int d = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
			s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 : -1;

		if (d < 0)
			return -EBADMSG;
		x = x << 4 | (uint64_t) d;
	}
	*ret = x;
	return 0;
}

static int get_bool(json_object *o, const char *key, bool *ret)
{
	json_object *v = member(o, key);

	*ret = false;
	if (!v)
		return 0;
	if (json_object_get_type(v) != json_type_boolean)
		return -EBADMSG;
	*ret = json_object_get_boolean(v);
	return 0;
}

/* A string member: NULL when absent or null. */
static int get_str(json_object *o, const char *key, const char **ret)
{
	json_object *v = member(o, key);

	*ret = NULL;
	if (!v)
		return 0;
	if (json_object_get_type(v) != json_type_string)
		return -EBADMSG;
	*ret = json_object_get_string(v);
	return 0;
}

static int get_strbuf(json_object *o, const char *key, char *buf, size_t size)
{
	const char *s;
	int r = get_str(o, key, &s);

	if (r < 0)
		return r;
	snprintf(buf, size, "%s", strempty(s));
	return 0;
}

/* Seconds with decimals, as mo_json_usec() writes them, to the millisecond. */
static int get_seconds(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v = member(o, key);
	double d;

	*ret = 0;
	if (!v)
		return 0;
	if (json_object_get_type(v) != json_type_double && json_object_get_type(v) != json_type_int)
		return -EBADMSG;
	d = json_object_get_double(v);
	if (!(d >= 0 && d < 1e12))
		return -EBADMSG;
	*ret = (uint64_t) (d * 1000.0 + 0.5) * 1000;
	return 0;
}

static int get_array(json_object *o, const char *key, bool required, json_object **ret, size_t *n)
{
	json_object *v = member(o, key);

	*ret = NULL;
	*n = 0;
	if (!v)
		return required ? -EBADMSG : 0;
	if (json_object_get_type(v) != json_type_array)
		return -EBADMSG;
	*ret = v;
	*n = json_object_array_length(v);
	return 0;
}

static json_object *object_at(json_object *a, size_t i)
{
	json_object *v = json_object_array_get_idx(a, i);

	return v && json_object_get_type(v) == json_type_object ? v : NULL;
}

/* "owners_errno": "EPERM" to -EPERM; a name this libc does not know reads as -EIO. */
static int get_errno(json_object *o, const char *what, int *ret)
{
	char key[32];
	const char *name;
	int r;

	snprintf(key, sizeof(key), "%s_errno", what);
	*ret = 0;
	r = get_str(o, key, &name);
	if (r < 0 || !name)
		return r;
	*ret = -EIO;
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);

		if (n && streq(n, name)) {
			*ret = -e;
			break;
		}
	}
	return 0;
}

static int get_evidence(json_object *o, unsigned *ret)
{
	json_object *a;
	size_t n;
	int r;

	*ret = 0;
	r = get_array(o, "evidence", false, &a, &n);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		json_object *v = json_object_array_get_idx(a, i);

		if (!v || json_object_get_type(v) != json_type_string)
			return -EBADMSG;
		for (unsigned bit = 1; bit <= MO_PIN_EV_UNMAPPED; bit <<= 1) {
			char name[32];

			mo_pin_evidence_format(bit, name, sizeof(name));
			if (streq(json_object_get_string(v), name))
				*ret |= bit;
		}
	}
	return r;
}

static int read_owner(json_object *o, struct mo_owner *w)
{
	const char *kind, *mapping, *cgroup;
	int64_t pid;
	int r;

	if (!o)
		return -EBADMSG;
	r = get_i64(o, "pid", true, 0, &pid);
	if (r >= 0 && (pid < 0 || pid > INT32_MAX))
		r = -EBADMSG;
	if (r >= 0)
		r = get_strbuf(o, "comm", w->comm, sizeof(w->comm));
	if (r >= 0)
		r = get_hex(o, "vaddr", false, NULL, &w->vaddr);
	if (r >= 0)
		r = get_str(o, "kind", &kind);
	if (r >= 0)
		r = get_str(o, "mapping", &mapping);
	if (r >= 0)
		r = get_str(o, "cgroup", &cgroup);
	if (r >= 0)
		r = get_hex(o, "file_offset", false, NULL, &w->file_offset);
	if (r >= 0)
		r = get_bool(o, "exclusive", &w->exclusive);
	if (r >= 0)
		r = get_bool(o, "file_shared", &w->file_shared);
	if (r < 0)
		return r;
	w->pid = (pid_t) pid;
	w->kind = MO_MAP_OTHER;
	for (enum mo_map_kind k = MO_MAP_ANON; kind && k < MO_MAP_OTHER; k++)
		if (streq(kind, mo_map_kind_to_string(k)))
			w->kind = k;
	if (mapping && !(w->mapping = strdup(mapping)))
		return -ENOMEM;
	if (cgroup && !(w->cgroup = strdup(cgroup)))
		return -ENOMEM;
	return 0;
}

static int read_page(json_object *o, struct mo_pin_page *p)
{
	json_object *owners;
	uint64_t found = 0;
	int64_t v = -1;
	size_t n;
	int r;

	if (!o)
		return -EBADMSG;
	r = get_hex(o, "pfn", true, NULL, &p->pfn);
	if (r >= 0)
		r = get_hex(o, "kpageflags", false, NULL, &p->kpageflags);
	if (r >= 0)
		r = get_evidence(o, &p->evidence);
	if (r >= 0)
		r = get_u64(o, "mappings", false, &found);
	if (r >= 0)
		r = get_bool(o, "in_kernel_log", &p->have_dump);
	if (r >= 0)
		r = get_i64(o, "extra_refs", false, -ENODATA, &v);
	p->extra_refs = v < 0 ? -ENODATA : v;
	if (r >= 0)
		r = get_i64(o, "foll_pins", false, -ENODATA, &v);
	p->pins = v < 0 ? -ENODATA : v;
	if (r >= 0)
		r = get_array(o, "owners", false, &owners, &n);
	if (r < 0)
		return r;
	p->n_found = (size_t) found;
	if (n) {
		p->owners = calloc(n, sizeof(*p->owners));
		if (!p->owners)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		/* counted first, so that mo_pin_report_free() frees what a failed one holds */
		p->n_owners++;
		r = read_owner(object_at(owners, i), &p->owners[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_dump(json_object *o, struct mo_page_dump *d)
{
	const char *kind = NULL;
	int64_t v = 0;
	int r;

	*d = (struct mo_page_dump) { .complete = true };
	r = get_hex(o, "pfn", false, &d->have_pfn, &d->pfn);
	if (r >= 0)
		r = get_i64(o, "refcount", false, -1, &d->refcount);
	if (r >= 0)
		r = get_i64(o, "mapcount", false, -1, &d->mapcount);
	if (r >= 0)
		r = get_i64(o, "folio_mapcount", false, -1, &d->folio_mapcount);
	if (r >= 0)
		r = get_i64(o, "entire_mapcount", false, -1, &d->entire_mapcount);
	if (r >= 0)
		r = get_i64(o, "nr_pages_mapped", false, -1, &d->nr_pages_mapped);
	if (r >= 0)
		r = get_i64(o, "pincount", false, -1, &d->pincount);
	if (r >= 0)
		r = get_i64(o, "order", false, 0, &v);
	if (r >= 0 && (v < 0 || v > 64))
		r = -EBADMSG;
	d->order = (int) v;
	if (r >= 0)
		r = get_str(o, "kind", &kind);
	if (r >= 0)
		r = get_hex(o, "mapping", false, &d->have_mapping, &d->mapping);
	if (r >= 0)
		r = get_hex(o, "index", false, NULL, &d->index);
	if (r >= 0)
		r = get_strbuf(o, "flags", d->flags_text, sizeof(d->flags_text));
	if (r >= 0)
		r = get_strbuf(o, "aops", d->aops, sizeof(d->aops));
	if (r >= 0)
		r = get_strbuf(o, "file", d->dentry, sizeof(d->dentry));
	if (r >= 0)
		r = get_strbuf(o, "reason", d->reason, sizeof(d->reason));
	if (r >= 0)
		r = get_i64(o, "migrate_ret", false, INT64_MIN, &v);
	if (r >= 0 && v != INT64_MIN && (v < INT32_MIN || v > INT32_MAX))
		r = -EBADMSG;
	d->migrate_failed = v != INT64_MIN;
	d->migrate_ret = d->migrate_failed ? (int) v : 0;
	if (r >= 0)
		r = get_bool(o, "isolate_failed", &d->isolate_failed);
	if (r >= 0)
		r = get_bool(o, "poisoned", &d->poisoned);
	if (r >= 0)
		r = get_u64(o, "kmsg_seq", false, &d->seq);
	if (r >= 0)
		r = get_seconds(o, "kmsg_time", &d->ts_usec);
	if (r < 0)
		return r;
	d->kind = !kind ? MO_PAGE_UNKNOWN : streq(kind, "anon") ? MO_PAGE_ANON : streq(kind, "ksm") ? MO_PAGE_KSM :
		  streq(kind, "file") ? MO_PAGE_FILE : MO_PAGE_UNKNOWN;
	return 0;
}

static int read_group(json_object *o, uint64_t block, struct mo_pin_group *g)
{
	json_object *pages, *dump;
	const char *cls = NULL;
	uint64_t pid = 0, passes = 0;
	size_t n;
	int r;

	if (!o)
		return -EBADMSG;
	g->block = block;
	r = get_hex(o, "first_pfn", true, NULL, &g->first_pfn);
	if (r >= 0)
		r = get_hex(o, "last_pfn", true, NULL, &g->last_pfn);
	if (r >= 0)
		r = get_u64(o, "pages", true, &g->npages);
	if (r >= 0)
		r = get_u64(o, "folios", false, &g->folios);
	if (r >= 0)
		r = get_hex(o, "kpageflags", false, NULL, &g->kpageflags);
	if (r >= 0)
		r = get_evidence(o, &g->evidence);
	if (r >= 0)
		r = get_u64(o, "owner_pid", false, &pid);
	if (r >= 0 && pid > UINT32_MAX)
		r = -EBADMSG;
	if (r >= 0)
		r = get_str(o, "class", &cls);
	if (r >= 0 && cls) {
		g->tracked = true;
		g->cls = MO_BLOCKED_PENDING;
		for (enum mo_blocked_class c = MO_BLOCKED_PENDING; c <= MO_BLOCKED_LONG_LIVED; c++)
			if (streq(cls, mo_blocked_class_to_string(c)))
				g->cls = c;
		r = get_u64(o, "blocked_usec", true, &g->duration);
		if (r >= 0)
			r = get_u64(o, "attempts_seen", true, &passes);
		if (r >= 0 && passes > UINT_MAX)
			r = -EBADMSG;
		g->passes = (unsigned) passes;
	}
	if (r >= 0 && (g->last_pfn < g->first_pfn))
		r = -EBADMSG;
	if (r < 0)
		return r;
	g->owner_pid = (uint32_t) pid;
	dump = member(o, "kernel_log");
	if (dump) {
		if (json_object_get_type(dump) != json_type_object)
			return -EBADMSG;
		g->have_dump = true;
		r = read_dump(dump, &g->dump);
		if (r < 0)
			return r;
	}
	r = get_array(o, "page_list", false, &pages, &n);
	if (r < 0)
		return r;
	if (n) {
		g->pages = calloc(n, sizeof(*g->pages));
		if (!g->pages)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		g->n_pages++;
		r = read_page(object_at(pages, i), &g->pages[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_report(json_object *o, struct mo_pin_report *rep)
{
	json_object *groups;
	uint64_t last;
	size_t n;
	int r;

	if (!o)
		return -EBADMSG;
	r = get_u64(o, "block", true, &rep->block);
	if (r >= 0)
		r = get_hex(o, "first_pfn", true, NULL, &rep->first_pfn);
	if (r >= 0)
		r = get_hex(o, "last_pfn", true, NULL, &last);
	if (r >= 0 && (last < rep->first_pfn || last - rep->first_pfn == UINT64_MAX))
		r = -EBADMSG;
	if (r >= 0)
		r = get_u64(o, "blocked_pages", true, &rep->pages);
	if (r >= 0)
		r = get_errno(o, "owners", &rep->owners_error);
	if (r >= 0)
		r = get_errno(o, "kmsg", &rep->kmsg_error);
	if (r >= 0)
		r = get_errno(o, "census", &rep->census_error);
	if (r >= 0)
		r = get_array(o, "groups", true, &groups, &n);
	if (r < 0)
		return r;
	rep->n_pfns = last - rep->first_pfn + 1;
	if (n) {
		rep->groups = calloc(n, sizeof(*rep->groups));
		if (!rep->groups)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		rep->n_groups++;
		r = read_group(object_at(groups, i), rep->block, &rep->groups[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

int pins_json_read(const char *doc, struct mo_pin_report ***ret, size_t *n)
{
	_cleanup_(json_object_putp) json_object *root = NULL;
	struct mo_pin_report **v = NULL;
	json_object *blocks;
	int64_t version;
	size_t k = 0;
	int r;

	r = json_doc_parse(doc, &root);       /* strict, UTF-8 validated */
	if (r < 0)
		return r;
	r = get_i64(root, "version", true, 0, &version);
	if (r < 0)
		return r;
	if (version != MO_PINS_JSON_VERSION)
		return -EPROTONOSUPPORT;
	r = get_array(root, "blocks", true, &blocks, &k);
	if (r < 0)
		return r;
	v = calloc(k ? k : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < k; i++) {
		v[i] = calloc(1, sizeof(**v));
		if (!v[i]) {
			r = -ENOMEM;
			break;
		}
		r = read_report(object_at(blocks, i), v[i]);
		if (r < 0)
			break;
	}
	if (r < 0) {
		mo_pin_reports_free(v, k);
		return r;
	}
	*ret = v;
	*n = k;
	return 0;
}
