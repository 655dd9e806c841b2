/*
 * Single-precision GEMM for the wasm backend, handed to the system's BLAS (OpenBLAS, or Apple
 * Accelerate). The wasm backend computes matmuls at 2-30 GFLOP/s on one thread; an optimised
 * BLAS reaches about 4x that on the same core and can use every core. The library is opened with
 * dlopen at run time, so building needs no BLAS headers and a machine without one still loads
 * this addon (it then reports `available: false` and the engine stays on wasm kernels).
 * With precision bf16 the larger products go to oneDNN instead (onednn.c).
 *
 * Operands are addressed as byte offsets into one ArrayBuffer (the wasm heap), so a matmul needs
 * no copy in or out of WebAssembly memory.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <node_api.h>

#include "cpu.h"
#include "onednn.h"
#include "parallel.h"

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };
typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int n);
typedef int (*get_threads_fn)(void);
typedef char *(*get_config_fn)(void);

static sgemm_fn sgemm;
static set_threads_fn set_threads;
static get_threads_fn get_threads;
static get_config_fn get_config;
static get_config_fn get_corename;
static char library[512];
static char load_error[512];
/* Threads for our own parallel loops (gemmStrided): the count asked of setThreads. */
static int own_threads = 1;
/* Precision bf16: products large enough to gain go to onednn_matmul_bf16. */
static int bf16_on;
/* Multiply-adds run so far in each precision (matmulStats). */
static double macs_f32, macs_bf16;

static const char *candidates[] = {
  "libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libopenblas64_.so.0",
  "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib",
  "/System/Library/Frameworks/Accelerate.framework/Accelerate", NULL,
};

static int try_open(const char *name) {
  void *h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(load_error, sizeof load_error, "%s", dlerror());
    return 0;
  }
  sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
  if (!sgemm) {
    snprintf(load_error, sizeof load_error, "%s has no cblas_sgemm", name);
    dlclose(h);
    return 0;
  }
  set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
  get_threads = (get_threads_fn)dlsym(h, "openblas_get_num_threads");
  get_config = (get_config_fn)dlsym(h, "openblas_get_config");
  get_corename = (get_config_fn)dlsym(h, "openblas_get_corename");
  snprintf(library, sizeof library, "%s", name);
  return 1;
}

static void set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, obj, key, v);
}

static void set_bool(napi_env env, napi_value obj, const char *key, int value) {
  napi_value v;
  napi_get_boolean(env, value, &v);
  napi_set_named_property(env, obj, key, v);
}

/* An optional string argument i into buf ("" when absent or not a string). */
static void string_arg(napi_env env, napi_value *argv, size_t argc, size_t i, char *buf, size_t len) {
  napi_valuetype t = napi_undefined;
  buf[0] = 0;
  if (argc > i) napi_typeof(env, argv[i], &t);
  if (t == napi_string) napi_get_value_string_utf8(env, argv[i], buf, len, &len);
}

/* load(path?) -> { available, library, config, core, threads, error }. OpenBLAS reads
 * OPENBLAS_CORETYPE once, when it is loaded here: the caller sets it first (native-blas.ts). */
static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!sgemm) {
    char wanted[512];
    string_arg(env, argv, argc, 0, wanted, sizeof wanted);
    if (wanted[0]) try_open(wanted);
    else for (const char **c = candidates; *c && !sgemm; c++) try_open(*c);
  }
  napi_value out, v;
  napi_create_object(env, &out);
  set_bool(env, out, "available", sgemm != NULL);
  set_string(env, out, "library", sgemm ? library : "");
  set_string(env, out, "config", sgemm && get_config ? get_config() : "");
  set_string(env, out, "core", sgemm && get_corename ? get_corename() : "");
  napi_create_int32(env, sgemm && get_threads ? get_threads() : 0, &v);
  napi_set_named_property(env, out, "threads", v);
  set_string(env, out, "error", sgemm ? "" : load_error);
  return out;
}

/* cpuFeatures() -> { vendor, avx, avx2, fma, avx512, avx512_bf16, amx_bf16 } */
static napi_value cpu_features_js(napi_env env, napi_callback_info info) {
  (void)info;
  cpu_features_t f;
  cpu_features(&f);
  napi_value out;
  napi_create_object(env, &out);
  set_string(env, out, "vendor", f.vendor);
  set_bool(env, out, "avx", f.avx);
  set_bool(env, out, "avx2", f.avx2);
  set_bool(env, out, "fma", f.fma);
  set_bool(env, out, "avx512", f.avx512);
  set_bool(env, out, "avx512_bf16", f.avx512_bf16);
  set_bool(env, out, "amx_bf16", f.amx_bf16);
  return out;
}

/* loadOnednn(path?) -> { available, description, error } */
static napi_value load_onednn(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char path[512], err[512] = "";
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  string_arg(env, argv, argc, 0, path, sizeof path);
  const int ok = onednn_open(path, err, sizeof err);
  if (ok) onednn_set_threads(own_threads);
  napi_value out;
  napi_create_object(env, &out);
  set_bool(env, out, "available", ok);
  set_string(env, out, "description", onednn_describe());
  set_string(env, out, "error", err);
  return out;
}

