/* Mixed-precision matmuls on oneDNN (opened with dlopen; the addon builds without it). */
#ifndef TRIALBOOK_ONEDNN_H
#define TRIALBOOK_ONEDNN_H

#include <stddef.h>
#include <stdint.h>

/*
 * A batch of outer x inner products C[o,i] = alpha * op(A[o,i]) . op(B[o,i]) (+ bias row), each
 * matrix at base + o*s?o + i*s?i with leading dimension ld? (all in elements, row-major). A
 * batch stride of 0 repeats one matrix for the whole batch. The same description serves the
 * addon's BLAS path.
 */
typedef struct {
  int64_t outer, inner, m, n, k;
  int ta, tb;
  int64_t lda, ldb, ldc, sAo, sAi, sBo, sBi, sCo, sCi;
  float alpha;
  const float *A, *B, *bias; /* bias: n values or NULL */
  float *C;
} matmul_t;

/* Opens oneDNN 2.x (`path`, or the usual sonames). 1 on success; else 0 with the reason in err. */
int onednn_open(const char *path, char *err, size_t errlen);

/* e.g. "oneDNN 2.6.3 (brg:avx512_core_bf16)": the version and the kernel a bf16 product gets. */
const char *onednn_describe(void);

/* C = op(A) . op(B) with A and B rounded to bf16 (round to nearest even), products accumulated
 * and written in f32. 1 on success; else 0 with the reason in err. */
int onednn_matmul_bf16(const matmul_t *g, char *err, size_t errlen);

/* Threads of oneDNN's OpenMP runtime (the calling thread's setting, which runs every product). */
void onednn_set_threads(int n);

#endif
