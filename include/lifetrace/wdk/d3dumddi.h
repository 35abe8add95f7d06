/* lifetrace — stand-in for the WDK's <d3dumddi.h>: the shared D3DDDI types
 * (lifetrace/wdk/d3dkmthk.h). */
#ifndef LIFETRACE_WDK_D3DUMDDI_H
#define LIFETRACE_WDK_D3DUMDDI_H
#include "d3dkmthk.h"
#endif
