/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <strings.h>

#include "block.h"
#include "escape.h"
#include "parse.h"
#include "util.h"

static const char *const state_names[] = {
	[MO_STATE_UNKNOWN] = "unknown",
	[MO_STATE_ONLINE] = "online",
	[MO_STATE_OFFLINE] = "offline",
	[MO_STATE_GOING_OFFLINE] = "going-offline",
};

const char *mo_state_to_string(enum mo_state s)
{
	if ((size_t) s >= ARRAY_SIZE(state_names))
		return "unknown";
	return state_names[s];
}

enum mo_state mo_state_from_string(const char *s)
{
	for (size_t i = 1; i < ARRAY_SIZE(state_names); i++)
		if (streq(s, state_names[i]))
			return (enum mo_state) i;
	return MO_STATE_UNKNOWN;
}

/* A whole string of hex digits (optional 0x), no sign, no junk. */
static int parse_hex_u64(const char *s, uint64_t *ret)
{
	return mo_parse_u64_span(s, NULL, 16 | MO_PARSE_0X, ret, NULL);
}

/*
 * "memory123" -> 123; anything else -> -EINVAL (-ERANGE past 64 bits). The
 * kernel writes no leading zero: "memory09" is not block 9.
 */
static int parse_block_name(const char *name, uint64_t *ret)
{
	if (!startswith(name, "memory"))
		return -EINVAL;
	return mo_parse_u64(name + strlen("memory"), 10, ret);
}

static int block_node(const struct mo_root *root, const char *dir)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	if (mo_root_opendir(root, false, dir, &d) < 0)
		return -1;
	while ((de = readdir(d))) {
		const char *p = de->d_name;
		unsigned n;

		if (startswith(p, "node") && mo_parse_unsigned(p + 4, (1 << 20) - 1, &n) == 0)
			return (int) n;
	}
	return -1;
}

void mo_block_done(struct mo_block *blk)
{
	free(blk->valid_zones);
	free(blk->device);
	blk->valid_zones = blk->device = NULL;
}

int mo_block_read_state(const struct mo_root *root, uint64_t index, enum mo_state *ret)
{
	char path[96], buf[32];
	ssize_t n;

	snprintf(path, sizeof(path), MO_SYSFS_MEMORY "/memory%" PRIu64 "/state", index);
	n = mo_root_read(root, false, path, buf, sizeof(buf));
	if (n < 0)
		return (int) n;
	*ret = mo_state_from_string(buf);
	return 0;
}

int mo_block_start(uint64_t index, uint64_t block_size, uint64_t *ret)
{
	/* the last byte, index × size + size − 1, must fit too */
	if (block_size == 0 || index > UINT64_MAX / block_size ||
	    index * block_size > UINT64_MAX - (block_size - 1))
		return -EOVERFLOW;
	*ret = index * block_size;
	return 0;
}

int mo_block_read(const struct mo_root *root, uint64_t index, uint64_t block_size, struct mo_block *blk)
{
	char dir[64], path[128], buf[256];
	ssize_t n;
	int r;

	memset(blk, 0, sizeof(*blk));
	blk->index = blk->phys_index = index;
	blk->size = block_size;
	r = mo_block_start(index, block_size, &blk->start);
	if (r < 0)
		return r;
	blk->removable = -1;
	blk->node = -1;
	snprintf(dir, sizeof(dir), MO_SYSFS_MEMORY "/memory%" PRIu64, index);

	/* state is the attribute every kernel has: its absence means the block is gone. */
	snprintf(path, sizeof(path), "%s/state", dir);
	n = mo_root_read(root, false, path, blk->state_raw, sizeof(blk->state_raw));
	if (n < 0)
		return (int) n == -ENOENT || (int) n == -ENODEV ? -ENOENT : (int) n;
	blk->state = mo_state_from_string(blk->state_raw);

	snprintf(path, sizeof(path), "%s/phys_index", dir);
	if (mo_root_read(root, false, path, buf, sizeof(buf)) > 0)
		(void) parse_hex_u64(buf, &blk->phys_index);

	snprintf(path, sizeof(path), "%s/removable", dir);
	if (mo_root_read(root, false, path, buf, sizeof(buf)) > 0)
		blk->removable = streq(buf, "1") ? 1 : streq(buf, "0") ? 0 : -1;

	snprintf(path, sizeof(path), "%s/valid_zones", dir);
	if (mo_root_read(root, false, path, buf, sizeof(buf)) > 0) {
		blk->valid_zones = strdup(buf);
		if (!blk->valid_zones)
			return -ENOMEM;
	}

	blk->node = block_node(root, dir);

	snprintf(path, sizeof(path), "%s/firmware_node", dir);
	if (mo_root_readlink_base(root, false, path, buf, sizeof(buf)) > 0) {
		blk->device = strdup(buf);
		if (!blk->device) {
			mo_block_done(blk);
			return -ENOMEM;
		}
	}
	return 0;
}

