/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hook.h"

#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>

#include "log.h"
#include "util.h"

struct hook {
	pid_t pid;
	char device[64];
	char what[16];
	sd_event_source *child, *timer;
};

static void hook_free(struct hook *h)
{
	sd_event_source_disable_unref(h->child);
	sd_event_source_disable_unref(h->timer);
	free(h);
}

static int on_exit_(sd_event_source *s, const siginfo_t *si, void *userdata)
{
	struct hook *h = userdata;

	if (si->si_code == CLD_EXITED && si->si_status == 0)
		mo_log_debug("DeviceHook for %s %s: done", h->what, h->device);
	else if (si->si_code == CLD_EXITED)
		mo_log_warning("DeviceHook for %s %s: exit status %d", h->what, h->device, si->si_status);
	else
		mo_log_warning("DeviceHook for %s %s: killed by signal %d", h->what, h->device, si->si_status);
	hook_free(h);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct hook *h = userdata;

	mo_log_warning("DeviceHook for %s %s: still running after %" PRIu64 " s, killing it", h->what, h->device,
		       (uint64_t) (HOOK_TIMEOUT_USEC / 1000000));
	(void) sd_event_source_send_child_signal(h->child, SIGKILL, NULL, 0);
	return 0;
}

void hook_run(sd_event *event, const char *path, const char *what, const char *device, uint64_t bytes,
	      const char *reason)
{
	_cleanup_free_ char *e_event = NULL, *e_device = NULL, *e_bytes = NULL, *e_reason = NULL;
	char sbytes[32];
	char *argv[] = { (char *) path, (char *) what, (char *) device, sbytes, NULL };
	char *envp[6];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	struct hook *h;
	pid_t pid;
	int r;

	snprintf(sbytes, sizeof(sbytes), "%" PRIu64, bytes);
	if (asprintf(&e_event, "MEMOFF_EVENT=%s", what) < 0 || asprintf(&e_device, "MEMOFF_DEVICE=%s", device) < 0 ||
	    asprintf(&e_bytes, "MEMOFF_BYTES=%s", sbytes) < 0 ||
	    asprintf(&e_reason, "MEMOFF_REASON=%s", strempty(reason)) < 0) {
		mo_log_error("DeviceHook for %s %s: out of memory", what, device);
		return;
	}
	envp[0] = (char *) "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	envp[1] = e_event;
	envp[2] = e_device;
	envp[3] = e_bytes;
	envp[4] = e_reason;
	envp[5] = NULL;

	h = calloc(1, sizeof(*h));
	if (!h) {
		mo_log_error("DeviceHook for %s %s: out of memory", what, device);
		return;
	}
	snprintf(h->device, sizeof(h->device), "%s", device);
	snprintf(h->what, sizeof(h->what), "%s", what);

	/* memoffd blocks the signals its loop handles; the program gets a clean slate */
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	r = -posix_spawn(&pid, path, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r < 0) {
		mo_log_error_errno(r, "DeviceHook %s for %s %s: cannot run it: %m", path, what, device);
		free(h);
		return;
	}
	h->pid = pid;
	r = sd_event_add_child(event, &h->child, pid, WEXITED, on_exit_, h);
	if (r >= 0)
		r = sd_event_add_time_relative(event, &h->timer, CLOCK_MONOTONIC, HOOK_TIMEOUT_USEC, 0, on_timeout, h);
	if (r < 0) {
		/* cannot watch it: do not leave a process nobody reaps or bounds */
		mo_log_error_errno(r, "DeviceHook for %s %s: cannot watch process %d: %m", what, device, (int) pid);
		(void) kill(pid, SIGKILL);
		(void) waitpid(pid, NULL, 0);
		hook_free(h);
		return;
	}
	mo_log_info("DeviceHook %s %s %s %s: started (pid %d)", path, what, device, sbytes, (int) pid);
}
