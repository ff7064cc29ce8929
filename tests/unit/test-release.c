/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "fixture.h"
#include "release.h"
#include "util.h"

#define STALL_USEC (300 * 1000ULL)
#define S (1000 * 1000ULL)
/* Blocks of 8 pages keep the fake kpageflags small. */
#define PAGES_PER_BLOCK 8
#define N_DEV 3

static uint64_t bs(void)
{
	return PAGES_PER_BLOCK * (uint64_t) sysconf(_SC_PAGESIZE);
}

/* Device d (0..2) is PNP0C80:0d and owns blocks 4+4d .. 7+4d. */
static uint64_t first_block(int d)
{
	return 4 + 4 * (uint64_t) d;
}

/*
 * A simulated kernel: offline/online writes change the fake state files
 * (a block may be scripted to fail), the clock advances by what attempts and
 * sleeps take, and an eject written to a device's eject file removes its
 * blocks at the next sleep (the kernel's worker), unless told not to.
 */
struct sim {
	char *root;
	uint64_t now;
	uint64_t fail_block[8];          /* offline attempts on these fail with @fail_outcome */
	enum mo_outcome fail_outcome[8];
	unsigned n_fail;
	unsigned calls, offline_calls;
	uint64_t called[64];
	enum mo_action called_action[64];
	bool eject_never;                /* the kernel never completes an eject */
	int eject_error;                 /* the eject hook fails with this */
	bool use_eject_hook;
	unsigned ejects;
	char knob_at_eject[8];           /* firmware/acpi/hotplug/memory/enabled when eject was written */
	bool forbid_writes;
	unsigned cancel_at_offline;      /* set the cancel flag during this offline attempt (1-based) */
	volatile sig_atomic_t cancel;
	uint64_t mem_total, mem_available;
	unsigned progress_devices, progress_blocks, progress_ejects, progress_results, progress_waits;
};

static void write_state(const char *root, uint64_t block, const char *state)
{
	char rel[128], buf[32];

	snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%" PRIu64 "/state", block);
	snprintf(buf, sizeof(buf), "%s\n", state);
	fx_write(root, rel, buf);
}

