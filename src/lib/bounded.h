/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Reads that may block for ever, bounded. Reading /proc/PID/maps or
 * /proc/PID/pagemap (pread or the PAGEMAP_SCAN ioctl) waits for the
 * process's mmap_lock, killably only: a process stuck holding it (or a FIFO
 * planted in a captured tree) would wedge the reader, and no signal short
 * of SIGKILL gets it out. So such a file is read by a helper thread while
 * the caller waits at most a timeout, and less when its cancel flag is set;
 * a helper that overruns is abandoned (it frees what it holds when the
 * kernel lets it go) and the caller moves on. At most MO_BOUNDED_MAX_STUCK
 * helpers may be abandoned at once: past that, calls are refused at once
 * (-EBUSY) rather than piling up threads.
 *
 * A helper thread costs a thread creation; a scan that makes thousands of
 * such calls (a pagemap read per mapping) hands them all to one persistent
 * helper, a struct mo_bounded_worker, which starts a new thread only when
 * the last one was abandoned. Each side of a hand-over watches for the
 * other for a few tens of microseconds before it sleeps (a wake-up costs
 * about as much), so that a stream of short calls costs no wake-ups.
 *
 * What is bounded and why (owners.c): per process, the reads of maps,
 * cgroup and comm, the open of pagemap (a planted FIFO; the kernel's open
 * waits for a process in execve), and every pread and PAGEMAP_SCAN of it.
 * kpageflags, kpagecount and kpagecgroup take no process's lock, nor do the
 * memory blocks' sysfs attributes.
 */

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root.h"

#define MO_BOUNDED_TIMEOUT_USEC (2 * 1000 * 1000ULL)
#define MO_BOUNDED_MAX_STUCK    16

/*
 * A persistent helper: one thread (started on the first call) that serves
 * the calls of one caller in turn. Not for several threads at once.
 */
struct mo_bounded_worker;

/** mo_bounded_worker_new() - a worker with no thread yet. Return: 0 or -ENOMEM. */
int mo_bounded_worker_new(struct mo_bounded_worker **ret);

/**
 * mo_bounded_worker_free() - end the worker's idle thread (joined) and free
 * it. A thread abandoned earlier is not the worker's any more: it ends on
 * its own.
 */
void mo_bounded_worker_free(struct mo_bounded_worker *w);
static inline void mo_bounded_worker_freep(struct mo_bounded_worker **w) { mo_bounded_worker_free(*w); }

/* What a helper runs: 0 or a negative errno, results in @ctx. */
typedef int (*mo_bounded_fn)(void *ctx);

/**
 * mo_bounded_call() - run @fn(@ctx) in a helper thread, waiting at most
 * @timeout_usec (less when *@cancel is set).
 * @w: the worker whose thread runs it, or NULL for a thread of its own
 * @ctx: heap memory that @fn works on, and nothing the caller keeps using
 *       (an abandoned helper may still be running it)
 * @free_ctx: frees @ctx once an abandoned helper is done
 *
 * Return: @fn's return, when it finished in time (@ctx is still the
 * caller's); -ETIMEDOUT or -ECANCELED (@ctx is no longer the caller's: the
 * helper frees it with @free_ctx, or, when the cancel was set before any
 * helper started, it is freed at once; @w's thread is abandoned with it and
 * the next call starts another); -EBUSY when MO_BOUNDED_MAX_STUCK helpers
 * are stuck already, or another negative errno without running @fn (@ctx
 * stays the caller's).
 */
int mo_bounded_call(struct mo_bounded_worker *w, mo_bounded_fn fn, void *ctx, void (*free_ctx)(void *ctx),
		    uint64_t timeout_usec, const volatile sig_atomic_t *cancel);

/**
 * mo_root_read_file_bounded() - read a whole file under @root into a
 * malloc'd NUL-terminated buffer, within a bound.
 * @w: the worker to read with, or NULL (mo_bounded_call())
 * @proc: under proc/ (true) or sys/
 * @rel: path relative to that directory
 * @max: refuse (-EFBIG) a file longer than this
 * @timeout_usec: how long to wait for the open and the reads together
 * @cancel: the caller's cancel flag (stop waiting when it is set), or NULL
 * @ret: receives the text (caller frees)
 * @ret_len: receives its length (NUL bytes may be inside), or NULL
 *
 * Return: 0; -ETIMEDOUT when the bound passed, -ECANCELED when @cancel was
 * set (the helper is then abandoned); -EBUSY when too many helpers are
 * stuck already; the open's or the read's negative errno; -ENOMEM.
 */
int mo_root_read_file_bounded(struct mo_bounded_worker *w, const struct mo_root *root, bool proc, const char *rel,
			      size_t max, uint64_t timeout_usec, const volatile sig_atomic_t *cancel, char **ret,
			      size_t *ret_len);

/**
 * mo_root_open_bounded() - open a file under @root for reading within a
 * bound (a FIFO planted in a tree, or a /proc file whose open waits).
 * @w: the worker to open with, or NULL (mo_bounded_call())
 * Return: a descriptor; -ETIMEDOUT, -ECANCELED, -EBUSY as above; -EROFS for
 * anything but O_RDONLY; the open's negative errno; -ENOMEM.
 */
int mo_root_open_bounded(struct mo_bounded_worker *w, const struct mo_root *root, bool proc, const char *rel,
			 int flags, uint64_t timeout_usec, const volatile sig_atomic_t *cancel);

/** mo_bounded_stuck() - how many helpers are abandoned and still stuck now. */
unsigned mo_bounded_stuck(void);

/** mo_bounded_running() - how many helpers are in a call now (waited for or abandoned). */
unsigned mo_bounded_running(void);

/** mo_bounded_threads() - how many helper threads exist now (idle, busy or abandoned). */
unsigned mo_bounded_threads(void);
