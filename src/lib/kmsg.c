/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "kmsg.h"
#include "parse.h"
#include "util.h"

/* ------------------------------------------------------------------------ */
/* one /dev/kmsg record                                                     */

/* Undo the kernel's \xNN escapes in place; returns the new length. */
static size_t unescape(char *s, size_t len)
{
	size_t i = 0, o = 0;

	while (i < len) {
		uint64_t c;

		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' &&
		    mo_parse_u64_span(s + i + 2, s + i + 4, 16, &c, NULL) == 0) {
			s[o++] = (char) c;
			i += 4;
			continue;
		}
		s[o++] = s[i++];
	}
	s[o] = '\0';
	return o;
}

int mo_kmsg_parse(char *buf, size_t len, struct mo_kmsg_record *rec)
{
	char *semi, *msg, *msg_end, *end = buf + len, *f, *next;
	uint64_t prio;
	int field = 0, r;

	*rec = (struct mo_kmsg_record) {};
	semi = memchr(buf, ';', len);
	if (!semi)
		return -EBADMSG;
	/* The prefix never holds a newline; a ';' after one belongs to a message. */
	if (memchr(buf, '\n', (size_t) (semi - buf)))
		return -EBADMSG;

	for (f = buf; f < semi; f = next + 1, field++) {
		next = memchr(f, ',', (size_t) (semi - f));
		if (!next)
			next = semi;
		switch (field) {
		case 0:
			r = mo_parse_u64_span(f, next, 10, &prio, NULL);
			if (r < 0 || prio > 0xffffff)
				return -EBADMSG;
			rec->level = (unsigned) (prio & 7);
			rec->facility = (unsigned) (prio >> 3);
			break;
		case 1:
			if (mo_parse_u64_span(f, next, 10, &rec->seq, NULL) < 0)
				return -EBADMSG;
			break;
		case 2:
			if (mo_parse_u64_span(f, next, 10, &rec->ts_usec, NULL) < 0)
				return -EBADMSG;
			break;
		case 3:
			/* '-' normally, 'c' for a continuation, '+' in old kernels */
			if (next - f != 1)
				return -EBADMSG;
			rec->cont = *f == 'c';
			break;
		default:
			/* Later fields: "caller=T123" (CONFIG_PRINTK_CALLER), others ignored. */
			if (next - f > 7 && strneq(f, "caller=", 7)) {
				*next = '\0';
				rec->caller = f + 7;
			}
			break;
		}
	}
	if (field < 4)
		return -EBADMSG;

	msg = semi + 1;
	msg_end = memchr(msg, '\n', (size_t) (end - msg));
	if (msg_end) {
		char *dict = msg_end + 1;

		*msg_end = '\0';
		if (dict < end && *dict == ' ') {
			/* NUL-terminate the dict lines: the caller gave us len + 1 bytes. */
			*end = '\0';
			rec->dict = dict;
		}
	} else {
		msg_end = end;
	}
	rec->message_len = unescape(msg, (size_t) (msg_end - msg));
	rec->message = msg;
	return 0;
}

int mo_kmsg_dict_get(const struct mo_kmsg_record *rec, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *p = rec->dict;

	while (p && *p) {
		const char *eol = strchrnul(p, '\n');

		if (*p == ' ' && (size_t) (eol - p) > klen + 1 && strneq(p + 1, key, klen) && p[1 + klen] == '=') {
			const char *v = p + 2 + klen;
			size_t vlen = (size_t) (eol - v);

			if (vlen + 1 > size)
				return -ENOBUFS;
			memcpy(buf, v, vlen);
			buf[vlen] = '\0';
			return (int) vlen;
		}
		p = *eol ? eol + 1 : eol;
	}
	return -ENOENT;
}

/* ------------------------------------------------------------------------ */
/* dump_page() records                                                      */

/* Unrelated lines tolerated inside a dump before it is considered cut short. */
#define DUMP_MAX_FOREIGN 32

struct mo_dump_parser {
	mo_kmsg_event_cb cb;
	void *userdata;
	bool in_dump;
	unsigned foreign;
	struct mo_page_dump dump;
	enum mo_page_kind pending_kind; /* a bare "anon" line (pre-5.x kernels) */
	/* the last hotplug line, waiting for its dump */
	bool ctx_valid;
	enum mo_kmsg_event_type ctx_type;
	uint64_t ctx_pfn;
	int ctx_ret;
};

