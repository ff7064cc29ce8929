/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * What a job is doing right now, in a few words: the detail of memoffctl's
 * progress line ("offline 128M of 256M (1/2 blocks), block 33 attempt 2"),
 * written from the engine's progress by memoffctl for a job it runs and by
 * memoffd for its jobs (Job1.Progress), so that the line reads the same
 * whoever runs the job.
 */

#include <stddef.h>

#include "job.h"
#include "release.h"

/* Longer than any text below. */
#define PROGRESS_TEXT_MAX 128

/**
 * progress_text_job() - "block 33 attempt 2", "waiting 1.2s", "putting block
 * 33 back online", "block 33 done" into @buf; "" when there is nothing to say.
 */
char *progress_text_job(const struct mo_job_progress *p, char buf[static PROGRESS_TEXT_MAX]);

/**
 * progress_text_release() - "PNP0C80:01 try 2", "PNP0C80:01: block 40
 * offlining", "PNP0C80:01: ejecting", "PNP0C80:01 released", "waiting 1s".
 */
char *progress_text_release(const struct mo_release_progress *p, char buf[static PROGRESS_TEXT_MAX]);
