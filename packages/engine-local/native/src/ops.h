// Elementwise ops of the training step on the native path (see ops.cc).
#pragma once

#include "sgemm.h"

namespace distillery {

/** a = silu(g)·u and sig = σ(g), n elements */
void swiglu_forward(const float* g, const float* u, float* a, float* sig, long n, int threads);
/** in place: g ← da·u·σ(1 + g(1 − σ)), u ← da·g·σ */
void swiglu_backward(float* g, float* u, const float* sig, const float* da, long n, int threads);

/** y = x·r·w per row of width d, r = 1/√(mean(x²) + eps) into rinv (HF LlamaRMSNorm) */
void rmsnorm_forward(const float* x, const float* w, float* y, float* rinv, int rows, int d, float eps, int threads);
/**
 * dx += r·(g − x̂·mean(g·x̂)) with g = dy·w, x̂ = x·r; dw (null: none) += Σ_rows dy·x̂, summed in
 * row order on the calling thread
 */
void rmsnorm_backward(const float* x, const float* w, const float* rinv, const float* dy, float* dx, float* dw,
                      int rows, int d, int threads);
/** a += b, n elements */
void add_inplace(float* a, const float* b, long n, int threads);

/**
 * One AdamW update of w[start, n) (torch.optim.AdamW as src/train/adamw.ts writes it), in double
 * precision like the JS loop and without contracted FMAs, so the same bits as the JS loop.
 */
void adamw_update(float* w, const float* g, float* m, float* v, long start, long n, double beta1, double beta2,
                  double eps, double decay, double stepSize, double bc2Sqrt);

/**
 * Causal grouped-query attention of a right-padded batch, q [B·T, H·hd], k and v [B·T, KVH·hd]:
 * probs [B, H, T, T] = softmax(scale·q kᵀ) over keys seg[b·T + i] ≤ j ≤ i (seg null: 0 ≤ j ≤ i),
 * out [B·T, H·hd] = probs v. Units are (batch, kv-head) pairs, split across the threads.
 */
void attention_forward(const float* q, const float* k, const float* v, float* out, float* probs, const int* seg,
                       int B, int T, int H, int KVH, int hd, int threads, Kernel kernel);
/** dq written, dk and dv accumulated (the caller zeroes them), from dout and the forward's probs */
void attention_backward(const float* q, const float* k, const float* v, const float* probs, const float* dout,
                        float* dq, float* dk, float* dv, int B, int T, int H, int KVH, int hd, int threads,
                        Kernel kernel);

}  // namespace distillery
