# What `cmake --install` puts under a prefix, and the package config that
# `find_package(ckpt 0.2 REQUIRED)` reads:
#  - ckpt::checkpointer: the Checkpointer (a shared library with the policy
#    inside) and its C++17 headers; a consumer needs LibTorch and nothing
#    else (no modules, any CXX_EXTENSIONS);
#  - ckpt::torch_store: the tensor store (static, C++17 + LibTorch);
#  - ckpt::ckpt, ckpt::policy, ckpt::hook, ... ckpt::store.fs: the C++20
#    modules, for consumers that `import` them (CMake >= 3.28, clang-19,
#    CXX_EXTENSIONS OFF: the BMIs record the dialect).
include(CMakePackageConfigHelpers)
set(ckpt_cmake_dir lib/cmake/ckpt)
install(EXPORT ckptTargets NAMESPACE ckpt:: DESTINATION ${ckpt_cmake_dir}
  CXX_MODULES_DIRECTORY cxx-modules)
set(ckpt_with_torch OFF)
if(TARGET ckpt.checkpointer)
  set(ckpt_with_torch ON)
endif()
file(WRITE ${CMAKE_BINARY_DIR}/ckptConfig.cmake.in [=[
@PACKAGE_INIT@
include(CMakeFindDependencyMacro)
if(@ckpt_with_torch@)
  # ckpt::checkpointer and ckpt::torch_store use LibTorch's `torch` target
  find_dependency(Torch CONFIG)
  find_dependency(ZLIB)
endif()
include(${CMAKE_CURRENT_LIST_DIR}/ckptTargets.cmake)
check_required_components(ckpt)
]=])
configure_package_config_file(${CMAKE_BINARY_DIR}/ckptConfig.cmake.in ${CMAKE_BINARY_DIR}/ckptConfig.cmake
  INSTALL_DESTINATION ${ckpt_cmake_dir})
# 0.x: a minor release may change the API, so 0.2 accepts 0.2.* only.
write_basic_package_version_file(${CMAKE_BINARY_DIR}/ckptConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/ckptConfig.cmake ${CMAKE_BINARY_DIR}/ckptConfigVersion.cmake
  DESTINATION ${ckpt_cmake_dir})

if(ckpt_with_torch)
  install(TARGETS ckpt.checkpointer ckpt_torch_store EXPORT ckptTargets
    LIBRARY DESTINATION lib ARCHIVE DESTINATION lib RUNTIME DESTINATION bin
    INCLUDES DESTINATION include)
  install(FILES modules/ckpt/checkpointer.hpp DESTINATION include/ckpt)
  install(FILES modules/ckpt/checkpointer/engine.hpp DESTINATION include/ckpt/checkpointer)
  install(FILES modules/ckpt/internal/sink.hpp modules/ckpt/internal/sha256.hpp modules/ckpt/internal/durable.hpp
    DESTINATION include/ckpt/internal)
  install(DIRECTORY modules/ckpt/store/torch/ DESTINATION include/ckpt/store/torch FILES_MATCHING PATTERN "*.hpp")
endif()
