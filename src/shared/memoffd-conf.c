/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "memoffd-conf.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <inttypes.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "escape.h"
#include "root.h"
#include "parse.h"
#include "util.h"

#ifndef MEMOFF_SYSCONFDIR
#define MEMOFF_SYSCONFDIR "/etc"
#endif

/* The line buffer inih reads into (its INI_MAX_LINE); longer lines are refused. */
#define LINE_MAX_CHARS 200

struct parse_ctx {
	const char *name;          /* file name for messages */
	struct mo_config *c;
	char **errors;
	int n_errors;
	bool oom;
	uint32_t bad_keys;         /* bit i: the last assignment of keys[i] was refused */
	/* the reader */
	const char *p;             /* rest of the text */
	unsigned cur_line;         /* line just handed to inih (1-based) */
	unsigned next_line;
};

static void add_error(char **errors, const char *fmt, ...) _printf_(2, 3);
static void add_error(char **errors, const char *fmt, ...)
{
	_cleanup_free_ char *line = NULL, *esc = NULL;
	char *joined;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (r < 0)
		return;
	/* the line echoes the file's names and values: no control character from it */
	esc = mo_escape_cntrl_dup(line, false);
	if (!esc || asprintf(&joined, "%s%s\n", strempty(*errors), esc) < 0)
		return;
	free(*errors);
	*errors = joined;
}

static void ctx_error(struct parse_ctx *x, const char *fmt, ...) _printf_(2, 3);
static void ctx_error(struct parse_ctx *x, const char *fmt, ...)
{
	_cleanup_free_ char *msg = NULL;
	va_list ap;
	int r;

	x->n_errors++;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		x->oom = true;
		return;
	}
	add_error(x->errors, "%s:%u: %s", x->name, x->cur_line, msg);
}

/*
 * An fgets()-like reader over a string that knows which line inih is on, and
 * refuses (rather than splits) lines longer than inih's buffer.
 */
static char *reader(char *str, int num, void *stream)
{
	struct parse_ctx *x = stream;
	size_t n;
	bool nl;

	x->cur_line = x->next_line;
	if (!*x->p)
		return NULL;
	n = strcspn(x->p, "\n");
	nl = x->p[n] == '\n';
	x->next_line++;
	if (n + 2 > (size_t) num || n + 3 > LINE_MAX_CHARS) {
		ctx_error(x, "line longer than %d characters (split it: list keys may be repeated)",
			  LINE_MAX_CHARS - 3);
		x->p += n + nl;
		str[0] = '\n';
		str[1] = '\0';
		return str;
	}
	memcpy(str, x->p, n);
	if (nl)
		str[n++] = '\n';
	str[n] = '\0';
	x->p += n;
	return str;
}

/* ---- value parsers: return 0 or set *why ---- */

/* "2", "1.5": digits with an optional fraction, locale-independent. */
static int parse_factor(const char *v, double *ret)
{
	double whole = 0, frac = 0, scale = 1;
	const char *p = v;

	if (!isdigit((unsigned char) *p))
		return -EINVAL;
	for (; isdigit((unsigned char) *p); p++) {
		whole = whole * 10 + (*p - '0');
		if (whole > 1e6)
			return -ERANGE;
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char) *p))
			return -EINVAL;
		for (; isdigit((unsigned char) *p) && scale < 1e9; p++) {
			scale *= 10;
			frac = frac * 10 + (*p - '0');
		}
		while (isdigit((unsigned char) *p))
			p++;
	}
	if (*p)
		return -EINVAL;
	*ret = whole + frac / scale;
	return 0;
}

