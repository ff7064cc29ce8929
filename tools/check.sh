#!/bin/sh
# Build memoff out of tree (in ./build) and run the whole test suite:
# unit tests, captured sysfs trees, the live read-only lsmem comparison and
# the real-kernel QEMU suite. Ends with one line "N passed, N failed, N skipped".
#
# MEMOFF_SANITIZE=1     instead, build in ./build-asan with ASan and UBSan
#                       and run the suite there (the fuzzers replay their
#                       corpora instead of fuzzing; no VM suite: valgrind
#                       covers the binaries in the VM)
# MEMOFF_SANITIZE=also  the normal pass, then the sanitizer pass; the last
#                       line sums both (the default, and what CI runs)
# MEMOFF_SANITIZE=0     the normal pass only
# MEMOFF_CONFIGURE_FLAGS  extra configure arguments, for every pass
# MEMOFF_SYSTEM_TIER=0  leave out the Debian package and the full-system VM
#                       tier (tests/vm/system) in the normal pass
#
# The normal pass builds the Debian package from a clean copy of the tree
# (tools/build-deb.sh: `make distdir`, dpkg-buildpackage, lintian; one test
# point) before `make check`, whose full-system tier installs it in a Debian
# 12 guest.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
[ -x configure ] || ./autogen.sh >/dev/null 2>&1 || { echo "autogen.sh failed" >&2; exit 1; }
jobs=$(nproc 2>/dev/null || echo 2)

SAN_FLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
total_pass=0 total_fail=0 total_skip=0 all_ok=true

# run_pass NAME BUILDDIR [configure arguments...]: build, make check, add up.
run_pass() {
	name=$1 dir=$2
	shift 2
	echo "== $name pass (in $dir)"
	mkdir -p "$top/$dir" && cd "$top/$dir" || exit 1
	if [ ! -f Makefile ]; then
		# shellcheck disable=SC2086
		../configure ${MEMOFF_CONFIGURE_FLAGS:-} "$@" >configure.out 2>&1 ||
			{ cat configure.out; total_fail=$((total_fail + 1)); all_ok=false; cd "$top"; return; }
	fi
	if ! make -j"$jobs" >make.out 2>&1; then
		cat make.out
		total_fail=$((total_fail + 1)); all_ok=false; cd "$top"; return
	fi
	deb_pass=0 deb_fail=0 deb_skip=0
	if [ "$name" = normal ] && [ "${MEMOFF_SYSTEM_TIER:-1}" != 0 ] && [ "${MEMOFF_VM_SUITE:-1}" != 0 ]; then
		build_deb
		case $? in 0) deb_pass=1 ;; 77) deb_skip=1 ;; *) deb_fail=1 ;; esac
	fi
	{ make -j"$jobs" check 2>&1; echo $? >check.rc; } | tee check.out
	rc=$(cat check.rc)
	pass=$(( $(sum PASS) + deb_pass )); fail=$(( $(sum FAIL) + $(sum ERROR) + $(sum XPASS) + deb_fail )); skip=$(( $(sum SKIP) + deb_skip ))
	[ "$pass" -gt 0 ] || fail=$((fail + 1))
	[ "$rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
	echo "$name pass: $pass passed, $fail failed, $skip skipped"
	total_pass=$((total_pass + pass)); total_fail=$((total_fail + fail)); total_skip=$((total_skip + skip))
	[ "$fail" -eq 0 ] || all_ok=false
	cd "$top" || exit 1
}
sum() { grep -E "^# $1: " check.out | awk '{ s += $3 } END { print s + 0 }'; }

# The Debian package, into ./deb of the build tree, where the full-system
# tier finds it. Its tests are the ones `make check` runs next: nocheck.
build_deb() {
	echo "== Debian package (tools/build-deb.sh)"
	start=$(date +%s)
	rm -rf deb
	DEB_BUILD_OPTIONS="nocheck parallel=$jobs" "$top/tools/build-deb.sh" . deb
	deb_rc=$?
	case $deb_rc in
	0) echo "PASS: the Debian package builds from a clean tree and lintian is clean ($(( $(date +%s) - start )) s)" ;;
	77) echo "SKIP: the Debian package: tools missing (tools/install-deps.sh)" ;;
	*) echo "FAIL: the Debian package (deb/build.log, deb/lintian.txt)" ;;
	esac
	return $deb_rc
}

# The sanitizer pass is always the last one: its settings stay exported.
sanitizer_pass() {
	# verify_asan_link_order=0: tests LD_PRELOAD fault-injection shims.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:verify_asan_link_order=0}
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
	MEMOFF_FUZZ_SECONDS=0 MEMOFF_VM_SUITE=0 MEMOFF_STATIC_ANALYSIS=0
	export ASAN_OPTIONS UBSAN_OPTIONS MEMOFF_FUZZ_SECONDS MEMOFF_VM_SUITE MEMOFF_STATIC_ANALYSIS
	run_pass sanitizer build-asan CFLAGS="$SAN_FLAGS" LDFLAGS="-fsanitize=address,undefined"
}

case ${MEMOFF_SANITIZE:-also} in
1) sanitizer_pass ;;
also) run_pass normal build; sanitizer_pass ;;
*) run_pass normal build ;;
esac
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
$all_ok && [ "$total_fail" -eq 0 ]
