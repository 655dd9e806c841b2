/*
 * Single-precision GEMM for the wasm backend, handed to the system's BLAS (OpenBLAS, or Apple
 * Accelerate). The wasm backend computes matmuls at 2-30 GFLOP/s on one thread; an optimised
 * BLAS reaches about 4x that on the same core and can use every core. The library is opened with
 * dlopen at run time, so building needs no BLAS headers and a machine without one still loads
 * this addon (it then reports `available: false` and the engine stays on wasm kernels).
 *
 * Operands are addressed as byte offsets into one ArrayBuffer (the wasm heap), so a matmul needs
 * no copy in or out of WebAssembly memory.
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <node_api.h>

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
static char library[512];
static char load_error[512];

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
  snprintf(library, sizeof library, "%s", name);
  return 1;
}

/* load(path?) -> { available, library, config, threads, error } */
static napi_value load(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!sgemm) {
    char wanted[512] = "";
    napi_valuetype t = napi_undefined;
    if (argc >= 1) napi_typeof(env, argv[0], &t);
    if (t == napi_string) {
      size_t len;
      napi_get_value_string_utf8(env, argv[0], wanted, sizeof wanted, &len);
    }
    if (wanted[0]) try_open(wanted);
    else for (const char **c = candidates; *c && !sgemm; c++) try_open(*c);
  }
  napi_value out, v;
  napi_create_object(env, &out);
  napi_get_boolean(env, sgemm != NULL, &v);
  napi_set_named_property(env, out, "available", v);
  napi_create_string_utf8(env, sgemm ? library : "", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "library", v);
  napi_create_string_utf8(env, sgemm && get_config ? get_config() : "", NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "config", v);
  napi_create_int32(env, sgemm && get_threads ? get_threads() : 0, &v);
  napi_set_named_property(env, out, "threads", v);
  napi_create_string_utf8(env, sgemm ? "" : load_error, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, out, "error", v);
  return out;
}

static napi_value set_num_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc >= 1) napi_get_value_int32(env, argv[0], &n);
  if (set_threads && n > 0) set_threads(n);
  napi_value v;
  napi_create_int32(env, get_threads ? get_threads() : 0, &v);
  return v;
}

/*
 * gemm(heap, a, b, c, bias, batchA, batchB, m, n, k, transA, transB)
 *   C[g] = op(A[g or 0]) . op(B[g or 0]) (+ bias row), row-major, offsets in bytes into `heap`;
 *   bias < 0 means none. A batch of 1 broadcasts against the other operand's batch.
 */
static napi_value gemm(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value argv[12];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (!sgemm || argc < 12) {
    napi_throw_error(env, "E_BLAS", "gemm: BLAS not loaded or wrong arguments");
    return NULL;
  }
  void *heap;
  size_t heap_len;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &heap_len) != napi_ok) {
    napi_throw_type_error(env, "E_BLAS", "gemm: first argument must be an ArrayBuffer");
    return NULL;
  }
  int64_t off[4];
  int32_t dim[6];
  bool ta, tb;
  for (int i = 0; i < 4; i++) napi_get_value_int64(env, argv[1 + i], &off[i]);
  for (int i = 0; i < 5; i++) napi_get_value_int32(env, argv[5 + i], &dim[i]);
  napi_get_value_bool(env, argv[10], &ta);
  napi_get_value_bool(env, argv[11], &tb);
  const int batchA = dim[0], batchB = dim[1], m = dim[2], n = dim[3], k = dim[4];
  const int batch = batchA > batchB ? batchA : batchB;
  const size_t sa = (size_t)m * k, sb = (size_t)k * n, sc = (size_t)m * n;
  /* Bounds: every operand must lie inside the heap (a wrong offset must not corrupt memory). */
  if (off[0] < 0 || off[1] < 0 || off[2] < 0 || (off[0] | off[1] | off[2]) % 4 ||
      (size_t)off[0] + sa * batchA * 4 > heap_len || (size_t)off[1] + sb * batchB * 4 > heap_len ||
      (size_t)off[2] + sc * batch * 4 > heap_len || (off[3] >= 0 && (size_t)off[3] + (size_t)n * 4 > heap_len) ||
      (batchA != batch && batchA != 1) || (batchB != batch && batchB != 1)) {
    napi_throw_range_error(env, "E_BLAS", "gemm: operand outside the buffer or batch mismatch");
    return NULL;
  }
  char *base = (char *)heap;
  const float *bias = off[3] >= 0 ? (const float *)(base + off[3]) : NULL;
  for (int g = 0; g < batch; g++) {
    const float *A = (const float *)(base + off[0]) + (batchA == 1 ? 0 : g * sa);
    const float *B = (const float *)(base + off[1]) + (batchB == 1 ? 0 : g * sb);
    float *C = (float *)(base + off[2]) + g * sc;
    float beta = 0.0f;
    if (bias) {
      for (int i = 0; i < m; i++) memcpy(C + (size_t)i * n, bias, (size_t)n * 4);
      beta = 1.0f;
    }
    sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k, 1.0f, A, ta ? m : k, B, tb ? k : n, beta, C, n);
  }
  return NULL;
}


