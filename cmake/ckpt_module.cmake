# ckpt_module(NAME <dotted.name> [INTERFACE file...] [SOURCES file...] [DEPS target...])
# One named module per folder: module name = folder path = target name
# (`ckpt.policy` lives in modules/ckpt/policy and is the target ckpt.policy).
# Consumers write ckpt::policy (in the tree through an ALIAS, installed
# through EXPORT_NAME); the umbrella `ckpt` is ckpt::ckpt.
function(ckpt_module)
  cmake_parse_arguments(M "" "NAME" "INTERFACE;SOURCES;DEPS" ${ARGN})
  add_library(${M_NAME} STATIC)
  target_sources(${M_NAME}
    PUBLIC FILE_SET CXX_MODULES FILES ${M_INTERFACE}
    PRIVATE ${M_SOURCES})
  target_compile_features(${M_NAME} PUBLIC cxx_std_20)
  target_link_libraries(${M_NAME} PUBLIC ${M_DEPS} PRIVATE $<BUILD_INTERFACE:ckpt_warnings>)
  # internal headers (ckpt/overload.hpp), for global module fragments only
  target_include_directories(${M_NAME} PRIVATE ${PROJECT_SOURCE_DIR}/modules)
  string(REGEX REPLACE "^ckpt\\." "" short ${M_NAME})
  set_target_properties(${M_NAME} PROPERTIES EXPORT_NAME ${short})
  add_library(ckpt::${short} ALIAS ${M_NAME})
  # installed with its interface units, so that `find_package(ckpt)` users
  # can `import` it (tests/install_smoke checks this)
  install(TARGETS ${M_NAME} EXPORT ckptTargets
    ARCHIVE DESTINATION lib
    FILE_SET CXX_MODULES DESTINATION lib/cxx/ckpt/${M_NAME})
endfunction()
