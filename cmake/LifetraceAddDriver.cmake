# lifetrace_add_driver(): build a WDDM miniport driver's sources into the
# binaries that replay and fuzz it (docs/bring-your-own-driver.md).
#
#   lifetrace_add_driver(<name>
#     SOURCES <file>...               the driver's sources and its lifetrace glue
#                                     (the file with LT_DEFINE_MINIPORT_ENTRY)
#     [INCLUDE_DIRECTORIES <dir>...]
#     [COMPILE_DEFINITIONS <def>...]
#     [COMPILE_OPTIONS <opt>...]
#     [LINK_LIBRARIES <lib>...]       static helpers the driver needs (PIC)
#     [CORPUS <dir>]                  regression corpus: CTest test <name>_regressions
#     [TOOL_NAME <name>]              file name of the tool (default lifetrace-<name>)
#     [NO_SANITIZE]                   no ASan/UBSan of its own in lifetrace-<name>
#                                     (the build's own flags still apply)
#     [NO_FUZZ])                      no libFuzzer variants
#
# Targets it makes:
#   <name>           lib<name>.so: the driver alone, for `lifetrace replay|check
#                    --driver` and fuzz.sh's triage. Kernel routines
#                    (ExAllocatePool2, spin locks, ...) stay undefined: the
#                    loading binary provides them.
#   <name>_static    lib<name>_static.a: the driver's objects, for binaries of
#                    one's own (tests, fuzz targets) that add the glue
#                    (LIFETRACE_LINKED_GLUE) to carry it as their driver.
#   <name>_replay    lifetrace-<name>: the lifetrace tool with the driver linked
#                    in statically (ASan + UBSan on the driver unless
#                    NO_SANITIZE). Without --driver it runs the linked driver
#                    (lt_linked_miniport(), cmake/LifetraceLinkedDriver.c).
#   <name>_fuzzer    fuzz-<name>: the libFuzzer replay target (structure-aware
#                    mutator) with the driver linked in, instrumented for coverage,
#                    ASan and UBSan. LT_FUZZ_BUGS etc. as in fuzz/fuzz_replay.c.
#   <name>_fuzzdrv   lib<name>-fuzz.so: the driver instrumented the same way, for
#                    `fuzz.sh --driver` (whose fuzz target provides the runtimes).
#   <name>_afldrv    lib<name>-afl.so: the driver with edge coverage
#                    (-fsanitize-coverage=trace-pc-guard) and no sanitizer, for
#                    `fuzz.sh --engine afl --driver`: AFL++'s runtime in
#                    fuzz_replay_afl (plain and ASan builds) takes its guards.
# The last three need clang with libFuzzer (compiler-rt); otherwise they are
# skipped with a message.
#
# Every driver source is compiled with -g (with clang also -gdwarf-aranges:
# findings name the driver's files and lines in any build type),
# LIFETRACE=1, DBG=1 in Debug builds
# (NT_ASSERT, PAGED_CODE), -Wno-multichar (pool tags), -fshort-wchar (WCHAR
# and L"" are 16-bit, as on Windows), -Wno-unknown-pragmas (#pragma
# alloc_text, warning, ...), and lifetrace's WDK stand-ins (<ntddk.h>,
# <d3dkmddi.h>, ...) on the include path; every `#include "X.tmh"` of its
# sources finds a generated X.tmh that maps WPP onto DbgPrintEx
# (lifetrace/wdk/wpp.h).
#
# C++ sources (.cpp .cc .cxx) follow the WDK's conventions: C++17,
# -fno-exceptions -fno-rtti, -fcheck-new (a failed new returns NULL and the
# caller's check stays), and in sanitized builds -fno-sanitize=vptr (no RTTI)
# and -fno-sanitize=returns-nonnull-attribute (a kernel new returns NULL). Every build of such a driver carries LifetraceCxxNew.cpp: global
# operator new / delete on the tracked pool, for each form the driver does not
# define itself (lifetrace/driver.h, LT_DEFINE_CXX_POOL_TAG). Its shared
# objects bind every symbol but lt_miniport_entry locally (a version script),
# so the loading binary's operators (a sanitizer's) never replace the
# driver's. The C++ compiler must match the C compiler (clang++ with clang for
# the libFuzzer variants).
#
# Where lifetrace is: the root CMakeLists.txt of lifetrace (in-tree drivers,
# LT_DRIVERS) or lifetraceConfig.cmake (find_package(lifetrace)) sets the
# global properties read below.

include_guard(GLOBAL)
include(CheckCSourceCompiles)
set(_LIFETRACE_CMAKE_DIR ${CMAKE_CURRENT_LIST_DIR})