int mo_dump_parser_new(mo_kmsg_event_cb cb, void *userdata, struct mo_dump_parser **ret)
{
	struct mo_dump_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->cb = cb;
	p->userdata = userdata;
	*ret = p;
	return 0;
}

void mo_dump_parser_free(struct mo_dump_parser *p)
{
	free(p);
}

static void strcpy_trunc(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* dump_page() prints a NULL pointer as "(null)" where a value was expected: 0. */
static bool is_null(const char *s, const char *end)
{
	return end - s == 6 && strneq(s, "(null)", 6);
}

/* [s, end) entirely as a hexadecimal number, "0x" or not ("%lx", "%#lx"). */
static bool parse_hex(const char *s, const char *end, uint64_t *ret)
{
	if (is_null(s, end)) {
		*ret = 0;
		return true;
	}
	return mo_parse_u64_span(s, end, 16 | MO_PARSE_0X, ret, NULL) == 0;
}

/* [s, end) entirely as a decimal, '-' allowed ("%d" of a count). */
static bool parse_dec(const char *s, const char *end, int64_t *ret)
{
	if (is_null(s, end)) {
		*ret = 0;
		return true;
	}
	return mo_parse_i64_span(s, end, ret, NULL) == 0;
}

/*
 * The "key:value" tokens of a "page:" or "head:" line. On a "head:" line,
 * "mapcount" is the folio's (6.8+); on the "page:" line, the page's.
 */
static void parse_counts(struct mo_page_dump *d, const char *s, bool head_line)
{
	/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Branch): as in skip_blanks() */
	while (*s) {
		const char *tok, *tok_end, *colon;
		size_t klen;
		int64_t sv;
		uint64_t uv;

		s = skip_blanks(s);
		tok = s;
		tok_end = strchrnul(tok, ' ');
		s = tok_end;
		colon = memchr(tok, ':', (size_t) (tok_end - tok));
		if (!colon)
			continue; /* the page or head pointer */
		klen = (size_t) (colon - tok);
		colon++;
#define KEY(k) (klen == sizeof(k) - 1 && strneq(tok, k, klen))
		if (KEY("refcount") || KEY("count")) {
			if (parse_dec(colon, tok_end, &sv))
				d->refcount = sv;
		} else if (KEY("mapcount")) {
			if (parse_dec(colon, tok_end, &sv)) {
				if (head_line)
					d->folio_mapcount = sv;
				else
					d->mapcount = sv;
			}
		} else if (KEY("total_mapcount")) {
			if (parse_dec(colon, tok_end, &sv))
				d->folio_mapcount = sv;
		} else if (KEY("mapping")) {
			if (parse_hex(colon, tok_end, &uv)) {
				d->mapping = uv;
				d->have_mapping = true;
			} else if (tok_end > colon) {
				/* "(____ptrval____)" before the hash key is ready: set, unknown value */
				d->mapping = 1;
				d->have_mapping = true;
			}
		} else if (KEY("index")) {
			if (parse_hex(colon, tok_end, &uv))
				d->index = uv;
		} else if (KEY("pfn")) {
			if (parse_hex(colon, tok_end, &uv)) {
				d->pfn = uv;
				d->have_pfn = true;
			}
		} else if (KEY("order")) {
			if (parse_dec(colon, tok_end, &sv) && sv >= 0 && sv < 64)
				d->order = (int) sv;
		} else if (KEY("compound_mapcount") || KEY("entire_mapcount")) {
			if (parse_dec(colon, tok_end, &sv))
				d->entire_mapcount = sv;
		} else if (KEY("nr_pages_mapped") || KEY("subpages_mapcount")) {
			if (parse_dec(colon, tok_end, &sv))
				d->nr_pages_mapped = sv;
		} else if (KEY("pincount") || KEY("compound_pincount")) {
			if (parse_dec(colon, tok_end, &sv))
				d->pincount = sv;
		}
#undef KEY
	}
}

