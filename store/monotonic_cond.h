/* SPDX-License-Identifier: MPL-2.0 */
/* A condition variable whose timed waits run on CLOCK_MONOTONIC, so that a
 * change of the wall clock neither cuts short nor stretches the pauses of
 * the store's threads (the state writer, the database store). */
#ifndef BSDP_MONOTONIC_COND_H
#define BSDP_MONOTONIC_COND_H

#include <pthread.h>
#include <time.h>

static inline void bsdp_monotonic_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

#endif
