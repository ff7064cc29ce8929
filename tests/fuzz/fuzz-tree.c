/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-tree.h"
#include "root.h"
#include "../unit/fx-path.h"

static char *tree;

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fuzz-tree: %s %s: %m\n", what, path);
	abort();
}

bool ft_field(struct ft_input *in, const char **ret, size_t *len)
{
	const uint8_t *end;

	if (!in->p)
		return false;
	end = memchr(in->p, '\0', in->left);
	*ret = (const char *) in->p;
	if (end) {
		*len = (size_t) (end - in->p);
		in->left -= *len + 1;
		in->p = end + 1;
	} else {
		*len = in->left;
		in->p = NULL; /* the last field */
		in->left = 0;
	}
	return true;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (ftw->level == 0)
		return 0; /* keep the tree's own directory */
	if (remove(path) < 0 && errno != ENOENT)
		die("remove", path);
	return 0;
}

static void clear(void)
{
	if (tree && nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS) < 0)
		die("nftw", tree);
}

static void remove_tree(void)
{
	clear();
	if (tree)
		(void) rmdir(tree);
}

const char *ft_reset(void)
{
	char path[4096];

	if (!tree) {
		/*
		 * libFuzzer ends a timed run with _Exit(): the atexit() below
		 * does not always run, so tests/fuzz/fuzz.sh hands us a
		 * directory of its own that it removes.
		 */
		const char *base = getenv("MEMOFF_FUZZ_TREE_DIR");

		if (!base || !*base)
			base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
		char tmpl[4096];

		snprintf(tmpl, sizeof(tmpl), "%s/memoff-fuzz-XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(tmpl))
			die("mkdtemp", tmpl);
		tree = strdup(tmpl);
		if (!tree)
			abort();
		atexit(remove_tree);
	} else
		clear();
	snprintf(path, sizeof(path), "%s/sys", tree);
	if (mkdir(path, 0755) < 0)
		die("mkdir", path);
	snprintf(path, sizeof(path), "%s/proc", tree);
	if (mkdir(path, 0755) < 0)
		die("mkdir", path);
	return tree;
}

void ft_put_file(const char *rel, const char *data, size_t len)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	fx_mkparents(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		if (errno == EEXIST || errno == ELOOP || errno == EISDIR)
			return; /* the input named the same path twice */
		die("open", path);
	}
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0)
			die("write", path);
		data += n;
		len -= (size_t) n;
	}
	close(fd);
}

struct mo_root *ft_root(void)
{
	struct mo_root *root = NULL;

	if (mo_root_new(tree, NULL, &root) < 0)
		abort();
	return root;
}

struct mo_root *ft_root_with_file(const char *rel, const uint8_t *data, size_t size)
{
	ft_reset();
	ft_put_file(rel, (const char *) data, size);
	return ft_root();
}

static size_t count_slashes(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '/';
	return n;
}

void ft_put(const char *rel, const char *field, size_t len)
{
	char path[4096], target[4096];

	if (len == 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	switch (field[0]) {
	case 'f':
		ft_put_file(rel, field + 1, len - 1);
		break;
	case 'e':
		ft_put_file(rel, "", 0);
		break;
	case 'z': {
		char buf[4096 + 16];
		size_t n = len - 1 < 4096 ? len - 1 : 4096;

		memcpy(buf, field + 1, n);
		memcpy(buf + n, "\0junk\n", 6);
		ft_put_file(rel, buf, n + 6);
		break;
	}
	case 'd':
		fx_mkparents(path);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			die("mkdir", path);
		break;
	case 'l':
	case 'L': {
		/*
		 * Links may only lead down, never out of the tree (a link to a
		 * host device node could block or worse): no absolute target,
		 * no "..". 'L' adds the "../../../" of a real firmware_node or
		 * nodeN link, but only deep enough in the tree to stay inside.
		 */
		const char *prefix = "";
		size_t plen;

		if (field[0] == 'L' && count_slashes(rel) >= 4)
			prefix = "../../../";
		plen = strlen(prefix);
		if (plen + len - 1 >= sizeof(target) || memchr(field + 1, '\0', len - 1))
			return;
		memcpy(target, prefix, plen);
		memcpy(target + plen, field + 1, len - 1);
		target[plen + len - 1] = '\0';
		if (!target[plen] || target[plen] == '/' || strstr(target + plen, ".."))
			return;
		fx_mkparents(path);
		if (symlink(target, path) < 0 && errno != EEXIST)
			die("symlink", path);
		break;
	}
	default:
		break;
	}
}

bool ft_component_ok(const char *s, size_t len)
{
	if (len == 0 || len > 64)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '/' || s[i] == '\0')
			return false;
	return true;
}
