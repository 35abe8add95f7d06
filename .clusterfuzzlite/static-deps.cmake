# Included after every project() of the ClusterFuzzLite build (build.sh passes
# it as CMAKE_PROJECT_INCLUDE): find_library and pkg_check_modules pick the
# static archives (libprotobuf-c.a, libzstd.a, libjansson.a, libsqlite3.a,
# libexpat.a, libdw.a and what it needs), so the fuzz targets run in the runner image, which has none of
# these packages installed.
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
