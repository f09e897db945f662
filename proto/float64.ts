/**
 * Little-endian doubles in byte arrays, through one 8-byte scratch buffer. A DataView on the
 * array's own `.buffer` would do the same, but asking a small array (64 bytes or less, such as
 * an encoded output) for its buffer makes V8 move it off its heap: an allocation and a copy
 * each time, for every output of a map.
 * @module
 */

const scratch = new DataView(new ArrayBuffer(8));

/** The double stored little-endian at `bytes[at..at+8]` (the caller checks they exist). */
export function readFloat64LE(bytes: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) scratch.setUint8(i, bytes[at + i]);
  return scratch.getFloat64(0, true);
}

/** Stores `value` little-endian at `bytes[at..at+8]`. */
export function writeFloat64LE(bytes: Uint8Array, at: number, value: number): void {
  scratch.setFloat64(0, value, true);
  for (let i = 0; i < 8; i++) bytes[at + i] = scratch.getUint8(i);
}