function(_lifetrace_prop var name)
  get_property(value GLOBAL PROPERTY ${name})
  if(NOT value)
    message(FATAL_ERROR "lifetrace_add_driver: ${name} is not set (use find_package(lifetrace))")
  endif()
  set(${var} ${value} PARENT_SCOPE)
endfunction()

# Whether this compiler can build and link a libFuzzer target (cached).
function(_lifetrace_check_libfuzzer out)
  if(NOT DEFINED LIFETRACE_HAVE_LIBFUZZER)
    if(CMAKE_C_COMPILER_ID MATCHES "Clang")
      set(CMAKE_REQUIRED_FLAGS "-fsanitize=fuzzer,address,undefined")
      set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=fuzzer,address,undefined")
      set(CMAKE_REQUIRED_QUIET ON)
      check_c_source_compiles(
        "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return (int)(n && d[0]); }"
        LIFETRACE_HAVE_LIBFUZZER)
    else()
      set(LIFETRACE_HAVE_LIBFUZZER OFF CACHE INTERNAL "")
    endif()
  endif()
  set(${out} ${LIFETRACE_HAVE_LIBFUZZER} PARENT_SCOPE)
endfunction()

# Whether ASan + UBSan link with this compiler (cached).
function(_lifetrace_check_sanitizers out)
  if(NOT DEFINED LIFETRACE_HAVE_SANITIZERS)
    set(CMAKE_REQUIRED_FLAGS "-fsanitize=address,undefined")
    set(CMAKE_REQUIRED_LINK_OPTIONS "-fsanitize=address,undefined")
    set(CMAKE_REQUIRED_QUIET ON)
    check_c_source_compiles("int main(void) { return 0; }" LIFETRACE_HAVE_SANITIZERS)
  endif()
  set(${out} ${LIFETRACE_HAVE_SANITIZERS} PARENT_SCOPE)
endfunction()

# Settings every variant of a driver shares.
function(_lifetrace_driver_common target)
  cmake_parse_arguments(A "" "" "INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS;COMPILE_OPTIONS" ${ARGN})
  _lifetrace_prop(headers LIFETRACE_HEADERS_TARGET)
  target_include_directories(${target} PRIVATE ${A_INCLUDE_DIRECTORIES})
  target_compile_definitions(${target} PRIVATE LIFETRACE=1 $<$<CONFIG:Debug>:DBG=1>
                             ${A_COMPILE_DEFINITIONS})
  target_compile_options(${target} PRIVATE -Wno-multichar -fshort-wchar -Wno-unknown-pragmas
                         ${A_COMPILE_OPTIONS})
  # Findings point into the driver's source: DWARF in every build type (it does
  # not change the code), and with clang the .debug_aranges that libdw before
  # elfutils 0.191 needs to find a compile unit (without them no frame of a
  # clang-built driver has a file and line).
  target_compile_options(${target} PRIVATE -g
                         $<$<COMPILE_LANG_AND_ID:C,Clang,AppleClang>:-gdwarf-aranges>
                         $<$<COMPILE_LANG_AND_ID:CXX,Clang,AppleClang>:-gdwarf-aranges>)
  # The WDK's C++: no exceptions, no RTTI, new may return NULL.
  target_compile_options(${target} PRIVATE
                         $<$<COMPILE_LANGUAGE:CXX>:-fno-exceptions -fno-rtti -fcheck-new>)
  set_target_properties(${target} PROPERTIES CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON
                        CXX_EXTENSIONS OFF)
  target_link_libraries(${target} PRIVATE ${headers})
endfunction()

# WPP: for every `#include "X.tmh"` in the sources, writes X.tmh into
# <out> (including lifetrace/wdk/wpp.h), so the WPP preprocessor is not
# needed. Returns the directory in <var>.
function(_lifetrace_wpp_headers var out)
  file(MAKE_DIRECTORY ${out})
  foreach(src IN LISTS ARGN)
    get_filename_component(path ${src} ABSOLUTE)
    if(NOT EXISTS ${path})
      continue()
    endif()
    file(STRINGS ${path} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<][^\">]+\\.tmh[\">]")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE ".*[\"<]([^\">]+\\.tmh)[\">].*" "\\1" tmh "${line}")
      if(NOT EXISTS ${out}/${tmh})
        file(WRITE ${out}/${tmh} "/* generated by lifetrace_add_driver: WPP without tracewpp */\n#include <lifetrace/wdk/wpp.h>\n")
      endif()
    endforeach()
  endforeach()
  set(${var} ${out} PARENT_SCOPE)
endfunction()

# Whether a source list has C++ sources.
function(_lifetrace_has_cxx out)
  set(cxx OFF)
  foreach(src IN LISTS ARGN)
    if(src MATCHES "\\.(cpp|cc|cxx|C)$")
      set(cxx ON)
    endif()
  endforeach()
  set(${out} ${cxx} PARENT_SCOPE)
