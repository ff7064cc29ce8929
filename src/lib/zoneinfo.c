/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /proc/zoneinfo (mm/vmstat.c, zoneinfo_show_print()): a header per zone,
 *   "Node 0, zone   Normal"
 * then indented statistics, among them "        spanned  5505024" and, for
 * populated zones, "  start_pfn:           1048576".
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>

#include "util.h"
#include "zoneinfo.h"

#define PROC_ZONEINFO "zoneinfo"

static const char *skip_spaces(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* "KEY VALUE" or "KEY: VALUE" at @line (after its indentation): the value, or false. */
static bool field(const char *line, const char *key, uint64_t *ret)
{
	const char *p = skip_spaces(line);
	size_t len = strlen(key);
	char *end;

	if (strncmp(p, key, len) != 0)
		return false;
	p += len;
	if (*p == ':')
		p++;
	if (*p != ' ' && *p != '\t')
		return false;
	p = skip_spaces(p);
	errno = 0;
	*ret = strtoull(p, &end, 10);
	return errno == 0 && end != p;
}

int mo_zoneinfo_parse(const char *text, struct mo_zone_span **ret, size_t *n_ret)
{
	_cleanup_free_ struct mo_zone_span *v = NULL;
	size_t n = 0, cap = 0;
	const char *line = text;

	while (line && *line) {
		const char *eol = strchr(line, '\n');
		int node;
		char zone[16];
		uint64_t x;

		if (sscanf(line, "Node %d, zone %15s", &node, zone) == 2) {
			if (n == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				struct mo_zone_span *nv = reallocarray(v, ncap, sizeof(*nv));

				if (!nv)
					return -ENOMEM;
				v = nv;
				cap = ncap;
			}
			v[n] = (struct mo_zone_span) { .node = node };
			snprintf(v[n].zone, sizeof(v[n].zone), "%s", zone);
			n++;
		} else if (n > 0 && field(line, "spanned", &x))
			v[n - 1].spanned = x;
		else if (n > 0 && field(line, "start_pfn", &x))
			v[n - 1].start_pfn = x;
		line = eol ? eol + 1 : NULL;
	}
	if (n == 0)
		return -EBADMSG;
	*ret = TAKE_PTR(v);
	*n_ret = n;
	return 0;
}

int mo_zoneinfo_read(const struct mo_root *root, struct mo_zone_span **ret, size_t *n_ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	fd = mo_root_open(root, true, PROC_ZONEINFO, O_RDONLY);
	if (fd < 0)
		return fd;
	for (;;) {
		ssize_t k;

		if (cap - len < 4096) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		k = read(fd, buf + len, cap - len - 1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			break;
		len += (size_t) k;
	}
	if (!buf)
		return -EBADMSG;
	buf[len] = '\0';
	return mo_zoneinfo_parse(buf, ret, n_ret);
}
