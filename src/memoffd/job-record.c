/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "job-record.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>

#include "parse.h"
#include "util.h"

static const char *const kind_names[_JOB_KIND_MAX] = {
	[JOB_OFFLINE] = "offline",
	[JOB_ONLINE] = "online",
	[JOB_RELEASE] = "release",
};

static const char *const state_names[_JOB_STATE_MAX] = {
	[JOB_QUEUED] = "queued",
	[JOB_RUNNING] = "running",
	[JOB_FINISHED] = "finished",
};

static const char *const result_names[_JOB_RESULT_MAX] = {
	[JOB_RESULT_NONE] = "",
	[JOB_RESULT_DONE] = "done",
	[JOB_RESULT_PARTIAL] = "partial",
	[JOB_RESULT_FAILED] = "failed",
	[JOB_RESULT_CANCELLED] = "cancelled",
	[JOB_RESULT_INTERRUPTED] = "interrupted",
};

const char *job_kind_to_string(enum job_kind k)
{
	return (unsigned) k < _JOB_KIND_MAX ? kind_names[k] : "unknown";
}

const char *job_state_to_string(enum job_state s)
{
	return (unsigned) s < _JOB_STATE_MAX ? state_names[s] : "unknown";
}

const char *job_result_to_string(enum job_result r)
{
	return (unsigned) r < _JOB_RESULT_MAX ? result_names[r] : "unknown";
}

static int lookup(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (names[i] && streq(names[i], s))
			return i;
	return -EINVAL;
}

void job_record_done(struct job_record *r)
{
	if (!r)
		return;
	free(r->request);
	free(r->message);
	free(r->claims);
	for (size_t i = 0; i < r->n_blocks; i++) {
		free(r->blocks[i].outcome);
		free(r->blocks[i].reason);
	}
	free(r->blocks);
	*r = (struct job_record) {};
}

int job_record_set_claims(struct job_record *r, const uint64_t *blocks, size_t n)
{
	uint64_t *c = NULL;

	if (n) {
		c = malloc(n * sizeof(*c));
		if (!c)
			return -ENOMEM;
		memcpy(c, blocks, n * sizeof(*c));
	}
	free(r->claims);
	r->claims = c;
	r->n_claims = n;
	return 0;
}

int job_record_set_claims_add(struct job_record *r, uint64_t index)
{
	uint64_t *c = realloc(r->claims, (r->n_claims + 1) * sizeof(*c));

	if (!c)
		return -ENOMEM;
	r->claims = c;
	r->claims[r->n_claims++] = index;
	return 0;
}

bool job_record_claims(const struct job_record *r, uint64_t index)
{
	for (size_t i = 0; i < r->n_claims; i++)
		if (r->claims[i] == index)
			return true;
	return false;
}

int job_record_add_block(struct job_record *r, uint64_t index, const char *outcome, unsigned attempts,
			 uint64_t usec, const char *reason)
{
	struct job_block *b = NULL;
	char *o, *why;

	o = strdup(strempty(outcome));
	why = strdup(strempty(reason));
	if (!o || !why) {
		free(o);
		free(why);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->n_blocks; i++)
		if (r->blocks[i].index == index)
			b = &r->blocks[i];
	if (!b) {
		struct job_block *nb = realloc(r->blocks, (r->n_blocks + 1) * sizeof(*nb));

		if (!nb) {
			free(o);
			free(why);
			return -ENOMEM;
		}
		r->blocks = nb;
		b = &r->blocks[r->n_blocks++];
		*b = (struct job_block) { .index = index };
	}
	free(b->outcome);
	free(b->reason);
	b->outcome = o;
	b->reason = why;
	b->attempts = attempts;
	b->usec = usec;
	return 0;
}

/* ---- text ---- */

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->len + n + 1) * 2;
		char *np = realloc(b->p, cap);

		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void putf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
static void putf(struct buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t) n >= sizeof(tmp)) {
		b->oom = true;
		return;
	}
	put(b, tmp, (size_t) n);
}

/* Percent-escape anything that is not a printable, non-space, non-'%' byte; "" is "-". */
static void put_escaped(struct buf *b, const char *s)
{
	if (!s || !*s) {
		put(b, "-", 1);
		return;
	}
	if (streq(s, "-")) {
		put(b, "%2D", 3);
		return;
	}
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;

		if (c <= ' ' || c == '%' || c >= 0x7f)
			putf(b, "%%%02X", c);
		else
			put(b, s, 1);
	}
}