/* "[anon |ksm ]flags: 0x17ffffc0080014(uptodate|lru|...)[ CMA]" */
static bool parse_flags_line(struct mo_page_dump *d, const char *s)
{
	enum mo_page_kind kind = MO_PAGE_UNKNOWN;
	const char *num, *num_end, *open, *close;
	uint64_t v;

	if (startswith(s, "anon ")) {
		kind = MO_PAGE_ANON;
		s += 5;
	} else if (startswith(s, "ksm ")) {
		kind = MO_PAGE_KSM;
		s += 4;
	}
	if (!startswith(s, "flags: "))
		return false;
	num = s + 7;
	open = strchr(num, '(');
	num_end = open ? open : strchrnul(num, ' ');
	if (!parse_hex(num, num_end, &v))
		return false;
	d->flags = v;
	d->have_flags = true;
	if (kind != MO_PAGE_UNKNOWN)
		d->kind = kind;
	if (open) {
		close = strrchr(open, ')');
		if (close) {
			strcpy_trunc(d->flags_text, sizeof(d->flags_text), open + 1, (size_t) (close - open - 1));
			d->cma = strstr(close, " CMA") != NULL;
		} else {
			/* cut short: keep what there is */
			strcpy_trunc(d->flags_text, sizeof(d->flags_text), open + 1, strlen(open + 1));
		}
	}
	return true;
}

/*
 * dump_mapping() (fs/inode.c), and __dump_page()'s own older variant:
 *   aops:%ps | aops:%ps invalid inode:%px | aops:%ps ino:%lx
 *   aops:%ps ino:%lx invalid dentry:%px | aops:%ps ino:%lx dentry name:"%pd"
 *   aops:%ps ino:%lx dentry name(?):"%s" | mapping->aops:%ps dentry name:"%pd"
 */
static bool parse_aops_line(struct mo_page_dump *d, const char *s)
{
	static const char *const stops[] = { " ino:", " invalid ", " with ", " dentry name" };
	const char *sym, *sym_end, *p;

	if (startswith(s, "mapping->"))
		s += 9;
	if (startswith(s, "aops:"))
		sym = s + 5;
	else if (startswith(s, "a_ops:"))
		sym = s + 6;
	else
		return false;
	sym_end = sym + strlen(sym);
	for (size_t i = 0; i < ARRAY_SIZE(stops); i++) {
		const char *hit = strstr(sym, stops[i]);

		if (hit && hit < sym_end)
			sym_end = hit;
	}
	strcpy_trunc(d->aops, sizeof(d->aops), sym, (size_t) (sym_end - sym));

	p = strstr(sym_end, " ino:");
	if (p) {
		const char *v = p + 5, *e = strchrnul(v, ' ');
		uint64_t ino;

		if (parse_hex(v, e, &ino)) {
			d->ino = ino;
			d->have_ino = true;
		}
	}
	p = strstr(sym_end, "dentry name");
	if (p) {
		const char *q = strchr(p, '"'), *qe;

		if (q) {
			q++;
			qe = strrchr(q, '"');
			if (!qe)
				qe = q + strlen(q);
			strcpy_trunc(d->dentry, sizeof(d->dentry), q, (size_t) (qe - q));
		}
	}
	return true;
}

static int emit(struct mo_dump_parser *p, const struct mo_kmsg_event *ev)
{
	return p->cb ? p->cb(ev, p->userdata) : 0;
}

static int finish_dump(struct mo_dump_parser *p)
{
	struct mo_page_dump *d = &p->dump;
	struct mo_kmsg_event ev;

	if (!p->in_dump)
		return 0;
	p->in_dump = false;
	if (d->kind == MO_PAGE_UNKNOWN && ((d->have_mapping && d->mapping) || d->aops[0]))
		d->kind = MO_PAGE_FILE;
	ev = (struct mo_kmsg_event) {
		.type = MO_KMSG_EV_DUMP,
		.seq = d->seq,
		.ts_usec = d->ts_usec,
		.pfn = d->pfn,
		.dump = d,
	};
	return emit(p, &ev);
}

static void start_dump(struct mo_dump_parser *p, uint64_t seq, uint64_t ts_usec)
{
	p->dump = (struct mo_page_dump) {
		.seq = seq,
		.ts_usec = ts_usec,
		.refcount = -1,
		.mapcount = -1,
		.folio_mapcount = -1,
		.entire_mapcount = -1,
		.nr_pages_mapped = -1,
		.pincount = -1,
		.kind = p->pending_kind,
	};
	p->pending_kind = MO_PAGE_UNKNOWN;
	p->in_dump = true;
	p->foreign = 0;
}

