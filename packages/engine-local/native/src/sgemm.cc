// BLIS-style sgemm: B is packed into kc x nc blocks of NR-column panels (kept in L3/L2), A
// into mc x kc blocks of MR-row panels (kept in L2), and an MR x NR register micro-kernel
// multiplies one A panel by one B panel (the micro-panel of B stays in L1). Zero padding in
// the packed panels makes every micro-kernel call full size; partial tiles of C go through a
// small buffer. The file is compiled for the baseline ISA; the AVX2+FMA kernel carries a
// target attribute and is chosen at run time, so one binary runs on any x86-64 (and the
// portable kernel on other CPUs).
#include "sgemm.h"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define DISTILLERY_X86 1
#include <immintrin.h>
#endif

namespace distillery {
namespace {

constexpr int MR = 6;
constexpr int NR = 16;
constexpr int KC = 256;  // 6x256 A panel 6 KiB + 16x256 B panel 16 KiB: L1
constexpr int MC = 144;  // A block 144 KiB: L2
constexpr int NC = 2048; // B block 2 MiB: L2/L3
/** products with fewer rows than this stream B instead of packing it */
constexpr int FEW_ROWS = 4;
/** multiply-adds above which a second thread pays for its start */
constexpr double PARALLEL_MIN_WORK = 4.0 * 1024 * 1024;

/** element (i, j) = p[i * rs + j * cs] */
struct View {
  const float* p;
  std::ptrdiff_t rs;
  std::ptrdiff_t cs;
  float at(std::ptrdiff_t i, std::ptrdiff_t j) const { return p[i * rs + j * cs]; }
};

// Packs op(A)[ic.., pc..] (mc x kc) as MR-row panels: panel p, step k holds rows p*MR..p*MR+MR-1.
void pack_a(const View& A, int mc, int kc, float* out) {
  for (int p = 0; p < mc; p += MR) {
    const int rows = std::min(MR, mc - p);
    if (A.cs == 1) {
      // rows contiguous along k: walk each row once
      for (int r = 0; r < MR; r++) {
        if (r < rows) {
          const float* src = A.p + (p + r) * A.rs;
          for (int k = 0; k < kc; k++) out[k * MR + r] = src[k];
        } else {
          for (int k = 0; k < kc; k++) out[k * MR + r] = 0.f;
        }
      }
    } else {
      for (int k = 0; k < kc; k++) {
        const float* src = A.p + k * A.cs + p * A.rs;
        for (int r = 0; r < MR; r++) out[k * MR + r] = r < rows ? src[r * A.rs] : 0.f;
      }
    }
    out += MR * kc;
  }
}

// Packs op(B)[pc.., jc..] (kc x nc) as NR-column panels: panel q, step k holds columns q*NR..+NR-1.
void pack_b(const View& B, int kc, int nc, float* out) {
  for (int q = 0; q < nc; q += NR) {
    const int cols = std::min(NR, nc - q);
    if (B.cs == 1) {
      for (int k = 0; k < kc; k++) {
        const float* src = B.p + k * B.rs + q;
        float* dst = out + k * NR;
        if (cols == NR) std::memcpy(dst, src, NR * sizeof(float));
        else {
          for (int j = 0; j < cols; j++) dst[j] = src[j];
          for (int j = cols; j < NR; j++) dst[j] = 0.f;
        }
      }
    } else {
      // B stored transposed: column j of op(B) is contiguous along k
      for (int j = 0; j < NR; j++) {
        if (j < cols) {
          const float* src = B.p + (q + j) * B.cs;
          for (int k = 0; k < kc; k++) out[k * NR + j] = src[k * B.rs];
        } else {
          for (int k = 0; k < kc; k++) out[k * NR + j] = 0.f;
        }
      }
    }
    out += NR * kc;
  }
}

/** C[0..MR, 0..NR] (ldc) = (accumulate ? C : 0) + alpha * Ap * Bp, all of the tile valid */
using MicroKernel = void (*)(int kc, const float* ap, const float* bp, float* c, std::ptrdiff_t ldc, float alpha,
                             bool accumulate);

void micro_scalar(int kc, const float* ap, const float* bp, float* c, std::ptrdiff_t ldc, float alpha,
                  bool accumulate) {
  float acc[MR][NR] = {};
  for (int k = 0; k < kc; k++) {
    for (int r = 0; r < MR; r++) {
      const float a = ap[r];
      for (int j = 0; j < NR; j++) acc[r][j] += a * bp[j];
    }
    ap += MR;
    bp += NR;
  }
  for (int r = 0; r < MR; r++) {
    float* cr = c + r * ldc;
    if (accumulate)
      for (int j = 0; j < NR; j++) cr[j] += alpha * acc[r][j];
    else
      for (int j = 0; j < NR; j++) cr[j] = alpha * acc[r][j];
  }
}

#ifdef DISTILLERY_X86
__attribute__((target("avx2,fma"))) inline void store_row_avx2(float* row, __m256 va, __m256 x0, __m256 x1,
                                                               bool accumulate) {
  if (accumulate) {
    _mm256_storeu_ps(row, _mm256_fmadd_ps(va, x0, _mm256_loadu_ps(row)));
    _mm256_storeu_ps(row + 8, _mm256_fmadd_ps(va, x1, _mm256_loadu_ps(row + 8)));
  } else {
    _mm256_storeu_ps(row, _mm256_mul_ps(va, x0));
    _mm256_storeu_ps(row + 8, _mm256_mul_ps(va, x1));
  }
}

__attribute__((target("avx2,fma"))) void micro_avx2(int kc, const float* ap, const float* bp, float* c,
                                                    std::ptrdiff_t ldc, float alpha, bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
  __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
  __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
  __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int k = 0; k < kc; k++) {
    const __m256 b0 = _mm256_load_ps(bp);
    const __m256 b1 = _mm256_load_ps(bp + 8);
    __m256 a = _mm256_broadcast_ss(ap + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
    ap += MR;
    bp += NR;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  store_row_avx2(c + 0 * ldc, va, c00, c01, accumulate);
  store_row_avx2(c + 1 * ldc, va, c10, c11, accumulate);
  store_row_avx2(c + 2 * ldc, va, c20, c21, accumulate);
  store_row_avx2(c + 3 * ldc, va, c30, c31, accumulate);
  store_row_avx2(c + 4 * ldc, va, c40, c41, accumulate);
  store_row_avx2(c + 5 * ldc, va, c50, c51, accumulate);
}
#endif

MicroKernel micro_for(Kernel k) {
#ifdef DISTILLERY_X86
  if (k == Kernel::Avx2) return micro_avx2;
#endif
  (void)k;
  return micro_scalar;
}

void* aligned_floats(std::size_t n) {
  void* p = nullptr;
#if defined(_WIN32)
  p = _aligned_malloc(n * sizeof(float), 64);
#else
  if (posix_memalign(&p, 64, n * sizeof(float)) != 0) p = nullptr;
#endif
  return p;
}
void aligned_free(void* p) {
#if defined(_WIN32)
  _aligned_free(p);
#else
  std::free(p);
#endif
}

/** per-thread packing buffers, kept between calls */
struct PackBuffers {
  float* a = nullptr;
  float* b = nullptr;
  PackBuffers() {
    a = static_cast<float*>(aligned_floats(static_cast<std::size_t>(MC) * KC));
    b = static_cast<float*>(aligned_floats(static_cast<std::size_t>(KC) * NC));
  }
  ~PackBuffers() {
    aligned_free(a);
    aligned_free(b);
  }
};

// A few rows (decoding one token per sequence): packing B would copy as much as the product
// reads, so B is streamed once instead. B stored [K,N]: each row of B is added into the rows of
// C; B stored [N,K] (B.rs == 1): each row of B is dotted with the rows of A.
#ifdef DISTILLERY_X86
__attribute__((target("avx2,fma"))) void axpy_avx2(int n, float s, const float* x, float* y) {
  const __m256 vs = _mm256_set1_ps(s);
  int j = 0;
  for (; j + 8 <= n; j += 8) _mm256_storeu_ps(y + j, _mm256_fmadd_ps(vs, _mm256_loadu_ps(x + j), _mm256_loadu_ps(y + j)));
  for (; j < n; j++) y[j] += s * x[j];
}
__attribute__((target("avx2,fma"))) float dot_avx2(int n, const float* x, const float* y) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  int k = 0;
  for (; k + 16 <= n; k += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), _mm256_loadu_ps(y + k + 8), s1);
  }
  for (; k + 8 <= n; k += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k), s0);
  s0 = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s0), _mm256_extractf128_ps(s0, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  float sum = _mm_cvtss_f32(h);
  for (; k < n; k++) sum += x[k] * y[k];
  return sum;
}
#endif
void axpy_scalar(int n, float s, const float* x, float* y) {
  for (int j = 0; j < n; j++) y[j] += s * x[j];
}
float dot_scalar(int n, const float* x, const float* y) {
  float sum = 0;
  for (int k = 0; k < n; k++) sum += x[k] * y[k];
  return sum;
}

