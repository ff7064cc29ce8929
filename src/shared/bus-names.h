/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The names of memoffd's D-Bus API (doc/org.memoff.Manager1.md), shared by
 * the daemon that serves it and memoffctl that calls it: the bus name, the
 * object paths and interfaces, the error names, and the private socket.
 */

#define MO_BUS_NAME        "org.memoff.Manager1"
#define MO_BUS_PATH        "/org/memoff/Manager1"
#define MO_BUS_INTERFACE   "org.memoff.Manager1"
#define MO_BUS_JOB_PREFIX  "/org/memoff/job"
#define MO_BUS_JOB_IFACE   "org.memoff.Job1"

/* The private peer-to-peer socket, and the variable that names another. */
#define MO_SOCKET_DEFAULT  "/run/memoff/control"
#define MO_SOCKET_ENV      "MEMOFF_SOCKET"

/* memoffd's state directory (memoffctl reads its pin store there), and the variable that names another. */
#define MO_STATE_DIR_DEFAULT "/var/lib/memoff"
#define MO_STATE_DIR_ENV     "MEMOFF_STATE_DIRECTORY"

/* Errors (the D-Bus error names clients see) */
#define MO_ERROR_INVALID_ARGUMENT "org.memoff.Error.InvalidArgument"
#define MO_ERROR_ACCESS_DENIED    "org.memoff.Error.AccessDenied"
#define MO_ERROR_OVERLAP          "org.memoff.Error.Overlap"
#define MO_ERROR_NO_SUCH_JOB      "org.memoff.Error.NoSuchJob"
#define MO_ERROR_NO_SUCH_BLOCK    "org.memoff.Error.NoSuchBlock"
#define MO_ERROR_JOB_FINISHED     "org.memoff.Error.JobFinished"
#define MO_ERROR_SHUTTING_DOWN    "org.memoff.Error.ShuttingDown"
#define MO_ERROR_CONFIG           "org.memoff.Error.Config"
#define MO_ERROR_FAILED           "org.memoff.Error.Failed"
#define MO_ERROR_BUSY             "org.memoff.Error.Busy"
