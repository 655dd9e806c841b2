/* CPU features that pick kernels outside this addon: OpenBLAS's core type, and whether bf16
 * matmuls run natively (AVX512-BF16 or AMX-BF16). */
#ifndef TRIALBOOK_CPU_H
#define TRIALBOOK_CPU_H

typedef struct {
  char vendor[13]; /* cpuid vendor string, e.g. "GenuineIntel"; empty off x86 */
  int avx, avx2, fma;
  int avx512;      /* F, DQ, BW and VL: what OpenBLAS's SkylakeX kernels use */
  int avx512_bf16; /* VCVTNE2PS2BF16 / VDPBF16PS */
  int amx_bf16;    /* AMX tiles with bf16 */
} cpu_features_t;

/* Each feature is set only when the OS also saves its registers (xgetbv), as the compiler's own
 * target_clones dispatch requires. */
void cpu_features(cpu_features_t *f);

#endif
