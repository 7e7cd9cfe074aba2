// sgemm for the engine: C[M,N] (+)= alpha * op(A)[M,K] * op(B)[K,N], row-major, float32.
// op(A) = A^T when transA (A stored [K,M]); op(B) = B^T when transB (B stored [N,K]).
#pragma once
#include <cstddef>

namespace distillery {

/** micro-kernels: Avx512 (x86-64, AVX-512F), Avx2 (x86-64, AVX2+FMA), Neon (arm64), Scalar (any CPU) */
enum class Kernel { Scalar = 0, Avx2 = 1, Avx512 = 2, Neon = 3 };

/** whether this binary carries the kernel and this CPU (and OS) runs it */
bool kernel_supported(Kernel k);
/** the fastest kernel this CPU runs: AVX-512, else AVX2+FMA, else NEON, else portable C++ */
Kernel best_kernel();
const char* kernel_name(Kernel k);

/** kernel: one that kernel_supported() accepts (others run the portable kernel) */
void sgemm(const float* a, const float* b, float* c, int M, int K, int N, bool transA, bool transB,
           bool accumulate, float alpha, int threads, Kernel kernel);

/**
 * One thread, strided operands: C (row stride ldc) (+)= alpha * A * B with A(i, k) =
 * a[i * ars + k * acs] and B(k, j) = b[k * brs + j * bcs] (attention's per-head blocks).
 */
void sgemm_strided(const float* a, std::ptrdiff_t ars, std::ptrdiff_t acs, const float* b, std::ptrdiff_t brs,
                   std::ptrdiff_t bcs, float* c, std::ptrdiff_t ldc, int M, int K, int N, bool accumulate, float alpha,
                   Kernel kernel);

}  // namespace distillery