static char *read_rel(const char *root, const char *rel)
{
	static char buf[256];
	char path[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return buf;
}

static const char *state_of(const char *root, uint64_t block)
{
	char rel[128];
	const char *s;

	snprintf(rel, sizeof(rel), "sys/devices/system/memory/memory%" PRIu64 "/state", block);
	s = read_rel(root, rel);
	return s ? s : "gone";
}

static const char *eject_of(const char *root, int d)
{
	char rel[128];
	const char *s;

	snprintf(rel, sizeof(rel), "sys/bus/acpi/devices/PNP0C80:%02d/eject", d);
	s = read_rel(root, rel);
	return s ? s : "absent";
}

static int sim_attempt(void *userdata, const struct mo_root *root, uint64_t block, enum mo_action action,
		       uint64_t timeout_usec, volatile sig_atomic_t *cancel, struct mo_attempt_result *ret)
{
	struct sim *s = userdata;
	enum mo_outcome o = MO_OUTCOME_DONE;

	if (s->forbid_writes)
		fail_msg("a dry run wrote block %" PRIu64, block);
	assert_true(s->calls < ARRAY_SIZE(s->called));
	s->called[s->calls] = block;
	s->called_action[s->calls++] = action;
	*ret = (struct mo_attempt_result) { .state = MO_STATE_UNKNOWN };
	if (cancel && *cancel) {
		ret->outcome = MO_OUTCOME_CANCELLED;
		ret->reason = "cancelled before the write";
		return 0;
	}
	if (action == MO_ACTION_OFFLINE) {
		s->offline_calls++;
		if (s->cancel_at_offline == s->offline_calls && cancel) {
			*cancel = 1;
			s->now += timeout_usec / 2;
			ret->outcome = MO_OUTCOME_CANCELLED;
			ret->error = EINTR;
			ret->reason = "cancelled during the write";
			return 0;
		}
		for (unsigned i = 0; i < s->n_fail; i++)
			if (s->fail_block[i] == block)
				o = s->fail_outcome[i];
	}
	if (o == MO_OUTCOME_DONE && streq(state_of(s->root, block), action == MO_ACTION_OFFLINE ? "offline" : "online"))
		o = MO_OUTCOME_ALREADY;
	ret->outcome = o;
	ret->reason = o == MO_OUTCOME_TIMED_OUT ? "timed out (migration stalled)" : mo_outcome_to_string(o);
	ret->usec = o == MO_OUTCOME_TIMED_OUT ? timeout_usec : o == MO_OUTCOME_STALLED ? STALL_USEC : 1000;
	ret->error = o == MO_OUTCOME_TIMED_OUT || o == MO_OUTCOME_STALLED ? EINTR : o == MO_OUTCOME_UNMOVABLE ? EBUSY :
		     o == MO_OUTCOME_REFUSED ? EPERM : 0;
	if (o == MO_OUTCOME_STALLED)
		/* what forensics.c fills in when it ends a stalled write */
		ret->stall = (struct mo_stall_evidence) {
			.grace_usec = STALL_USEC, .migrate_fail = 512, .kmsg_failed = 1, .n_pfns = 1,
			.pfns = { block * (bs() / 4096) + 7 }, .n_blocked = 1,
		};
	s->now += ret->usec;
	if (o == MO_OUTCOME_DONE) {
		write_state(s->root, block, action == MO_ACTION_OFFLINE ? "offline" : "online");
		if (action == MO_ACTION_OFFLINE)
			s->mem_available -= bs();
		else
			s->mem_available += bs();
	}
	return 0;
}

static uint64_t sim_now(void *userdata)
{
	return ((struct sim *) userdata)->now;
}

/* The kernel's hot-remove worker: an eject written earlier takes the blocks away. */
static void kernel_ejects(struct sim *s)
{
	char cmd[4200];

	for (int d = 0; d < N_DEV && !s->eject_never; d++) {
		if (!streq(eject_of(s->root, d), "1"))
			continue;
		for (uint64_t b = first_block(d); b < first_block(d) + 4; b++) {
			snprintf(cmd, sizeof(cmd), "rm -rf '%s/sys/devices/system/memory/memory%" PRIu64 "'",
				 s->root, b);
			assert_int_equal(system(cmd), 0);
		}
		snprintf(cmd, sizeof(cmd), "sys/bus/acpi/devices/PNP0C80:%02d/eject", d);
		fx_write(s->root, cmd, "");
	}
}

static int sim_sleep(void *userdata, uint64_t usec, volatile sig_atomic_t *cancel)
{
	struct sim *s = userdata;

	s->now += usec;
	kernel_ejects(s);
	return 0;
}

static int sim_headroom(void *userdata, const struct mo_root *root, struct mo_headroom *out)
{
	struct sim *s = userdata;

	*out = (struct mo_headroom) { .mem_total = s->mem_total, .mem_available = s->mem_available };
	return 0;
}

static int sim_eject(void *userdata, const struct mo_root *root, const char *device)
{
	struct sim *s = userdata;

	const char *k = read_rel(s->root, "sys/firmware/acpi/hotplug/memory/enabled");

	s->ejects++;
	snprintf(s->knob_at_eject, sizeof(s->knob_at_eject), "%s", k ? k : "absent");
	if (s->eject_error)
		return -s->eject_error;
	return mo_device_eject(root, device);
}

static void sim_progress(const struct mo_release_progress *p, void *userdata)
{
	struct sim *s = userdata;

	switch (p->phase) {
	case MO_RELEASE_PHASE_DEVICE:
		s->progress_devices++;
		assert_non_null(p->device);
		break;
	case MO_RELEASE_PHASE_BLOCK:
		s->progress_blocks++;
		assert_non_null(p->job);
		/* the refused attempt of an abandoned device is never reported */
		if (p->job->phase == MO_PHASE_RESULT && !s->cancel)
			assert_int_not_equal(p->job->outcome, MO_OUTCOME_CANCELLED);
		break;
	case MO_RELEASE_PHASE_EJECT:
		s->progress_ejects++;
		break;
	case MO_RELEASE_PHASE_RESULT:
		s->progress_results++;
		break;
	case MO_RELEASE_PHASE_WAIT:
		s->progress_waits++;
		assert_null(p->device);
		break;
	}
	assert_true(p->released_bytes <= p->wanted_bytes + 4 * bs());
}

struct fx {
	struct fx_tree t; /* first: fx_teardown() */
	struct sim sim;
	struct mo_release_options o;
};

static void flags(const char *root, uint64_t block, unsigned n, uint64_t word)
{
	fx_put_u64_range(root, "proc/kpageflags", block * PAGES_PER_BLOCK, n, word);
}

/*
 * Blocks 0-3: boot memory, online Normal, no device. Three DIMMs of four
 * blocks, online Movable, every page free: PNP0C80:00 (4-7), :01 (8-11),
 * :02 (12-15). Block 15 names its device only through the device's
 * physical_node3 link; the others through firmware_node (and the device's
 * physical_node links for :00).
 */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char text[64], rel[128], target[128];

	f->t.root = fx_mkroot();
	snprintf(text, sizeof(text), "%" PRIx64 "\n", bs());
	fx_write(f->t.root, "sys/devices/system/memory/block_size_bytes", text);
	fx_write(f->t.root, "proc/kpageflags", "");
	for (uint64_t b = 0; b < 4; b++)
		fx_block(f->t.root, b, "online", "Normal", 0, NULL);
	for (int d = 0; d < N_DEV; d++) {
		char name[32];

		snprintf(name, sizeof(name), "PNP0C80:%02d", d);
		for (uint64_t b = first_block(d); b < first_block(d) + 4; b++)
			fx_block(f->t.root, b, "online", "Movable", 0, b == 15 ? NULL : name);
		snprintf(rel, sizeof(rel), "sys/bus/acpi/devices/%s/eject", name);
		fx_write(f->t.root, rel, "");
	}
	for (int k = 0; k < 4; k++) {
		snprintf(rel, sizeof(rel), "sys/bus/acpi/devices/PNP0C80:00/physical_node%s",
			 k ? (char[]) { (char) ('0' + k), 0 } : "");
		snprintf(target, sizeof(target), "../../../system/memory/memory%d", 4 + k);
		fx_symlink(f->t.root, rel, target);
	}
	fx_symlink(f->t.root, "sys/bus/acpi/devices/PNP0C80:02/physical_node3", "../../../system/memory/memory15");
	for (uint64_t b = 0; b < 16; b++)
		flags(f->t.root, b, PAGES_PER_BLOCK, MO_KPF(MO_KPF_BUDDY));
	fx_tree_open(&f->t);

	f->sim.root = f->t.root;
	f->sim.now = 1000 * S;
	f->sim.mem_total = 64 * GIB;
	f->sim.mem_available = 32 * GIB;
	mo_release_options_init(&f->o);
	f->o.backoff.jitter = 0.0;
	f->o.cancel = &f->sim.cancel;
	f->o.progress = sim_progress;
	f->o.progress_userdata = &f->sim;
	f->o.hooks = (struct mo_release_hooks) {
		.job = {
			.attempt = sim_attempt,
			.now = sim_now,
			.sleep = sim_sleep,
			.headroom = sim_headroom,
			.userdata = &f->sim,
		},
		.eject = sim_eject,
	};
	*state = f;
	return 0;
}

