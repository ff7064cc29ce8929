/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reading memoff's JSON documents with json-c: see json-doc.h.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "json-doc.h"

struct json_object *json_doc_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &v) ||
	    json_object_is_type(v, json_type_null))
		return NULL;
	return v;
}

const char *json_doc_str(struct json_object *o, const char *key)
{
	struct json_object *v = json_doc_get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

bool json_doc_bool(struct json_object *o, const char *key)
{
	struct json_object *v = json_doc_get(o, key);

	return v && json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* The integer member @key of @o into *@ret, errno cleared for json-c's range check. */
static int get_int(struct json_object *o, const char *key, struct json_object **ret)
{
	struct json_object *v = json_doc_get(o, key);

	if (!v)
		return -ENOENT;
	if (!json_object_is_type(v, json_type_int))
		return -EBADMSG;
	errno = 0;
	*ret = v;
	return 0;
}

int json_doc_i64(struct json_object *o, const char *key, int64_t *ret)
{
	struct json_object *v;
	int r = get_int(o, key, &v);

	if (r < 0)
		return r;
	*ret = json_object_get_int64(v);
	return errno ? -EBADMSG : 0;
}

int json_doc_u64(struct json_object *o, const char *key, uint64_t *ret)
{
	struct json_object *v;
	int r = get_int(o, key, &v);

	if (r < 0)
		return r;
	/* json-c keeps integers above INT64_MAX as unsigned */
	*ret = json_object_get_uint64(v);
	if (errno || (json_object_get_int64(v) < 0 && *ret == 0))
		return -EBADMSG;
	return 0;
}

int json_doc_usec(struct json_object *o, const char *key, uint64_t *ret)
{
	struct json_object *v = json_doc_get(o, key);
	double d;

	if (!v)
		return -ENOENT;
	if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	d = json_object_get_double(v);
	if (!(d >= 0) || d > (double) (UINT64_MAX / 1000000))
		return -EBADMSG;
	/* written with three decimals: milliseconds, exactly */
	*ret = (uint64_t) (d * 1000 + 0.5) * 1000;
	return 0;
}

int json_doc_parse(const char *text, struct json_object **ret)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t len = strlen(text);

	if (!tok)
		return -ENOMEM;
	/* RFC 8259: UTF-8 only, one value and nothing after it but whitespace */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = len <= INT_MAX ? json_tokener_parse_ex(tok, text, (int) len) : NULL;
	if (o) {
		const char *rest = text + json_tokener_get_parse_end(tok);

		rest += strspn(rest, " \t\r\n");
		if (json_tokener_get_error(tok) != json_tokener_success || *rest ||
		    !json_object_is_type(o, json_type_object)) {
			json_object_put(o);
			o = NULL;
		}
	}
	json_tokener_free(tok);
	if (!o)
		return -EBADMSG;
	*ret = o;
	return 0;
}
