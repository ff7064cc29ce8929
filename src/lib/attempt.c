/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/stat.h>
#include <pthread.h>
#include <time.h>

#include "attempt.h"
#include "util.h"

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

static const char *const action_names[_MO_ACTION_MAX] = {
	[MO_ACTION_OFFLINE] = "offline",
	[MO_ACTION_ONLINE] = "online",
	[MO_ACTION_ONLINE_MOVABLE] = "online_movable",
	[MO_ACTION_ONLINE_KERNEL] = "online_kernel",
};

static const char *const outcome_names[_MO_OUTCOME_MAX] = {
	[MO_OUTCOME_DONE] = "done",
	[MO_OUTCOME_ALREADY] = "already",
	[MO_OUTCOME_TIMED_OUT] = "timed-out",
	[MO_OUTCOME_STALLED] = "stalled",
	[MO_OUTCOME_UNMOVABLE] = "unmovable",
	[MO_OUTCOME_REFUSED] = "refused",
	[MO_OUTCOME_INVALID] = "invalid",
	[MO_OUTCOME_NO_MEMORY] = "no-memory",
	[MO_OUTCOME_VANISHED] = "vanished",
	[MO_OUTCOME_CANCELLED] = "cancelled",
	[MO_OUTCOME_ERROR] = "error",
	[MO_OUTCOME_NOT_TRIED] = "not-tried",
	[MO_OUTCOME_HEADROOM] = "headroom",
	[MO_OUTCOME_ROLLED_BACK] = "rolled-back",
	[MO_OUTCOME_SKIPPED] = "skipped",
	[MO_OUTCOME_PLANNED] = "planned",
};

const char *mo_action_to_string(enum mo_action a)
{
	if ((unsigned) a >= _MO_ACTION_MAX)
		return "unknown";
	return action_names[a];
}

const char *mo_outcome_to_string(enum mo_outcome o)
{
	if ((unsigned) o >= _MO_OUTCOME_MAX)
		return "unknown";
	return outcome_names[o];
}

uint64_t mo_monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static void timer_signal_handler(int sig)
{
	/* Nothing: its only job is to make the interrupted write return EINTR. */
	(void) sig;
}

int mo_attempt_setup_signal(void)
{
	struct sigaction sa = {}, old;

	if (sigaction(MO_ATTEMPT_SIGNAL, NULL, &old) == 0 &&
	    !(old.sa_flags & SA_SIGINFO) && old.sa_handler == timer_signal_handler &&
	    !(old.sa_flags & SA_RESTART))
		return 0;
	sa.sa_handler = timer_signal_handler;
	sa.sa_flags = 0; /* no SA_RESTART: the write must end with EINTR */
	sigemptyset(&sa.sa_mask);
	if (sigaction(MO_ATTEMPT_SIGNAL, &sa, NULL) < 0)
		return -errno;
	return 0;
}

enum mo_outcome mo_attempt_classify(enum mo_action action, int err, enum mo_state state_after,
				    const char *valid_zones, const char **reason)
{
	const char *why;
	enum mo_outcome o;

	switch (err) {
	case 0:
		o = MO_OUTCOME_DONE;
		why = action == MO_ACTION_OFFLINE ? "offlined" : "onlined";
		break;
	case EBUSY:
		o = MO_OUTCOME_UNMOVABLE;
		why = action == MO_ACTION_OFFLINE ?
			"the range could not be isolated: unmovable pages (EBUSY)" :
			"the kernel reported the block busy (EBUSY)";
		break;
	case EPERM:
		o = MO_OUTCOME_REFUSED;
		why = "the kernel refused: a notifier or the architecture vetoed it (EPERM)";
		break;
	case ENOMEM:
		o = MO_OUTCOME_NO_MEMORY;
		why = "the kernel ran out of memory, e.g. hugetlb pages could not be dissolved (ENOMEM)";
		break;
	case ENOENT:
	case ENODEV:
		o = MO_OUTCOME_VANISHED;
		why = "the block vanished";
		break;
	case EINVAL:
		o = MO_OUTCOME_INVALID;
		if (action == MO_ACTION_OFFLINE && state_after == MO_STATE_OFFLINE) {
			o = MO_OUTCOME_ALREADY;
			why = "already offline";
		} else if (action != MO_ACTION_OFFLINE && state_after == MO_STATE_ONLINE) {
			o = MO_OUTCOME_ALREADY;
			why = "already online";
		} else if (valid_zones && streq(valid_zones, "none"))
			why = "the block spans several zones or has holes (valid_zones: none)";
		else if (state_after == MO_STATE_GOING_OFFLINE)
			why = "the block is going offline";
		else if (action == MO_ACTION_ONLINE_MOVABLE || action == MO_ACTION_ONLINE_KERNEL)
			why = "the requested zone is not valid for this block (EINVAL)";
		else
			why = "the kernel rejected the request (EINVAL)";
		break;
	case EROFS:
		o = MO_OUTCOME_ERROR;
		why = "writes to the live sysfs are forbidden here (" MO_GUARD_ENV "=1)";
		break;
	case EACCES:
		o = MO_OUTCOME_ERROR;
		why = "permission denied writing the state file (not root?)";
		break;
	case EINTR:
		o = MO_OUTCOME_ERROR;
		why = "interrupted";
		break;
	default:
		o = MO_OUTCOME_ERROR;
		why = "unexpected error writing the state file";
		break;
	}
	if (reason)
		*reason = why;
	return o;
}

