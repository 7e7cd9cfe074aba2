// The helper thread behind parallel_for. A job is published as (fn, ctx, chunks) plus a 64-bit
// state word: epoch << 32 | next chunk. Both threads claim chunks by advancing the state with a
// compare-and-swap that also checks the epoch, so a helper that read a job late can never claim
// a chunk of the next one. The helper spins briefly between jobs (a training step issues a
// product every few tens of microseconds), then sleeps on a condition variable; waking a
// sleeping thread costs far more than a product's split saves on these VMs.
#include "pool.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#include <immintrin.h>
#define DISTILLERY_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define DISTILLERY_PAUSE() __asm__ __volatile__("yield")
#else
#define DISTILLERY_PAUSE() ((void)0)
#endif

namespace distillery {
namespace {

/** how long the idle helper polls for the next job before it sleeps */
constexpr auto SPIN = std::chrono::microseconds(2000);

struct Pool {
  std::atomic<uint64_t> state{0};  // epoch << 32 | next chunk index
  std::atomic<ChunkFn> fn{nullptr};
  std::atomic<void*> ctx{nullptr};
  std::atomic<int> chunks{0};
  std::atomic<int> finished{0};
  std::atomic<bool> sleeping{false};
  std::mutex m;
  std::condition_variable cv;
  std::thread thread;
  bool started = false;
  bool failed = false;

  /** claims the next chunk of epoch `epoch`; -1 when none is left (or a newer job began) */
  int claim(uint32_t epoch) {
    uint64_t s = state.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<uint32_t>(s >> 32) != epoch) return -1;
      const int i = static_cast<int>(static_cast<uint32_t>(s));
      if (i >= chunks.load(std::memory_order_acquire)) return -1;
      if (state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return i;
    }
  }

  void helper_loop() {
    uint32_t seen = 0;
    for (;;) {
      // wait for a new epoch: spin, then sleep
      const auto until = std::chrono::steady_clock::now() + SPIN;
      int spins = 0;
      uint32_t epoch;
      while ((epoch = static_cast<uint32_t>(state.load(std::memory_order_acquire) >> 32)) == seen) {
        DISTILLERY_PAUSE();
        if ((++spins & 255) == 0 && std::chrono::steady_clock::now() > until) {
          std::unique_lock<std::mutex> lock(m);
          sleeping.store(true, std::memory_order_seq_cst);
          cv.wait(lock, [&] { return static_cast<uint32_t>(state.load(std::memory_order_seq_cst) >> 32) != seen; });
          sleeping.store(false, std::memory_order_relaxed);
        }
      }
      seen = epoch;
      // fn/ctx/chunks are stored before the epoch is published, and stay until every chunk of
      // this epoch is claimed and finished; a claim that succeeds proves the epoch is current
      const ChunkFn f = fn.load(std::memory_order_acquire);
      void* c = ctx.load(std::memory_order_acquire);
      int i;
      while ((i = claim(epoch)) >= 0) {
        f(c, i);
        finished.fetch_add(1, std::memory_order_acq_rel);
      }
    }
  }

  bool start() {
    if (started) return !failed;
    started = true;
    try {
      thread = std::thread([this] { helper_loop(); });
      thread.detach();
    } catch (...) {
      failed = true;
    }
    return !failed;
  }
};

Pool& pool() {
  // never destroyed: the detached helper may still be polling when the process exits
  static Pool* p = new Pool();
  return *p;
}

/** one job at a time: the addon is called from one JS thread, but workers could load it too */
std::mutex job_mutex;

}  // namespace

void parallel_for(int chunks, ChunkFn fn, void* ctx, int threads) {
  if (chunks <= 0) return;
  if (threads < 2 || chunks == 1) {
    for (int i = 0; i < chunks; i++) fn(ctx, i);
    return;
  }
  std::unique_lock<std::mutex> job(job_mutex, std::try_to_lock);
  Pool& p = pool();
  if (!job.owns_lock() || !p.start()) {
    for (int i = 0; i < chunks; i++) fn(ctx, i);
    return;
  }
  p.fn.store(fn, std::memory_order_release);
  p.ctx.store(ctx, std::memory_order_release);
  p.chunks.store(chunks, std::memory_order_release);
  p.finished.store(0, std::memory_order_release);
  const uint32_t epoch = static_cast<uint32_t>(p.state.load(std::memory_order_relaxed) >> 32) + 1;
  p.state.store(static_cast<uint64_t>(epoch) << 32, std::memory_order_seq_cst);
  if (p.sleeping.load(std::memory_order_seq_cst)) {
    std::lock_guard<std::mutex> lock(p.m);
    p.cv.notify_one();
  }
  int mine = 0;
  int i;
  while ((i = p.claim(epoch)) >= 0) {
    fn(ctx, i);
    mine++;
  }
  // the helper's chunks in flight: it is mid-chunk, so spin; yield the core if it was preempted
  int spins = 0;
  while (p.finished.load(std::memory_order_acquire) + mine < chunks) {
    DISTILLERY_PAUSE();
    if (++spins > 4096) std::this_thread::yield();
  }
}

}  // namespace distillery