/* systemd's booleans. Return: 1, 0 or -EINVAL. */
static int parse_bool(const char *v)
{
	static const char *const yes[] = { "1", "yes", "y", "true", "t", "on" };
	static const char *const no[] = { "0", "no", "n", "false", "f", "off" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (strcasecmp(v, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (strcasecmp(v, no[i]) == 0)
			return 0;
	return -EINVAL;
}

/* "20%" (the '%' may be left out). */
static int parse_percent(const char *v, unsigned max, unsigned *ret)
{
	_cleanup_free_ char *s = strdup(v);
	size_t n;

	if (!s)
		return -ENOMEM;
	n = strlen(s);
	if (n > 0 && s[n - 1] == '%')
		s[n - 1] = '\0';
	return mo_parse_unsigned(s, max, ret);
}

static int parse_group(const char *v, gid_t *ret)
{
	struct group grp, *res = NULL;
	char buf[4096];
	unsigned gid;
	int r;

	if (mo_parse_unsigned(v, (unsigned) INT32_MAX, &gid) == 0) {
		*ret = (gid_t) gid;
		return 0;
	}
	r = getgrnam_r(v, &grp, buf, sizeof(buf), &res);
	if (r != 0)
		return -r;
	if (!res)
		return -ESRCH;
	*ret = res->gr_gid;
	return 0;
}

/* ---- keys ---- */

enum key_type {
	K_DURATION, K_DURATION_INF, K_UNSIGNED, K_FACTOR, K_PERCENT, K_RESERVE,
	K_ZONES, K_RANGES, K_POLICY, K_GROUP, K_BOOL, K_PATH,
};

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;      /* into struct mo_config */
	uint64_t min, max;  /* for numbers (durations in µs) */
};

#define OFF(f) offsetof(struct mo_config, f)

static const struct key keys[] = {
	{ "Offline",   "AttemptTimeout",     K_DURATION,     OFF(attempt_timeout_usec), 1000, UINT64_MAX },
	{ "Offline",   "StallGrace",         K_DURATION,     OFF(stall_grace_usec), 0, UINT64_MAX },
	{ "Offline",   "AttemptsPerBlock",   K_UNSIGNED,     OFF(attempts_per_block), 0, 1000000 },
	{ "Offline",   "BackoffInitial",     K_DURATION,     OFF(backoff_initial_usec), 0, UINT64_MAX },
	{ "Offline",   "BackoffFactor",      K_FACTOR,       OFF(backoff_factor), 1, 1000 },
	{ "Offline",   "BackoffCap",         K_DURATION,     OFF(backoff_cap_usec), 0, UINT64_MAX },
	{ "Offline",   "BackoffJitter",      K_PERCENT,      OFF(backoff_jitter_pct), 0, 99 },
	{ "Offline",   "Deadline",           K_DURATION_INF, OFF(deadline_usec), 0, UINT64_MAX },
	{ "Offline",   "Reserve",            K_RESERVE,      OFF(reserve_bytes), 0, UINT64_MAX },
	{ "Offline",   "AllowedZones",       K_ZONES,        OFF(allowed_zones), 0, 0 },
	{ "Offline",   "ExcludedRanges",     K_RANGES,       OFF(excluded), 0, 0 },
	{ "Forensics", "LongLivedThreshold", K_DURATION,     OFF(long_lived_usec), 1000, UINT64_MAX },
	{ "Hotplug",   "Policy",             K_POLICY,       OFF(hotplug_policy), 0, 0 },
	{ "Hotplug",   "MovableRatio",       K_PERCENT,      OFF(movable_ratio_pct), 0, 100000 },
	{ "Cloud",     "HandleEjectRequests", K_BOOL,        OFF(handle_eject_requests), 0, 0 },
	{ "Cloud",     "DeviceHook",         K_PATH,         OFF(device_hook), 0, 0 },
	{ "Access",    "AllowedGroup",       K_GROUP,        OFF(allowed_group), 0, 0 },
};

/* parse_ctx.bad_keys has one bit a key. */
_Static_assert(ARRAY_SIZE(keys) <= 32, "too many keys for bad_keys");

static const char *const policy_names[_MO_HOTPLUG_MAX] = {
	[MO_HOTPLUG_OFF] = "off",
	[MO_HOTPLUG_ONLINE] = "online",
	[MO_HOTPLUG_ONLINE_MOVABLE] = "online_movable",
	[MO_HOTPLUG_AUTO] = "auto",
};


const char *mo_config_key(size_t i, const char **section)
{
	if (i >= ARRAY_SIZE(keys))
		return NULL;
	if (section)
		*section = keys[i].section;
	return keys[i].name;
}

const char *mo_hotplug_policy_to_string(enum mo_hotplug_policy p)
{
	return (unsigned) p < _MO_HOTPLUG_MAX ? policy_names[p] : "unknown";
}

int mo_hotplug_policy_from_string(const char *s)
{
	for (unsigned i = 0; i < _MO_HOTPLUG_MAX; i++)
		if (streq(s, policy_names[i]))
			return (int) i;
	return -EINVAL;
}

bool mo_config_zone_allowed(const struct mo_config *c, const char *zone)
{
	unsigned z = mo_zone_from_string(zone);

	return z && (c->allowed_zones & z);
}

bool mo_config_excluded(const struct mo_config *c, uint64_t first, uint64_t last)
{
	return mo_addr_ranges_overlap(c->excluded, c->n_excluded, first, last);
}

void mo_config_init(struct mo_config *c)
{
	*c = (struct mo_config) {
		.attempt_timeout_usec = MO_CONFIG_ATTEMPT_TIMEOUT_USEC,
		.stall_grace_usec = MO_CONFIG_STALL_GRACE_USEC,
		.attempts_per_block = MO_CONFIG_ATTEMPTS_PER_BLOCK,
		.backoff_initial_usec = MO_CONFIG_BACKOFF_INITIAL_USEC,
		.backoff_factor = MO_CONFIG_BACKOFF_FACTOR,
		.backoff_cap_usec = MO_CONFIG_BACKOFF_CAP_USEC,
		.backoff_jitter_pct = MO_CONFIG_BACKOFF_JITTER_PCT,
		.deadline_usec = MO_CONFIG_DEADLINE_USEC,
		.reserve_auto = true,
		.allowed_zones = MO_ZONE_MOVABLE,
		.long_lived_usec = MO_CONFIG_LONG_LIVED_USEC,
		.hotplug_policy = MO_HOTPLUG_AUTO,
		.movable_ratio_pct = MO_CONFIG_MOVABLE_RATIO_PCT,
	};
}

void mo_config_done(struct mo_config *c)
{
	free(c->excluded);
	free(c->allowed_group);
	free(c->device_hook);
	c->device_hook = NULL;
	c->excluded = NULL;
	c->n_excluded = 0;
	c->allowed_group = NULL;
}

static int set_zones(struct parse_ctx *x, const struct key *k, const char *v)
{
	_cleanup_free_ char *bad = NULL;
	unsigned zones;
	int r;

	r = mo_parse_zones(v, &zones, &bad);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		ctx_error(x, "%s=: unknown zone '%s' (known: DMA DMA32 Normal HighMem Movable Device)", k->name,
			  strempty(bad));
		return 0;
	}
	/* An empty assignment resets to the default. */
	x->c->allowed_zones = zones ? zones : MO_ZONE_MOVABLE;
	return 0;
}

static int set_ranges(struct parse_ctx *x, const struct key *k, const char *v)
{
	_cleanup_free_ char *copy = strdup(v);
	char *save = NULL;

	if (!copy)
		return -ENOMEM;
	if (!*v) {
		free(x->c->excluded);
		x->c->excluded = NULL;
		x->c->n_excluded = 0;
		return 0;
	}
	for (char *w = strtok_r(copy, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		struct mo_addr_range *n;
		const char *why = NULL;
		uint64_t first, last;

		if (mo_parse_range(w, &first, &last, &why) < 0) {
			ctx_error(x, "%s=: invalid range '%s': %s", k->name, w, strempty(why));
			continue;
		}
		n = realloc(x->c->excluded, (x->c->n_excluded + 1) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		n[x->c->n_excluded++] = (struct mo_addr_range) { first, last };
		x->c->excluded = n;
	}
	return 0;
}

static int set_value(struct parse_ctx *x, const struct key *k, const char *v)
{
	void *field = (char *) x->c + k->offset;
	const char *why = NULL;
	uint64_t u64;
	unsigned u;
	double d;
	gid_t gid;
	int r;

	switch (k->type) {
	case K_DURATION_INF:
	case K_DURATION:
		r = k->type == K_DURATION_INF ? mo_parse_timeout(v, &u64, &why) : mo_parse_duration(v, &u64, &why);
		if (r < 0) {
			ctx_error(x, "%s=: invalid duration '%s': %s", k->name, v, strempty(why));
			return 0;
		}
		if (k->type == K_DURATION_INF && (u64 == MO_USEC_INFINITY || u64 == 0)) {
			*(uint64_t *) field = 0;       /* no limit */
			return 0;
		}
		if (u64 < k->min) {
			ctx_error(x, "%s=: '%s' is too short", k->name, v);
			return 0;
		}
		*(uint64_t *) field = u64;
		return 0;
	case K_UNSIGNED:
		r = mo_parse_unsigned(v, (unsigned) k->max, &u);
		if (r < 0) {
			ctx_error(x, "%s=: '%s' is not a whole number from %" PRIu64 " to %" PRIu64,
				  k->name, v, k->min, k->max);
			return 0;
		}
		*(unsigned *) field = u;
		return 0;
	case K_PERCENT:
		r = parse_percent(v, (unsigned) k->max, &u);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			ctx_error(x, "%s=: '%s' is not a percentage from %" PRIu64 "%% to %" PRIu64 "%%",
				  k->name, v, k->min, k->max);
			return 0;
		}
		*(unsigned *) field = u;
		return 0;
	case K_FACTOR:
		r = parse_factor(v, &d);
		if (r < 0 || d < (double) k->min || d > (double) k->max) {
			ctx_error(x, "%s=: '%s' is not a number from %" PRIu64 " to %" PRIu64,
				  k->name, v, k->min, k->max);
			return 0;
		}
		*(double *) field = d;
		return 0;
	case K_RESERVE:
		if (streq(v, "auto")) {
			x->c->reserve_auto = true;
			x->c->reserve_bytes = 0;
			return 0;
		}
		r = mo_parse_size(v, &u64, &why);
		if (r < 0) {
			ctx_error(x, "%s=: invalid size '%s': %s (or \"auto\")", k->name, v, strempty(why));
			return 0;
		}
		x->c->reserve_auto = false;
		x->c->reserve_bytes = u64;
		return 0;
	case K_BOOL:
		r = parse_bool(v);
		if (r < 0) {
			ctx_error(x, "%s=: '%s' is not a boolean (yes, no, true, false, 1, 0, on, off)", k->name, v);
			return 0;
		}
		*(bool *) field = r;
		return 0;
	case K_ZONES:
		return set_zones(x, k, v);
	case K_RANGES:
		return set_ranges(x, k, v);
	case K_POLICY:
		r = mo_hotplug_policy_from_string(v);
		if (r < 0) {
			ctx_error(x, "%s=: unknown policy '%s' (off, online, online_movable, auto)", k->name, v);
			return 0;
		}
		x->c->hotplug_policy = (enum mo_hotplug_policy) r;
		return 0;
	case K_PATH:
		if (*v && (*v != '/' || strstr(v, "/../") || strlen(v) >= 4096)) {
			ctx_error(x, "%s=: '%s' is not an absolute path", k->name, v);
			return 0;
		}
		free(*(char **) field);
		*(char **) field = *v ? strdup(v) : NULL;
		return *v && !*(char **) field ? -ENOMEM : 0;
	case K_GROUP:
		if (!*v) {
			free(x->c->allowed_group);
			x->c->allowed_group = NULL;
			return 0;
		}
		r = parse_group(v, &gid);
		if (r < 0) {
			ctx_error(x, "%s=: unknown group '%s'", k->name, v);
			return 0;
		}
		free(x->c->allowed_group);
		x->c->allowed_group = strdup(v);
		if (!x->c->allowed_group)
			return -ENOMEM;
		x->c->allowed_gid = gid; /* NOLINT(clang-analyzer-core.uninitialized.Assign): getgrnam_r() filled it */
		return 0;
	}
	return 0;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *x = user;
	bool known_section = false;
	int n;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!streq(section, keys[i].section))
			continue;
		known_section = true;
		if (!streq(name, keys[i].name))
			continue;
		n = x->n_errors;
		if (set_value(x, &keys[i], value) < 0)
			x->oom = true;
		/* A refused value leaves the key as it was; remember it for the fallback (reload). */
		if (x->n_errors > n)
			x->bad_keys |= UINT32_C(1) << i;
		else
			x->bad_keys &= ~(UINT32_C(1) << i);
		return 1;
	}
	if (!*section)
		ctx_error(x, "'%s=' outside of any section", name);
	else if (!known_section)
		ctx_error(x, "unknown section [%s]", section);
	else
		ctx_error(x, "unknown key '%s' in section [%s]", name, section);
	return 1;
}

