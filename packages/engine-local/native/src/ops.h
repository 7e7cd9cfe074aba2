// Elementwise ops of the training step on the native path (see ops.cc).
#pragma once

namespace distillery {

/** a = silu(g)·u and sig = σ(g), n elements */
void swiglu_forward(const float* g, const float* u, float* a, float* sig, long n, int threads);
/** in place: g ← da·u·σ(1 + g(1 − σ)), u ← da·g·σ */
void swiglu_backward(float* g, float* u, const float* sig, const float* da, long n, int threads);

}  // namespace distillery
