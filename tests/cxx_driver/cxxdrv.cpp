/* A small C++ miniport for the C++ build of lifetrace_add_driver (tests):
 * devices, allocations and resources are C++ objects made with `new` and
 * freed with `delete` (virtual destructors, arrays), built two ways:
 *   CXXDRV_OWN_NEW   the driver defines its own global operators, kernel
 *                    style (a placement-style operator new(size_t, ULONG tag)
 *                    and operator delete on ExAllocatePool2 /
 *                    ExFreePoolWithTag, tag 'CxOw');
 *   otherwise        plain `new`: lifetrace's operators, with the tag the
 *                    adapter sets (LT_DEFINE_CXX_POOL_TAG, 'CxPl').
 * Option "bugs" = "leak" leaks each allocation object, so a replay shows
 * whose pool (and tag) the objects came from. Its UMD sends 24 bytes per
 * allocation (a builder) and one allocation per destroy; the driver asserts
 * both, so a call outside them is a crash finding. */
#include <lifetrace/driver.h>

#ifdef CXXDRV_OWN_NEW
#define CXX_TAG 0x774f7843u /* 'CxOw' */
void *operator new(size_t Size, ULONG Tag) noexcept { return ExAllocatePool2(POOL_FLAG_NON_PAGED, Size, Tag); }
void *operator new[](size_t Size, ULONG Tag) noexcept { return ExAllocatePool2(POOL_FLAG_NON_PAGED, Size, Tag); }
void operator delete(void *P) noexcept { if (P) ExFreePoolWithTag(P, CXX_TAG); }
void operator delete(void *P, size_t) noexcept { if (P) ExFreePoolWithTag(P, CXX_TAG); }
void operator delete[](void *P) noexcept { if (P) ExFreePoolWithTag(P, CXX_TAG); }
void operator delete[](void *P, size_t) noexcept { if (P) ExFreePoolWithTag(P, CXX_TAG); }
#define NEW new (CXX_TAG)
#else
#define CXX_TAG 0x6c507843u /* 'CxPl' */
LT_DEFINE_CXX_POOL_TAG(CXX_TAG)
#define NEW new
#endif

