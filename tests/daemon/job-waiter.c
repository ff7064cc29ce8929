/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The race-free way to follow memoffd's jobs (doc/cloud.md), as a test:
 * subscribe to JobRemoved (and Job1.Finished) first, then call, then wait
 * for the JobRemoved of the job the call returned.
 *
 *   job-waiter SOCKET COUNT BY OFFLINE-WHAT ONLINE-WHAT
 *
 * alternates COUNT calls of Offline(BY, OFFLINE-WHAT) and Online(BY,
 * ONLINE-WHAT), e.g. "blocks" "9" "9", and prints,
 * per job, "job ID RESULT finished-first=yes|no"; then, after every job
 * ended, waits a second more and prints "removed-again ID" for every
 * JobRemoved that came again for a job already seen (eviction must be
 * silent). Exit 0 when every job's JobRemoved came within 30 s.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 256

struct seen {
	unsigned removed[MAX_JOBS];          /* JobRemoved per job id */
	char result[MAX_JOBS][32];
	bool finished[MAX_JOBS];             /* Job1.Finished came */
	bool finished_first[MAX_JOBS];
};

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

static int on_removed(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct seen *s = userdata;
	const char *path, *result;
	uint32_t id;

	if (sd_bus_message_read(m, "uos", &id, &path, &result) < 0 || id >= MAX_JOBS)
		return 0;
	if (s->removed[id]++ == 0) {
		snprintf(s->result[id], sizeof(s->result[id]), "%s", result);
		s->finished_first[id] = s->finished[id];
	} else
		printf("removed-again %u\n", id);
	return 0;
}

static int on_finished(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	struct seen *s = userdata;
	const char *path = sd_bus_message_get_path(m), *slash = path ? strrchr(path, '/') : NULL;
	unsigned long id = slash ? strtoul(slash + 1, NULL, 10) : MAX_JOBS;

	if (id < MAX_JOBS)
		s->finished[id] = true;
	return 0;
}

/* Peer to peer on memoffd's control socket, as memoffctl does (no broker). */
static int connect_to(const char *path, sd_bus **ret)
{
	sd_bus *bus = NULL;
	char *address = NULL;
	int r;

	if (asprintf(&address, "unix:path=%s", path) < 0)
		return -ENOMEM;
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_start(bus);
	free(address);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

/* Process messages until @id's JobRemoved came or @until passed. */
static int wait_removed(sd_bus *bus, struct seen *s, unsigned id, uint64_t until)
{
	for (;;) {
		int r = sd_bus_process(bus, NULL);
		uint64_t t;

		if (r < 0)
			return r;
		if (id < MAX_JOBS && s->removed[id])
			return 1;
		if (r > 0)
			continue;
		t = now_usec();
		if (t >= until)
			return 0;
		r = sd_bus_wait(bus, until - t);
		if (r < 0 && r != -EINTR)
			return r;
	}
}

int main(int argc, char *argv[])
{
	static struct seen s;
	sd_bus *bus = NULL;
	int count, r, failed = 0;

	if (argc != 6) {
		fprintf(stderr, "usage: job-waiter SOCKET COUNT BY OFFLINE-WHAT ONLINE-WHAT\n");
		return 2;
	}
	count = atoi(argv[2]);
	r = connect_to(argv[1], &bus);
	if (r < 0) {
		fprintf(stderr, "job-waiter: cannot connect to %s: %s\n", argv[1], strerror(-r));
		return 1;
	}
	/* 1. subscribe */
	r = sd_bus_match_signal(bus, NULL, NULL, "/org/memoff/Manager1", "org.memoff.Manager1", "JobRemoved",
				on_removed, &s);
	if (r >= 0)
		r = sd_bus_match_signal(bus, NULL, NULL, NULL, "org.memoff.Job1", "Finished", on_finished, &s);
	if (r < 0) {
		fprintf(stderr, "job-waiter: cannot subscribe: %s\n", strerror(-r));
		return 1;
	}
	for (int i = 0; i < count; i++) {
		sd_bus_error e = SD_BUS_ERROR_NULL;
		sd_bus_message *reply = NULL;
		const char *path, *slash;
		unsigned id;

		/* 2. call */
		r = sd_bus_call_method(bus, "org.memoff.Manager1", "/org/memoff/Manager1", "org.memoff.Manager1",
				       i % 2 ? "Online" : "Offline", &e, &reply, "ssa{sv}", argv[3],
				       i % 2 ? argv[5] : argv[4], 0);
		if (r < 0 || sd_bus_message_read(reply, "o", &path) < 0 || !(slash = strrchr(path, '/'))) {
			fprintf(stderr, "job-waiter: call %d failed: %s\n", i, e.message ? e.message : strerror(-r));
			return 1;
		}
		id = (unsigned) strtoul(slash + 1, NULL, 10);
		sd_bus_message_unref(reply);
		sd_bus_error_free(&e);
		/* 3. wait: the signal cannot have been missed, even when the job ended before the reply */
		r = wait_removed(bus, &s, id, now_usec() + 30 * 1000000ULL);
		if (r <= 0) {
			printf("job %u no-JobRemoved\n", id);
			failed = 1;
			continue;
		}
		printf("job %u %s finished-first=%s\n", id, s.result[id], s.finished_first[id] ? "yes" : "no");
	}
	/* eviction of the oldest finished jobs must not send JobRemoved again */
	(void) wait_removed(bus, &s, MAX_JOBS, now_usec() + 1000000ULL);
	fflush(stdout);
	sd_bus_flush_close_unref(bus);
	return failed;
}
