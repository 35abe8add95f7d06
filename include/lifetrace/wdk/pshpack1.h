/* lifetrace — stand-in for the WDK's <pshpack1.h>: structure packing 1 until <poppack.h>. No include guard, as in the WDK. */
#pragma pack(push, 1)
