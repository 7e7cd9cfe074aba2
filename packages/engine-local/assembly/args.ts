// Reading the argument block that the JS side fills (i32 slots; f32 where a slot holds a float).

@inline
export function arg(args: usize, slot: i32): usize {
  return <usize>load<i32>(args + ((<usize>slot) << 2));
}

@inline
export function argI(args: usize, slot: i32): i32 {
  return load<i32>(args + ((<usize>slot) << 2));
}

@inline
export function argF(args: usize, slot: i32): f32 {
  return load<f32>(args + ((<usize>slot) << 2));
}
