/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "escape.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* How many bytes at @p make one control character to escape (0: none). */
static size_t cntrl_at(const unsigned char *p, bool keep_newline)
{
	if (*p == '\n')
		return keep_newline ? 0 : 1;
	if (*p < 0x20 || *p == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

static size_t escaped_len(const char *s, bool keep_newline)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *) s; *p;) {
		size_t k = cntrl_at(p, keep_newline);

		n += k ? 4 * k : 1;
		p += k ? k : 1;
	}
	return n;
}

char *mo_escape_cntrl(const char *s, bool keep_newline, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size == 0)
		return buf;
	for (const unsigned char *p = (const unsigned char *) s; *p;) {
		size_t k = cntrl_at(p, keep_newline);

		if (k) {
			if (o + 4 * k >= size)
				break;
			for (size_t i = 0; i < k; i++, p++) {
				buf[o++] = '\\';
				buf[o++] = 'x';
				buf[o++] = hex[*p >> 4];
				buf[o++] = hex[*p & 0xf];
			}
			continue;
		}
		/* a whole UTF-8 sequence or nothing of it */
		k = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 1;
		for (size_t i = 1; i < k; i++)
			if ((p[i] & 0xc0) != 0x80) {
				k = 1;
				break;
			}
		if (o + k >= size)
			break;
		memcpy(buf + o, p, k);
		o += k;
		p += k;
	}
	buf[o] = '\0';
	return buf;
}

char *mo_escape_cntrl_dup(const char *s, bool keep_newline)
{
	size_t n = escaped_len(s, keep_newline) + 1;
	char *buf = malloc(n);

	return buf ? mo_escape_cntrl(s, keep_newline, buf, n) : NULL;
}

bool mo_has_cntrl(const char *s, bool keep_newline)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		if (cntrl_at(p, keep_newline))
			return true;
	return false;
}

int mo_escape_vfprintf(FILE *f, const char *fmt, va_list ap)
{
	/* the format's own final newline; one an argument ends with is escaped */
	bool newline = *fmt && fmt[strlen(fmt) - 1] == '\n';
	char *raw = NULL, *esc;
	int n;

	if (vasprintf(&raw, fmt, ap) < 0)
		return -ENOMEM;
	if (newline)
		raw[strlen(raw) - 1] = '\0';
	esc = mo_escape_cntrl_dup(raw, false);
	free(raw);
	if (!esc)
		return -ENOMEM;
	n = fprintf(f, "%s%s", esc, newline ? "\n" : "");
	free(esc);
	return n < 0 ? -EIO : n;
}

int mo_escape_fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = mo_escape_vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}