static void fail_block(struct fx *f, uint64_t block, enum mo_outcome o)
{
	f->sim.fail_block[f->sim.n_fail] = block;
	f->sim.fail_outcome[f->sim.n_fail++] = o;
}

static const struct mo_release_result *run(struct fx *f, uint64_t size, struct mo_release **rel)
{
	char *err = NULL;
	int r = mo_release_new(f->t.r, size, &f->o, rel, &err);

	if (r < 0)
		fail_msg("mo_release_new: %s", err ? err : strerror(-r));
	assert_int_equal(mo_release_run(*rel), 0);
	assert_int_equal(mo_release_run(*rel), -EALREADY);
	return mo_release_result(*rel);
}

static const struct mo_release_device_result *dev(const struct mo_release_result *r, const char *name)
{
	static const struct mo_release_device_result none = { .outcome = _MO_RELEASE_OUTCOME_MAX };

	for (size_t i = 0; i < r->n_devices; i++)
		if (streq(r->devices[i].name, name))
			return &r->devices[i];
	fail_msg("device %s not in the result", name);
	return &none;
}

static void assert_device_online(struct fx *f, int d)
{
	for (uint64_t b = first_block(d); b < first_block(d) + 4; b++)
		assert_string_equal(state_of(f->t.root, b), "online");
}

static void assert_device_gone(struct fx *f, int d)
{
	for (uint64_t b = first_block(d); b < first_block(d) + 4; b++)
		assert_string_equal(state_of(f->t.root, b), "gone");
}

/* ---- the plan ---- */

static void test_plan(void **state)
{
	const uint64_t same[] = { 512, 512, 512 };
	const uint64_t mixed[] = { 128, 1024, 256 };
	bool c[3];

	assert_int_equal(mo_release_plan(same, 3, 512, c), 512);
	assert_true(c[0] && !c[1] && !c[2]);
	assert_int_equal(mo_release_plan(same, 3, 1024, c), 1024);
	assert_true(c[0] && c[1] && !c[2]);
	/* not a sum of devices: rounded up by less than one device */
	assert_int_equal(mo_release_plan(same, 3, 640, c), 1024);
	assert_int_equal(mo_release_plan(same, 3, 128, c), 512);
	assert_true(c[0] && !c[1]);
	assert_int_equal(mo_release_plan(same, 3, 1536, c), 1536);
	/* more than all of them: nothing */
	assert_int_equal(mo_release_plan(same, 3, 1664, c), 0);
	assert_true(!c[0] && !c[1] && !c[2]);
	/* 128 and 1024 reach 1024, then 128 is not needed */
	assert_int_equal(mo_release_plan(mixed, 3, 1024, c), 1024);
	assert_true(!c[0] && c[1] && !c[2]);
	/* 1152: 128 + 1024; neither can go */
	assert_int_equal(mo_release_plan(mixed, 3, 1152, c), 1152);
	assert_true(c[0] && c[1] && !c[2]);
	/* 1200: 128 + 1024 + 256 = 1408, and the 128 can go (1280 >= 1200) */
	assert_int_equal(mo_release_plan(mixed, 3, 1200, c), 1280);
	assert_true(!c[0] && c[1] && c[2]);
	assert_int_equal(mo_release_plan(same, 0, 512, c), 0);
	assert_int_equal(mo_release_plan(same, 3, 0, c), 0);
}

/* ---- the device model ---- */

