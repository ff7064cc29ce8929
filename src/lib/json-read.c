/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A strict recursive-descent JSON parser into a tree: see json-read.h.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json-read.h"
#include "parse.h"
#include "util.h"

struct parser {
	const char *s;
	size_t pos;
	int depth;
};

static void skip_ws(struct parser *p)
{
	while (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r')
		p->pos++;
}

void mo_jv_free(struct mo_jv *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n_items; i++)
		mo_jv_free(v->items[i]);
	free(v->items);
	free(v->str);
	free(v->key);
	free(v);
}

static int add_item(struct mo_jv *parent, struct mo_jv *child)
{
	struct mo_jv **n = reallocarray(parent->items, parent->n_items + 1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	parent->items = n;
	parent->items[parent->n_items++] = child;
	return 0;
}

static int hex4(const char *s, unsigned *ret)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned) (c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned) (c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned) (c - 'A' + 10);
		else
			return -EBADMSG;
	}
	*ret = v;
	return 0;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char) cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char) (0xc0 | (cp >> 6));
		out[1] = (char) (0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char) (0xe0 | (cp >> 12));
		out[1] = (char) (0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char) (0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char) (0xf0 | (cp >> 18));
	out[1] = (char) (0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char) (0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char) (0x80 | (cp & 0x3f));
	return 4;
}

/* A string at p->pos (the opening quote); *ret is malloc'd. */
static int parse_string(struct parser *p, char **ret)
{
	size_t start = ++p->pos, len = 0;
	char *out;

	/* The decoded text is never longer than the literal. */
	while (p->s[start + len] && p->s[start + len] != '"')
		len += p->s[start + len] == '\\' && p->s[start + len + 1] ? 2 : 1;
	if (p->s[start + len] != '"')
		return -EBADMSG;
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;
	len = 0;
	while (p->s[p->pos] != '"') {
		unsigned char c = (unsigned char) p->s[p->pos];
		unsigned cp, lo;

		if (c < 0x20)
			goto bad;
		if (c != '\\') {
			out[len++] = (char) c;
			p->pos++;
			continue;
		}
		c = (unsigned char) p->s[++p->pos];
		p->pos++;
		switch (c) {
		case '"': case '\\': case '/':
			out[len++] = (char) c;
			break;
		case 'b': out[len++] = '\b'; break;
		case 'f': out[len++] = '\f'; break;
		case 'n': out[len++] = '\n'; break;
		case 'r': out[len++] = '\r'; break;
		case 't': out[len++] = '\t'; break;
		case 'u':
			if (hex4(p->s + p->pos, &cp) < 0)
				goto bad;
			p->pos += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
				    hex4(p->s + p->pos + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
					goto bad;
				p->pos += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			} else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0)
				goto bad;
			len += put_utf8(out + len, cp);
			break;
		default:
			goto bad;
		}
	}
	p->pos++;
	out[len] = '\0';
	*ret = out;
	return 0;
bad:
	free(out);
	return -EBADMSG;
}

static int parse_number(struct parser *p, char **ret)
{
	size_t start = p->pos;

	if (p->s[p->pos] == '-')
		p->pos++;
	if (p->s[p->pos] == '0')
		p->pos++;
	else if (p->s[p->pos] >= '1' && p->s[p->pos] <= '9')
		while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	else
		return -EBADMSG;
	if (p->s[p->pos] == '.') {
		p->pos++;
		if (p->s[p->pos] < '0' || p->s[p->pos] > '9')
			return -EBADMSG;
		while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	if (p->s[p->pos] == 'e' || p->s[p->pos] == 'E') {
		p->pos++;
		if (p->s[p->pos] == '+' || p->s[p->pos] == '-')
			p->pos++;
		if (p->s[p->pos] < '0' || p->s[p->pos] > '9')
			return -EBADMSG;
		while (p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
			p->pos++;
	}
	*ret = strndup(p->s + start, p->pos - start);
	return *ret ? 0 : -ENOMEM;
}

static bool literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(p->s + p->pos, word, n) != 0)
		return false;
	p->pos += n;
	return true;
}

static int parse_value(struct parser *p, struct mo_jv **ret);

/* The elements of an array or the members of an object; p->pos is past the bracket. */
static int parse_items(struct parser *p, struct mo_jv *v, char close)
{
	int r;

	skip_ws(p);
	if (p->s[p->pos] == close) {
		p->pos++;
		return 0;
	}
	for (;;) {
		_cleanup_free_ char *key = NULL;
		struct mo_jv *item;

		skip_ws(p);
		if (close == '}') {
			if (p->s[p->pos] != '"')
				return -EBADMSG;
			r = parse_string(p, &key);
			if (r < 0)
				return r;
			skip_ws(p);
			if (p->s[p->pos++] != ':')
				return -EBADMSG;
		}
		r = parse_value(p, &item);
		if (r < 0)
			return r;
		item->key = TAKE_PTR(key);
		r = add_item(v, item);
		if (r < 0) {
			mo_jv_free(item);
			return r;
		}
		skip_ws(p);
		if (p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->s[p->pos] != close)
			return -EBADMSG;
		p->pos++;
		return 0;
	}
}

