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

void run_parts(int64_t n, int parts, int64_t align, range_fn f, void *ctx) {
  if (parts > MAX_OWN_THREADS) parts = MAX_OWN_THREADS;
  if (parts < 1) parts = 1;
  range_t r[MAX_OWN_THREADS];
  pthread_t tid[MAX_OWN_THREADS];
  int started[MAX_OWN_THREADS] = {0};
  for (int t = 0; t < parts; t++) {
    int64_t b = n * t / parts, e = n * (t + 1) / parts;
    if (t > 0) b -= b % align;
    if (t < parts - 1) e -= e % align;
    r[t] = (range_t){f, ctx, b, e, t};
    if (t > 0) started[t] = pthread_create(&tid[t], 0, range_run, &r[t]) == 0;
  }
  range_run(&r[0]);
  for (int t = 1; t < parts; t++) {
    if (started[t]) pthread_join(tid[t], 0);
    else range_run(&r[t]);
  }
}

int parallel_range(int64_t n, int threads, range_fn f, void *ctx) {
  int64_t parts = n / PARALLEL_GRAIN;
  if (parts > threads) parts = threads;
  if (parts < 1) parts = 1;
  /* Range edges on 16-element (64-byte) boundaries: no two threads share a cache line. */
  run_parts(n, (int)parts, 16, f, ctx);
  return (int)parts;
}
