/*
 * bf16 matmuls for mixed-precision training, on oneDNN (Debian: libdnnl2). As PyTorch's CPU
 * autocast and TPUs do it: the operands are rounded to bf16 for the product, which is accumulated
 * and written in f32; the weights themselves stay f32 (the "master" copy the optimizer updates).
 * On CPUs with AVX512-BF16 or AMX-BF16 oneDNN runs these products about twice as fast as an f32
 * GEMM on the same core.
 *
 * oneDNN is opened with dlopen, like the BLAS, so the addon builds and loads without it. The few
 * declarations of its 2.x C API used here are written out below (values from
 * oneapi/dnnl/dnnl_types.h); where the headers are present at build time, the sizes of its
 * descriptor structs are checked against the buffers reserved for them.
 */
#include "onednn.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"
#include "vectorise.h"

typedef int dn_status;
typedef int64_t dn_dims[12];
typedef void *dn_handle;
typedef struct {
  int arg;
  dn_handle memory;
} dn_arg;
typedef struct {
  int major, minor, patch;
  const char *hash;
  unsigned cpu_runtime, gpu_runtime;
} dn_version;

enum { DNNL_OK = 0, DNNL_CPU = 1, DNNL_BF16 = 2, DNNL_F32 = 3, DNNL_IN_ORDER = 1, QUERY_IMPL_INFO_STR = 8 };
enum { ARG_SRC = 1, ARG_DST = 17, ARG_WEIGHTS = 33, ARG_BIAS = 41 };

/* dnnl_memory_desc_t is 696 bytes and dnnl_matmul_desc_t 2,800 in oneDNN 2.6. */
#define MD_BYTES 2048
#define MATMUL_BYTES 8192
typedef struct {
  _Alignas(16) unsigned char b[MD_BYTES];
} md_t;
#if defined(__has_include)
#if __has_include(<oneapi/dnnl/dnnl_types.h>)
#include <oneapi/dnnl/dnnl_types.h>
#include <oneapi/dnnl/dnnl_version.h>
#if DNNL_VERSION_MAJOR == 2
_Static_assert(sizeof(dnnl_memory_desc_t) <= MD_BYTES, "oneDNN memory descriptor outgrew its buffer");
_Static_assert(sizeof(dnnl_exec_arg_t) == sizeof(dn_arg) && sizeof(dnnl_version_t) == sizeof(dn_version), "oneDNN struct layouts");
_Static_assert(sizeof(dnnl_matmul_desc_t) <= MATMUL_BYTES, "oneDNN matmul descriptor outgrew its buffer");
_Static_assert((int)dnnl_bf16 == DNNL_BF16 && (int)dnnl_f32 == DNNL_F32 && (int)dnnl_cpu == DNNL_CPU && (int)dnnl_query_impl_info_str == QUERY_IMPL_INFO_STR, "oneDNN enum values");
#endif
#endif
#endif

static struct {
  dn_status (*engine_create)(dn_handle *, int, size_t);
  dn_status (*stream_create)(dn_handle *, dn_handle, unsigned);
  dn_status (*md_init_by_strides)(void *, int, const dn_dims, int, const dn_dims);
  dn_status (*matmul_desc_init)(void *, const void *, const void *, const void *, const void *);
  dn_status (*pd_create)(dn_handle *, const void *, const void *, dn_handle, const void *);
  dn_status (*pd_query)(dn_handle, int, int, void *);
  dn_status (*pd_destroy)(dn_handle);
  dn_status (*primitive_create)(dn_handle *, dn_handle);
  dn_status (*primitive_destroy)(dn_handle);
  dn_status (*primitive_execute)(dn_handle, dn_handle, int, const dn_arg *);
  dn_status (*memory_create)(dn_handle *, const void *, dn_handle, void *);
  dn_status (*memory_destroy)(dn_handle);
  dn_status (*stream_wait)(dn_handle);
  const dn_version *(*version)(void);
  void (*omp_set_num_threads)(int);
} api;

static dn_handle engine, stream;
static char description[160];

static const char *sonames[] = {"libdnnl.so.2", "libdnnl.so", "libmkldnn.so.2", NULL};

