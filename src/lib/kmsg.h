/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * The kernel log as evidence of what blocks an offline.
 *
 * Three layers, each usable alone:
 *
 *  - mo_kmsg_parse(): one /dev/kmsg record
 *    ("PRIO,SEQ,TS_USEC,FLAGS[,MORE...];MESSAGE\n" plus " KEY=VALUE" lines)
 *    into its fields, with the \xNN escapes of the message undone.
 *
 *  - struct mo_dump_parser: a stream of messages in, events out: the
 *    memory-hotplug lines ("migrating pfn 101d1f failed ret:1",
 *    "failed to isolate pfn 12345") and whole dump_page() records,
 *    assembled across lines, in the 6.1 format
 *    ("page:(____ptrval____) refcount:3 mapcount:1 mapping:... index:... pfn:...",
 *    "head:... order:N compound_mapcount:N compound_pincount:N") and the
 *    newer one ("page: refcount:...", "head: order:N mapcount:N
 *    entire_mapcount:N nr_pages_mapped:N pincount:N"), older ones where cheap.
 *
 *  - struct mo_kmsg_reader: a non-destructive reader of <sysroot>/dev/kmsg.
 *    Every open of /dev/kmsg has its own position, so seeking our own fd to
 *    the end ("from now") disturbs no other reader (journald, dmesg -w).
 *
 * The kernel ratelimits the hotplug lines (10 per 5 s): treat what comes out
 * of here as samples, never as the complete set of blocked pages.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "root.h"

/* The largest record /dev/kmsg hands out (the kernel's own buffer is 8 KiB). */
#define MO_KMSG_RECORD_MAX 8192

struct mo_kmsg_record {
	unsigned level;        /* syslog level, 0 (emerg) .. 7 (debug) */
	unsigned facility;     /* 0 for the kernel */
	uint64_t seq;
	uint64_t ts_usec;      /* CLOCK_MONOTONIC of the record */
	bool cont;             /* flag 'c': a continuation fragment (old kernels) */
	const char *caller;    /* "T123" / "C2" with CONFIG_PRINTK_CALLER, or NULL */
	const char *message;   /* unescaped, NUL-terminated, no trailing newline */
	size_t message_len;    /* may be less than strlen() when it held \x00 */
	const char *dict;      /* the " KEY=VALUE\n" lines that followed, or NULL */
};

/**
 * mo_kmsg_parse() - parse one /dev/kmsg record in place.
 * @buf: the record as read(2) returned it; modified (escapes undone, fields
 *       NUL-terminated). @rec points into it afterwards.
 * @len: its length in bytes
 * @rec: filled on success
 *
 * Return: 0, or -EBADMSG when @buf is not a record (truncated prefix, no ';',
 * non-numeric fields).
 */
int mo_kmsg_parse(char *buf, size_t len, struct mo_kmsg_record *rec);

/**
 * mo_kmsg_dict_get() - the value of KEY in a record's " KEY=VALUE" lines.
 * @rec: a parsed record
 * @key: e.g. "SUBSYSTEM"
 * @buf: receives the value, NUL-terminated
 * @size: size of @buf
 *
 * Return: the value's length, -ENOENT when absent, -ENOBUFS when too long.
 */
int mo_kmsg_dict_get(const struct mo_kmsg_record *rec, const char *key, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* dump_page() records and the memory-hotplug lines around them             */

enum mo_page_kind {
	MO_PAGE_UNKNOWN = 0,   /* no mapping: a kernel page, or a freed one */
	MO_PAGE_ANON,          /* "anon flags:" */
	MO_PAGE_KSM,           /* "ksm flags:" */
	MO_PAGE_FILE,          /* mapping set and not anonymous: page cache, shmem, swap cache */
};

struct mo_page_dump {
	uint64_t seq;              /* of the dump's first record */
	uint64_t ts_usec;
	uint64_t pfn;
	bool have_pfn;             /* kernels before 5.8 did not print it */
	int64_t refcount;          /* of the folio (head page); -1 unknown */
	int64_t mapcount;          /* of this page; -1 unknown */
	int64_t folio_mapcount;    /* "head: ... mapcount:" (6.8+); -1 unknown */
	int64_t entire_mapcount;   /* PMD/whole-folio mappings ("compound_mapcount" in 6.1); -1 */
	int64_t nr_pages_mapped;   /* -1 unknown */
	int64_t pincount;          /* "pincount"/"compound_pincount" of a large folio; -1 unknown */
	int order;                 /* folio order; 0 for a small page */
	uint64_t mapping;          /* the hashed pointer; 0 means NULL */
	bool have_mapping;
	uint64_t index;
	uint64_t memcg;            /* "memcg:" (hex), 0 when absent */
	uint64_t flags;            /* the page flags word */
	bool have_flags;
	char flags_text[256];      /* "uptodate|dirty|lru|...|node=0|zone=3" */
	char page_type[32];        /* "f4(hugetlb)", "0xffffffff()" ..., or "" */
	char aops[64];             /* "def_blk_aops", "shmem_aops", "btrfs_aops [btrfs]", or "" */
	uint64_t ino;
	bool have_ino;
	char dentry[128];          /* the file name dump_mapping() printed, or "" */
	char reason[128];          /* "migration failure", "isolation failed", "unmovable page" */
	enum mo_page_kind kind;
	bool cma;                  /* " CMA" after the flags */
	bool poisoned;             /* "page:... is uninitialized and poisoned" */
	bool complete;             /* ended with "page dumped because:"; false when cut short */
	/* the memory-hotplug line that introduced this dump, when there was one */
	bool migrate_failed;       /* "migrating pfn ... failed ret:N" */
	int migrate_ret;
	bool isolate_failed;       /* "failed to isolate pfn ..." */
};

/**
 * mo_page_dump_has_flag() - whether the flags text names @name exactly
 * (e.g. "lru", "swapbacked", "private"; "node=0" style fields never match).
 */
bool mo_page_dump_has_flag(const struct mo_page_dump *d, const char *name);

/**
 * mo_page_dump_in_cache() - the page is in the page cache or the swap cache.
 *
 * dump_page() prints folio_mapping(), which is NULL for an anonymous page
 * unless it sits in the swap cache; so a non-NULL mapping means one of the
 * two caches, which hold one reference per page of the folio.
 */
bool mo_page_dump_in_cache(const struct mo_page_dump *d);

/**
 * mo_page_dump_extra_refs() - references nobody accounts for: GUP, a pipe
 * buffer, O_DIRECT in flight, a driver.
 * @d: a parsed dump
 *
 * extra = refcount − mapcount − cache − private − held, where cache is
 * 1 << order when the page is in the page or swap cache, private is 1 when
 * the "private" flag is set (buffer heads and the like), and held is the one
 * reference memory hotplug itself holds while it dumps a page it isolated
 * (reason "migration failure" or "isolation failed"). For a large folio the
 * folio's own mapcount is needed ("head: ... mapcount:", 6.8 and newer); the
 * 6.1 format does not print it.
 *
 * Return: the number of extra references (>= 0), -ENODATA when the dump lacks
 * what the sum needs, -ERANGE when the counts do not add up (the model does
 * not fit the page, e.g. a racing free).
 */
int64_t mo_page_dump_extra_refs(const struct mo_page_dump *d);

/* GUP_PIN_COUNTING_BIAS: a FOLL_PIN of a small page adds this to its refcount. */
#define MO_GUP_PIN_COUNTING_BIAS 1024

/**
 * mo_page_dump_pins() - FOLL_PIN pins (pin_user_pages) on the page.
 *
 * A large folio counts them in its pincount; a small page in its refcount,
 * by GUP_PIN_COUNTING_BIAS each, so extra references >= 1024 mean a pin.
 * Return: the number of pins (0 when none), or -ENODATA when unknown.
 */
int64_t mo_page_dump_pins(const struct mo_page_dump *d);

enum mo_kmsg_event_type {
	MO_KMSG_EV_MIGRATE_FAILED,  /* "migrating pfn P failed ret:N" */
	MO_KMSG_EV_ISOLATE_FAILED,  /* "failed to isolate pfn P" */
	MO_KMSG_EV_DUMP,            /* a dump_page() record, complete or cut short */
};

struct mo_kmsg_event {
	enum mo_kmsg_event_type type;
	uint64_t seq;
	uint64_t ts_usec;
	uint64_t pfn;                  /* for DUMP only valid when dump->have_pfn */
	int ret;                       /* MIGRATE_FAILED: the migrate_pages() result */
	const struct mo_page_dump *dump; /* DUMP only; valid during the callback */
};

/* Return < 0 to make the feed/flush call that runs it return that error. */
typedef int (*mo_kmsg_event_cb)(const struct mo_kmsg_event *ev, void *userdata);

struct mo_dump_parser;

/**
 * mo_dump_parser_new() - a parser that assembles events from messages.
 * @cb: called for every event, in log order
 * @userdata: passed to @cb
 * @ret: the parser, freed with mo_dump_parser_free()
 * Return: 0 or -ENOMEM.
 */
int mo_dump_parser_new(mo_kmsg_event_cb cb, void *userdata, struct mo_dump_parser **ret);
void mo_dump_parser_free(struct mo_dump_parser *p);
static inline void mo_dump_parser_freep(struct mo_dump_parser **p) { mo_dump_parser_free(*p); }

/**
 * mo_dump_parser_feed_line() - feed one message (one record's text).
 * @p: the parser
 * @msg: the message, without the kmsg prefix; a trailing newline is ignored
 * @seq: the record's sequence number (0 when unknown)
 * @ts_usec: its timestamp (0 when unknown)
 *
 * Lines that belong to no dump and no hotplug message are ignored, also in
 * the middle of a dump (other CPUs log too). A dump ends at its "page dumped
 * because:" line, at the next dump or hotplug line, after a run of unrelated
 * lines, or at mo_dump_parser_flush().
 *
 * Return: 0, or the first negative value the callback returned.
 */
int mo_dump_parser_feed_line(struct mo_dump_parser *p, const char *msg, uint64_t seq, uint64_t ts_usec);

/** mo_dump_parser_feed() - feed a parsed kmsg record. */
int mo_dump_parser_feed(struct mo_dump_parser *p, const struct mo_kmsg_record *rec);

/**
 * mo_dump_parser_flush() - emit a dump still being assembled (complete=false).
 * Call at the end of a stream and after records were lost.
 */
int mo_dump_parser_flush(struct mo_dump_parser *p);

/* ------------------------------------------------------------------------ */
/* reading <sysroot>/dev/kmsg                                               */

enum mo_kmsg_whence {
	MO_KMSG_FROM_NOW,    /* only records logged after the open */
	MO_KMSG_FROM_START,  /* everything still in the ring buffer */
};

struct mo_kmsg_reader;

/**
 * mo_kmsg_reader_open() - open <sysroot>/dev/kmsg read-only and non-blocking.
 * @root: the root (dev/ relative to its sysroot)
 * @whence: where to start
 * @ret: the reader, freed with mo_kmsg_reader_free()
 *
 * A regular file in place of the device (a captured log in a test tree) is
 * read as a sequence of newline-terminated records.
 *
 * Return: 0, -ENOENT without dev/kmsg, -EACCES/-EPERM without privilege
 * (dmesg_restrict), or another negative errno.
 */
int mo_kmsg_reader_open(const struct mo_root *root, enum mo_kmsg_whence whence, struct mo_kmsg_reader **ret);
void mo_kmsg_reader_free(struct mo_kmsg_reader *r);
static inline void mo_kmsg_reader_freep(struct mo_kmsg_reader **r) { mo_kmsg_reader_free(*r); }

/**
 * mo_kmsg_reader_read() - the next record, without blocking.
 * @r: the reader
 * @rec: filled on success; points into the reader's buffer, valid until the
 *       next call
 *
 * Records the kernel overwrote before we read them (read(2) fails with
 * EPIPE) are skipped and counted, see mo_kmsg_reader_lost(). Records that do
 * not parse are skipped and counted as well.
 *
 * Return: 1 with a record, 0 when there is none right now (or at the end of
 * a file), or a negative errno.
 */
int mo_kmsg_reader_read(struct mo_kmsg_reader *r, struct mo_kmsg_record *rec);

/** mo_kmsg_reader_fd() - the descriptor, for poll(2) (POLLIN). */
int mo_kmsg_reader_fd(const struct mo_kmsg_reader *r);

/** mo_kmsg_reader_lost() - records lost so far (overwritten or malformed). */
uint64_t mo_kmsg_reader_lost(const struct mo_kmsg_reader *r);