static void test_devices(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	struct mo_devices ds;
	const struct mo_device *d;

	fx_write(f->t.root, "sys/devices/system/memory/memory9/valid_zones", "Normal\n");
	fx_unlink(f->t.root, "sys/bus/acpi/devices/PNP0C80:02/eject");
	assert_int_equal(mo_memory_load(f->t.r, &mem), 0);
	assert_int_equal(mo_devices_load(f->t.r, mem, NULL, NULL, -1, &ds), 0);
	assert_int_equal(ds.n, 3);
	assert_false(ds.hotplug_disabled);
	d = &ds.d[0];
	assert_string_equal(d->name, "PNP0C80:00");
	assert_int_equal(d->n_blocks, 4);
	assert_int_equal(d->blocks[0].index, 4);
	assert_int_equal(d->start, 4 * bs());
	assert_int_equal(d->size, 4 * bs());
	assert_int_equal(d->n_online, 4);
	assert_true(d->can_eject);
	assert_int_equal(d->skip, MO_DEVICE_ELIGIBLE);
	assert_int_equal(d->tier, 2);   /* no census reader */
	/* an online block in ZONE_NORMAL */
	assert_int_equal(ds.d[1].skip, MO_DEVICE_ZONE);
	/* block 15 joined through the physical_node link; no eject file */
	d = mo_devices_find(&ds, "PNP0C80:02");
	assert_non_null(d);
	assert_int_equal(d->n_blocks, 4);
	assert_int_equal(d->blocks[3].index, 15);
	assert_false(d->can_eject);
	assert_int_equal(d->skip, MO_DEVICE_NO_EJECT);
	assert_null(mo_devices_find(&ds, "PNP0C80:03"));
	mo_devices_done(&ds);

	/* ACPI memory hotplug switched off; a node filter */
	fx_write(f->t.root, "sys/firmware/acpi/hotplug/memory/enabled", "0\n");
	assert_int_equal(mo_devices_load(f->t.r, mem, NULL, NULL, -1, &ds), 0);
	assert_true(ds.hotplug_disabled);
	assert_int_equal(ds.d[0].skip, MO_DEVICE_HOTPLUG_DISABLED);
	mo_devices_done(&ds);
	fx_write(f->t.root, "sys/firmware/acpi/hotplug/memory/enabled", "1\n");
	assert_int_equal(mo_devices_load(f->t.r, mem, NULL, NULL, 1, &ds), 0);
	assert_int_equal(ds.d[0].skip, MO_DEVICE_NODE);
	mo_devices_done(&ds);
}

static void test_devices_census_and_managed(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *cr = NULL;
	struct mo_iomem io;
	struct mo_devices ds;
	const struct mo_device *order[3];
	char text[256];

	flags(f->t.root, 9, 2, MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_UPTODATE));
	flags(f->t.root, 13, 1, MO_KPF(MO_KPF_SLAB));
	write_state(f->t.root, 5, "offline");
	assert_int_equal(mo_memory_load(f->t.r, &mem), 0);
	assert_int_equal(mo_census_reader_new(f->t.r, &cr), 0);
	assert_int_equal(mo_devices_load(f->t.r, mem, NULL, cr, -1, &ds), 0);
	assert_int_equal(ds.d[0].tier, 0);
	assert_int_equal(ds.d[0].n_online, 3);
	assert_int_equal(ds.d[0].n_offline, 1);
	assert_int_equal(ds.d[0].census.pages, 3 * PAGES_PER_BLOCK);
	assert_int_equal(ds.d[1].tier, 1);
	assert_int_equal(ds.d[1].census.anon, 2);
	assert_int_equal(ds.d[2].tier, 3);
	for (int i = 0; i < 3; i++)
		order[i] = &ds.d[2 - i];
	qsort(order, 3, sizeof(*order), mo_device_rank);
	assert_string_equal(order[0]->name, "PNP0C80:00");
	assert_string_equal(order[1]->name, "PNP0C80:01");
	assert_string_equal(order[2]->name, "PNP0C80:02");
	mo_devices_done(&ds);

	snprintf(text, sizeof(text), "%08" PRIx64 "-%08" PRIx64 " : System RAM (virtio_mem)\n",
		 8 * bs(), 12 * bs() - 1);
	assert_int_equal(mo_iomem_parse(text, &io), 0);
	assert_int_equal(mo_devices_load(f->t.r, mem, &io, cr, -1, &ds), 0);
	assert_int_equal(ds.d[1].skip, MO_DEVICE_MANAGED);
	assert_int_equal(ds.d[0].skip, MO_DEVICE_ELIGIBLE);
	mo_devices_done(&ds);
	mo_iomem_done(&io);
}

static void test_eject_write(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mo_device_eject(f->t.r, "PNP0C80:01"), 0);
	assert_string_equal(eject_of(f->t.root, 1), "1");
	assert_int_equal(mo_device_eject(f->t.r, "PNP0C80:07"), -ENOENT);
	assert_int_equal(mo_device_eject(f->t.r, "../../x"), -EINVAL);
	assert_int_equal(mo_device_eject(f->t.r, ".."), -EINVAL);
	assert_int_equal(mo_device_eject(f->t.r, ""), -EINVAL);
}

/* ---- releasing ---- */

