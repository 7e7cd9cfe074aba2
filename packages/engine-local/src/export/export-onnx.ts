export async function exportOnnx(modelDir: string, outFile: string): Promise<{ path: string; bytes: number }> {
  throw new Error(`not yet: ${modelDir} ${outFile}`);
}
