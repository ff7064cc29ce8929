#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every MESSAGE_ID of doc/memoff.catalog is defined in src/lib/log.h and sent
# by the code (its MO_MESSAGE_ macro is used in a .c file), and every
# MO_MESSAGE_ of log.h has a catalog entry. Which fields each record carries
# is checked by tests/unit/test-joblog. The job records' senders
# (joblog.h) are called by memoffd.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
catalog=$top_srcdir/doc/memoff.catalog
logh=$top_srcdir/src/lib/log.h
. "$top_srcdir/tests/lib/tap.sh"

for id in $(sed -n 's/^-- \([0-9a-f]\{32\}\)$/\1/p' "$catalog"); do
	macro=$(sed -n "s/^#define \(MO_MESSAGE_[A-Z_]*\) *\"$id\"$/\1/p" "$logh")
	if [ -z "$macro" ]; then
		not_ok "catalog entry $id is defined in src/lib/log.h"
		continue
	fi
	users=$(grep -rlw "$macro" "$top_srcdir/src" --include='*.c' | sed "s|^$top_srcdir/||" | tr '\n' ' ')
	if [ -n "$users" ]; then
		ok "$macro ($id) is sent by ${users% }"
	else
		not_ok "$macro ($id) is sent by some code"
	fi
done
for macro in $(sed -n 's/^#define \(MO_MESSAGE_[A-Z_]*\) .*/\1/p' "$logh"); do
	id=$(sed -n "s/^#define $macro *\"\([0-9a-f]*\)\"$/\1/p" "$logh")
	if grep -q "^-- $id\$" "$catalog"; then
		ok "$macro has a catalog entry"
	else
		not_ok "$macro has a catalog entry"
	fi
done
for fn in $(sed -n 's/^void \(mo_joblog_[a-z_]*\)(.*/\1/p' "$top_srcdir/src/lib/joblog.h"); do
	if grep -qw "$fn" "$top_srcdir"/src/memoffd/*.c; then
		ok "memoffd calls $fn"
	else
		not_ok "memoffd calls $fn"
	fi
done
plan_done
