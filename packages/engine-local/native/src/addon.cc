// N-API surface of the native kernels (plain node_api.h, no dependencies):
//   sgemm(a, b, c, M, K, N, transA, transB, accumulate, alpha, threads, kernel) -> undefined
//     a, b, c: Float32Array (any backing store, a SharedArrayBuffer included; used in place)
//     kernel: "auto" | "avx512" | "avx2" | "neon" | "scalar" (tests and benches force one; a kernel
//     this CPU or build lacks throws)
//   kernel() -> "avx512" | "avx2" | "neon" | "scalar": what "auto" runs on this CPU
//   kernels() -> string[]: every kernel this CPU runs, fastest first (ends with "scalar")
//   swigluForward(g, u, a, sig, threads), swigluBackward(g, u, sig, da, threads) -> undefined:
//     the step's SwiGLU over Float32Arrays of one length (ops.cc)
//   rmsnormForward(x, w, y, rinv, rows, d, eps, threads), rmsnormBackward(x, w, rinv, dy, dx, dw | null,
//     rows, d, threads), addInPlace(a, b, threads) -> undefined (ops.h)
//   adamw(w, g, m, v, start, beta1, beta2, eps, decay, stepSize, bc2Sqrt) -> undefined: one AdamW
//     update of w[start..] (the same bits as src/train/adamw.ts's JS loop)
//   attentionForward(q, k, v, out, probs, seg | null, B, T, H, KVH, hd, threads, kernel),
//   attentionBackward(q, k, v, probs, dout, dq, dk, dv, B, T, H, KVH, hd, threads, kernel):
//     causal GQA attention of a batch (ops.h), seg an Int32Array [B·T] for packed batches
#include <node_api.h>

#include <cmath>
#include <cstring>
#include <string>

#include "ops.h"
#include "sgemm.h"

namespace {

using distillery::Kernel;

/** fastest first */
constexpr Kernel kAll[] = {Kernel::Avx512, Kernel::Avx2, Kernel::Neon, Kernel::Scalar};

bool check(napi_env env, napi_status status, const char* what) {
  if (status == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, what);
  return false;
}

/** the call's first n arguments into argv; false, with a TypeError naming the signature, when fewer */
bool call_args(napi_env env, napi_callback_info info, size_t n, napi_value* argv, const char* signature) {
  size_t argc = n;
  if (!check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), signature)) return false;
  if (argc < n) {
    napi_throw_type_error(env, nullptr, signature);
    return false;
  }
  return true;
}

bool float32_array(napi_env env, napi_value v, const char* name, double need, float** out) {
  bool is = false;
  if (!check(env, napi_is_typedarray(env, v, &is), name)) return false;
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  if (is) {
    // data already points at the first element (byte_offset applied)
    if (!check(env, napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr), name)) return false;
  }
  if (!is || type != napi_float32_array) {
    std::string msg = std::string(name) + " must be a Float32Array";
    napi_throw_type_error(env, nullptr, msg.c_str());
    return false;
  }
  if (static_cast<double>(length) < need) {
    std::string msg = std::string(name) + " holds " + std::to_string(length) + " floats, the product needs " +
                      std::to_string(static_cast<long long>(need));
    napi_throw_range_error(env, nullptr, msg.c_str());
    return false;
  }
  *out = static_cast<float*>(data);
  return true;
}

bool int_arg(napi_env env, napi_value v, const char* name, int* out) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 2147483647.0 || std::floor(d) != d) {
    std::string msg = std::string(name) + " must be a non-negative integer";
    napi_throw_type_error(env, nullptr, msg.c_str());
    return false;
  }
  *out = static_cast<int>(d);
  return true;
}

bool bool_arg(napi_env env, napi_value v, const char* name, bool* out) {
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    std::string msg = std::string(name) + " must be a boolean";
    napi_throw_type_error(env, nullptr, msg.c_str());
    return false;
  }
  return true;
}

napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (!call_args(env, info, 12, argv,
                 "sgemm(a, b, c, M, K, N, transA, transB, accumulate, alpha, threads, kernel)"))
    return nullptr;
  int M, K, N, threads;
  bool transA, transB, accumulate;
  double alpha = 1;
  if (!int_arg(env, argv[3], "M", &M) || !int_arg(env, argv[4], "K", &K) || !int_arg(env, argv[5], "N", &N) ||
      !bool_arg(env, argv[6], "transA", &transA) || !bool_arg(env, argv[7], "transB", &transB) ||
      !bool_arg(env, argv[8], "accumulate", &accumulate) || !int_arg(env, argv[10], "threads", &threads))
    return nullptr;
  if (napi_get_value_double(env, argv[9], &alpha) != napi_ok) {
    napi_throw_type_error(env, nullptr, "alpha must be a number");
    return nullptr;
  }
  char name[16] = {0};
  size_t nameLen = 0;
  if (napi_get_value_string_utf8(env, argv[11], name, sizeof name, &nameLen) != napi_ok) {
    napi_throw_type_error(env, nullptr, "kernel must be a string");
    return nullptr;
  }
  Kernel kernel = distillery::best_kernel();
  if (std::strcmp(name, "auto") != 0) {
    bool known = false;
    for (Kernel k : kAll) {
      if (std::strcmp(name, distillery::kernel_name(k)) != 0) continue;
      known = true;
      if (!distillery::kernel_supported(k)) {
        std::string msg = std::string("this CPU or build has no ") + name + " kernel";
        napi_throw_error(env, nullptr, msg.c_str());
        return nullptr;
      }
      kernel = k;
    }
    if (!known) {
      napi_throw_type_error(env, nullptr, "kernel must be auto, avx512, avx2, neon or scalar");
      return nullptr;
    }
  }
  float *a, *b, *c;
  const double mk = static_cast<double>(M) * K, kn = static_cast<double>(K) * N, mn = static_cast<double>(M) * N;
  if (!float32_array(env, argv[0], "a", mk, &a) || !float32_array(env, argv[1], "b", kn, &b) ||
      !float32_array(env, argv[2], "c", mn, &c))
    return nullptr;
  distillery::sgemm(a, b, c, M, K, N, transA, transB, accumulate, static_cast<float>(alpha), threads, kernel);
  return nullptr;
}

/** argv[0..count) as Float32Arrays of one length (the first's); false with a JS error pending */
bool same_length_arrays(napi_env env, napi_value* argv, const char* const* names, int count, float** out,
                        size_t* length) {
  bool is = false;
  napi_typedarray_type type;
  void* data = nullptr;
  if (napi_is_typedarray(env, argv[0], &is) != napi_ok || !is ||
      napi_get_typedarray_info(env, argv[0], &type, length, &data, nullptr, nullptr) != napi_ok) {
    std::string msg = std::string(names[0]) + " must be a Float32Array";
    napi_throw_type_error(env, nullptr, msg.c_str());
    return false;
  }
  for (int i = 0; i < count; i++)
    if (!float32_array(env, argv[i], names[i], static_cast<double>(*length), &out[i])) return false;
  return true;
}

template <int N>
bool elementwise_args(napi_env env, napi_callback_info info, const char* const (&names)[N], float** arrays,
                      size_t* length, int* threads) {
  napi_value argv[N + 1];
  if (!call_args(env, info, N + 1, argv, "expected the arrays and a thread count")) return false;
  return same_length_arrays(env, argv, names, N, arrays, length) && int_arg(env, argv[N], "threads", threads);
}

napi_value SwigluForward(napi_env env, napi_callback_info info) {
  static const char* const names[] = {"g", "u", "a", "sig"};
  float* x[4];
  size_t n = 0;
  int threads = 1;
  if (!elementwise_args(env, info, names, x, &n, &threads)) return nullptr;
  distillery::swiglu_forward(x[0], x[1], x[2], x[3], static_cast<long>(n), threads);
  return nullptr;
}

napi_value SwigluBackward(napi_env env, napi_callback_info info) {
  static const char* const names[] = {"g", "u", "sig", "da"};
  float* x[4];
  size_t n = 0;
  int threads = 1;
  if (!elementwise_args(env, info, names, x, &n, &threads)) return nullptr;
  distillery::swiglu_backward(x[0], x[1], x[2], x[3], static_cast<long>(n), threads);
  return nullptr;
}

/** the kernel named by v ("auto" or one of kAll); false with a JS error pending */
bool kernel_arg(napi_env env, napi_value v, Kernel* out) {
  char name[16] = {0};
  size_t nameLen = 0;
  if (napi_get_value_string_utf8(env, v, name, sizeof name, &nameLen) != napi_ok) {
    napi_throw_type_error(env, nullptr, "kernel must be a string");
    return false;
  }
  *out = distillery::best_kernel();
  if (std::strcmp(name, "auto") == 0) return true;
  for (Kernel k : kAll) {
    if (std::strcmp(name, distillery::kernel_name(k)) != 0) continue;
    if (!distillery::kernel_supported(k)) {
      std::string msg = std::string("this CPU or build has no ") + name + " kernel";
      napi_throw_error(env, nullptr, msg.c_str());
      return false;
    }
    *out = k;
    return true;
  }
  napi_throw_type_error(env, nullptr, "kernel must be auto, avx512, avx2, neon or scalar");
  return false;
}

