/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * GetPins off the event loop. A read-only scan of some blocks (their page
 * flags, the kernel log, and the owners of the pages found: every process's
 * /proc/PID/pagemap) usually takes tens of milliseconds, but the owners'
 * part grows with the processes' mappings: with a QEMU guest of a few GiB
 * running, a few blocks took 29 s here. So each scan runs in a thread of its
 * own, on a root of its own (opened from the daemon's paths), and its result
 * is handed to a callback on the loop, which replies.
 *
 * The daemon may stop while a scan runs: pin_scan_abandon() drops the loop's
 * side at once, and the thread frees the rest when it is done (or dies with
 * the process).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "pins.h"
#include "root.h"

struct pin_scan;

/*
 * Called on the loop when the scan is done. @reports (one per online block,
 * in the order asked; owned by the callee, free with mo_pin_reports_free()
 * or one by one) or @error (a negative errno) say how it went.
 */
typedef void (*pin_scan_done_t)(struct pin_scan *s, int error, struct mo_pin_report **reports, size_t n,
				void *userdata);

/**
 * pin_scan_start() - scan @blocks in a new thread.
 * @root: the daemon's root; its paths are opened again for the thread
 * @blocks: block numbers (copied)
 * @kmsg: read the kernel log too
 * @done: called once on @event's loop, unless abandoned first
 * @ret: the scan, valid until @done returns or pin_scan_abandon()
 * Return: 0 or a negative errno (then @done is never called).
 */
int pin_scan_start(sd_event *event, const struct mo_root *root, const uint64_t *blocks, size_t n, bool kmsg,
		   pin_scan_done_t done, void *userdata, struct pin_scan **ret);

/** pin_scan_abandon() - forget a scan still running: @done will not be called. */
void pin_scan_abandon(struct pin_scan *s);
