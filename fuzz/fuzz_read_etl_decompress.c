/* lifetrace — fuzz targets for the .etl buffer decompressors, one per
 * format (LT_FUZZ_XCA = 2 LZNT1, 3 XPRESS, 4 XPRESS Huffman; see
 * fuzz/CMakeLists.txt). The first two bytes of the input give the output
 * size (at most 65536), the rest is the compressed stream. A decompressor
 * must refuse bad input without reading or writing out of bounds; the
 * output buffer is allocated to its exact size so ASan sees any overrun. */
#include <stdint.h>
#include <stdlib.h>

#include "etl.h"

#ifndef LT_FUZZ_XCA
#error "LT_FUZZ_XCA must name the format (2, 3 or 4)"
#endif

/* libFuzzer's entry point: the first two bytes plus 1 give the output size
 * (1..65536), the rest is decompressed in the LT_FUZZ_XCA format into a heap
 * buffer of exactly that size, so ASan sees any overrun; a success is read
 * at both ends. Always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 2)
    return 0;
  size_t out_n = (size_t)(data[0] | data[1] << 8) + 1u;
  uint8_t *out = malloc(out_n);
  uint8_t *in = malloc(size - 2 ? size - 2 : 1);
  if (out && in) {
    for (size_t i = 2; i < size; i++)
      in[i - 2] = data[i];
    int rc = lt__xca_decompress(LT_FUZZ_XCA, in, size - 2, out, out_n);
    /* A success fills the output exactly: touch its last byte. */
    if (rc == 0 && out[out_n - 1] == 0xA5 && out[0] == 0x5A)
      out[0] = 0;
  }
  free(in);
  free(out);
  return 0;
}
