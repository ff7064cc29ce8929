/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon client: see client.h.
 */
#include "config.h"

#include <inttypes.h>
#include <libsmartcols.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "client.h"
#include "escape.h"
#include "format.h"
#include "json.h"
#include "pins-json.h"
#include "pins-json-read.h"
#include "parse.h"
#include "pinsout.h"

#include "runner.h"

#define BUS_NAME  MO_BUS_NAME
#define BUS_PATH  MO_BUS_PATH
#define BUS_IFACE MO_BUS_INTERFACE
#define JOB_IFACE MO_BUS_JOB_IFACE

bool ctl_client_wanted(const struct ctl_ctx *ctx)
{
	if (ctx->direct)
		return false;
	if (ctx->sysroot && *ctx->sysroot && !streq(ctx->sysroot, "/"))
		return getenv(CTL_SOCKET_ENV) != NULL;
	return true;
}

int ctl_client_require(sd_bus **ret)
{
	const char *socket = getenv(CTL_SOCKET_ENV);
	int r = ctl_client_open(ret);

	if (r < 0)
		return ctl_error_errno(r, "memoffd is not running (%s)", socket && *socket ? socket : CTL_SOCKET_DEFAULT);
	return -1;
}

int ctl_client_verb(struct ctl_ctx *ctx, int argc, char *argv[], bool *json, sd_bus **ret)
{
	int ex = ctl_parse_json_only(ctx, argc, argv, json);

	return ex >= 0 ? ex : ctl_client_require(ret);
}

int ctl_client_open(sd_bus **ret)
{
	const char *path = getenv(CTL_SOCKET_ENV);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	sd_bus *bus = NULL;
	int fd, r;

	if (!path || !*path)
		path = CTL_SOCKET_DEFAULT;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
		r = -errno;
		close(fd);
		/* A socket nobody may open is as good as no daemon for a fallback. */
		return r == -EACCES ? -ECONNREFUSED : r;
	}
	r = sd_bus_new(&bus);
	if (r < 0) {
		close(fd);
		return r;
	}
	r = sd_bus_set_fd(bus, fd, fd);
	if (r < 0) {
		close(fd);
		sd_bus_unref(bus);
		return r;
	}
	r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

void ctl_job_info_done(struct ctl_job_info *j)
{
	free(j->path);
	free(j->kind);
	free(j->state);
	free(j->result);
	free(j->request);
	free(j->message);
	free(j->progress);
	for (size_t i = 0; i < j->n_blocks; i++) {
		free(j->blocks[i].outcome);
		free(j->blocks[i].reason);
	}
	free(j->blocks);
	mo_pin_reports_free(j->blocked, j->n_blocked);
	*j = (struct ctl_job_info) {};
}

static int read_string_variant(sd_bus_message *m, char **field)
{
	const char *s;
	int r = sd_bus_message_read(m, "v", "s", &s);

	if (r < 0)
		return r;
	free(*field);
	*field = strdup(s);
	return *field ? 0 : -ENOMEM;
}

