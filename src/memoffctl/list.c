/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * memoffctl list: the memory blocks, merged into ranges, as util-linux
 * 2.38's lsmem prints them (same columns, defaults, merging, sizes, summary
 * and JSON types), plus memoff's own DEVICE and PINNED columns.
 */
#include "config.h"

#include <inttypes.h>
#include <libsmartcols.h>
#include <strings.h>

#include "block.h"
#include "common.h"
#include "format.h"
#include "iomem.h"
#include "json.h"
#include "pinmem.h"
#include "parse.h"
#include "pins.h"
#include "verbs.h"

enum {
	COL_RANGE,
	COL_SIZE,
	COL_STATE,
	COL_REMOVABLE,
	COL_BLOCK,
	COL_NODE,
	COL_ZONES,
	COL_DEVICE,
	COL_PINNED,
	_COL_MAX,
};

static const struct coldesc {
	const char *name;
	double whint;
	int flags;
	const char *help;
} coldescs[_COL_MAX] = {
	[COL_RANGE]     = { "RANGE", 0, 0, "start and end address of the memory range" },
	[COL_SIZE]      = { "SIZE", 5, SCOLS_FL_RIGHT, "size of the memory range" },
	[COL_STATE]     = { "STATE", 0, SCOLS_FL_RIGHT, "online status of the memory range" },
	[COL_REMOVABLE] = { "REMOVABLE", 0, SCOLS_FL_RIGHT, "memory is removable" },
	[COL_BLOCK]     = { "BLOCK", 0, SCOLS_FL_RIGHT, "memory block number or blocks range" },
	[COL_NODE]      = { "NODE", 0, SCOLS_FL_RIGHT, "numa node of memory" },
	[COL_ZONES]     = { "ZONES", 0, SCOLS_FL_RIGHT, "valid zones for the memory range" },
	[COL_DEVICE]    = { "DEVICE", 0, 0, "hot-pluggable device owning the memory range, or the driver of driver-managed memory" },
	[COL_PINNED]    = { "PINNED", 0, SCOLS_FL_RIGHT, "pages that would block offlining, by their flags" },
};

/* lsmem's default columns; DEVICE and the rest only on request (-o, --output-all). */
static const int default_columns[] = { COL_RANGE, COL_SIZE, COL_STATE, COL_REMOVABLE, COL_BLOCK };

/* Zones as lsmem names them; a valid_zones word matches ignoring case. */
enum {
	ZONE_DMA,
	ZONE_DMA32,
	ZONE_NORMAL,
	ZONE_HIGHMEM,
	ZONE_MOVABLE,
	ZONE_DEVICE,
	ZONE_NONE,     /* the block spans zones: the kernel says "none" */
	ZONE_UNKNOWN,  /* a word we do not know */
	_ZONE_MAX,
};

/*
 * The ZONES column's words, as lsmem(1) prints them ("Highmem", where the
 * kernel and memoffd.conf write "HighMem"); valid_zones is read with
 * parse.h's zone table, in the order of the MO_ZONE_* bits, which this
 * enum follows.
 */
_Static_assert(1u << ZONE_DMA == MO_ZONE_DMA && 1u << ZONE_DMA32 == MO_ZONE_DMA32 &&
	       1u << ZONE_NORMAL == MO_ZONE_NORMAL && 1u << ZONE_HIGHMEM == MO_ZONE_HIGHMEM &&
	       1u << ZONE_MOVABLE == MO_ZONE_MOVABLE && 1u << ZONE_DEVICE == MO_ZONE_DEVICE,
	       "the ZONE_* order follows the MO_ZONE_* bits");

static const char *const zone_names[_ZONE_MAX] = {
	[ZONE_DMA] = "DMA",
	[ZONE_DMA32] = "DMA32",
	[ZONE_NORMAL] = "Normal",
	[ZONE_HIGHMEM] = "Highmem",
	[ZONE_MOVABLE] = "Movable",
	[ZONE_DEVICE] = "Device",
	[ZONE_NONE] = "None",
	[ZONE_UNKNOWN] = "Unknown",
};

