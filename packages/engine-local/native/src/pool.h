// A persistent helper thread for the native kernels: work split into chunks that the calling
// thread and the helper claim from a shared counter (see pool.cc).
#pragma once

namespace distillery {

/** runs chunk `index` of a job; ctx is the caller's */
using ChunkFn = void (*)(void* ctx, int index);

/**
 * Runs fn(ctx, 0..chunks-1), each chunk exactly once, on this thread and (threads >= 2) the
 * pool's helper thread, which claims chunks as it gets to them: a helper that is asleep or
 * descheduled only means this thread runs more chunks, never that it waits idle. Returns when
 * every chunk has finished. Results must not depend on which thread runs a chunk.
 */
void parallel_for(int chunks, ChunkFn fn, void* ctx, int threads);

}  // namespace distillery