static void attach_ctx(struct mo_dump_parser *p)
{
	struct mo_page_dump *d = &p->dump;

	if (!p->ctx_valid)
		return;
	if (!d->have_pfn || d->pfn == p->ctx_pfn) {
		if (p->ctx_type == MO_KMSG_EV_MIGRATE_FAILED) {
			d->migrate_failed = true;
			d->migrate_ret = p->ctx_ret;
		} else {
			d->isolate_failed = true;
		}
	}
	p->ctx_valid = false;
}

/* "page:..." — the first line of a dump. */
static int header_line(struct mo_dump_parser *p, const char *s, uint64_t seq, uint64_t ts_usec)
{
	int r = finish_dump(p);

	if (r < 0)
		return r;
	start_dump(p, seq, ts_usec);
	if (strstr(s, " is uninitialized and poisoned"))
		p->dump.poisoned = true;
	else
		parse_counts(&p->dump, s + 5, false);
	attach_ctx(p);
	return 0;
}

/* Hexadecimal digits (no "0x") at *s, then @stop if not NULL; *s moves past the digits. */
static bool parse_hex_until(const char **s, const char *stop, uint64_t *ret)
{
	const char *e;
	uint64_t v;

	if (mo_parse_u64_span(*s, NULL, 16, &v, &e) < 0 || (stop && !startswith(e, stop)))
		return false;
	*ret = v;
	*s = e;
	return true;
}

static int hotplug_line(struct mo_dump_parser *p, const char *s, uint64_t seq, uint64_t ts_usec, bool *handled)
{
	struct mo_kmsg_event ev = { .seq = seq, .ts_usec = ts_usec };
	const char *rest;
	int r;

	*handled = false;
	if (startswith(s, "migrating pfn ")) {
		rest = s + 14;
		if (!parse_hex_until(&rest, " failed", &ev.pfn))
			return 0;
		rest += 7;
		ev.type = MO_KMSG_EV_MIGRATE_FAILED;
		if (startswith(rest, " ret:")) {
			const char *e;
			int64_t ret;

			if (mo_parse_i64_span(rest + 5, NULL, &ret, &e) == 0) {
				if (ret >= INT32_MIN && ret <= INT32_MAX)
					ev.ret = (int) ret;
				rest = e;
			}
		}
	} else if (startswith(s, "failed to isolate pfn ")) {
		rest = s + 22;
		if (!parse_hex_until(&rest, NULL, &ev.pfn))
			return 0;
		ev.type = MO_KMSG_EV_ISOLATE_FAILED;
	} else {
		return 0;
	}

	*handled = true;
	r = finish_dump(p);
	if (r < 0)
		return r;
	p->ctx_valid = true;
	p->ctx_type = ev.type;
	p->ctx_pfn = ev.pfn;
	p->ctx_ret = ev.ret;
	r = emit(p, &ev);
	if (r < 0)
		return r;
	/* Old kernels printed the dump's first line on the same record. */
	rest = skip_blanks(rest);
	if (startswith(rest, "page:"))
		return header_line(p, rest, seq, ts_usec);
	return 0;
}

int mo_dump_parser_feed_line(struct mo_dump_parser *p, const char *msg, uint64_t seq, uint64_t ts_usec)
{
	char line[1024];
	struct mo_page_dump *d = &p->dump;
	const char *s;
	size_t len;
	bool handled;
	int r;

	if (!msg)
		return 0;
	/* Work on a trimmed copy; dump lines are short, longer ones are cut. */
	s = skip_blanks(msg);
	len = strcspn(s, "\n");
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\r' || s[len - 1] == '\t'))
		len--;
	strcpy_trunc(line, sizeof(line), s, len);
	s = line;

	r = hotplug_line(p, s, seq, ts_usec, &handled);
	if (r < 0 || handled)
		return r;
	if (startswith(s, "page:") && !startswith(s, "page:\t"))
		return header_line(p, s, seq, ts_usec);
	/* pre-5.x kernels printed the kind on a line of its own, before "flags:" */
	if (streq(s, "anon") || streq(s, "ksm")) {
		enum mo_page_kind k = streq(s, "anon") ? MO_PAGE_ANON : MO_PAGE_KSM;

		if (p->in_dump)
			d->kind = k;
		else
			p->pending_kind = k;
		return 0;
	}
	if (!p->in_dump)
		return 0;

	if (startswith(s, "page dumped because:")) {
		strcpy_trunc(d->reason, sizeof(d->reason), skip_blanks(s + 20), strlen(skip_blanks(s + 20)));
		d->complete = true;
		return finish_dump(p);
	}
	if (startswith(s, "head:")) {
		/* "head:%p order:..." (6.1), "head: order:..." (6.8+); else a hex dump row */
		if (strstr(s, " order:"))
			parse_counts(d, s + 5, true);
		return 0;
	}
	if (startswith(s, "raw:"))
		return 0;
	if (startswith(s, "memcg:") || startswith(s, "page->mem_cgroup:")) {
		const char *v = strchr(s, ':') + 1;
		uint64_t m;

		if (parse_hex(v, v + strlen(v), &m))
			d->memcg = m;
		return 0;
	}
	if (startswith(s, "page_type:")) {
		const char *v = skip_blanks(s + 10);

		strcpy_trunc(d->page_type, sizeof(d->page_type), v, strlen(v));
		return 0;
	}
	if (parse_flags_line(d, s) || parse_aops_line(d, s))
		return 0;
	if (startswith(s, "invalid mapping:") || startswith(s, "failed to read mapping"))
		return 0;

	/* Someone else's line. Too many of them and this dump was cut short. */
	if (++p->foreign > DUMP_MAX_FOREIGN)
		return finish_dump(p);
	return 0;
}

