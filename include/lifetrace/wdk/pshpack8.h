/* lifetrace — stand-in for the WDK's <pshpack8.h>: structure packing 8 until <poppack.h>. No include guard, as in the WDK. */
#pragma pack(push, 8)
