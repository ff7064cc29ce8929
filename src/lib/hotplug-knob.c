/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "device.h"
#include "hotplug-knob.h"
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
	_cleanup_close_ int fd = mo_root_open(root, false, MO_SYSFS_ACPI_MEMORY_HOTPLUG, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return fd;
	do
		n = write(fd, enabled ? "1" : "0", 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 1 ? 0 : -EIO;
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
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[64], boot[64], want[64];
	int v;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		return -EBADMSG;
	if (streq(line, "enabled=1\n"))
		v = 1;
	else if (streq(line, "enabled=0\n"))
		v = 0;
	else
		return -EBADMSG;
	if (!fgets(line, sizeof(line), f) || !startswith(line, "boot="))
		return -EBADMSG;
	snprintf(boot, sizeof(boot), "%s", line + 5);
	boot[strcspn(boot, "\n")] = '\0';
	boot_id(root, want, sizeof(want));
	if (*boot && *want && !streq(boot, want))
		return -ESTALE;
	return v;
}

static int write_saved(const struct mo_root *root, const char *path, bool enabled)
{
	_cleanup_free_ char *tmp = NULL, *text = NULL;
	_cleanup_close_ int fd = -1;
	char boot[64];
	ssize_t n;
	size_t len;

	boot_id(root, boot, sizeof(boot));
	if (asprintf(&tmp, "%s.tmp", path) < 0 || asprintf(&text, "enabled=%d\nboot=%s\n", enabled, boot) < 0)
		return -ENOMEM;
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t) len || fsync(fd) < 0 || rename(tmp, path) < 0) {
		int r = n < 0 || n == (ssize_t) len ? -errno : -EIO;

		unlink(tmp);
		return r;
	}
	return 0;
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