/* setPrecision("bf16" | "fp32") -> the precision in force ("bf16" needs oneDNN loaded). */
static napi_value set_precision(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  char want[8];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  string_arg(env, argv, argc, 0, want, sizeof want);
  bf16_on = strcmp(want, "bf16") == 0 && onednn_describe()[0];
  /* In bf16 the BLAS keeps only small products; its idle threads would spin against oneDNN's. */
  if (set_threads) set_threads(bf16_on ? 1 : own_threads);
  napi_value v;
  napi_create_string_utf8(env, bf16_on ? "bf16" : "fp32", NAPI_AUTO_LENGTH, &v);
  return v;
}

/* matmulStats() -> { fp32, bf16 }: multiply-adds run so far in each precision. */
static napi_value matmul_stats(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out, v;
  napi_create_object(env, &out);
  napi_create_double(env, macs_f32, &v);
  napi_set_named_property(env, out, "fp32", v);
  napi_create_double(env, macs_bf16, &v);
  napi_set_named_property(env, out, "bf16", v);
  return out;
}

static napi_value set_num_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_int32(env, argv[0], &n);
  if (n > 0) {
    own_threads = n;
    onednn_set_threads(n);
    if (set_threads) set_threads(bf16_on ? 1 : n);
  }
  /* The threads in use: the BLAS's (it may cap the count), or ours while bf16 keeps it at one. */
  napi_value v;
  napi_create_int32(env, get_threads && !bf16_on ? get_threads() : own_threads, &v);
  return v;
}

/* ---- JS entry points ----
 * Every kernel takes the heap (an ArrayBuffer: the wasm memory) first, then numbers: byte
 * offsets of its operands and their sizes. Each operand is bounds-checked before use, so a wrong
 * offset throws instead of corrupting memory. */
typedef struct {
  napi_env env;
  char *heap;
  size_t len;
  napi_value argv[24];
} call_t;

static int begin(napi_env env, napi_callback_info info, size_t want, call_t *c) {
  size_t argc = want;
  c->env = env;
  napi_get_cb_info(env, info, &argc, c->argv, NULL, NULL);
  if (argc < want || napi_get_arraybuffer_info(env, c->argv[0], (void **)&c->heap, &c->len) != napi_ok) {
    napi_throw_type_error(env, "E_BLAS", "kernel: expected (ArrayBuffer, ...numbers)");
    return 0;
  }
  return 1;
}

static int64_t num(call_t *c, int i) {
  int64_t x = -1;
  napi_get_value_int64(c->env, c->argv[i], &x);
  return x;
}

static double real(call_t *c, int i) {
  double x = 0;
  napi_get_value_double(c->env, c->argv[i], &x);
  return x;
}

/* The operand whose byte offset is argument i, holding `count` 4-byte values; NULL (and a thrown
 * RangeError) when it does not lie inside the heap or is misaligned. */
static float *operand(call_t *c, int i, int64_t count) {
  const int64_t off = num(c, i);
  if (count < 0 || off < 0 || off % 4 || (uint64_t)off + (uint64_t)count * 4 > c->len) {
    napi_throw_range_error(c->env, "E_BLAS", "kernel: operand outside the buffer");
    return NULL;
  }
  return (float *)(c->heap + off);
}

/* The last element an operand touches: `outer`x`inner` matrices of `rows` rows of `cols` values
 * with leading dimension ld, placed at the given strides (all in elements). */
static int64_t extent(int64_t outer, int64_t inner, int64_t so, int64_t si, int64_t rows, int64_t cols, int64_t ld) {
  return (outer - 1) * so + (inner - 1) * si + (rows - 1) * ld + cols;
}

/* One product of a batch on the BLAS, with beta 1 when a bias row was copied into C first. */
static void blas_one(const matmul_t *g, int64_t j) {
  const int64_t o = j / g->inner, i = j % g->inner;
  float *C = g->C + o * g->sCo + i * g->sCi;
  if (g->bias)
    for (int64_t r = 0; r < g->m; r++) memcpy(C + r * g->ldc, g->bias, (size_t)g->n * 4);
  sgemm(RowMajor, g->ta ? Trans : NoTrans, g->tb ? Trans : NoTrans, (int)g->m, (int)g->n, (int)g->k, g->alpha, g->A + o * g->sAo + i * g->sAi,
        (int)g->lda, g->B + o * g->sBo + i * g->sBi, (int)g->ldb, g->bias ? 1.0f : 0.0f, C, (int)g->ldc);
}

/* Products [begin, end) of a batch (f's signature for run_parts). */
static void blas_range(void *g, int64_t begin, int64_t end, int part) {
  (void)part;
  for (int64_t j = begin; j < end; j++) blas_one(g, j);
}

