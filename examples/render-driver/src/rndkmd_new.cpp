//
// rndkmd_new.cpp - kernel-mode operator new and delete. The WDK has no
// default operator new: every object of the driver is created with the
// placement form that names its pool and its tag,
//     new (NonPagedPoolNx, RND_TAG_PACKET) RND_PACKET{}
// and returns NULL when the pool is exhausted (noexcept: the caller checks).
// Blocks are zeroed. Every form of delete frees to the pool.
//
#include "rndkmd.h"

void *__cdecl operator new(size_t Size, POOL_TYPE PoolType, ULONG Tag) noexcept
{
    return ExAllocatePoolZero(PoolType, Size, Tag);
}

void *__cdecl operator new[](size_t Size, POOL_TYPE PoolType, ULONG Tag) noexcept
{
    return ExAllocatePoolZero(PoolType, Size, Tag);
}

// Called only if a constructor of a placement new threw: never (no exceptions).
void __cdecl operator delete(void *Pointer, POOL_TYPE PoolType, ULONG Tag) noexcept
{
    UNREFERENCED_PARAMETER(PoolType);
    if (Pointer != nullptr) {
        ExFreePoolWithTag(Pointer, Tag);
    }
}

void __cdecl operator delete(void *Pointer) noexcept
{
    if (Pointer != nullptr) {
        ExFreePool(Pointer);
    }
}

void __cdecl operator delete(void *Pointer, size_t Size) noexcept
{
    UNREFERENCED_PARAMETER(Size);
    if (Pointer != nullptr) {
        ExFreePool(Pointer);
    }
}

void __cdecl operator delete[](void *Pointer) noexcept
{
    if (Pointer != nullptr) {
        ExFreePool(Pointer);
    }
}

void __cdecl operator delete[](void *Pointer, size_t Size) noexcept
{
    UNREFERENCED_PARAMETER(Size);
    if (Pointer != nullptr) {
        ExFreePool(Pointer);
    }
}
