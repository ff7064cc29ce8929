/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffd's D-Bus service (bus.h): setup, the private socket and its
 * connections, the bus driver emulated on them, and signals emitted to every
 * connection. The objects are in bus-manager.c and bus-job.c, the access
 * check in bus-access.c.
 */
#include "bus-cloud.h"
#include "bus-internal.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <inttypes.h>

#include "log.h"
#include "attempt.h"
#include "manager.h"
#include "relay.h"
#include "util.h"

char *bus_job_path(unsigned id, char *buf, size_t len)
{
	snprintf(buf, len, MO_BUS_JOB_PREFIX "/%u", id);
	return buf;
}

/* ---- the emulated bus driver ---- */

/*
 * A peer-to-peer connection has no bus driver, but clients written for a bus
 * (busctl --address=..., any sd-bus client that is a "bus client") start with
 * Hello and add matches for signals. Answer the few driver calls they make:
 * the connection behaves like a bus on which memoffd is the only peer.
 */
int bus_append_array(sd_bus_message *m, const char *contents, size_t n,
		     int (*append)(sd_bus_message *m, size_t i, void *userdata), void *userdata)
{
	int r = sd_bus_message_open_container(m, 'a', contents);

	for (size_t i = 0; r >= 0 && i < n; i++)
		r = append(m, i, userdata);
	if (r < 0)
		return r;
	return sd_bus_message_close_container(m);
}

int bus_reply_array(sd_bus_message *msg, const char *contents, size_t n,
		    int (*append)(sd_bus_message *m, size_t i, void *userdata), void *userdata)
{
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	int r;

	r = sd_bus_message_new_method_return(msg, &reply);
	if (r < 0)
		return r;
	r = bus_append_array(reply, contents, n, append, userdata);
	if (r < 0)
		return r;
	return sd_bus_send(NULL, reply, NULL);
}

struct conn *bus_find_conn(struct bus_state *s, sd_bus *bus)
{
	for (struct conn *c = s->conns; c; c = c->next)
		if (c->bus == bus)
			return c;
	return NULL;
}

static int driver_hello(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	static unsigned counter;
	struct conn *c;
	char name[32];
	int r;

	snprintf(name, sizeof(name), ":1.%u", ++counter);
	r = sd_bus_reply_method_return(msg, "s", name);
	/* Signals only after the answer: a bus client takes anything else first as a protocol error. */
	c = bus_find_conn(m->bus, sd_bus_message_get_bus(msg));
	if (c)
		c->ready = true;
	return r;
}

static int driver_ok(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	return sd_bus_reply_method_return(msg, NULL);
}

static int driver_get_name_owner(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	const char *name;
	int r;

	r = sd_bus_message_read(msg, "s", &name);
	if (r < 0)
		return r;
	if (!streq(name, MO_BUS_NAME) && !streq(name, "org.freedesktop.DBus"))
		return sd_bus_error_setf(error, "org.freedesktop.DBus.Error.NameHasNoOwner",
					 "only %s is here", MO_BUS_NAME);
	return sd_bus_reply_method_return(msg, "s", streq(name, MO_BUS_NAME) ? ":1.0" : name);
}

static int driver_get_id(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	char id[SD_ID128_STRING_MAX];

	return sd_bus_reply_method_return(msg, "s", sd_id128_to_string(m->bus->server_id, id));
}

