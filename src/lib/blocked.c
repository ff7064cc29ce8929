/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "blocked.h"
#include "kpageflags.h"
#include "util.h"

struct pfn_state {
	uint64_t pfn;
	uint64_t flags;
	uint64_t first_seen;
	uint64_t group;        /* 0: not in a group (not confirmed yet) */
	uint32_t owner;
	bool confirmed;
};

struct group_state {
	struct mo_blocked_group g;
	bool long_lived;
	bool alive;            /* scratch: some PFN of it is still blocked */
	uint64_t interval;
	uint64_t next_update;
};

struct block_state {
	uint64_t block;
	struct pfn_state *pfns;   /* the last pass, sorted by pfn */
	size_t n;
	struct pfn_state *pass;   /* being collected */
	size_t pass_n, pass_cap;
	bool in_pass;
	uint64_t pass_time;
	struct group_state *groups; /* sorted by first_pfn */
	size_t n_groups;
};

struct mo_blocked_tracker {
	struct mo_blocked_opts opts;
	mo_blocked_event_cb cb;
	void *userdata;
	uint64_t next_id;
	struct block_state *blocks;
	size_t n_blocks;
};

const char *mo_blocked_class_to_string(enum mo_blocked_class c)
{
	switch (c) {
	case MO_BLOCKED_PENDING:
		return "pending";
	case MO_BLOCKED_TRANSIENT:
		return "transient";
	case MO_BLOCKED_LONG_LIVED:
		return "long-lived";
	}
	return "unknown";
}

const char *mo_blocked_event_to_string(enum mo_blocked_event_type t)
{
	switch (t) {
	case MO_BLOCKED_EV_NEW:
		return "new";
	case MO_BLOCKED_EV_LONG_LIVED:
		return "long-lived";
	case MO_BLOCKED_EV_UPDATE:
		return "update";
	case MO_BLOCKED_EV_CLEARED:
		return "cleared";
	}
	return "unknown";
}

int mo_blocked_tracker_new(const struct mo_blocked_opts *opts, mo_blocked_event_cb cb, void *userdata,
			   struct mo_blocked_tracker **ret)
{
	struct mo_blocked_tracker *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	if (opts)
		t->opts = *opts;
	if (!t->opts.long_lived_usec)
		t->opts.long_lived_usec = MO_BLOCKED_LONG_LIVED_DEFAULT_USEC;
	if (!t->opts.settle_usec)
		t->opts.settle_usec = MO_BLOCKED_SETTLE_DEFAULT_USEC;
	if (!t->opts.update_usec)
		t->opts.update_usec = MO_BLOCKED_UPDATE_DEFAULT_USEC;
	if (!t->opts.flags_mask)
		t->opts.flags_mask = MO_KPF_IDENTITY_MASK;
	t->cb = cb;
	t->userdata = userdata;
	t->next_id = 1;
	*ret = t;
	return 0;
}

static void block_state_clear(struct block_state *b)
{
	free(b->pfns);
	free(b->pass);
	free(b->groups);
}

void mo_blocked_tracker_free(struct mo_blocked_tracker *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_blocks; i++)
		block_state_clear(&t->blocks[i]);
	free(t->blocks);
	free(t);
}

static struct block_state *find_block(const struct mo_blocked_tracker *t, uint64_t block)
{
	for (size_t i = 0; i < t->n_blocks; i++)
		if (t->blocks[i].block == block)
			return &t->blocks[i];
	return NULL;
}

int mo_blocked_begin(struct mo_blocked_tracker *t, uint64_t block, uint64_t now_usec)
{
	struct block_state *b = find_block(t, block);

	if (!b) {
		struct block_state *nb = realloc(t->blocks, (t->n_blocks + 1) * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		t->blocks = nb;
		b = &t->blocks[t->n_blocks++];
		*b = (struct block_state) { .block = block };
	}
	if (b->in_pass)
		return -EBUSY;
	b->in_pass = true;
	b->pass_n = 0;
	b->pass_time = now_usec;
	return 0;
}

int mo_blocked_add(struct mo_blocked_tracker *t, uint64_t block, uint64_t pfn, uint64_t kpageflags, uint32_t owner)
{
	struct block_state *b = find_block(t, block);

	if (!b || !b->in_pass)
		return -ENOENT;
	if (MO_GROW(b->pass, b->pass_n, b->pass_cap, 256) < 0)
		return -ENOMEM;
	b->pass[b->pass_n++] = (struct pfn_state) { .pfn = pfn, .flags = kpageflags, .owner = owner };
	return 0;
}

static int cmp_pfn(const void *a, const void *b)
{
	uint64_t x = ((const struct pfn_state *) a)->pfn, y = ((const struct pfn_state *) b)->pfn;

	return x < y ? -1 : x > y;
}

static bool sorted_by_pfn(const struct pfn_state *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (v[i - 1].pfn > v[i].pfn)
			return false;
	return true;
}

static struct group_state *find_group(struct group_state *v, size_t n, uint64_t id)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].g.id == id)
			return &v[i];
	return NULL;
}

