/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who may call memoffd's mutating methods, and see the owners of blocked
 * pages: uid 0, or a member (primary or supplementary group) of
 * AllowedGroup=. The credentials are the kernel's (SO_PEERCRED and
 * SO_PEERGROUPS of the peer's own socket, recorded at accept(), on the
 * private socket; the bus driver's on the system bus), never read from
 * /proc. dbus-daemon gives no supplementary groups of a caller: then
 * membership is judged as dbus-daemon's own <policy group=...> judges it, by
 * the uid's groups in the user database.
 */
#include "bus-internal.h"

#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

#include "manager.h"
#include "util.h"

/* Whether the user database puts uid in group gid (primary or member). */
static bool uid_in_group_db(uid_t uid, gid_t gid)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ gid_t *groups = NULL;
	struct passwd pw, *res = NULL;
	long sz = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsz = sz > 0 ? (size_t) sz : 4096;
	int n = 64;

	for (;;) {
		free(buf);
		buf = malloc(bufsz);
		if (!buf)
			return false;
		int r = getpwuid_r(uid, &pw, buf, bufsz, &res);
		if (r != ERANGE)
			break;
		if (bufsz > 1 << 20)
			return false;
		bufsz *= 2;
	}
	if (!res)
		return false;
	if (pw.pw_gid == gid)
		return true;
	for (int tries = 0; tries < 8; tries++) {
		int want = n;

		free(groups);
		groups = calloc((size_t) n, sizeof(gid_t));
		if (!groups)
			return false;
		if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &want) >= 0) {
			for (int i = 0; i < want; i++)
				if (groups[i] == gid)
					return true;
			return false;
		}
		/* too few: want is how many there are (glibc), or grow */
		n = want > n ? want : n * 2;
	}
	return false;
}

/*
 * Who sent @msg. On a private connection sd-bus's peer is the relay, that is
 * memoffd itself: the caller is what the relay's accept() recorded. On the
 * system bus, the bus driver's word.
 */
struct caller {
	uid_t uid;
	bool have_gid;
	gid_t gid;
	const gid_t *gids;
	int n_gids;                 /* -1: unknown */
	sd_bus_creds *creds;        /* what the fields point into, on the system bus */
};

static void caller_done(struct caller *c)
{
	sd_bus_creds_unref(c->creds);
}

static int caller_of(sd_bus_message *msg, struct manager *m, struct caller *ret)
{
	const struct conn *conn = m->bus ? bus_find_conn(m->bus, sd_bus_message_get_bus(msg)) : NULL;
	int r;

	*ret = (struct caller) { .n_gids = -1 };
	if (conn) {
		ret->uid = conn->uid;
		ret->have_gid = true;
		ret->gid = conn->gid;
		ret->gids = conn->groups;
		ret->n_gids = conn->n_groups;
		return 0;
	}
	r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_EGID | SD_BUS_CREDS_SUPPLEMENTARY_GIDS,
				      &ret->creds);
	if (r < 0)
		return r;
	r = sd_bus_creds_get_euid(ret->creds, &ret->uid);
	if (r < 0)
		return r;
	ret->have_gid = sd_bus_creds_get_egid(ret->creds, &ret->gid) >= 0;
	ret->n_gids = sd_bus_creds_get_supplementary_gids(ret->creds, &ret->gids);
	return 0;
}

int bus_check_access(sd_bus_message *msg, struct manager *m, sd_bus_error *error)
{
	_cleanup_(caller_done) struct caller c = {};

	if (caller_of(msg, m, &c) < 0)
		return sd_bus_error_set(error, MO_ERROR_ACCESS_DENIED,
					"cannot tell who is calling: access denied");
	if (c.uid == 0)
		return 0;
	if (m->config.allowed_group) {
		if (c.have_gid && c.gid == m->config.allowed_gid)
			return 0;
		for (int i = 0; i < c.n_gids; i++)
			if (c.gids[i] == m->config.allowed_gid)
				return 0;
		/* no supplementary groups from the bus (dbus-daemon): the user database */
		if (c.n_gids < 0 && uid_in_group_db(c.uid, m->config.allowed_gid))
			return 0;
		return sd_bus_error_setf(error, MO_ERROR_ACCESS_DENIED,
					 "uid %u is neither root nor in group %s: access denied",
					 (unsigned) c.uid, m->config.allowed_group);
	}
	return sd_bus_error_setf(error, MO_ERROR_ACCESS_DENIED,
				 "uid %u is not root: access denied", (unsigned) c.uid);
}

int bus_check_start(sd_bus_message *msg, struct manager *m, sd_bus_error *error)
{
	int r = bus_check_access(msg, m, error);

	if (r < 0)
		return r;
	if (m->stopping)
		return sd_bus_error_set(error, MO_ERROR_SHUTTING_DOWN, "memoffd is stopping");
	return 0;
}

int bus_caller_uid(sd_bus_message *msg, struct manager *m, uid_t *ret)
{
	_cleanup_(caller_done) struct caller c = {};
	int r = caller_of(msg, m, &c);

	if (r < 0)
		return r;
	*ret = c.uid;
	return 0;
}

/*
 * Owners name other processes: only callers who may call GetPins see them
 * (doc/security.md); others get the pages without owners.
 */
bool bus_may_see_owners(sd_bus *bus, struct manager *m)
{
	sd_bus_message *msg = sd_bus_get_current_message(bus);
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	if (!msg)
		return false;
	r = bus_check_access(msg, m, &e);
	sd_bus_error_free(&e);
	return r >= 0;
}
