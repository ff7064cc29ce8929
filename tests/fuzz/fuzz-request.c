/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: a D-Bus request as memoffd decodes it, Offline/Online/
 * Release(by, what, options), through request_build() (src/memoffd/request.h)
 * against a fixed copy of a small sysfs tree.
 *
 * Input: 1 byte kind (offline, online, release, or an unknown one), 1 byte
 * flags (all-or-nothing, force, dry-run, a zone given, block size 0, 1 GiB
 * blocks), 1 byte node, 1 byte max-attempts, 4 x 4 bytes attempt-timeout,
 * deadline, reserve and eject-timeout (little endian), 1 byte AllowedZones=,
 * then "BY\0WHAT\0ZONE": the strings the caller sent.
 *
 * Checks: an error comes with a message and is one of the documented ones;
 * a success names existing, distinct blocks or an aligned non-zero size,
 * has a deadline and the request's text.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block.h"
#include "eject-request.h"
#include "fuzz-tree.h"
#include "memoffd-conf.h"
#include "memoffd/jobs.h"
#include "memoffd/request.h"

#define HEADER 21

static struct mo_root *root;

static void make_tree(void)
{
	/* blocks 0-14 but 7 and 8, as in tests/sysfs-trees/synthetic-gap-going-offline */
	static const char *const states[] = {
		"online", "online", "online", "online", "going-offline", "offline", "offline", NULL, NULL,
		"online", "online", "online", "online", "online", "offline",
	};
	char rel[128], val[32];
	int n;

	ft_reset();
	ft_put_file("sys/" MO_SYSFS_MEMORY "/block_size_bytes", "8000000\n", 8);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		if (!states[i])
			continue;
		snprintf(rel, sizeof(rel), "sys/" MO_SYSFS_MEMORY "/memory%zu/state", i);
		n = snprintf(val, sizeof(val), "%s\n", states[i]);
		ft_put_file(rel, val, (size_t) n);
		snprintf(rel, sizeof(rel), "sys/" MO_SYSFS_MEMORY "/memory%zu/valid_zones", i);
		n = snprintf(val, sizeof(val), "%s\n", i >= 4 ? "Movable" : "Normal");
		ft_put_file(rel, val, (size_t) n);
	}
	ft_put_file("proc/meminfo", "MemTotal: 16384000 kB\nMemAvailable: 14000000 kB\n", 47);
	root = ft_root();
}

static uint64_t u32le(const uint8_t *p)
{
	return (uint64_t) p[0] | (uint64_t) p[1] << 8 | (uint64_t) p[2] << 16 | (uint64_t) p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request_options o = REQUEST_OPTIONS_INIT;
	struct job_params p = {};
	struct mo_config c;
	char *buf, *by, *what, *zone, *text = NULL, *error = NULL;
	uint64_t block_size = 128 << 20;
	enum job_kind kind;
	size_t len;
	int r;

	if (!root)
		make_tree();
	if (size < HEADER)
		return 0;
	kind = (enum job_kind) (data[0] % (_JOB_KIND_MAX + 1));
	o.all_or_nothing = data[1] & 1;
	o.force = data[1] & 2;
	o.dry_run = data[1] & 4;
	if (data[1] & 16)
		block_size = 0;
	else if (data[1] & 32)
		block_size = 1 << 30;
	o.node = (int8_t) data[2];
	o.max_attempts = (int8_t) data[3];
	o.attempt_timeout_usec = u32le(data + 4);
	o.deadline_usec = u32le(data + 8) * 1000;
	o.reserve = u32le(data + 12) << 12;
	o.eject_timeout_usec = u32le(data + 16);
	mo_config_init(&c);
	c.allowed_zones = data[20] & 0x3f ? data[20] & 0x3f : MO_ZONE_MOVABLE;

	/* "BY\0WHAT\0ZONE", each cut at the next NUL; missing ones are "" */
	len = size - HEADER;
	buf = calloc(1, len + 3);
	if (!buf)
		return 0;
	memcpy(buf, data + HEADER, len);
	by = buf;
	what = by + strlen(by) + 1;
	if (what > buf + len)
		what = buf + len + 1;
	zone = what + strlen(what) + 1;
	if (zone > buf + len + 1)
		zone = buf + len + 2;
	if (data[1] & 8)
		o.zone = zone;

	r = request_build(kind, by, what, &o, &c, block_size, root, &p, &text, &error);
	if (r < 0) {
		if (r != -EINVAL && r != -ENOENT && r != -ENOMEM && r != -ERANGE)
			abort();
		if (!error || !*error)
			abort();
	} else {
		if (!text || !*text)
			abort();
		if (p.deadline_usec == 0)
			abort();
		if (p.n_blocks > 0) {
			if (!p.blocks)
				abort();
			for (size_t i = 0; i < p.n_blocks; i++) {
				enum mo_state st;

				if (mo_block_read_state(root, p.blocks[i], &st) < 0)
					abort(); /* a named block that does not exist */
				for (size_t k = 0; k < i; k++)
					if (p.blocks[k] == p.blocks[i])
						abort();
			}
		} else if (p.device) {
			/* a release of one named device: a valid ACPI name, no size */
			if (kind != JOB_RELEASE || !mo_acpi_memory_device_name_valid(p.device) || p.size != 0)
				abort();
		} else if (p.size == 0 || p.size % block_size != 0)
			abort();
		job_params_done(&p);
	}
	mo_config_done(&c);
	free(text);
	free(error);
	free(buf);
	return 0;
}
