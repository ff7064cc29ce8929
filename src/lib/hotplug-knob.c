/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdio.h>
#include <unistd.h>

#include "device.h"
#include "hotplug-knob.h"
#include "statefile.h"
#include "util.h"

int mo_hotplug_knob_read(const struct mo_root *root)
{
	char buf[16];
	ssize_t n = mo_root_read(root, false, MO_SYSFS_ACPI_MEMORY_HOTPLUG, buf, sizeof(buf));

	if (n < 0)
		return (int) n;
	if (streq(buf, "1"))
		return 1;
	if (streq(buf, "0"))
		return 0;
	return -EBADMSG;
}

int mo_hotplug_knob_write(const struct mo_root *root, bool enabled)
{
	return mo_root_write(root, MO_SYSFS_ACPI_MEMORY_HOTPLUG, enabled ? "1" : "0");
}

static char *save_path(const char *state_dir)
{
	char *p = NULL;

	if (asprintf(&p, "%s/" MO_HOTPLUG_KNOB_SAVE_FILE, state_dir) < 0)
		return NULL;
	return p;
}

/* This boot's id: a save file from another boot describes a knob that is gone. */
static void boot_id(const struct mo_root *root, char *buf, size_t size)
{
	if (mo_root_read(root, true, "sys/kernel/random/boot_id", buf, size) < 0)
		buf[0] = '\0';
}

/*
 * The save file: "enabled=1\nboot=ID\n" (or enabled=0).
 * Return: 1, 0, -ENOENT, -EBADMSG; -ESTALE when it was written in another boot.
 */
static int read_saved(const struct mo_root *root, const char *path)
{
	_cleanup_free_ char *text = NULL;
	char want[64];
	const char *boot;
	size_t n;
	int v, r;

	r = mo_statefile_read(path, &text);
	if (r == -EFBIG)
		return -EBADMSG;
	if (r < 0)
		return r;
	if (startswith(text, "enabled=1\n"))
		v = 1;
	else if (startswith(text, "enabled=0\n"))
		v = 0;
	else
		return -EBADMSG;
	boot = text + strlen("enabled=0\n");
	if (!startswith(boot, "boot="))
		return -EBADMSG;
	boot += strlen("boot=");
	n = strcspn(boot, "\n");
	if (boot[n] != '\n' || boot[n + 1] != '\0')
		return -EBADMSG;
	boot_id(root, want, sizeof(want));
	if (n && *want && (strlen(want) != n || !strneq(boot, want, n)))
		return -ESTALE;
	return v;
}

static int write_saved(const struct mo_root *root, const char *path, bool enabled)
{
	_cleanup_free_ char *text = NULL;
	char boot[64];

	boot_id(root, boot, sizeof(boot));
	if (asprintf(&text, "enabled=%d\nboot=%s\n", enabled, boot) < 0)
		return -ENOMEM;
	return mo_statefile_write(path, text, 0644, MO_STATEFILE_MAX);
}

int mo_hotplug_knob_take(const struct mo_root *root, const char *state_dir, bool *found)
{
	_cleanup_free_ char *path = save_path(state_dir);
	int now, saved, r;

	if (!path)
		return -ENOMEM;
	now = mo_hotplug_knob_read(root);
	if (now < 0)
		return now;
	saved = read_saved(root, path);
	if (saved == -ENOENT || saved == -ESTALE) {
		r = write_saved(root, path, now == 1);
		if (r < 0)
			return r;
		saved = now;
	} else if (saved < 0)
		return saved;
	*found = saved == 1;
	if (now == 0)
		return 0;
	return mo_hotplug_knob_write(root, false);
}

int mo_hotplug_knob_give_back(const struct mo_root *root, const char *state_dir, bool *restored)
{
	_cleanup_free_ char *path = save_path(state_dir);
	int saved, r;

	if (!path)
		return -ENOMEM;
	saved = read_saved(root, path);
	if (saved == -ENOENT)
		return 0;
	if (saved == -ESTALE) {
		/* Saved in another boot: this boot's knob was never ours. */
		(void) unlink(path);
		return 0;
	}
	if (saved < 0)
		return saved;
	r = mo_hotplug_knob_read(root);
	if (r == -ENOENT) {
		/* No knob any more (another kernel): nothing to put back. */
		(void) unlink(path);
		return 0;
	}
	if (r != saved) {
		r = mo_hotplug_knob_write(root, saved == 1);
		if (r < 0)
			return r;
	}
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	*restored = saved == 1;
	return 1;
}
