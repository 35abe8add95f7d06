/* lifetrace — stand-in for the WDK's <pshpack4.h>: structure packing 4 until <poppack.h>. No include guard, as in the WDK. */
/* As the WDK's disables MSVC's C4103 ("alignment changed after including header"),
 * the stand-in silences clang's equivalent for the rest of the file. */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wpragma-pack"
#endif
#pragma pack(push, 4)