static const sd_bus_vtable driver_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("Hello", NULL, "s", driver_hello, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("AddMatch", "s", NULL, driver_ok, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("RemoveMatch", "s", NULL, driver_ok, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetNameOwner", "s", "s", driver_get_name_owner, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD("GetId", NULL, "s", driver_get_id, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

static int attach_objects(struct manager *m, sd_bus *bus)
{
	int r;

	r = bus_manager_add_objects(m, bus);
	if (r < 0)
		return r;
	r = bus_cloud_add_objects(m, bus);
	if (r < 0)
		return r;
	return bus_job_add_objects(m, bus);
}

/* ---- emitting to every connection ---- */

size_t bus_all_buses(struct bus_state *s, sd_bus **out)
{
	size_t n = 0;

	if (s->system)
		out[n++] = s->system;
	for (struct conn *c = s->conns; c && n < MO_BUS_MAX_CONNECTIONS + 1; c = c->next)
		if (c->ready && !c->dead)
			out[n++] = c->bus;
	return n;
}

void bus_job_new(struct manager *m, struct job *j)
{
	char p[64];

	if (!m->bus)
		return;
	bus_job_path(job_id(j), p, sizeof(p));
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_signal(b, MO_BUS_PATH, MO_BUS_INTERFACE, "JobNew", "uo", job_id(j), p);
}

void bus_job_changed(struct manager *m, struct job *j, unsigned what)
{
	const char *names[16];
	size_t n = 0;
	char p[64];

	if (!m->bus)
		return;
	if (what & JOB_CHANGED_STATE) {
		names[n++] = "State";
		names[n++] = "Result";
		names[n++] = "Message";
		names[n++] = "Report";
		names[n++] = "StartedAt";
		names[n++] = "FinishedAt";
	}
	if (what & (JOB_CHANGED_PROGRESS | JOB_CHANGED_STATE)) {
		names[n++] = "BlocksDone";
		names[n++] = "BlocksWanted";
		names[n++] = "BytesDone";
		names[n++] = "BytesWanted";
		names[n++] = "CurrentBlock";
		names[n++] = "Progress";
	}
	if (what & JOB_CHANGED_BLOCKS)
		names[n++] = "Results";
	if (what & JOB_CHANGED_CLAIMS)
		names[n++] = "Blocks";
	if (what & JOB_CHANGED_BLOCKED)
		names[n++] = "BlockedPages";
	names[n] = NULL;
	if (!n)
		return;
	bus_job_path(job_id(j), p, sizeof(p));
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_properties_changed_strv(b, p, MO_BUS_JOB_IFACE, (char **) names);
	if (what & JOB_CHANGED_STATE)
		bus_manager_changed(m, "CurrentJob");
}

/*
 * Job1.Finished on the job, then Manager1.JobRemoved, as systemd1 does: the
 * job is over, with its result. memoffd keeps the last finished jobs for
 * ListJobs and GetJob a while longer and forgets them silently.
 */
void bus_job_finished(struct manager *m, struct job *j)
{
	const struct job_record *rec = job_record(j);
	char p[64];

	if (!m->bus)
		return;
	bus_job_path(rec->id, p, sizeof(p));
	FOREACH_BUS(m->bus, b) {
		(void) sd_bus_emit_signal(b, p, MO_BUS_JOB_IFACE, "Finished", "ss",
					  job_result_to_string(rec->result), strempty(rec->message));
		(void) sd_bus_emit_signal(b, MO_BUS_PATH, MO_BUS_INTERFACE, "JobRemoved", "uos", rec->id, p,
					  job_result_to_string(rec->result));
	}
}

void bus_manager_changed(struct manager *m, const char *property)
{
	if (!m->bus)
		return;
	FOREACH_BUS(m->bus, b)
		(void) sd_bus_emit_properties_changed(b, MO_BUS_PATH, MO_BUS_INTERFACE, property, NULL);
}

/* ---- connections ---- */

static void conn_free(struct conn *c)
{
	/* No flush: a peer that does not read would keep us waiting for ever. */
	sd_bus_close_unref(c->bus);
	relay_free(c->relay);
	free(c->groups);
	free(c);
}

static void drop_conn(struct manager *m, sd_bus *bus)
{
	struct bus_state *s = m->bus;

	for (struct conn **pc = &s->conns; *pc; pc = &(*pc)->next) {
		struct conn *c = *pc;

		if (c->bus != bus)
			continue;
		*pc = c->next;
		s->n_conns--;
		conn_free(c);
		return;
	}
}

/*
 * A warning a caller can trigger (a refused connection, a connection closed
 * for what it holds): at most 5 a minute for each uid, then one line saying
 * how many were held back. Return: whether to log now; @suppressed the count.
 */
static bool uid_log_below(struct bus_state *s, uid_t uid, unsigned *suppressed)
{
	uint64_t now = mo_monotonic_usec();
	struct uid_log *slot = NULL, *lru = &s->uid_log[0];

	for (size_t i = 0; i < MO_BUS_LOG_UIDS; i++) {
		struct uid_log *u = &s->uid_log[i];

		if (u->used && u->uid == uid) {
			slot = u;
			break;
		}
		if (!u->used || (lru->used && u->last < lru->last))
			lru = u;
	}
	if (!slot) {
		slot = lru;
		*slot = (struct uid_log) {
			.uid = uid, .used = true, .rl = MO_RATELIMIT_INIT(60 * UINT64_C(1000000), 5),
		};
	}
	slot->last = now;
	return mo_ratelimit_below(&slot->rl, now, suppressed);
}

static int sweep(sd_event_source *src, void *userdata)
{
	struct manager *m = userdata;
	struct bus_state *s = m->bus;

	for (struct conn **pc = &s->conns; *pc;) {
		struct conn *c = *pc;

		if (!c->dead) {
			pc = &c->next;
			continue;
		}
		*pc = c->next;
		s->n_conns--;
		conn_free(c);
	}
	return sd_event_source_set_enabled(src, SD_EVENT_OFF);
}

/* Close a connection from within its own callbacks: it is freed from the loop. */
static void kill_conn(struct manager *m, struct conn *c)
{
	c->dead = true;
	c->ready = false;
	if (!m->bus->sweep && sd_event_add_defer(m->event, &m->bus->sweep, sweep, m) >= 0)
		(void) sd_event_source_set_description(m->bus->sweep, "bus-sweep");
	if (m->bus->sweep)
		(void) sd_event_source_set_enabled(m->bus->sweep, SD_EVENT_ONESHOT);
}

static uint64_t queued_write(sd_bus *bus)
{
	uint64_t n = 0;

	return sd_bus_get_n_queued_write(bus, &n) >= 0 ? n : 0;
}

/*
 * Every message a private connection sends passes here first: a call other
 * than Hello makes it ready for signals; a peer other than root that holds
 * more than its share of memoffd's memory (calls parsed but not yet
 * answered, replies it does not read) is disconnected.
 */
static int on_incoming(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct conn *c = userdata;
	struct bus_state *s = c->m->bus;
	uint64_t in = 0, out, uid_out = 0, total = 0;
	const char *why = NULL;
	unsigned suppressed = 0;

	if (c->dead)
		return 1;  /* dropped */
	if (!c->ready && !sd_bus_message_is_method_call(msg, "org.freedesktop.DBus", "Hello"))
		c->ready = true;
	if (c->uid == 0)
		return 0;
	(void) sd_bus_get_n_queued_read(c->bus, &in);
	out = queued_write(c->bus);
	for (const struct conn *o = s->conns; o; o = o->next) {
		uint64_t w;

		if (o->uid == 0 || o->dead)
			continue;
		w = queued_write(o->bus);
		total += w;
		if (o->uid == c->uid)
			uid_out += w;
	}
	if (in > MO_BUS_MAX_INFLIGHT)
		why = "too many calls in flight";
	else if (out > MO_BUS_MAX_UNSENT)
		why = "too many replies it does not read";
	else if (uid_out > MO_BUS_MAX_UNSENT_PER_UID)
		why = "too many replies its uid does not read";
	else if (total > MO_BUS_MAX_UNSENT_TOTAL)
		why = "memoffd holds too many unread replies";
	if (!why)
		return 0;
	if (uid_log_below(s, c->uid, &suppressed))
		mo_log_warning("Closing a connection of uid %u on %s: %s (%" PRIu64 " calls queued, %" PRIu64
			       " messages unsent; %u such warnings for this uid held back)",
			       (unsigned) c->uid, s->socket_path, why, in, out, suppressed);
	kill_conn(c->m, c);
	return 1;
}

static int on_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
	struct manager *m = userdata;
	sd_bus *bus = sd_bus_message_get_bus(msg);

	if (bus == m->bus->system) {
		mo_log_warning("Lost the system bus; still serving on %s", m->bus->socket_path);
		m->bus->system = NULL;
		sd_bus_flush_close_unref(bus);
		return 0;
	}
	drop_conn(m, bus);
	return 0;
}

/*
 * Whether one more connection of @uid fits: root always does, up to the hard
 * limit; others share the unprivileged slots, a few each.
 * Return: 0, -EUSERS (this uid holds its share), -EMFILE (no slot left).
 */
static int connection_allowed(const struct bus_state *s, uid_t uid)
{
	unsigned unpriv = 0, mine = 0;

	if (s->n_conns >= MO_BUS_MAX_CONNECTIONS)
		return -EMFILE;
	if (uid == 0)
		return 0;
	for (const struct conn *c = s->conns; c; c = c->next) {
		if (c->uid != 0)
			unpriv++;
		if (c->uid == uid)
			mine++;
	}
	if (mine >= MO_BUS_MAX_PER_UID)
		return -EUSERS;
	if (unpriv >= MO_BUS_MAX_UNPRIVILEGED)
		return -EMFILE;
	return 0;
}

static int on_accept_retry(sd_event_source *src, uint64_t usec, void *userdata)
{
	struct manager *m = userdata;

	return sd_event_source_set_enabled(m->bus->listen_source, SD_EVENT_ON);
}

static bool resource_shortage(int error)
{
	return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

/*
 * A connection could not be taken for want of a resource (resource_shortage()):
 * it stays in the backlog and the socket stays readable, so trying again at
 * once would spin. Stop listening for a while (100 ms, doubling to 5 s), and
 * say so at most 3 times a minute.
 */
static void accept_back_off(struct manager *m, int error)
{
	struct bus_state *s = m->bus;
	unsigned suppressed = 0;
	uint64_t now = mo_monotonic_usec();
	int r;

	s->accept_backoff_usec = s->accept_backoff_usec ? s->accept_backoff_usec * 2 : 100 * 1000;
	if (s->accept_backoff_usec > 5 * 1000 * 1000)
		s->accept_backoff_usec = 5 * 1000 * 1000;
	if (mo_ratelimit_below(&s->accept_log, now, &suppressed))
		mo_log_warning_errno(error, "accept() on %s failed, pausing %" PRIu64 " ms (%u such failures not "
				     "logged): %m", s->socket_path, s->accept_backoff_usec / 1000, suppressed);
	(void) sd_event_source_set_enabled(s->listen_source, SD_EVENT_OFF);
	if (!s->accept_retry) {
		r = sd_event_add_time_relative(m->event, &s->accept_retry, CLOCK_MONOTONIC, s->accept_backoff_usec,
					       0, on_accept_retry, m);
		if (r < 0) {
			/* without a timer, listening on is better than never listening again */
			(void) sd_event_source_set_enabled(s->listen_source, SD_EVENT_ON);
			return;
		}
		(void) sd_event_source_set_description(s->accept_retry, "accept-retry");
	} else {
		(void) sd_event_source_set_time_relative(s->accept_retry, s->accept_backoff_usec);
	}
	(void) sd_event_source_set_enabled(s->accept_retry, SD_EVENT_ONESHOT);
}

/* The relay of @c has ended: the peer went, or broke the protocol (say so, limited per uid). */
static void on_relay_end(struct relay *r, int error, const char *why, void *userdata)
{
	struct conn *c = userdata;
	struct bus_state *s = c->m->bus;
	unsigned suppressed = 0;

	if (error < 0 && uid_log_below(s, c->uid, &suppressed))
		mo_log_warning("Closing a connection of uid %u on %s: %s (%u such warnings for this uid held back)",
			       (unsigned) c->uid, s->socket_path, why, suppressed);
	kill_conn(c->m, c);
}

/* The peer's supplementary groups (SO_PEERGROUPS), into @c; n_groups -1 when the kernel does not say. */
static void read_peer_groups(int fd, struct conn *c)
{
	socklen_t len = 64 * sizeof(gid_t);

	c->n_groups = -1;
	for (int tries = 0; tries < 4; tries++) {
		gid_t *g = realloc(c->groups, len ? len : sizeof(gid_t));

		if (!g)
			return;
		c->groups = g;
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, g, &len) == 0) {
			c->n_groups = (int) (len / sizeof(gid_t));
			return;
		}
		if (errno != ERANGE)
			return;
		/* len says how much is needed */
	}
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct manager *m = userdata;
	struct bus_state *s = m->bus;
	unsigned suppressed = 0;
	struct ucred cred;
	sd_bus *bus = NULL;
	struct conn *c;
	_cleanup_close_ int relay_fd = -1, bus_fd = -1;
	int cfd, sp[2], bus_end, r;

	/*
	 * A connection takes three descriptors: the peer's, and a socketpair
	 * between the relay and sd-bus. The pair is made first, so that without
	 * room for it the connection waits in the backlog, as it does when
	 * accept() itself finds no descriptor, instead of being taken and dropped.
	 */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0)
		cfd = -1;
	else {
		relay_fd = sp[0];
		bus_fd = sp[1];
		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	}
	if (cfd < 0) {
		if (resource_shortage(errno))
			accept_back_off(m, errno);
		else if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED &&
			 mo_ratelimit_below(&s->accept_log, mo_monotonic_usec(), &suppressed))
			mo_log_warning_errno(errno, "accept() on %s failed (%u such failures not logged): %m",
					     s->socket_path, suppressed);
		return 0;
	}
	s->accept_backoff_usec = 0;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &(socklen_t) { sizeof(cred) }) < 0) {
		mo_log_warning_errno(errno, "Cannot get the peer of a connection on %s: %m", s->socket_path);
		close(cfd);
		return 0;
	}
	r = connection_allowed(s, cred.uid);
	if (r < 0) {
		if (uid_log_below(s, cred.uid, &suppressed))
			mo_log_warning("Too many connections on %s%s, refusing one of uid %u (%u such refusals "
				       "for this uid not logged)", s->socket_path, r == -EUSERS ? " from this user" : "",
				       (unsigned) cred.uid, suppressed);
		close(cfd);
		return 0;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->uid = cred.uid;
	c->gid = cred.gid;
	c->m = m;
	read_peer_groups(cfd, c);
	/* sd-bus never reads the peer: the relay does, and bounds what it may make memoffd hold */
	r = relay_new(m->event, cfd, TAKE_FD(relay_fd), cred.uid, s->server_id,
		      cred.uid == 0 ? MO_BUS_MAX_MESSAGE_ROOT : MO_BUS_MAX_MESSAGE, on_relay_end, c, &c->relay);
	/* cfd and relay_fd are the relay's now, or closed */
	if (r < 0)
		goto fail;
	if ((r = sd_bus_new(&bus)) < 0 ||
	    (r = sd_bus_set_fd(bus, bus_fd, bus_fd)) < 0)
		goto fail;
	(void) TAKE_FD(bus_fd);   /* the bus owns it */
	if ((r = sd_bus_set_server(bus, 1, s->server_id)) < 0 ||
	    (r = sd_bus_set_anonymous(bus, 1)) < 0 ||
	    (r = sd_bus_set_description(bus, "private")) < 0 ||
	    (r = sd_bus_negotiate_fds(bus, 0)) < 0 ||
	    (r = sd_bus_add_filter(bus, NULL, on_incoming, c)) < 0 ||
	    (r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
				     "Disconnected", on_disconnected, m)) < 0 ||
	    (r = attach_objects(m, bus)) < 0 ||
	    (r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/DBus", "org.freedesktop.DBus",
					  driver_vtable, m)) < 0 ||
	    (r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL)) < 0 ||
	    (r = sd_bus_start(bus)) < 0)
		goto fail;
	/*
	 * sd-bus made its socket buffers 8 MB: replies the peer does not read
	 * would pile up there, out of sight of on_incoming()'s limits. Bring them
	 * down to the relay's size, so they queue in sd-bus, where they count.
	 */
	bus_end = sd_bus_get_fd(bus);
	if (bus_end >= 0) {
		(void) setsockopt(bus_end, SOL_SOCKET, SO_SNDBUF, &(int) { RELAY_BUFFER }, sizeof(int));
		(void) setsockopt(bus_end, SOL_SOCKET, SO_RCVBUF, &(int) { RELAY_BUFFER }, sizeof(int));
	}
	c->bus = bus;
	c->next = s->conns;
	s->conns = c;
	s->n_conns++;
	return 0;
