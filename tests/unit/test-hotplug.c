/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "hotplug-policy.h"
#include "util.h"

#define BLK (128 * MIB)

struct dcase {
	const char *name;
	enum mo_hotplug_policy policy;
	unsigned ratio;
	enum mo_state state;
	const char *zones;
	bool managed;
	uint64_t movable, kernel;
	bool act;
	enum mo_action action;
};

static const struct dcase cases[] = {
	/* The kernel onlined it already (auto_online_blocks): never touched. */
	{ "auto, already online", MO_HOTPLUG_AUTO, 301, MO_STATE_ONLINE, "Movable", false, 0, GIB, false, 0 },
	{ "online, already online", MO_HOTPLUG_ONLINE, 301, MO_STATE_ONLINE, "Normal", false, 0, GIB, false, 0 },
	{ "auto, going-offline", MO_HOTPLUG_AUTO, 301, MO_STATE_GOING_OFFLINE, "Movable", false, 0, GIB, false, 0 },
	{ "off", MO_HOTPLUG_OFF, 301, MO_STATE_OFFLINE, "Normal Movable", false, 0, GIB, false, 0 },
	{ "driver-managed", MO_HOTPLUG_AUTO, 301, MO_STATE_OFFLINE, "Normal Movable", true, 0, GIB, false, 0 },
	{ "valid_zones none", MO_HOTPLUG_ONLINE, 301, MO_STATE_OFFLINE, "none", false, 0, GIB, false, 0 },
	{ "online", MO_HOTPLUG_ONLINE, 301, MO_STATE_OFFLINE, "Normal Movable", false, 0, GIB,
	  true, MO_ACTION_ONLINE },
	{ "online_movable allowed", MO_HOTPLUG_ONLINE_MOVABLE, 301, MO_STATE_OFFLINE, "Normal Movable", false,
	  100 * GIB, GIB, true, MO_ACTION_ONLINE_MOVABLE },
	{ "online_movable not allowed", MO_HOTPLUG_ONLINE_MOVABLE, 301, MO_STATE_OFFLINE, "Normal", false,
	  0, GIB, false, 0 },
	{ "online_movable zones unknown", MO_HOTPLUG_ONLINE_MOVABLE, 301, MO_STATE_OFFLINE, NULL, false,
	  0, GIB, false, 0 },
	/* auto: 1 GiB kernel, ratio 301% → up to 3.01 GiB movable */
	{ "auto within ratio", MO_HOTPLUG_AUTO, 301, MO_STATE_OFFLINE, "Normal Movable", false,
	  2 * GIB, GIB, true, MO_ACTION_ONLINE_MOVABLE },
	{ "auto exactly at ratio", MO_HOTPLUG_AUTO, 300, MO_STATE_OFFLINE, "Normal Movable", false,
	  3 * GIB - BLK, GIB, true, MO_ACTION_ONLINE_MOVABLE },
	{ "auto one block over ratio", MO_HOTPLUG_AUTO, 300, MO_STATE_OFFLINE, "Normal Movable", false,
	  3 * GIB, GIB, true, MO_ACTION_ONLINE_KERNEL },
	{ "auto over ratio, only Movable possible", MO_HOTPLUG_AUTO, 300, MO_STATE_OFFLINE, "Movable", false,
	  3 * GIB, GIB, true, MO_ACTION_ONLINE_MOVABLE },
	{ "auto ratio 0", MO_HOTPLUG_AUTO, 0, MO_STATE_OFFLINE, "DMA32 Normal Movable", false,
	  0, GIB, true, MO_ACTION_ONLINE_KERNEL },
	{ "auto, kernel zone only", MO_HOTPLUG_AUTO, 301, MO_STATE_OFFLINE, "Normal", false,
	  0, GIB, true, MO_ACTION_ONLINE },
	{ "auto, zones unknown", MO_HOTPLUG_AUTO, 301, MO_STATE_OFFLINE, NULL, false,
	  0, GIB, true, MO_ACTION_ONLINE },
};

static void test_decide(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct dcase *c = &cases[i];
		struct mo_hotplug_input in = {
			.state = c->state, .valid_zones = c->zones, .block_bytes = BLK,
			.driver_managed = c->managed, .movable_bytes = c->movable, .kernel_bytes = c->kernel,
		};
		struct mo_hotplug_decision d = { .reason = NULL };

		mo_hotplug_decide(c->policy, c->ratio, &in, &d);
		if (d.act != c->act || (c->act && d.action != c->action))
			fail_msg("%s: got act=%d action=%d (%s)", c->name, d.act,
				 (int) d.action, strempty(d.reason));
		assert_non_null(d.reason);
		assert_true(*d.reason);
	}
}

static void test_count(void **state)
{
	char *root = fx_mkroot();
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *m = NULL;
	uint64_t movable, kernel;

	fx_write(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	fx_block(root, 0, "online", "none", 0, NULL);
	fx_block(root, 1, "online", "DMA32", 0, NULL);
	fx_block(root, 2, "online", "Normal", 0, NULL);
	fx_block(root, 8, "online", "Movable", 0, "PNP0C80:00");
	fx_block(root, 9, "going-offline", "Movable", 0, "PNP0C80:00");
	fx_block(root, 10, "offline", "Normal Movable", 0, "PNP0C80:00");
	fx_block(root, 11, "online", NULL, 0, NULL);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_memory_load(r, &m), 0);
	mo_hotplug_count(m, &movable, &kernel);
	assert_int_equal(movable, 2 * BLK);
	assert_int_equal(kernel, 4 * BLK);
	fx_rmroot(root);
}

static void read_state(const char *root, uint64_t index, char *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/sys/devices/system/memory/memory%" PRIu64 "/state", root, index);
	f = fopen(path, "re");
	assert_non_null(f);
	assert_non_null(fgets(buf, (int) len, f));
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
}

/* Applying writes the decision to the block's state, and only then. */
static void test_apply(void **state)
{
	char *root = fx_mkroot();
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_hotplug_outcome o;
	char buf[64];

	fx_write(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	fx_block(root, 0, "online", "Normal", 0, NULL);
	fx_block(root, 1, "online", "Normal", 0, NULL);
	fx_block(root, 8, "offline", "Normal Movable", 0, "PNP0C80:00");
	fx_block(root, 9, "online", "Movable", 0, "PNP0C80:00");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);

	assert_int_equal(mo_hotplug_apply(r, MO_HOTPLUG_OFF, 301, 0, 8, &o), 0);
	assert_false(o.acted);
	read_state(root, 8, buf, sizeof(buf));
	assert_string_equal(buf, "offline");

	/* 1 block movable + this one = 2 ≤ 3.01 × 2 kernel blocks */
	assert_int_equal(mo_hotplug_apply(r, MO_HOTPLUG_AUTO, 301, 0, 8, &o), 0);
	assert_true(o.acted);
	assert_int_equal(o.action, MO_ACTION_ONLINE_MOVABLE);
	read_state(root, 8, buf, sizeof(buf));
	assert_string_equal(buf, "online_movable");

	/* An online block is left alone. */
	assert_int_equal(mo_hotplug_apply(r, MO_HOTPLUG_ONLINE, 301, 0, 9, &o), 0);
	assert_false(o.acted);
	read_state(root, 9, buf, sizeof(buf));
	assert_string_equal(buf, "online");

	assert_int_equal(mo_hotplug_apply(r, MO_HOTPLUG_AUTO, 301, 0, 5, &o), -ENOENT);
	fx_rmroot(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_apply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