void gemm_few_rows(const View& A, const View& B, float* c, std::ptrdiff_t ldc, int M, int K, int N, bool accumulate,
                   float alpha, bool avx2) {
#ifdef DISTILLERY_X86
  auto axpy = avx2 ? axpy_avx2 : axpy_scalar;
  auto dot = avx2 ? dot_avx2 : dot_scalar;
#else
  (void)avx2;
  auto axpy = axpy_scalar;
  auto dot = dot_scalar;
#endif
  if (B.cs == 1) {
    if (!accumulate)
      for (int i = 0; i < M; i++) std::fill(c + i * ldc, c + i * ldc + N, 0.f);
    for (int k = 0; k < K; k++) {
      const float* brow = B.p + k * B.rs;
      for (int i = 0; i < M; i++) {
        const float s = alpha * A.at(i, k);
        if (s != 0.f) axpy(N, s, brow, c + i * ldc);
      }
    }
    return;
  }
  // B.rs == 1: column j of op(B) is contiguous; A's rows made contiguous (a transposed A) once
  std::vector<float> rows;
  const float* arows = A.p;
  std::ptrdiff_t lda = A.rs;
  if (A.cs != 1) {
    rows.resize(static_cast<std::size_t>(M) * K);
    for (int i = 0; i < M; i++)
      for (int k = 0; k < K; k++) rows[static_cast<std::size_t>(i) * K + k] = A.at(i, k);
    arows = rows.data();
    lda = K;
  }
  for (int j = 0; j < N; j++) {
    const float* bcol = B.p + j * B.cs;
    for (int i = 0; i < M; i++) {
      const float v = alpha * dot(K, arows + i * lda, bcol);
      float* cij = c + i * ldc + j;
      *cij = accumulate ? *cij + v : v;
    }
  }
}

