/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Build small fake sysfs/procfs trees in a temporary directory for unit tests.
 */

#include <stdint.h>

/* Create a fresh temporary root; returns its path (static storage per call site is the caller's). */
char *fx_mkroot(void);
/* Remove the tree. */
void fx_rmroot(char *root);
/* Write @content to <root>/<rel>, creating parent directories. */
void fx_write(const char *root, const char *rel, const char *content);
/* Create a symlink <root>/<rel> -> @target, creating parent directories. */
void fx_symlink(const char *root, const char *rel, const char *target);
/* Remove <root>/<rel> (file or symlink). */
void fx_unlink(const char *root, const char *rel);
/*
 * Add a memory block: state, phys_index, removable, valid_zones (NULL to omit),
 * node link (-1 to omit), firmware_node basename (NULL to omit).
 */
void fx_block(const char *root, uint64_t index, const char *state, const char *zones, int node, const char *fwnode);