static int parse_value(struct parser *p, struct mo_jv **ret)
{
	struct mo_jv *v;
	char c;
	int r = 0;

	skip_ws(p);
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	c = p->s[p->pos];
	if (c == '{' || c == '[') {
		if (++p->depth >= MO_JSON_MAX_DEPTH)
			r = -EBADMSG;
		else {
			p->pos++;
			v->type = c == '{' ? MO_JV_OBJECT : MO_JV_ARRAY;
			r = parse_items(p, v, c == '{' ? '}' : ']');
		}
		p->depth--;
	} else if (c == '"') {
		v->type = MO_JV_STRING;
		r = parse_string(p, &v->str);
	} else if (c == '-' || (c >= '0' && c <= '9')) {
		v->type = MO_JV_NUMBER;
		r = parse_number(p, &v->str);
	} else if (literal(p, "true"))
		*v = (struct mo_jv) { .type = MO_JV_BOOL, .b = true };
	else if (literal(p, "false"))
		v->type = MO_JV_BOOL;
	else if (literal(p, "null"))
		v->type = MO_JV_NULL;
	else
		r = -EBADMSG;
	if (r < 0) {
		mo_jv_free(v);
		return r;
	}
	*ret = v;
	return 0;
}

static bool valid_utf8(const char *s, size_t *bad)
{
	const unsigned char *p = (const unsigned char *) s;

	for (size_t i = 0; p[i];) {
		size_t n = mo_json_utf8_len(p + i);

		if (n == 0) {
			*bad = i;
			return false;
		}
		i += n;
	}
	return true;
}

int mo_jv_parse(const char *text, struct mo_jv **ret, size_t *error)
{
	struct parser p = { .s = text };
	struct mo_jv *v = NULL;
	size_t bad = 0;
	int r;

	if (!valid_utf8(text, &bad)) {
		if (error)
			*error = bad;
		return -EBADMSG;
	}
	r = parse_value(&p, &v);
	if (r == 0) {
		skip_ws(&p);
		if (p.s[p.pos]) {
			mo_jv_free(v);
			r = -EBADMSG;
		}
	}
	if (r == -EBADMSG && error)
		*error = p.pos;
	if (r < 0)
		return r;
	*ret = v;
	return 0;
}

const struct mo_jv *mo_jv_get(const struct mo_jv *v, const char *key)
{
	if (!v || v->type != MO_JV_OBJECT)
		return NULL;
	for (size_t i = 0; i < v->n_items; i++)
		if (streq(v->items[i]->key, key))
			return v->items[i];
	return NULL;
}

const char *mo_jv_str(const struct mo_jv *v, const char *key)
{
	const struct mo_jv *m = mo_jv_get(v, key);

	return m && m->type == MO_JV_STRING ? m->str : NULL;
}

bool mo_jv_bool(const struct mo_jv *v, const char *key)
{
	const struct mo_jv *m = mo_jv_get(v, key);

	return m && m->type == MO_JV_BOOL && m->b;
}

static const struct mo_jv *number(const struct mo_jv *v, const char *key, int *r)
{
	const struct mo_jv *m = mo_jv_get(v, key);

	*r = !m || m->type == MO_JV_NULL ? -ENOENT : m->type != MO_JV_NUMBER ? -EINVAL : 0;
	return *r ? NULL : m;
}

int mo_jv_u64(const struct mo_jv *v, const char *key, uint64_t *ret)
{
	int r;
	const struct mo_jv *m = number(v, key, &r);

	return m ? mo_parse_u64(m->str, 10, ret) : r;
}

int mo_jv_i64(const struct mo_jv *v, const char *key, int64_t *ret)
{
	int r;
	const struct mo_jv *m = number(v, key, &r);

	return m ? mo_parse_i64(m->str, ret) : r;
}

int mo_jv_usec(const struct mo_jv *v, const char *key, uint64_t *ret)
{
	uint64_t sec, frac = 0, scale = 1000000;
	_cleanup_free_ char *whole = NULL;
	const char *dot;
	int r;
	const struct mo_jv *m = number(v, key, &r);

	if (!m)
		return r;
	dot = strchr(m->str, '.');
	whole = strndup(m->str, dot ? (size_t) (dot - m->str) : strlen(m->str));
	if (!whole)
		return -ENOMEM;
	r = mo_parse_u64(whole, 10, &sec);
	if (r < 0 || sec > UINT64_MAX / 1000000)
		return -EINVAL;
	for (const char *d = dot ? dot + 1 : ""; *d; d++) {
		if (*d < '0' || *d > '9')
			return -EINVAL;
		if (scale > 1) {
			scale /= 10;
			frac += (uint64_t) (*d - '0') * scale;
		}
	}
	*ret = sec * 1000000 + frac;
	return 0;
}