/** B, T, H, KVH, hd from argv[0..5), all positive, H a multiple of KVH */
bool attention_dims(napi_env env, napi_value* argv, int* d) {
  static const char* const names[] = {"B", "T", "H", "KVH", "hd"};
  for (int i = 0; i < 5; i++)
    if (!int_arg(env, argv[i], names[i], &d[i])) return false;
  if (d[0] < 1 || d[1] < 1 || d[2] < 1 || d[3] < 1 || d[4] < 1 || d[2] % d[3] != 0) {
    napi_throw_range_error(env, nullptr, "attention: B, T, H, KVH, hd must be positive and H a multiple of KVH");
    return false;
  }
  return true;
}

/** argv[i] as a Float32Array of at least `need` floats, or null/undefined (out = nullptr) */
bool optional_float32_array(napi_env env, napi_value v, const char* name, double need, float** out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    *out = nullptr;
    return true;
  }
  return float32_array(env, v, name, need, out);
}

napi_value RmsnormForward(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!call_args(env, info, 8, argv, "rmsnormForward(x, w, y, rinv, rows, d, eps, threads)")) return nullptr;
  int rows, d, threads;
  double eps = 0;
  if (!int_arg(env, argv[4], "rows", &rows) || !int_arg(env, argv[5], "d", &d) ||
      !int_arg(env, argv[7], "threads", &threads))
    return nullptr;
  if (napi_get_value_double(env, argv[6], &eps) != napi_ok) {
    napi_throw_type_error(env, nullptr, "eps must be a number");
    return nullptr;
  }
  const double n = static_cast<double>(rows) * d;
  float *x, *w, *y, *rinv;
  if (!float32_array(env, argv[0], "x", n, &x) || !float32_array(env, argv[1], "w", d, &w) ||
      !float32_array(env, argv[2], "y", n, &y) || !float32_array(env, argv[3], "rinv", rows, &rinv))
    return nullptr;
  distillery::rmsnorm_forward(x, w, y, rinv, rows, d, static_cast<float>(eps), threads);
  return nullptr;
}

napi_value RmsnormBackward(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!call_args(env, info, 9, argv, "rmsnormBackward(x, w, rinv, dy, dx, dw, rows, d, threads)")) return nullptr;
  int rows, d, threads;
  if (!int_arg(env, argv[6], "rows", &rows) || !int_arg(env, argv[7], "d", &d) ||
      !int_arg(env, argv[8], "threads", &threads))
    return nullptr;
  const double n = static_cast<double>(rows) * d;
  float *x, *w, *rinv, *dy, *dx, *dw;
  if (!float32_array(env, argv[0], "x", n, &x) || !float32_array(env, argv[1], "w", d, &w) ||
      !float32_array(env, argv[2], "rinv", rows, &rinv) || !float32_array(env, argv[3], "dy", n, &dy) ||
      !float32_array(env, argv[4], "dx", n, &dx) || !optional_float32_array(env, argv[5], "dw", d, &dw))
    return nullptr;
  distillery::rmsnorm_backward(x, w, rinv, dy, dx, dw, rows, d, threads);
  return nullptr;
}

napi_value AddInPlace(napi_env env, napi_callback_info info) {
  static const char* const names[] = {"a", "b"};
  float* x[2];
  size_t n = 0;
  int threads = 1;
  if (!elementwise_args(env, info, names, x, &n, &threads)) return nullptr;
  distillery::add_inplace(x[0], x[1], static_cast<long>(n), threads);
  return nullptr;
}

napi_value AdamW(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!call_args(env, info, 11, argv,
                 "adamw(w, g, m, v, start, beta1, beta2, eps, decay, stepSize, bc2Sqrt)"))
    return nullptr;
  static const char* const names[] = {"w", "g", "m", "v"};
  float* x[4];
  size_t n = 0;
  int start = 0;
  if (!same_length_arrays(env, argv, names, 4, x, &n) || !int_arg(env, argv[4], "start", &start)) return nullptr;
  double c[6];
  for (int i = 0; i < 6; i++)
    if (napi_get_value_double(env, argv[5 + i], &c[i]) != napi_ok) {
      napi_throw_type_error(env, nullptr, "adamw: the hyperparameters must be numbers");
      return nullptr;
    }
  distillery::adamw_update(x[0], x[1], x[2], x[3], start, static_cast<long>(n), c[0], c[1], c[2], c[3], c[4], c[5]);
  return nullptr;
}

