/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffd: the memory hot-remove daemon. See memoffd(8).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memoffd-conf.h"
#include "escape.h"
#include "log.h"
#include "manager.h"
#include "util.h"

#ifndef MEMOFF_SYSCONFDIR
#define MEMOFF_SYSCONFDIR "/etc"
#endif

static void help(void)
{
	printf("Usage: memoffd [OPTIONS]\n"
	       "\n"
	       "The memory hot-remove daemon: offline, online and release jobs over D-Bus,\n"
	       "and the hotplug policy for memory that appears.\n"
	       "\n"
	       "Options:\n"
	       "  -c, --config FILE      configuration file (default %s/" MO_CONFIG_FILE ");\n"
	       "                         drop-ins are read from FILE.d/*.conf (and for the\n"
	       "                         default file from " MO_CONFIG_DROPIN_RUNTIME " and\n"
	       "                         " MO_CONFIG_DROPIN_VENDOR ")\n"
	       "      --check-config     check the configuration, print every problem and exit\n"
	       "                         non-zero on any problem or a missing file\n"
	       "      --runtime-dir DIR  where the control socket lives (default $RUNTIME_DIRECTORY\n"
	       "                         or " MO_RUNTIME_DIR_DEFAULT ")\n"
	       "      --state-dir DIR    where the job state file lives (default $STATE_DIRECTORY\n"
	       "                         or " MO_STATE_DIR_DEFAULT ")\n"
	       "      --sysroot DIR      read and write DIR/sys instead of /sys (tests)\n"
	       "      --procroot DIR     read DIR/proc instead of SYSROOT/proc\n"
	       "      --no-system-bus    serve on the control socket only\n"
	       "      --monitor          watch memory uevents even with --sysroot\n"
	       "      --no-monitor       do not watch memory uevents\n"
	       "  -v, --verbose          log debug messages too\n"
	       "  -h, --help             show this help\n"
	       "  -V, --version          show the version\n",
	       MEMOFF_SYSCONFDIR);
}

/* $RUNTIME_DIRECTORY and $STATE_DIRECTORY may list several directories, ':'-separated. */
static char *first_dir(const char *env, const char *fallback)
{
	const char *v = getenv(env);

	if (!v || !*v)
		return strdup(fallback);
	return strndup(v, strcspn(v, ":"));
}

int main(int argc, char *argv[])
{
	enum { ARG_CHECK = 0x100, ARG_RUNTIME, ARG_STATE, ARG_SYSROOT, ARG_PROCROOT, ARG_NO_SYSTEM_BUS,
	       ARG_MONITOR, ARG_NO_MONITOR };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, ARG_CHECK },
		{ "runtime-dir", required_argument, NULL, ARG_RUNTIME },
		{ "state-dir", required_argument, NULL, ARG_STATE },
		{ "sysroot", required_argument, NULL, ARG_SYSROOT },
		{ "procroot", required_argument, NULL, ARG_PROCROOT },
		{ "no-system-bus", no_argument, NULL, ARG_NO_SYSTEM_BUS },
		{ "monitor", no_argument, NULL, ARG_MONITOR },
		{ "no-monitor", no_argument, NULL, ARG_NO_MONITOR },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{}
	};
	_cleanup_free_ char *config = NULL, *runtime_dir = NULL, *state_dir = NULL;
	_cleanup_(manager_freep) struct manager *m = NULL;
	struct manager_options o = { .system_bus = true };
	bool check = false;
	int monitor = -1;   /* -1: when the root is the live sysfs */
	int c, r;

	/* $MEMOFF_LOG_LEVEL, $MEMOFF_LOG_TARGET; -v overrides the level */
	mo_log_parse_environment();
	while ((c = getopt_long(argc, argv, "c:vhV", longopts, NULL)) >= 0) {
		switch (c) {
		case 'c':
			free(config);
			config = strdup(optarg);
			break;
		case ARG_CHECK:
			check = true;
			break;
		case ARG_RUNTIME:
			free(runtime_dir);
			runtime_dir = strdup(optarg);
			break;
		case ARG_STATE:
			free(state_dir);
			state_dir = strdup(optarg);
			break;
		case ARG_SYSROOT:
			o.sysroot = optarg;
			break;
		case ARG_PROCROOT:
			o.procroot = optarg;
			break;
		case ARG_NO_SYSTEM_BUS:
			o.system_bus = false;
			break;
		case ARG_MONITOR:
			monitor = 1;
			break;
		case ARG_NO_MONITOR:
			monitor = 0;
			break;
		case 'v':
			mo_log_set_max_level(LOG_DEBUG);
			break;
		case 'h':
			help();
			return 0;
		case 'V':
			printf("memoffd %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'memoffd --help'.\n");
			return 2;
		}
	}
	if (optind < argc) {
		_cleanup_free_ char *arg = mo_escape_cntrl_dup(argv[optind], false);

		fprintf(stderr, "memoffd: unexpected argument '%s'\nTry 'memoffd --help'.\n", strempty(arg));
		return 2;
	}
	if (!config && asprintf(&config, "%s/" MO_CONFIG_FILE, MEMOFF_SYSCONFDIR) < 0)
		config = NULL;
	if (!runtime_dir)
		runtime_dir = first_dir("RUNTIME_DIRECTORY", MO_RUNTIME_DIR_DEFAULT);
	if (!state_dir)
		state_dir = first_dir("STATE_DIRECTORY", MO_STATE_DIR_DEFAULT);
	if (!config || !runtime_dir || !state_dir) {
		fprintf(stderr, "memoffd: out of memory\n");
		return 1;
	}

	if (check) {
		_cleanup_free_ char *errors = NULL;
		struct mo_config cfg;
		bool missing;

		/* Strict where the daemon is lenient: any problem, or no file at all, fails the check. */
		missing = access(config, F_OK) < 0 && errno == ENOENT;
		if (missing)
			fprintf(stderr, "%s: no such file\n", config);
		r = mo_config_load(config, NULL, &cfg, &errors);
		mo_config_done(&cfg);
		if (errors)
			fputs(errors, stderr);
		if (r < 0) {
			fprintf(stderr, "memoffd: %s\n", strerror(-r));
			return 1;
		}
		if (r > 0 || missing) {
			if (r > 0)
				fprintf(stderr, "%s: %d problem%s (memoffd would ignore %s and start)\n", config, r,
					r == 1 ? "" : "s", r == 1 ? "it" : "them");
			return 1;
		}
		printf("%s: OK\n", config);
		return 0;
	}

	o.config_path = config;
	o.runtime_dir = runtime_dir;
	o.state_dir = state_dir;
	/* A captured tree is not the kernel whose uevents we would see. */
	o.monitor = monitor < 0 ? !o.sysroot || streq(o.sysroot, "/") : monitor;
	r = manager_new(&o, &m);
	if (r < 0)
		return 1;
	r = manager_run(m);
	return r < 0 ? 1 : 0;
}
