/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Path helpers shared by the unit-test fixture (tests/unit/fixture.c) and the
 * fuzzers' tree builder (tests/fuzz/fuzz-tree.c). No cmocka, no libmemoff:
 * the fuzz targets compile this file alone.
 */

/*
 * Create every directory above the last component of @path (mode 0755;
 * existing ones are fine). A test tree that cannot be built is no test:
 * aborts, naming the directory, when one cannot be made.
 */
void fx_mkparents(const char *path);