static int cmp_index(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
	return x < y ? -1 : x > y;
}

void mo_memory_free(struct mo_memory *mem)
{
	if (!mem)
		return;
	for (size_t i = 0; i < mem->n_blocks; i++)
		mo_block_done(&mem->blocks[i]);
	free(mem->blocks);
	free(mem->skipped);
	free(mem);
}

static int add_skip(struct mo_memory *mem, uint64_t index, int error, bool in_state, const char *value)
{
	struct mo_block_skip *p = realloc(mem->skipped, (mem->n_skipped + 1) * sizeof(*p));

	if (!p)
		return -ENOMEM;
	mem->skipped = p;
	p = &p[mem->n_skipped++];
	*p = (struct mo_block_skip) { .index = index, .error = error, .in_state = in_state };
	if (value)
		snprintf(p->value, sizeof(p->value), "%s", value);
	return 0;
}

char *mo_block_skip_message(const struct mo_root *root, const struct mo_block_skip *skip)
{
	_cleanup_free_ char *raw = NULL;
	const char *sysroot = root && root->sysroot ? root->sysroot : "/";
	const char *sep = *sysroot && sysroot[strlen(sysroot) - 1] == '/' ? "" : "/";
	char why[96];
	int r;

	if (skip->error == -EBADMSG)
		snprintf(why, sizeof(why), "invalid value \"%s\" (not online, offline or going-offline)", skip->value);
	else if (skip->error == -EOVERFLOW)
		snprintf(why, sizeof(why), "its start (index × block size) does not fit in 64 bits");
	else
		snprintf(why, sizeof(why), "%s", strerror(-skip->error));
	r = asprintf(&raw, "%s%ssys/" MO_SYSFS_MEMORY "/memory%" PRIu64 "%s: %s", sysroot, sep, skip->index,
		     skip->in_state ? "/state" : "", why);
	if (r < 0)
		return NULL;
	return mo_escape_cntrl_dup(raw, false);
}

int mo_memory_read_block_size(const struct mo_root *root, uint64_t *ret)
{
	char buf[64];
	uint64_t v;
	ssize_t n;

	n = mo_root_read(root, false, MO_SYSFS_MEMORY "/block_size_bytes", buf, sizeof(buf));
	if (n < 0)
		return (int) n;
	if (parse_hex_u64(buf, &v) < 0 || v == 0 || (v & (v - 1)))
		return -EBADMSG;
	*ret = v;
	return 0;
}

int mo_memory_open(const struct mo_root *root, struct mo_memory **ret)
{
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	int r;

	mem = calloc(1, sizeof(*mem));
	if (!mem)
		return -ENOMEM;

	r = mo_memory_read_block_size(root, &mem->block_size);
	if (r < 0)
		return r;
	(void) mo_root_read(root, false, MO_SYSFS_MEMORY "/auto_online_blocks",
			    mem->auto_online, sizeof(mem->auto_online));
	mem->unlisted = mem->indexes_only = true;
	*ret = TAKE_PTR(mem);
	return 0;
}