/* Attention's products are small (128x128x64 for BERT at seq 128): BLAS splits each one over its
 * threads and waits for them every time, which ran them at half the speed of large products.
 * Instead each of our threads takes a share of the matrices and runs them one BLAS thread each. */
static void blas_batch(const matmul_t *g) {
  const int64_t count = g->outer * g->inner;
  int threads = own_threads < MAX_OWN_THREADS ? own_threads : MAX_OWN_THREADS;
  if (threads > count) threads = (int)count;
  if (threads < 2 || !set_threads || !get_threads || g->m * g->n * g->k > (1 << 22)) {
    blas_range((void *)g, 0, count, 0);
    return;
  }
  const int blas_threads = get_threads();
  set_threads(1);
  run_parts(count, threads, 1, blas_range, (void *)g);
  set_threads(blas_threads);
}

/* Under bf16 a product pays for rounding its operands (a pass over each, about a nanosecond an
 * element) with the time its multiply-adds save (about half of an f32 GEMM's, at 100-200 GFLOP/s
 * a core): it gains only when it does over ~128 multiply-adds per element rounded, which a
 * weight matrix meets from about 128 rows of activations. Smaller products stay f32: column sums
 * (1 x rows . rows x n), the classifier's few outputs, short sequences in small micro-batches. */
static int bf16_worth(const matmul_t *g) {
  if (!bf16_on || g->m < 16 || g->n < 16 || g->k < 16) return 0;
  const double macs = (double)g->outer * (double)g->inner * (double)g->m * (double)g->n * (double)g->k;
  const double rounded = (double)extent(g->outer, g->inner, g->sAo, g->sAi, g->ta ? g->k : g->m, g->ta ? g->m : g->k, g->lda) +
                         (double)extent(g->outer, g->inner, g->sBo, g->sBi, g->tb ? g->n : g->k, g->tb ? g->k : g->n, g->ldb);
  return macs >= 128.0 * rounded;
}

/* Runs a batch of products (BLAS, or oneDNN in bf16); 0 with a thrown error on failure. */
static int run_matmul(napi_env env, const matmul_t *g) {
  const double macs = (double)g->outer * (double)g->inner * (double)g->m * (double)g->n * (double)g->k;
  if (bf16_worth(g)) {
    macs_bf16 += macs;
    char err[256];
    if (!onednn_matmul_bf16(g, err, sizeof err)) {
      napi_throw_error(env, "E_BLAS", err);
      return 0;
    }
    return 1;
  }
  if (!sgemm) {
    napi_throw_error(env, "E_BLAS", "matmul: no BLAS library loaded");
    return 0;
  }
  macs_f32 += macs;
  blas_batch(g);
  return 1;
}

/*
 * gemm(heap, a, b, c, bias, batchA, batchB, m, n, k, transA, transB)
 *   C[g] = op(A[g or 0]) . op(B[g or 0]) (+ bias row), row-major; bias < 0 means none.
 *   A batch of 1 broadcasts against the other operand's batch.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 12, &c)) return NULL;
  const int64_t batchA = num(&c, 5), batchB = num(&c, 6), m = num(&c, 7), n = num(&c, 8), k = num(&c, 9);
  const int64_t batch = batchA > batchB ? batchA : batchB;
  bool ta = false, tb = false;
  napi_get_value_bool(env, c.argv[10], &ta);
  napi_get_value_bool(env, c.argv[11], &tb);
  if ((batchA != batch && batchA != 1) || (batchB != batch && batchB != 1) || m <= 0 || n <= 0 || k <= 0) {
    napi_throw_range_error(env, "E_BLAS", "gemm: batch mismatch or empty product");
    return NULL;
  }
  float *A = operand(&c, 1, batchA * m * k), *B = A ? operand(&c, 2, batchB * k * n) : NULL, *C = B ? operand(&c, 3, batch * m * n) : NULL;
  if (!C) return NULL;
  const float *bias = NULL;
  if (num(&c, 4) >= 0 && !(bias = operand(&c, 4, n))) return NULL;
  const matmul_t g = {1, batch, m, n, k, ta, tb, ta ? m : k, tb ? k : n, n, 0, batchA == 1 ? 0 : m * k, 0, batchB == 1 ? 0 : k * n, 0, m * n, 1.0f, A, B, bias, C};
  run_matmul(env, &g);
  return NULL;
}

/*
 * gemmStrided(heap, a, b, c, outer, inner, m, n, k, transA, transB, lda, ldb, ldc,
 *             sAo, sAi, sBo, sBi, sCo, sCi, alpha)
 *   For o < outer, i < inner: C[o,i] = alpha * op(A[o,i]) . op(B[o,i]), each matrix at
 *   base + o*s?o + i*s?i with its own leading dimension (strides in elements). Multi-head
 *   attention reads and writes the heads in place in [batch*seq, hidden] this way, with no
 *   transposes.
 */
