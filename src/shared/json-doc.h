/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reading the JSON documents memoffd publishes and memoffctl prints (written
 * by src/lib/json.c, read with json-c): a strict parse, and the members of an
 * object by name.
 */

#include <stdbool.h>
#include <stdint.h>

struct json_object;

/**
 * json_doc_parse() - @text as one JSON object: RFC 8259 strictly, valid UTF-8
 * only (what json.c writes always is), nothing after it but whitespace.
 * Return: 0 (*@ret to be json_object_put()), -EBADMSG, -ENOMEM.
 */
int json_doc_parse(const char *text, struct json_object **ret);

/*
 * Members of object @o: NULL (or false, or -ENOENT) when absent or null;
 * -EBADMSG when of another type. json_doc_usec() reads seconds written with
 * three decimals ("1.250") into µs.
 */
struct json_object *json_doc_get(struct json_object *o, const char *key);
const char *json_doc_str(struct json_object *o, const char *key);
bool json_doc_bool(struct json_object *o, const char *key);
int json_doc_u64(struct json_object *o, const char *key, uint64_t *ret);
int json_doc_i64(struct json_object *o, const char *key, int64_t *ret);
int json_doc_usec(struct json_object *o, const char *key, uint64_t *ret);