#define MAX_ZONES_PER_BLOCK 8

/* One output row: a run of blocks merged under the split policy. */
struct row {
	uint64_t first;         /* index of the first block */
	uint64_t count;         /* number of blocks */
	enum mo_state state;
	bool removable;         /* lsmem's reading: only "1" is removable */
	int node;
	int zones[MAX_ZONES_PER_BLOCK];
	int nr_zones;
	const char *device;     /* borrowed from the block, or NULL */
};

struct list_opts {
	bool all, bytes, json, pairs, raw, noheadings;
	bool want_table, want_summary;
	bool output_all;
	const char *outarg, *splitarg;
	int columns[_COL_MAX * 2];  /* each column may be asked for twice, as in lsmem */
	size_t n_columns;
	bool split[_COL_MAX];
	/* Facts of the machine that decide what some cells show. */
	bool have_nodes, have_zones;
	/* PINNED: the page flags, when asked for and readable */
	struct mo_census_reader *census;
	const struct mo_pinmem *pins;   /* memoffd's memory of pins, or NULL */
	uint64_t page_size;
	/* DEVICE: driver-managed memory (virtio-mem, dax kmem) is named by its driver */
	const struct mo_iomem *iomem;
};

enum {
	OPT_SUMMARY = CTL_OPT_VERB_FIRST,
	OPT_OUTPUT_ALL,
};

static void list_help(FILE *out)
{
	char tail[512];
	size_t pos = 0;

	ctl_help_begin(out, "memoffctl list [options]",
		       "List the ranges of memory with their online status (lsmem-compatible).");
	ctl_help_option(out, "-J, --json", "use JSON output format");
	ctl_help_option(out, "-P, --pairs", "use key=\"value\" output format");
	ctl_help_option(out, "-a, --all", "list each individual memory block");
	ctl_help_option(out, "-b, --bytes", "print SIZE in bytes rather than in human readable format");
	ctl_help_option(out, "-n, --noheadings", "don't print headings");
	ctl_help_option(out, "-o, --output <list>", "output columns (+<list> adds to the default ones)");
	ctl_help_option(out, "    --output-all", "output all columns");
	ctl_help_option(out, "-r, --raw", "use raw output format");
	ctl_help_option(out, "-S, --split <list>", "split ranges by specified columns (or \"none\")");
	ctl_help_option(out, "-s <dir>", "the same as --sysroot <dir>");
	ctl_help_option(out, "    --summary[=when]", "print summary information (never, always or only)");
	ctl_print_common_options(out);
	fputs("\nAvailable output columns:\n", out);
	for (size_t i = 0; i < _COL_MAX; i++)
		fprintf(out, " %10s  %s\n", coldescs[i].name, coldescs[i].help);
	pos += (size_t) snprintf(tail, sizeof(tail), "Default columns:");
	for (size_t i = 0; i < ARRAY_SIZE(default_columns) && pos < sizeof(tail); i++)
		pos += (size_t) snprintf(tail + pos, sizeof(tail) - pos, "%s%s", i ? "," : " ",
					 coldescs[default_columns[i]].name);
	fprintf(out, "\n%s.\nFor more details see memoffctl(8).\n", tail);
}

static int column_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < _COL_MAX; i++)
		if (strlen(coldescs[i].name) == len && strncasecmp(coldescs[i].name, name, len) == 0)
			return (int) i;
	return -1;
}

/*
 * Parse "A,B,C" into @ids starting at *@n; a leading '+' keeps what is
 * there (appends), anything else replaces it. Prints usage errors itself.
 */
static int parse_columns(const char *list, int *ids, size_t max, size_t *n)
{
	const char *p = list;

	if (*p == '+')
		p++;
	else
		*n = 0;
	if (!*p)
		return ctl_usage_error("empty column list");
	for (;;) {
		size_t len = strcspn(p, ",");
		int id;

		if (len == 0)
			return ctl_usage_error("empty column name in '%s'", list);
		id = column_by_name(p, len);
		if (id < 0)
			return ctl_usage_error("unknown column: %.*s", (int) len, p);
		if (*n >= max)
			return ctl_usage_error("too many columns specified, the limit is %zu columns", max);
		ids[(*n)++] = id;
		p += len;
		if (!*p || !p[1])
			return 0; /* the end, or a trailing comma (lsmem accepts it too) */
		p++; /* the comma */
	}
}

