/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * memoffd.conf: the daemon's settings, read with inih from one main file and
 * its drop-ins, the way systemd reads its own: "*.conf" files from
 * /etc/memoff/memoffd.conf.d, /run/memoff/memoffd.conf.d and
 * /usr/lib/memoff/memoffd.conf.d, all sorted by file name together and
 * applied in that order, later files overriding earlier ones key by key; a
 * file name in an earlier directory of that list hides the same name in a
 * later one, and a drop-in that is a symlink to /dev/null is masked.
 *
 * Pure: no sd-bus, no sd-event, no sysfs. memoffctl links it too (the hotplug
 * fallback applies the same policy when no daemon runs).
 *
 * A configuration mistake degrades, it never fails: every problem is reported
 * as "FILE:LINE: message" and the rest of the configuration applies. An
 * unknown section or key is ignored; a value that does not parse or is out
 * of range leaves the key as it was (the default, or on reload the value in
 * force); a file that cannot be read (not a regular file, a NUL byte inside)
 * is skipped. Only `memoffd --check-config` treats a problem as an error.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "parse.h"
#include "select.h"

#define MO_CONFIG_FILE "memoff/memoffd.conf"  /* under sysconfdir */
#define MO_CONFIG_DROPIN_RUNTIME "/run/memoff/memoffd.conf.d"
#define MO_CONFIG_DROPIN_VENDOR  "/usr/lib/memoff/memoffd.conf.d"

enum mo_hotplug_policy {
	MO_HOTPLUG_OFF,            /* leave hot-added blocks as they come */
	MO_HOTPLUG_ONLINE,         /* "online": the kernel's default zone */
	MO_HOTPLUG_ONLINE_MOVABLE, /* ZONE_MOVABLE when the block allows it, else leave offline */
	MO_HOTPLUG_AUTO,           /* movable within MovableRatio, else the kernel zone */
	_MO_HOTPLUG_MAX,
};



struct mo_config {
	/* [Offline] */
	uint64_t attempt_timeout_usec; /* AttemptTimeout= */
	uint64_t stall_grace_usec;     /* StallGrace= (0 = attempts end only at AttemptTimeout=) */
	unsigned attempts_per_block;   /* AttemptsPerBlock= (0 = unlimited) */
	uint64_t backoff_initial_usec; /* BackoffInitial= */
	double backoff_factor;         /* BackoffFactor= (>= 1) */
	uint64_t backoff_cap_usec;     /* BackoffCap= */
	unsigned backoff_jitter_pct;   /* BackoffJitter= (percent, 0..99) */
	uint64_t deadline_usec;        /* Deadline= (0 = none) */
	uint64_t reserve_bytes;        /* Reserve= (0 with reserve_auto) */
	bool reserve_auto;             /* Reserve=auto: the headroom guard's default */
	unsigned allowed_zones;        /* AllowedZones=, MO_ZONE_* bits */
	struct mo_addr_range *excluded; /* ExcludedRanges= (select.h) */
	size_t n_excluded;
	/* [Forensics] */
	uint64_t long_lived_usec;      /* LongLivedThreshold= */
	/* [Hotplug] */
	enum mo_hotplug_policy hotplug_policy; /* Policy= */
	unsigned movable_ratio_pct;    /* MovableRatio= (percent of non-movable memory) */
	/* [Cloud] */
	bool handle_eject_requests;    /* HandleEjectRequests= */
	char *device_hook;             /* DeviceHook=: an absolute path, NULL = none */
	/* [Access] */
	char *allowed_group;           /* AllowedGroup= as written, NULL = root only */
	gid_t allowed_gid;             /* resolved; valid when allowed_group is set */
};