static napi_value gemm_strided(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 21, &c)) return NULL;
  const int64_t outer = num(&c, 4), inner = num(&c, 5), m = num(&c, 6), n = num(&c, 7), k = num(&c, 8);
  bool ta = false, tb = false;
  napi_get_value_bool(env, c.argv[9], &ta);
  napi_get_value_bool(env, c.argv[10], &tb);
  const int64_t lda = num(&c, 11), ldb = num(&c, 12), ldc = num(&c, 13);
  const int64_t sAo = num(&c, 14), sAi = num(&c, 15), sBo = num(&c, 16), sBi = num(&c, 17), sCo = num(&c, 18), sCi = num(&c, 19);
  if (outer <= 0 || inner <= 0 || m <= 0 || n <= 0 || k <= 0 || lda < (ta ? m : k) || ldb < (tb ? k : n) || ldc < n) {
    napi_throw_range_error(env, "E_BLAS", "gemmStrided: bad sizes or leading dimensions");
    return NULL;
  }
  float *A = operand(&c, 1, extent(outer, inner, sAo, sAi, ta ? k : m, ta ? m : k, lda));
  float *B = A ? operand(&c, 2, extent(outer, inner, sBo, sBi, tb ? n : k, tb ? k : n, ldb)) : NULL;
  float *C = B ? operand(&c, 3, extent(outer, inner, sCo, sCi, m, n, ldc)) : NULL;
  if (!C) return NULL;
  const matmul_t g = {outer, inner, m, n, k, ta, tb, lda, ldb, ldc, sAo, sAi, sBo, sBi, sCo, sCi, (float)real(&c, 20), A, B, NULL, C};
  run_matmul(env, &g);
  return NULL;
}

/* ---- Fused element-wise kernels (GELU, LayerNorm, embedding rows) ----
 * On wasm each of these is 4-10 separate kernels, each a pass over memory; here each is one pass.
 * exp and erf use branch-free approximations (relative error ~1e-7, float32 rounding level) so
 * the loops vectorise, reductions included (`omp simd`, compiled with -fopenmp-simd: no OpenMP
 * runtime), in versions for the CPU's vector width (vectorise.h). */
#include <math.h>
#include "vectorise.h"

static inline __attribute__((always_inline)) float exp_approx(float x) {
  x = x > 88.0f ? 88.0f : x;
  x = x < -87.0f ? -87.0f : x;
  const float t = x * 1.44269504088896341f;
  const float r = (t + 12582912.0f) - 12582912.0f; /* round to nearest (1.5 * 2^23 trick) */
  const float f = (t - r) * 0.693147180559945309f; /* e^x = 2^r * e^f, |f| <= ln2/2 */
  float p = 1.0f / 720.0f;
  p = p * f + 1.0f / 120.0f;
  p = p * f + 1.0f / 24.0f;
  p = p * f + 1.0f / 6.0f;
  p = p * f + 0.5f;
  p = p * f + 1.0f;
  p = p * f + 1.0f;
  const int32_t bits = ((int32_t)r + 127) << 23;
  float scale;
  memcpy(&scale, &bits, 4);
  return p * scale;
}

/* erf(x/sqrt2) and exp(-x^2/2) together (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
static inline __attribute__((always_inline)) float erf_scaled(float x, float *gauss) {
  const float z = fabsf(x) * 0.70710678118654752f;
  const float t = 1.0f / (1.0f + 0.3275911f * z);
  const float e = exp_approx(-z * z);
  float p = 1.061405429f;
  p = p * t - 1.453152027f;
  p = p * t + 1.421413741f;
  p = p * t - 0.284496736f;
  p = p * t + 0.254829592f;
  const float y = 1.0f - p * t * e;
  *gauss = e;
  return copysignf(y, x);
}

VECTORISE static void gelu_fwd(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float g;
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + erf_scaled(v, &g));
  }
}

VECTORISE static void gelu_bwd(const float *dy, const float *x, float *dx, size_t n) {
  const float inv_sqrt_2pi = 0.398942280401432678f;
  for (size_t i = 0; i < n; i++) {
    float g;
    const float v = x[i];
    const float cdf = 0.5f * (1.0f + erf_scaled(v, &g));
    dx[i] = dy[i] * (cdf + v * inv_sqrt_2pi * g);
  }
}

/* GELU's tanh approximation (Hugging Face "gelu_new", "gelu_pytorch_tanh"):
 * y = 0.5*x*(1 + tanh(u)), u = sqrt(2/pi)*(x + 0.044715*x^3); tanh(u) = 1 - 2/(exp(2u) + 1). */
static inline __attribute__((always_inline)) float gelu_tanh_t(float v) {
  const float u = 0.797884560802865356f * (v + 0.044715f * v * v * v);
  return 1.0f - 2.0f / (exp_approx(2.0f * u) + 1.0f);
}

VECTORISE static void gelu_tanh_fwd(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + gelu_tanh_t(x[i]));
}

VECTORISE static void gelu_tanh_bwd(const float *dy, const float *x, float *dx, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float v = x[i], t = gelu_tanh_t(v);
    const float slope = 0.797884560802865356f * (1.0f + 3.0f * 0.044715f * v * v);
    dx[i] = dy[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * slope);
  }
}