static int emit(struct mo_blocked_tracker *t, enum mo_blocked_event_type type, const struct mo_blocked_group *g,
		int *err)
{
	struct mo_blocked_event ev = { .type = type, .group = g };
	int r;

	if (!t->cb)
		return 0;
	r = t->cb(&ev, t->userdata);
	if (r < 0 && *err == 0)
		*err = r;
	return r;
}

int mo_blocked_end(struct mo_blocked_tracker *t, uint64_t block)
{
	struct block_state *b = find_block(t, block);
	struct group_state *old_groups, *groups = NULL;
	size_t n_old, n_groups = 0, o = 0, n = 0;
	uint64_t now;
	int err = 0;

	if (!b || !b->in_pass)
		return -ENOENT;
	b->in_pass = false;
	now = b->pass_time;

	/* 1. the pass, sorted and without duplicates (the last sample of a PFN wins) */
	if (!sorted_by_pfn(b->pass, b->pass_n))
		qsort(b->pass, b->pass_n, sizeof(*b->pass), cmp_pfn);
	for (size_t i = 0; i < b->pass_n; i++) {
		if (n > 0 && b->pass[n - 1].pfn == b->pass[i].pfn)
			n--;
		b->pass[n++] = b->pass[i];
	}
	b->pass_n = n;

	/* 2. carry each PFN's history over from the last pass */
	for (size_t i = 0; i < b->pass_n; i++) {
		struct pfn_state *p = &b->pass[i];

		while (o < b->n && b->pfns[o].pfn < p->pfn)
			o++;
		if (o < b->n && b->pfns[o].pfn == p->pfn) {
			p->first_seen = b->pfns[o].first_seen;
			p->group = b->pfns[o].group;
			p->confirmed = b->pfns[o].confirmed;
		} else {
			p->first_seen = now;
			p->group = 0;
			p->confirmed = false;
		}
		if (!p->confirmed)
			p->confirmed = t->opts.settle_usec == MO_BLOCKED_NO_SETTLE ||
				       now - p->first_seen >= t->opts.settle_usec;
	}

	/* 3. runs of confirmed PFNs: contiguous, same identity flags, same owner */
	old_groups = b->groups;
	n_old = b->n_groups;
	for (size_t i = 0; i < n_old; i++)
		old_groups[i].alive = false;

	for (size_t i = 0; i < b->pass_n;) {
		struct pfn_state *p = &b->pass[i];
		struct group_state *gs, *old = NULL;
		size_t j;
		uint64_t first_seen;

		if (!p->confirmed) {
			p->group = 0;
			i++;
			continue;
		}
		for (j = i + 1; j < b->pass_n; j++) {
			const struct pfn_state *q = &b->pass[j], *prev = &b->pass[j - 1];

			if (!q->confirmed || q->pfn != prev->pfn + 1)
				break;
			/*
			 * A tail page right after its head (or another tail) is
			 * the same folio: one group, whatever its own flags say
			 * (before 6.10 a tail reports its page->flags, without
			 * the head's swapbacked, lru, ...) and whatever owner
			 * was found for it.
			 */
			if (q->flags & MO_KPF(MO_KPF_COMPOUND_TAIL))
				continue;
			if (q->owner != p->owner ||
			    (q->flags & t->opts.flags_mask) != (p->flags & t->opts.flags_mask))
				break;
		}
		/* the run keeps the oldest group among its PFNs not claimed by an earlier run */
		first_seen = UINT64_MAX;
		for (size_t k = i; k < j; k++) {
			struct group_state *cand;

			if (b->pass[k].first_seen < first_seen)
				first_seen = b->pass[k].first_seen;
			if (!b->pass[k].group)
				continue;
			cand = find_group(old_groups, n_old, b->pass[k].group);
			if (!cand)
				continue;
			cand->alive = true;
			if (find_group(groups, n_groups, cand->g.id))
				continue;
			if (!old || cand->g.id < old->g.id)
				old = cand;
		}

		gs = realloc(groups, (n_groups + 1) * sizeof(*gs));
		if (!gs) {
			/* keep the old state; nothing is lost but this pass */
			free(groups);
			b->pass_n = 0;
			return -ENOMEM;
		}
		groups = gs;
		gs = &groups[n_groups++];
		if (old) {
			*gs = *old;
			gs->g.passes++;
		} else {
			*gs = (struct group_state) {
				.g.id = t->next_id++,
				.g.block = block,
				.g.passes = 1,
				.interval = t->opts.update_usec,
			};
		}
		gs->g.first_pfn = p->pfn;
		gs->g.last_pfn = b->pass[j - 1].pfn;
		gs->g.npages = j - i;
		gs->g.flags = p->flags;
		gs->g.owner = p->owner;
		gs->g.first_seen = first_seen;
		gs->g.last_seen = now;
		gs->g.duration = now - first_seen;
		for (size_t k = i; k < j; k++)
			b->pass[k].group = gs->g.id;
		/* old == NULL marks a new group for the events below */
		gs->alive = old != NULL;
		i = j;
	}

	/* 4. events: what cleared, then what is new or changed */
	for (size_t i = 0; i < n_old; i++) {
		struct group_state *g = &old_groups[i];

		if (g->alive)
			continue;
		g->g.cls = g->long_lived ? MO_BLOCKED_LONG_LIVED : MO_BLOCKED_TRANSIENT;
		emit(t, MO_BLOCKED_EV_CLEARED, &g->g, &err);
	}
	for (size_t i = 0; i < n_groups; i++) {
		struct group_state *g = &groups[i];
		bool is_new = !g->alive;
		bool crossed = !g->long_lived && g->g.duration >= t->opts.long_lived_usec;

		if (crossed)
			g->long_lived = true;
		g->g.cls = g->long_lived ? MO_BLOCKED_LONG_LIVED : MO_BLOCKED_PENDING;
		if (is_new || crossed) {
			emit(t, crossed ? MO_BLOCKED_EV_LONG_LIVED : MO_BLOCKED_EV_NEW, &g->g, &err);
			if (g->interval != MO_BLOCKED_NO_UPDATES)
				g->next_update = now + g->interval;
		} else if (g->interval != MO_BLOCKED_NO_UPDATES && now >= g->next_update) {
			emit(t, MO_BLOCKED_EV_UPDATE, &g->g, &err);
			g->interval = g->interval > UINT64_MAX / 2 ? UINT64_MAX - 1 : g->interval * 2;
			g->next_update = now + g->interval;
		}
		g->alive = true;
	}

	/* 5. the pass becomes the state */
	free(old_groups);
	b->groups = groups;
	b->n_groups = n_groups;
	{
		struct pfn_state *tmp = b->pfns;
		size_t cap_tmp = b->n;

		b->pfns = b->pass;
		b->n = b->pass_n;
		b->pass = tmp;
		/* the old array becomes the next pass buffer: its capacity is at least its count */
		b->pass_cap = tmp ? cap_tmp : 0;
		b->pass_n = 0;
	}
	return err;
}

