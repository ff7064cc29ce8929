/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture.h"
#include "memoffd-conf.h"
#include "util.h"

#define SEC UINT64_C(1000000)

/* The [Offline] attempt and backoff keys, in the order of memoffd.conf(5). */
struct offline_keys {
	uint64_t attempt_timeout_usec;
	unsigned attempts_per_block;
	uint64_t backoff_initial_usec;
	double backoff_factor;
	uint64_t backoff_cap_usec;
	unsigned backoff_jitter_pct;
	uint64_t deadline_usec;
};

static void expect_offline(const struct mo_config *c, struct offline_keys want)
{
	assert_int_equal(c->attempt_timeout_usec, want.attempt_timeout_usec);
	assert_int_equal(c->attempts_per_block, want.attempts_per_block);
	assert_int_equal(c->backoff_initial_usec, want.backoff_initial_usec);
	assert_true(c->backoff_factor == want.backoff_factor);
	assert_int_equal(c->backoff_cap_usec, want.backoff_cap_usec);
	assert_int_equal(c->backoff_jitter_pct, want.backoff_jitter_pct);
	assert_int_equal(c->deadline_usec, want.deadline_usec);
}

static void test_defaults(void **state)
{
	struct mo_config c;

	mo_config_init(&c);
	expect_offline(&c, (struct offline_keys) { 10 * SEC, 5, 1 * SEC, 2.0, 15 * SEC, 20, 120 * SEC });
	assert_true(c.reserve_auto);
	assert_int_equal(c.allowed_zones, MO_ZONE_MOVABLE);
	assert_int_equal(c.n_excluded, 0);
	assert_int_equal(c.long_lived_usec, 30 * SEC);
	assert_int_equal(c.hotplug_policy, MO_HOTPLUG_AUTO);
	assert_int_equal(c.movable_ratio_pct, 301);
	assert_null(c.allowed_group);
	mo_config_done(&c);
}

static char *read_shipped(void)
{
	const char *top = getenv("top_srcdir");

	return MUST(fx_read(top ? top : ".", "conf/memoffd.conf"));
}

/*
 * The shipped file documents every key with its default: parsed as shipped
 * (all commented) it is the defaults; with every "#Key=" line uncommented it
 * is still the defaults, and every known key was among them.
 */
static void test_shipped_file(void **state)
{
	_cleanup_free_ char *text = read_shipped(), *errors = NULL;
	struct mo_config def, c;
	char *out, *o;
	bool seen[64] = {};
	const char *sec, *key;

	mo_config_init(&def);
	mo_config_init(&c);
	assert_int_equal(mo_config_parse_text("memoffd.conf", text, &c, &errors), 0);
	assert_null(errors);
	assert_true(mo_config_equal(&c, &def));

	/* uncomment "#Key=..." lines */
	out = o = calloc(1, strlen(text) + 1);
	assert_non_null(out);
	for (const char *p = text; *p;) {
		const char *eol = strchrnul(p, '\n');
		bool keyline = p[0] == '#' && p[1] >= 'A' && p[1] <= 'Z' && memchr(p, '=', (size_t) (eol - p));

		if (keyline) {
			for (size_t i = 0; (key = mo_config_key(i, &sec)); i++)
				if (strneq(p + 1, key, strlen(key)) && p[1 + strlen(key)] == '=')
					seen[i] = true;
			p++;
		}
		memcpy(o, p, (size_t) (eol - p));
		o += eol - p;
		if (*eol)
			*o++ = '\n';
		p = *eol ? eol + 1 : eol;
	}
	mo_config_done(&c);
	mo_config_init(&c);
	if (mo_config_parse_text("uncommented", out, &c, &errors) < 0)
		fail_msg("%s", errors);
	assert_true(mo_config_equal(&c, &def));
	for (size_t i = 0; (key = mo_config_key(i, &sec)); i++)
		if (!seen[i])
			fail_msg("conf/memoffd.conf does not show [%s] %s=", sec, key);
	free(out);
	mo_config_done(&c);
	mo_config_done(&def);
}

