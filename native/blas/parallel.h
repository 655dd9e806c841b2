/* Element-wise passes over large arrays split over a few threads (memory-bound work: one core
 * does not fill the memory bus). */
#ifndef TRIALBOOK_PARALLEL_H
#define TRIALBOOK_PARALLEL_H

#include <stdint.h>

#define MAX_OWN_THREADS 64

/* f(ctx, begin, end, part) for the parts of [0, n); part < MAX_OWN_THREADS. */
typedef void (*range_fn)(void *ctx, int64_t begin, int64_t end, int part);

/* How many parts parallel_range cuts n elements into with `threads` threads. */
int range_parts(int64_t n, int threads);

/* Runs f over [0, n) in range_parts(n, threads) contiguous ranges, each on its own thread. */
void parallel_range(int64_t n, int threads, range_fn f, void *ctx);

#endif