/** packing buffers kept between products, lent to whichever thread runs a half */
std::mutex pool_mutex;
std::vector<PackBuffers*> pool;

struct BufferLease {
  PackBuffers* buffers;
  BufferLease() {
    std::lock_guard<std::mutex> lock(pool_mutex);
    if (pool.empty()) {
      buffers = new PackBuffers();
    } else {
      buffers = pool.back();
      pool.pop_back();
    }
  }
  ~BufferLease() {
    std::lock_guard<std::mutex> lock(pool_mutex);
    pool.push_back(buffers);
  }
};

/** C (ldc) [M,N] (+)= alpha * A * B on this thread */
void gemm_serial(const View& A, const View& B, float* c, std::ptrdiff_t ldc, int M, int K, int N, bool accumulate,
                 float alpha, MicroKernel micro) {
  if (M < FEW_ROWS) {
    gemm_few_rows(A, B, c, ldc, M, K, N, accumulate, alpha, micro != micro_scalar);
    return;
  }
  // buffers from a pool, not thread_local: the helper is a new thread per product, and fresh
  // buffers would cost it 2 MiB of page faults every time
  BufferLease lease;
  float* pa = lease.buffers->a;
  float* pb = lease.buffers->b;
  if (!pa || !pb) {  // out of memory for 2 MiB: the unpacked loops need none
    gemm_few_rows(A, B, c, ldc, M, K, N, accumulate, alpha, micro != micro_scalar);
    return;
  }
  alignas(64) float tile[MR * NR];
  for (int jc = 0; jc < N; jc += NC) {
    const int nc = std::min(NC, N - jc);
    for (int pc = 0; pc < K; pc += KC) {
      const int kc = std::min(KC, K - pc);
      const bool acc = accumulate || pc > 0;
      pack_b(View{B.p + pc * B.rs + jc * B.cs, B.rs, B.cs}, kc, nc, pb);
      for (int ic = 0; ic < M; ic += MC) {
        const int mc = std::min(MC, M - ic);
        pack_a(View{A.p + ic * A.rs + pc * A.cs, A.rs, A.cs}, mc, kc, pa);
        for (int jr = 0; jr < nc; jr += NR) {
          const int nr = std::min(NR, nc - jr);
          const float* bp = pb + (jr / NR) * NR * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            const int mr = std::min(MR, mc - ir);
            const float* ap = pa + (ir / MR) * MR * kc;
            float* cij = c + (ic + ir) * ldc + jc + jr;
            if (mr == MR && nr == NR) {
              micro(kc, ap, bp, cij, ldc, alpha, acc);
            } else {
              micro(kc, ap, bp, tile, NR, alpha, false);
              for (int r = 0; r < mr; r++) {
                float* cr = cij + r * ldc;
                const float* tr = tile + r * NR;
                if (acc)
                  for (int j = 0; j < nr; j++) cr[j] += tr[j];
                else
                  for (int j = 0; j < nr; j++) cr[j] = tr[j];
              }
            }
          }
        }
      }
    }
  }
}

}  // namespace

