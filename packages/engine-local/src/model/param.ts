import { allocArray, type DType, type FArray } from "../kernels/float-array.ts";

/**
 * A named tensor the model owns. `grad` exists only while the param trains. With `trainFromRow`
 * set, only rows ≥ it receive gradient: that is how the rows of added special tokens train while
 * the rest of a frozen embedding stays put (PEFT's trainable_token_indices).
 */
export interface Param {
  name: string;
  shape: number[];
  data: FArray;
  grad: FArray | null;
  trainFromRow: number;
}

export function createParam(name: string, shape: number[], dtype: DType, data?: ArrayLike<number>): Param {
  const n = shape.reduce((a, b) => a * b, 1);
  const arr = allocArray(dtype, n);
  if (data) arr.set(data);
  return { name, shape, data: arr, grad: null, trainFromRow: 0 };
}

export function setTrainable(p: Param, trainable: boolean, fromRow = 0): void {
  p.trainFromRow = fromRow;
  p.grad = trainable ? allocArray(p.data instanceof Float64Array ? "f64" : "f32", p.data.length) : null;
}

export function zeroGrad(p: Param): void {
  p.grad?.fill(0);
}

export function numel(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
