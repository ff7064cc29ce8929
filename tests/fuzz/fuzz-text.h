/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The fuzz input as the C string a parser of text files takes. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A NUL-terminated copy of @size bytes of @data (embedded NULs kept); NULL when out of memory. */
static inline char *fz_text(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);

	if (!text)
		return NULL;
	memcpy(text, data, size);
	text[size] = '\0';
	return text;
}
