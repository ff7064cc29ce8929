/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "request.h"

#include <inttypes.h>
#include <stdio.h>

#include "block.h"
#include "eject-request.h"
#include "engine-hooks.h"
#include "job.h"
#include "parse.h"
#include "util.h"

static int named_blocks(uint64_t first, uint64_t last, const struct mo_root *root, struct job_params *p,
			char **error)
{
	if (last - first >= REQUEST_MAX_BLOCKS)
		return mo_engine_fail(error, -EINVAL, "%" PRIu64 " blocks is more than a request may name (%u)",
			    last - first + 1, REQUEST_MAX_BLOCKS);
	p->n_blocks = (size_t) (last - first + 1);
	p->blocks = malloc(p->n_blocks * sizeof(*p->blocks));
	if (!p->blocks)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_blocks; i++) {
		enum mo_state st;

		p->blocks[i] = first + i;
		if (mo_block_read_state(root, first + i, &st) == -ENOENT)
			return mo_engine_fail(error, -ENOENT, "block %" PRIu64 " does not exist", first + i);
	}
	return 0;
}

/*
 * ExcludedRanges= as it is now, for the job (a reload does not change a
 * job asked for before it); named blocks in one are refused: memoffd never
 * offlines them.
 */
static int take_excluded(const struct mo_config *c, uint64_t block_size, struct job_params *p, char **error)
{
	if (c->n_excluded == 0)
		return 0;
	p->excluded = malloc(c->n_excluded * sizeof(*p->excluded));
	if (!p->excluded)
		return -ENOMEM;
	memcpy(p->excluded, c->excluded, c->n_excluded * sizeof(*p->excluded));
	p->n_excluded = c->n_excluded;
	for (size_t i = 0; i < p->n_blocks; i++) {
		uint64_t first = p->blocks[i] * block_size, last = first + block_size - 1;

		for (size_t k = 0; k < p->n_excluded; k++)
			if (mo_addr_ranges_overlap(&p->excluded[k], 1, first, last))
				return mo_engine_fail(error, -EINVAL, "block %" PRIu64 " (0x%" PRIx64 "-0x%" PRIx64 ") is in "
					    "ExcludedRanges=0x%" PRIx64 "-0x%" PRIx64 ": memoffd never offlines it",
					    p->blocks[i], first, last, p->excluded[k].first, p->excluded[k].last);
	}
	return 0;
}

/* " KEY=DURATION" when @usec is not @unset. */
static void put_duration(FILE *f, const char *key, uint64_t usec, uint64_t unset)
{
	char buf[MO_DURATION_MAX];

	if (usec != unset)
		fprintf(f, " %s=%s", key, mo_format_duration(usec, buf, sizeof(buf)));
}

/* The request as text, its options in a fixed order: "offline blocks 32-39 zone=Movable deadline=2min". */
static int request_text(enum job_kind kind, const char *by, const char *what, const struct request_options *o,
			char **ret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return -ENOMEM;
	fprintf(f, "%s ", job_kind_to_string(kind));
	if (streq(by, "blocks") || streq(by, "device"))
		fprintf(f, "%s ", by);
	fputs(what, f);
	if (o->zone)
		fprintf(f, " zone=%s", o->zone);
	if (o->node >= 0)
		fprintf(f, " node=%d", o->node);
	put_duration(f, "attempt-timeout", o->attempt_timeout_usec, 0);
	fprintf(f, "%s%s%s", o->all_or_nothing ? " all-or-nothing" : "", o->force ? " force" : "",
		o->dry_run ? " dry-run" : "");
	put_duration(f, "deadline", o->deadline_usec, 0);
	put_duration(f, "eject-timeout", o->eject_timeout_usec, 0);
	put_duration(f, "stall-grace", o->stall_grace_usec, UINT64_MAX);
	put_duration(f, "long-lived", o->long_lived_usec, 0);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	*ret = buf;
	return 0;
}

