/* CPU features from cpuid (bits as in Intel's SDM vol. 2, CPUID leaves 1 and 7). A VM often
 * reports a generic model number that libraries matching on models do not know; the feature bits
 * are still right. */
#include "cpu.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xcr0(void) {
  unsigned int lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((unsigned long long)hi << 32) | lo;
}

void cpu_features(cpu_features_t *f) {
  memset(f, 0, sizeof *f);
  unsigned int a, b, c, d;
  if (!__get_cpuid(0, &a, &b, &c, &d)) return;
  const unsigned int max_leaf = a;
  memcpy(f->vendor, &b, 4);
  memcpy(f->vendor + 4, &d, 4);
  memcpy(f->vendor + 8, &c, 4);
  __get_cpuid(1, &a, &b, &c, &d);
  if (!(c & (1u << 27))) return; /* no OSXSAVE: the OS saves no vector state beyond SSE */
  const unsigned long long xcr = xcr0();
  const int ymm = (xcr & 0x6) == 0x6, zmm = (xcr & 0xe6) == 0xe6, tiles = (xcr & 0x60000) == 0x60000;
  f->avx = ymm && (c & (1u << 28));
  f->fma = ymm && (c & (1u << 12));
  if (max_leaf < 7) return;
  __get_cpuid_count(7, 0, &a, &b, &c, &d);
  const unsigned int max_subleaf = a;
  f->avx2 = f->avx && (b & (1u << 5));
  /* AVX512 F (16), DQ (17), BW (30), VL (31) */
  f->avx512 = zmm && (b & (1u << 16)) && (b & (1u << 17)) && (b & (1u << 30)) && (b & (1u << 31));
  f->amx_bf16 = tiles && (d & (1u << 22)) && (d & (1u << 24));
  if (max_subleaf < 1) return;
  __get_cpuid_count(7, 1, &a, &b, &c, &d);
  f->avx512_bf16 = f->avx512 && (a & (1u << 5));
}
#else
void cpu_features(cpu_features_t *f) {
  memset(f, 0, sizeof *f);
}
#endif
