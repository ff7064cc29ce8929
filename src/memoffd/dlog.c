/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dlog.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

static int max_level = LOG_INFO;

void dlog_set_max_level(int prio)
{
	max_level = prio;
}

int dlog_errno(int prio, int error, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	if (error < 0)
		error = -error;
	if (prio > max_level)
		return -error;
	errno = error;       /* for %m */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (getenv("JOURNAL_STREAM"))
		fprintf(stderr, "<%d>%s\n", prio, msg);
	else
		fprintf(stderr, "memoffd: %s\n", msg);
	errno = saved;
	return -error;
}
