// Elementwise ops of the training step, native: plain loops that the compiler vectorizes, built
// for AVX-512, AVX2 and baseline x86-64 and picked at load time (target_clones, where the
// toolchain has ifuncs), or for the build's own ISA elsewhere (NEON on arm64). ISO C++ mode
// contracts no a·b+c into an FMA, so every clone gives the same bits. exp is the Cephes
// single-precision polynomial of assembly/simd-math.ts (≈1 ulp). Split across the pool's
// threads in fixed element ranges: the same bits on one thread or two.
#include "ops.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "pool.h"

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define DISTILLERY_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define DISTILLERY_CLONES
#endif

namespace distillery {
namespace {

/** elements below which one thread does an op alone */
constexpr long PARALLEL_MIN = 1L << 15;
constexpr int CHUNKS = 4;

inline float exp_cephes(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
  // n = round(x / ln2) (adding 1.5·2²³ rounds to nearest even); r = x − n·ln2 in two parts
  const float n = (x * 1.44269504088896341f + 12582912.f) - 12582912.f;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + (r + 1.f);
  // scale by 2ⁿ through the exponent bits
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float s;
  std::memcpy(&s, &bits, sizeof s);
  return p * s;
}

DISTILLERY_CLONES void swiglu_fwd_range(const float* __restrict g, const float* __restrict u, float* __restrict a,
                                        float* __restrict sig, long n) {
  for (long i = 0; i < n; i++) {
    const float gi = g[i];
    const float s = 1.f / (1.f + exp_cephes(-gi));
    sig[i] = s;
    a[i] = gi * s * u[i];
  }
}

DISTILLERY_CLONES void swiglu_bwd_range(float* __restrict g, float* __restrict u, const float* __restrict sig,
                                        const float* __restrict da, long n) {
  for (long i = 0; i < n; i++) {
    const float gi = g[i];
    const float s = sig[i];
    const float d = da[i];
    const float ui = u[i];
    g[i] = d * ui * s * (1.f + gi * (1.f - s));
    u[i] = d * gi * s;
  }
}

/** [begin, end) of chunk i of n elements split in `chunks` ranges (multiples of 64) */
inline void chunk_range(long n, int chunks, int i, long* begin, long* end) {
  const long per = ((n + chunks - 1) / chunks + 63) & ~63L;
  *begin = std::min(n, per * i);
  *end = std::min(n, per * (i + 1));
}

int chunks_for(long n, int threads) { return threads >= 2 && n >= PARALLEL_MIN ? CHUNKS : 1; }

}  // namespace

void swiglu_forward(const float* g, const float* u, float* a, float* sig, long n, int threads) {
  struct Job {
    const float *g, *u;
    float *a, *sig;
    long n;
    int chunks;
  } job{g, u, a, sig, n, chunks_for(n, threads)};
  parallel_for(
      job.chunks,
      [](void* ctx, int i) {
        const Job& j = *static_cast<const Job*>(ctx);
        long b, e;
        chunk_range(j.n, j.chunks, i, &b, &e);
        if (e > b) swiglu_fwd_range(j.g + b, j.u + b, j.a + b, j.sig + b, e - b);
      },
      &job, threads);
}

void swiglu_backward(float* g, float* u, const float* sig, const float* da, long n, int threads) {
  struct Job {
    float *g, *u;
    const float *sig, *da;
    long n;
    int chunks;
  } job{g, u, sig, da, n, chunks_for(n, threads)};
  parallel_for(
      job.chunks,
      [](void* ctx, int i) {
        const Job& j = *static_cast<const Job*>(ctx);
        long b, e;
        chunk_range(j.n, j.chunks, i, &b, &e);
        if (e > b) swiglu_bwd_range(j.g + b, j.u + b, j.sig + b, j.da + b, e - b);
      },
      &job, threads);
}

}  // namespace distillery
