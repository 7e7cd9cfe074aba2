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

#include <cmath>
#include <vector>

#include "pool.h"
#include "sgemm.h"

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

/** f(begin, end) on each of chunks_for(n, threads) ranges of n elements, the ranges shared by the pool */
template <class F>
void parallel_elements(long n, int threads, const F& f) {
  struct Ctx {
    const F* f;
    long n;
    int chunks;
  } ctx{&f, n, chunks_for(n, threads)};
  parallel_for(
      ctx.chunks,
      [](void* p, int i) {
        const Ctx& c = *static_cast<const Ctx*>(p);
        long b, e;
        chunk_range(c.n, c.chunks, i, &b, &e);
        if (e > b) (*c.f)(b, e);
      },
      &ctx, threads);
}

/** p[lo..=i] = softmax(scale·s[lo..=i]) in place, 0 elsewhere in [0, T) (assembly/attention.ts softmaxRow) */
DISTILLERY_CLONES void softmax_row(float* __restrict p, int lo, int i, int T, float scale) {
  float* s = p + lo;
  const int n = i + 1 - lo;
  float max = -INFINITY;
  for (int j = 0; j < n; j++) max = std::max(max, s[j] * scale);
  float sum = 0;
  for (int j = 0; j < n; j++) {
    const float e = exp_cephes(s[j] * scale - max);
    s[j] = e;
    sum += e;
  }
  const float inv = 1.f / sum;
  for (int j = 0; j < n; j++) s[j] *= inv;
  for (int j = 0; j < lo; j++) p[j] = 0.f;
  for (int j = i + 1; j < T; j++) p[j] = 0.f;
}

/** dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale on row i (keys ≤ i), 0 after it, in place in d */
DISTILLERY_CLONES void softmax_backward_row(const float* __restrict p, float* __restrict d, int i, int T,
                                            float scale) {
  const int n = i + 1;
  float dot = 0;
  for (int j = 0; j < n; j++) dot += d[j] * p[j];
  for (int j = 0; j < n; j++) d[j] = p[j] * (d[j] - dot) * scale;
  for (int j = n; j < T; j++) d[j] = 0.f;
}


/** Σ a[j]·b[j] in 16 interleaved partial sums (vectorizable without reassociating a serial sum) */
DISTILLERY_CLONES float dot16(const float* __restrict a, const float* __restrict b, int n) {
  float acc[16] = {};
  int j = 0;
  for (; j + 16 <= n; j += 16)
    for (int l = 0; l < 16; l++) acc[l] += a[j + l] * b[j + l];
  float s = 0;
  for (int l = 0; l < 16; l++) s += acc[l];
  for (; j < n; j++) s += a[j] * b[j];
  return s;
}

DISTILLERY_CLONES void rms_fwd_rows(const float* __restrict x, const float* __restrict w, float* __restrict y,
                                    float* __restrict rinv, int r0, int r1, int d, float eps) {
  for (int i = r0; i < r1; i++) {
    const float* xi = x + static_cast<std::ptrdiff_t>(i) * d;
    float* yi = y + static_cast<std::ptrdiff_t>(i) * d;
    const float r = 1.f / std::sqrt(dot16(xi, xi, d) / static_cast<float>(d) + eps);
    rinv[i] = r;
    for (int j = 0; j < d; j++) yi[j] = xi[j] * r * w[j];
  }
}

DISTILLERY_CLONES void rms_bwd_rows(const float* __restrict x, const float* __restrict w, const float* __restrict rinv,
                                    const float* __restrict dy, float* __restrict dx, int r0, int r1, int d) {
  thread_local std::vector<float> gbuf;
  if (gbuf.size() < static_cast<std::size_t>(d)) gbuf.resize(d);
  float* g = gbuf.data();
  for (int i = r0; i < r1; i++) {
    const std::ptrdiff_t o = static_cast<std::ptrdiff_t>(i) * d;
    const float r = rinv[i];
    for (int j = 0; j < d; j++) g[j] = dy[o + j] * w[j];
    const float mean = dot16(g, x + o, d) * r / static_cast<float>(d);
    for (int j = 0; j < d; j++) dx[o + j] += r * (g[j] - x[o + j] * r * mean);
  }
}

DISTILLERY_CLONES void rms_dw_rows(const float* __restrict x, const float* __restrict rinv, const float* __restrict dy,
                                   float* __restrict dw, int rows, int d) {
  for (int i = 0; i < rows; i++) {
    const std::ptrdiff_t o = static_cast<std::ptrdiff_t>(i) * d;
    const float r = rinv[i];
    for (int j = 0; j < d; j++) dw[j] += dy[o + j] * (x[o + j] * r);
  }
}

DISTILLERY_CLONES void add_range(float* __restrict a, const float* __restrict b, long n) {
  for (long i = 0; i < n; i++) a[i] += b[i];
}

/** [r0, r1) of chunk i of `rows` split in `chunks` */
inline void row_range(int rows, int chunks, int i, int* r0, int* r1) {
  const int per = (rows + chunks - 1) / chunks;
  *r0 = std::min(rows, per * i);
  *r1 = std::min(rows, per * (i + 1));
}

