/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "attempt.h"
#include "fixture.h"
#include "util.h"

#define STATE5 "sys/devices/system/memory/memory5/state"

static int setup(void **state)
{
	char *root = fx_mkroot();

	fx_write(root, "sys/devices/system/memory/block_size_bytes", "8000000\n");
	fx_block(root, 5, "online", "Movable", 0, NULL);
	*state = root;
	return 0;
}

static char *slurp(const char *root, const char *rel)
{
	static char buf[256];

	return MUST(fx_read_buf(root, rel, buf, sizeof(buf)));
}

/* The timer signal is neither pending nor left unblocked/blocked differently than before. */
static void assert_clean(const sigset_t *mask_before)
{
	sigset_t pending, mask;

	assert_int_equal(sigpending(&pending), 0);
	assert_false(sigismember(&pending, MO_ATTEMPT_SIGNAL));
	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &mask), 0);
	assert_int_equal(sigismember(&mask, MO_ATTEMPT_SIGNAL), sigismember(mask_before, MO_ATTEMPT_SIGNAL));
}

/* No POSIX timer left in this process, when the kernel lists them. */
static void assert_no_timer(void)
{
	char line[256];
	FILE *f = fopen("/proc/self/timers", "re");
	int n = 0;

	if (!f)
		return; /* kernel without CONFIG_CHECKPOINT_RESTORE */
	while (fgets(line, sizeof(line), f))
		if (startswith(line, "ID:"))
			n++;
	fclose(f);
	assert_int_equal(n, 0);
}

static void test_classify(void **state)
{
	const char *why = NULL;

	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, 0, MO_STATE_UNKNOWN, NULL, &why), MO_OUTCOME_DONE);
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, EBUSY, MO_STATE_UNKNOWN, NULL, &why),
			 MO_OUTCOME_UNMOVABLE);
	assert_non_null(strstr(why, "EBUSY"));
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, EPERM, MO_STATE_UNKNOWN, NULL, &why),
			 MO_OUTCOME_REFUSED);
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, ENOMEM, MO_STATE_UNKNOWN, NULL, &why),
			 MO_OUTCOME_NO_MEMORY);
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, ENOENT, MO_STATE_UNKNOWN, NULL, &why),
			 MO_OUTCOME_VANISHED);
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, ENODEV, MO_STATE_UNKNOWN, NULL, &why),
			 MO_OUTCOME_VANISHED);
	/* EINVAL: the state decides */
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, EINVAL, MO_STATE_OFFLINE, "Movable", &why),
			 MO_OUTCOME_ALREADY);
	assert_string_equal(why, "already offline");
	assert_int_equal(mo_attempt_classify(MO_ACTION_ONLINE_MOVABLE, EINVAL, MO_STATE_ONLINE, "Movable", &why),
			 MO_OUTCOME_ALREADY);
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, EINVAL, MO_STATE_ONLINE, "none", &why),
			 MO_OUTCOME_INVALID);
	assert_non_null(strstr(why, "none"));
	assert_int_equal(mo_attempt_classify(MO_ACTION_ONLINE_MOVABLE, EINVAL, MO_STATE_OFFLINE, "Normal", &why),
			 MO_OUTCOME_INVALID);
	assert_non_null(strstr(why, "zone"));
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, EINVAL, MO_STATE_UNKNOWN, NULL, &why),
			 MO_OUTCOME_INVALID);
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, EROFS, MO_STATE_UNKNOWN, NULL, &why),
			 MO_OUTCOME_ERROR);
	assert_non_null(strstr(why, MO_GUARD_ENV));
	assert_int_equal(mo_attempt_classify(MO_ACTION_OFFLINE, EIO, MO_STATE_UNKNOWN, NULL, &why),
			 MO_OUTCOME_ERROR);

	assert_true(mo_outcome_is_retryable(MO_OUTCOME_TIMED_OUT));
	assert_true(mo_outcome_is_retryable(MO_OUTCOME_UNMOVABLE));
	assert_false(mo_outcome_is_retryable(MO_OUTCOME_INVALID));
	assert_false(mo_outcome_is_retryable(MO_OUTCOME_VANISHED));
	assert_string_equal(mo_outcome_to_string(MO_OUTCOME_TIMED_OUT), "timed-out");
	assert_string_equal(mo_action_to_string(MO_ACTION_ONLINE_MOVABLE), "online_movable");
	assert_string_equal(mo_outcome_to_string(_MO_OUTCOME_MAX), "unknown");
	(void) state;
}