/* The model with every block's index (from the directory listing) and nothing read from its directory. */
static int enumerate(const struct mo_root *root, struct mo_memory **ret)
{
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	_cleanup_closedir_ DIR *d = NULL;
	_cleanup_free_ uint64_t *idx = NULL;
	size_t n_idx = 0, cap = 0;
	struct dirent *de;
	int r;

	r = mo_memory_open(root, &mem);
	if (r < 0)
		return r;
	mem->unlisted = false;

	r = mo_root_opendir(root, false, MO_SYSFS_MEMORY, &d);
	if (r < 0)
		return r;
	while ((errno = 0, de = readdir(d))) {
		uint64_t v;

		if (parse_block_name(de->d_name, &v) < 0)
			continue;
		if (n_idx == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			uint64_t *p = realloc(idx, ncap * sizeof(*p));
			if (!p)
				return -ENOMEM;
			idx = p;
			cap = ncap;
		}
		idx[n_idx++] = v;
	}
	if (errno)
		return -errno;
	if (n_idx > 0)
		qsort(idx, n_idx, sizeof(*idx), cmp_index);

	mem->blocks = calloc(n_idx ? n_idx : 1, sizeof(*mem->blocks));
	if (!mem->blocks)
		return -ENOMEM;
	for (size_t i = 0; i < n_idx; i++) {
		uint64_t start;

		/* a crafted memoryN with a huge N: refused, never wrapped onto another block's range */
		if (mo_block_start(idx[i], mem->block_size, &start) < 0) {
			r = add_skip(mem, idx[i], -EOVERFLOW, false, NULL);
			if (r < 0)
				return r;
			continue;
		}
		mem->blocks[mem->n_blocks++] = (struct mo_block) {
			.index = idx[i],
			.phys_index = idx[i],
			.start = start,
			.size = mem->block_size,
			.removable = -1,
			.node = -1,
		};
	}
	mem->indexes_only = true;
	*ret = TAKE_PTR(mem);
	return 0;
}

int mo_memory_enumerate(const struct mo_root *root, struct mo_memory **ret)
{
	return enumerate(root, ret);
}

int mo_memory_load(const struct mo_root *root, struct mo_memory **ret)
{
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	size_t n = 0;
	int r;

	r = enumerate(root, &mem);
	if (r < 0 || !mem)
		return r < 0 ? r : -ENOMEM;
	for (size_t i = 0; i < mem->n_blocks; i++) {
		struct mo_block *b = &mem->blocks[n];

		uint64_t index = mem->blocks[i].index;

		r = mo_block_read(root, index, mem->block_size, b);
		if (r == -ENOENT)
			continue; /* removed while we were reading */
		if (r == 0 && b->state == MO_STATE_UNKNOWN && !streq(b->state_raw, "online_movable") &&
		    !streq(b->state_raw, "online_kernel")) {
			/*
			 * Not a state the kernel writes (it says ERROR-UNKNOWN-N for a bug of
			 * its own). The words written to state to online a block are kept
			 * listed, with an unknown state, as before: a tree that stores writes
			 * as they come (tests/lib/sysfs-tree.sh) reads them back.
			 */
			r = add_skip(mem, index, -EBADMSG, true, b->state_raw);
			mo_block_done(b);
			if (r < 0)
				goto fail;
			continue;
		}
		if (r < 0 && r != -ENOMEM) {
			/* one unreadable state file does not hide the other blocks */
			r = add_skip(mem, index, r, true, NULL);
			if (r < 0)
				goto fail;
			continue;
		}
		if (r < 0)
			goto fail;
		n++;
		if (b->node >= 0)
			mem->have_nodes = true;
		if (b->valid_zones)
			mem->have_zones = true;
	}
	mem->n_blocks = n;
	mem->indexes_only = false;
	if (mem->n_skipped > 1)
		qsort(mem->skipped, mem->n_skipped, sizeof(*mem->skipped), cmp_index);
	*ret = TAKE_PTR(mem);
	return 0;
fail:
	mem->n_blocks = n; /* the rest hold no allocation yet */
	return r;
}

struct mo_block *mo_memory_find(const struct mo_memory *mem, uint64_t index)
{
	size_t lo = 0, hi = mem->n_blocks;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (mem->blocks[mid].index == index)
			return &mem->blocks[mid];
		if (mem->blocks[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool mo_block_has_zone(const struct mo_block *blk, const char *zone)
{
	const char *p = blk->valid_zones;
	size_t len = strlen(zone);

	if (!p)
		return false;
	while (*p) {
		while (*p == ' ')
			p++;
		if (strncasecmp(p, zone, len) == 0 && (p[len] == ' ' || p[len] == '\0'))
			return true;
		while (*p && *p != ' ')
			p++;
	}
	return false;
}
