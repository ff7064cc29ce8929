/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * [Cloud] DeviceHook=: a program run for each device a release job freed or
 * gave up on, for agents that do not speak D-Bus:
 *
 *   PROGRAM released|given-up DEVICE BYTES
 *
 * with MEMOFF_EVENT, MEMOFF_DEVICE, MEMOFF_BYTES and MEMOFF_REASON in a
 * minimal environment, stdin from /dev/null, default signal dispositions and
 * an empty signal mask. memoffd does not wait for it: the loop reaps it,
 * logs a non-zero exit, and kills it after HOOK_TIMEOUT_USEC.
 */

#include <stdint.h>
#include <systemd/sd-event.h>

#define HOOK_TIMEOUT_USEC (60 * 1000 * 1000ULL)

/**
 * hook_run() - start @path for one device. Errors are logged.
 * @what: "released" or "given-up"
 * @reason: why (given-up), or NULL
 */
void hook_run(sd_event *event, const char *path, const char *what, const char *device, uint64_t bytes,
	      const char *reason);
