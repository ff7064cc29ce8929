/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void mo_json_init(struct mo_json *j, FILE *f)
{
	*j = (struct mo_json) { .f = f };
}

size_t mo_json_utf8_len(const unsigned char *p)
{
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;          /* overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;          /* UTF-16 surrogates */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;          /* overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;          /* above U+10FFFF */
	} else
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return n;
}

void mo_json_escape(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *) s; *p;) {
		size_t n = mo_json_utf8_len(p);

		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (n == 0)
				/*
				 * not UTF-8 (a process name, a path): U+FFFD REPLACEMENT
				 * CHARACTER for each such byte, written as itself, so that
				 * reading the text and writing it again gives the same bytes
				 */
				fputs("\xef\xbf\xbd", f);
			else if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else if (n == 2 && p[0] == 0xc2 && p[1] <= 0x9f)
				/* a C1 control (U+0080..U+009F; CSI is U+009B): never raw to a terminal */
				fprintf(f, "\\u%04x", p[1]);
			else
				fwrite(p, 1, n, f);
		}
		p += n ? n : 1;
	}
	fputc('"', f);
}

char *mo_json_utf8_dup(const char *s)
{
	const unsigned char *p;
	size_t len = 0;
	char *d, *o;

	for (p = (const unsigned char *) s; *p;) {
		size_t n = mo_json_utf8_len(p);

		len += n ? n : 3;
		p += n ? n : 1;
	}
	d = malloc(len + 1);
	if (!d)
		return NULL;
	for (o = d, p = (const unsigned char *) s; *p;) {
		size_t n = mo_json_utf8_len(p);

		if (n) {
			memcpy(o, p, n);
			o += n;
			p += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		}
	}
	*o = '\0';
	return d;
}

static void indent(struct mo_json *j)
{
	for (int i = 0; i < j->depth; i++)
		fputs("   ", j->f);
}

/* Separator, newline and indentation before a value, then its key. */
static void prefix(struct mo_json *j, const char *key)
{
	if (j->depth > 0) {
		int d = j->depth < MO_JSON_MAX_DEPTH ? j->depth : MO_JSON_MAX_DEPTH - 1;

		if (j->has_items[d])
			fputc(',', j->f);
		j->has_items[d] = true;
		fputc('\n', j->f);
		indent(j);
	}
	if (key) {
		mo_json_escape(j->f, key);
		fputs(": ", j->f);
	}
}

static void begin(struct mo_json *j, const char *key, char c)
{
	prefix(j, key);
	fputc(c, j->f);
	j->depth++;
	if (j->depth < MO_JSON_MAX_DEPTH)
		j->has_items[j->depth] = false;
}

static void end(struct mo_json *j, char c)
{
	bool had = j->depth < MO_JSON_MAX_DEPTH && j->has_items[j->depth];

	j->depth--;
	if (had) {
		fputc('\n', j->f);
		indent(j);
	}
	fputc(c, j->f);
	if (j->depth == 0)
		fputc('\n', j->f);
}

void mo_json_begin_object(struct mo_json *j, const char *key)
{
	begin(j, key, '{');
}

void mo_json_end_object(struct mo_json *j)
{
	end(j, '}');
}

void mo_json_begin_array(struct mo_json *j, const char *key)
{
	begin(j, key, '[');
}

void mo_json_end_array(struct mo_json *j)
{
	end(j, ']');
}

void mo_json_string(struct mo_json *j, const char *key, const char *v)
{
	prefix(j, key);
	if (v)
		mo_json_escape(j->f, v);
	else
		fputs("null", j->f);
}

void mo_json_u64(struct mo_json *j, const char *key, uint64_t v)
{
	prefix(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void mo_json_i64(struct mo_json *j, const char *key, int64_t v)
{
	prefix(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void mo_json_bool(struct mo_json *j, const char *key, bool v)
{
	prefix(j, key);
	fputs(v ? "true" : "false", j->f);
}

void mo_json_null(struct mo_json *j, const char *key)
{
	prefix(j, key);
	fputs("null", j->f);
}

void mo_json_usec(struct mo_json *j, const char *key, uint64_t usec)
{
	uint64_t ms = (usec + 500) / 1000;

	prefix(j, key);
	fprintf(j->f, "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000);
}

int mo_json_to_string(void (*write)(struct mo_json *j, const void *userdata), const void *userdata, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	struct mo_json j;
	FILE *f = open_memstream(&buf, &len);
	bool failed;

	if (!f)
		return -ENOMEM;
	mo_json_init(&j, f);
	write(&j, userdata);
	failed = ferror(f);
	if (fclose(f) != 0 || failed) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}
