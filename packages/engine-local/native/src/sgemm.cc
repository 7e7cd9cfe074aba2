// BLIS-style sgemm: B is packed into kc x nc blocks of NR-column panels (kept in L3/L2), A
// into mc x kc blocks of MR-row panels (kept in L2), and an MR x NR register micro-kernel
// multiplies one A panel by one B panel (the micro-panel of B stays in L1). Zero padding in
// the packed panels makes every micro-kernel call full size; partial tiles of C go through a
// small buffer. The file is compiled for the baseline ISA; the AVX-512 and AVX2+FMA kernels
// carry target attributes and are chosen at run time (__builtin_cpu_supports), so one binary
// runs on any x86-64; on arm64 the NEON kernel is compiled in (NEON is part of AArch64), and
// other CPUs get the portable kernel. Each kernel has its own register tile (MR x NR) and
// blocking (KC, MC, NC), described by a Spec; packing pads panels to the kernel's tile.
#include "sgemm.h"

#include "pool.h"

#include <algorithm>
#include <cmath>
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
#if defined(__aarch64__) || defined(_M_ARM64)
#define DISTILLERY_NEON 1
#include <arm_neon.h>
#endif

namespace distillery {
namespace {

/** the largest register tile and blocks of any kernel (sizes of the packing buffers) */
constexpr int MAX_TILE = 12 * 32;
constexpr int MAX_A_BLOCK = 144 * 256;
constexpr int MAX_B_BLOCK = 256 * 2048;
/** products with fewer rows than this stream B instead of packing it */
constexpr int FEW_ROWS = 4;
/** multiply-adds above which the pool's helper thread takes part */
constexpr double PARALLEL_MIN_WORK = 1.0 * 1024 * 1024;

/** element (i, j) = p[i * rs + j * cs] */
struct View {
  const float* p;
  std::ptrdiff_t rs;
  std::ptrdiff_t cs;
  float at(std::ptrdiff_t i, std::ptrdiff_t j) const { return p[i * rs + j * cs]; }
};

// Packs op(A)[ic.., pc..] (mc x kc) as MR-row panels: panel p, step k holds rows p*MR..p*MR+MR-1.
void pack_a(const View& A, int mc, int kc, int MR, float* out) {
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
void pack_b(const View& B, int kc, int nc, int NR, float* out) {
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

/** a micro-kernel, its register tile and its cache blocking */
struct Spec {
  MicroKernel micro;
  int mr, nr;  // register tile
  int kc;      // depth of a block: an A micro-panel + a B micro-panel stay in L1
  int mc;      // rows of an A block (L2), a multiple of mr
  int nc;      // columns of a B block (L2/L3), a multiple of nr
  bool simd_rows;  // the few-rows path may use AVX2+FMA
};

constexpr int SCALAR_MR = 6;
constexpr int SCALAR_NR = 16;
void micro_scalar(int kc, const float* ap, const float* bp, float* c, std::ptrdiff_t ldc, float alpha,
                  bool accumulate) {
  float acc[SCALAR_MR][SCALAR_NR] = {};
  for (int k = 0; k < kc; k++) {
    for (int r = 0; r < SCALAR_MR; r++) {
      const float a = ap[r];
      for (int j = 0; j < SCALAR_NR; j++) acc[r][j] += a * bp[j];
    }
    ap += SCALAR_MR;
    bp += SCALAR_NR;
  }
  for (int r = 0; r < SCALAR_MR; r++) {
    float* cr = c + r * ldc;
    if (accumulate)
      for (int j = 0; j < SCALAR_NR; j++) cr[j] += alpha * acc[r][j];
    else
      for (int j = 0; j < SCALAR_NR; j++) cr[j] = alpha * acc[r][j];
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

// 6 x 16: 12 ymm accumulators, 2 loads of B and 6 broadcasts of A per step of k
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
    ap += 6;
    bp += 16;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  store_row_avx2(c + 0 * ldc, va, c00, c01, accumulate);
  store_row_avx2(c + 1 * ldc, va, c10, c11, accumulate);
  store_row_avx2(c + 2 * ldc, va, c20, c21, accumulate);
  store_row_avx2(c + 3 * ldc, va, c30, c31, accumulate);
  store_row_avx2(c + 4 * ldc, va, c40, c41, accumulate);
  store_row_avx2(c + 5 * ldc, va, c50, c51, accumulate);
}

// AVX-512: 12 x 32, 24 zmm accumulators (of 32), 2 loads of B and 12 broadcasts of A (folded
// into the FMAs as {1to16} operands) per step of k
constexpr int AVX512_MR = 12;
constexpr int AVX512_NR = 32;

__attribute__((target("avx512f"))) inline void store_row_avx512(float* row, __m512 va, __m512 x0, __m512 x1,
                                                                 bool accumulate) {
  if (accumulate) {
    _mm512_storeu_ps(row, _mm512_fmadd_ps(va, x0, _mm512_loadu_ps(row)));
    _mm512_storeu_ps(row + 16, _mm512_fmadd_ps(va, x1, _mm512_loadu_ps(row + 16)));
  } else {
    _mm512_storeu_ps(row, _mm512_mul_ps(va, x0));
    _mm512_storeu_ps(row + 16, _mm512_mul_ps(va, x1));
  }
}

#define DISTILLERY_ROW512(r)                                    \
  {                                                             \
    const __m512 a = _mm512_set1_ps(ap[r]);                     \
    c##r##0 = _mm512_fmadd_ps(a, b0, c##r##0);                  \
    c##r##1 = _mm512_fmadd_ps(a, b1, c##r##1);                  \
  }
__attribute__((target("avx512f"))) void micro_avx512(int kc, const float* ap, const float* bp, float* c,
                                                      std::ptrdiff_t ldc, float alpha, bool accumulate) {
  __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(),
         c11 = _mm512_setzero_ps(), c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(),
         c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps(), c40 = _mm512_setzero_ps(),
         c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps(),
         c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(),
         c71 = _mm512_setzero_ps(), c80 = _mm512_setzero_ps(), c81 = _mm512_setzero_ps(),
         c90 = _mm512_setzero_ps(), c91 = _mm512_setzero_ps(), c100 = _mm512_setzero_ps(),
         c101 = _mm512_setzero_ps(), c110 = _mm512_setzero_ps(), c111 = _mm512_setzero_ps();
  for (int k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_load_ps(bp);
    const __m512 b1 = _mm512_load_ps(bp + 16);
    DISTILLERY_ROW512(0)
    DISTILLERY_ROW512(1)
    DISTILLERY_ROW512(2)
    DISTILLERY_ROW512(3)
    DISTILLERY_ROW512(4)
    DISTILLERY_ROW512(5)
    DISTILLERY_ROW512(6)
    DISTILLERY_ROW512(7)
    DISTILLERY_ROW512(8)
    DISTILLERY_ROW512(9)
    DISTILLERY_ROW512(10)
    DISTILLERY_ROW512(11)
    ap += AVX512_MR;
    bp += AVX512_NR;
  }
  const __m512 va = _mm512_set1_ps(alpha);
  store_row_avx512(c + 0 * ldc, va, c00, c01, accumulate);
  store_row_avx512(c + 1 * ldc, va, c10, c11, accumulate);
  store_row_avx512(c + 2 * ldc, va, c20, c21, accumulate);
  store_row_avx512(c + 3 * ldc, va, c30, c31, accumulate);
  store_row_avx512(c + 4 * ldc, va, c40, c41, accumulate);
  store_row_avx512(c + 5 * ldc, va, c50, c51, accumulate);
  store_row_avx512(c + 6 * ldc, va, c60, c61, accumulate);
  store_row_avx512(c + 7 * ldc, va, c70, c71, accumulate);
  store_row_avx512(c + 8 * ldc, va, c80, c81, accumulate);
  store_row_avx512(c + 9 * ldc, va, c90, c91, accumulate);
  store_row_avx512(c + 10 * ldc, va, c100, c101, accumulate);
  store_row_avx512(c + 11 * ldc, va, c110, c111, accumulate);
}
#undef DISTILLERY_ROW512
#endif

#ifdef DISTILLERY_NEON
// NEON (AArch64): 8 x 12, 24 q-register accumulators (of 32); per step of k, 3 loads of B,
// 2 loads of A (8 rows) and 24 lane FMAs. Compiled only for arm64.
constexpr int NEON_MR = 8;
constexpr int NEON_NR = 12;

inline void store_row_neon(float* row, float32x4_t va, float32x4_t x0, float32x4_t x1, float32x4_t x2,
                           bool accumulate) {
  if (accumulate) {
    vst1q_f32(row, vfmaq_f32(vld1q_f32(row), va, x0));
    vst1q_f32(row + 4, vfmaq_f32(vld1q_f32(row + 4), va, x1));
    vst1q_f32(row + 8, vfmaq_f32(vld1q_f32(row + 8), va, x2));
  } else {
    vst1q_f32(row, vmulq_f32(va, x0));
    vst1q_f32(row + 4, vmulq_f32(va, x1));
    vst1q_f32(row + 8, vmulq_f32(va, x2));
  }
}

#define DISTILLERY_ROWNEON(r, av, lane)                   \
  c##r##0 = vfmaq_laneq_f32(c##r##0, b0, av, lane);       \
  c##r##1 = vfmaq_laneq_f32(c##r##1, b1, av, lane);       \
  c##r##2 = vfmaq_laneq_f32(c##r##2, b2, av, lane);
void micro_neon(int kc, const float* ap, const float* bp, float* c, std::ptrdiff_t ldc, float alpha,
                bool accumulate) {
  const float32x4_t z = vdupq_n_f32(0.f);
  float32x4_t c00 = z, c01 = z, c02 = z, c10 = z, c11 = z, c12 = z, c20 = z, c21 = z, c22 = z, c30 = z, c31 = z,
              c32 = z, c40 = z, c41 = z, c42 = z, c50 = z, c51 = z, c52 = z, c60 = z, c61 = z, c62 = z, c70 = z,
              c71 = z, c72 = z;
  for (int k = 0; k < kc; k++) {
    const float32x4_t b0 = vld1q_f32(bp), b1 = vld1q_f32(bp + 4), b2 = vld1q_f32(bp + 8);
    const float32x4_t a0 = vld1q_f32(ap), a1 = vld1q_f32(ap + 4);
    DISTILLERY_ROWNEON(0, a0, 0)
    DISTILLERY_ROWNEON(1, a0, 1)
    DISTILLERY_ROWNEON(2, a0, 2)
    DISTILLERY_ROWNEON(3, a0, 3)
    DISTILLERY_ROWNEON(4, a1, 0)
    DISTILLERY_ROWNEON(5, a1, 1)
    DISTILLERY_ROWNEON(6, a1, 2)
    DISTILLERY_ROWNEON(7, a1, 3)
    ap += NEON_MR;
    bp += NEON_NR;
  }
  const float32x4_t va = vdupq_n_f32(alpha);
  store_row_neon(c + 0 * ldc, va, c00, c01, c02, accumulate);
  store_row_neon(c + 1 * ldc, va, c10, c11, c12, accumulate);
  store_row_neon(c + 2 * ldc, va, c20, c21, c22, accumulate);
  store_row_neon(c + 3 * ldc, va, c30, c31, c32, accumulate);
  store_row_neon(c + 4 * ldc, va, c40, c41, c42, accumulate);
  store_row_neon(c + 5 * ldc, va, c50, c51, c52, accumulate);
  store_row_neon(c + 6 * ldc, va, c60, c61, c62, accumulate);
  store_row_neon(c + 7 * ldc, va, c70, c71, c72, accumulate);
}
#undef DISTILLERY_ROWNEON
#endif

Spec spec_for(Kernel k) {
  switch (k) {
#ifdef DISTILLERY_X86
    // 12x128 A micro-panel 6 KiB + 32x128 B micro-panel 16 KiB: L1; A block 72 KiB, B block 1 MiB
    case Kernel::Avx512:
      return Spec{micro_avx512, AVX512_MR, AVX512_NR, 128, 144, 2048, true};
    // 6x256 A micro-panel 6 KiB + 16x256 B micro-panel 16 KiB: L1; A block 144 KiB, B block 2 MiB
    case Kernel::Avx2:
      return Spec{micro_avx2, 6, 16, 256, 144, 2048, true};
#endif
#ifdef DISTILLERY_NEON
    // 8x256 A micro-panel 8 KiB + 12x256 B micro-panel 12 KiB: L1; A block 144 KiB, B block 2 MiB
    case Kernel::Neon:
      return Spec{micro_neon, NEON_MR, NEON_NR, 256, 144, 2040, false};
#endif
    default:
      return Spec{micro_scalar, SCALAR_MR, SCALAR_NR, 256, 144, 2048, false};
  }
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

/** per-thread packing buffers, kept between calls (sized for the largest blocks of any kernel) */
struct PackBuffers {
  float* a = nullptr;
  float* b = nullptr;
  PackBuffers() {
    a = static_cast<float*>(aligned_floats(static_cast<std::size_t>(MAX_A_BLOCK)));
    b = static_cast<float*>(aligned_floats(static_cast<std::size_t>(MAX_B_BLOCK)));
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
                 float alpha, const Spec& s) {
  if (M < FEW_ROWS) {
    gemm_few_rows(A, B, c, ldc, M, K, N, accumulate, alpha, s.simd_rows);
    return;
  }
  // buffers from a pool, not thread_local: a chunk may run on either thread
  BufferLease lease;
  float* pa = lease.buffers->a;
  float* pb = lease.buffers->b;
  if (!pa || !pb) {  // out of memory for 2 MiB: the unpacked loops need none
    gemm_few_rows(A, B, c, ldc, M, K, N, accumulate, alpha, s.simd_rows);
    return;
  }
  const int MR = s.mr, NR = s.nr;
  const MicroKernel micro = s.micro;
  alignas(64) float tile[MAX_TILE];
  for (int jc = 0; jc < N; jc += s.nc) {
    const int nc = std::min(s.nc, N - jc);
    for (int pc = 0; pc < K; pc += s.kc) {
      const int kc = std::min(s.kc, K - pc);
      const bool acc = accumulate || pc > 0;
      pack_b(View{B.p + pc * B.rs + jc * B.cs, B.rs, B.cs}, kc, nc, NR, pb);
      for (int ic = 0; ic < M; ic += s.mc) {
        const int mc = std::min(s.mc, M - ic);
        pack_a(View{A.p + ic * A.rs + pc * A.cs, A.rs, A.cs}, mc, kc, MR, pa);
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

#ifdef DISTILLERY_X86
// Narrow products (at most 16 columns: a LoRA rank), AVX-512: B is copied once into K rows of 16
// (zero padded) and each row of C is one zmm accumulator, 12 rows at a time, A read in place
// (no packing: for 8 columns packing A cost as much as the product, and a 12x32 tile left 3/4
// of its lanes idle). C(i, j) = c[i * crs + j * ccs]: ccs != 1 writes a transposed C (the
// products with at most 16 rows run as Cᵀ = Bᵀ Aᵀ). Per element the same FMA chain over k, so
// any split of the rows gives the same bits.
constexpr int NARROW = 16;
constexpr int NARROW_ROWS = 12;

__attribute__((target("avx512f"))) inline void narrow_store(__m512 acc, float* c, std::ptrdiff_t ccs, int N,
                                                             __mmask16 mask, __m512 va, bool accumulate) {
  if (ccs == 1) {
    const __m512 v = accumulate ? _mm512_fmadd_ps(va, acc, _mm512_maskz_loadu_ps(mask, c)) : _mm512_mul_ps(va, acc);
    _mm512_mask_storeu_ps(c, mask, v);
    return;
  }
  alignas(64) float t[NARROW];
  _mm512_store_ps(t, acc);
  const float alpha = _mm512_cvtss_f32(va);
  for (int j = 0; j < N; j++) {
    float* cj = c + j * ccs;
    *cj = accumulate ? std::fma(alpha, t[j], *cj) : alpha * t[j];
  }
}

#define DISTILLERY_NARROW_ROW(r) acc##r = _mm512_fmadd_ps(_mm512_set1_ps(a[(r) * A.rs]), b, acc##r);
__attribute__((target("avx512f"))) void gemm_narrow_avx512(const View& A, const float* bp, float* c, std::ptrdiff_t crs,
                                                            std::ptrdiff_t ccs, int M, int K, int N, bool accumulate,
                                                            float alpha) {
  const __mmask16 mask = static_cast<__mmask16>((1u << N) - 1u);
  const __m512 va = _mm512_set1_ps(alpha);
  int i = 0;
  for (; i + NARROW_ROWS <= M; i += NARROW_ROWS) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps(), acc2 = _mm512_setzero_ps(),
           acc3 = _mm512_setzero_ps(), acc4 = _mm512_setzero_ps(), acc5 = _mm512_setzero_ps(),
           acc6 = _mm512_setzero_ps(), acc7 = _mm512_setzero_ps(), acc8 = _mm512_setzero_ps(),
           acc9 = _mm512_setzero_ps(), acc10 = _mm512_setzero_ps(), acc11 = _mm512_setzero_ps();
    const float* a = A.p + i * A.rs;
    for (int k = 0; k < K; k++, a += A.cs) {
      const __m512 b = _mm512_load_ps(bp + k * NARROW);
      DISTILLERY_NARROW_ROW(0)
      DISTILLERY_NARROW_ROW(1)
      DISTILLERY_NARROW_ROW(2)
      DISTILLERY_NARROW_ROW(3)
      DISTILLERY_NARROW_ROW(4)
      DISTILLERY_NARROW_ROW(5)
      DISTILLERY_NARROW_ROW(6)
      DISTILLERY_NARROW_ROW(7)
      DISTILLERY_NARROW_ROW(8)
      DISTILLERY_NARROW_ROW(9)
      DISTILLERY_NARROW_ROW(10)
      DISTILLERY_NARROW_ROW(11)
    }
    const __m512 accs[NARROW_ROWS] = {acc0, acc1, acc2, acc3, acc4, acc5, acc6, acc7, acc8, acc9, acc10, acc11};
    for (int r = 0; r < NARROW_ROWS; r++) narrow_store(accs[r], c + (i + r) * crs, ccs, N, mask, va, accumulate);
  }
  for (; i < M; i++) {
    __m512 acc = _mm512_setzero_ps();
    const float* a = A.p + i * A.rs;
    for (int k = 0; k < K; k++, a += A.cs) acc = _mm512_fmadd_ps(_mm512_set1_ps(*a), _mm512_load_ps(bp + k * NARROW), acc);
    narrow_store(acc, c + i * crs, ccs, N, mask, va, accumulate);
  }
}
#undef DISTILLERY_NARROW_ROW
#endif

/** op(B) [K, N ≤ 16] as K rows of 16 floats, zero padded */
void pack_narrow(const View& B, int K, int N, float* out) {
  for (int k = 0; k < K; k++) {
    float* row = out + k * 16;
    for (int j = 0; j < N; j++) row[j] = B.at(k, j);
    for (int j = N; j < 16; j++) row[j] = 0.f;
  }
}

/**
 * At most 16 columns (or rows, as Cᵀ = Bᵀ Aᵀ) on AVX-512: the narrow path, rows split in chunks;
 * false when the product is not one (fewer than 4 rows, as in decoding, keep streaming B once
 * through the few-rows path).
 */
bool gemm_narrow(const View& A, const View& B, float* c, std::ptrdiff_t ldc, int M, int K, int N, bool accumulate,
                 float alpha, int threads, Kernel kernel) {
#ifdef DISTILLERY_X86
  if (!(kernel == Kernel::Avx512 && kernel_supported(kernel) && M >= FEW_ROWS && std::min(M, N) <= NARROW))
    return false;
  struct Narrow {
    View A;
    const float* bp;
    float* c;
    std::ptrdiff_t crs, ccs;
    int M, K, N, per;
    bool accumulate;
    float alpha;
  };
  const bool flip = N > NARROW;  // C has few rows: compute Cᵀ [N, M] = op(B)ᵀ op(A)ᵀ
  const View nA = flip ? View{B.p, B.cs, B.rs} : A;
  const View nB = flip ? View{A.p, A.cs, A.rs} : B;
  const int nM = flip ? N : M, nN = flip ? M : N;
  thread_local std::vector<float> packed;
  packed.resize(static_cast<std::size_t>(K) * NARROW + 16);
  float* bp = reinterpret_cast<float*>((reinterpret_cast<std::uintptr_t>(packed.data()) + 63) & ~std::uintptr_t{63});
  pack_narrow(nB, K, nN, bp);
  const double padded = static_cast<double>(nM) * K * NARROW;
  const int tiles = (nM + NARROW_ROWS - 1) / NARROW_ROWS;
  const int chunks = threads >= 2 && padded >= PARALLEL_MIN_WORK ? std::min(tiles, 4) : 1;
  Narrow job{nA,  bp, c, flip ? 1 : ldc, flip ? ldc : 1, nM, K, nN, ((tiles + chunks - 1) / chunks) * NARROW_ROWS,
             accumulate, alpha};
  parallel_for(
      (nM + job.per - 1) / job.per,
      [](void* ctx, int i) {
        const Narrow& j = *static_cast<const Narrow*>(ctx);
        const int from = i * j.per, rows = std::min(j.M - from, j.per);
        gemm_narrow_avx512(View{j.A.p + from * j.A.rs, j.A.rs, j.A.cs}, j.bp, j.c + from * j.crs, j.crs, j.ccs, rows,
                           j.K, j.N, j.accumulate, j.alpha);
      },
      &job, threads);
  return true;
#else
  (void)A, (void)B, (void)c, (void)ldc, (void)M, (void)K, (void)N, (void)accumulate, (void)alpha, (void)threads,
      (void)kernel;
  return false;
#endif
}

}  // namespace

bool kernel_supported(Kernel k) {
  switch (k) {
    case Kernel::Scalar:
      return true;
#ifdef DISTILLERY_X86
#if defined(__GNUC__) || defined(__clang__)
    // __builtin_cpu_supports also checks that the OS saves the ymm/zmm state (XCR0)
    case Kernel::Avx2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Kernel::Avx512:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#endif
#ifdef DISTILLERY_NEON
    case Kernel::Neon:
      return true;
#endif
    default:
      return false;
  }
}

Kernel best_kernel() {
  for (Kernel k : {Kernel::Avx512, Kernel::Avx2, Kernel::Neon})
    if (kernel_supported(k)) return k;
  return Kernel::Scalar;
}

const char* kernel_name(Kernel k) {
  switch (k) {
    case Kernel::Avx512:
      return "avx512";
    case Kernel::Avx2:
      return "avx2";
    case Kernel::Neon:
      return "neon";
    default:
      return "scalar";
  }
}

void sgemm_strided(const float* a, std::ptrdiff_t ars, std::ptrdiff_t acs, const float* b, std::ptrdiff_t brs,
                   std::ptrdiff_t bcs, float* c, std::ptrdiff_t ldc, int M, int K, int N, bool accumulate, float alpha,
                   Kernel kernel) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int i = 0; i < M; i++) std::fill(c + i * ldc, c + i * ldc + N, 0.f);
    return;
  }
  const View A{a, ars, acs}, B{b, brs, bcs};
  if (gemm_narrow(A, B, c, ldc, M, K, N, accumulate, alpha, 1, kernel)) return;
  gemm_serial(A, B, c, ldc, M, K, N, accumulate, alpha, spec_for(kernel_supported(kernel) ? kernel : Kernel::Scalar));
}

void sgemm(const float* a, const float* b, float* c, int M, int K, int N, bool transA, bool transB,
           bool accumulate, float alpha, int threads, Kernel kernel) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate) std::fill(c, c + static_cast<std::ptrdiff_t>(M) * N, 0.f);
    return;
  }
  const View A = transA ? View{a, 1, M} : View{a, K, 1};
  const View B = transB ? View{b, 1, K} : View{b, N, 1};
  if (gemm_narrow(A, B, c, N, M, K, N, accumulate, alpha, threads, kernel)) return;
  const Spec s = spec_for(kernel_supported(kernel) ? kernel : Kernel::Scalar);
  const int MR = s.mr, NR = s.nr;
  const double work = static_cast<double>(M) * N * K;
  if (threads < 2 || work < PARALLEL_MIN_WORK || (N < 2 * NR && M < 2 * MR)) {
    gemm_serial(A, B, c, N, M, K, N, accumulate, alpha, s);
    return;
  }
  // two threads: C split into two chunks of whole micro-tiles (columns when C is wide, else rows),
  // each packing its own operands, claimed by this thread and the pool's helper. A chunk's
  // elements see the same blocking and tile edges as in the whole product, so the result is the
  // same bits on one thread or two.
  struct Job {
    View A, B;
    float* c;
    int M, K, N, unit, per;
    bool byCols, accumulate;
    float alpha;
    const Spec* s;
  };
  const bool byCols = N >= 2 * NR && (N >= M || M < 2 * MR);
  const int unit = byCols ? NR : MR;
  const int tiles = ((byCols ? N : M) + unit - 1) / unit;
  // halves: every chunk re-packs the operand the chunks share (B for row chunks, A for column
  // chunks), and 4 or 8 chunks measured slower than 2 (wide step on 2 threads 45-55 vs 38-42 ms)
  const int chunks = std::min(tiles, 2);
  Job job{A, B, c, M, K, N, unit, (tiles + chunks - 1) / chunks, byCols, accumulate, alpha, &s};
  const int n = (tiles + job.per - 1) / job.per;
  parallel_for(
      n,
      [](void* ctx, int i) {
        const Job& j = *static_cast<const Job*>(ctx);
        const int from = i * j.per * j.unit;
        if (j.byCols) {
          const int to = std::min(j.N, from + j.per * j.unit);
          gemm_serial(j.A, View{j.B.p + from * j.B.cs, j.B.rs, j.B.cs}, j.c + from, j.N, j.M, j.K, to - from,
                      j.accumulate, j.alpha, *j.s);
        } else {
          const int to = std::min(j.M, from + j.per * j.unit);
          gemm_serial(View{j.A.p + from * j.A.rs, j.A.rs, j.A.cs}, j.B, j.c + static_cast<std::ptrdiff_t>(from) * j.N,
                      j.N, to - from, j.K, j.N, j.accumulate, j.alpha, *j.s);
        }
      },
      &job, threads);
}

}  // namespace distillery