int mo_dump_parser_feed(struct mo_dump_parser *p, const struct mo_kmsg_record *rec)
{
	return mo_dump_parser_feed_line(p, rec->message, rec->seq, rec->ts_usec);
}

int mo_dump_parser_flush(struct mo_dump_parser *p)
{
	p->ctx_valid = false;
	p->pending_kind = MO_PAGE_UNKNOWN;
	return finish_dump(p);
}

bool mo_page_dump_has_flag(const struct mo_page_dump *d, const char *name)
{
	size_t n = strlen(name);
	const char *s = d->flags_text;

	if (n == 0)
		return false;
	while (*s) {
		const char *e = strchrnul(s, '|');

		if ((size_t) (e - s) == n && strneq(s, name, n))
			return true;
		s = *e ? e + 1 : e;
	}
	return false;
}

bool mo_page_dump_in_cache(const struct mo_page_dump *d)
{
	if (d->have_mapping) {
		if (d->mapping == 0)
			return false;
		/*
		 * Kernels before 5.x printed page->mapping raw, and no pfn: for an
		 * anonymous page that is the anon_vma pointer with bit 0
		 * (PAGE_MAPPING_ANON) set, swap cache or not.
		 */
		if (!d->have_pfn && d->kind == MO_PAGE_ANON && (d->mapping & 1))
			return mo_page_dump_has_flag(d, "swapcache");
		return true;
	}
	/* No mapping field at all: fall back to the flags. */
	return mo_page_dump_has_flag(d, "swapcache") || d->aops[0];
}

int64_t mo_page_dump_extra_refs(const struct mo_page_dump *d)
{
	int64_t mapcount, cache = 0, held = 0, extra;

	/* no folio is larger than a PUD (order 18 on x86-64): anything else is noise */
	if (d->refcount < 0 || d->poisoned || d->order > 30)
		return -ENODATA;
	if (d->order > 0) {
		if (d->folio_mapcount >= 0)
			mapcount = d->folio_mapcount;
		else
			return -ENODATA;
	} else {
		if (d->mapcount < 0)
			return -ENODATA;
		mapcount = d->mapcount;
	}
	if (mo_page_dump_in_cache(d))
		cache = INT64_C(1) << d->order;
	if (mo_page_dump_has_flag(d, "private"))
		cache++;
	if (d->isolate_failed || d->migrate_failed ||
	    streq(d->reason, "migration failure") || streq(d->reason, "isolation failed"))
		held = 1;
	extra = d->refcount - mapcount - cache - held;
	return extra < 0 ? -ERANGE : extra;
}

int64_t mo_page_dump_pins(const struct mo_page_dump *d)
{
	int64_t extra;

	if (d->order > 0 && d->pincount >= 0)
		return d->pincount;
	extra = mo_page_dump_extra_refs(d);
	if (extra < 0)
		return extra;
	if (d->order > 0)
		return -ENODATA; /* large folio without a pincount: unknown */
	return extra / MO_GUP_PIN_COUNTING_BIAS;
}

/* ------------------------------------------------------------------------ */
/* the reader                                                               */

