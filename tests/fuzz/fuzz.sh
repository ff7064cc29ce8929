#!/bin/sh
# The fuzz targets as a test (TAP), two points per target:
#   replay: its corpus (real-capture seeds and every crash ever found) run
#           through the target built with $(CC) (tests/fuzz/replay-NAME)
#   fuzz:   a short bounded libFuzzer run (tests/fuzz/fuzz-NAME, built with
#           clang), SKIP when configure found no clang with libFuzzer
#
# Environment:
#   MEMOFF_FUZZ_SECONDS  total libFuzzer time, split evenly across targets
#                        (default 48: make check stays within a minute);
#                        0 replays the corpus under libFuzzer only (-runs=0)
#   MEMOFF_FUZZ_TARGETS  only these targets ("block iomem"; default: all)
#   MEMOFF_FUZZ_WORK     keep what the fuzzers learn in this directory (one
#                        subdirectory per target; make fuzz uses it); by
#                        default a temporary directory, removed at the end
# Crashes are saved as tests/fuzz/artifacts/NAME-crash-* in the build tree;
# the message says how to reproduce. Each becomes a corpus file (see
# tests/fuzz/README.md).
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${top_builddir:-$(pwd)}
total=${MEMOFF_FUZZ_SECONDS:-48}
fuzzdir=$builddir/tests/fuzz

names=
for f in "$srcdir"/tests/fuzz/fuzz-*.c; do
	n=$(basename "$f" .c)
	[ "$n" = fuzz-tree ] && continue
	if [ -n "${MEMOFF_FUZZ_TARGETS:-}" ]; then
		case " $MEMOFF_FUZZ_TARGETS " in *" ${n#fuzz-} "*) ;; *) continue ;; esac
	fi
	names="$names ${n#fuzz-}"
done
count=$(echo $names | wc -w)
per=0
if [ "$total" -gt 0 ] && [ "$count" -gt 0 ]; then
	per=$((total / count))
	[ "$per" -ge 1 ] || per=1
fi

tmp=$(mktemp -d) || exit 1
# The targets' scratch trees (fuzz-tree.c), in memory when possible.
MEMOFF_FUZZ_TREE_DIR=$(mktemp -d /dev/shm/memoff-fuzz.XXXXXX 2>/dev/null || mktemp -d) || exit 1
export MEMOFF_FUZZ_TREE_DIR
trap 'rm -rf "$tmp" "$MEMOFF_FUZZ_TREE_DIR"' EXIT
echo "1..$((count * 2))"
i=0
diag() { sed 's/^/# /' "$1" | tail -n "${2:-30}"; }

for n in $names; do
	corpus=$srcdir/tests/fuzz/corpus/$n
	if [ ! -d "$corpus" ]; then
		corpus=$tmp/empty-corpus
		mkdir -p "$corpus"
	fi

	# 1. replay with the $(CC) build
	i=$((i + 1))
	replay=$fuzzdir/replay-$n
	if [ ! -x "$replay" ]; then
		echo "not ok $i - $n: replay: $replay was not built (add it to Makefile.am)"
	elif "$replay" "$corpus" >"$tmp/replay-$n.log" 2>&1; then
		echo "ok $i - $n: replay: $(tail -n 1 "$tmp/replay-$n.log" | sed 's/^replay: //') without a finding"
	else
		echo "not ok $i - $n: replay of $corpus failed"
		diag "$tmp/replay-$n.log"
	fi

	# 2. fuzz with libFuzzer
	i=$((i + 1))
	fuzzer=$fuzzdir/fuzz-$n
	if [ ! -x "$fuzzer" ]; then
		echo "ok $i # SKIP $n: fuzz: no libFuzzer build (configure found no clang with -fsanitize=fuzzer; install clang and libclang-rt-14-dev)"
		continue
	fi
	if [ -n "${MEMOFF_FUZZ_WORK:-}" ]; then
		work=$MEMOFF_FUZZ_WORK/$n
	else
		work=$tmp/work-$n
	fi
	mkdir -p "$work" "$fuzzdir/artifacts"
	if [ "$per" -gt 0 ]; then
		limit="-max_total_time=$per"
	else
		limit="-runs=0"
	fi
	log=$tmp/fuzz-$n.log
	if "$fuzzer" $limit -timeout=25 -print_final_stats=1 \
		-artifact_prefix="$fuzzdir/artifacts/$n-" "$work" "$corpus" >"$log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
		cov=$(grep -E '^#[0-9]+.*(DONE|INITED)' "$log" | tail -n 1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
		echo "ok $i - $n: fuzz: ${runs:-?} runs in ${per}s, coverage ${cov:-?}, no finding"
	else
		art=$(sed -n "s/.*Test unit written to \(.*\)/\1/p" "$log" | tail -n 1)
		echo "not ok $i - $n: fuzz: finding saved as ${art:-?}; reproduce: $fuzzer ${art:-ARTIFACT}"
		diag "$log" 40
	fi
done