static int parse_text(const char *name, const char *text, struct mo_config *c, char **errors, uint32_t *bad_keys)
{
	struct parse_ctx x = {
		.name = name, .c = c, .errors = errors, .p = text, .next_line = 1, .bad_keys = *bad_keys,
	};
	int r;

	r = ini_parse_stream(reader, &x, handler, &x);
	if (r > 0) {
		/*
		 * inih's own complaint, about the first line that is neither
		 * [Section] nor Key=Value (lines the reader refused reach inih
		 * as blank lines, so this is always a new problem).
		 */
		x.cur_line = (unsigned) r;
		ctx_error(&x, "syntax error: expected [Section], Key=Value or a comment");
	} else if (r < 0)
		return -ENOMEM;
	if (x.oom)
		return -ENOMEM;
	*bad_keys = x.bad_keys;
	return x.n_errors;
}

int mo_config_parse_text(const char *name, const char *text, struct mo_config *c, char **errors)
{
	uint32_t bad = 0;
	int r = parse_text(name, text, c, errors, &bad);

	return r < 0 ? r : r > 0 ? -EINVAL : 0;
}

/* Copy one key's value from @src to @dst. Return: 0 or -ENOMEM. */
static int copy_key(struct mo_config *dst, const struct mo_config *src, const struct key *k)
{
	const void *from = (const char *) src + k->offset;
	void *to = (char *) dst + k->offset;

	switch (k->type) {
	case K_DURATION:
	case K_DURATION_INF:
		*(uint64_t *) to = *(const uint64_t *) from;
		return 0;
	case K_UNSIGNED:
	case K_PERCENT:
	case K_ZONES:
		*(unsigned *) to = *(const unsigned *) from;
		return 0;
	case K_FACTOR:
		*(double *) to = *(const double *) from;
		return 0;
	case K_POLICY:
		dst->hotplug_policy = src->hotplug_policy;
		return 0;
	case K_BOOL:
		*(bool *) to = *(const bool *) from;
		return 0;
	case K_PATH: {
		const char *p = *(char *const *) from;
		char *copy = NULL;

		if (p && !(copy = strdup(p)))
			return -ENOMEM;
		free(*(char **) to);
		*(char **) to = copy;
		return 0;
	}
	case K_RESERVE:
		dst->reserve_bytes = src->reserve_bytes;
		dst->reserve_auto = src->reserve_auto;
		return 0;
	case K_RANGES: {
		struct mo_addr_range *n = NULL;

		if (src->n_excluded) {
			n = malloc(src->n_excluded * sizeof(*n));
			if (!n)
				return -ENOMEM;
			memcpy(n, src->excluded, src->n_excluded * sizeof(*n));
		}
		free(dst->excluded);
		dst->excluded = n;
		dst->n_excluded = src->n_excluded;
		return 0;
	}
	case K_GROUP: {
		char *g = NULL;

		if (src->allowed_group && !(g = strdup(src->allowed_group)))
			return -ENOMEM;
		free(dst->allowed_group);
		dst->allowed_group = g;
		dst->allowed_gid = src->allowed_gid;
		return 0;
	}
	}
	return 0;
}