endfunction()

# C++ drivers: the lifetrace operator new / delete for the forms the driver
# does not define (LifetraceCxxNew.cpp + a header generated from the
# driver's static archive), and the version script of its shared objects.
function(_lifetrace_cxx_glue name out_src out_map)
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${name}_cxxnew)
  set(hdr ${dir}/lt_cxx_driver_new.h)
  set(nm ${CMAKE_NM})
  if(NOT nm)
    set(nm nm)
  endif()
  add_custom_command(
    OUTPUT ${hdr}
    COMMAND ${CMAKE_COMMAND} -DNM=${nm} -DARCHIVE=$<TARGET_FILE:${name}_static> -DOUT=${hdr}
            -P ${_LIFETRACE_CMAKE_DIR}/LifetraceCxxNew.cmake
    DEPENDS ${name}_static ${_LIFETRACE_CMAKE_DIR}/LifetraceCxxNew.cmake
    COMMENT "lifetrace: operator new / delete that ${name} does not define")
  add_custom_target(${name}_cxxnew DEPENDS ${hdr})
  file(WRITE ${dir}/exports.map "{ global: lt_miniport_entry; local: *; };\n")
  set(${out_src} ${_LIFETRACE_CMAKE_DIR}/LifetraceCxxNew.cpp PARENT_SCOPE)
  set(${out_map} ${dir}/exports.map PARENT_SCOPE)
endfunction()

# Adds the C++ glue to one variant of a C++ driver (MODULE: with the version
# script).
function(_lifetrace_cxx_variant name target module)
  add_dependencies(${target} ${name}_cxxnew)
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/${name}_cxxnew)
  set_target_properties(${target} PROPERTIES CXX_VISIBILITY_PRESET hidden
                        VISIBILITY_INLINES_HIDDEN ON)
  if(module)
    target_link_options(${target} PRIVATE
                        -Wl,--version-script=${CMAKE_CURRENT_BINARY_DIR}/${name}_cxxnew/exports.map)
  endif()
endfunction()

