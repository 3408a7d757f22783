# dcloud_sandbox: hardware report and the bubblewrap + cgroups + seccomp sandbox.
# Included from worker/CMakeLists.txt.
pkg_check_modules(SECCOMP REQUIRED IMPORTED_TARGET libseccomp)

add_library(dcloud_sandbox STATIC
  ${CMAKE_CURRENT_LIST_DIR}/cgroups.cpp
  ${CMAKE_CURRENT_LIST_DIR}/hardware.cpp
  ${CMAKE_CURRENT_LIST_DIR}/sandbox.cpp
  ${CMAKE_CURRENT_LIST_DIR}/seccomp_filter.cpp
)
target_link_libraries(dcloud_sandbox PUBLIC dcloud_common dcloud_gpu PRIVATE PkgConfig::SECCOMP)
