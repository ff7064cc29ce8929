/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What every memoffctl verb shares: the context built from the common
 * options, option parsing that handles those options once for all verbs,
 * exit codes, and error messages in one format.
 *
 * A verb is a `const struct ctl_verb` defined in its own file and listed in
 * memoffctl.c's table. Its run() parses its own options with ctl_getopt(),
 * which takes care of --sysroot, --procroot, --direct, -h/--help and
 * -V/--version wherever they appear on the command line.
 */

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "root.h"
#include "util.h"

/* Exit codes: the contract in DESIGN.md. */
enum {
	CTL_EXIT_OK = 0,        /* all done */
	CTL_EXIT_FAILED = 1,    /* failed, or nothing done */
	CTL_EXIT_USAGE = 2,     /* usage error */
	CTL_EXIT_PARTIAL = 64,  /* partly done */
};

struct ctl_ctx;

struct ctl_verb {
	const char *name;       /* "list" */
	const char *summary;    /* one line for `memoffctl --help` */
	/* argv[0] is the verb name; returns a CTL_EXIT_* code. */
	int (*run)(struct ctl_ctx *ctx, int argc, char *argv[]);
	/* Full usage, printed for `memoffctl VERB --help`. */
	void (*help)(FILE *out);
};

/*
 * Define verb NAME: run by verb_NAME(), its help printed by NAME_help(), and
 * @summary for `memoffctl --help`.
 */
#define CTL_VERB(name_, summary_)                                       \
	const struct ctl_verb ctl_verb_##name_ = {                      \
		.name = #name_,                                         \
		.summary = summary_,                                    \
		.run = verb_##name_,                                    \
		.help = name_##_help,                                   \
	}

struct ctl_ctx {
	const char *sysroot;    /* --sysroot DIR; NULL means "/" */
	const char *procroot;   /* --procroot DIR; NULL means the sysroot */
	bool direct;            /* --direct: run the core in-process, no daemon */
	const struct ctl_verb *verb; /* running verb (the global pseudo-verb before dispatch) */
};

/* getopt values of the common long-only options. */
enum {
	CTL_OPT_SYSROOT = 0x100,
	CTL_OPT_PROCROOT,
	CTL_OPT_DIRECT,
	/* A verb numbers its own long-only options from here on. */
	CTL_OPT_VERB_FIRST = 0x200,
};

/* Put this at the end of a verb's struct option array, before the { NULL } terminator. */
#define CTL_COMMON_LONGOPTS                                             \
	{ "help",     no_argument,       NULL, 'h' },                   \
	{ "version",  no_argument,       NULL, 'V' },                   \
	{ "sysroot",  required_argument, NULL, CTL_OPT_SYSROOT },       \
	{ "procroot", required_argument, NULL, CTL_OPT_PROCROOT },      \
	{ "direct",   no_argument,       NULL, CTL_OPT_DIRECT }

/* Returned by ctl_getopt() when the verb must return *ret_exit right away. */
#define CTL_GETOPT_EXIT (-2)

/**
 * ctl_getopt() - getopt_long() for a verb, with the common options handled.
 * @shortopts: the verb's own short options ("abJo:"); "hV" is added, and
 *             a leading '+' (stop at the first non-option) is honoured
 * @longopts: the verb's long options, ending with CTL_COMMON_LONGOPTS, { NULL }
 * @ret_exit: where the exit code goes when CTL_GETOPT_EXIT is returned
 *
 * Returns the verb's next option as getopt_long() would (optarg and optind
 * as usual), -1 after the last option, or CTL_GETOPT_EXIT after --help or
 * --version (printed, *ret_exit = 0) or a usage error (printed with a hint,
 * *ret_exit = CTL_EXIT_USAGE). Common options are stored in @ctx and never
 * returned.
 */
int ctl_getopt(struct ctl_ctx *ctx, int argc, char *argv[], const char *shortopts,
	       const struct option *longopts, int *ret_exit);

/**
 * ctl_getopt_json() - ctl_getopt() for a verb whose short option is -J
 * (--json in @longopts): sets *@json and returns the next other option.
 */
int ctl_getopt_json(struct ctl_ctx *ctx, int argc, char *argv[], const struct option *longopts, bool *json,
		    int *ret_exit);

