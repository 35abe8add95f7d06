/* lifetrace — stand-in for the WDK's <poppack.h>: ends the packing of the last <pshpackN.h>. No include guard. */
/* As the WDK's disables MSVC's C4103 ("alignment changed after including header"),
 * the stand-in silences clang's equivalent for the rest of the file. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wpragma-pack"
#endif
#pragma pack(pop)
