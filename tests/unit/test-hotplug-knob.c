/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The ACPI memory hotplug knob: read, written, saved before memoffd takes it
 * and put back as found, also after a crash, not across a reboot.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "fixture.h"
#include "hotplug-knob.h"
#include "util.h"

#define KNOB "sys/firmware/acpi/hotplug/memory/enabled"

struct fx {
	struct fx_tree t; /* first: fx_teardown() */
	char state[4200];
};

static const char *knob(struct fx *f)
{
	static char buf[256];
	char *s = fx_read_buf(f->t.root, KNOB, buf, sizeof(buf));

	if (!s)
		return "absent";
	s[strcspn(s, "\n")] = '\0';
	return s;
}

static const char *saved(struct fx *f)
{
	static char buf[256];
	const char *s = fx_read_buf(f->state, MO_HOTPLUG_KNOB_SAVE_FILE, buf, sizeof(buf));

	return s ? s : "absent";
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->t.root = fx_mkroot();
	fx_write(f->t.root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	fx_write(f->t.root, KNOB, "1\n");
	fx_write(f->t.root, "proc/sys/kernel/random/boot_id", "11111111-2222-3333-4444-555555555555\n");
	snprintf(f->state, sizeof(f->state), "%s/state", f->t.root);
	assert_int_equal(mkdir(f->state, 0755), 0);
	fx_tree_open(&f->t);
	*state = f;
	return 0;
}

static void test_read_write(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mo_hotplug_knob_read(f->t.r), 1);
	assert_int_equal(mo_hotplug_knob_write(f->t.r, false), 0);
	assert_string_equal(knob(f), "0");
	assert_int_equal(mo_hotplug_knob_read(f->t.r), 0);
	fx_write(f->t.root, KNOB, "2\n");
	assert_int_equal(mo_hotplug_knob_read(f->t.r), -EBADMSG);
	fx_unlink(f->t.root, KNOB);
	assert_int_equal(mo_hotplug_knob_read(f->t.r), -ENOENT);
}

static void test_take_and_give_back(void **state)
{
	struct fx *f = *state;
	bool found = false, restored = false;

	/* nothing saved: nothing to give back */
	assert_int_equal(mo_hotplug_knob_give_back(f->t.r, f->state, &restored), 0);
	assert_string_equal(knob(f), "1");

	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), 0);
	assert_true(found);
	assert_string_equal(knob(f), "0");
	assert_string_equal(saved(f), "enabled=1\nboot=11111111-2222-3333-4444-555555555555\n");
	/* taking it again (a reload) keeps what was found first */
	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), 0);
	assert_true(found);

	assert_int_equal(mo_hotplug_knob_give_back(f->t.r, f->state, &restored), 1);
	assert_true(restored);
	assert_string_equal(knob(f), "1");
	assert_string_equal(saved(f), "absent");
	assert_int_equal(mo_hotplug_knob_give_back(f->t.r, f->state, &restored), 0);
}

/* An administrator had switched it off: it stays off, before and after. */
static void test_found_off(void **state)
{
	struct fx *f = *state;
	bool found = true, restored = true;

	fx_write(f->t.root, KNOB, "0\n");
	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), 0);
	assert_false(found);
	assert_int_equal(mo_hotplug_knob_give_back(f->t.r, f->state, &restored), 1);
	assert_false(restored);
	assert_string_equal(knob(f), "0");
}

/* A crash left the knob at 0 and the save file: the next start finds the save file, not the 0. */
static void test_after_crash(void **state)
{
	struct fx *f = *state;
	bool found = false, restored = false;

	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), 0);
	/* crash: no give back; the next start takes it again */
	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), 0);
	assert_true(found);
	assert_int_equal(mo_hotplug_knob_give_back(f->t.r, f->state, &restored), 1);
	assert_string_equal(knob(f), "1");

	/* or the next start has the feature off: it only gives back */
	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), 0);
	assert_string_equal(knob(f), "0");
	assert_int_equal(mo_hotplug_knob_give_back(f->t.r, f->state, &restored), 1);
	assert_string_equal(knob(f), "1");
}

/* A save file from another boot describes a knob that is gone: this boot's value is the one found. */
static void test_other_boot(void **state)
{
	struct fx *f = *state;
	bool found = true, restored = true;

	fx_write(f->t.root, KNOB, "0\n");
	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), 0);
	assert_false(found);
	/* reboot: a new boot id, the kernel's default 1 */
	fx_write(f->t.root, "proc/sys/kernel/random/boot_id", "99999999-2222-3333-4444-555555555555\n");
	fx_write(f->t.root, KNOB, "1\n");
	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), 0);
	assert_true(found);
	assert_int_equal(mo_hotplug_knob_give_back(f->t.r, f->state, &restored), 1);
	assert_string_equal(knob(f), "1");
	/* a stale save file met by give_back alone is dropped, the knob untouched */
	fx_write(f->t.root, KNOB, "0\n");
	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), 0);
	fx_write(f->t.root, "proc/sys/kernel/random/boot_id", "aaaaaaaa-2222-3333-4444-555555555555\n");
	assert_int_equal(mo_hotplug_knob_give_back(f->t.r, f->state, &restored), 0);
	assert_string_equal(knob(f), "0");
	assert_string_equal(saved(f), "absent");
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	bool found = false, restored = false;
	char path[4300];

	/* a save file that is not ours is left alone */
	snprintf(path, sizeof(path), "%s/" MO_HOTPLUG_KNOB_SAVE_FILE, f->state);
	fx_write(f->t.root, "state/" MO_HOTPLUG_KNOB_SAVE_FILE, "hello\n");
	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), -EBADMSG);
	assert_string_equal(knob(f), "1");
	assert_int_equal(mo_hotplug_knob_give_back(f->t.r, f->state, &restored), -EBADMSG);
	assert_string_equal(saved(f), "hello\n");
	assert_int_equal(unlink(path), 0);
	/* no knob: nothing saved, nothing changed */
	fx_unlink(f->t.root, KNOB);
	assert_int_equal(mo_hotplug_knob_take(f->t.r, f->state, &found), -ENOENT);
	assert_string_equal(saved(f), "absent");
	/* an unwritable state directory: the knob is not touched */
	fx_write(f->t.root, KNOB, "1\n");
	assert_int_equal(mo_hotplug_knob_take(f->t.r, "/nonexistent/memoff", &found), -ENOENT);
	assert_string_equal(knob(f), "1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_write, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_take_and_give_back, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_found_off, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_after_crash, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_other_boot, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
