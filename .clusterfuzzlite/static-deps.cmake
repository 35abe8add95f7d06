# Included after every project() of the ClusterFuzzLite build (build.sh passes
# it as CMAKE_PROJECT_INCLUDE): find_library and pkg_check_modules pick the
# static archives (libprotobuf-c.a, libzstd.a, libjansson.a, libsqlite3.a,
# libexpat.a, libdw.a and what it needs), so the fuzz targets run in the runner image, which has none of
# these packages installed.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)

# wimlib's static archive pulls in ntfs-3g and FUSE (no static archives of
# those on Debian or the base-builder image): build without it, so an .etl
# buffer compressed with XPRESS Huffman is refused there (LT_EFORMAT), and the
# other decompressors and the container are fuzzed as usual.
set(LT_WIMLIB OFF CACHE BOOL "" FORCE)

# Debian's libunwind.a (the stack capture of issue 14) is not built with
# -fPIC: link the fuzz targets as non-PIE executables, which ClusterFuzz runs
# as well (the libraries' objects are PIC anyway).
add_link_options(-no-pie)