static int bind(void *h, const char *lib, char *err, size_t errlen) {
#define SYM(field, name)                                                  \
  if (!(*(void **)&api.field = dlsym(h, name))) {                         \
    snprintf(err, errlen, "%s has no %s (not oneDNN 2.x)", lib, name);    \
    return 0;                                                              \
  }
  SYM(version, "dnnl_version");
  const dn_version *v = api.version();
  if (v->major != 2) {
    snprintf(err, errlen, "%s is oneDNN %d.%d; bf16 matmuls need oneDNN 2.x (Debian: libdnnl2)", lib, v->major, v->minor);
    return 0;
  }
  SYM(engine_create, "dnnl_engine_create");
  SYM(stream_create, "dnnl_stream_create");
  SYM(md_init_by_strides, "dnnl_memory_desc_init_by_strides");
  SYM(matmul_desc_init, "dnnl_matmul_desc_init");
  SYM(pd_create, "dnnl_primitive_desc_create");
  SYM(pd_query, "dnnl_primitive_desc_query");
  SYM(pd_destroy, "dnnl_primitive_desc_destroy");
  SYM(primitive_create, "dnnl_primitive_create");
  SYM(primitive_destroy, "dnnl_primitive_destroy");
  SYM(primitive_execute, "dnnl_primitive_execute");
  SYM(memory_create, "dnnl_memory_create");
  SYM(memory_destroy, "dnnl_memory_destroy");
  SYM(stream_wait, "dnnl_stream_wait");
#undef SYM
  /* oneDNN's CPU runtime in Debian's build is OpenMP; absent with another runtime. */
  *(void **)&api.omp_set_num_threads = dlsym(h, "omp_set_num_threads");
  if (api.engine_create(&engine, DNNL_CPU, 0) != DNNL_OK || api.stream_create(&stream, engine, DNNL_IN_ORDER) != DNNL_OK) {
    snprintf(err, errlen, "%s: could not create a CPU engine", lib);
    return 0;
  }
  return 1;
}

/* The kernel oneDNN picks for a bf16 product (tells native bf16 from emulation). */
static const char *probe_kernel(void) {
  md_t a, b, c;
  const dn_dims d = {64, 64}, s = {64, 1};
  static _Alignas(16) unsigned char desc[MATMUL_BYTES];
  dn_handle pd = NULL;
  const char *impl = "unknown";
  if (api.md_init_by_strides(&a, 2, d, DNNL_BF16, s) == DNNL_OK && api.md_init_by_strides(&b, 2, d, DNNL_BF16, s) == DNNL_OK &&
      api.md_init_by_strides(&c, 2, d, DNNL_F32, s) == DNNL_OK && api.matmul_desc_init(desc, &a, &b, NULL, &c) == DNNL_OK &&
      api.pd_create(&pd, desc, NULL, engine, NULL) == DNNL_OK) {
    const char *q = NULL;
    if (api.pd_query(pd, QUERY_IMPL_INFO_STR, 0, &q) == DNNL_OK && q) impl = q;
    snprintf(description, sizeof description, "oneDNN %d.%d.%d (%s)", api.version()->major, api.version()->minor, api.version()->patch, impl);
    api.pd_destroy(pd);
    return description;
  }
  return NULL;
}

int onednn_open(const char *path, char *err, size_t errlen) {
  if (engine) return 1;
  void *h = NULL;
  const char *lib = path;
  if (path && path[0]) h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  else
    for (const char **n = sonames; *n && !h; n++) h = dlopen(lib = *n, RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    snprintf(err, errlen, "%s", dlerror());
    return 0;
  }
  if (!bind(h, lib, err, errlen)) {
    engine = NULL;
    return 0;
  }
  if (!probe_kernel()) {
    snprintf(err, errlen, "%s: cannot create a bf16 matmul on this CPU", lib);
    engine = NULL;
    return 0;
  }
  return 1;
}

const char *onednn_describe(void) {
  return engine ? description : "";
}

/* The threads asked for: oneDNN's, and ours for rounding the operands. */
static int threads = 1;

void onednn_set_threads(int n) {
  if (n > 0) threads = n;
  if (api.omp_set_num_threads && n > 0) api.omp_set_num_threads(n);
}

/* x*scale rounded to bf16, nearest even; a NaN stays a (quiet) NaN instead of rounding to inf. */
VECTORISE static void to_bf16(const float *x, uint16_t *y, size_t n, float scale) {
  for (size_t i = 0; i < n; i++) {
    const float v = x[i] * scale;
    uint32_t u;
    memcpy(&u, &v, 4);
    u = (u & 0x7fffffffu) > 0x7f800000u ? u | 0x00400000u : u;
    y[i] = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
  }
}

typedef struct {
  const float *x;
  uint16_t *y;
  float scale;
} round_t;

static void round_range(void *ctx, int64_t b, int64_t e, int part) {
  (void)part;
  const round_t *r = ctx;
  to_bf16(r->x + b, r->y + b, (size_t)(e - b), r->scale);
}

/* Scratch for the bf16 copies of A and B, kept between calls (grown, never shrunk). */
static uint16_t *scratch[2];
static size_t scratch_len[2];

static uint16_t *bf16_copy(int slot, const float *x, size_t n, float scale) {
  if (scratch_len[slot] < n) {
    uint16_t *p = realloc(scratch[slot], n * 2);
    if (!p) return NULL;
    scratch[slot] = p;
    scratch_len[slot] = n;
  }
  /* Rounding is a memory-bound pass like the optimizer's: split over the threads the product
   * itself runs on, else it takes a quarter of a weight-sized product's time. */
  round_t r = {x, scratch[slot], scale};
  parallel_range((int64_t)n, threads, round_range, &r);
  return scratch[slot];
}