napi_value AttentionForward(napi_env env, napi_callback_info info) {
  napi_value argv[13];
  if (!call_args(env, info, 13, argv,
                 "attentionForward(q, k, v, out, probs, seg, B, T, H, KVH, hd, threads, kernel)"))
    return nullptr;
  int d[5], threads;
  Kernel kernel;
  if (!attention_dims(env, argv + 6, d) || !int_arg(env, argv[11], "threads", &threads) ||
      !kernel_arg(env, argv[12], &kernel))
    return nullptr;
  const double rows = static_cast<double>(d[0]) * d[1];
  float *q, *k, *v, *out, *probs;
  if (!float32_array(env, argv[0], "q", rows * d[2] * d[4], &q) ||
      !float32_array(env, argv[1], "k", rows * d[3] * d[4], &k) ||
      !float32_array(env, argv[2], "v", rows * d[3] * d[4], &v) ||
      !float32_array(env, argv[3], "out", rows * d[2] * d[4], &out) ||
      !float32_array(env, argv[4], "probs", rows * d[2] * d[1], &probs))
    return nullptr;
  const int* seg = nullptr;
  napi_valuetype t;
  napi_typeof(env, argv[5], &t);
  if (t != napi_null && t != napi_undefined) {
    bool is = false;
    napi_typedarray_type type;
    size_t length = 0;
    void* data = nullptr;
    if (napi_is_typedarray(env, argv[5], &is) != napi_ok || !is ||
        napi_get_typedarray_info(env, argv[5], &type, &length, &data, nullptr, nullptr) != napi_ok ||
        type != napi_int32_array || static_cast<double>(length) < rows) {
      napi_throw_type_error(env, nullptr, "seg must be null or an Int32Array of B·T entries");
      return nullptr;
    }
    seg = static_cast<const int*>(data);
    for (int i = 0; i < static_cast<int>(rows); i++)
      if (seg[i] < 0 || seg[i] > i % d[1]) {
        napi_throw_range_error(env, nullptr, "seg: each row's segment start must lie in 0..its position");
        return nullptr;
      }
  }
  distillery::attention_forward(q, k, v, out, probs, seg, d[0], d[1], d[2], d[3], d[4], threads, kernel);
  return nullptr;
}

napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  napi_value argv[15];
  if (!call_args(env, info, 15, argv,
                 "attentionBackward(q, k, v, probs, dout, dq, dk, dv, B, T, H, KVH, hd, threads, kernel)"))
    return nullptr;
  int d[5], threads;
  Kernel kernel;
  if (!attention_dims(env, argv + 8, d) || !int_arg(env, argv[13], "threads", &threads) ||
      !kernel_arg(env, argv[14], &kernel))
    return nullptr;
  const double rows = static_cast<double>(d[0]) * d[1];
  const double qn = rows * d[2] * d[4], kvn = rows * d[3] * d[4];
  float *q, *k, *v, *probs, *dout, *dq, *dk, *dv;
  if (!float32_array(env, argv[0], "q", qn, &q) || !float32_array(env, argv[1], "k", kvn, &k) ||
      !float32_array(env, argv[2], "v", kvn, &v) || !float32_array(env, argv[3], "probs", rows * d[2] * d[1], &probs) ||
      !float32_array(env, argv[4], "dout", qn, &dout) || !float32_array(env, argv[5], "dq", qn, &dq) ||
      !float32_array(env, argv[6], "dk", kvn, &dk) || !float32_array(env, argv[7], "dv", kvn, &dv))
    return nullptr;
  distillery::attention_backward(q, k, v, probs, dout, dq, dk, dv, d[0], d[1], d[2], d[3], d[4], threads, kernel);
  return nullptr;
}

napi_value KernelName(napi_env env, napi_callback_info) {
  napi_value out;
  const char* name = distillery::kernel_name(distillery::best_kernel());
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &out);
  return out;
}

napi_value KernelList(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_array(env, &out);
  uint32_t i = 0;
  for (Kernel k : kAll) {
    if (!distillery::kernel_supported(k)) continue;
    napi_value name;
    napi_create_string_utf8(env, distillery::kernel_name(k), NAPI_AUTO_LENGTH, &name);
    napi_set_element(env, out, i++, name);
  }
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"kernel", nullptr, KernelName, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"kernels", nullptr, KernelList, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swigluForward", nullptr, SwigluForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"swigluBackward", nullptr, SwigluBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmsnormForward", nullptr, RmsnormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"rmsnormBackward", nullptr, RmsnormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"addInPlace", nullptr, AddInPlace, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamw", nullptr, AdamW, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionForward", nullptr, AttentionForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionBackward", nullptr, AttentionBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