static int parse_zone(const char *word, size_t len)
{
	char name[16];
	unsigned z;

	if (len >= sizeof(name))
		return ZONE_UNKNOWN;
	memcpy(name, word, len);
	name[len] = '\0';
	if (strcasecmp(name, "none") == 0)
		return ZONE_NONE;
	z = mo_zone_from_string(name);
	return z ? __builtin_ctz(z) : ZONE_UNKNOWN;
}

static void row_from_block(struct row *row, const struct mo_block *b, const struct mo_iomem *io)
{
	const char *p = b->valid_zones;
	const struct mo_iomem_range *m = NULL;

	if (!b->device && io)
		m = mo_iomem_managed(io, b->start, b->start + b->size - 1);

	*row = (struct row) {
		.first = b->index,
		.count = 1,
		.state = b->state,
		/* lsmem's reading: a missing or odd removable file is "no". */
		.removable = b->removable == 1,
		.node = b->node,
		.device = b->device ? b->device : m ? m->driver : NULL,
	};
	while (p && row->nr_zones < MAX_ZONES_PER_BLOCK) {
		size_t len;

		p += strspn(p, " ");
		len = strcspn(p, " ");
		if (len == 0)
			break;
		row->zones[row->nr_zones++] = parse_zone(p, len);
		p += len;
	}
}

static bool same_device(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return streq(a, b);
}

/* Whether block @next continues @row under the split policy. */
static bool mergeable(const struct list_opts *o, const struct row *row, const struct row *next)
{
	if (o->all)
		return false;
	if (row->first + row->count != next->first)
		return false; /* a gap in the numbering */
	if (o->split[COL_STATE] && row->state != next->state)
		return false;
	if (o->split[COL_REMOVABLE] && row->removable != next->removable)
		return false;
	if (o->split[COL_NODE] && o->have_nodes && row->node != next->node)
		return false;
	if (o->split[COL_ZONES] && o->have_zones) {
		if (row->nr_zones != next->nr_zones)
			return false;
		for (int i = 0; i < row->nr_zones; i++)
			/* lsmem never merges what it does not understand */
			if (row->zones[i] == ZONE_UNKNOWN || row->zones[i] != next->zones[i])
				return false;
	}
	if (o->split[COL_DEVICE] && !same_device(row->device, next->device))
		return false;
	return true;
}

static const char *state_cell(enum mo_state s)
{
	switch (s) {
	case MO_STATE_ONLINE:
		return "online";
	case MO_STATE_OFFLINE:
		return "offline";
	case MO_STATE_GOING_OFFLINE:
		return "on->off";
	default:
		return "?";
	}
}