static int read_results(sd_bus_message *m, struct ctl_job_info *j)
{
	int r;

	r = sd_bus_message_enter_container(m, 'v', "a(tsuts)");
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'a', "(tsuts)");
	if (r < 0)
		return r;
	for (;;) {
		struct ctl_job_block b = {}, *nb;
		const char *outcome, *reason;
		uint32_t attempts;

		r = sd_bus_message_read(m, "(tsuts)", &b.index, &outcome, &attempts, &b.usec, &reason);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		nb = realloc(j->blocks, (j->n_blocks + 1) * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		j->blocks = nb;
		b.attempts = attempts;
		b.outcome = strdup(outcome);
		b.reason = strdup(reason);
		j->blocks[j->n_blocks++] = b;
	}
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

int ctl_client_get_job(sd_bus *bus, const char *path, struct ctl_job_info *ret)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	struct ctl_job_info j = {};
	int r;

	r = sd_bus_call_method(bus, BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll", &e, &reply,
			       "s", JOB_IFACE);
	if (r < 0)
		return r;
	j.path = strdup(path);
	j.current_block = -1;
	r = sd_bus_message_enter_container(reply, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
		const char *key;
		uint32_t u;

		r = sd_bus_message_read(reply, "s", &key);
		if (r < 0)
			break;
		if (streq(key, "Id")) {
			r = sd_bus_message_read(reply, "v", "u", &u);
			j.id = u;
		} else if (streq(key, "Kind"))
			r = read_string_variant(reply, &j.kind);
		else if (streq(key, "State"))
			r = read_string_variant(reply, &j.state);
		else if (streq(key, "Result"))
			r = read_string_variant(reply, &j.result);
		else if (streq(key, "Request"))
			r = read_string_variant(reply, &j.request);
		else if (streq(key, "Message"))
			r = read_string_variant(reply, &j.message);
		else if (streq(key, "Progress"))
			r = read_string_variant(reply, &j.progress);
		else if (streq(key, "BlocksDone"))
			r = sd_bus_message_read(reply, "v", "t", &j.blocks_done);
		else if (streq(key, "BlocksWanted"))
			r = sd_bus_message_read(reply, "v", "t", &j.blocks_wanted);
		else if (streq(key, "BytesDone"))
			r = sd_bus_message_read(reply, "v", "t", &j.bytes_done);
		else if (streq(key, "BytesWanted"))
			r = sd_bus_message_read(reply, "v", "t", &j.bytes_wanted);
		else if (streq(key, "CurrentBlock"))
			r = sd_bus_message_read(reply, "v", "x", &j.current_block);
		else if (streq(key, "Results"))
			r = read_results(reply, &j);
		else if (streq(key, "BlockedPages")) {
			const char *doc;

			r = sd_bus_message_read(reply, "v", "s", &doc);
			if (r >= 0) {
				mo_pin_reports_free(j.blocked, j.n_blocked);
				j.blocked = NULL;
				j.n_blocked = 0;
				r = pins_json_read(doc, &j.blocked, &j.n_blocked);
			}
		}
		else
			r = sd_bus_message_skip(reply, "v");
		if (r < 0)
			break;
		r = sd_bus_message_exit_container(reply);
	}
	if (r < 0) {
		ctl_job_info_done(&j);
		return r;
	}
	*ret = j;
	return 0;
}

/* ---- following a job ---- */

int ctl_client_wait(sd_bus *bus, const char *path, struct ctl_progress *progress, bool cancel_on_signal,
		    struct ctl_job_info *ret)
{
	bool cancelled = false;
	int r;

	if (cancel_on_signal)
		ctl_runner_signals();
	for (;;) {
		struct ctl_job_info j;

		/* Drain what arrived (PropertiesChanged wakes us), then look. */
		while ((r = sd_bus_process(bus, NULL)) > 0)
			;
		if (r < 0)
			break;
		r = ctl_client_get_job(bus, path, &j);
		if (r < 0)
			break;
		if (streq(strempty(j.state), "finished")) {
			*ret = j;
			r = 0;
			break;
		}
		/* what the job is doing, in the words of a job run here (progress-text.h), once it says */
		if (progress && streq(strempty(j.state), "queued"))
			ctl_progress_draw(progress, j.bytes_done, j.bytes_wanted, j.blocks_done, j.blocks_wanted, "queued");
		else if (progress && j.progress && *j.progress)
			ctl_progress_draw(progress, j.bytes_done, j.bytes_wanted, j.blocks_done, j.blocks_wanted,
					  j.progress);
		ctl_job_info_done(&j);
		if (cancel_on_signal && ctl_cancel_requested && !cancelled) {
			_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

			cancelled = true;
			if (progress)
				ctl_progress_clear(progress);
			fprintf(stderr, "memoffctl: cancelling %s (the running attempt ends within its timeout)\n", path);
			(void) sd_bus_call_method(bus, BUS_NAME, path, JOB_IFACE, "Cancel", &e, NULL, NULL);
		}
		r = sd_bus_wait(bus, 1000000);
		if (r < 0 && r != -EINTR)
			break;
	}
	if (progress)
		ctl_progress_clear(progress);
	return r;
}

int ctl_client_get_report(sd_bus *bus, const char *path, char **ret)
{
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;

	return sd_bus_get_property_string(bus, BUS_NAME, path, JOB_IFACE, "Report", &e, ret);
}

int ctl_job_exit_code(const struct ctl_job_info *j)
{
	const char *res = strempty(j->result);

	if (streq(res, "done"))
		return CTL_EXIT_OK;
	if (streq(res, "partial"))
		return CTL_EXIT_PARTIAL;
	if ((streq(res, "cancelled") || streq(res, "interrupted")) && j->blocks_done > 0)
		return CTL_EXIT_PARTIAL;
	return CTL_EXIT_FAILED;
}