int request_build(enum job_kind kind, const char *by, const char *what, const struct request_options *o,
		  const struct mo_config *c, uint64_t block_size, const struct mo_root *root,
		  struct job_params *ret, char **text, char **error)
{
	struct job_params p = { .kind = kind, .node = -1, .uid = JOB_UID_UNKNOWN };
	const char *why = NULL;
	uint64_t first, last;
	int r;

	if (kind != JOB_OFFLINE && kind != JOB_ONLINE && kind != JOB_RELEASE)
		return mo_engine_fail(error, -EINVAL, "unsupported job kind");
	if (!block_size)
		return mo_engine_fail(error, -EINVAL, "the memory block size is unknown");
	if (kind == JOB_RELEASE) {
		if (!streq(by, "size") && !streq(by, "device"))
			return mo_engine_fail(error, -EINVAL, "a release takes a size or a device, not %s", by);
		if (o->zone)
			return mo_engine_fail(error, -EINVAL, "option 'zone' does not apply to release "
				    "(only ZONE_MOVABLE memory of whole devices is released)");
		if (o->all_or_nothing)
			return mo_engine_fail(error, -EINVAL, "option 'all-or-nothing' does not apply to release "
				    "(an ejected device cannot be taken back)");
	} else if (streq(by, "device"))
		return mo_engine_fail(error, -EINVAL, "a device is released, not %s: use Release",
				      job_kind_to_string(kind));
	else if (o->eject_timeout_usec)
		return mo_engine_fail(error, -EINVAL, "option 'eject-timeout' applies to release only");

	if (streq(by, "size")) {
		if (mo_parse_size(what, &p.size, &why) < 0)
			return mo_engine_fail(error, -EINVAL, "invalid size '%s': %s", what, strempty(why));
		if (mo_check_size_aligned(p.size, block_size, &why) < 0)
			return mo_engine_fail(error, -EINVAL, "invalid size '%s': %s (block size %" PRIu64 " bytes)",
				    what, strempty(why), block_size);
	} else if (streq(by, "device")) {
		if (!mo_acpi_memory_device_name_valid(what))
			return mo_engine_fail(error, -EINVAL, "invalid device '%s': not an ACPI memory device name "
				    "(" MO_ACPI_MEMORY_HID ":XX)", what);
		p.device = strdup(what);
		if (!p.device)
			return -ENOMEM;
	} else if (streq(by, "range")) {
		if (mo_parse_range(what, &first, &last, &why) < 0 ||
		    mo_check_range_aligned(first, last, block_size, &why) < 0)
			return mo_engine_fail(error, -EINVAL, "invalid range '%s': %s", what, strempty(why));
		r = named_blocks(first / block_size, last / block_size, root, &p, error);
		if (r < 0)
			goto fail;
	} else if (streq(by, "blocks")) {
		if (mo_parse_blocks(what, &first, &last, &why) < 0)
			return mo_engine_fail(error, -EINVAL, "invalid blocks '%s': %s", what, strempty(why));
		r = named_blocks(first, last, root, &p, error);
		if (r < 0)
			goto fail;
	} else
		return mo_engine_fail(error, -EINVAL, "invalid request type '%s': expected \"size\", \"range\" or \"blocks\"", by);