/* y = xhat*gamma + beta with xhat = (x [+ res] - mean) * rstd per row; keeps xhat and rstd for
 * backward. `res` (may be NULL) is the residual branch, added in the same pass. At inference
 * xhat and rstd are NULL: y's own row holds the intermediate values (two outputs fewer to write). */
VECTORISE static void layer_norm_fwd(const float *x, const float *res, const float *gamma, const float *beta, float *y, float *xhat,
                                     float *rstd, size_t rows, size_t cols, float eps) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols, *hr = xhat ? xhat + r * cols : yr;
    if (res) {
      /* The sum goes to xhat's row, read back in place below (each element before it is overwritten). */
      const float *rr = res + r * cols;
      for (size_t c = 0; c < cols; c++) hr[c] = xr[c] + rr[c];
      xr = hr;
    }
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (size_t c = 0; c < cols; c++) sum += xr[c];
    const float mean = sum / (float)cols;
    float sq = 0;
#pragma omp simd reduction(+ : sq)
    for (size_t c = 0; c < cols; c++) {
      const float d = xr[c] - mean;
      hr[c] = d;
      sq += d * d;
    }
    const float rs = 1.0f / sqrtf(sq / (float)cols + eps);
    if (rstd) rstd[r] = rs;
    for (size_t c = 0; c < cols; c++) {
      hr[c] *= rs;
      yr[c] = hr[c] * gamma[c] + beta[c];
    }
  }
}

/* dx = rstd*(dxhat - mean(dxhat) - xhat*mean(dxhat*xhat)), dxhat = dy*gamma; dgamma, dbeta summed over rows. */
VECTORISE static void layer_norm_bwd(const float *dy, const float *xhat, const float *rstd, const float *gamma, float *dx,
                                     float *dgamma, float *dbeta, size_t rows, size_t cols) {
  memset(dgamma, 0, cols * 4);
  memset(dbeta, 0, cols * 4);
  for (size_t r = 0; r < rows; r++) {
    const float *gr = dy + r * cols, *hr = xhat + r * cols;
    float *dr = dx + r * cols;
    float m1 = 0, m2 = 0;
#pragma omp simd reduction(+ : m1, m2)
    for (size_t c = 0; c < cols; c++) {
      const float d = gr[c] * gamma[c];
      m1 += d;
      m2 += d * hr[c];
      dgamma[c] += gr[c] * hr[c];
      dbeta[c] += gr[c];
    }
    const float a = m1 / (float)cols, b = m2 / (float)cols, rs = rstd[r];
    for (size_t c = 0; c < cols; c++) dr[c] = rs * (gr[c] * gamma[c] - a - hr[c] * b);
  }
}

/* Softmax over the last axis of x + bias, where bias row b serves `group` consecutive rows
 * (attention: scores [B, heads, S, S] with the padding mask [B, 1, 1, S], group = heads*S). */
VECTORISE static void masked_softmax_fwd(const float *x, const float *bias, float *y, size_t rows, size_t cols, size_t group) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols, *br = bias + (r / group) * cols;
    float *yr = y + r * cols;
    float m = -INFINITY;
#pragma omp simd reduction(max : m)
    for (size_t c = 0; c < cols; c++) {
      const float v = xr[c] + br[c];
      yr[c] = v;
      m = v > m ? v : m;
    }
    float sum = 0;
#pragma omp simd reduction(+ : sum)
    for (size_t c = 0; c < cols; c++) {
      const float e = exp_approx(yr[c] - m);
      yr[c] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    for (size_t c = 0; c < cols; c++) yr[c] *= inv;
  }
}

/* dx = y * (dy - sum(dy * y)) per row. */
VECTORISE static void softmax_bwd(const float *dy, const float *y, float *dx, size_t rows, size_t cols) {
  for (size_t r = 0; r < rows; r++) {
    const float *gr = dy + r * cols, *yr = y + r * cols;
    float *dr = dx + r * cols;
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (size_t c = 0; c < cols; c++) s += gr[c] * yr[c];
    for (size_t c = 0; c < cols; c++) dr[c] = yr[c] * (gr[c] - s);
  }
}

/* An element-wise forward pass f(heap, x, y, n), or its gradient g(heap, dy, x, dx, n). */
typedef void (*map_fn)(const float *x, float *y, size_t n);
typedef void (*map_grad_fn)(const float *dy, const float *x, float *dx, size_t n);

static napi_value run_map(napi_env env, napi_callback_info info, map_fn f) {
  call_t c;
  if (!begin(env, info, 4, &c)) return NULL;
  const int64_t n = num(&c, 3);
  float *x = operand(&c, 1, n), *y = x ? operand(&c, 2, n) : NULL;
  if (y) f(x, y, (size_t)n);
  return NULL;
}

static napi_value run_map_grad(napi_env env, napi_callback_info info, map_grad_fn g) {
  call_t c;
  if (!begin(env, info, 5, &c)) return NULL;
  const int64_t n = num(&c, 4);
  float *dy = operand(&c, 1, n), *x = dy ? operand(&c, 2, n) : NULL, *dx = x ? operand(&c, 3, n) : NULL;
  if (dx) g(dy, x, dx, (size_t)n);
  return NULL;
}

