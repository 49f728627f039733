/** Bytes per chunk: a multiple of 3, so chunks encode independently without padding. */
const CHUNK = 3 * 0x4000;

/**
 * Base64 of arbitrary bytes, chunked so big files never hit the argument
 * limit of String.fromCharCode.apply or build one huge binary string.
 */
export function bytesToBase64(bytes: Uint8Array): string {
  const parts: string[] = [];
  for (let i = 0; i < bytes.length; i += CHUNK) {
    const chunk = bytes.subarray(i, Math.min(i + CHUNK, bytes.length));
    let binary = '';
    // Inner loop in slices of 4096 keeps apply() well under engine limits.
    for (let j = 0; j < chunk.length; j += 4096) {
      binary += String.fromCharCode.apply(null, Array.from(chunk.subarray(j, j + 4096)));
    }
    parts.push(btoa(binary));
  }
  return parts.join('');
}

/** The largest photo the UI accepts before even reading it (20 MB). */
export const MAX_PHOTO_BYTES = 20 * 1024 * 1024;

export async function fileToBase64(file: Blob): Promise<string> {
  const buffer = await file.arrayBuffer();
  return bytesToBase64(new Uint8Array(buffer));
}
