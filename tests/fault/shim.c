/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fault injection for tests: an LD_PRELOAD shim that makes open(), read()
 * and write() fail on paths matching a pattern, the way sysfs fails.
 * Test-only; never installed.
 *
 *   MEMOFF_FAULT="RULE[;RULE...]"
 *   RULE = OP@GLOB=ACTION[*COUNT][+SKIP]
 *
 *   OP      open    any open()/openat() of a matching path
 *           openw   an open for writing
 *           read    read() or pread() from a descriptor of a matching path
 *           write   write() to one
 *   GLOB    fnmatch(3) pattern on the absolute path ('*' also matches '/'),
 *           e.g. "* /memory9/state" without the blank
 *   ACTION  an errno name: EBUSY EINTR EINVAL EPERM ENOMEM EIO EACCES
 *           ENOENT ENODEV EAGAIN ENXIO EROFS; or
 *           hang    block until a signal is caught, then fail with EINTR
 *                   (what offline_pages() does with a pinned page)
 *           stuck   block with the caller's signal mask: a killable wait
 *                   in the kernel (a read of /proc/PID/pagemap while the
 *                   process is stuck holding its mmap_lock); a thread
 *                   that blocks every signal never comes back
 *           remove  remove the directory holding the file (a block that
 *                   was hot-removed), then fail with ENOENT
 *   COUNT   fail this many matching calls, then let them through
 *           (default: every one)
 *   SKIP    let this many matching calls through first (default 0)
 *
 *   MEMOFF_FAULT_LOG=FILE  append "OP PATH ACTION" for every injected fault,
 *                          so that a test can tell its fault was hit
 *   MEMOFF_FAULT_SYSFS=GLOB  make regular files matching GLOB behave like
 *                          sysfs attributes: an open for writing does not
 *                          truncate, and each write() replaces the whole
 *                          content; so a failed write leaves the old value,
 *                          as the kernel does
 *
 * Counts are per process. Nothing else changes: unmatched calls go straight
 * to the C library.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum op { OP_OPEN, OP_OPENW, OP_READ, OP_WRITE };
enum { ACT_HANG = -1, ACT_REMOVE = -2, ACT_STUCK = -3 };

struct rule {
	enum op op;
	char glob[512];
	int action;       /* errno, or ACT_* */
	long count;       /* faults left; -1 = unlimited */
	long skip;        /* matching calls to let through first */
};

#define MAX_RULES 16
static struct rule rules[MAX_RULES];
static int n_rules = -1;
static bool have_op[4];

static const struct {
	const char *name;
	int value;
} actions[] = {
	{ "EBUSY", EBUSY }, { "EINTR", EINTR }, { "EINVAL", EINVAL }, { "EPERM", EPERM },
	{ "ENOMEM", ENOMEM }, { "EIO", EIO }, { "EACCES", EACCES }, { "ENOENT", ENOENT },
	{ "ENODEV", ENODEV }, { "EAGAIN", EAGAIN }, { "ENXIO", ENXIO }, { "EROFS", EROFS },
	{ "hang", ACT_HANG }, { "remove", ACT_REMOVE }, { "stuck", ACT_STUCK },
};

static const char *const op_names[] = { "open", "openw", "read", "write" };

static void load_rules(void)
{
	const char *env = getenv("MEMOFF_FAULT");
	char buf[4096], *save = NULL;

	n_rules = 0;
	if (!env || strlen(env) >= sizeof(buf))
		return;
	strcpy(buf, env);
	for (char *r = strtok_r(buf, ";", &save); r && n_rules < MAX_RULES; r = strtok_r(NULL, ";", &save)) {
		struct rule *ru = &rules[n_rules];
		char *at = strchr(r, '@'), *eq = strrchr(r, '='), *p;
		size_t k;

		if (!at || !eq || eq < at)
			continue;
		*at = '\0';
		*eq = '\0';
		for (k = 0; k < 4; k++)
			if (strcmp(r, op_names[k]) == 0)
				break;
		if (k == 4 || strlen(at + 1) >= sizeof(ru->glob))
			continue;
		ru->op = (enum op) k;
		strcpy(ru->glob, at + 1);
		ru->count = -1;
		ru->skip = 0;
		if ((p = strchr(eq + 1, '+'))) {
			*p = '\0';
			ru->skip = strtol(p + 1, NULL, 10);
		}
		if ((p = strchr(eq + 1, '*'))) {
			*p = '\0';
			ru->count = strtol(p + 1, NULL, 10);
		}
		for (k = 0; k < sizeof(actions) / sizeof(actions[0]); k++)
			if (strcmp(eq + 1, actions[k].name) == 0)
				break;
		if (k == sizeof(actions) / sizeof(actions[0]))
			continue;
		ru->action = actions[k].value;
		have_op[ru->op] = true;
		n_rules++;
	}
}

