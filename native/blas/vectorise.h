/* VECTORISE: target_clones adds AVX-512 and AVX2/FMA versions of a loop, picked at load time by
 * CPU features ("arch=haswell" would be picked by CPU model, and a VM's generic model never is). */
#ifndef TRIALBOOK_VECTORISE_H
#define TRIALBOOK_VECTORISE_H

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#define VECTORISE __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#elif defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define VECTORISE __attribute__((target_clones("avx2", "default")))
#else
#define VECTORISE
#endif

#endif