/* Defaults (and what conf/memoffd.conf shows, commented out). */
#define MO_CONFIG_ATTEMPT_TIMEOUT_USEC (10 * 1000 * 1000ULL)
#define MO_CONFIG_STALL_GRACE_USEC     (300 * 1000ULL)   /* MO_STALL_GRACE_USEC (stall.h) */
#define MO_CONFIG_ATTEMPTS_PER_BLOCK   5
#define MO_CONFIG_BACKOFF_INITIAL_USEC (1000 * 1000ULL)
#define MO_CONFIG_BACKOFF_FACTOR       2.0
#define MO_CONFIG_BACKOFF_CAP_USEC     (15 * 1000 * 1000ULL)
#define MO_CONFIG_BACKOFF_JITTER_PCT   20
#define MO_CONFIG_DEADLINE_USEC        (2 * 60 * 1000 * 1000ULL)
#define MO_CONFIG_LONG_LIVED_USEC      (30 * 1000 * 1000ULL)
#define MO_CONFIG_MOVABLE_RATIO_PCT    301

/** mo_config_init() - fill @c with the defaults. */
void mo_config_init(struct mo_config *c);

/** mo_config_done() - free what @c owns (not @c itself). */
void mo_config_done(struct mo_config *c);

/**
 * mo_config_parse_text() - apply the settings in @text on top of @c.
 * @name: the file name used in messages
 * @text: the file's contents
 * @c: the configuration being built (start from mo_config_init())
 * @errors: appended to: one "NAME:LINE: message\n" per problem; may point at
 *          NULL at first; the caller frees it
 *
 * Return: 0, or -EINVAL when at least one problem was found (every problem
 * of the text is reported, not only the first), -ENOMEM.
 */
int mo_config_parse_text(const char *name, const char *text, struct mo_config *c, char **errors);

/**
 * mo_config_load_dirs() - read @path and then the "*.conf" drop-ins of @dirs
 * on top of the defaults.
 * @path: the main file; a missing file means "all defaults"
 * @dirs: NULL-terminated drop-in directories, most important first; NULL
 *        means "@path.d" alone
 * @fallback: on reload, the configuration in force: a key whose value is
 *            refused keeps its value from there; NULL at start (the key
 *            keeps the default, or an earlier file's value)
 * @ret: the result, always usable (release it with mo_config_done())
 * @errors: as for mo_config_parse_text(), plus "PATH: message" lines for
 *          files that cannot be read
 *
 * Return: the number of problems found (0: clean), or -ENOMEM (@ret then
 * holds the defaults).
 */
int mo_config_load_dirs(const char *path, const char *const *dirs, const struct mo_config *fallback,
			struct mo_config *ret, char **errors);

/**
 * mo_config_load() - mo_config_load_dirs() with the drop-in directories of
 * @path: the three of mo_config_dropin_dirs_default() for the system's own
 * file (sysconfdir/memoff/memoffd.conf), "@path.d" alone for another one.
 */
int mo_config_load(const char *path, const struct mo_config *fallback, struct mo_config *ret, char **errors);

/** mo_config_dropin_dirs_default() - the system's drop-in directories, most important first. */
const char *const *mo_config_dropin_dirs_default(void);

/**
 * mo_config_key() - the @i-th known key, for documentation and tests.
 * @section: receives its section name
 * Return: the key name, or NULL when @i is past the last key.
 */
const char *mo_config_key(size_t i, const char **section);

/** mo_config_equal() - whether two configurations mean the same. */
bool mo_config_equal(const struct mo_config *a, const struct mo_config *b);

/**
 * mo_config_excluded() - whether [@first, @last] overlaps an ExcludedRanges=
 * entry.
 */
bool mo_config_excluded(const struct mo_config *c, uint64_t first, uint64_t last);

/** mo_config_zone_allowed() - whether @zone ("Movable", ...) is in AllowedZones=. */
bool mo_config_zone_allowed(const struct mo_config *c, const char *zone);

const char *mo_hotplug_policy_to_string(enum mo_hotplug_policy p);
/** mo_hotplug_policy_from_string() - Return: the policy or -EINVAL. */
int mo_hotplug_policy_from_string(const char *s);
