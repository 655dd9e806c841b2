/* Work split over a few threads: element-wise passes over large arrays (memory-bound: one core
 * does not fill the memory bus) and batches of small products. */
#ifndef TRIALBOOK_PARALLEL_H
#define TRIALBOOK_PARALLEL_H

#include <stdint.h>

#define MAX_OWN_THREADS 64

/* f(ctx, begin, end, part) for the parts of [0, n); part < MAX_OWN_THREADS. */
typedef void (*range_fn)(void *ctx, int64_t begin, int64_t end, int part);

/* Runs f over [0, n) in `parts` (at most MAX_OWN_THREADS) contiguous ranges whose edges are
 * multiples of `align`, each on its own thread, the calling thread taking the first. A thread
 * that cannot start has its range run on the calling thread. */
void run_parts(int64_t n, int parts, int64_t align, range_fn f, void *ctx);

/* An element-wise pass: f over [0, n) on up to `threads` threads, one per 2^18 elements at
 * least, ranges on 64-byte boundaries. Returns how many parts it ran (f's `part` < that). */
int parallel_range(int64_t n, int threads, range_fn f, void *ctx);

#endif
