/* lifetrace — stand-in for the WDK's <pshpack2.h>: structure packing 2 until <poppack.h>. No include guard, as in the WDK. */
#pragma pack(push, 2)