namespace {

bool g_leak;

struct UmdAllocation { /* what this driver's UMD sends */
  ULONGLONG Size;
  UINT Index;
  UINT Magic;
  ULONGLONG Variant;
};
const UINT kMagic = 0x4378556d;

class Object {
public:
  virtual ~Object() {}
};

class Allocation : public Object {
public:
  explicit Allocation(const UmdAllocation &u) : m_size(u.Size), m_names(NEW char[16]) {}
  ~Allocation() override { delete[] m_names; }
  ULONGLONG m_size;
  char *m_names;
};

class Device : public Object {
public:
  ~Device() override {}
  UINT m_opens = 0;
};

NTSTATUS Start(const DXGKRNL_INTERFACE *, HANDLE *phAdapter) {
  *phAdapter = (HANDLE)0x1;
  return STATUS_SUCCESS;
}
NTSTATUS Stop(HANDLE) { return STATUS_SUCCESS; }

NTSTATUS CreateDevice(HANDLE, DXGKARG_CREATEDEVICE *p) {
  Device *d = NEW Device();
  p->hDevice = d;
  return d ? STATUS_SUCCESS : STATUS_NO_MEMORY;
}
NTSTATUS DestroyDevice(HANDLE h) {
  delete static_cast<Device *>(h);
  return STATUS_SUCCESS;
}

NTSTATUS CreateAllocation(HANDLE, DXGKARG_CREATEALLOCATION *p) {
  for (UINT i = 0; i < p->NumAllocations; i++) {
    DXGK_ALLOCATIONINFO *info = &p->pAllocationInfo[i];
    UmdAllocation u;
    if (info->PrivateDriverDataSize != sizeof u) /* the UMD always sends its layout */
      __builtin_trap();
    memcpy(&u, info->pPrivateDriverData, sizeof u);
    if (u.Magic != kMagic)
      __builtin_trap();
    Allocation *a = NEW Allocation(u);
    if (a == nullptr || a->m_names == nullptr) {
      delete a;
      for (UINT j = 0; j < i; j++)
        delete static_cast<Allocation *>(p->pAllocationInfo[j].hAllocation);
      return STATUS_NO_MEMORY;
    }
    info->hAllocation = a;
  }
  return STATUS_SUCCESS;
}

NTSTATUS DestroyAllocation(HANDLE, const DXGKARG_DESTROYALLOCATION *p) {
  if (p->NumAllocations > 1) /* the UMD destroys one allocation at a time */
    __builtin_trap();
  for (UINT i = 0; i < p->NumAllocations; i++)
    if (!g_leak)
      delete static_cast<Allocation *>(p->pAllocationList[i]);
  return STATUS_SUCCESS;
}

NTSTATUS OpenAllocation(HANDLE hDevice, const DXGKARG_OPENALLOCATION *p) {
  for (UINT i = 0; i < p->NumAllocations; i++)
    p->pOpenAllocation[i].hDeviceSpecificAllocation = (HANDLE)(uintptr_t)(i + 1);
  static_cast<Device *>(hDevice)->m_opens += p->NumAllocations;
  return STATUS_SUCCESS;
}
NTSTATUS CloseAllocation(HANDLE, const DXGKARG_CLOSEALLOCATION *) { return STATUS_SUCCESS; }

NTSTATUS CreateContext(HANDLE, DXGKARG_CREATECONTEXT *p) {
  p->hContext = NEW Object();
  return p->hContext ? STATUS_SUCCESS : STATUS_NO_MEMORY;
}
NTSTATUS DestroyContext(HANDLE h) {
  delete static_cast<Object *>(h);
  return STATUS_SUCCESS;
}

/* The GPU-side DDIs: nothing to track here, but a replay calls them. */
NTSTATUS Render(HANDLE, DXGKARG_RENDER *) { return STATUS_SUCCESS; }
NTSTATUS SubmitCommand(HANDLE, const DXGKARG_SUBMITCOMMAND *) { return STATUS_SUCCESS; }
BOOLEAN Interrupt(HANDLE, ULONG) { return TRUE; }
void Dpc(HANDLE) {}
NTSTATUS BuildPagingBuffer(HANDLE, DXGKARG_BUILDPAGINGBUFFER *) { return STATUS_SUCCESS; }
NTSTATUS SetSourceAddress(HANDLE, const DXGKARG_SETVIDPNSOURCEADDRESS *) { return STATUS_SUCCESS; }
NTSTATUS Lock(HANDLE, DXGKARG_LOCK *p) {
  p->pData = p->hAllocation;
  return STATUS_SUCCESS;
}
NTSTATUS Unlock(HANDLE, const DXGKARG_UNLOCK *) { return STATUS_SUCCESS; }
NTSTATUS ResetFromTimeout(HANDLE) { return STATUS_SUCCESS; }

NTSTATUS SetOption(const char *Name, const char *Value) {
  if (strcmp(Name, "bugs") != 0)
    return STATUS_INVALID_PARAMETER;
  g_leak = strcmp(Value, "leak") == 0;
  return g_leak || !*Value || !strcmp(Value, "none") ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
}

void BuildUmd(const LT_UMD_ALLOCATION *a, void *pData, UINT Size) {
  UmdAllocation u = {a->Size, a->Index, kMagic, a->Variant};
  memcpy(pData, &u, sizeof u < Size ? sizeof u : Size);
}

const LT_UMD_PRIVATE_DATA kUmdData = {sizeof(UmdAllocation), 0, BuildUmd, nullptr};
const LT_UMD_CONTRACT kUmdContract = {0, 0, 0, 1, 0, 0};

LT_MINIPORT MakeMiniport() {
  LT_MINIPORT m = {};
  m.AbiVersion = LT_MINIPORT_ABI_VERSION;
  m.Size = sizeof(LT_MINIPORT);
#ifdef CXXDRV_OWN_NEW
  m.Name = "cxxown";
#else
  m.Name = "cxxplain";
#endif
  m.Version = "1.0";
  m.DxgkDdiStartDevice = Start;
  m.DxgkDdiStopDevice = Stop;
  m.DxgkDdiCreateDevice = CreateDevice;
  m.DxgkDdiDestroyDevice = DestroyDevice;
  m.DxgkDdiCreateContext = CreateContext;
  m.DxgkDdiDestroyContext = DestroyContext;
  m.DxgkDdiCreateAllocation = CreateAllocation;
  m.DxgkDdiDestroyAllocation = DestroyAllocation;
  m.DxgkDdiOpenAllocation = OpenAllocation;
  m.DxgkDdiCloseAllocation = CloseAllocation;
  m.DxgkDdiRender = Render;
  m.DxgkDdiSubmitCommand = SubmitCommand;
  m.DxgkDdiInterruptRoutine = Interrupt;
  m.DxgkDdiDpcRoutine = Dpc;
  m.DxgkDdiBuildPagingBuffer = BuildPagingBuffer;
  m.DxgkDdiSetVidPnSourceAddress = SetSourceAddress;
  m.DxgkDdiLock = Lock;
  m.DxgkDdiUnlock = Unlock;
  m.DxgkDdiResetFromTimeout = ResetFromTimeout;
  m.DxgkDdiRestartFromTimeout = ResetFromTimeout;
  m.LtSetOption = SetOption;
  m.UmdPrivateData = &kUmdData;
  m.UmdContract = &kUmdContract;
  return m;
}

const LT_MINIPORT CxxMiniport = MakeMiniport();

} // namespace

LT_DEFINE_MINIPORT_ENTRY(CxxMiniport)
