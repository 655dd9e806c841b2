#include "parallel.h"

#include <pthread.h>

/* Elements per thread below which starting a thread costs more than it saves. */
#define PARALLEL_GRAIN (1 << 18)

typedef struct {
  range_fn f;
  void *ctx;
  int64_t begin, end;
  int part;
} range_t;

static void *range_run(void *arg) {
  const range_t *r = arg;
  r->f(r->ctx, r->begin, r->end, r->part);
  return 0;
}

int range_parts(int64_t n, int threads) {
  int64_t t = n / PARALLEL_GRAIN;
  if (t > threads) t = threads;
  if (t > MAX_OWN_THREADS) t = MAX_OWN_THREADS;
  return t < 1 ? 1 : (int)t;
}

void parallel_range(int64_t n, int threads, range_fn f, void *ctx) {
  const int parts = range_parts(n, threads);
  range_t r[MAX_OWN_THREADS];
  pthread_t tid[MAX_OWN_THREADS];
  int started[MAX_OWN_THREADS] = {0};
  for (int t = 0; t < parts; t++) {
    /* Range edges on 16-element (64-byte) boundaries: no two threads share a cache line. */
    const int64_t b = t == 0 ? 0 : (n * t / parts) & ~(int64_t)15, e = t == parts - 1 ? n : (n * (t + 1) / parts) & ~(int64_t)15;
    r[t] = (range_t){f, ctx, b, e, t};
    if (t > 0) started[t] = pthread_create(&tid[t], 0, range_run, &r[t]) == 0;
  }
  range_run(&r[0]);
  /* A thread that could not start has its share run here. */
  for (int t = 1; t < parts; t++) {
    if (started[t]) pthread_join(tid[t], 0);
    else range_run(&r[t]);
  }
}
