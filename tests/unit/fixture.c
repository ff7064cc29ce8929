/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fixture.h"
#include "fx-path.h"
#include "root.h"

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fixture: %s %s: %m\n", what, path);
	abort();
}

char *fx_mkroot(void)
{
	char tmpl[] = "/tmp/memoff-fx-XXXXXX";
	char *d = mkdtemp(tmpl);

	if (!d)
		die("mkdtemp", tmpl);
	return strdup(d);
}

void fx_rmroot(char *root)
{
	char cmd[4200];

	if (!root || strncmp(root, "/tmp/memoff-fx-", 15) != 0)
		abort();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "fixture: could not remove %s\n", root);
	free(root);
}

int fx_teardown_root(void **state)
{
	fx_rmroot(*state);
	return 0;
}

void fx_write(const char *root, const char *rel, const char *content)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fx_mkparents(path);
	f = fopen(path, "we");
	if (!f)
		die("open", path);
	fputs(content, f);
	if (fclose(f) != 0)
		die("close", path);
}

void fx_symlink(const char *root, const char *rel, const char *target)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fx_mkparents(path);
	if (symlink(target, path) < 0)
		die("symlink", path);
}

static FILE *fx_open(const char *root, const char *rel)
{
	char path[4096];

	if (root)
		snprintf(path, sizeof(path), "%s/%s", root, rel);
	else
		snprintf(path, sizeof(path), "%s", rel);
	return fopen(path, "re");
}

char *fx_read(const char *root, const char *rel)
{
	FILE *f = fx_open(root, rel);
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &len, '\0', f) < 0) {
		if (ferror(f))
			die("read", rel);
		free(text);
		text = strdup(""); /* an empty file */
	}
	fclose(f);
	if (!text)
		abort();
	return text;
}

char *fx_read_buf(const char *root, const char *rel, char *buf, size_t size)
{
	FILE *f = fx_open(root, rel);
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, size - 1, f);
	if (ferror(f))
		die("read", rel);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

void fx_unlink(const char *root, const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (unlink(path) < 0)
		die("unlink", path);
}

void fx_block(const char *root, uint64_t index, const char *state, const char *zones, int node, const char *fwnode)
{
	char rel[256], buf[64];

	snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%" PRIu64 "/state", index);
	snprintf(buf, sizeof(buf), "%s\n", state);
	fx_write(root, rel, buf);
	snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%" PRIu64 "/phys_index", index);
	snprintf(buf, sizeof(buf), "%08" PRIx64 "\n", index);
	fx_write(root, rel, buf);
	snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%" PRIu64 "/removable", index);
	fx_write(root, rel, "1\n");
	if (zones) {
		snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%" PRIu64 "/valid_zones", index);
		snprintf(buf, sizeof(buf), "%s\n", zones);
		fx_write(root, rel, buf);
	}
	if (node >= 0) {
		snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%" PRIu64 "/node%d", index, node);
		snprintf(buf, sizeof(buf), "../../node/node%d", node);
		fx_symlink(root, rel, buf);
	}
	if (fwnode) {
		snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%" PRIu64 "/firmware_node", index);
		snprintf(buf, sizeof(buf), "../../../LNXSYSTM:00/LNXSYBUS:00/%s", fwnode);
		fx_symlink(root, rel, buf);
	}
}

void fx_put_u64_range(const char *root, const char *rel, uint64_t first, uint64_t n, uint64_t value)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fx_mkparents(path);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		die("open", path);
	for (uint64_t i = 0; i < n; i++)
		if (pwrite(fd, &value, sizeof(value), (off_t) ((first + i) * sizeof(value))) != sizeof(value))
			die("pwrite", path);
	if (close(fd) < 0)
		die("close", path);
}

void fx_put_u64(const char *root, const char *rel, uint64_t index, uint64_t value)
{
	fx_put_u64_range(root, rel, index, 1, value);
}

void fx_tree_open(struct fx_tree *t)
{
	int r = mo_root_new(t->root, NULL, &t->r);

	if (r < 0) {
		errno = -r;
		die("mo_root_new", t->root);
	}
}

int fx_teardown(void **state)
{
	struct fx_tree *t = *state;

	mo_root_free(t->r);
	fx_rmroot(t->root);
	free(t);
	return 0;
}

void fx_contains(const char *text, ...)
{
	const char *want;
	va_list ap;

	if (!text)
		fail_msg("no text where one was expected");
	va_start(ap, text);
	while ((want = va_arg(ap, const char *)))
		if (!strstr(text, want)) {
			va_end(ap);
			fail_msg("\"%s\" is not in:\n%s", want, text);
		}
	va_end(ap);
}
