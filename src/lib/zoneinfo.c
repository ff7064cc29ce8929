/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /proc/zoneinfo (mm/vmstat.c, zoneinfo_show_print()): a header per zone,
 *   "Node 0, zone   Normal"
 * then indented statistics, among them "        spanned  5505024" and, for
 * populated zones, "  start_pfn:           1048576".
 */
#include "config.h"

#include <inttypes.h>
#include <limits.h>

#include "parse.h"
#include "util.h"
#include "zoneinfo.h"

#define PROC_ZONEINFO "zoneinfo"
/* far more than the zones of any machine (about 1.5 KiB each) */
#define ZONEINFO_MAX (16 * 1024 * 1024)

/* "KEY VALUE" or "KEY: VALUE" at @line (after its indentation): the value, or false. */
static bool field(const char *line, const char *key, uint64_t *ret)
{
	const char *p = skip_blanks(line), *end;
	size_t len = strlen(key);

	if (strncmp(p, key, len) != 0)
		return false;
	p += len;
	if (*p == ':')
		p++;
	if (*p != ' ' && *p != '\t')
		return false;
	/* whatever follows the number is left alone */
	return mo_parse_u64_span(skip_blanks(p), NULL, 10, ret, &end) == 0;
}

/* "Node 0, zone   Normal": the node and the zone's name. */
static bool zone_header(const char *line, int *node, char *zone, size_t size)
{
	const char *p, *end;
	uint64_t n;
	size_t len = 0;

	if (strncmp(line, "Node ", 5) != 0)
		return false;
	if (mo_parse_u64_span(line + 5, NULL, 10, &n, &end) < 0 || n > INT_MAX || strncmp(end, ", zone", 6) != 0)
		return false;
	p = skip_blanks(end + 6);
	while (p[len] && p[len] != ' ' && p[len] != '\t' && p[len] != '\n')
		len++;
	if (len == 0)
		return false;
	if (len >= size)
		len = size - 1; /* no kernel zone name is that long: keep its start */
	memcpy(zone, p, len);
	zone[len] = '\0';
	*node = (int) n;
	return true;
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

		if (zone_header(line, &node, zone, sizeof(zone))) {
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
	_cleanup_free_ char *text = NULL;
	int r;

	r = mo_root_read_all(root, true, PROC_ZONEINFO, ZONEINFO_MAX, &text, NULL);
	if (r < 0)
		return r;
	return mo_zoneinfo_parse(text, ret, n_ret);
}