/* ---- Fused element-wise kernels (GELU, LayerNorm, embedding rows) ----
 * On wasm each of these is 4-10 separate kernels, each a pass over memory; here each is one pass.
 * exp and erf use branch-free approximations (relative error ~1e-7, float32 rounding level) so
 * the loops vectorise; target_clones adds an AVX2/FMA version picked at load time. */
#include <math.h>
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VECTORISE __attribute__((target_clones("arch=haswell", "default")))
#else
#define VECTORISE
#endif

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

/* y = xhat*gamma + beta with xhat = (x - mean) * rstd per row; keeps xhat and rstd for backward. */
static void layer_norm_fwd(const float *x, const float *gamma, const float *beta, float *y, float *xhat, float *rstd,
                           size_t rows, size_t cols, float eps) {
  for (size_t r = 0; r < rows; r++) {
    const float *xr = x + r * cols;
    float *yr = y + r * cols, *hr = xhat + r * cols;
    double sum = 0;
    for (size_t c = 0; c < cols; c++) sum += xr[c];
    const float mean = (float)(sum / cols);
    double sq = 0;
    for (size_t c = 0; c < cols; c++) {
      const float d = xr[c] - mean;
      hr[c] = d;
      sq += (double)d * d;
    }
    const float rs = 1.0f / sqrtf((float)(sq / cols) + eps);
    rstd[r] = rs;
    for (size_t c = 0; c < cols; c++) {
      hr[c] *= rs;
      yr[c] = hr[c] * gamma[c] + beta[c];
    }
  }
}

/* dx = rstd*(dxhat - mean(dxhat) - xhat*mean(dxhat*xhat)), dxhat = dy*gamma; dgamma, dbeta summed over rows. */
static void layer_norm_bwd(const float *dy, const float *xhat, const float *rstd, const float *gamma, float *dx,
                           float *dgamma, float *dbeta, size_t rows, size_t cols) {
  memset(dgamma, 0, cols * 4);
  memset(dbeta, 0, cols * 4);
  for (size_t r = 0; r < rows; r++) {
    const float *gr = dy + r * cols, *hr = xhat + r * cols;
    float *dr = dx + r * cols;
    double m1 = 0, m2 = 0;
    for (size_t c = 0; c < cols; c++) {
      const float d = gr[c] * gamma[c];
      m1 += d;
      m2 += (double)d * hr[c];
      dgamma[c] += gr[c] * hr[c];
      dbeta[c] += gr[c];
    }
    const float a = (float)(m1 / cols), b = (float)(m2 / cols), rs = rstd[r];
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
    for (size_t c = 0; c < cols; c++) {
      const float v = xr[c] + br[c];
      yr[c] = v;
      m = v > m ? v : m;
    }
    float sum = 0;
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
    for (size_t c = 0; c < cols; c++) s += gr[c] * yr[c];
    for (size_t c = 0; c < cols; c++) dr[c] = yr[c] * (gr[c] - s);
  }
}

/* Arguments: heap ArrayBuffer, then byte offsets / sizes as numbers. */
static int args_heap(napi_env env, napi_callback_info info, size_t want, napi_value *argv, char **heap, size_t *len) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < want || napi_get_arraybuffer_info(env, argv[0], (void **)heap, len) != napi_ok) {
    napi_throw_type_error(env, "E_BLAS", "kernel: wrong arguments");
    return 0;
  }
  return 1;
}

static int64_t arg_i64(napi_env env, napi_value v) {
  int64_t x = -1;
  napi_get_value_int64(env, v, &x);
  return x;
}

/* Offset `off` holding `bytes` must lie in the heap and be 4-byte aligned. */
static int in_heap(napi_env env, int64_t off, size_t bytes, size_t len) {
  if (off < 0 || off % 4 || (size_t)off + bytes > len) {
    napi_throw_range_error(env, "E_BLAS", "kernel: operand outside the buffer");
    return 0;
  }
  return 1;
}

/* gelu(heap, x, y, n) / geluGrad(heap, dy, x, dx, n) */
static napi_value gelu(napi_env env, napi_callback_info info) {
  napi_value a[4];
  char *h;
  size_t len;
  if (!args_heap(env, info, 4, a, &h, &len)) return NULL;
  const int64_t x = arg_i64(env, a[1]), y = arg_i64(env, a[2]), n = arg_i64(env, a[3]);
  if (n < 0 || !in_heap(env, x, n * 4, len) || !in_heap(env, y, n * 4, len)) return NULL;
  gelu_fwd((const float *)(h + x), (float *)(h + y), (size_t)n);
  return NULL;
}

