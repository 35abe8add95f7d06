/* lifetrace — stand-in for the WDK's <poppack.h>: ends the packing of the last <pshpackN.h>. No include guard. */
#pragma pack(pop)