/*
 * Keys that only make sense together, checked after every file: a pair that
 * does not fit is a warning, and both go back to @fallback's values.
 */
static int validate(struct mo_config *c, const struct mo_config *fallback, const char *name, char **errors)
{
	char a[MO_DURATION_MAX], b[MO_DURATION_MAX];
	int n = 0;

	if (c->backoff_cap_usec < c->backoff_initial_usec) {
		add_error(errors, "%s: BackoffCap=%s is below BackoffInitial=%s; keeping BackoffCap=%s BackoffInitial=%s",
			  name, mo_format_duration(c->backoff_cap_usec, a, sizeof(a)),
			  mo_format_duration(c->backoff_initial_usec, b, sizeof(b)),
			  mo_format_duration(fallback->backoff_cap_usec, a, sizeof(a)),
			  mo_format_duration(fallback->backoff_initial_usec, b, sizeof(b)));
		c->backoff_cap_usec = fallback->backoff_cap_usec;
		c->backoff_initial_usec = fallback->backoff_initial_usec;
		n++;
	}
	if (c->attempts_per_block == 0 && c->deadline_usec == 0) {
		add_error(errors, "%s: AttemptsPerBlock=0 (unlimited) needs a Deadline=; keeping AttemptsPerBlock=%u",
			  name, fallback->attempts_per_block ?: MO_CONFIG_ATTEMPTS_PER_BLOCK);
		c->attempts_per_block = fallback->attempts_per_block ?: MO_CONFIG_ATTEMPTS_PER_BLOCK;
		n++;
	}
	return n;
}