static void test_done_regular_file(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_attempt_result res;
	sigset_t before;

	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &before), 0);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_attempt_run(r, 5, MO_ACTION_OFFLINE, 2 * 1000 * 1000, NULL, &res), 0);
	assert_int_equal(res.outcome, MO_OUTCOME_DONE);
	assert_int_equal(res.error, 0);
	assert_string_equal(slurp(root, STATE5), "offline");
	assert_clean(&before);
	assert_no_timer();

	/* online types write their keyword, whole (O_TRUNC) */
	assert_int_equal(mo_attempt_run(r, 5, MO_ACTION_ONLINE_MOVABLE, 0, NULL, &res), 0);
	assert_int_equal(res.outcome, MO_OUTCOME_DONE);
	assert_string_equal(slurp(root, STATE5), "online_movable");
	assert_int_equal(mo_attempt_run(r, 5, MO_ACTION_ONLINE_KERNEL, 1000, NULL, &res), 0);
	assert_string_equal(slurp(root, STATE5), "online_kernel");
	assert_int_equal(mo_attempt_run(r, 5, _MO_ACTION_MAX, 1000, NULL, &res), -EINVAL);
	assert_int_equal(res.outcome, MO_OUTCOME_ERROR);
	assert_no_timer();
}

static void test_vanished(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_attempt_result res;

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_attempt_run(r, 7, MO_ACTION_OFFLINE, 1000 * 1000, NULL, &res), 0);
	assert_int_equal(res.outcome, MO_OUTCOME_VANISHED);
	assert_int_equal(res.error, ENOENT);
	assert_no_timer();
}

static void test_other_error(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_attempt_result res;

	if (access("/dev/full", W_OK) < 0) {
		skip();
		return;
	}
	fx_unlink(root, STATE5);
	fx_symlink(root, STATE5, "/dev/full");
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_attempt_run(r, 5, MO_ACTION_OFFLINE, 1000 * 1000, NULL, &res), 0);
	assert_int_equal(res.outcome, MO_OUTCOME_ERROR);
	assert_int_equal(res.error, ENOSPC);
	assert_no_timer();
}

static void test_cancel_before(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_attempt_result res;
	volatile sig_atomic_t cancel = 1;

	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(mo_attempt_run(r, 5, MO_ACTION_OFFLINE, 1000 * 1000, &cancel, &res), 0);
	assert_int_equal(res.outcome, MO_OUTCOME_CANCELLED);
	/* nothing was written */
	assert_string_equal(slurp(root, STATE5), "online\n");
	assert_no_timer();
}

/*
 * A FIFO as the state file, full, with a reader that never reads: the write
 * blocks the way offline_pages() spins on a pinned page.
 */
struct fifo {
	int rfd;
};

static void fifo_make(const char *root, struct fifo *f)
{
	char path[4096], chunk[4096];
	int wfd;

	fx_unlink(root, STATE5);
	snprintf(path, sizeof(path), "%s/%s", root, STATE5);
	assert_int_equal(mkfifo(path, 0600), 0);
	f->rfd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(f->rfd >= 0);
	wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(wfd >= 0);
	memset(chunk, 'x', sizeof(chunk));
	while (write(wfd, chunk, sizeof(chunk)) > 0)
		;
	while (write(wfd, chunk, 1) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	close(wfd);
}

static void test_timeout_fifo(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_attempt_result res;
	struct fifo f;
	sigset_t before;

	fifo_make(root, &f);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &before), 0);
	assert_int_equal(mo_attempt_run(r, 5, MO_ACTION_OFFLINE, 200 * 1000, NULL, &res), 0);
	assert_int_equal(res.outcome, MO_OUTCOME_TIMED_OUT);
	assert_int_equal(res.error, EINTR);
	assert_true(res.usec > 0);
	assert_clean(&before);
	assert_no_timer();
	close(f.rfd);
}