static void log_fault(enum op op, const char *path, int action)
{
	const char *file = getenv("MEMOFF_FAULT_LOG");
	const char *name = "?";
	int (*real_open)(const char *, int, ...) = (int (*)(const char *, int, ...)) dlsym(RTLD_NEXT, "open");
	ssize_t (*real_write)(int, const void *, size_t) =
		(ssize_t (*)(int, const void *, size_t)) dlsym(RTLD_NEXT, "write");
	char line[4700];
	int fd, n;

	if (!file || !real_open || !real_write)
		return;
	for (size_t k = 0; k < sizeof(actions) / sizeof(actions[0]); k++)
		if (actions[k].value == action)
			name = actions[k].name;
	n = snprintf(line, sizeof(line), "%s %s %s\n", op_names[op], path, name);
	fd = real_open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (n > 0)
		(void) !real_write(fd, line, (size_t) n < sizeof(line) ? (size_t) n : sizeof(line) - 1);
	close(fd);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void) st;
	(void) flag;
	(void) ftw;
	(void) remove(path);
	return 0;
}

/* Whether a call on @path must fail; sets errno and returns true if so. */
static bool inject(enum op op, const char *path)
{
	int saved = errno;

	if (n_rules < 0)
		load_rules();
	for (int i = 0; i < n_rules; i++) {
		struct rule *ru = &rules[i];

		if (ru->op != op || ru->count == 0 || fnmatch(ru->glob, path, 0) != 0)
			continue;
		if (ru->skip > 0) {
			ru->skip--;
			continue;
		}
		if (ru->count > 0)
			ru->count--;
		log_fault(op, path, ru->action);
		if (ru->action == ACT_HANG) {
			/*
			 * Like offline_pages(): only a signal ends it. A caught
			 * one (the attempt's timer) makes the call fail with
			 * EINTR; a fatal one ends the process as usual.
			 */
			sigset_t none;

			sigemptyset(&none);
			sigsuspend(&none);
			errno = EINTR;
			return true;
		}
		if (ru->action == ACT_STUCK) {
			sigset_t mask;

			pthread_sigmask(SIG_SETMASK, NULL, &mask);
			sigsuspend(&mask);
			errno = EINTR;
			return true;
		}
		if (ru->action == ACT_REMOVE) {
			char dir[PATH_MAX];
			char *slash;

			snprintf(dir, sizeof(dir), "%s", path);
			slash = strrchr(dir, '/');
			if (slash && slash != dir) {
				*slash = '\0';
				(void) nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
			}
			errno = ENOENT;
			return true;
		}
		errno = ru->action;
		return true;
	}
	errno = saved;
	return false;
}

/* The absolute path of @rel relative to @dirfd, in @buf. */
static const char *resolve(int dirfd, const char *rel, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	if (rel[0] == '/')
		return rel;
	if (dirfd == AT_FDCWD) {
		if (!getcwd(buf, size))
			return rel;
		n = (ssize_t) strlen(buf);
	} else {
		snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
		n = readlink(link, buf, size - 1);
		if (n < 0)
			return rel;
	}
	snprintf(buf + n, size - (size_t) n, "/%s", strcmp(rel, ".") == 0 ? "" : rel);
	return buf;
}

static const char *fd_path(int fd, char *buf, size_t size)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, buf, size - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	return buf;
}

/* MEMOFF_FAULT_SYSFS: whether @path is to behave like a sysfs attribute. */
static bool sysfs_like(const char *path)
{
	const char *glob = getenv("MEMOFF_FAULT_SYSFS");

	return glob && *glob && path && fnmatch(glob, path, 0) == 0;
}

static int sysfs_flags(int dirfd, const char *path, int flags)
{
	char buf[PATH_MAX + 256];
	int saved = errno;

	if ((flags & O_ACCMODE) == O_RDONLY || !(flags & O_TRUNC) || !getenv("MEMOFF_FAULT_SYSFS"))
		return flags;
	if (sysfs_like(resolve(dirfd, path, buf, sizeof(buf))))
		flags &= ~O_TRUNC;
	errno = saved;
	return flags;
}

static bool open_faults(int dirfd, const char *path, int flags)
{
	char buf[PATH_MAX + 256];
	const char *abs;
	int saved = errno;

	if (n_rules < 0)
		load_rules();
	if (!path || (!have_op[OP_OPEN] && !have_op[OP_OPENW]))
		return false;
	abs = resolve(dirfd, path, buf, sizeof(buf));
	errno = saved;
	if (inject(OP_OPEN, abs))
		return true;
	return (flags & O_ACCMODE) != O_RDONLY && inject(OP_OPENW, abs);
}