static napi_value gelu(napi_env env, napi_callback_info info) { return run_map(env, info, gelu_fwd); }
static napi_value gelu_grad(napi_env env, napi_callback_info info) { return run_map_grad(env, info, gelu_bwd); }
static napi_value gelu_tanh(napi_env env, napi_callback_info info) { return run_map(env, info, gelu_tanh_fwd); }
static napi_value gelu_tanh_grad(napi_env env, napi_callback_info info) { return run_map_grad(env, info, gelu_tanh_bwd); }

/* layerNorm(heap, x, gamma, beta, y, xhat, rstd, rows, cols, eps, res): res < 0 means no
 * residual; xhat < 0 and rstd < 0 (both or neither) mean inference, nothing kept for backward. */
static napi_value layer_norm(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 11, &c)) return NULL;
  const int64_t rows = num(&c, 7), cols = num(&c, 8), m = rows * cols;
  if (cols <= 0) return NULL;
  float *x = operand(&c, 1, m), *g = x ? operand(&c, 2, cols) : NULL, *b = g ? operand(&c, 3, cols) : NULL;
  float *y = b ? operand(&c, 4, m) : NULL;
  if (!y) return NULL;
  float *xhat = NULL, *rstd = NULL;
  if (num(&c, 5) >= 0 || num(&c, 6) >= 0) {
    if (!(xhat = operand(&c, 5, m)) || !(rstd = operand(&c, 6, rows))) return NULL;
  }
  const float *res = NULL;
  if (num(&c, 10) >= 0 && !(res = operand(&c, 10, m))) return NULL;
  layer_norm_fwd(x, res, g, b, y, xhat, rstd, (size_t)rows, (size_t)cols, (float)real(&c, 9));
  return NULL;
}

/* layerNormGrad(heap, dy, xhat, rstd, gamma, dx, dgamma, dbeta, rows, cols) */
static napi_value layer_norm_grad(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 10, &c)) return NULL;
  const int64_t rows = num(&c, 8), cols = num(&c, 9), m = rows * cols;
  if (cols <= 0) return NULL;
  float *dy = operand(&c, 1, m), *xhat = dy ? operand(&c, 2, m) : NULL, *rstd = xhat ? operand(&c, 3, rows) : NULL;
  float *g = rstd ? operand(&c, 4, cols) : NULL, *dx = g ? operand(&c, 5, m) : NULL;
  float *dg = dx ? operand(&c, 6, cols) : NULL, *db = dg ? operand(&c, 7, cols) : NULL;
  if (db) layer_norm_bwd(dy, xhat, rstd, g, dx, dg, db, (size_t)rows, (size_t)cols);
  return NULL;
}

/* gatherRows(heap, table, tableRows, ids, n, out, cols, add, addRows):
 *   out[i] = table[ids[i]] (+ add[i mod addRows] when add >= 0: BERT's position and segment rows,
 *   added in the same pass); an id out of range is an error. */
static napi_value gather_rows(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 9, &c)) return NULL;
  const int64_t rows = num(&c, 2), n = num(&c, 4), cols = num(&c, 6), addRows = num(&c, 8);
  if (cols <= 0) return NULL;
  float *table = operand(&c, 1, rows * cols), *ids = table ? operand(&c, 3, n) : NULL, *out = ids ? operand(&c, 5, n * cols) : NULL;
  if (!out) return NULL;
  const float *add = NULL;
  if (num(&c, 7) >= 0) {
    if (addRows <= 0) {
      napi_throw_range_error(env, "E_BLAS", "gatherRows: addRows must be positive");
      return NULL;
    }
    if (!(add = operand(&c, 7, addRows * cols))) return NULL;
  }
  const int32_t *id = (const int32_t *)ids;
  for (int64_t i = 0; i < n; i++) {
    if (id[i] < 0 || id[i] >= rows) {
      napi_throw_range_error(env, "E_BLAS", "gatherRows: id outside the table");
      return NULL;
    }
    float *o = out + i * cols;
    const float *t = table + (int64_t)id[i] * cols;
    if (add) {
      const float *a = add + (i % addRows) * cols;
      for (int64_t k = 0; k < cols; k++) o[k] = t[k] + a[k];
    } else memcpy(o, t, (size_t)cols * 4);
  }
  return NULL;
}

/* maskedSoftmax(heap, x, bias, y, rows, cols, group) */
static napi_value masked_softmax(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 7, &c)) return NULL;
  const int64_t rows = num(&c, 4), cols = num(&c, 5), group = num(&c, 6);
  if (cols <= 0 || group <= 0 || rows % group) {
    napi_throw_range_error(env, "E_BLAS", "maskedSoftmax: rows must be a multiple of group");
    return NULL;
  }
  float *x = operand(&c, 1, rows * cols), *bias = x ? operand(&c, 2, rows / group * cols) : NULL, *y = bias ? operand(&c, 3, rows * cols) : NULL;
  if (y) masked_softmax_fwd(x, bias, y, (size_t)rows, (size_t)cols, (size_t)group);
  return NULL;
}