/* The text of one cell, or NULL for a cell left empty (JSON null/false). */
static int cell(const struct list_opts *o, const struct mo_memory *mem, const struct row *row,
		int col, char **ret)
{
	uint64_t start = row->first * mem->block_size, size = row->count * mem->block_size;
	char buf[MO_FORMAT_SIZE_MAX];
	char *s = NULL;
	int r = 0;

	switch (col) {
	case COL_RANGE:
		r = asprintf(&s, "0x%016" PRIx64 "-0x%016" PRIx64, start, start + size - 1);
		break;
	case COL_SIZE:
		if (o->bytes)
			r = asprintf(&s, "%" PRIu64, size);
		else
			s = strdup(mo_format_size(size, buf));
		break;
	case COL_STATE:
		s = strdup(state_cell(row->state));
		break;
	case COL_REMOVABLE:
		if (row->state == MO_STATE_ONLINE)
			s = strdup(row->removable ? "yes" : "no");
		else
			return 0;
		break;
	case COL_BLOCK:
		if (row->count == 1)
			r = asprintf(&s, "%" PRIu64, row->first);
		else
			r = asprintf(&s, "%" PRIu64 "-%" PRIu64, row->first, row->first + row->count - 1);
		break;
	case COL_NODE:
		if (!o->have_nodes)
			return 0;
		r = asprintf(&s, "%d", row->node);
		break;
	case COL_ZONES: {
		size_t len = 0;

		if (!o->have_zones)
			return 0;
		for (int i = 0; i < row->nr_zones; i++)
			len += strlen(zone_names[row->zones[i]]) + 1;
		s = malloc(len + 1);
		if (s) {
			*s = '\0';
			for (int i = 0; i < row->nr_zones; i++) {
				if (i)
					strcat(s, "/");
				strcat(s, zone_names[row->zones[i]]);
			}
		}
		break;
	}
	case COL_DEVICE:
		if (!row->device)
			return 0;
		s = strdup(row->device);
		break;
	case COL_PINNED: {
		/* a sum over the row's blocks, like SIZE: it never splits rows */
		uint64_t n = 0;
		bool known;

		if (row->state != MO_STATE_ONLINE || (!o->census && !o->pins))
			return 0;
		known = o->census && mo_pins_count(o->census, start / o->page_size, size / o->page_size, &n) >= 0;
		/* and what earlier attempts found blocking (memoffd's pin store): at least one page a block */
		for (uint64_t b = row->first; o->pins && b < row->first + row->count; b++) {
			const struct mo_pinmem_block *pb = mo_pinmem_find(o->pins, b);

			if (pb) {
				n += pb->n_pfns ? pb->n_pfns : 1;
				known = true;
			}
		}
		if (!known)
			return 0;
		r = asprintf(&s, "%" PRIu64, n);
		break;
	}
	default:
		return -EINVAL;
	}
	if (r < 0 || !s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static int add_line(struct libscols_table *tb, const struct list_opts *o,
		    const struct mo_memory *mem, const struct row *row)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);

	if (!ln)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_columns; i++) {
		char *s = NULL;
		int r = cell(o, mem, row, o->columns[i], &s);

		if (r < 0)
			return r;
		/*
		 * A table's cells need no escaping: libsmartcols writes each non-printable
		 * character as \xHH. Its JSON writer escapes C0 controls but passes other
		 * bytes through: make the text well-formed UTF-8 (json.h's rule), or a
		 * DEVICE from a crafted tree would make the document invalid.
		 */
		if (s && o->json) {
			char *u = mo_json_utf8_dup(s);

			free(s);
			if (!u)
				return -ENOMEM;
			s = u;
		}
		if (s && scols_line_refer_data(ln, i, s) < 0) {
			free(s);
			return -ENOMEM;
		}
	}
	return 0;
}

static int print_table(const struct list_opts *o, const struct mo_memory *mem)
{
	struct libscols_table *tb;
	struct row row = {};
	bool have_row = false;
	int r = -ENOMEM;

	tb = scols_new_table();
	if (!tb)
		return -ENOMEM;
	scols_table_enable_raw(tb, o->raw);
	scols_table_enable_export(tb, o->pairs);
	scols_table_enable_json(tb, o->json);
	scols_table_enable_noheadings(tb, o->noheadings);
	if (o->json && scols_table_set_name(tb, "memory") < 0)
		goto out;

	for (size_t i = 0; i < o->n_columns; i++) {
		const struct coldesc *d = &coldescs[o->columns[i]];
		struct libscols_column *cl = scols_table_new_column(tb, d->name, d->whint, d->flags);

		if (!cl)
			goto out;
		if (!o->json)
			continue;
		/* lsmem's JSON types: numbers for NODE and byte SIZEs, a boolean REMOVABLE. */
		switch (o->columns[i]) {
		case COL_SIZE:
			if (o->bytes)
				scols_column_set_json_type(cl, SCOLS_JSON_NUMBER);
			break;
		case COL_NODE:
			scols_column_set_json_type(cl, SCOLS_JSON_NUMBER);
			break;
		case COL_REMOVABLE:
			scols_column_set_json_type(cl, SCOLS_JSON_BOOLEAN);
			break;
		case COL_PINNED:
			scols_column_set_json_type(cl, SCOLS_JSON_NUMBER);
			break;
		}
	}

	for (size_t i = 0; i < mem->n_blocks; i++) {
		struct row next;

		row_from_block(&next, &mem->blocks[i], o->iomem);
		if (have_row && mergeable(o, &row, &next)) {
			row.count++;
			continue;
		}
		if (have_row && (r = add_line(tb, o, mem, &row)) < 0)
			goto out;
		row = next;
		have_row = true;
	}
	if (have_row && (r = add_line(tb, o, mem, &row)) < 0)
		goto out;

	r = scols_print_table(tb);
	if (r > 0)
		r = -r;
out:
	scols_unref_table(tb);
	return r;
}

