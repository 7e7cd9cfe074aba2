// The engine's WebAssembly module: matmul and the exp-heavy elementwise kernels.
export * from "./matmul";
export * from "./elementwise";
