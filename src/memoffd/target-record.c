/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "target-record.h"

#include <inttypes.h>
#include <stdio.h>

#include "parse.h"
#include "util.h"

#define HEADER "memoffd-target 1\n"

void target_record_done(struct target_record *t)
{
	free(t->devices);
	*t = (struct target_record) {};
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(((struct target_device *) NULL)->name))
		return false;
	for (const char *p = name; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '/')
			return false;
	return true;
}

static int push_device(struct target_record *t, const char *name, uint64_t bytes)
{
	struct target_device *n;

	if (t->n_devices >= TARGET_RECORD_MAX_DEVICES)
		return 0;
	n = realloc(t->devices, (t->n_devices + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->devices = n;
	n = &t->devices[t->n_devices++];
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->bytes = bytes;
	return 0;
}

int target_record_add_device(struct target_record *t, const char *name, uint64_t bytes)
{
	if (!name_ok(name))
		return -EINVAL;
	t->released = t->released + bytes < t->released ? UINT64_MAX : t->released + bytes;
	return push_device(t, name, bytes);
}

int target_record_format(const struct target_record *t, char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, HEADER "target %" PRIu64 "\nreleased %" PRIu64 "\nset %" PRIu64 "\ndeadline %" PRIu64
		"\ngiven-up %d\n", t->target, t->released, t->set_usec, t->deadline_usec, t->given_up);
	for (size_t i = 0; i < t->n_devices; i++)
		fprintf(f, "device %s %" PRIu64 "\n", t->devices[i].name, t->devices[i].bytes);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

static int parse_line(char *line, struct target_record *t, unsigned *seen)
{
	char *sp = strchr(line, ' '), *value, *sp2;
	uint64_t v;

	if (!sp)
		return -EBADMSG;
	*sp = '\0';
	value = sp + 1;
	if (streq(line, "device")) {
		sp2 = strchr(value, ' ');
		if (!sp2)
			return -EBADMSG;
		*sp2 = '\0';
		if (!name_ok(value) || mo_parse_u64(sp2 + 1, 10, &v) < 0 ||
		    t->n_devices >= TARGET_RECORD_MAX_DEVICES)
			return -EBADMSG;
		/* its bytes are in "released" already */
		return push_device(t, value, v);
	}
	if (mo_parse_u64(value, 10, &v) < 0)
		return -EBADMSG;
	if (streq(line, "target") && !(*seen & 1)) {
		t->target = v;
		*seen |= 1;
	} else if (streq(line, "released") && !(*seen & 2)) {
		t->released = v;
		*seen |= 2;
	} else if (streq(line, "set") && !(*seen & 4)) {
		t->set_usec = v;
		*seen |= 4;
	} else if (streq(line, "deadline") && !(*seen & 8)) {
		t->deadline_usec = v;
		*seen |= 8;
	} else if (streq(line, "given-up") && !(*seen & 16) && v <= 1) {
		t->given_up = v == 1;
		*seen |= 16;
	} else
		return -EBADMSG;
	return 0;
}

int target_record_parse(const char *text, struct target_record *ret)
{
	_cleanup_free_ char *copy = NULL;
	struct target_record t = {};
	unsigned seen = 0;
	char *line, *save = NULL;
	int r = 0;

	*ret = (struct target_record) {};
	if (!startswith(text, HEADER))
		return -EBADMSG;
	copy = strdup(text + strlen(HEADER));
	if (!copy)
		return -ENOMEM;
	if (*copy && copy[strlen(copy) - 1] != '\n')
		return -EBADMSG;   /* cut short */
	for (line = strtok_r(copy, "\n", &save); line && r == 0; line = strtok_r(NULL, "\n", &save))
		r = parse_line(line, &t, &seen);
	if (r == 0 && seen != 31)
		r = -EBADMSG;
	if (r < 0) {
		target_record_done(&t);
		return r == -ENOMEM ? r : -EBADMSG;
	}
	*ret = t;
	return 0;
}