	if (o->node < -1) {
		r = mo_engine_fail(error, -EINVAL, "invalid node %d", o->node);
		goto fail;
	}
	p.node = o->node;
	if (kind == JOB_OFFLINE || kind == JOB_RELEASE) {
		r = take_excluded(c, block_size, &p, error);
		if (r < 0)
			goto fail;
		p.action = MO_ACTION_OFFLINE;
		p.zones = c->allowed_zones;
		if (o->zone) {
			p.zones = mo_zone_from_string(o->zone);
			if (!p.zones) {
				r = mo_engine_fail(error, -EINVAL, "invalid zone '%s'", o->zone);
				goto fail;
			}
		}
	} else {
		p.action = MO_ACTION_ONLINE;
		p.prefer_movable = true;
		if (o->zone) {
			unsigned z = mo_zone_from_string(o->zone);

			if (!z) {
				r = mo_engine_fail(error, -EINVAL, "invalid zone '%s'", o->zone);
				goto fail;
			}
			p.prefer_movable = false;
			p.action = z == MO_ZONE_MOVABLE ? MO_ACTION_ONLINE_MOVABLE : MO_ACTION_ONLINE_KERNEL;
		}
	}
	if (kind == JOB_ONLINE && o->long_lived_usec) {
		r = mo_engine_fail(error, -EINVAL, "option 'long-lived' applies to offline and release requests");
		goto fail;
	}
	p.long_lived_usec = o->long_lived_usec ?: c->long_lived_usec;
	if (kind == JOB_ONLINE && o->stall_grace_usec != UINT64_MAX) {
		r = mo_engine_fail(error, -EINVAL, "option 'stall-grace' applies to offline and release requests");
		goto fail;
	}
	p.stall_grace_usec = o->stall_grace_usec != UINT64_MAX ? o->stall_grace_usec : c->stall_grace_usec;
	p.attempt_timeout_usec = o->attempt_timeout_usec ?: c->attempt_timeout_usec;
	p.deadline_usec = o->deadline_usec ?: c->deadline_usec;
	p.eject_timeout_usec = o->eject_timeout_usec;
	if (!p.deadline_usec)                      /* Deadline=infinity */
		p.deadline_usec = UINT64_C(100) * 365 * 24 * 3600 * 1000000;
	p.backoff = (struct mo_backoff) {
		.initial_usec = c->backoff_initial_usec,
		.factor = c->backoff_factor,
		.max_usec = c->backoff_cap_usec,
		.jitter = c->backoff_jitter_pct / 100.0,
		.max_attempts = c->attempts_per_block,
		.seed = mo_monotonic_usec(),
	};
	p.reserve = c->reserve_auto ? MO_JOB_RESERVE_DEFAULT : c->reserve_bytes;
	if (o->reserve != UINT64_MAX)          /* 0 too: "--reserve 0" keeps nothing back */
		p.reserve = o->reserve;
	if (o->max_attempts >= 0)
		p.backoff.max_attempts = (unsigned) o->max_attempts;
	p.all_or_nothing = o->all_or_nothing;
	p.force = o->force;
	p.dry_run = o->dry_run;

	if (text && request_text(kind, by, what, o, text) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = p;
	return 0;
fail:
	job_params_done(&p);
	return r;
}

int request_blocks(const char *by, const char *what, uint64_t block_size, const struct mo_root *root,
		   uint64_t **ret, size_t *n, char **error)
{
	struct job_params p = {};
	const char *why = NULL;
	uint64_t first, last;
	int r;

	if (!block_size)
		return mo_engine_fail(error, -EINVAL, "the memory block size is unknown");
	if (streq(by, "range")) {
		if (mo_parse_range(what, &first, &last, &why) < 0 ||
		    mo_check_range_aligned(first, last, block_size, &why) < 0)
			return mo_engine_fail(error, -EINVAL, "invalid range '%s': %s", what, strempty(why));
		first /= block_size;
		last /= block_size;
	} else if (streq(by, "blocks")) {
		if (mo_parse_blocks(what, &first, &last, &why) < 0)
			return mo_engine_fail(error, -EINVAL, "invalid blocks '%s': %s", what, strempty(why));
	} else
		return mo_engine_fail(error, -EINVAL, "invalid request type '%s': expected \"range\" or \"blocks\"", by);
	r = named_blocks(first, last, root, &p, error);
	if (r < 0) {
		job_params_done(&p);
		return r;
	}
	*ret = TAKE_PTR(p.blocks);
	*n = p.n_blocks;
	return 0;
}
