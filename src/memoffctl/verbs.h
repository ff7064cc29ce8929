/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The verbs memoffctl knows. Each is defined in its own file (list.c, ...)
 * and listed in the table in memoffctl.c, in the order `memoffctl --help`
 * shows them.
 */

#include "common.h"

extern const struct ctl_verb ctl_verb_list;
extern const struct ctl_verb ctl_verb_offline;
extern const struct ctl_verb ctl_verb_online;
extern const struct ctl_verb ctl_verb_pins;
extern const struct ctl_verb ctl_verb_release;
/* Through memoffd (client.c). */
extern const struct ctl_verb ctl_verb_status;
extern const struct ctl_verb ctl_verb_jobs;
extern const struct ctl_verb ctl_verb_watch;
extern const struct ctl_verb ctl_verb_cancel;
extern const struct ctl_verb ctl_verb_hotplug;
extern const struct ctl_verb ctl_verb_target;
