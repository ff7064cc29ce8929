/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <inttypes.h>
#include <libsmartcols.h>
#include <stdarg.h>

#include "block.h"
#include "bus-names.h"
#include "common.h"
#include "escape.h"
#include "pinmem.h"

#define PROG "memoffctl"

/* Every error and warning of memoffctl: one line, control characters of what it echoes escaped. */
static void vmessage(const char *fmt, va_list ap, int errnum)
{
	_cleanup_free_ char *raw = NULL, *esc = NULL;

	if (vasprintf(&raw, fmt, ap) < 0)
		raw = NULL;
	esc = raw ? mo_escape_cntrl_dup(raw, false) : NULL;
	fputs(PROG ": ", stderr);
	fputs(esc ? esc : "(out of memory)", stderr);
	if (errnum)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
}

/* The verb whose help a usage error points at (NULL: memoffctl's own). */
static const char *current_verb;

void ctl_set_verb(const char *name)
{
	current_verb = name;
}

int ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(fmt, ap, 0);
	va_end(ap);
	if (current_verb)
		fprintf(stderr, "Try '" PROG " %s --help'.\n", current_verb);
	else
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

/* The option column: " -x, --long <arg>" padded to this, then the text. */
#define HELP_COLUMN 25

void ctl_help_begin(FILE *out, const char *usage, const char *text)
{
	fputs("\nUsage:\n", out);
	for (const char *p = usage; *p;) {
		size_t n = strcspn(p, "\n");

		fprintf(out, " %.*s\n", (int) n, p);
		p += n;
		if (*p)
			p++;
	}
	if (text && *text)
		fprintf(out, "\n%s\n", text);
	fputs("\nOptions:\n", out);
}

void ctl_help_option(FILE *out, const char *opt, const char *fmt, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (strlen(opt) > HELP_COLUMN)
		fprintf(out, " %s\n%*s", opt, HELP_COLUMN + 2, "");
	else
		fprintf(out, " %-*s ", HELP_COLUMN, opt);
	/* continuation lines of the text line up under its first */
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		fprintf(out, "%.*s\n", (int) n, p);
		p += n;
		if (*p && *++p)
			fprintf(out, "%*s", HELP_COLUMN + 2, "");
	}
}

void ctl_print_common_options(FILE *out)
{
	ctl_help_option(out, "    --sysroot <dir>", "read sysfs from <dir>/sys instead of /sys");
	ctl_help_option(out, "    --procroot <dir>", "read procfs from <dir>/proc (default: the sysroot)");
	ctl_help_option(out, "    --direct", "run in this process, without the memoffd daemon");
	ctl_help_option(out, "-h, --help", "display this help");
	ctl_help_option(out, "-V, --version", "display version");
}

void ctl_help_end(FILE *out, const char *text)
{
	ctl_print_common_options(out);
	if (text && *text)
		fprintf(out, "\n%s\n", text);
	else
		fputc('\n', out);
	fputs("For more details see memoffctl(8).\n", out);
}

struct libscols_table *ctl_table_new(FILE *out, const char *const *names, size_t n)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		return NULL;
	scols_table_set_stream(tb, out);
	for (size_t i = 0; i < n; i++) {
		bool right = names[i][0] == '>';
		int flags = (right ? SCOLS_FL_RIGHT : 0) | (i + 1 == n ? SCOLS_FL_TRUNC : 0);

		if (!scols_table_new_column(tb, names[i] + right, 0, flags)) {
			scols_unref_table(tb);
			return NULL;
		}
	}
	return tb;
}

int ctl_table_add(struct libscols_table *tb, const char *const *cells, size_t n)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);

	if (!ln)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (scols_line_set_data(ln, i, cells[i]) < 0)
			return -ENOMEM;
	return 0;
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

int ctl_open_memory(const struct ctl_ctx *ctx, bool load, struct mo_root **ret_root, struct mo_memory **ret_mem)
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	int r;

	if (ctl_open_root(ctx, &root) < 0)
		return -1;
	r = load ? mo_memory_load(root, ret_mem) : mo_memory_open(root, ret_mem);
	if (r < 0) {
		_cleanup_free_ char *p = ctl_sys_path(root->sysroot, MO_SYSFS_MEMORY);

		ctl_error_errno(r, "cannot read memory blocks in %s", strempty(p));
		return -1;
	}
	/* a malformed entry leaves its block out, named (list then exits 64: partly done) */
	for (size_t i = 0; i < (*ret_mem)->n_skipped; i++) {
		_cleanup_free_ char *msg = mo_block_skip_message(root, &(*ret_mem)->skipped[i]);

		ctl_error("warning: %s; block %" PRIu64 " not listed", msg ? msg : "(out of memory)",
			  (*ret_mem)->skipped[i].index);
	}
	*ret_root = TAKE_PTR(root);
	return 0;
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

int ctl_getopt_json(struct ctl_ctx *ctx, int argc, char *argv[], const struct option *longopts, bool *json,
		    int *ret_exit)
{
	int c;

	while ((c = ctl_getopt(ctx, argc, argv, "J", longopts, ret_exit)) == 'J')
		*json = true;
	return c;
}

int ctl_parse_json_only(struct ctl_ctx *ctx, int argc, char *argv[], bool *json)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'J' },
		CTL_COMMON_LONGOPTS,
		{}
	};
	int c, ex = EXIT_FAILURE;

	c = ctl_getopt_json(ctx, argc, argv, longopts, json, &ex);
	if (c == CTL_GETOPT_EXIT)
		return ex;
	if (c != -1)
		return ctl_usage_error("unexpected option");
	if (optind < argc)
		return ctl_usage_error("unexpected argument '%s'", argv[optind]);
	return -1;
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