static void test_values(void **state)
{
	_cleanup_free_ char *errors = NULL;
	struct mo_config c;
	const char *text =
		"[Offline]\n"
		"AttemptTimeout=2s 500ms\n"
		"AttemptsPerBlock=0\n"
		"BackoffInitial=250ms\n"
		"BackoffFactor=1.5\n"
		"BackoffCap=1min\n"
		"BackoffJitter=0%\n"
		"Deadline=10min\n"
		"Reserve=1G\n"
		"AllowedZones=Normal movable\n"
		"ExcludedRanges=0x0-0x7fffffff 0x100000000-0x10fffffff\n"
		"ExcludedRanges=0x200000000-0x207ffffff\n"
		"; a comment\n"
		"# another\n"
		"[Forensics]\n"
		"LongLivedThreshold=2min\n"
		"[Hotplug]\n"
		"Policy = online_movable\n"
		"MovableRatio=100\n"
		"[Access]\n"
		"AllowedGroup=root\n";

	mo_config_init(&c);
	if (mo_config_parse_text("t.conf", text, &c, &errors) < 0)
		fail_msg("%s", errors);
	expect_offline(&c, (struct offline_keys) { 2500000, 0, 250000, 1.5, 60 * SEC, 0, 600 * SEC });
	assert_false(c.reserve_auto);
	assert_int_equal(c.reserve_bytes, GIB);
	assert_int_equal(c.allowed_zones, MO_ZONE_NORMAL | MO_ZONE_MOVABLE);
	assert_true(mo_config_zone_allowed(&c, "Normal"));
	assert_false(mo_config_zone_allowed(&c, "DMA32"));
	assert_int_equal(c.n_excluded, 3);
	assert_int_equal(c.excluded[1].first, 0x100000000);
	assert_int_equal(c.excluded[1].last, 0x10fffffff);
	assert_true(mo_config_excluded(&c, 0x108000000, 0x10fffffff));
	assert_true(mo_config_excluded(&c, 0x0, 0x7ffffff));
	assert_false(mo_config_excluded(&c, 0x110000000, 0x117ffffff));
	assert_int_equal(c.long_lived_usec, 120 * SEC);
	assert_int_equal(c.hotplug_policy, MO_HOTPLUG_ONLINE_MOVABLE);
	assert_int_equal(c.movable_ratio_pct, 100);
	assert_string_equal(c.allowed_group, "root");
	assert_int_equal(c.allowed_gid, 0);

	/* Empty values reset: the list empties, zones go back to Movable. */
	assert_int_equal(mo_config_parse_text("u.conf",
		"[Offline]\nExcludedRanges=\nAllowedZones=\nReserve=auto\nDeadline=infinity\n"
		"[Access]\nAllowedGroup=\n", &c, &errors), 0);
	assert_int_equal(c.n_excluded, 0);
	assert_int_equal(c.allowed_zones, MO_ZONE_MOVABLE);
	assert_true(c.reserve_auto);
	assert_int_equal(c.deadline_usec, 0);
	assert_null(c.allowed_group);
	mo_config_done(&c);
}