function(lifetrace_add_driver name)
  cmake_parse_arguments(ARG "NO_SANITIZE;NO_FUZZ" "CORPUS;TOOL_NAME"
                        "SOURCES;INCLUDE_DIRECTORIES;COMPILE_DEFINITIONS;COMPILE_OPTIONS;LINK_LIBRARIES"
                        ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "lifetrace_add_driver(${name}): SOURCES is required")
  endif()
  _lifetrace_prop(lib LIFETRACE_LIBRARY_TARGET)
  _lifetrace_prop(cli LIFETRACE_CLI_TARGET)
  _lifetrace_prop(tool LIFETRACE_TOOL_TARGET)
  get_property(fuzz_src GLOBAL PROPERTY LIFETRACE_FUZZ_REPLAY_SOURCE)
  _lifetrace_wpp_headers(wpp_dir ${CMAKE_CURRENT_BINARY_DIR}/${name}_wpp ${ARG_SOURCES})
  set(common INCLUDE_DIRECTORIES ${ARG_INCLUDE_DIRECTORIES} ${wpp_dir}
      COMPILE_DEFINITIONS ${ARG_COMPILE_DEFINITIONS} COMPILE_OPTIONS ${ARG_COMPILE_OPTIONS})
  set(glue ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/LifetraceLinkedDriver.c)
  _lifetrace_has_cxx(cxx ${ARG_SOURCES})
  set(cxx_glue)
  if(cxx)
    get_property(langs GLOBAL PROPERTY ENABLED_LANGUAGES)
    if(NOT CXX IN_LIST langs)
      message(FATAL_ERROR "lifetrace_add_driver(${name}): C++ sources but no C++ compiler "
                          "(project(... LANGUAGES C CXX), or set CMAKE_CXX_COMPILER)")
    endif()
    _lifetrace_cxx_glue(${name} cxx_glue cxx_map)
  endif()
  if(NOT ARG_TOOL_NAME)
    set(ARG_TOOL_NAME lifetrace-${name})
  endif()
  # The sanitizers of the static variants. A NULL dereference in the driver
  # must reach lifetrace's crash guard as a fault (a miniport-crash finding),
  # so UBSan's null and pointer-overflow checks are left out, as for the
  # reference driver.
  set(san -fsanitize=address,undefined -fno-sanitize=null,pointer-overflow
      -fno-sanitize-recover=undefined -fno-omit-frame-pointer
      $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize=vptr,returns-nonnull-attribute>)

  # 1. lib<name>.so, for --driver.
  add_library(${name} MODULE ${ARG_SOURCES} ${cxx_glue})
  _lifetrace_driver_common(${name} ${common})
  target_link_libraries(${name} PRIVATE ${ARG_LINK_LIBRARIES})
  set_target_properties(${name} PROPERTIES C_VISIBILITY_PRESET hidden PREFIX "lib" SUFFIX ".so")

  # 1b. lib<name>_static.a, the driver's objects for binaries of one's own.
  add_library(${name}_static STATIC ${ARG_SOURCES})
  _lifetrace_driver_common(${name}_static ${common})
  target_link_libraries(${name}_static PUBLIC ${ARG_LINK_LIBRARIES})

  # 2. lifetrace-<name>: the tool with the driver linked in.
  add_executable(${name}_replay ${ARG_SOURCES} ${glue} ${cxx_glue})
  _lifetrace_driver_common(${name}_replay ${common})
  target_link_libraries(${name}_replay PRIVATE ${ARG_LINK_LIBRARIES} ${cli})
  set_target_properties(${name}_replay PROPERTIES OUTPUT_NAME ${ARG_TOOL_NAME} ENABLE_EXPORTS ON)
  _lifetrace_check_sanitizers(have_san)
  if(NOT ARG_NO_SANITIZE AND have_san)
    target_compile_options(${name}_replay PRIVATE ${san})
    target_link_options(${name}_replay PRIVATE -fsanitize=address,undefined)
  endif()

  # 3. fuzz-<name> and lib<name>-fuzz.so (libFuzzer).
  _lifetrace_check_libfuzzer(have_fuzzer)
  if(ARG_NO_FUZZ)
  elseif(NOT have_fuzzer OR NOT fuzz_src OR (cxx AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang"))
    message(STATUS "lifetrace_add_driver(${name}): no libFuzzer with ${CMAKE_C_COMPILER_ID}: "
                   "fuzz-${name}, lib${name}-fuzz.so and lib${name}-afl.so skipped (configure with CC=clang"
                   " CXX=clang++)")
  else()
    add_executable(${name}_fuzzer ${fuzz_src} ${ARG_SOURCES} ${glue} ${cxx_glue})
    _lifetrace_driver_common(${name}_fuzzer ${common})
    target_link_libraries(${name}_fuzzer PRIVATE ${ARG_LINK_LIBRARIES} ${lib})
    target_compile_options(${name}_fuzzer PRIVATE -fsanitize=fuzzer ${san})
    target_link_options(${name}_fuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
    set_target_properties(${name}_fuzzer PROPERTIES OUTPUT_NAME fuzz-${name} ENABLE_EXPORTS ON)

    add_library(${name}_fuzzdrv MODULE ${ARG_SOURCES} ${cxx_glue})
    _lifetrace_driver_common(${name}_fuzzdrv ${common})
    target_link_libraries(${name}_fuzzdrv PRIVATE ${ARG_LINK_LIBRARIES})
    target_compile_options(${name}_fuzzdrv PRIVATE -fsanitize=fuzzer-no-link ${san})
    set_target_properties(${name}_fuzzdrv PROPERTIES OUTPUT_NAME ${name}-fuzz PREFIX "lib"
                          SUFFIX ".so" C_VISIBILITY_PRESET hidden)

    # AFL++: coverage only. The loading fuzz_replay_afl is AFL++'s, built by
    # afl-clang-fast; its runtime defines __sanitizer_cov_trace_pc_guard[_init]
    # and numbers the guards of a module loaded before its fork server.
    add_library(${name}_afldrv MODULE ${ARG_SOURCES} ${cxx_glue})
    _lifetrace_driver_common(${name}_afldrv ${common})
    target_link_libraries(${name}_afldrv PRIVATE ${ARG_LINK_LIBRARIES})
    target_compile_options(${name}_afldrv PRIVATE -fsanitize-coverage=trace-pc-guard)
    set_target_properties(${name}_afldrv PROPERTIES OUTPUT_NAME ${name}-afl PREFIX "lib"
                          SUFFIX ".so" C_VISIBILITY_PRESET hidden)
    if(cxx)
      _lifetrace_cxx_variant(${name} ${name}_fuzzer OFF)
      _lifetrace_cxx_variant(${name} ${name}_fuzzdrv ON)
      _lifetrace_cxx_variant(${name} ${name}_afldrv ON)
    endif()
  endif()
  if(cxx)
    _lifetrace_cxx_variant(${name} ${name} ON)
    _lifetrace_cxx_variant(${name} ${name}_replay OFF)
  endif()

  # 4. The regression corpus as a test.
  if(ARG_CORPUS)
    get_filename_component(corpus ${ARG_CORPUS} ABSOLUTE)
    add_test(NAME ${name}_regressions
             COMMAND $<TARGET_FILE:${tool}> check --driver $<TARGET_FILE:${name}>
                     --junit ${CMAKE_CURRENT_BINARY_DIR}/${name}-regressions.junit.xml ${corpus})
  endif()
endfunction()
