#!/bin/sh
# Static analysis gates (TAP), one point per tool, zero findings allowed:
#   cppcheck    --enable=warning,portability,performance on src/
#   clang-tidy  the checks in .clang-tidy on src/
# A false positive is suppressed on its line with the tool's comment and a
# reason: /* cppcheck-suppress ID */ on the line before, or
# /* NOLINT(check-name): why */ on the line itself.
#
# Leak reports are left to LeakSanitizer (the sanitizer pass of
# tools/check.sh): neither cppcheck nor clang's analyzer understands
# __attribute__((cleanup)), which frees nearly everything here.
#
# MEMOFF_STATIC_ANALYSIS=0 skips both (the sanitizer pass does: same code).
set -u
srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-$(pwd)}
jobs=$(nproc 2>/dev/null || echo 2)

. "$srcdir/tests/lib/tap.sh"
plan 2
if [ "${MEMOFF_STATIC_ANALYSIS:-1}" = 0 ]; then
	skip "cppcheck: MEMOFF_STATIC_ANALYSIS=0"
	skip "clang-tidy: MEMOFF_STATIC_ANALYSIS=0"
	exit 0
fi
if [ ! -f "$builddir/config.h" ]; then
	echo "Bail out! no config.h in $builddir"
	exit 1
fi
sources=$(find "$srcdir/src" -name '*.c' | LC_ALL=C sort)
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

# 1. cppcheck
if ! command -v cppcheck >/dev/null 2>&1; then
	skip "cppcheck not installed (Debian: cppcheck)"
else
	# One configuration (ours), not every #ifdef combination; SD_BUS_PARAM
	# is sd-bus's macro, which cppcheck cannot see without system headers.
	# shellcheck disable=SC2086
	cppcheck -q --std=c11 --enable=warning,portability,performance --inline-suppr \
		--error-exitcode=1 --suppress=memleak -j "$jobs" \
		-D_GNU_SOURCE '-DSD_BUS_PARAM(x)=#x "\0"' \
		-I"$builddir" --include="$builddir/config.h" -I"$srcdir/src/lib" -I"$srcdir/src/shared" -I"$srcdir/src" \
		$sources >"$tmp/cppcheck.out" 2>&1
	rc=$?
	n=$(grep -cE '^[^ ].*:[0-9]+:[0-9]+: (error|warning|portability|performance|style):' "$tmp/cppcheck.out")
	if [ "$rc" -eq 0 ] && [ "$n" -eq 0 ]; then
		ok "cppcheck: no finding in $(echo $sources | wc -w) files"
	else
		not_ok "cppcheck: $n findings (exit $rc)"
		sed "s|$srcdir/||; s/^/# /" "$tmp/cppcheck.out"
	fi
fi

# 2. clang-tidy
if ! command -v clang-tidy >/dev/null 2>&1; then
	skip "clang-tidy not installed (Debian: clang-tidy)"
else
	TIDY_FLAGS="-std=gnu11 -I$builddir -include $builddir/config.h -I$srcdir/src/lib -I$srcdir/src/shared -I$srcdir/src"
	TIDY_FLAGS="$TIDY_FLAGS $(pkg-config --cflags libsystemd libudev smartcols inih numa 2>/dev/null)"
	export TIDY_FLAGS
	# shellcheck disable=SC2016
	printf '%s\n' $sources | xargs -P "$jobs" -n 4 sh -c \
		'clang-tidy -quiet "$@" -- $TIDY_FLAGS' sh >"$tmp/tidy.out" 2>"$tmp/tidy.err"
	grep -E ': (warning|error): ' "$tmp/tidy.out" "$tmp/tidy.err" | sed 's/^[^:]*://' |
		grep -vE 'Potential (leak of memory pointed to by|memory leak)' |
		sed "s|$srcdir/||" | LC_ALL=C sort -u >"$tmp/tidy.findings"
	n=$(wc -l <"$tmp/tidy.findings")
	if [ "$n" -eq 0 ]; then
		ok "clang-tidy: no finding in $(echo $sources | wc -w) files"
	else
		not_ok "clang-tidy: $n findings"
		sed 's/^/# /' "$tmp/tidy.findings"
	fi
fi
