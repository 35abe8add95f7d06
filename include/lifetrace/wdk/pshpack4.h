/* lifetrace — stand-in for the WDK's <pshpack4.h>: structure packing 4 until <poppack.h>. No include guard, as in the WDK. */
#pragma pack(push, 4)