/* Elements from an operand's base to its last one (cf. extent() in trialbook_blas.c). */
static size_t span(int64_t outer, int64_t inner, int64_t so, int64_t si, int64_t rows, int64_t cols, int64_t ld) {
  return (size_t)((outer - 1) * so + (inner - 1) * si + (rows - 1) * ld + cols);
}

/* A 4-D [outer, inner, rows, cols] descriptor of an operand stored with leading dimension ld, or
 * its transpose; a batch stride of 0 becomes a broadcast dimension of 1. */
static int describe(md_t *md, int type, int64_t outer, int64_t inner, int64_t so, int64_t si, int64_t rows, int64_t cols, int64_t ld, int trans) {
  const dn_dims dims = {so ? outer : 1, si ? inner : 1, rows, cols};
  const dn_dims strides = {so ? so : 1, si ? si : 1, trans ? 1 : ld, trans ? ld : 1};
  return api.md_init_by_strides(md, 4, dims, type, strides) == DNNL_OK;
}

int onednn_matmul_bf16(const matmul_t *g, char *err, size_t errlen) {
  if (!engine) {
    snprintf(err, errlen, "oneDNN is not loaded");
    return 0;
  }
  /* Stored shapes: A is m x k (k x m when transposed), B k x n (n x k). */
  const int64_t ar = g->ta ? g->k : g->m, ac = g->ta ? g->m : g->k, br = g->tb ? g->n : g->k, bc = g->tb ? g->k : g->n;
  uint16_t *a = bf16_copy(0, g->A, span(g->outer, g->inner, g->sAo, g->sAi, ar, ac, g->lda), g->alpha);
  uint16_t *b = a ? bf16_copy(1, g->B, span(g->outer, g->inner, g->sBo, g->sBi, br, bc, g->ldb), 1.0f) : NULL;
  if (!b) {
    snprintf(err, errlen, "bf16 matmul: out of memory for the bf16 operands");
    return 0;
  }
  md_t ma, mb, mc, mbias;
  static _Alignas(16) unsigned char desc[MATMUL_BYTES];
  const dn_dims bias_dims = {1, 1, 1, g->n}, bias_strides = {g->n, g->n, g->n, 1};
  const dn_dims c_dims = {g->outer, g->inner, g->m, g->n}, c_strides = {g->sCo ? g->sCo : 1, g->sCi ? g->sCi : 1, g->ldc, 1};
  dn_handle pd = NULL, prim = NULL, mem[4] = {NULL, NULL, NULL, NULL};
  int ok = describe(&ma, DNNL_BF16, g->outer, g->inner, g->sAo, g->sAi, g->m, g->k, g->lda, g->ta) &&
           describe(&mb, DNNL_BF16, g->outer, g->inner, g->sBo, g->sBi, g->k, g->n, g->ldb, g->tb) &&
           api.md_init_by_strides(&mc, 4, c_dims, DNNL_F32, c_strides) == DNNL_OK &&
           (!g->bias || api.md_init_by_strides(&mbias, 4, bias_dims, DNNL_F32, bias_strides) == DNNL_OK) &&
           api.matmul_desc_init(desc, &ma, &mb, g->bias ? &mbias : NULL, &mc) == DNNL_OK;
  /* oneDNN keeps created primitives in its own cache: a repeated shape costs about 2 us here. */
  ok = ok && api.pd_create(&pd, desc, NULL, engine, NULL) == DNNL_OK && api.primitive_create(&prim, pd) == DNNL_OK;
  ok = ok && api.memory_create(&mem[0], &ma, engine, a) == DNNL_OK && api.memory_create(&mem[1], &mb, engine, b) == DNNL_OK &&
       api.memory_create(&mem[2], &mc, engine, g->C) == DNNL_OK && (!g->bias || api.memory_create(&mem[3], &mbias, engine, (void *)g->bias) == DNNL_OK);
  if (ok) {
    const dn_arg args[4] = {{ARG_SRC, mem[0]}, {ARG_WEIGHTS, mem[1]}, {ARG_DST, mem[2]}, {ARG_BIAS, mem[3]}};
    ok = api.primitive_execute(prim, stream, g->bias ? 4 : 3, args) == DNNL_OK && api.stream_wait(stream) == DNNL_OK;
  }
  for (int i = 0; i < 4; i++)
    if (mem[i]) api.memory_destroy(mem[i]);
  if (prim) api.primitive_destroy(prim);
  if (pd) api.pd_destroy(pd);
  if (!ok) snprintf(err, errlen, "bf16 matmul: oneDNN refused a %lldx%lldx%lld product (batch %lldx%lld)", (long long)g->m, (long long)g->n, (long long)g->k, (long long)g->outer, (long long)g->inner);
  return ok;
}
