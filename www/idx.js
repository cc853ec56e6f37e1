// Bring your own data: tells an IDX image file from an IDX label file (plain or gzip)
// by its magic number. The engine parses and validates the bytes themselves.

const GZIP = [0x1f, 0x8b];

/** The first bytes of `bytes`, decompressed first if they are gzip. */
async function head(bytes, n = 4) {
  if (bytes[0] !== GZIP[0] || bytes[1] !== GZIP[1]) return bytes.subarray(0, n);
  const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
  try {
    const { value } = await reader.read();
    return value ? value.subarray(0, n) : new Uint8Array();
  } finally {
    reader.cancel().catch(() => {});
  }
}

/**
 * 'images', 'labels' or null, from an IDX magic number (0, 0, element type, dimensions).
 * The element type is the engine's to check (it names what it supports).
 */
export function idxKind(magic) {
  if (magic.length < 4 || magic[0] !== 0 || magic[1] !== 0) return null;
  return { 3: 'images', 1: 'labels' }[magic[3]] ?? null;
}

/**
 * Reads two Files into { images, labels } (Uint8Array, as given). Throws an Error whose
 * message names the file at fault.
 */
export async function readIdxPair(files) {
  if (files.length !== 2) {
    throw new Error(`Pick two IDX files, the images and their labels (got ${files.length}).`);
  }
  const found = {};
  for (const file of files) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    let kind;
    try {
      kind = idxKind(await head(bytes));
    } catch {
      throw new Error(`${file.name}: looks like gzip but does not decompress.`);
    }
    if (!kind) throw new Error(`${file.name}: not an IDX image or label file (unknown magic number).`);
    if (found[kind]) throw new Error(`Both files are IDX ${kind}; pick one image file and one label file.`);
    found[kind] = bytes;
  }
  return found;
}
