/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Zone spans from /proc/zoneinfo: where each node's zones start and how many
 * PFNs they span. Every online page of a zone lies in its span, so a request
 * for blocks of some zones need look at no block outside their spans (lazy
 * planning: no listing of every memory block on a large machine).
 */

#include <stddef.h>
#include <stdint.h>

#include "root.h"

struct mo_zone_span {
	int node;
	char zone[16];          /* "DMA", "DMA32", "Normal", "Movable", "Device", ... */
	uint64_t start_pfn;
	uint64_t spanned;       /* PFNs; 0 for an empty zone */
};

/**
 * mo_zoneinfo_parse() - the spans in a zoneinfo text (empty zones included,
 * with @spanned 0).
 * Return: 0, -EBADMSG when no zone header is found, -ENOMEM.
 */
int mo_zoneinfo_parse(const char *text, struct mo_zone_span **ret, size_t *n_ret);

/** mo_zoneinfo_read() - mo_zoneinfo_parse() of <procroot>/proc/zoneinfo. Return: 0 or a negative errno. */
int mo_zoneinfo_read(const struct mo_root *root, struct mo_zone_span **ret, size_t *n_ret);