/** f(r0, r1) on each of the row ranges of `rows` rows of d elements, the ranges shared by the pool */
template <class F>
void parallel_rows(int rows, int d, int threads, const F& f) {
  struct Ctx {
    const F* f;
    int rows, chunks;
  } ctx{&f, rows, chunks_for(static_cast<long>(rows) * d, threads)};
  parallel_for(
      ctx.chunks,
      [](void* p, int i) {
        const Ctx& c = *static_cast<const Ctx*>(p);
        int r0, r1;
        row_range(c.rows, c.chunks, i, &r0, &r1);
        (*c.f)(r0, r1);
      },
      &ctx, threads);
}

/** rows of a causal block: products stop at the block's last row (a multiple of every kernel's MR) */
constexpr int ATT_BLOCK = 96;

struct AttentionJob {
  const float *q, *k, *v, *probs, *dout;
  float *out, *probsOut, *dq, *dk, *dv;
  const int* seg;
  int T, H, KVH, hd;
  Kernel kernel;
};

void attention_forward_unit(const AttentionJob& j, int u) {
  const int T = j.T, H = j.H, KVH = j.KVH, hd = j.hd;
  const int b = u / KVH, kvh = u % KVH, group = H / KVH;
  const std::ptrdiff_t rowQ = static_cast<std::ptrdiff_t>(H) * hd, rowKV = static_cast<std::ptrdiff_t>(KVH) * hd;
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  const float* kb = j.k + static_cast<std::ptrdiff_t>(b) * T * rowKV + kvh * hd;
  const float* vb = j.v + static_cast<std::ptrdiff_t>(b) * T * rowKV + kvh * hd;
  for (int g = 0; g < group; g++) {
    const int h = kvh * group + g;
    const float* qb = j.q + static_cast<std::ptrdiff_t>(b) * T * rowQ + h * hd;
    float* ob = j.out + static_cast<std::ptrdiff_t>(b) * T * rowQ + h * hd;
    float* P = j.probsOut + (static_cast<std::ptrdiff_t>(b) * H + h) * T * T;
    for (int i0 = 0; i0 < T; i0 += ATT_BLOCK) {
      const int m = std::min(ATT_BLOCK, T - i0), cols = i0 + m;
      // S = Q Kᵀ on the causal part of the block's rows
      sgemm_strided(qb + i0 * rowQ, rowQ, 1, kb, 1, rowKV, P + static_cast<std::ptrdiff_t>(i0) * T, T, m, hd, cols,
                    false, 1.f, j.kernel);
      for (int i = i0; i < i0 + m; i++) {
        const int lo = j.seg ? j.seg[b * T + i] : 0;
        softmax_row(P + static_cast<std::ptrdiff_t>(i) * T, lo, i, T, scale);
      }
      // out = P V: P's rows end at the diagonal
      sgemm_strided(P + static_cast<std::ptrdiff_t>(i0) * T, T, 1, vb, rowKV, 1, ob + i0 * rowQ, rowQ, m, cols, hd,
                    false, 1.f, j.kernel);
    }
  }
}

void attention_backward_unit(const AttentionJob& j, int u) {
  const int T = j.T, H = j.H, KVH = j.KVH, hd = j.hd;
  const int b = u / KVH, kvh = u % KVH, group = H / KVH;
  const std::ptrdiff_t rowQ = static_cast<std::ptrdiff_t>(H) * hd, rowKV = static_cast<std::ptrdiff_t>(KVH) * hd;
  const float scale = 1.f / std::sqrt(static_cast<float>(hd));
  const std::ptrdiff_t kvOff = static_cast<std::ptrdiff_t>(b) * T * rowKV + kvh * hd;
  const float *kb = j.k + kvOff, *vb = j.v + kvOff;
  float *dkb = j.dk + kvOff, *dvb = j.dv + kvOff;
  thread_local std::vector<float> scratch;
  if (scratch.size() < static_cast<std::size_t>(T) * T) scratch.resize(static_cast<std::size_t>(T) * T);
  float* dP = scratch.data();
  for (int g = 0; g < group; g++) {
    const int h = kvh * group + g;
    const std::ptrdiff_t qOff = static_cast<std::ptrdiff_t>(b) * T * rowQ + h * hd;
    const float *qb = j.q + qOff, *dob = j.dout + qOff;
    float* dqb = j.dq + qOff;
    const float* P = j.probs + (static_cast<std::ptrdiff_t>(b) * H + h) * T * T;
    for (int j0 = 0; j0 < T; j0 += ATT_BLOCK) {
      const int m = std::min(ATT_BLOCK, T - j0);
      // dV[j0..] += Pᵀ dO over query rows t ≥ j0 (P[t][j] = 0 for t < j)
      sgemm_strided(P + static_cast<std::ptrdiff_t>(j0) * T + j0, 1, T, dob + j0 * rowQ, rowQ, 1, dvb + j0 * rowKV,
                    rowKV, m, T - j0, hd, true, 1.f, j.kernel);
    }
    for (int i0 = 0; i0 < T; i0 += ATT_BLOCK) {
      const int m = std::min(ATT_BLOCK, T - i0), cols = i0 + m;
      // dP = dO Vᵀ on the causal part, then dS in place
      sgemm_strided(dob + i0 * rowQ, rowQ, 1, vb, 1, rowKV, dP + static_cast<std::ptrdiff_t>(i0) * T, T, m, hd, cols,
                    false, 1.f, j.kernel);
      for (int i = i0; i < i0 + m; i++)
        softmax_backward_row(P + static_cast<std::ptrdiff_t>(i) * T, dP + static_cast<std::ptrdiff_t>(i) * T, i, T,
                             scale);
      // dQ = dS K
      sgemm_strided(dP + static_cast<std::ptrdiff_t>(i0) * T, T, 1, kb, rowKV, 1, dqb + i0 * rowQ, rowQ, m, cols, hd,
                    false, 1.f, j.kernel);
    }
    for (int j0 = 0; j0 < T; j0 += ATT_BLOCK) {
      const int m = std::min(ATT_BLOCK, T - j0);
      // dK[j0..] += dSᵀ Q over rows t ≥ j0
      sgemm_strided(dP + static_cast<std::ptrdiff_t>(j0) * T + j0, 1, T, qb + j0 * rowQ, rowQ, 1, dkb + j0 * rowKV,
                    rowKV, m, T - j0, hd, true, 1.f, j.kernel);
    }
  }
}

}  // namespace