/* softmaxGrad(heap, dy, y, dx, rows, cols) */
static napi_value softmax_grad(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 6, &c)) return NULL;
  const int64_t m = num(&c, 4) * num(&c, 5);
  if (num(&c, 5) <= 0) return NULL;
  float *dy = operand(&c, 1, m), *y = dy ? operand(&c, 2, m) : NULL, *dx = y ? operand(&c, 3, m) : NULL;
  if (dx) softmax_bwd(dy, y, dx, (size_t)num(&c, 4), (size_t)num(&c, 5));
  return NULL;
}

/* One example's dropout mask: `per` values of its mulberry32 stream (bit for bit src/core/rng.ts)
 * from state s0. The state only ever grows by a constant, so value i depends on s0 + (i+1)·C
 * alone and the loop vectorises; u >= rate is compared as integers, t >= ceil(rate·2^32). */
VECTORISE static void dropout_stream(uint32_t s0, float *o, int64_t per, uint64_t threshold, float keep) {
  const uint32_t thr = threshold > 0xffffffffu ? 0xffffffffu : (uint32_t)threshold;
  const float kept = threshold > 0xffffffffu ? 0.0f : keep;
  for (int64_t i = 0; i < per; i++) {
    const uint32_t s = s0 + (uint32_t)(i + 1) * 0x6d2b79f5u;
    uint32_t t = (s ^ (s >> 15)) * (s | 1u);
    t ^= t + (t ^ (t >> 7)) * (t | 61u);
    t ^= t >> 14;
    o[i] = t >= thr ? kept : 0.0f;
  }
}

/* dropoutMask(heap, out, states: Uint32Array, per, rate): per example b, `per` values from its
 * stream: keep = 1/(1-rate) where u >= rate, else 0; each state advances by `per` draws. */
static napi_value dropout_mask(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 5, &c)) return NULL;
  napi_typedarray_type type;
  size_t count;
  void *data;
  if (napi_get_typedarray_info(env, c.argv[2], &type, &count, &data, NULL, NULL) != napi_ok || type != napi_uint32_array) {
    napi_throw_type_error(env, "E_BLAS", "dropoutMask: states must be a Uint32Array");
    return NULL;
  }
  const int64_t per = num(&c, 3);
  const double rate = real(&c, 4);
  float *o = operand(&c, 1, per * (int64_t)count);
  if (!o) return NULL;
  uint32_t *states = (uint32_t *)data;
  const float keep = (float)(1.0 / (1.0 - rate));
  const uint64_t threshold = rate <= 0 ? 0 : (uint64_t)ceil(rate * 4294967296.0);
  for (size_t b = 0; b < count; b++) {
    dropout_stream(states[b], o + b * per, per, threshold, keep);
    states[b] += (uint32_t)per * 0x6d2b79f5u;
  }
  return NULL;
}

/* ---- Parameter-sized passes (the optimizer step) ----
 * They stream every parameter of the model (110M of them for BERT-base) through memory once a
 * step, so they are memory-bound: one core does not fill the memory bus, two do better. Large
 * arrays are split over our threads (parallel.c). */
/* k: lr, beta1, beta2, c1, c2, eps, weightDecay, gradScale, 1 - beta1, 1 - beta2 */
VECTORISE static void adamw_update(float *restrict p, float *restrict m, float *restrict v, const float *restrict g, int64_t n, const float *k) {
  const float lr = k[0], b1 = k[1], b2 = k[2], c1 = k[3], c2 = k[4], eps = k[5], wd = k[6], gs = k[7], ob1 = k[8], ob2 = k[9];
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i] * gs;
    const float m2 = m[i] * b1 + gi * ob1;
    const float v2 = v[i] * b2 + gi * gi * ob2;
    const float u = (m2 / c1) / (sqrtf(v2 / c2) + eps) + wd * p[i];
    m[i] = m2;
    v[i] = v2;
    p[i] -= u * lr;
  }
}

typedef struct {
  float *p, *m, *v;
  const float *g;
  float k[10];
} adamw_t;

static void adamw_range(void *ctx, int64_t b, int64_t e, int part) {
  (void)part;
  adamw_t *a = ctx;
  adamw_update(a->p + b, a->m + b, a->v + b, a->g + b, e - b, a->k);
}

/* adamw(heap, p, m, v, g, n, lr, beta1, beta2, c1, c2, eps, weightDecay, gradScale)
 * One AdamW update in a single pass, in place: p, m and v are overwritten (the op-by-op form
 * reads and writes every parameter-sized array about 16 times, and new outputs would allocate
 * three parameter-sized arrays a step): g' = g·gradScale (the clipping factor),
 * m' = β1·m + (1−β1)·g', v' = β2·v + (1−β2)·g'², p' = p − lr·((m'/c1)/(√(v'/c2) + eps) + weightDecay·p). */
