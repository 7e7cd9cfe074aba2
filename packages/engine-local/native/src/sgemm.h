// sgemm for the engine: C[M,N] (+)= alpha * op(A)[M,K] * op(B)[K,N], row-major, float32.
// op(A) = A^T when transA (A stored [K,M]); op(B) = B^T when transB (B stored [N,K]).
#pragma once
#include <cstddef>

namespace distillery {

enum class Kernel { Scalar = 0, Avx2 = 1 };

/** the best micro-kernel this CPU runs (AVX2+FMA on x86-64 that has it, else portable C++) */
Kernel best_kernel();
const char* kernel_name(Kernel k);

void sgemm(const float* a, const float* b, float* c, int M, int K, int N, bool transA, bool transB,
           bool accumulate, float alpha, int threads, Kernel kernel);

}  // namespace distillery
