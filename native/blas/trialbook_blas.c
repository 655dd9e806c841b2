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

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"load", NULL, load, NULL, NULL, NULL, napi_default, NULL},
    {"setThreads", NULL, set_num_threads, NULL, NULL, NULL, napi_default, NULL},
    {"gemm", NULL, gemm, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 3, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