struct mo_kmsg_reader {
	int fd;
	bool is_file;
	bool have_seq;
	uint64_t last_seq;
	uint64_t lost;
	/* file mode: a window [start, len) over what was read of the file */
	size_t start, len;
	char buf[2 * MO_KMSG_RECORD_MAX + 1];
	/* the record handed out, parsed in place */
	char rec[MO_KMSG_RECORD_MAX + 1];
};

int mo_kmsg_reader_open(const struct mo_root *root, enum mo_kmsg_whence whence, struct mo_kmsg_reader **ret)
{
	_cleanup_close_ int fd = -1;
	struct mo_kmsg_reader *r;
	struct stat st;

	fd = mo_root_open_dev(root, "kmsg", O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode) && !S_ISREG(st.st_mode))
		return -ENODEV;
	/*
	 * Our own file position: SEEK_END on /dev/kmsg moves only this
	 * descriptor past the records logged so far.
	 */
	if (whence == MO_KMSG_FROM_NOW && lseek(fd, 0, SEEK_END) < 0)
		return -errno;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->is_file = S_ISREG(st.st_mode);
	r->fd = TAKE_FD(fd);
	*ret = r;
	return 0;
}

void mo_kmsg_reader_free(struct mo_kmsg_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}

int mo_kmsg_reader_fd(const struct mo_kmsg_reader *r)
{
	return r->fd;
}

uint64_t mo_kmsg_reader_lost(const struct mo_kmsg_reader *r)
{
	return r->lost;
}

/* Parse @n bytes at r->rec (NUL-terminated at n); 1 on success, 0 when skipped. */
static int account(struct mo_kmsg_reader *r, size_t n, struct mo_kmsg_record *rec)
{
	if (mo_kmsg_parse(r->rec, n, rec) < 0) {
		r->lost++;
		return 0;
	}
	if (r->have_seq && rec->seq > r->last_seq + 1)
		r->lost += rec->seq - r->last_seq - 1;
	r->have_seq = true;
	r->last_seq = rec->seq;
	return 1;
}

static int read_device(struct mo_kmsg_reader *r, struct mo_kmsg_record *rec)
{
	for (;;) {
		ssize_t n = read(r->fd, r->rec, MO_KMSG_RECORD_MAX);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			if (errno == EPIPE) {
				/*
				 * Records were overwritten before we read them; the
				 * kernel moved us to the oldest one left. The sequence
				 * gap of the next record says how many.
				 */
				continue;
			}
			return -errno;
		}
		if (n == 0)
			return 0;
		r->rec[n] = '\0';
		if (account(r, (size_t) n, rec))
			return 1;
	}
}

static int take_from_window(struct mo_kmsg_reader *r, size_t n, struct mo_kmsg_record *rec)
{
	memcpy(r->rec, r->buf + r->start, n);
	r->rec[n] = '\0';
	r->start += n;
	return account(r, n, rec);
}

/* In a file, a record ends at a newline not followed by a " KEY=VALUE" line. */
static int read_file(struct mo_kmsg_reader *r, struct mo_kmsg_record *rec)
{
	for (;;) {
		size_t i, avail = r->len - r->start;
		const char *b = r->buf + r->start;
		ssize_t n;

		for (i = 0; i + 1 < avail; i++)
			if (b[i] == '\n' && b[i + 1] != ' ')
				break;
		if (i + 1 < avail) {
			if (i + 1 > MO_KMSG_RECORD_MAX) {
				r->start += i + 1;
				r->lost++;
			} else if (take_from_window(r, i + 1, rec))
				return 1;
			continue;
		}
		if (avail > MO_KMSG_RECORD_MAX) {
			/* longer than any record the kernel writes: skip it */
			r->lost++;
			r->start = r->len;
			continue;
		}
		memmove(r->buf, r->buf + r->start, avail);
		r->start = 0;
		r->len = avail;
		do
			n = read(r->fd, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		if (n > 0) {
			r->len += (size_t) n;
			continue;
		}
		/* end of file: what is left is the last record */
		if (avail == 0)
			return 0;
		if (take_from_window(r, avail, rec))
			return 1;
	}
}

int mo_kmsg_reader_read(struct mo_kmsg_reader *r, struct mo_kmsg_record *rec)
{
	return r->is_file ? read_file(r, rec) : read_device(r, rec);
}