static int unescape(const char *s, char **ret)
{
	char *out, *o;

	if (streq(s, "-"))
		return (*ret = strdup("")) ? 0 : -ENOMEM;
	out = o = malloc(strlen(s) + 1);
	if (!out)
		return -ENOMEM;
	while (*s) {
		if (*s == '%') {
			/* two hex digits: the byte put_escaped() wrote */
			char hex[3] = { s[1], s[1] ? s[2] : '\0', '\0' };
			uint64_t v;

			if (strlen(hex) != 2 || mo_parse_u64(hex, 16, &v) < 0) {
				free(out);
				return -EBADMSG;
			}
			*o++ = (char) v;
			s += 3;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	*ret = out;
	return 0;
}

int job_records_format(const struct job_record *const *recs, size_t n, unsigned next_id, char **ret)
{
	struct buf b = {};

	putf(&b, "memoffd-jobs 1\nnext %u\n", next_id);
	for (size_t i = 0; i < n; i++) {
		const struct job_record *r = recs[i];

		putf(&b, "job %u %s %s %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
		     " %" PRIu64 " %" PRIu64 " ",
		     r->id, job_kind_to_string(r->kind), job_state_to_string(r->state),
		     r->result == JOB_RESULT_NONE ? "-" : job_result_to_string(r->result),
		     r->created, r->started, r->finished, r->blocks_done, r->blocks_wanted,
		     r->bytes_done, r->bytes_wanted);
		put_escaped(&b, r->request);
		put(&b, " ", 1);
		put_escaped(&b, r->message);
		put(&b, "\n", 1);
		if (r->uid != JOB_UID_UNKNOWN)
			putf(&b, "uid %u %u\n", r->id, (unsigned) r->uid);
		if (r->n_claims) {
			putf(&b, "claim %u ", r->id);
			for (size_t k = 0; k < r->n_claims; k++)
				putf(&b, "%s%" PRIu64, k ? "," : "", r->claims[k]);
			put(&b, "\n", 1);
		}
		for (size_t k = 0; k < r->n_blocks; k++) {
			const struct job_block *bl = &r->blocks[k];

			putf(&b, "block %u %" PRIu64 " ", r->id, bl->index);
			put_escaped(&b, bl->outcome);
			putf(&b, " %u %" PRIu64 " ", bl->attempts, bl->usec);
			put_escaped(&b, bl->reason);
			put(&b, "\n", 1);
		}
	}
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*ret = b.p;
	return 0;
}

static struct job_record *find(struct job_record *recs, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (recs[i].id == id)
			return &recs[i];
	return NULL;
}

#define MAX_FIELDS 16

static size_t split(char *line, char **f)
{
	size_t n = 0;
	char *save = NULL;

	for (char *w = strtok_r(line, " ", &save); w && n < MAX_FIELDS; w = strtok_r(NULL, " ", &save))
		f[n++] = w;
	return n;
}

static int parse_job(char **f, size_t nf, struct job_record *r)
{
	uint64_t v[8], id;
	int k, s, res = JOB_RESULT_NONE;

	if (nf != 14 || mo_parse_u64(f[1], 10, &id) < 0 || id == 0 || id > UINT32_MAX)
		return -EBADMSG;
	if ((k = lookup(kind_names, _JOB_KIND_MAX, f[2])) < 0 ||
	    (s = lookup(state_names, _JOB_STATE_MAX, f[3])) < 0 ||
	    (!streq(f[4], "-") && (res = lookup(result_names, _JOB_RESULT_MAX, f[4])) <= 0))
		return -EBADMSG;
	for (int i = 0; i < 7; i++)
		if (mo_parse_u64(f[5 + i], 10, &v[i]) < 0)
			return -EBADMSG;
	*r = (struct job_record) {
		.id = (unsigned) id, .uid = JOB_UID_UNKNOWN, .kind = k, .state = s, .result = res,
		.created = v[0], .started = v[1], .finished = v[2],
		.blocks_done = v[3], .blocks_wanted = v[4], .bytes_done = v[5], .bytes_wanted = v[6],
	};
	if (unescape(f[12], &r->request) < 0 || unescape(f[13], &r->message) < 0) {
		job_record_done(r);
		return -EBADMSG;
	}
	return 0;
}

static int parse_claim(char **f, size_t nf, struct job_record *recs, size_t n)
{
	_cleanup_free_ uint64_t *blocks = NULL;
	struct job_record *r;
	size_t nb = 0, cap = 0;
	uint64_t id;
	char *save = NULL;

	if (nf != 3 || mo_parse_u64(f[1], 10, &id) < 0 || !(r = find(recs, n, id)))
		return -EBADMSG;
	for (char *w = strtok_r(f[2], ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		if (nb == cap) {
			uint64_t *nbl = realloc(blocks, (cap = cap ? cap * 2 : 16) * sizeof(*nbl));

			if (!nbl)
				return -ENOMEM;
			blocks = nbl;
		}
		if (mo_parse_u64(w, 10, &blocks[nb]) < 0)
			return -EBADMSG;
		nb++;
	}
	return job_record_set_claims(r, blocks, nb);
}

static int parse_uid(char **f, size_t nf, struct job_record *recs, size_t n)
{
	struct job_record *r;
	uint64_t id, uid;

	if (nf != 3 || mo_parse_u64(f[1], 10, &id) < 0 || !(r = find(recs, n, id)) ||
	    mo_parse_u64(f[2], 10, &uid) < 0 || uid >= JOB_UID_UNKNOWN)
		return -EBADMSG;
	r->uid = (uint32_t) uid;
	return 0;
}

static int parse_block(char **f, size_t nf, struct job_record *recs, size_t n)
{
	_cleanup_free_ char *outcome = NULL, *reason = NULL;
	struct job_record *r;
	uint64_t id, index, attempts, usec;

	if (nf != 7 || mo_parse_u64(f[1], 10, &id) < 0 || !(r = find(recs, n, id)) ||
	    mo_parse_u64(f[2], 10, &index) < 0 || mo_parse_u64(f[4], 10, &attempts) < 0 ||
	    attempts > UINT32_MAX || mo_parse_u64(f[5], 10, &usec) < 0 || unescape(f[3], &outcome) < 0 ||
	    unescape(f[6], &reason) < 0)
		return -EBADMSG;
	return job_record_add_block(r, index, outcome, (unsigned) attempts, usec, reason);
}

int job_records_parse(const char *text, struct job_record **ret, size_t *ret_n, unsigned *next_id,
		      unsigned *bad_lines)
{
	return job_records_parse_n(text, strlen(text), ret, ret_n, next_id, bad_lines);
}

int job_records_parse_n(const char *text, size_t len, struct job_record **ret, size_t *ret_n, unsigned *next_id,
			unsigned *bad_lines)
{
	_cleanup_free_ char *copy = malloc(len + 1);
	struct job_record *recs = NULL;
	size_t n = 0;
	uint64_t next = 1;
	unsigned bad = 0;
	char *line, *end, *nl;
	bool header = true;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	end = copy + len;
	for (line = copy; line < end; line = nl + 1) {
		char *f[MAX_FIELDS];
		size_t nf;

		nl = memchr(line, '\n', (size_t) (end - line));
		if (!nl)
			nl = end;
		*nl = '\0';
		if (header) {
			if (!streq(line, "memoffd-jobs 1") || strlen(line) != (size_t) (nl - line))
				return -EBADMSG;
			header = false;
			continue;
		}
		/* A NUL byte spoils its own line only, not the records after it. */
		if (strlen(line) != (size_t) (nl - line)) {
			bad++;
			continue;
		}
		nf = split(line, f);
		if (nf == 0)
			continue;
		if (streq(f[0], "next")) {
			uint64_t v;

			if (nf == 2 && mo_parse_u64(f[1], 10, &v) == 0 && v <= UINT32_MAX) {
				if (v > next)
					next = v;
			} else
				bad++;
		} else if (streq(f[0], "job")) {
			struct job_record rec = {}, *nr;

			if (parse_job(f, nf, &rec) < 0 || find(recs, n, rec.id)) {
				if (rec.id)
					job_record_done(&rec);
				bad++;
				continue;
			}
			nr = realloc(recs, (n + 1) * sizeof(*nr));
			if (!nr) {
				job_record_done(&rec);
				r = -ENOMEM;
				break;
			}
			recs = nr;
			recs[n++] = rec;
			if (rec.id >= next)
				next = (uint64_t) rec.id + 1;
		} else if (streq(f[0], "uid")) {
			r = parse_uid(f, nf, recs, n);
		} else if (streq(f[0], "claim")) {
			r = parse_claim(f, nf, recs, n);
		} else if (streq(f[0], "block")) {
			r = parse_block(f, nf, recs, n);
		}
		if (r == -ENOMEM)
			break;
		if (r < 0) {
			bad++;
			r = 0;
		}
	}
	if (header)
		r = -EBADMSG;
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			job_record_done(&recs[i]);
		free(recs);
		return r;
	}
	*ret = recs;
	*ret_n = n;
	*next_id = (unsigned) (next > UINT32_MAX ? 1 : next);
	*bad_lines = bad;
	return 0;
}
