/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: memoffd.conf (src/shared/memoffd-conf.h).
 *
 * First byte 't': the rest is one file's text for mo_config_parse_text().
 * Otherwise the input is NUL-separated fields: the main file's text, then
 * pairs of a drop-in's name and its text, loaded with mo_config_load() from
 * a tree (main file and "main.conf.d/").
 *
 * Checks: problems come with "NAME:LINE: " messages and success without
 * any; a load with problems still holds a sane configuration, and one that
 * fails (-ENOMEM) the defaults; the same text parses to the same
 * configuration twice; what was parsed is sane (factor >= 1, jitter < 100,
 * ordered excluded ranges, a known policy, some zone allowed).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-tree.h"
#include "memoffd-conf.h"
#include "fuzz-text.h"

#define MAX_DROPINS 4

static void sane(const struct mo_config *c)
{
	if (!(c->backoff_factor >= 1.0) || c->backoff_jitter_pct >= 100)
		abort();
	if ((unsigned) c->hotplug_policy >= _MO_HOTPLUG_MAX)
		abort();
	if (c->allowed_zones == 0)
		abort();
	if (c->n_excluded > 0 && !c->excluded)
		abort();
	for (size_t i = 0; i < c->n_excluded; i++)
		if (c->excluded[i].first > c->excluded[i].last)
			abort();
	if (!mo_config_equal(c, c))
		abort();
}

static void check_errors(int r, const char *errors, const char *name)
{
	if (r == 0 && errors && *errors)
		abort();
	if (r == -EINVAL) {
		if (!errors || !*errors)
			abort();
		/* every message names a file */
		for (const char *p = errors; *p; ) {
			const char *nl = strchr(p, '\n');

			if (name && strncmp(p, name, strlen(name)) != 0)
				abort();
			if (!nl)
				abort(); /* each message ends its line */
			p = nl + 1;
		}
	}
}

static void parse_text(const uint8_t *data, size_t size)
{
	struct mo_config a, b, def;
	char *text, *ea = NULL, *eb = NULL;
	int ra, rb;

	text = fz_text(data, size);
	if (!text)
		return;

	mo_config_init(&a);
	mo_config_init(&b);
	mo_config_init(&def);
	ra = mo_config_parse_text("fuzz.conf", text, &a, &ea);
	rb = mo_config_parse_text("fuzz.conf", text, &b, &eb);
	if (ra != rb)
		abort();
	if (ra != 0 && ra != -EINVAL && ra != -ENOMEM)
		abort();
	check_errors(ra, ea, "fuzz.conf:");
	if (ra == 0) {
		sane(&a);
		if (!mo_config_equal(&a, &b))
			abort();
	}
	if ((ea == NULL) != (eb == NULL) || (ea && strcmp(ea, eb) != 0))
		abort();
	sane(&def);
	mo_config_done(&a);
	mo_config_done(&b);
	mo_config_done(&def);
	free(ea);
	free(eb);
	free(text);
}

static void load_tree(const uint8_t *data, size_t size)
{
	struct ft_input in = { data, size };
	struct mo_config c, def;
	char main_path[4096], *errors = NULL;
	const char *tree, *f;
	size_t len;
	int r;

	tree = ft_reset();
	snprintf(main_path, sizeof(main_path), "%s/main.conf", tree);
	if (ft_field(&in, &f, &len))
		ft_put("main.conf", f, len);
	for (int i = 0; i < MAX_DROPINS && ft_field(&in, &f, &len); i++) {
		char rel[128];

		/* A newline in a file name would split its messages: not a bug. */
		if (!ft_component_ok(f, len) || memchr(f, '\n', len))
			break;
		snprintf(rel, sizeof(rel), "main.conf.d/%.*s", (int) len, f);
		if (!ft_field(&in, &f, &len))
			break;
		ft_put(rel, f, len);
	}

	mo_config_init(&def);
	r = mo_config_load(main_path, NULL, &c, &errors);
	if (r > 0) {
		/* problems degrade: reported, and what was loaded is still sane */
		check_errors(-EINVAL, errors, tree);
		sane(&c);
	} else if (r == 0) {
		check_errors(r, errors, NULL);
		sane(&c);
	} else if (!mo_config_equal(&c, &def))
		abort();
	mo_config_done(&c);
	mo_config_done(&def);
	free(errors);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 0 && data[0] == 't')
		parse_text(data + 1, size - 1);
	else
		load_tree(data, size);
	return 0;
}