/**
 * ctl_parse_json_only() - the command line of a verb whose one option is -J
 * and that takes no argument.
 * Return: -1 to go on (*@json set), else the exit code (after --help,
 * --version or a usage error).
 */
int ctl_parse_json_only(struct ctl_ctx *ctx, int argc, char *argv[], bool *json);

/*
 * One help layout for every verb (util-linux's): ctl_help_begin() prints
 * "Usage:" with each line of @usage, the @text describing the verb and
 * "Options:"; ctl_help_option() one option, its text in one column
 * (continuation lines, after '\n' in the text, under the first; an option
 * too long for the column puts its text on the next line); ctl_help_end()
 * the common options, the closing @text (exit status, notes; may be NULL)
 * and the pointer to memoffctl(8).
 */
void ctl_help_begin(FILE *out, const char *usage, const char *text);
void ctl_help_option(FILE *out, const char *opt, const char *fmt, ...) _printf_(3, 4);
void ctl_help_end(FILE *out, const char *text);

/** ctl_print_common_options() - the common options' lines for a verb's help. */
void ctl_print_common_options(FILE *out);

/** ctl_set_verb() - the verb running: usage errors then point at `memoffctl VERB --help`. */
void ctl_set_verb(const char *name);

/**
 * ctl_usage_error() - print "memoffctl: MESSAGE" and the --help hint to stderr.
 * Return: CTL_EXIT_USAGE, for `return ctl_usage_error(...)`.
 */
int ctl_usage_error(const char *fmt, ...) _printf_(1, 2);

/**
 * ctl_error() - print "memoffctl: MESSAGE" to stderr.
 * Return: CTL_EXIT_FAILED.
 */
int ctl_error(const char *fmt, ...) _printf_(1, 2);

/**
 * ctl_error_errno() - print "memoffctl: MESSAGE: strerror(-r)" to stderr.
 * @r: a negative errno (its sign is ignored)
 * Return: CTL_EXIT_FAILED.
 */
int ctl_error_errno(int r, const char *fmt, ...) _printf_(2, 3);

/**
 * ctl_open_root() - open the root that --sysroot/--procroot name.
 *
 * Prints the error (with the path) itself. Return: 0 or a negative errno.
 */
int ctl_open_root(const struct ctl_ctx *ctx, struct mo_root **ret);

struct mo_memory;

/**
 * ctl_open_memory() - open the root (ctl_open_root()) and its memory blocks,
 * all read (@load: mo_memory_load()) or none yet (mo_memory_open()).
 * Return: 0, or -1 after the error (printed).
 */
int ctl_open_memory(const struct ctl_ctx *ctx, bool load, struct mo_root **ret_root, struct mo_memory **ret_mem);

/**
 * ctl_sys_path() - a path under the root's sys/ as a user would type it,
 * for messages: ("/", "devices/system/memory") -> "/sys/devices/system/memory".
 * Return: a new string, or NULL on OOM.
 */
char *ctl_sys_path(const char *sysroot, const char *rel);

/**
 * ctl_load_daemon_pins() - memoffd's pin store (pinmem.h), read-only: the
 * file MO_PINMEM_FILE in $MEMOFF_STATE_DIRECTORY, else, for the live system
 * only (@root NULL: the daemon's, which is live), in memoffd's default state
 * directory.
 * Return: 0 with *@ret set; -ENOENT when there is no such file (or the root
 * is a fixture and the variable is unset); another negative errno.
 */
struct mo_pinmem;
int ctl_load_daemon_pins(const struct mo_root *root, struct mo_pinmem **ret);

struct libscols_table;

/**
 * ctl_table_new() - a libsmartcols table (the plain tables of every verb)
 * printing to @out, with @n columns named @names; a name given as ">NAME" is
 * right-aligned, the last column is truncated on a narrow terminal.
 * Return: the table, or NULL on OOM.
 */
struct libscols_table *ctl_table_new(FILE *out, const char *const *names, size_t n);

/** ctl_table_add() - a row of @n cells (NULL: empty). Return: 0 or -ENOMEM. */
int ctl_table_add(struct libscols_table *tb, const char *const *cells, size_t n);

/** ctl_print_version() - "memoffctl from memoff X.Y.Z" on stdout. */
void ctl_print_version(void);