/* A daemon keeps every signal blocked (sd-event, signalfd): the attempt must still time out. */
static void test_timeout_signal_blocked(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_attempt_result res;
	struct fifo f;
	sigset_t all, saved, before;

	fifo_make(root, &f);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	sigfillset(&all);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &all, &saved), 0);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &before), 0);
	assert_int_equal(mo_attempt_run(r, 5, MO_ACTION_OFFLINE, 100 * 1000, NULL, &res), 0);
	assert_int_equal(res.outcome, MO_OUTCOME_TIMED_OUT);
	assert_clean(&before);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &saved, NULL), 0);
	assert_no_timer();
	close(f.rfd);
}

static volatile sig_atomic_t cancel_flag;
static volatile sig_atomic_t other_signals;

static void on_cancel(int sig)
{
	cancel_flag = 1;
}

static void on_other(int sig)
{
	other_signals++;
}

struct kicker {
	pthread_t target;
	int sig;
	unsigned times;
};

static void *kick(void *p)
{
	struct kicker *k = p;

	for (unsigned i = 0; i < k->times; i++) {
		usleep(50 * 1000);
		pthread_kill(k->target, k->sig);
	}
	return NULL;
}

static void install(int sig, void (*h)(int))
{
	struct sigaction sa = { .sa_handler = h }; /* no SA_RESTART */

	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(sig, &sa, NULL), 0);
}

/* SIGINT/SIGTERM handlers of the CLI set the cancel flag: the blocked write ends as "cancelled". */
static void test_cancel_during_write(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_attempt_result res;
	struct kicker k = { .target = pthread_self(), .sig = SIGUSR1, .times = 1 };
	pthread_t t;
	struct fifo f;

	fifo_make(root, &f);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	install(SIGUSR1, on_cancel);
	cancel_flag = 0;
	assert_int_equal(pthread_create(&t, NULL, kick, &k), 0);
	assert_int_equal(mo_attempt_run(r, 5, MO_ACTION_OFFLINE, 20 * 1000 * 1000, &cancel_flag, &res), 0);
	pthread_join(t, NULL);
	assert_int_equal(res.outcome, MO_OUTCOME_CANCELLED);
	assert_no_timer();
	signal(SIGUSR1, SIG_DFL);
	close(f.rfd);
}

/* A watcher (the stall detector) sets the stop flag and signals: the write ends "stalled", also with
 * every signal blocked as in the daemon. */
static volatile sig_atomic_t stop_flag, write_done;

static void *stop_after(void *p)
{
	struct kicker *k = p;

	usleep(100 * 1000);
	stop_flag = 1;
	/* again until the write has returned, as the stall detector does, and once more past it */
	while (!write_done) {
		pthread_kill(k->target, MO_ATTEMPT_SIGNAL);
		usleep(20 * 1000);
	}
	pthread_kill(k->target, MO_ATTEMPT_SIGNAL);
	return NULL;
}

static void test_stopped_during_write(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_attempt_result res;
	struct kicker k = { .target = pthread_self() };
	sigset_t all, saved, before;
	pthread_t t;
	struct fifo f;

	fifo_make(root, &f);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	sigfillset(&all);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &all, &saved), 0);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, NULL, &before), 0);
	stop_flag = write_done = 0;
	assert_int_equal(pthread_create(&t, NULL, stop_after, &k), 0);
	assert_int_equal(mo_attempt_run_stoppable(r, 5, MO_ACTION_OFFLINE, 20 * 1000 * 1000, NULL, &stop_flag,
						  &res), 0);
	write_done = 1;
	pthread_join(t, NULL);
	mo_attempt_drain_signal();
	assert_int_equal(res.outcome, MO_OUTCOME_STALLED);
	assert_int_equal(res.error, EINTR);
	assert_string_equal(mo_outcome_to_string(res.outcome), "stalled");
	assert_true(mo_outcome_is_retryable(res.outcome));
	assert_clean(&before);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &saved, NULL), 0);
	assert_no_timer();
	close(f.rfd);
}

