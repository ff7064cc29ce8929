/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Blocked-page reports (pins.h) on D-Bus: what GetPins returns and what a
 * job's BlockedPages property holds (doc/org.memoff.Manager1.md), written by
 * memoffd and read back by memoffctl into the same structures, so that
 * `memoffctl pins` prints the same through the daemon as in-process.
 *
 * One report per block:
 *   (t block, t first_pfn, t n_pfns, t blocked_pages,
 *    i owners_errno, i kmsg_errno, i census_errno,     positive errno, 0: none
 *    a(GROUP) groups)
 * GROUP:
 *   (t first_pfn, t last_pfn, t pages, t kpageflags, as evidence,
 *    u owner_pid, b tracked, s class, t first_seen_usec, t blocked_usec, u attempts_seen,
 *    b have_kernel_log, KLOG kernel_log, a(PAGE) page_list)
 * KLOG (the newest dump_page() of one of the group's pages; zeros without one):
 *   (t kmsg_seq, t kmsg_usec, t pfn, b have_pfn, x refcount, x mapcount,
 *    x folio_mapcount, x entire_mapcount, x nr_pages_mapped, x pincount, i order,
 *    t mapping, b have_mapping, t index, s flags, s aops, s file, s reason,
 *    s kind, b poisoned, b migrate_failed, i migrate_ret, b isolate_failed)
 * PAGE:
 *   (t pfn, t kpageflags, as evidence, t mappings, b have_kernel_log,
 *    x extra_refs, x foll_pins, a(OWNER) owners)
 * OWNER:
 *   (i pid, s comm, t vaddr, s kind, s mapping, t file_offset, b exclusive,
 *    b file_shared, s cgroup)
 */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-bus.h>

#include "pins.h"

#define PINS_BUS_OWNER_SIG "(istsstbbs)"
#define PINS_BUS_KLOG_SIG  "(tttbxxxxxxitbtsssssbbib)"
#define PINS_BUS_PAGE_SIG  "(ttastbxxa" PINS_BUS_OWNER_SIG ")"
#define PINS_BUS_GROUP_SIG "(ttttasubsttub" PINS_BUS_KLOG_SIG "a" PINS_BUS_PAGE_SIG ")"
#define PINS_BUS_REPORT_SIG "(ttttiiia" PINS_BUS_GROUP_SIG ")"
/* What GetPins returns and BlockedPages holds. */
#define PINS_BUS_REPORTS_SIG "a" PINS_BUS_REPORT_SIG

/**
 * pins_bus_append() - append @reports as PINS_BUS_REPORTS_SIG to @m.
 * @owners: false to leave the owners out (the owner_pid of the groups and
 *          the owners of the pages), saying EACCES in owners_errno: for a
 *          caller who may not see other processes
 * Return: 0 or a negative errno.
 */
int pins_bus_append(sd_bus_message *m, struct mo_pin_report *const *reports, size_t n, bool owners);

/**
 * pins_bus_read() - read PINS_BUS_REPORTS_SIG from @m.
 * @ret: receives a calloc'd array of reports (free each with
 *       mo_pin_report_free(), then the array)
 * @n: how many
 * Return: 0 or a negative errno (-EBADMSG for a value that makes no sense).
 */
int pins_bus_read(sd_bus_message *m, struct mo_pin_report ***ret, size_t *n);

/** pins_bus_reports_free() - free what pins_bus_read() returned. */
void pins_bus_reports_free(struct mo_pin_report **reports, size_t n);