int mo_blocked_pass(struct mo_blocked_tracker *t, uint64_t block, uint64_t now_usec,
		    const struct mo_blocked_sample *samples, size_t n)
{
	int r = mo_blocked_begin(t, block, now_usec);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = mo_blocked_add(t, block, samples[i].pfn, samples[i].kpageflags, samples[i].owner);
		if (r < 0) {
			/* close the pass without changing the state */
			struct block_state *b = find_block(t, block);

			if (b) {
				b->in_pass = false;
				b->pass_n = 0;
			}
			return r;
		}
	}
	return mo_blocked_end(t, block);
}

void mo_blocked_forget(struct mo_blocked_tracker *t, uint64_t block)
{
	for (size_t i = 0; i < t->n_blocks; i++) {
		if (t->blocks[i].block != block)
			continue;
		block_state_clear(&t->blocks[i]);
		t->blocks[i] = t->blocks[--t->n_blocks];
		return;
	}
}

int mo_blocked_foreach(const struct mo_blocked_tracker *t, uint64_t block,
		       int (*cb)(const struct mo_blocked_group *g, void *userdata), void *userdata)
{
	for (size_t i = 0; i < t->n_blocks; i++) {
		const struct block_state *b = &t->blocks[i];

		if (block != UINT64_MAX && b->block != block)
			continue;
		for (size_t j = 0; j < b->n_groups; j++) {
			int r = cb(&b->groups[j].g, userdata);

			if (r < 0)
				return r;
		}
	}
	return 0;
}