/* Some other handler without SA_RESTART interrupts the write: that is not a timeout, write again. */
static void test_spurious_eintr(void **state)
{
	const char *root = *state;
	_cleanup_(mo_root_freep) struct mo_root *r = NULL;
	struct mo_attempt_result res;
	struct kicker k = { .target = pthread_self(), .sig = SIGUSR2, .times = 2 };
	volatile sig_atomic_t never = 0;
	pthread_t t;
	struct fifo f;

	fifo_make(root, &f);
	assert_int_equal(mo_root_new(root, NULL, &r), 0);
	install(SIGUSR2, on_other);
	other_signals = 0;
	assert_int_equal(pthread_create(&t, NULL, kick, &k), 0);
	/* long enough that both kicks land inside the attempt */
	assert_int_equal(mo_attempt_run(r, 5, MO_ACTION_OFFLINE, 1500 * 1000, &never, &res), 0);
	pthread_join(t, NULL);
	assert_int_equal(other_signals, 2);
	assert_int_equal(res.outcome, MO_OUTCOME_TIMED_OUT);
	assert_no_timer();
	signal(SIGUSR2, SIG_DFL);
	close(f.rfd);
}

static void test_sleep(void **state)
{
	struct kicker k = { .target = pthread_self(), .sig = SIGUSR1, .times = 1 };
	volatile sig_atomic_t never = 0;
	pthread_t t;

	assert_int_equal(mo_attempt_sleep(1000, &never), 0);
	cancel_flag = 1;
	assert_int_equal(mo_attempt_sleep(60 * 1000 * 1000, &cancel_flag), -ECANCELED);

	/* woken by a handler that sets the flag (returns long before the 60 s) */
	install(SIGUSR1, on_cancel);
	cancel_flag = 0;
	assert_int_equal(pthread_create(&t, NULL, kick, &k), 0);
	assert_int_equal(mo_attempt_sleep(60 * 1000 * 1000, &cancel_flag), -ECANCELED);
	pthread_join(t, NULL);
	signal(SIGUSR1, SIG_DFL);
	(void) state;
}

/* A daemon thread blocks everything; another thread sets the flag and kicks it with MO_ATTEMPT_SIGNAL. */
static volatile sig_atomic_t thread_cancel;

static void *set_and_kick(void *p)
{
	usleep(50 * 1000);
	thread_cancel = 1;
	pthread_kill(*(pthread_t *) p, MO_ATTEMPT_SIGNAL);
	return NULL;
}

static void test_sleep_blocked_kick(void **state)
{
	sigset_t all, saved;
	pthread_t self = pthread_self(), t;

	assert_int_equal(mo_attempt_setup_signal(), 0);
	sigfillset(&all);
	assert_int_equal(pthread_sigmask(SIG_BLOCK, &all, &saved), 0);
	thread_cancel = 0;
	assert_int_equal(pthread_create(&t, NULL, set_and_kick, &self), 0);
	assert_int_equal(mo_attempt_sleep(60 * 1000 * 1000, &thread_cancel), -ECANCELED);
	pthread_join(t, NULL);
	assert_int_equal(pthread_sigmask(SIG_SETMASK, &saved, NULL), 0);
	(void) state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classify),
		cmocka_unit_test_setup_teardown(test_done_regular_file, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_vanished, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_other_error, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_cancel_before, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_timeout_fifo, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_timeout_signal_blocked, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_cancel_during_write, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_stopped_during_write, setup, fx_teardown_root),
		cmocka_unit_test_setup_teardown(test_spurious_eintr, setup, fx_teardown_root),
		cmocka_unit_test(test_sleep),
		cmocka_unit_test(test_sleep_blocked_kick),
	};
	/* A write the timer failed to end would hang: turn that into a failure. */
	alarm(120);
	return cmocka_run_group_tests_name("attempt", tests, NULL, NULL);
}