fail:
	/* the peer is gone with its connection; a shortage pauses accepting as above */
	if (resource_shortage(-r))
		accept_back_off(m, -r);
	else if (mo_ratelimit_below(&s->accept_log, mo_monotonic_usec(), &suppressed))
		mo_log_warning_errno(r, "Cannot set up a connection on %s (%u such failures not logged): %m",
				     s->socket_path, suppressed);
	c->bus = bus;
	conn_free(c);
	return 0;
}

static int listen_private(struct manager *m)
{
	struct bus_state *s = m->bus;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&s->socket_path, "%s/" MO_CONTROL_SOCKET, m->runtime_dir) < 0)
		return -ENOMEM;
	if (strlen(s->socket_path) >= sizeof(sa.sun_path))
		return mo_log_error_errno(ENAMETOOLONG, "Socket path %s is too long", s->socket_path);
	strcpy(sa.sun_path, s->socket_path);

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return mo_log_error_errno(errno, "socket() failed: %m");
	/* Someone answering there is another memoffd: do not steal its socket. */
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0)
		return mo_log_error_errno(EADDRINUSE, "Another memoffd is serving %s", s->socket_path);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return mo_log_error_errno(errno, "socket() failed: %m");
	(void) unlink(s->socket_path);
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return mo_log_error_errno(errno, "Cannot bind %s: %m", s->socket_path);
	/* Anyone may connect and read; the uid check guards the mutating methods. */
	if (chmod(s->socket_path, 0666) < 0)
		return mo_log_error_errno(errno, "Cannot chmod %s: %m", s->socket_path);
	if (listen(fd, 16) < 0)
		return mo_log_error_errno(errno, "listen() on %s failed: %m", s->socket_path);
	r = sd_event_add_io(m->event, &s->listen_source, fd, EPOLLIN, on_accept, m);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot watch %s: %m", s->socket_path);
	(void) sd_event_source_set_description(s->listen_source, "control-socket");
	s->listen_fd = TAKE_FD(fd);
	return 0;
}

