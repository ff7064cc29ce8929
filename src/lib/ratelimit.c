/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ratelimit.h"

#include <stddef.h>

bool mo_ratelimit_below(struct mo_ratelimit *rl, uint64_t now, unsigned *suppressed)
{
	if (rl->begin == 0 || now < rl->begin || now - rl->begin >= rl->interval_usec) {
		rl->begin = now ? now : 1;
		rl->n = 0;
	}
	if (rl->n >= rl->burst) {
		if (rl->suppressed < UINT32_MAX)
			rl->suppressed++;
		return false;
	}
	rl->n++;
	if (suppressed)
		*suppressed = rl->suppressed;
	rl->suppressed = 0;
	return true;
}
