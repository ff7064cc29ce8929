/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The release target as memoffd keeps it across restarts (its state
 * directory, file "release-target"): how much hot-pluggable memory to give
 * back, how much has been given back towards it, and the devices that went.
 *
 *   memoffd-target 1
 *   target BYTES
 *   released BYTES
 *   set USEC              (CLOCK_REALTIME when the target was set)
 *   deadline USEC         (CLOCK_REALTIME by which to give up; 0 = none)
 *   given-up 0|1          (the deadline passed before the target was reached)
 *   device NAME BYTES     (one line per device released towards it)
 *
 * A file that does not start with the header is not ours; a malformed or
 * unknown line makes the whole file malformed (it is small and only ever
 * written by memoffd).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TARGET_RECORD_MAX_DEVICES 256

struct target_device {
	char name[32];            /* "PNP0C80:01" */
	uint64_t bytes;
};

struct target_record {
	uint64_t target;          /* bytes; 0 = no target */
	uint64_t released;        /* bytes ejected towards it */
	uint64_t set_usec;        /* CLOCK_REALTIME when it was set, 0 unknown */
	uint64_t deadline_usec;   /* CLOCK_REALTIME by which to give up, 0 = none */
	bool given_up;            /* the deadline passed first: no more work on it */
	struct target_device *devices;
	size_t n_devices;
};

void target_record_done(struct target_record *t);

/**
 * target_record_add_device() - a device released towards the target: adds
 * @bytes to released. Past TARGET_RECORD_MAX_DEVICES only the bytes count.
 * Return: 0, -EINVAL for a name that does not fit, -ENOMEM.
 */
int target_record_add_device(struct target_record *t, const char *name, uint64_t bytes);

/** target_record_format() - the file's text (caller frees). Return: 0 or -ENOMEM. */
int target_record_format(const struct target_record *t, char **ret);

/**
 * target_record_parse() - read the file's text.
 * Return: 0; -EBADMSG when it is not a target file or is malformed (@ret is
 * then empty); -ENOMEM.
 */
int target_record_parse(const char *text, struct target_record *ret);