static napi_value gelu_grad(napi_env env, napi_callback_info info) {
  napi_value a[5];
  char *h;
  size_t len;
  if (!args_heap(env, info, 5, a, &h, &len)) return NULL;
  const int64_t dy = arg_i64(env, a[1]), x = arg_i64(env, a[2]), dx = arg_i64(env, a[3]), n = arg_i64(env, a[4]);
  if (n < 0 || !in_heap(env, dy, n * 4, len) || !in_heap(env, x, n * 4, len) || !in_heap(env, dx, n * 4, len)) return NULL;
  gelu_bwd((const float *)(h + dy), (const float *)(h + x), (float *)(h + dx), (size_t)n);
  return NULL;
}

/* layerNorm(heap, x, gamma, beta, y, xhat, rstd, rows, cols, eps) */
static napi_value layer_norm(napi_env env, napi_callback_info info) {
  napi_value a[10];
  char *h;
  size_t len;
  if (!args_heap(env, info, 10, a, &h, &len)) return NULL;
  int64_t o[6];
  for (int i = 0; i < 6; i++) o[i] = arg_i64(env, a[1 + i]);
  const int64_t rows = arg_i64(env, a[7]), cols = arg_i64(env, a[8]);
  double eps = 0;
  napi_get_value_double(env, a[9], &eps);
  const size_t m = (size_t)rows * cols * 4;
  if (rows < 0 || cols <= 0 || !in_heap(env, o[0], m, len) || !in_heap(env, o[1], cols * 4, len) || !in_heap(env, o[2], cols * 4, len) ||
      !in_heap(env, o[3], m, len) || !in_heap(env, o[4], m, len) || !in_heap(env, o[5], rows * 4, len)) return NULL;
  layer_norm_fwd((const float *)(h + o[0]), (const float *)(h + o[1]), (const float *)(h + o[2]), (float *)(h + o[3]),
                 (float *)(h + o[4]), (float *)(h + o[5]), (size_t)rows, (size_t)cols, (float)eps);
  return NULL;
}

/* layerNormGrad(heap, dy, xhat, rstd, gamma, dx, dgamma, dbeta, rows, cols) */
static napi_value layer_norm_grad(napi_env env, napi_callback_info info) {
  napi_value a[10];
  char *h;
  size_t len;
  if (!args_heap(env, info, 10, a, &h, &len)) return NULL;
  int64_t o[7];
  for (int i = 0; i < 7; i++) o[i] = arg_i64(env, a[1 + i]);
  const int64_t rows = arg_i64(env, a[8]), cols = arg_i64(env, a[9]);
  const size_t m = (size_t)rows * cols * 4;
  if (rows < 0 || cols <= 0 || !in_heap(env, o[0], m, len) || !in_heap(env, o[1], m, len) || !in_heap(env, o[2], rows * 4, len) ||
      !in_heap(env, o[3], cols * 4, len) || !in_heap(env, o[4], m, len) || !in_heap(env, o[5], cols * 4, len) || !in_heap(env, o[6], cols * 4, len)) return NULL;
  layer_norm_bwd((const float *)(h + o[0]), (const float *)(h + o[1]), (const float *)(h + o[2]), (const float *)(h + o[3]),
                 (float *)(h + o[4]), (float *)(h + o[5]), (float *)(h + o[6]), (size_t)rows, (size_t)cols);
  return NULL;
}

/* gatherRows(heap, table, tableRows, ids, n, out, cols): out[i] = table[ids[i]]; an id out of range is an error. */
static napi_value gather_rows(napi_env env, napi_callback_info info) {
  napi_value a[7];
  char *h;
  size_t len;
  if (!args_heap(env, info, 7, a, &h, &len)) return NULL;
  const int64_t table = arg_i64(env, a[1]), rows = arg_i64(env, a[2]), ids = arg_i64(env, a[3]), n = arg_i64(env, a[4]),
                out = arg_i64(env, a[5]), cols = arg_i64(env, a[6]);
  if (rows < 0 || n < 0 || cols <= 0 || !in_heap(env, table, (size_t)rows * cols * 4, len) || !in_heap(env, ids, n * 4, len) ||
      !in_heap(env, out, (size_t)n * cols * 4, len)) return NULL;
  const int32_t *id = (const int32_t *)(h + ids);
  for (int64_t i = 0; i < n; i++) {
    if (id[i] < 0 || id[i] >= rows) {
      napi_throw_range_error(env, "E_BLAS", "gatherRows: id outside the table");
      return NULL;
    }
    memcpy(h + out + i * cols * 4, h + table + (int64_t)id[i] * cols * 4, cols * 4);
  }
  return NULL;
}