static napi_value adamw(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 14, &c)) return NULL;
  const int64_t n = num(&c, 5);
  float *p = operand(&c, 1, n), *m = p ? operand(&c, 2, n) : NULL, *v = m ? operand(&c, 3, n) : NULL;
  float *g = v ? operand(&c, 4, n) : NULL;
  if (!g) return NULL;
  adamw_t a = {p, m, v, g, {(float)real(&c, 6), (float)real(&c, 7), (float)real(&c, 8), (float)real(&c, 9), (float)real(&c, 10), (float)real(&c, 11), (float)real(&c, 12), (float)real(&c, 13), (float)(1.0 - real(&c, 7)), (float)(1.0 - real(&c, 8))}};
  parallel_range(n, own_threads, adamw_range, &a);
  return NULL;
}

VECTORISE static void add_into(float *restrict dst, const float *restrict src, int64_t n) {
  for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

typedef struct {
  float *dst;
  const float *src;
} add_t;

static void add_range(void *ctx, int64_t b, int64_t e, int part) {
  (void)part;
  add_t *a = ctx;
  add_into(a->dst + b, a->src + b, e - b);
}

/* addInto(heap, dst, src, n): dst += src, in place (gradients summed over micro-batches). */
static napi_value add_into_js(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 4, &c)) return NULL;
  const int64_t n = num(&c, 3);
  float *dst = operand(&c, 1, n), *src = dst ? operand(&c, 2, n) : NULL;
  if (!src) return NULL;
  add_t a = {dst, src};
  parallel_range(n, own_threads, add_range, &a);
  return NULL;
}

/* Σ x² of a block: float partial sums in SIMD lanes (the reduction lets the compiler reorder
 * them), short enough that float keeps their precision; blocks are summed in double. */
#define SQUARES_BLOCK 1024
VECTORISE static float block_squares(const float *x, int64_t n) {
  float s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; i++) s += x[i] * x[i];
  return s;
}

typedef struct {
  const float *x;
  double part[MAX_OWN_THREADS];
} squares_t;

static void squares_range(void *ctx, int64_t b, int64_t e, int part) {
  squares_t *q = ctx;
  double s = 0;
  for (int64_t i = b; i < e; i += SQUARES_BLOCK) s += block_squares(q->x + i, e - i < SQUARES_BLOCK ? e - i : SQUARES_BLOCK);
  q->part[part] = s;
}

/* sumSquares(heap, x, out, n): out[0] = Σ x² (the gradient norm's square). */
static napi_value sum_squares(napi_env env, napi_callback_info info) {
  call_t c;
  if (!begin(env, info, 4, &c)) return NULL;
  const int64_t n = num(&c, 3);
  float *x = operand(&c, 1, n), *out = x ? operand(&c, 2, 1) : NULL;
  if (!out) return NULL;
  squares_t q = {x, {0}};
  const int parts = parallel_range(n, own_threads, squares_range, &q);
  double s = 0;
  for (int t = 0; t < parts; t++) s += q.part[t];
  out[0] = (float)s;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
    {"cpuFeatures", NULL, cpu_features_js, NULL, NULL, NULL, napi_default, NULL},
    {"loadOnednn", NULL, load_onednn, NULL, NULL, NULL, napi_default, NULL},
    {"setPrecision", NULL, set_precision, NULL, NULL, NULL, napi_default, NULL},
    {"matmulStats", NULL, matmul_stats, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, set_num_threads, NULL, NULL, NULL, napi_default, NULL},
    {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
    {"gemmStrided", NULL, gemm_strided, NULL, NULL, NULL, napi_default, NULL},
    {"gelu", NULL, gelu, NULL, NULL, NULL, napi_default, NULL},
    {"geluGrad", NULL, gelu_grad, NULL, NULL, NULL, napi_default, NULL},
    {"geluTanh", NULL, gelu_tanh, NULL, NULL, NULL, napi_default, NULL},
    {"geluTanhGrad", NULL, gelu_tanh_grad, NULL, NULL, NULL, napi_default, NULL},
    {"layerNorm", NULL, layer_norm, NULL, NULL, NULL, napi_default, NULL},
    {"layerNormGrad", NULL, layer_norm_grad, NULL, NULL, NULL, napi_default, NULL},
    {"gatherRows", NULL, gather_rows, NULL, NULL, NULL, napi_default, NULL},
    {"dropoutMask", NULL, dropout_mask, NULL, NULL, NULL, napi_default, NULL},
    {"maskedSoftmax", NULL, masked_softmax, NULL, NULL, NULL, napi_default, NULL},
    {"softmaxGrad", NULL, softmax_grad, NULL, NULL, NULL, napi_default, NULL},
    {"adamw", NULL, adamw, NULL, NULL, NULL, napi_default, NULL},
    {"sumSquares", NULL, sum_squares, NULL, NULL, NULL, napi_default, NULL},
    {"addInto", NULL, add_into_js, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
