/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target: the kernel log (kmsg.h).
 *
 * The input is a captured /dev/kmsg: records "PRIO,SEQ,TS,FLAGS;MESSAGE\n"
 * with " KEY=VALUE" lines. It goes
 *  - through mo_kmsg_reader on a tree holding it as dev/kmsg, every record
 *    into the dump_page()/memory-hotplug assembler;
 *  - line by line through the assembler as bare messages (what dmesg shows),
 *    and each line through mo_kmsg_parse() on its own.
 * Checks what the API promises: parsed fields in range, strings terminated
 * inside their arrays, events in order, the extra-reference arithmetic
 * either a count or one of its documented errors; a record taken for an
 * eject request (eject-request.h) names a valid device, from the kernel.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "eject-request.h"
#include "fuzz-tree.h"
#include "kmsg.h"

#define TERMINATED(a) (strnlen((a), sizeof(a)) < sizeof(a))

/* Events come in log order: when the lines' sequence numbers grow, so do theirs. */
struct order {
	bool check;
	uint64_t last_seq;
};

static int check_event(const struct mo_kmsg_event *ev, void *userdata)
{
	struct order *o = userdata;
	const struct mo_page_dump *d = ev->dump;
	int64_t extra, pins;

	if (o->check && ev->seq < o->last_seq)
		abort();
	o->last_seq = ev->seq;
	switch (ev->type) {
	case MO_KMSG_EV_MIGRATE_FAILED:
	case MO_KMSG_EV_ISOLATE_FAILED:
		if (d)
			abort();
		return 0;
	case MO_KMSG_EV_DUMP:
		break;
	default:
		abort();
	}
	if (!d || d->order < 0 || d->order >= 64)
		abort();
	if (!TERMINATED(d->flags_text) || !TERMINATED(d->page_type) || !TERMINATED(d->aops) ||
	    !TERMINATED(d->dentry) || !TERMINATED(d->reason))
		abort();
	if (d->have_pfn && ev->pfn != d->pfn)
		abort();
	if (d->migrate_failed && d->isolate_failed)
		abort();
	extra = mo_page_dump_extra_refs(d);
	if (extra < 0 && extra != -ENODATA && extra != -ERANGE)
		abort();
	if (extra >= 0 && (d->refcount < extra || d->poisoned))
		abort();
	pins = mo_page_dump_pins(d);
	if (pins < 0 && pins != -ENODATA && pins != -ERANGE)
		abort();
	if (pins > 0 && d->order == 0 && extra < pins * MO_GUP_PIN_COUNTING_BIAS)
		abort();
	return 0;
}

/* An eject request names a valid ACPI memory device that its kernel message names too. */
static void check_eject_request(const struct mo_kmsg_record *rec)
{
	char dev[32], small[4];

	if (!mo_eject_request_match(rec, dev, sizeof(dev)))
		return;
	if (!TERMINATED(dev) || !mo_acpi_memory_device_name_valid(dev) || !strstr(rec->message, dev) ||
	    rec->facility != 0)
		abort();
	if (mo_eject_request_match(rec, small, sizeof(small)))
		abort();
}

static void check_record(const struct mo_kmsg_record *rec, size_t len)
{
	if (rec->level > 7 || !rec->message || rec->message_len > len)
		abort();
	if (strlen(rec->message) > rec->message_len)
		abort();
	if (rec->dict && rec->dict[0] != ' ')
		abort();
	check_eject_request(rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mo_dump_parser *p = NULL;
	struct mo_kmsg_reader *k = NULL;
	struct mo_root *root = NULL;
	struct mo_kmsg_record rec;
	struct order order = {};
	size_t at = 0;
	int r;

	/* 1. the reader over the whole capture */
	root = ft_root_with_file("dev/kmsg", data, size);
	if (mo_kmsg_reader_open(root, MO_KMSG_FROM_START, &k) < 0)
		abort();
	/* a capture's sequence numbers need not grow: no order check here */
	if (mo_dump_parser_new(check_event, &order, &p) < 0)
		abort();
	for (unsigned n = 0;; n++) {
		r = mo_kmsg_reader_read(k, &rec);
		if (r < 0)
			abort();
		if (r == 0)
			break;
		/* every record takes at least its prefix and ';' */
		if (n > size)
			abort();
		check_record(&rec, size);
		if (mo_dump_parser_feed(p, &rec) < 0)
			abort();
	}
	if (mo_dump_parser_flush(p) < 0)
		abort();
	mo_dump_parser_free(p);
	mo_kmsg_reader_free(k);
	mo_root_free(root);

	/* 2. line by line: as bare messages, and as records; offsets as sequence numbers */
	order = (struct order) { .check = true };
	if (mo_dump_parser_new(check_event, &order, &p) < 0)
		abort();
	while (at < size) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t len = nl ? (size_t) (nl - (data + at)) : size - at;
		char *line = malloc(len + 1);

		if (!line)
			abort();
		memcpy(line, data + at, len);
		line[len] = '\0';
		if (mo_dump_parser_feed_line(p, line, at, 0) < 0)
			abort();
		if (mo_kmsg_parse(line, len, &rec) == 0)
			check_record(&rec, len);
		free(line);
		at += len + 1;
	}
	if (mo_dump_parser_flush(p) < 0)
		abort();
	mo_dump_parser_free(p);
	return 0;
}