static void print_summary(const struct list_opts *o, const struct mo_memory *mem)
{
	static const char *const labels[] = {
		"Memory block size:", "Total online memory:", "Total offline memory:",
	};
	uint64_t values[] = { mem->block_size, 0, 0 };

	/* Going-offline and unreadable blocks count as offline, as in lsmem. */
	for (size_t i = 0; i < mem->n_blocks; i++)
		values[mem->blocks[i].state == MO_STATE_ONLINE ? 1 : 2] += mem->block_size;

	for (size_t i = 0; i < ARRAY_SIZE(labels); i++) {
		char buf[MO_FORMAT_SIZE_MAX];

		if (o->bytes)
			printf("%-23s %15" PRIu64 "\n", labels[i], values[i]);
		else
			printf("%-23s %5s\n", labels[i], mo_format_size(values[i], buf));
	}
}

static int parse_args(struct ctl_ctx *ctx, int argc, char *argv[], struct list_opts *o, int *ret_exit)
{
	static const struct option longopts[] = {
		{ "all",        no_argument,       NULL, 'a' },
		{ "bytes",      no_argument,       NULL, 'b' },
		{ "json",       no_argument,       NULL, 'J' },
		{ "noheadings", no_argument,       NULL, 'n' },
		{ "output",     required_argument, NULL, 'o' },
		{ "output-all", no_argument,       NULL, OPT_OUTPUT_ALL },
		{ "pairs",      no_argument,       NULL, 'P' },
		{ "raw",        no_argument,       NULL, 'r' },
		{ "split",      required_argument, NULL, 'S' },
		{ "summary",    optional_argument, NULL, OPT_SUMMARY },
		CTL_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	int c;

	o->want_table = o->want_summary = true;
	while ((c = ctl_getopt(ctx, argc, argv, "abJno:PrS:s:", longopts, ret_exit)) != -1) {
		switch (c) {
		case CTL_GETOPT_EXIT:
			return -1;
		case 'a':
			o->all = true;
			break;
		case 'b':
			o->bytes = true;
			break;
		case 'J':
			o->json = true;
			o->want_summary = false;
			break;
		case 'n':
			o->noheadings = true;
			break;
		case 'o':
			o->outarg = optarg;
			break;
		case OPT_OUTPUT_ALL:
			o->output_all = true;
			break;
		case 'P':
			o->pairs = true;
			o->want_summary = false;
			break;
		case 'r':
			o->raw = true;
			o->want_summary = false;
			break;
		case 'S':
			o->splitarg = optarg;
			break;
		case 's':
			ctx->sysroot = optarg;
			break;
		case OPT_SUMMARY:
			/* Order matters, as in lsmem: "-J --summary=always" prints both. */
			if (!optarg || streq(optarg, "only"))
				o->want_table = false;
			else if (streq(optarg, "never"))
				o->want_summary = false;
			else if (streq(optarg, "always"))
				o->want_summary = true;
			else
				goto usage_summary;
			break;
		default:
			*ret_exit = ctl_usage_error("unexpected option");
			return -1;
		}
	}
	if (optind < argc) {
		*ret_exit = ctl_usage_error("unexpected argument '%s'", argv[optind]);
		return -1;
	}
	if (o->json + o->pairs + o->raw > 1) {
		*ret_exit = ctl_usage_error("mutually exclusive arguments:%s%s%s",
					    o->json ? " --json" : "", o->pairs ? " --pairs" : "",
					    o->raw ? " --raw" : "");
		return -1;
	}
	if (o->splitarg && o->all) {
		*ret_exit = ctl_usage_error("mutually exclusive arguments: --split --all");
		return -1;
	}
	if (!o->want_table && !o->want_summary) {
		*ret_exit = ctl_usage_error("options --{raw,json,pairs} and --summary=only are mutually exclusive");
		return -1;
	}
	return 0;

usage_summary:
	*ret_exit = ctl_usage_error("unsupported --summary argument '%s' (never, always or only)", optarg);
	return -1;
}

static int setup_columns(struct list_opts *o)
{
	int split[_COL_MAX * 2];
	size_t n_split = 0;

	if (o->output_all) {
		for (size_t i = 0; i < _COL_MAX; i++)
			o->columns[i] = (int) i;
		o->n_columns = _COL_MAX;
	} else {
		memcpy(o->columns, default_columns, sizeof(default_columns));
		o->n_columns = ARRAY_SIZE(default_columns);
	}
	if (o->outarg && parse_columns(o->outarg, o->columns, ARRAY_SIZE(o->columns), &o->n_columns) != 0)
		return -1;

	/* By default rows split on whatever is shown; --split names the columns instead. */
	if (o->splitarg && strcasecmp(o->splitarg, "none") == 0)
		n_split = 0;
	else if (o->splitarg) {
		if (parse_columns(o->splitarg, split, ARRAY_SIZE(split), &n_split) != 0)
			return -1;
	} else {
		memcpy(split, o->columns, o->n_columns * sizeof(int));
		n_split = o->n_columns;
	}
	for (size_t i = 0; i < n_split; i++)
		/* cppcheck-suppress uninitvar ; split[] holds n_split columns on every path */
		o->split[split[i]] = true;
	return 0;
}

static int verb_list(struct ctl_ctx *ctx, int argc, char *argv[])
{
	_cleanup_(mo_root_freep) struct mo_root *root = NULL;
	_cleanup_(mo_memory_freep) struct mo_memory *mem = NULL;
	_cleanup_(mo_census_reader_freep) struct mo_census_reader *census = NULL;
	_cleanup_(mo_iomem_done) struct mo_iomem iomem = {};
	_cleanup_(mo_pinmem_freep) struct mo_pinmem *pins = NULL;
	struct list_opts o = {};
	int r, ex;

	if (parse_args(ctx, argc, argv, &o, &ex) < 0)
		return ex;
	if (setup_columns(&o) < 0)
		return CTL_EXIT_USAGE;

	if (ctl_open_memory(ctx, true, &root, &mem) < 0)
		return CTL_EXIT_FAILED;
	o.have_nodes = mem->have_nodes;
	o.have_zones = mem->have_zones;
	o.page_size = (uint64_t) sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < o.n_columns; i++)
		/* without /proc/kpageflags (not root, no proc/ in the tree) the cells stay empty */
		if (o.columns[i] == COL_PINNED && !census && mo_census_reader_new(root, &census) < 0)
			break;
	o.census = census;
	for (size_t i = 0; i < o.n_columns; i++)
		if (o.columns[i] == COL_DEVICE && !o.iomem && mo_iomem_read(root, &iomem) == 0 && !iomem.addresses_hidden)
			o.iomem = &iomem;
	for (size_t i = 0; i < o.n_columns; i++)
		if (o.columns[i] == COL_PINNED && !pins && ctl_load_daemon_pins(root, &pins) == 0)
			break;
	o.pins = pins;

	if (o.want_table) {
		r = print_table(&o, mem);
		if (r < 0)
			return ctl_error_errno(r, "cannot print the table");
		if (o.want_summary)
			fputc('\n', stdout);
	}
	if (o.want_summary)
		print_summary(&o, mem);
	return mem->n_skipped > 0 ? CTL_EXIT_PARTIAL : CTL_EXIT_OK;
}

CTL_VERB(list, "list memory ranges and blocks (lsmem-compatible)");
