/**
 * The first records of an IDX file (MNIST's format), as an IDX file of its
 * own: the page trains on a prefix of MNIST and should not download all of it.
 * @module
 */

/**
 * An IDX file holding the first `count` records of `file` (images or
 * labels), in two parts: the header, copied, with the first dimension set
 * to `count`; then those records, a view of `file` (no copy: all of MNIST's
 * training images are 47 MB). The caller has checked `count` against
 * {@link idxCount}; `file` is a whole, valid IDX file of unsigned bytes.
 */
export function idxSlice(file: Uint8Array, count: number): [header: Uint8Array, records: Uint8Array] {
  const { header, recordBytes } = idxLayout(file)
  const head = new Uint8Array(file.subarray(0, header))
  new DataView(head.buffer).setUint32(4, count)
  return [head, file.subarray(header, header + count * recordBytes)]
}

/** How many records (images, labels) `file` holds. */
export function idxCount(file: Uint8Array): number {
  return new DataView(file.buffer, file.byteOffset, file.byteLength).getUint32(4)
}

function idxLayout(file: Uint8Array): { header: number; recordBytes: number } {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength)
  const dims = view.getUint8(3)
  let recordBytes = 1
  for (let d = 1; d < dims; d++) recordBytes *= view.getUint32(4 + 4 * d)
  return { header: 4 + 4 * dims, recordBytes }
}