/* sd_bus_open_system(), but accepting no file descriptors from the bus. */
static int open_system_bus(sd_bus **ret)
{
	_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
	const char *address = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	int r;

	r = sd_bus_new(&bus);
	if (r < 0)
		return r;
	if ((r = sd_bus_set_address(bus, address && *address ? address :
				    "unix:path=/run/dbus/system_bus_socket")) < 0 ||
	    (r = sd_bus_set_bus_client(bus, 1)) < 0 ||
	    (r = sd_bus_negotiate_fds(bus, 0)) < 0 ||
	    (r = sd_bus_negotiate_creds(bus, 1, SD_BUS_CREDS_UID | SD_BUS_CREDS_EUID |
					SD_BUS_CREDS_EFFECTIVE_CAPS)) < 0 ||
	    (r = sd_bus_set_description(bus, "system")) < 0 ||
	    (r = sd_bus_start(bus)) < 0)
		return r;
	*ret = TAKE_PTR(bus);
	return 0;
}

static int join_system_bus(struct manager *m)
{
	struct bus_state *s = m->bus;
	sd_bus *bus = NULL;
	int r;

	r = open_system_bus(&bus);
	if (r < 0) {
		mo_log_info("No system bus (%s); serving on %s only", strerror(-r), s->socket_path);
		return 0;
	}
	if ((r = attach_objects(m, bus)) < 0 ||
	    (r = sd_bus_match_signal(bus, NULL, NULL, "/org/freedesktop/DBus/Local", "org.freedesktop.DBus.Local",
				     "Disconnected", on_disconnected, m)) < 0) {
		sd_bus_flush_close_unref(bus);
		return mo_log_error_errno(r, "Cannot export objects on the system bus: %m");
	}
	r = sd_bus_request_name(bus, MO_BUS_NAME, 0);
	if (r < 0) {
		sd_bus_flush_close_unref(bus);
		if (r == -EEXIST)
			return mo_log_error_errno(r, "%s is owned by another process (another memoffd?)", MO_BUS_NAME);
		if (r == -EACCES || r == -EPERM) {
			mo_log_warning("Not allowed to own %s on the system bus (install the D-Bus policy); "
				    "serving on %s only", MO_BUS_NAME, s->socket_path);
			return 0;
		}
		return mo_log_error_errno(r, "Cannot own %s on the system bus: %m", MO_BUS_NAME);
	}
	r = sd_bus_attach_event(bus, m->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0) {
		sd_bus_flush_close_unref(bus);
		return mo_log_error_errno(r, "Cannot attach the system bus: %m");
	}
	s->system = bus;
	mo_log_debug("Serving %s on the system bus", MO_BUS_NAME);
	return 0;
}

