// Loads the pclab engine, choosing the faster of its two builds this browser can run
// (scripts/build-web.sh): with relaxed SIMD, pclab_relaxed_bg.wasm, whose sgemm kernel
// uses fused multiply-adds (about 8% faster products); otherwise pclab_bg.wasm (simd128).
// Both share the JS glue ./pkg/pclab.js, so this module exports what it exports:
//
//   import init, { Lab, version } from './engine-loader.js';
//   await init();
import init from './pkg/pclab.js';

export * from './pkg/pclab.js';

// A module of one function, (v128, v128, v128) -> v128 { f32x4.relaxed_madd }: valid
// exactly where relaxed SIMD is.
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type (v128 ×3) -> v128
  0x03, 0x02, 0x01, 0x00, // one function of that type
  0x0a, 0x0d, 0x01, 0x0b, 0x00, // code: one body of 11 bytes, no locals
  0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // local.get ×3, relaxed_madd, end
]);

/** Whether this browser runs relaxed SIMD (and so gets the relaxed build). */
export const relaxedSimd = WebAssembly.validate(RELAXED_SIMD_PROBE);

/** The .wasm file `init` loads. */
export const wasmUrl = new URL(
  relaxedSimd ? './pkg/pclab_relaxed_bg.wasm' : './pkg/pclab_bg.wasm',
  import.meta.url,
);

/** Instantiates the chosen build (once; later calls return the same instance). */
export default function initEngine() {
  return init({ module_or_path: wasmUrl });
}