/* The BlockedPages report of @block, or NULL. */
static const struct mo_pin_report *blocked_of(const struct ctl_job_info *j, uint64_t block)
{
	for (size_t i = 0; i < j->n_blocked; i++)
		if (j->blocked[i]->block == block)
			return j->blocked[i];
	return NULL;
}

void ctl_job_print(FILE *out, const struct ctl_job_info *j, bool json)
{
	char buf[MO_DURATION_MAX], a[MO_FORMAT_SIZE_MAX], b[MO_FORMAT_SIZE_MAX];
	const struct mo_pin_report *rep;

	if (json) {
		struct mo_json js;

		mo_json_init(&js, out);
		mo_json_begin_object(&js, NULL);
		mo_json_u64(&js, "job", j->id);
		mo_json_string(&js, "kind", j->kind);
		mo_json_string(&js, "request", j->request);
		mo_json_string(&js, "result", j->result);
		mo_json_string(&js, "message", j->message);
		mo_json_u64(&js, "blocks_done", j->blocks_done);
		mo_json_u64(&js, "blocks_wanted", j->blocks_wanted);
		mo_json_u64(&js, "bytes_done", j->bytes_done);
		mo_json_u64(&js, "bytes_wanted", j->bytes_wanted);
		mo_json_begin_array(&js, "blocks");
		for (size_t i = 0; i < j->n_blocks; i++) {
			const struct ctl_job_block *bl = &j->blocks[i];

			mo_json_begin_object(&js, NULL);
			mo_json_u64(&js, "block", bl->index);
			mo_json_string(&js, "outcome", bl->outcome);
			mo_json_u64(&js, "attempts", bl->attempts);
			mo_json_usec(&js, "seconds", bl->usec);
			mo_json_string(&js, "reason", bl->reason);
			if ((rep = blocked_of(j, bl->index)))
				pinsout_json(&js, "blocked_pages", rep);
			else
				mo_json_null(&js, "blocked_pages");
			mo_json_end_object(&js);
		}
		mo_json_end_array(&js);
		mo_json_end_object(&js);
		return;
	}
	if (j->n_blocks) {
		static const char *const cols[] = { ">BLOCK", "OUTCOME", ">ATTEMPTS", ">TIME", "REASON" };
		struct libscols_table *tb = ctl_table_new(out, cols, ARRAY_SIZE(cols));

		for (size_t i = 0; tb && i < j->n_blocks; i++) {
			const struct ctl_job_block *bl = &j->blocks[i];
			char index[24], attempts[16];
			const char *cells[] = { index, bl->outcome, attempts, ctl_usec_str(bl->usec, buf), bl->reason };

			snprintf(index, sizeof(index), "%" PRIu64, bl->index);
			snprintf(attempts, sizeof(attempts), "%u", bl->attempts);
			(void) ctl_table_add(tb, cells, ARRAY_SIZE(cells));
		}
		if (tb) {
			scols_print_table(tb);
			scols_unref_table(tb);
		}
	}
	mo_escape_fprintf(out, "job %u (%s): %s: %s\n", j->id, strempty(j->request), strempty(j->result),
			  j->message && *j->message ? j->message :
			  (snprintf(buf, sizeof(buf), "%s of %s", mo_format_size(j->bytes_done, a),
				    mo_format_size(j->bytes_wanted, b)), buf));
	/* as memoffctl offline prints them in-process */
	(void) mo_pin_summary_print(out, j->blocked, j->n_blocked);
	pinsout_notes(out, j->blocked, j->n_blocked, true);
}

int ctl_client_error(const sd_bus_error *e, int r, const char *what)
{
	const char *name = e && e->name ? e->name : "";

	if (e && e->message)
		ctl_error("%s", e->message);
	else
		ctl_error_errno(r, "%s", what);
	if (streq(name, MO_ERROR_INVALID_ARGUMENT))
		return CTL_EXIT_USAGE;
	return CTL_EXIT_FAILED;
}

