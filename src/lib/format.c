/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include "format.h"
#include "util.h"

const char *mo_format_size(uint64_t bytes, char buf[static MO_FORMAT_SIZE_MAX])
{
	static const char units[] = "BKMGTPE";
	unsigned shift = 0;
	uint64_t whole, rest, tenths = 0;

	/* The largest power of 1024 that is <= bytes (bytes below 1 KiB stay in B). */
	while (shift < 60 && bytes >= (UINT64_C(1) << (shift + 10)))
		shift += 10;
	whole = bytes >> shift;
	rest = shift ? bytes & ((UINT64_C(1) << shift) - 1) : 0;

	if (rest) {
		uint64_t thousandths;

		/* Truncate to thousandths of the unit without overflowing. */
		if (rest >= UINT64_MAX / 1000)
			thousandths = (rest / 1024) * 1000 / (UINT64_C(1) << (shift - 10));
		else
			thousandths = rest * 1000 / (UINT64_C(1) << shift);
		/* Round half up to tenths: 0.950 -> 1.0 carries into the whole part. */
		tenths = (thousandths + 50) / 100;
		if (tenths == 10) {
			whole++;
			tenths = 0;
		}
	}

	/* whole <= 1024 and tenths <= 9 here: they fit any unsigned. */
	if (tenths)
		snprintf(buf, MO_FORMAT_SIZE_MAX, "%u.%u%c", (unsigned) whole, (unsigned) tenths, units[shift / 10]);
	else
		snprintf(buf, MO_FORMAT_SIZE_MAX, "%u%c", (unsigned) whole, units[shift / 10]);
	return buf;
}
