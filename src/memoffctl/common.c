/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdarg.h>

#include "bus-names.h"
#include "common.h"
#include "pinmem.h"

#define PROG "memoffctl"

static void vmessage(const char *fmt, va_list ap, int errnum)
{
	fputs(PROG ": ", stderr);
	vfprintf(stderr, fmt, ap);
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, 0);
	va_end(ap);
	fputs("Try '" PROG " --help'.\n", stderr);
	return CTL_EXIT_USAGE;
}

int ctl_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, 0);
	va_end(ap);
	return CTL_EXIT_FAILED;
}

int ctl_error_errno(int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, r < 0 ? -r : r);
	va_end(ap);
	return CTL_EXIT_FAILED;
}

void ctl_print_version(void)
{
	printf(PROG " from " PACKAGE_NAME " " PACKAGE_VERSION "\n");
}

void ctl_print_common_options(FILE *out)
{
	fputs("     --sysroot <dir>   read sysfs from <dir>/sys instead of /sys\n"
	      "     --procroot <dir>  read procfs from <dir>/proc (default: the sysroot)\n"
	      "     --direct          run in this process, without the memoffd daemon\n"
	      " -h, --help            display this help\n"
	      " -V, --version         display version\n", out);
}

char *ctl_sys_path(const char *sysroot, const char *rel)
{
	const char *sep = "/";
	char *p;

	if (!sysroot || !*sysroot)
		sysroot = "/";
	if (sysroot[strlen(sysroot) - 1] == '/')
		sep = "";
	if (asprintf(&p, "%s%ssys%s%s", sysroot, sep, rel && *rel ? "/" : "", strempty(rel)) < 0)
		return NULL;
	return p;
}

int ctl_open_root(const struct ctl_ctx *ctx, struct mo_root **ret)
{
	int r;

	r = mo_root_new(ctx->sysroot, ctx->procroot, ret);
	if (r < 0) {
		_cleanup_free_ char *p = ctl_sys_path(ctx->sysroot, NULL);

		ctl_error_errno(r, "%s", p ? p : strempty(ctx->sysroot));
	}
	return r;
}

/* The long option @arg ("--name" or "--name=value") names, or NULL. */
static const struct option *find_long(const struct option *longopts, const char *arg)
{
	size_t len;

	if (!startswith(arg, "--"))
		return NULL;
	arg += 2;
	len = strcspn(arg, "=");
	for (const struct option *o = longopts; o->name; o++)
		if (strlen(o->name) == len && strneq(o->name, arg, len))
			return o;
	return NULL;
}

/* Describe the option getopt_long() just refused (it prints nothing: opterr = 0). */
static int bad_option(int c, char *argv[], const struct option *longopts)
{
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;
	const struct option *o = arg ? find_long(longopts, arg) : NULL;
	int len = arg ? (int) strcspn(arg, "=") : 0;

	if (c == ':') {
		if (o && o->val == optopt)
			return ctl_usage_error("option '%.*s' requires an argument", len, arg);
		return ctl_usage_error("option requires an argument -- '%c'", optopt);
	}
	if (optopt == 0) {
		if (arg && startswith(arg, "--") && !o) {
			size_t plen = strcspn(arg + 2, "=");
			unsigned matches = 0;

			for (const struct option *p = longopts; p->name; p++)
				if (strneq(p->name, arg + 2, plen))
					matches++;
			if (matches > 1)
				return ctl_usage_error("option '%.*s' is ambiguous", len, arg);
		}
		return ctl_usage_error("unrecognized option '%s'", arg ? arg : "");
	}
	if (o && o->val == optopt && arg[len] == '=')
		return ctl_usage_error("option '%.*s' doesn't allow an argument", len, arg);
	if (optopt > 0 && optopt < 0x100)
		return ctl_usage_error("invalid option -- '%c'", optopt);
	return ctl_usage_error("invalid option '%s'", arg ? arg : "");
}

int ctl_getopt(struct ctl_ctx *ctx, int argc, char *argv[], const char *shortopts,
	       const struct option *longopts, int *ret_exit)
{
	char opts[128];
	bool stop_at_nonopt = shortopts[0] == '+';
	int c, n;

	n = snprintf(opts, sizeof(opts), "%s:%shV", stop_at_nonopt ? "+" : "",
		     shortopts + stop_at_nonopt);
	if (n < 0 || (size_t) n >= sizeof(opts))
		abort(); /* a programming error: the verb's option string is absurd */

	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, opts, longopts, NULL);
		switch (c) {
		case 'h':
			ctx->verb->help(stdout);
			*ret_exit = CTL_EXIT_OK;
			return CTL_GETOPT_EXIT;
		case 'V':
			ctl_print_version();
			*ret_exit = CTL_EXIT_OK;
			return CTL_GETOPT_EXIT;
		case CTL_OPT_SYSROOT:
			ctx->sysroot = optarg;
			break;
		case CTL_OPT_PROCROOT:
			ctx->procroot = optarg;
			break;
		case CTL_OPT_DIRECT:
			ctx->direct = true;
			break;
		case '?':
		case ':':
			*ret_exit = bad_option(c, argv, longopts);
			return CTL_GETOPT_EXIT;
		default:
			return c;
		}
	}
}

int ctl_load_daemon_pins(const struct mo_root *root, struct mo_pinmem **ret)
{
	_cleanup_(mo_pinmem_freep) struct mo_pinmem *m = NULL;
	_cleanup_free_ char *path = NULL;
	const char *dir = getenv(MO_STATE_DIR_ENV);
	int r;

	if (!dir || !*dir) {
		if (root && !mo_root_is_live(root))
			return -ENOENT;
		dir = MO_STATE_DIR_DEFAULT;
	}
	if (asprintf(&path, "%s/" MO_PINMEM_FILE, dir) < 0)
		return -ENOMEM;
	if (access(path, F_OK) < 0)
		return -errno;
	r = mo_pinmem_new(&m);
	if (r < 0)
		return r;
	r = mo_pinmem_load(m, path);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}