/* Every problem is reported with FILE:LINE, all of them, and the parse fails. */
static void test_errors(void **state)
{
	_cleanup_free_ char *errors = NULL;
	char longline[400];
	char text[2048];
	struct mo_config c;

	memset(longline, '1', sizeof(longline));
	memcpy(longline, "Deadline=", 9);
	longline[sizeof(longline) - 1] = '\0';
	snprintf(text, sizeof(text),
		 "Stray=1\n"                        /* 1: outside a section */
		 "[Offline]\n"
		 "AttemptTimeout=5 parsecs\n"       /* 3 */
		 "AttemptsPerBlock=-1\n"            /* 4 */
		 "BackoffFactor=0.5\n"              /* 5 */
		 "BackoffJitter=150%%\n"            /* 6 */
		 "Reserve=lots\n"                   /* 7 */
		 "AllowedZones=Movable Bogus\n"     /* 8 */
		 "ExcludedRanges=0x2000-0x1000\n"   /* 9 */
		 "Colour=blue\n"                    /* 10: unknown key */
		 "%s\n"                             /* 11: too long */
		 "AttemptTimeout=0\n"               /* 12: too short */
		 "[Hotplug]\n"
		 "Policy=sometimes\n"               /* 14 */
		 "MovableRatio=x\n"                 /* 15 */
		 "[Access]\n"
		 "AllowedGroup=no-such-group-memoff\n" /* 17 */
		 "[Nonsense]\n"
		 "Key=1\n"                          /* 19 */
		 "[Offline]\n"
		 "this line has no equals sign\n",  /* 21: syntax */
		 longline);
	mo_config_init(&c);
	assert_int_equal(mo_config_parse_text("bad.conf", text, &c, &errors), -EINVAL);
	assert_non_null(errors);
	for (unsigned line = 1; line <= 21; line++) {
		char tag[32];
		bool expect = !(line == 2 || line == 13 || line == 16 || line == 18 || line == 20);

		snprintf(tag, sizeof(tag), "bad.conf:%u: ", line);
		if (expect != (strstr(errors, tag) != NULL))
			fail_msg("line %u %s reported:\n%s", line, expect ? "not" : "wrongly", errors);
	}
	fx_contains(errors, "bad.conf:10: unknown key 'Colour' in section [Offline]",
		    "bad.conf:19: unknown section [Nonsense]", "AttemptTimeout=: invalid duration '5 parsecs'",
		    "unknown zone 'Bogus'", "unknown group 'no-such-group-memoff'", "line longer than", NULL);
	mo_config_done(&c);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Load @path with the drop-in @name holding @text on top of the others: @n_errors reported. */
static void load_dropin(const char *root, const char *path, const char *name, const char *text, int n_errors,
			struct mo_config *c, char **errors)
{
	fx_write(root, name, text);
	assert_int_equal(mo_config_load(path, NULL, c, errors), n_errors);
}

/* Forget that load: the configuration, its errors, the drop-in. */
static void unload_dropin(const char *root, const char *name, struct mo_config *c, char **errors)
{
	mo_config_done(c);
	free(*errors);
	*errors = NULL;
	fx_unlink(root, name);
}

static void test_load_dropins(void **state)
{
	char *root = fx_mkroot();
	char path[4096], dir[4096];
	_cleanup_free_ char *errors = NULL;
	struct mo_config c;

	/* No file at all: the defaults. */
	snprintf(path, sizeof(path), "%s/memoffd.conf", root);
	assert_int_equal(mo_config_load(path, NULL, &c, &errors), 0);
	assert_null(errors);
	assert_int_equal(c.attempt_timeout_usec, 10 * SEC);
	mo_config_done(&c);

	write_file(root, "memoffd.conf", "[Offline]\nAttemptTimeout=7s\nDeadline=1min\n");
	snprintf(dir, sizeof(dir), "%s/memoffd.conf.d", root);
	fx_write(root, "memoffd.conf.d/20-b.conf", "[Offline]\nAttemptTimeout=9s\n");
	fx_write(root, "memoffd.conf.d/10-a.conf", "[Offline]\nAttemptTimeout=8s\nBackoffCap=20s\n");
	fx_write(root, "memoffd.conf.d/9-z.conf", "[Hotplug]\nPolicy=off\n");
	fx_write(root, "memoffd.conf.d/30-c.conf.disabled", "[Offline]\nAttemptTimeout=99s\n");
	fx_write(root, "memoffd.conf.d/.hidden.conf", "garbage\n");
	assert_int_equal(mo_config_load(path, NULL, &c, &errors), 0);
	assert_null(errors);
	/* 20-b after 10-a, 9-z last ("9" sorts after "2"), others ignored */
	assert_int_equal(c.attempt_timeout_usec, 9 * SEC);
	assert_int_equal(c.backoff_cap_usec, 20 * SEC);
	assert_int_equal(c.deadline_usec, 60 * SEC);
	assert_int_equal(c.hotplug_policy, MO_HOTPLUG_OFF);
	mo_config_done(&c);

	/*
	 * A bad drop-in degrades: it names itself, its bad value is ignored
	 * (the key keeps the earlier file's value), its good keys and the other
	 * files apply, and an unknown key is a warning.
	 */
	load_dropin(root, path, "memoffd.conf.d/15-bad.conf",
		 "# comment\n[Offline]\nAttemptTimeout=forever\nFromTheFuture=1\nBackoffJitter=5\n"
		 "[Future]\nKey=1\n", 3, &c, &errors);
	fx_contains(errors, "memoffd.conf.d/15-bad.conf:3: AttemptTimeout=: invalid duration 'forever'",
		    "memoffd.conf.d/15-bad.conf:4: unknown key 'FromTheFuture' in section [Offline]",
		    "memoffd.conf.d/15-bad.conf:7: unknown section [Future]", NULL);
	assert_int_equal(c.attempt_timeout_usec, 9 * SEC);  /* 20-b's, the last good one */
	assert_int_equal(c.backoff_jitter_pct, 5);
	assert_int_equal(c.hotplug_policy, MO_HOTPLUG_OFF);
	unload_dropin(root, "memoffd.conf.d/15-bad.conf", &c, &errors);

	/* Keys that only make sense together are checked after all files; the pair keeps the default. */
	load_dropin(root, path, "memoffd.conf.d/40-cap.conf", "[Offline]\nBackoffInitial=30s\n", 1, &c, &errors);
	assert_non_null(strstr(errors, "BackoffCap=20s is below BackoffInitial=30s"));
	assert_int_equal(c.backoff_initial_usec, MO_CONFIG_BACKOFF_INITIAL_USEC);
	assert_int_equal(c.backoff_cap_usec, MO_CONFIG_BACKOFF_CAP_USEC);
	assert_int_equal(c.attempt_timeout_usec, 9 * SEC);
	unload_dropin(root, "memoffd.conf.d/40-cap.conf", &c, &errors);

	load_dropin(root, path, "memoffd.conf.d/40-inf.conf", "[Offline]\nAttemptsPerBlock=0\nDeadline=infinity\n", 1, &c, &errors);
	assert_non_null(strstr(errors, "AttemptsPerBlock=0 (unlimited) needs a Deadline="));
	assert_int_equal(c.attempts_per_block, MO_CONFIG_ATTEMPTS_PER_BLOCK);
	assert_int_equal(c.deadline_usec, 0);
	unload_dropin(root, "memoffd.conf.d/40-inf.conf", &c, &errors);

	fx_rmroot(root);
}

/* On reload a refused value keeps the value in force, not the default; a key left out takes the default. */
static void test_reload_fallback(void **state)
{
	char *root = fx_mkroot();
	char path[4096];
	_cleanup_free_ char *errors = NULL;
	struct mo_config old, c;

	snprintf(path, sizeof(path), "%s/memoffd.conf", root);
	fx_write(root, "memoffd.conf", "[Offline]\nAttemptTimeout=7s\nExcludedRanges=0x1000-0x1fff\n"
		 "[Hotplug]\nPolicy=online\n");
	assert_int_equal(mo_config_load(path, NULL, &old, &errors), 0);
	assert_int_equal(old.n_excluded, 1);

	free(old.device_hook);
	old.device_hook = strdup("/usr/libexec/hook");
	fx_write(root, "memoffd.conf", "[Offline]\nAttemptTimeout=soon\nExcludedRanges=0x1000-0x1fff nonsense\n"
		 "[Hotplug]\nPolicy=sometimes\n[Cloud]\nDeviceHook=relative/hook\n");
	assert_int_equal(mo_config_load(path, &old, &c, &errors), 4);
	assert_string_equal(c.device_hook, "/usr/libexec/hook");
	assert_int_equal(c.attempt_timeout_usec, 7 * SEC);
	assert_int_equal(c.hotplug_policy, MO_HOTPLUG_ONLINE);
	assert_int_equal(c.n_excluded, 1);
	assert_true(c.excluded[0].first == 0x1000 && c.excluded[0].last == 0x1fff);
	mo_config_done(&c);

	/* At start (no fallback) the same file keeps the defaults, and the good range. */
	free(errors);
	errors = NULL;
	assert_int_equal(mo_config_load(path, NULL, &c, &errors), 4);
	assert_null(c.device_hook);
	assert_int_equal(c.attempt_timeout_usec, MO_CONFIG_ATTEMPT_TIMEOUT_USEC);
	assert_int_equal(c.hotplug_policy, MO_HOTPLUG_AUTO);
	assert_int_equal(c.n_excluded, 1);
	mo_config_done(&c);

	/* A later good assignment wins over an earlier bad one. */
	free(errors);
	errors = NULL;
	fx_write(root, "memoffd.conf", "[Offline]\nAttemptTimeout=soon\nAttemptTimeout=3s\n");
	assert_int_equal(mo_config_load(path, &old, &c, &errors), 1);
	assert_int_equal(c.attempt_timeout_usec, 3 * SEC);
	assert_int_equal(c.n_excluded, 0);
	mo_config_done(&c);
	mo_config_done(&old);
	fx_rmroot(root);
}

/*
 * Drop-in directories as systemd reads its own: every name sorted together,
 * a name in an earlier directory hiding it in a later one, a symlink to
 * /dev/null masking; a FIFO or a device is refused without blocking.
 */
static void test_dropin_dirs(void **state)
{
	char *root = fx_mkroot();
	char path[4096], etc[4096], run[4096], lib[4096], p[4096];
	const char *dirs[] = { etc, run, lib, NULL };
	_cleanup_free_ char *errors = NULL;
	struct mo_config c;

	snprintf(path, sizeof(path), "%s/memoffd.conf", root);
	snprintf(etc, sizeof(etc), "%s/etc.d", root);
	snprintf(run, sizeof(run), "%s/run.d", root);
	snprintf(lib, sizeof(lib), "%s/lib.d", root);
	fx_write(root, "memoffd.conf", "[Offline]\nAttemptTimeout=2s\n");
	fx_write(root, "lib.d/10-vendor.conf", "[Offline]\nAttemptTimeout=3s\nBackoffJitter=7\n");
	fx_write(root, "run.d/10-vendor.conf", "[Offline]\nAttemptTimeout=4s\n");  /* hides lib's */
	fx_write(root, "lib.d/20-policy.conf", "[Hotplug]\nPolicy=online\n");
	fx_write(root, "etc.d/15-local.conf", "[Offline]\nAttemptTimeout=5s\n");  /* sorts after 10- */
	fx_write(root, "lib.d/30-masked.conf", "[Offline]\nDeadline=5min\n");
	snprintf(p, sizeof(p), "%s/etc.d/30-masked.conf", root);
	assert_int_equal(symlink("/dev/null", p), 0);
	snprintf(p, sizeof(p), "%s/run.d/25-fifo.conf", root);
	assert_int_equal(mkfifo(p, 0600), 0);

	assert_int_equal(mo_config_load_dirs(path, dirs, NULL, &c, &errors), 1);
	assert_non_null(strstr(errors, "run.d/25-fifo.conf: cannot read, ignoring the file: not a regular file"));
	assert_int_equal(c.attempt_timeout_usec, 5 * SEC);
	assert_int_equal(c.backoff_jitter_pct, MO_CONFIG_BACKOFF_JITTER_PCT);  /* lib's 10- hidden */
	assert_int_equal(c.hotplug_policy, MO_HOTPLUG_ONLINE);
	assert_int_equal(c.deadline_usec, MO_CONFIG_DEADLINE_USEC);            /* masked */
	mo_config_done(&c);
	free(errors);
	errors = NULL;

	/* A FIFO as the main file: refused at once, the drop-ins still read. */
	fx_unlink(root, "memoffd.conf");
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(mo_config_load_dirs(path, dirs, NULL, &c, &errors), 2);
	assert_non_null(strstr(errors, "memoffd.conf: cannot read, ignoring the file: not a regular file"));
	assert_int_equal(c.attempt_timeout_usec, 5 * SEC);
	mo_config_done(&c);
	fx_rmroot(root);
}

/* [Cloud] HandleEjectRequests=: off by default, systemd's booleans; DeviceHook=: an absolute path; bad values named. */
static void test_cloud(void **state)
{
	_cleanup_free_ char *errors = NULL;
	struct mo_config c;

	mo_config_init(&c);
	assert_false(c.handle_eject_requests);
	assert_int_equal(mo_config_parse_text("a.conf", "[Cloud]\nHandleEjectRequests=yes\n", &c, &errors), 0);
	assert_true(c.handle_eject_requests);
	assert_int_equal(mo_config_parse_text("a.conf", "[Cloud]\nHandleEjectRequests=off\n", &c, &errors), 0);
	assert_false(c.handle_eject_requests);
	assert_int_equal(mo_config_parse_text("a.conf", "[Cloud]\nHandleEjectRequests=TRUE\n", &c, &errors), 0);
	assert_true(c.handle_eject_requests);
	assert_int_equal(mo_config_parse_text("b.conf", "[Cloud]\nHandleEjectRequests=maybe\n", &c, &errors),
			 -EINVAL);
	assert_non_null(strstr(errors, "b.conf:2: HandleEjectRequests=: 'maybe' is not a boolean"));
	free(errors);
	errors = NULL;
	assert_null(c.device_hook);
	assert_int_equal(mo_config_parse_text("a.conf", "[Cloud]\nDeviceHook=/usr/libexec/memoff-hook\n", &c, &errors), 0);
	assert_string_equal(c.device_hook, "/usr/libexec/memoff-hook");
	assert_int_equal(mo_config_parse_text("a.conf", "[Cloud]\nDeviceHook=\n", &c, &errors), 0);
	assert_null(c.device_hook);
	assert_int_equal(mo_config_parse_text("c.conf", "[Cloud]\nDeviceHook=hook.sh\n", &c, &errors), -EINVAL);
	assert_non_null(strstr(errors, "c.conf:2: DeviceHook=: 'hook.sh' is not an absolute path"));
	mo_config_done(&c);
}

static void test_names(void **state)
{
	char buf[64];

	assert_int_equal(mo_hotplug_policy_from_string("auto"), MO_HOTPLUG_AUTO);
	assert_int_equal(mo_hotplug_policy_from_string("online_movable"), MO_HOTPLUG_ONLINE_MOVABLE);
	assert_int_equal(mo_hotplug_policy_from_string("Auto"), -EINVAL);
	assert_string_equal(mo_hotplug_policy_to_string(MO_HOTPLUG_OFF), "off");
	assert_int_equal(mo_zone_from_string("dma32"), MO_ZONE_DMA32);
	assert_int_equal(mo_zone_from_string("Zone"), 0);
	assert_string_equal(mo_zones_to_string(MO_ZONE_NORMAL | MO_ZONE_MOVABLE, buf, sizeof(buf)), "Normal Movable");
	assert_string_equal(mo_zones_to_string(0, buf, sizeof(buf)), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_shipped_file),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_load_dropins),
		cmocka_unit_test(test_cloud),
		cmocka_unit_test(test_reload_fallback),
		cmocka_unit_test(test_dropin_dirs),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