/*
 * Read a small attribute without ever blocking: the fake trees of the unit
 * tests may use a FIFO as a state file, and a blocking open or read of a FIFO
 * would hang. On sysfs O_NONBLOCK changes nothing.
 */
static int read_attr(const struct mo_root *root, const char *rel, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	ssize_t n;

	fd = mo_root_open(root, false, rel, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADF;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

/* Take any MO_ATTEMPT_SIGNAL that is pending while the thread blocks it. */
static void drain_pending(const sigset_t *only)
{
	const struct timespec zero = {};
	sigset_t pending;

	while (sigpending(&pending) == 0 && sigismember(&pending, MO_ATTEMPT_SIGNAL))
		if (sigtimedwait(only, NULL, &zero) < 0 && errno != EINTR)
			break;
}

void mo_attempt_drain_signal(void)
{
	sigset_t cur, only;

	if (pthread_sigmask(SIG_SETMASK, NULL, &cur) != 0 || !sigismember(&cur, MO_ATTEMPT_SIGNAL))
		return;
	sigemptyset(&only);
	sigaddset(&only, MO_ATTEMPT_SIGNAL);
	drain_pending(&only);
}

int mo_attempt_run(const struct mo_root *root, uint64_t block, enum mo_action action,
		   uint64_t timeout_usec, volatile sig_atomic_t *cancel, struct mo_attempt_result *ret)
{
	return mo_attempt_run_stoppable(root, block, action, timeout_usec, cancel, NULL, ret);
}

int mo_attempt_run_stoppable(const struct mo_root *root, uint64_t block, enum mo_action action,
			     uint64_t timeout_usec, volatile sig_atomic_t *cancel, volatile sig_atomic_t *stop,
			     struct mo_attempt_result *ret)
{
	_cleanup_close_ int fd = -1;
	struct sigevent sev = {};
	sigset_t sigset, saved;
	timer_t timer;
	bool have_timer = false, timed_out = false, cancelled = false, stopped = false;
	const char *verb;
	char path[128];
	size_t len;
	uint64_t t0 = mo_monotonic_usec();
	int err = 0, r;

	*ret = (struct mo_attempt_result) {
		.outcome = MO_OUTCOME_ERROR,
		.reason = "the attempt could not be set up",
		.state = MO_STATE_UNKNOWN,
	};
	if ((unsigned) action >= _MO_ACTION_MAX)
		return -EINVAL;
	if (cancel && *cancel) {
		ret->outcome = MO_OUTCOME_CANCELLED;
		ret->reason = "cancelled before the write";
		return 0;
	}
	verb = action_names[action];
	len = strlen(verb);

	r = mo_attempt_setup_signal();
	if (r < 0) {
		ret->error = -r;
		return r;
	}

	snprintf(path, sizeof(path), MO_SYSFS_MEMORY "/memory%" PRIu64 "/state", block);
	/* O_TRUNC like a shell's "echo offline > state": harmless on sysfs. */
	fd = mo_root_open(root, false, path, O_WRONLY | O_TRUNC);
	if (fd < 0) {
		ret->error = -fd;
		ret->outcome = mo_attempt_classify(action, -fd, MO_STATE_UNKNOWN, NULL, &ret->reason);
		ret->usec = mo_monotonic_usec() - t0;
		return 0;
	}

	if (timeout_usec > 0) {
		sev.sigev_notify = SIGEV_THREAD_ID;
		sev.sigev_signo = MO_ATTEMPT_SIGNAL;
		sev.sigev_notify_thread_id = gettid();
		if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0) {
			ret->error = errno;
			return -errno;
		}
		have_timer = true;
	}

	sigemptyset(&sigset);
	sigaddset(&sigset, MO_ATTEMPT_SIGNAL);
	r = pthread_sigmask(SIG_UNBLOCK, &sigset, &saved);
	if (r != 0) {
		if (have_timer)
			timer_delete(timer);
		ret->error = r;
		return -r;
	}

	if (have_timer) {
		/*
		 * After the first expiry the timer keeps firing every 50 ms: a
		 * signal that lands just before write() enters the kernel would
		 * otherwise be lost, and the write would spin with no timer left.
		 */
		struct itimerspec its = {
			.it_value.tv_sec = (time_t) (timeout_usec / 1000000),
			.it_value.tv_nsec = (long) (timeout_usec % 1000000) * 1000,
			.it_interval.tv_nsec = 50 * 1000 * 1000,
		};
		if (timer_settime(timer, 0, &its, NULL) < 0) {
			err = errno;
			goto restore;
		}
	}

	for (;;) {
		ssize_t n;

		if (cancel && *cancel) {
			cancelled = true;
			break;
		}
		/* One write, never a write-all loop: EINTR is the answer we wait for. */
		n = write(fd, verb, len);
		if (n >= 0) {
			err = (size_t) n == len ? 0 : EIO;
			break;
		}
		err = errno;
		if (err != EINTR)
			break;
		if (cancel && *cancel) {
			cancelled = true;
			break;
		}
		if (stop && *stop) {
			stopped = true;
			break;
		}
		if (have_timer && mo_monotonic_usec() - t0 >= timeout_usec) {
			timed_out = true;
			break;
		}
		/* Some other handler without SA_RESTART: the kernel rolled back, write again. */
	}

restore:
	if (have_timer) {
		const struct itimerspec disarm = {};
		(void) timer_settime(timer, 0, &disarm, NULL);
	}
	(void) pthread_sigmask(SIG_SETMASK, &saved, NULL);
	if (have_timer)
		(void) timer_delete(timer);
	if (sigismember(&saved, MO_ATTEMPT_SIGNAL))
		drain_pending(&sigset);
	close(TAKE_FD(fd));

	ret->usec = mo_monotonic_usec() - t0;
	ret->error = err;
	if (cancelled) {
		ret->outcome = MO_OUTCOME_CANCELLED;
		ret->reason = err == EINTR ? "cancelled during the write; the kernel rolled back" :
					     "cancelled before the write";
		return 0;
	}
	if (stopped) {
		ret->outcome = MO_OUTCOME_STALLED;
		ret->reason = "no page moved for the stall grace while migration kept failing; "
			      "the kernel rolled back";
		return 0;
	}
	if (timed_out) {
		ret->outcome = MO_OUTCOME_TIMED_OUT;
		ret->reason = action == MO_ACTION_OFFLINE ?
			"timed out: page migration did not finish; the kernel rolled back" :
			"timed out";
		return 0;
	}
	if (err == EINVAL) {
		char buf[64], zones[128];
		bool have_zones;

		snprintf(path, sizeof(path), MO_SYSFS_MEMORY "/memory%" PRIu64 "/state", block);
		if (read_attr(root, path, buf, sizeof(buf)) == 0)
			ret->state = mo_state_from_string(buf);
		snprintf(path, sizeof(path), MO_SYSFS_MEMORY "/memory%" PRIu64 "/valid_zones", block);
		have_zones = read_attr(root, path, zones, sizeof(zones)) == 0;
		ret->outcome = mo_attempt_classify(action, err, ret->state, have_zones ? zones : NULL,
						   &ret->reason);
		return 0;
	}
	ret->outcome = mo_attempt_classify(action, err, MO_STATE_UNKNOWN, NULL, &ret->reason);
	return 0;
}

int mo_attempt_sleep(uint64_t usec, volatile sig_atomic_t *cancel)
{
	sigset_t mask;
	uint64_t end;
	int r;

	if (cancel && *cancel)
		return -ECANCELED;
	r = mo_attempt_setup_signal();
	if (r < 0)
		return r;
	r = pthread_sigmask(SIG_SETMASK, NULL, &mask);
	if (r != 0)
		return -r;
	sigdelset(&mask, MO_ATTEMPT_SIGNAL);

	end = usec_add(mo_monotonic_usec(), usec);
	for (;;) {
		uint64_t now = mo_monotonic_usec(), left;
		struct timespec ts;

		if (now >= end)
			return 0;
		left = end - now;
		ts.tv_sec = (time_t) (left / 1000000);
		ts.tv_nsec = (long) (left % 1000000) * 1000;
		/* ppoll swaps the mask atomically: a signal sent just before cannot be lost. */
		r = ppoll(NULL, 0, &ts, &mask);
		if (cancel && *cancel)
			return -ECANCELED;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}