static int append_option(sd_bus_message *m, const char *key, const char *type, ...)
{
	va_list ap;
	int r;

	r = sd_bus_message_open_container(m, 'e', "sv");
	if (r < 0)
		return r;
	r = sd_bus_message_append(m, "s", key);
	if (r < 0)
		return r;
	r = sd_bus_message_open_container(m, 'v', type);
	if (r < 0)
		return r;
	va_start(ap, type);
	r = sd_bus_message_appendv(m, type, ap);
	va_end(ap);
	if (r < 0)
		return r;
	r = sd_bus_message_close_container(m);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(m);
}

int ctl_client_start_job(sd_bus *bus, const struct ctl_client_request *req, char **ret_path, int *exit_code)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *path;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, BUS_PATH, BUS_IFACE,
					   req->release ? "Release" : req->offline ? "Offline" : "Online");
	if (r >= 0 && req->release)
		r = sd_bus_message_append(m, "s", req->what);
	else if (r >= 0)
		r = sd_bus_message_append(m, "ss", req->by, req->what);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0 && req->zone)
		r = append_option(m, "zone", "s", req->zone);
	if (r >= 0 && req->node >= 0)
		r = append_option(m, "node", "i", (int32_t) req->node);
	if (r >= 0 && req->attempt_timeout_usec)
		r = append_option(m, "attempt-timeout", "t", req->attempt_timeout_usec);
	if (r >= 0 && req->deadline_usec)
		r = append_option(m, "deadline", "t", req->deadline_usec);
	if (r >= 0 && req->eject_timeout_usec)
		r = append_option(m, "eject-timeout", "t", req->eject_timeout_usec);
	if (r >= 0 && req->reserve != UINT64_MAX)
		r = append_option(m, "reserve", "t", req->reserve);
	if (r >= 0 && req->max_attempts >= 0)
		r = append_option(m, "max-attempts", "u", (uint32_t) req->max_attempts);
	if (r >= 0 && req->long_lived_usec)
		r = append_option(m, "long-lived", "t", req->long_lived_usec);
	if (r >= 0 && req->stall_grace_usec != UINT64_MAX)
		r = append_option(m, "stall-grace", "t", req->stall_grace_usec);
	if (r >= 0 && req->all_or_nothing)
		r = append_option(m, "all-or-nothing", "b", 1);
	if (r >= 0 && req->force)
		r = append_option(m, "force", "b", 1);
	if (r >= 0 && req->dry_run)
		r = append_option(m, "dry-run", "b", 1);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r < 0) {
		*exit_code = ctl_error_errno(r, "cannot build the request");
		return -1;
	}
	r = sd_bus_call(bus, m, 0, &e, &reply);
	if (r < 0) {
		*exit_code = ctl_client_error(&e, r, req->what);
		return -1;
	}
	r = sd_bus_message_read(reply, "o", &path);
	if (r >= 0 && !(*ret_path = strdup(path)))
		r = -ENOMEM;
	if (r < 0) {
		*exit_code = ctl_error_errno(r, "cannot read memoffd's reply");
		return -1;
	}
	return 0;
}

int ctl_client_pins(const char *by, const char *what, bool kmsg, struct mo_pin_report ***ret, size_t *n,
		    int *exit_code)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
	_cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus *bus = NULL;
	int r;

	*exit_code = CTL_EXIT_OK;
	r = ctl_client_open(&bus);
	if (r < 0)
		return r;
	r = sd_bus_message_new_method_call(bus, &m, BUS_NAME, BUS_PATH, BUS_IFACE, "GetPins");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", by, what);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "{sv}");
	if (r >= 0 && !kmsg)
		r = append_option(m, "kmsg", "b", 0);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	/* longer than sd-bus's 25 s: reading every process's page map took 29 s beside a QEMU guest */
	if (r >= 0)
		r = sd_bus_call(bus, m, UINT64_C(600) * 1000000, &e, &reply);
	if (r < 0 && sd_bus_error_has_name(&e, MO_ERROR_ACCESS_DENIED))
		r = -EACCES;
	else if (r < 0 && sd_bus_error_is_set(&e)) {
		*exit_code = ctl_client_error(&e, r, what);
		r = 0;
	} else if (r >= 0) {
		const char *doc;

		r = sd_bus_message_read(reply, "s", &doc);
		if (r >= 0)
			r = pins_json_read(doc, ret, n);
	}
	sd_bus_flush_close_unref(bus);
	return r;
}
