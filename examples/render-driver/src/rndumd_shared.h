//
// rndumd_shared.h - the interface between rndkmd and its user-mode driver
// (rndumd.dll, not in this tree). The UMD fills these structures and passes
// them as the private driver data of D3DDDICB_ALLOCATE; the KMD reads them in
// DxgkDdiCreateAllocation and DxgkDdiOpenAllocation. Shared by both builds:
// no kernel-only types.
//
#pragma once

#define RNDUMD_INTERFACE_VERSION    0x0103

// RNDUMD_SURFACE_DESC.Usage
#define RNDUMD_USAGE_RENDER_TARGET  0x0001
#define RNDUMD_USAGE_PRIMARY        0x0002
#define RNDUMD_USAGE_CPU_VISIBLE    0x0004
#define RNDUMD_USAGE_SHARED         0x0008

#include <pshpack4.h>

// One per allocation: DXGK_ALLOCATIONINFO.pPrivateDriverData.
typedef struct _RNDUMD_SURFACE_DESC {
    USHORT Version;         // RNDUMD_INTERFACE_VERSION
    USHORT Usage;           // RNDUMD_USAGE_*
    UINT   Format;          // a DXGI_FORMAT
    UINT   Width;
    UINT   Height;
    UINT   Pitch;           // bytes per row, 256-byte aligned
    UINT   MipLevels;
} RNDUMD_SURFACE_DESC;

// One per resource: DXGKARG_CREATEALLOCATION.pPrivateDriverData.
typedef struct _RNDUMD_RESOURCE_DESC {
    USHORT Version;         // RNDUMD_INTERFACE_VERSION
    USHORT AllocationCount; // allocations the UMD will make for the resource
    UINT   Dimension;       // a D3D10DDIRESOURCE_TYPE
    UINT   BindFlags;       // D3D10_DDI_BIND_*
} RNDUMD_RESOURCE_DESC;

#include <poppack.h>

// The UMD's contract, which the KMD asserts on: it creates and destroys one
// allocation per call, and never asks for more than segments 1 and 2.
#define RNDUMD_ALLOCATIONS_PER_CALL 1
#define RNDUMD_SEGMENT_SET          0x3