/* maskedSoftmax(heap, x, bias, y, rows, cols, group) */
static napi_value masked_softmax(napi_env env, napi_callback_info info) {
  napi_value a[7];
  char *h;
  size_t len;
  if (!args_heap(env, info, 7, a, &h, &len)) return NULL;
  const int64_t x = arg_i64(env, a[1]), bias = arg_i64(env, a[2]), y = arg_i64(env, a[3]), rows = arg_i64(env, a[4]),
                cols = arg_i64(env, a[5]), group = arg_i64(env, a[6]);
  if (rows < 0 || cols <= 0 || group <= 0 || rows % group || !in_heap(env, x, (size_t)rows * cols * 4, len) ||
      !in_heap(env, y, (size_t)rows * cols * 4, len) || !in_heap(env, bias, (size_t)(rows / group) * cols * 4, len)) return NULL;
  masked_softmax_fwd((const float *)(h + x), (const float *)(h + bias), (float *)(h + y), (size_t)rows, (size_t)cols, (size_t)group);
  return NULL;
}

/* softmaxGrad(heap, dy, y, dx, rows, cols) */
static napi_value softmax_grad(napi_env env, napi_callback_info info) {
  napi_value a[6];
  char *h;
  size_t len;
  if (!args_heap(env, info, 6, a, &h, &len)) return NULL;
  const int64_t dy = arg_i64(env, a[1]), y = arg_i64(env, a[2]), dx = arg_i64(env, a[3]), rows = arg_i64(env, a[4]), cols = arg_i64(env, a[5]);
  const size_t m = (size_t)rows * cols * 4;
  if (rows < 0 || cols <= 0 || !in_heap(env, dy, m, len) || !in_heap(env, y, m, len) || !in_heap(env, dx, m, len)) return NULL;
  softmax_bwd((const float *)(h + dy), (const float *)(h + y), (float *)(h + dx), (size_t)rows, (size_t)cols);
  return NULL;
}

/* dropoutMask(heap, out, states: Uint32Array, per, rate): per example b, `per` values from its
 * mulberry32 stream (bit for bit src/core/rng.ts): keep = 1/(1-rate) where u >= rate, else 0. */
static napi_value dropout_mask(napi_env env, napi_callback_info info) {
  napi_value a[5];
  char *h;
  size_t len;
  if (!args_heap(env, info, 5, a, &h, &len)) return NULL;
  const int64_t out = arg_i64(env, a[1]), per = arg_i64(env, a[3]);
  double rate = 0;
  napi_get_value_double(env, a[4], &rate);
  napi_typedarray_type type;
  size_t count;
  void *data;
  if (napi_get_typedarray_info(env, a[2], &type, &count, &data, NULL, NULL) != napi_ok || type != napi_uint32_array) {
    napi_throw_type_error(env, "E_BLAS", "dropoutMask: states must be a Uint32Array");
    return NULL;
  }
  if (per < 0 || !in_heap(env, out, (size_t)per * count * 4, len)) return NULL;
  uint32_t *states = (uint32_t *)data;
  float *o = (float *)(h + out);
  const float keep = (float)(1.0 / (1.0 - rate));
  for (size_t b = 0; b < count; b++) {
    uint32_t s = states[b];
    float *ob = o + b * per;
    for (int64_t i = 0; i < per; i++) {
      s += 0x6d2b79f5u;
      uint32_t t = (s ^ (s >> 15)) * (s | 1u);
      t ^= t + (t ^ (t >> 7)) * (t | 61u);
      const double u = (double)(t ^ (t >> 14)) / 4294967296.0;
      ob[i] = u >= rate ? keep : 0.0f;
    }
    states[b] = s;
  }
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, set_num_threads, NULL, NULL, NULL, napi_default, NULL},
    {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
    {"gelu", NULL, gelu, NULL, NULL, NULL, napi_default, NULL},
    {"geluGrad", NULL, gelu_grad, NULL, NULL, NULL, napi_default, NULL},
    {"layerNorm", NULL, layer_norm, NULL, NULL, NULL, napi_default, NULL},
    {"layerNormGrad", NULL, layer_norm_grad, NULL, NULL, NULL, napi_default, NULL},
    {"gatherRows", NULL, gather_rows, NULL, NULL, NULL, napi_default, NULL},
    {"dropoutMask", NULL, dropout_mask, NULL, NULL, NULL, napi_default, NULL},
    {"maskedSoftmax", NULL, masked_softmax, NULL, NULL, NULL, napi_default, NULL},
    {"softmaxGrad", NULL, softmax_grad, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