static void test_release_free(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;
	const struct mo_release_device_result *d;

	r = run(f, 4 * bs(), &rel);
	assert_int_equal(r->stop, MO_STOP_FINISHED);
	assert_int_equal(mo_release_exit_code(r), 0);
	assert_int_equal(r->released_bytes, 4 * bs());
	assert_int_equal(r->released_devices, 1);
	assert_int_equal(r->n_found, 3);
	assert_int_equal(r->n_eligible, 3);
	/* every device free: the highest address goes first */
	d = dev(r, "PNP0C80:02");
	assert_int_equal(d->outcome, MO_RELEASE_RELEASED);
	assert_int_equal(d->tries, 1);
	assert_int_equal(d->n_blocks, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(d->blocks[i].outcome, MO_OUTCOME_DONE);
	assert_device_gone(f, 2);
	assert_device_online(f, 0);
	assert_device_online(f, 1);
	assert_string_equal(eject_of(f->t.root, 0), "");
	assert_string_equal(eject_of(f->t.root, 1), "");
	assert_int_equal(dev(r, "PNP0C80:00")->outcome, MO_RELEASE_NOT_TRIED);
	assert_int_equal(f->sim.ejects, 1);
	assert_int_equal(f->sim.offline_calls, 4);
	assert_int_equal(f->sim.progress_devices, 1);
	assert_int_equal(f->sim.progress_ejects, 1);
	assert_int_equal(f->sim.progress_results, 1);
	assert_int_equal(f->sim.progress_blocks, 8);   /* an attempt and a result per block */
	assert_true(r->have_headroom);
}

/* A device with a block in an excluded range is ineligible: the next one goes instead. */
static void test_release_excluded(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;
	const struct mo_addr_range ex[] = { { 13 * bs() + 4096, 13 * bs() + 8191 } };   /* a page of :02 */

	f->o.excluded = ex;
	f->o.n_excluded = 1;
	r = run(f, 4 * bs(), &rel);
	assert_int_equal(mo_release_exit_code(r), 0);
	assert_int_equal(r->n_eligible, 2);
	assert_int_equal(dev(r, "PNP0C80:02")->outcome, MO_RELEASE_INELIGIBLE);
	assert_non_null(strstr(dev(r, "PNP0C80:02")->reason, "excluded"));
	assert_int_equal(dev(r, "PNP0C80:01")->outcome, MO_RELEASE_RELEASED);
	assert_device_online(f, 2);
}

static void test_release_by_census(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;

	/* :02 has an unmovable page, :01 anon pages, :00 is free */
	flags(f->t.root, 13, 1, MO_KPF(MO_KPF_SLAB));
	flags(f->t.root, 9, 2, MO_KPF(MO_KPF_LRU) | MO_KPF(MO_KPF_ANON) | MO_KPF(MO_KPF_UPTODATE));
	r = run(f, 8 * bs(), &rel);
	assert_int_equal(mo_release_exit_code(r), 0);
	assert_int_equal(dev(r, "PNP0C80:00")->outcome, MO_RELEASE_RELEASED);
	assert_int_equal(dev(r, "PNP0C80:01")->outcome, MO_RELEASE_RELEASED);
	assert_int_equal(dev(r, "PNP0C80:02")->outcome, MO_RELEASE_NOT_TRIED);
	/* results list eligible devices in rank order */
	assert_string_equal(r->devices[0].name, "PNP0C80:00");
	assert_string_equal(r->devices[2].name, "PNP0C80:02");
	assert_int_equal(r->devices[2].tier, 3);
	/* within :01 the busy block went first */
	assert_int_equal(f->sim.called[4], 9);
	assert_device_online(f, 2);
}

/* Block 13 of :02 fails with @o; the release goes around it. Returns :02's result. */
static const struct mo_release_device_result *release_around_pin(struct fx *f, enum mo_outcome o,
								 struct mo_release **rel)
{
	const struct mo_release_result *r;
	const struct mo_release_device_result *d;

	fail_block(f, 13, o);
	r = run(f, 4 * bs(), rel);
	assert_int_equal(r->stop, MO_STOP_FINISHED);
	assert_int_equal(mo_release_exit_code(r), 0);
	d = dev(r, "PNP0C80:02");
	assert_int_equal(d->outcome, MO_RELEASE_BUSY);
	assert_non_null(strstr(d->reason, "block 13"));
	assert_int_equal(d->blocks[0].outcome, MO_OUTCOME_ROLLED_BACK);
	assert_int_equal(d->blocks[1].outcome, o);
	assert_device_online(f, 2);
	/* the next device took its place */
	assert_int_equal(dev(r, "PNP0C80:01")->outcome, MO_RELEASE_RELEASED);
	assert_int_equal(r->released_devices, 1);
	return d;
}

static void test_release_around_pin(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_device_result *d = release_around_pin(f, MO_OUTCOME_TIMED_OUT, &rel);

	assert_non_null(strstr(d->reason, "put back online"));
	/* 12 went, 13 did not, 14 and 15 were never tried, 12 was put back */
	assert_int_equal(f->sim.called[0], 12);
	assert_int_equal(f->sim.called[1], 13);
	assert_int_equal(f->sim.called[2], 12);
	assert_int_equal(f->sim.called_action[2], MO_ACTION_ONLINE_MOVABLE);
	assert_int_equal(d->blocks[2].outcome, MO_OUTCOME_NOT_TRIED);
	assert_int_equal(d->blocks[3].outcome, MO_OUTCOME_NOT_TRIED);
	assert_string_equal(eject_of(f->t.root, 2), "");
	assert_device_gone(f, 1);
	assert_device_online(f, 0);
}

/* A stalled attempt (forensics.h, the stall grace) counts as a timed-out one, with its evidence and time. */
static void test_release_around_stalled_pin(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_device_result *d = release_around_pin(f, MO_OUTCOME_STALLED, &rel);

	assert_int_equal(d->blocks[1].usec, STALL_USEC);
	assert_int_equal(d->blocks[1].stall.grace_usec, STALL_USEC);
	assert_int_equal(d->blocks[1].stall.n_pfns, 1);
	assert_int_equal(d->blocks[1].stall.pfns[0], 13 * (bs() / 4096) + 7);
}

static void test_release_all_pinned(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;

	fail_block(f, 5, MO_OUTCOME_TIMED_OUT);
	fail_block(f, 10, MO_OUTCOME_UNMOVABLE);
	fail_block(f, 15, MO_OUTCOME_TIMED_OUT);
	f->o.backoff.max_attempts = 2;
	f->o.attempt_timeout_usec = 200 * 1000;   /* shorter than the backoff: the second round waits */
	r = run(f, 4 * bs(), &rel);
	assert_int_equal(r->stop, MO_STOP_EXHAUSTED);
	assert_int_equal(mo_release_exit_code(r), 1);
	assert_int_equal(r->released_bytes, 0);
	assert_string_equal(r->stop_reason, "no device could be freed");
	for (int d = 0; d < N_DEV; d++) {
		char name[32];

		snprintf(name, sizeof(name), "PNP0C80:%02d", d);
		assert_int_equal(dev(r, name)->outcome, MO_RELEASE_BUSY);
		assert_int_equal(dev(r, name)->tries, 2);
		assert_device_online(f, d);
		assert_string_equal(eject_of(f->t.root, d), "");
	}
	assert_int_equal(f->sim.ejects, 0);
	/* a second round after the backoff */
	assert_true(f->sim.progress_waits >= 1);
}

static void test_release_partly(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;

	/* all three wanted, one cannot go: the other two are still released */
	fail_block(f, 13, MO_OUTCOME_UNMOVABLE);
	f->o.backoff.max_attempts = 1;
	r = run(f, 12 * bs(), &rel);
	assert_int_equal(r->stop, MO_STOP_EXHAUSTED);
	assert_int_equal(mo_release_exit_code(r), 64);
	assert_int_equal(r->released_bytes, 8 * bs());
	assert_non_null(strstr(r->stop_reason, "no device left"));
	assert_int_equal(dev(r, "PNP0C80:02")->outcome, MO_RELEASE_BUSY);
	assert_device_gone(f, 0);
	assert_device_gone(f, 1);
	assert_device_online(f, 2);
}

static void test_release_deadline(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;
	uint64_t t0 = f->sim.now;

	fail_block(f, 4, MO_OUTCOME_TIMED_OUT);
	fail_block(f, 8, MO_OUTCOME_TIMED_OUT);
	fail_block(f, 12, MO_OUTCOME_TIMED_OUT);
	f->o.attempt_timeout_usec = 10 * S;
	f->o.deadline_usec = 45 * S;
	f->o.backoff.max_attempts = 0;
	r = run(f, 4 * bs(), &rel);
	assert_int_equal(r->stop, MO_STOP_DEADLINE);
	assert_int_equal(mo_release_exit_code(r), 1);
	assert_true(f->sim.now <= t0 + 45 * S);
	assert_int_equal(r->usec, f->sim.now - t0);
	for (int d = 0; d < N_DEV; d++)
		assert_device_online(f, d);
}

static void test_release_too_much(void **state)
{
	struct fx *f = *state;
	struct mo_release *rel = NULL;
	char *err = NULL;

	assert_int_equal(mo_release_new(f->t.r, 16 * bs(), &f->o, &rel, &err), -ENOSPC);
	assert_null(rel);
	assert_non_null(err);
	assert_non_null(strstr(err, "as whole devices"));
	assert_non_null(strstr(err, "3 eligible of 3"));
	free(err);
	assert_int_equal(f->sim.calls, 0);

	/* one device not eligible: named in the message */
	fx_write(f->t.root, "sys/devices/system/memory/memory9/valid_zones", "Normal\n");
	assert_int_equal(mo_release_new(f->t.r, 12 * bs(), &f->o, &rel, &err), -ENOSPC);
	assert_non_null(strstr(err, "PNP0C80:01: a block is online outside ZONE_MOVABLE"));
	free(err);
}

static void test_release_bad_size(void **state)
{
	struct fx *f = *state;
	struct mo_release *rel = NULL;
	char *err = NULL;

	assert_int_equal(mo_release_new(f->t.r, bs() / 2, &f->o, &rel, &err), -EINVAL);
	assert_non_null(strstr(err, "aligned to the memory block size"));
	free(err);
	assert_int_equal(mo_release_new(f->t.r, 0, &f->o, &rel, &err), -EINVAL);
	free(err);
	assert_null(rel);
}

static void test_release_no_devices(void **state)
{
	struct fx *f = *state;
	struct mo_release *rel = NULL;
	char *err = NULL;
	char cmd[4200];

	for (uint64_t b = 4; b < 16; b++) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s/sys/devices/system/memory/memory%" PRIu64 "'", f->t.root, b);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(mo_release_new(f->t.r, bs(), &f->o, &rel, &err), -ENOSPC);
	assert_non_null(strstr(err, "no hot-pluggable memory device"));
	free(err);
}

static void test_release_rounds_up(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;

	r = run(f, 5 * bs(), &rel);
	assert_int_equal(mo_release_exit_code(r), 0);
	assert_int_equal(r->released_devices, 2);
	assert_int_equal(r->released_bytes, 8 * bs());
}

static void test_release_already_offline(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;

	for (uint64_t b = 4; b < 8; b++)
		write_state(f->t.root, b, "offline");
	r = run(f, 4 * bs(), &rel);
	assert_int_equal(mo_release_exit_code(r), 0);
	/* nothing to migrate: it goes first, without a single write to a state file */
	assert_int_equal(dev(r, "PNP0C80:00")->outcome, MO_RELEASE_RELEASED);
	assert_int_equal(dev(r, "PNP0C80:00")->blocks[0].outcome, MO_OUTCOME_ALREADY);
	assert_int_equal(f->sim.calls, 0);
	assert_device_gone(f, 0);
}

/* What a release could take now: the eligible devices' total. */
static void test_release_survey(void **state)
{
	struct fx *f = *state;
	uint64_t bytes = 0;
	size_t n = 0;

	assert_int_equal(mo_release_survey(f->t.r, &f->o, &bytes, &n), 0);
	assert_int_equal(bytes, 12 * bs());
	assert_int_equal(n, 3);
	fx_write(f->t.root, "sys/devices/system/memory/memory9/valid_zones", "Normal\n");
	assert_int_equal(mo_release_survey(f->t.r, &f->o, &bytes, NULL), 0);
	assert_int_equal(bytes, 8 * bs());
	/* the knob at 0: nothing, unless the caller holds it */
	fx_write(f->t.root, "sys/firmware/acpi/hotplug/memory/enabled", "0\n");
	assert_int_equal(mo_release_survey(f->t.r, &f->o, &bytes, &n), 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(n, 0);
	f->o.hold_hotplug_knob = true;
	assert_int_equal(mo_release_survey(f->t.r, &f->o, &bytes, &n), 0);
	assert_int_equal(bytes, 8 * bs());
	/* nothing was written */
	assert_int_equal(f->sim.calls, 0);
	assert_device_online(f, 0);
}

/* One named device, with the hotplug knob held at 0 by the caller (memoffd's HandleEjectRequests=). */
static void test_release_one_device_knob_held(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	struct mo_release *none = NULL;
	const struct mo_release_result *r;
	char *err = NULL;

	fx_write(f->t.root, "sys/firmware/acpi/hotplug/memory/enabled", "0\n");
	f->o.device = "PNP0C80:01";
	/* without holding the knob, a disabled knob makes every device ineligible */
	assert_int_equal(mo_release_new(f->t.r, 0, &f->o, &none, &err), -ENOSPC);
	assert_non_null(strstr(err, "PNP0C80:01: ACPI memory hotplug is disabled"));
	free(err);
	f->o.hold_hotplug_knob = true;
	/* a device that owns no block; a size that is not the device's */
	f->o.device = "PNP0C80:07";
	assert_int_equal(mo_release_new(f->t.r, 0, &f->o, &none, &err), -ENOENT);
	assert_non_null(strstr(err, "PNP0C80:07"));
	free(err);
	f->o.device = "PNP0C80:01";
	assert_int_equal(mo_release_new(f->t.r, 8 * bs(), &f->o, &none, &err), -EINVAL);
	assert_non_null(strstr(err, "PNP0C80:01 holds"));
	free(err);
	assert_null(none);

	r = run(f, 0, &rel);
	assert_int_equal(mo_release_exit_code(r), 0);
	assert_int_equal(r->wanted_bytes, 4 * bs());
	assert_int_equal(r->released_bytes, 4 * bs());
	assert_int_equal(r->n_devices, 1);
	assert_int_equal(dev(r, "PNP0C80:01")->outcome, MO_RELEASE_RELEASED);
	/* exactly that device, not the cheaper-looking others */
	assert_device_gone(f, 1);
	assert_device_online(f, 0);
	assert_device_online(f, 2);
	/* the eject was written with the knob at 1, and it is 0 again */
	assert_string_equal(f->sim.knob_at_eject, "1");
	assert_string_equal(read_rel(f->t.root, "sys/firmware/acpi/hotplug/memory/enabled"), "0");
	assert_int_equal(r->hotplug_knob_error, 0);
}

/* The named device cannot be freed: it stays fully online, nothing is ejected, the knob stays 0. */
static void test_release_one_device_busy(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;
	const struct mo_release_device_result *d;

	fx_write(f->t.root, "sys/firmware/acpi/hotplug/memory/enabled", "0\n");
	f->o.device = "PNP0C80:00";
	f->o.hold_hotplug_knob = true;
	f->o.backoff.max_attempts = 3;
	fail_block(f, 6, MO_OUTCOME_TIMED_OUT);
	r = run(f, 0, &rel);
	assert_int_equal(mo_release_exit_code(r), 1);
	d = dev(r, "PNP0C80:00");
	assert_int_equal(d->outcome, MO_RELEASE_BUSY);
	assert_int_equal(d->tries, 3);
	assert_non_null(strstr(d->reason, "block 6"));
	assert_device_online(f, 0);
	assert_int_equal(f->sim.ejects, 0);
	assert_string_equal(read_rel(f->t.root, "sys/firmware/acpi/hotplug/memory/enabled"), "0");
}

static void test_release_eject_fails(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;
	const struct mo_release_device_result *d;

	f->sim.eject_error = EIO;
	r = run(f, 4 * bs(), &rel);
	assert_int_equal(mo_release_exit_code(r), 1);
	assert_int_equal(r->stop, MO_STOP_EXHAUSTED);
	d = dev(r, "PNP0C80:02");
	assert_int_equal(d->outcome, MO_RELEASE_EJECT_FAILED);
	assert_non_null(strstr(d->reason, "put back online"));
	/* every device was tried once and put back */
	for (int k = 0; k < N_DEV; k++)
		assert_device_online(f, k);
	assert_int_equal(f->sim.ejects, 3);
}

static void test_release_eject_unconfirmed(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;
	const struct mo_release_device_result *d;
	uint64_t t0 = f->sim.now;

	f->sim.eject_never = true;
	f->o.eject_timeout_usec = 5 * S;
	r = run(f, 4 * bs(), &rel);
	assert_int_equal(mo_release_exit_code(r), 1);
	assert_int_equal(r->stop, MO_STOP_ERROR);
	assert_non_null(strstr(r->stop_reason, "not confirmed"));
	d = dev(r, "PNP0C80:02");
	assert_int_equal(d->outcome, MO_RELEASE_UNCONFIRMED);
	/* the eject cannot be taken back: the blocks stay offline, no other device is touched */
	assert_string_equal(state_of(f->t.root, 12), "offline");
	assert_string_equal(eject_of(f->t.root, 2), "1");
	assert_device_online(f, 1);
	assert_int_equal(f->sim.ejects, 1);
	assert_true(f->sim.now - t0 >= 5 * S);
	assert_true(f->sim.now - t0 < 6 * S);
}

static void test_release_eject_cut_by_deadline(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;
	uint64_t t0 = f->sim.now;

	f->sim.eject_never = true;
	f->o.deadline_usec = 2 * S;
	r = run(f, 4 * bs(), &rel);
	assert_int_equal(r->stop, MO_STOP_DEADLINE);
	assert_true(f->sim.now <= t0 + 2 * S);
}

static void test_release_dry_run(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;
	const struct mo_release_device_result *d;

	f->o.dry_run = true;
	f->sim.forbid_writes = true;
	r = run(f, 8 * bs(), &rel);
	assert_true(r->dry_run);
	assert_int_equal(r->stop, MO_STOP_FINISHED);
	assert_int_equal(mo_release_exit_code(r), 0);
	assert_int_equal(r->planned_bytes, 8 * bs());
	assert_int_equal(r->planned_devices, 2);
	assert_int_equal(r->released_bytes, 0);
	d = dev(r, "PNP0C80:02");
	assert_int_equal(d->outcome, MO_RELEASE_PLANNED);
	assert_int_equal(d->blocks[0].outcome, MO_OUTCOME_PLANNED);
	assert_int_equal(dev(r, "PNP0C80:00")->outcome, MO_RELEASE_NOT_TRIED);
	assert_int_equal(r->headroom_after.mem_available, r->headroom.mem_available - 8 * bs());
	assert_int_equal(f->sim.ejects, 0);
	for (int k = 0; k < N_DEV; k++) {
		assert_device_online(f, k);
		assert_string_equal(eject_of(f->t.root, k), "");
	}
}

static void test_release_headroom(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;

	f->sim.mem_available = 512 * MIB + 2 * bs();
	f->o.reserve = 512 * MIB;
	r = run(f, 4 * bs(), &rel);
	assert_int_equal(r->stop, MO_STOP_HEADROOM);
	assert_int_equal(mo_release_exit_code(r), 1);
	assert_int_equal(dev(r, "PNP0C80:02")->outcome, MO_RELEASE_HEADROOM);
	assert_device_online(f, 2);
	assert_int_equal(f->sim.ejects, 0);
}

static void test_release_cancel(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	const struct mo_release_result *r;
	const struct mo_release_device_result *d;

	f->sim.cancel_at_offline = 3;
	r = run(f, 8 * bs(), &rel);
	assert_int_equal(r->stop, MO_STOP_CANCELLED);
	assert_int_equal(mo_release_exit_code(r), 1);
	d = dev(r, "PNP0C80:02");
	assert_int_equal(d->outcome, MO_RELEASE_CANCELLED);
	assert_device_online(f, 2);
	assert_int_equal(f->sim.ejects, 0);
	assert_int_equal(dev(r, "PNP0C80:01")->tries, 0);
}

/* Without hooks the real eject and attempt code run on the fake tree (not sysfs: allowed). */
static void test_release_real_hooks_dry(void **state)
{
	struct fx *f = *state;
	_cleanup_(mo_release_freep) struct mo_release *rel = NULL;
	struct mo_release_options o;
	const struct mo_release_result *r;
	char *err = NULL;

	mo_release_options_init(&o);
	o.dry_run = true;
	o.force = true;
	assert_int_equal(mo_release_new(f->t.r, 4 * bs(), &o, &rel, &err), 0);
	assert_int_equal(mo_release_run(rel), 0);
	r = mo_release_result(rel);
	assert_int_equal(r->planned_devices, 1);
	assert_int_equal(mo_release_exit_code(r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test_setup_teardown(test_devices, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_devices_census_and_managed, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_eject_write, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_free, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_excluded, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_by_census, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_around_pin, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_around_stalled_pin, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_all_pinned, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_partly, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_deadline, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_too_much, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_bad_size, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_no_devices, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_rounds_up, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_already_offline, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_survey, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_one_device_knob_held, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_one_device_busy, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_eject_fails, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_eject_unconfirmed, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_eject_cut_by_deadline, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_dry_run, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_headroom, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_cancel, setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_release_real_hooks_dry, setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