/*
 * Read a whole configuration file. Only a regular file is read: a FIFO, a
 * device or a socket is refused without blocking (O_NONBLOCK on open, then
 * fstat()). Return: 0, 1 when the file is masked (a symlink to /dev/null,
 * as systemd masks a drop-in), or a negative errno (-EBADFD: not a
 * regular file; -EFBIG; -EBADMSG: a NUL byte inside).
 */
static int read_text(const char *path, char **ret)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	struct stat st;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		return 1;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	r = mo_read_fd_all(fd, 1024 * 1024, &buf, &len);
	if (r < 0)
		return r;
	if (strlen(buf) != len)
		return -EBADMSG;
	*ret = TAKE_PTR(buf);
	return 0;
}

static const char *read_error(int r)
{
	return r == -EBADFD ? "not a regular file" : r == -EBADMSG ? "contains a NUL byte" :
	       r == -EFBIG ? "larger than 1 MiB" : strerror(-r);
}

/* Return: the number of problems, or -ENOMEM. */
static int parse_file(const char *path, struct mo_config *c, char **errors, bool missing_ok, uint32_t *bad_keys)
{
	_cleanup_free_ char *text = NULL;
	int r;

	r = read_text(path, &text);
	if (r == 1 || (r == -ENOENT && missing_ok))
		return 0;
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		add_error(errors, "%s: cannot read, ignoring the file: %s", path, read_error(r));
		return 1;
	}
	return parse_text(path, text, c, errors, bad_keys);
}