void swiglu_forward(const float* g, const float* u, float* a, float* sig, long n, int threads) {
  parallel_elements(n, threads, [=](long b, long e) { swiglu_fwd_range(g + b, u + b, a + b, sig + b, e - b); });
}

void swiglu_backward(float* g, float* u, const float* sig, const float* da, long n, int threads) {
  parallel_elements(n, threads, [=](long b, long e) { swiglu_bwd_range(g + b, u + b, sig + b, da + b, e - b); });
}

void attention_forward(const float* q, const float* k, const float* v, float* out, float* probs, const int* seg,
                       int B, int T, int H, int KVH, int hd, int threads, Kernel kernel) {
  AttentionJob job{q, k, v, nullptr, nullptr, out, probs, nullptr, nullptr, nullptr, seg, T, H, KVH, hd, kernel};
  parallel_for(
      B * KVH, [](void* ctx, int u) { attention_forward_unit(*static_cast<const AttentionJob*>(ctx), u); }, &job,
      threads);
}

void attention_backward(const float* q, const float* k, const float* v, const float* probs, const float* dout,
                        float* dq, float* dk, float* dv, int B, int T, int H, int KVH, int hd, int threads,
                        Kernel kernel) {
  AttentionJob job{q, k, v, probs, dout, nullptr, nullptr, dq, dk, dv, nullptr, T, H, KVH, hd, kernel};
  parallel_for(
      B * KVH, [](void* ctx, int u) { attention_backward_unit(*static_cast<const AttentionJob*>(ctx), u); }, &job,
      threads);
}

namespace {
DISTILLERY_CLONES void adamw_range(float* __restrict w, const float* __restrict g, float* __restrict m,
                                   float* __restrict v, long n, double beta1, double beta2, double eps, double decay,
                                   double stepSize, double bc2Sqrt) {
  const double b1c = 1 - beta1, b2c = 1 - beta2;
  for (long i = 0; i < n; i++) {
    const double gi = g[i];
    const double mi = beta1 * static_cast<double>(m[i]) + b1c * gi;
    const double vi = beta2 * static_cast<double>(v[i]) + b2c * gi * gi;
    m[i] = static_cast<float>(mi);
    v[i] = static_cast<float>(vi);
    w[i] = static_cast<float>(static_cast<double>(w[i]) * decay - (stepSize * mi) / (std::sqrt(vi) / bc2Sqrt + eps));
  }
}
}  // namespace

void adamw_update(float* w, const float* g, float* m, float* v, long start, long n, double beta1, double beta2,
                  double eps, double decay, double stepSize, double bc2Sqrt) {
  if (n > start) adamw_range(w + start, g + start, m + start, v + start, n - start, beta1, beta2, eps, decay, stepSize, bc2Sqrt);
}

void rmsnorm_forward(const float* x, const float* w, float* y, float* rinv, int rows, int d, float eps, int threads) {
  parallel_rows(rows, d, threads, [=](int r0, int r1) { rms_fwd_rows(x, w, y, rinv, r0, r1, d, eps); });
}

void rmsnorm_backward(const float* x, const float* w, const float* rinv, const float* dy, float* dx, float* dw,
                      int rows, int d, int threads) {
  if (dw) rms_dw_rows(x, rinv, dy, dw, rows, d);
  parallel_rows(rows, d, threads, [=](int r0, int r1) { rms_bwd_rows(x, w, rinv, dy, dx, r0, r1, d); });
}

void add_inplace(float* a, const float* b, long n, int threads) {
  parallel_elements(n, threads, [=](long begin, long end) { add_range(a + begin, b + begin, end - begin); });
}

}  // namespace distillery
