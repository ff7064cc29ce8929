/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * /proc/iomem: which physical ranges are driver-managed memory that memoff
 * must leave alone (virtio-mem, dax/kmem).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root.h"

struct mo_iomem_range {
	uint64_t start, end;  /* inclusive */
	char name[48];        /* "System RAM (virtio_mem)", "System RAM (kmem)", ... */
	char driver[40];      /* what is in the parentheses: "virtio_mem", "kmem" */
};

struct mo_iomem {
	struct mo_iomem_range *managed; /* driver-managed System RAM ranges */
	size_t n_managed;
	bool addresses_hidden;          /* /proc/iomem showed zeros (no CAP_SYS_ADMIN) */
};

/** mo_iomem_read() - parse <procroot>/proc/iomem. Return: 0 or negative errno. */
int mo_iomem_read(const struct mo_root *root, struct mo_iomem *out);
void mo_iomem_done(struct mo_iomem *io);

/**
 * mo_iomem_parse() - parse iomem text (for tests and fuzzers). Malformed
 * lines are skipped. Return: 0, -EINVAL for NULL, -ENOMEM.
 */
int mo_iomem_parse(const char *text, struct mo_iomem *out);

/**
 * mo_iomem_managed() - the driver-managed range overlapping [start,end], or NULL.
 * When the addresses are hidden and driver-managed memory exists, any range
 * may be one of it: the first driver-managed entry is returned.
 */
const struct mo_iomem_range *mo_iomem_managed(const struct mo_iomem *io, uint64_t start, uint64_t end);
