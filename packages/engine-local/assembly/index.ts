// The engine's WebAssembly module: matmul, attention, the elementwise kernels, and runTask,
// the entry point that the calling thread and the helper thread share.
export * from "./matmul";
export * from "./elementwise";
export * from "./attention";
export * from "./tasks";