#define OPEN_MODE(flags, mode)                                  \
	do {                                                    \
		if ((flags) & (O_CREAT | __O_TMPFILE)) {        \
			va_list ap;                             \
			va_start(ap, flags);                    \
			(mode) = va_arg(ap, int);               \
			va_end(ap);                             \
		}                                               \
	} while (0)

int openat(int dirfd, const char *path, int flags, ...);
int openat(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	int mode = 0;

	OPEN_MODE(flags, mode);
	if (!real)
		real = (int (*)(int, const char *, int, ...)) dlsym(RTLD_NEXT, "openat");
	if (open_faults(dirfd, path, flags))
		return -1;
	return real(dirfd, path, sysfs_flags(dirfd, path, flags), mode);
}

int openat64(int dirfd, const char *path, int flags, ...);
int openat64(int dirfd, const char *path, int flags, ...)
{
	static int (*real)(int, const char *, int, ...);
	int mode = 0;

	OPEN_MODE(flags, mode);
	if (!real)
		real = (int (*)(int, const char *, int, ...)) dlsym(RTLD_NEXT, "openat64");
	if (open_faults(dirfd, path, flags))
		return -1;
	return real(dirfd, path, sysfs_flags(dirfd, path, flags), mode);
}

int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	int mode = 0;

	OPEN_MODE(flags, mode);
	if (!real)
		real = (int (*)(const char *, int, ...)) dlsym(RTLD_NEXT, "open");
	if (open_faults(AT_FDCWD, path, flags))
		return -1;
	return real(path, sysfs_flags(AT_FDCWD, path, flags), mode);
}

int open64(const char *path, int flags, ...);
int open64(const char *path, int flags, ...)
{
	static int (*real)(const char *, int, ...);
	int mode = 0;

	OPEN_MODE(flags, mode);
	if (!real)
		real = (int (*)(const char *, int, ...)) dlsym(RTLD_NEXT, "open64");
	if (open_faults(AT_FDCWD, path, flags))
		return -1;
	return real(path, sysfs_flags(AT_FDCWD, path, flags), mode);
}

/*
 * With _FORTIFY_SOURCE (Debian's build flags), open() and openat() with
 * flags not known at compile time become calls to these checking variants:
 * they take no mode (O_CREAT and O_TMPFILE go to the plain functions).
 */
int __openat_2(int dirfd, const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags)
{
	return openat(dirfd, path, flags);
}

int __openat64_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags)
{
	return openat64(dirfd, path, flags);
}

int __open_2(const char *path, int flags);
int __open_2(const char *path, int flags)
{
	return open(path, flags);
}

int __open64_2(const char *path, int flags);
int __open64_2(const char *path, int flags)
{
	return open64(path, flags);
}

ssize_t read(int fd, void *buf, size_t n)
{
	static ssize_t (*real)(int, void *, size_t);
	char path[PATH_MAX];

	if (!real)
		real = (ssize_t (*)(int, void *, size_t)) dlsym(RTLD_NEXT, "read");
	if (n_rules < 0)
		load_rules();
	if (have_op[OP_READ] && fd_path(fd, path, sizeof(path)) && inject(OP_READ, path))
		return -1;
	return real(fd, buf, n);
}

/* pread() and pread64(): @name is the C library's. */
static ssize_t pread_faults(const char *name, int fd, void *buf, size_t n, off64_t offset)
{
	ssize_t (*real)(int, void *, size_t, off64_t) = (ssize_t (*)(int, void *, size_t, off64_t)) dlsym(RTLD_NEXT, name);
	char path[PATH_MAX];

	if (n_rules < 0)
		load_rules();
	if (have_op[OP_READ] && fd_path(fd, path, sizeof(path)) && inject(OP_READ, path))
		return -1;
	return real(fd, buf, n, offset);
}

ssize_t pread(int fd, void *buf, size_t n, off_t offset)
{
	return pread_faults("pread", fd, buf, n, offset);
}

ssize_t pread64(int fd, void *buf, size_t n, off64_t offset)
{
	return pread_faults("pread64", fd, buf, n, offset);
}

ssize_t write(int fd, const void *buf, size_t n)
{
	static ssize_t (*real)(int, const void *, size_t);
	char path[PATH_MAX];

	if (!real)
		real = (ssize_t (*)(int, const void *, size_t)) dlsym(RTLD_NEXT, "write");
	if (n_rules < 0)
		load_rules();
	if ((have_op[OP_WRITE] || getenv("MEMOFF_FAULT_SYSFS")) && fd_path(fd, path, sizeof(path))) {
		if (have_op[OP_WRITE] && inject(OP_WRITE, path))
			return -1;
		if (sysfs_like(path)) {
			int saved = errno;

			/* A sysfs store replaces the value. */
			if (ftruncate(fd, 0) == 0)
				(void) lseek(fd, 0, SEEK_SET);
			errno = saved;
		}
	}
	return real(fd, buf, n);
}