struct dropin {
	char *name;
	size_t dir;       /* index into the directory list: lower wins */
};

static int cmp_dropins(const void *a, const void *b)
{
	const struct dropin *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->dir < y->dir ? -1 : x->dir > y->dir;
}

static bool is_dropin(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 5 && streq(name + n - 5, ".conf");
}

/* Add the drop-in names of @dir to @v. Return: the number of problems, or -ENOMEM. */
static int list_dropins(const char *dir, size_t index, struct dropin **v, size_t *n, char **errors)
{
	_cleanup_closedir_ DIR *d = NULL;
	struct dirent *de;

	d = opendir(dir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		add_error(errors, "%s: cannot read, ignoring the directory: %s", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		struct dropin *nv;

		if (!is_dropin(de->d_name))
			continue;
		nv = realloc(*v, (*n + 1) * sizeof(**v));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		if (!((*v)[*n].name = strdup(de->d_name)))
			return -ENOMEM;
		(*v)[(*n)++].dir = index;
	}
	return 0;
}

const char *const *mo_config_dropin_dirs_default(void)
{
	static const char *const dirs[] = {
		MEMOFF_SYSCONFDIR "/" MO_CONFIG_FILE ".d",
		MO_CONFIG_DROPIN_RUNTIME,
		MO_CONFIG_DROPIN_VENDOR,
		NULL,
	};

	return dirs;
}

int mo_config_load_dirs(const char *path, const char *const *dirs, const struct mo_config *fallback,
			struct mo_config *ret, char **errors)
{
	_cleanup_free_ char *own = NULL;
	const char *own_dirs[2] = {};
	const char *const *list;
	struct dropin *v = NULL;
	size_t n = 0;
	uint32_t bad = 0;
	int r, problems = 0;

	mo_config_init(ret);
	r = parse_file(path, ret, errors, true, &bad);
	if (r < 0)
		goto fail;
	problems += r;

	/* Without a list, "@path.d" alone. */
	if (!dirs && asprintf(&own, "%s.d", path) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	own_dirs[0] = own;
	list = dirs ? dirs : own_dirs;
	for (size_t i = 0; list[i]; i++) {
		r = list_dropins(list[i], i, &v, &n, errors);
		if (r < 0)
			goto fail;
		problems += r;
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_dropins);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL;

		/* The same name in a later directory is shadowed by the earlier one. */
		if (i > 0 && streq(v[i].name, v[i - 1].name))
			continue;
		if (asprintf(&p, "%s/%s", list[v[i].dir], v[i].name) < 0) {
			r = -ENOMEM;
			goto fail;
		}
		r = parse_file(p, ret, errors, false, &bad);
		if (r < 0)
			goto fail;
		problems += r;
	}

	/* Keys whose last assignment was refused keep the fallback's value (the one in force). */
	if (fallback)
		for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
			if ((bad & (UINT32_C(1) << i)) && (r = copy_key(ret, fallback, &keys[i])) < 0)
				goto fail;
	if (!fallback) {
		struct mo_config defaults;

		mo_config_init(&defaults);
		problems += validate(ret, &defaults, path, errors);
	} else
		problems += validate(ret, fallback, path, errors);
	r = problems;
fail:
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	if (r < 0) {
		mo_config_done(ret);
		mo_config_init(ret);
	}
	return r;
}

int mo_config_load(const char *path, const struct mo_config *fallback, struct mo_config *ret, char **errors)
{
	_cleanup_free_ char *def = NULL;

	/* The system's own file also takes the runtime and vendor drop-ins; a file named with -c only its own. */
	if (asprintf(&def, "%s/" MO_CONFIG_FILE, MEMOFF_SYSCONFDIR) < 0)
		return -ENOMEM;
	return mo_config_load_dirs(path, streq(path, def) ? mo_config_dropin_dirs_default() : NULL,
				   fallback, ret, errors);
}

bool mo_config_equal(const struct mo_config *a, const struct mo_config *b)
{
	if (a->attempt_timeout_usec != b->attempt_timeout_usec ||
	    a->stall_grace_usec != b->stall_grace_usec ||
	    a->attempts_per_block != b->attempts_per_block ||
	    a->backoff_initial_usec != b->backoff_initial_usec ||
	    a->backoff_factor != b->backoff_factor ||
	    a->backoff_cap_usec != b->backoff_cap_usec ||
	    a->backoff_jitter_pct != b->backoff_jitter_pct ||
	    a->deadline_usec != b->deadline_usec ||
	    a->reserve_bytes != b->reserve_bytes ||
	    a->reserve_auto != b->reserve_auto ||
	    a->allowed_zones != b->allowed_zones ||
	    a->n_excluded != b->n_excluded ||
	    a->long_lived_usec != b->long_lived_usec ||
	    a->hotplug_policy != b->hotplug_policy ||
	    a->movable_ratio_pct != b->movable_ratio_pct ||
	    a->handle_eject_requests != b->handle_eject_requests ||
	    !a->allowed_group != !b->allowed_group ||
	    !a->device_hook != !b->device_hook ||
	    (a->device_hook && !streq(a->device_hook, b->device_hook)))
		return false;
	if (a->allowed_group && (!streq(a->allowed_group, b->allowed_group) || a->allowed_gid != b->allowed_gid))
		return false;
	for (size_t i = 0; i < a->n_excluded; i++)
		if (a->excluded[i].first != b->excluded[i].first || a->excluded[i].last != b->excluded[i].last)
			return false;
	return true;
}