int bus_setup(struct manager *m, bool system_bus)
{
	int r;

	m->bus = calloc(1, sizeof(*m->bus));
	if (!m->bus)
		return -ENOMEM;
	m->bus->listen_fd = -1;
	m->bus->accept_log = MO_RATELIMIT_INIT(60 * UINT64_C(1000000), 3);
	r = sd_id128_randomize(&m->bus->server_id);
	if (r < 0)
		return mo_log_error_errno(r, "Cannot make a server id: %m");
	r = listen_private(m);
	if (r < 0)
		return r;
	if (system_bus)
		return join_system_bus(m);
	return 0;
}

void bus_done(struct manager *m)
{
	struct bus_state *s = m->bus;

	if (!s)
		return;
	bus_manager_abandon_pins(s);
	while (s->conns)
		drop_conn(m, s->conns->bus);
	sd_event_source_disable_unref(s->sweep);
	sd_event_source_disable_unref(s->accept_retry);
	if (s->system)
		sd_bus_flush_close_unref(s->system);
	sd_event_source_disable_unref(s->listen_source);
	if (s->listen_fd >= 0) {
		close(s->listen_fd);
		if (s->socket_path)
			(void) unlink(s->socket_path);
	}
	free(s->socket_path);
	free(s);
	m->bus = NULL;
}
