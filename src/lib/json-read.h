/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reading JSON (RFC 8259) into a tree, for documents memoff itself writes
 * with json.h and hands between processes (a job's report from memoffd). The
 * parser is strict: one value, nothing after it, strings valid UTF-8 without
 * NUL, depth at most MO_JSON_MAX_DEPTH. Numbers are kept as text and read
 * with the accessors; memoff writes integers and seconds with three decimals.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json.h"

enum mo_jv_type {
	MO_JV_NULL,
	MO_JV_BOOL,
	MO_JV_NUMBER,
	MO_JV_STRING,
	MO_JV_ARRAY,
	MO_JV_OBJECT,
};

struct mo_jv {
	enum mo_jv_type type;
	bool b;
	char *str;              /* STRING: the text; NUMBER: the literal */
	char *key;              /* a member of an object: its name */
	struct mo_jv **items;   /* ARRAY, OBJECT: elements / members in order */
	size_t n_items;
};

/**
 * mo_jv_parse() - parse @text.
 * @error: on -EBADMSG, the byte offset where the text went wrong (may be NULL)
 * Return: 0; -EBADMSG when @text is not one JSON value; -ENOMEM.
 */
int mo_jv_parse(const char *text, struct mo_jv **ret, size_t *error);

void mo_jv_free(struct mo_jv *v);
static inline void mo_jv_freep(struct mo_jv **v) { mo_jv_free(*v); }

/** mo_jv_get() - member @key of object @v, or NULL (also when @v is not an object). */
const struct mo_jv *mo_jv_get(const struct mo_jv *v, const char *key);

/** mo_jv_str() - member @key as a string; NULL when absent, null or not a string. */
const char *mo_jv_str(const struct mo_jv *v, const char *key);

/** mo_jv_bool() - member @key as a boolean; false when absent or not one. */
bool mo_jv_bool(const struct mo_jv *v, const char *key);

/**
 * mo_jv_u64() / mo_jv_i64() - member @key as an integer.
 * Return: 0; -ENOENT when absent or null; -EINVAL when not an integer that fits.
 */
int mo_jv_u64(const struct mo_jv *v, const char *key, uint64_t *ret);
int mo_jv_i64(const struct mo_jv *v, const char *key, int64_t *ret);

/**
 * mo_jv_usec() - member @key, a number of seconds ("1.250"), in µs.
 * Return: 0; -ENOENT when absent or null; -EINVAL when not a non-negative number.
 */
int mo_jv_usec(const struct mo_jv *v, const char *key, uint64_t *ret);