Kernel best_kernel() {
#ifdef DISTILLERY_X86
#if defined(__GNUC__) || defined(__clang__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Kernel::Avx2;
#endif
#endif
  return Kernel::Scalar;
}

const char* kernel_name(Kernel k) { return k == Kernel::Avx2 ? "avx2" : "scalar"; }

void sgemm(const float* a, const float* b, float* c, int M, int K, int N, bool transA, bool transB,
           bool accumulate, float alpha, int threads, Kernel kernel) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) std::fill(c, c + static_cast<std::ptrdiff_t>(M) * N, 0.f);
    return;
  }
  const View A = transA ? View{a, 1, M} : View{a, K, 1};
  const View B = transB ? View{b, 1, K} : View{b, N, 1};
  const MicroKernel micro = micro_for(kernel);
  const double work = static_cast<double>(M) * N * K;
  if (threads < 2 || work < PARALLEL_MIN_WORK || (N < 2 * NR && M < 2 * MR)) {
    gemm_serial(A, B, c, N, M, K, N, accumulate, alpha, micro);
    return;
  }
  // two threads, each on its own half of C (whole micro-tiles), each packing its own operands
  if (N >= 2 * NR && (N >= M || M < 2 * MR)) {
    const int n0 = ((N / 2 + NR - 1) / NR) * NR;
    auto right = [&] {
      gemm_serial(A, View{B.p + n0 * B.cs, B.rs, B.cs}, c + n0, N, M, K, N - n0, accumulate, alpha, micro);
    };
    std::thread helper;
    try {
      helper = std::thread(right);
    } catch (...) {
      right();  // no thread to be had: this one does both halves
    }
    gemm_serial(A, B, c, N, M, K, n0, accumulate, alpha, micro);
    if (helper.joinable()) helper.join();
  } else {
    const int m0 = ((M / 2 + MR - 1) / MR) * MR;
    auto bottom = [&] {
      gemm_serial(View{A.p + m0 * A.rs, A.rs, A.cs}, B, c + static_cast<std::ptrdiff_t>(m0) * N, N, M - m0, K, N,
                  accumulate, alpha, micro);
    };
    std::thread helper;
    try {
      helper = std::thread(bottom);
    } catch (...) {
      bottom();
    }
    gemm_serial(A, B, c, N, m0, K, N, accumulate, alpha, micro);
    if (helper.joinable()) helper.join();
  }
}

}  // namespace distillery
