# Install rules: `cmake --install BUILD [--prefix P]` puts in place what a C++ program needs to
# use nearstore the way it uses LevelDB or RocksDB:
#   include/nearstore/*.h                         the public API (it includes nothing from src/)
#   lib/libnearstore.a                            one static library: every layer's objects
#   lib/cmake/nearstore/nearstoreConfig.cmake     find_package(nearstore) -> nearstore::nearstore
#   lib/pkgconfig/nearstore.pc                    pkg-config --cflags --libs nearstore
#   bin/nearstore                                 the command (src/cli/CMakeLists.txt), if built
# tests/cpp/install checks all of it: it installs to a scratch prefix and builds
# examples/quickstart.cc against the result both ways. Not used by the Python build
# (scikit-build-core installs only the extension and the command; see CMakeLists.txt).
include(CMakePackageConfigHelpers)

# The layers (static libraries of this project) that `target` links, directly or not, found
# by walking LINK_LIBRARIES: a new layer joins the installed library with no edit here.
function(nearstore_layers_of target out)
  set(todo ${target})
  set(found)
  while(todo)
    list(POP_FRONT todo t)
    if(NOT TARGET ${t} OR t IN_LIST found)
      continue()
    endif()
    get_target_property(imported ${t} IMPORTED)
    get_target_property(type ${t} TYPE)
    if(imported OR NOT type STREQUAL "STATIC_LIBRARY")
      continue()
    endif()
    list(APPEND found ${t})
    get_target_property(deps ${t} LINK_LIBRARIES)
    if(deps)
      list(APPEND todo ${deps})
    endif()
  endwhile()
  set(${out} ${found} PARENT_SCOPE)
endfunction()

# One archive of the objects of every layer the public `nearstore` target links (the objects
# are the ones already built; this only archives them), exported as nearstore::nearstore.
nearstore_layers_of(nearstore_engine _nearstore_layers)
set(_nearstore_objects)
foreach(layer IN LISTS _nearstore_layers)
  list(APPEND _nearstore_objects $<TARGET_OBJECTS:${layer}>)
endforeach()
add_library(nearstore_installed STATIC ${_nearstore_objects})
add_dependencies(nearstore_installed ${_nearstore_layers})
set_target_properties(nearstore_installed PROPERTIES
  OUTPUT_NAME nearstore EXPORT_NAME nearstore LINKER_LANGUAGE CXX)
# What a program that links it needs: the public headers, C++20 (std::span in the API), the
# threads the engine starts; nlohmann_json is used inside only (exported as link-only).
target_include_directories(nearstore_installed INTERFACE
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_features(nearstore_installed INTERFACE cxx_std_20)
target_link_libraries(nearstore_installed PUBLIC Threads::Threads
  PRIVATE nlohmann_json::nlohmann_json)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/nearstore
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(TARGETS nearstore_installed EXPORT nearstoreTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

set(_nearstore_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/nearstore)
install(EXPORT nearstoreTargets NAMESPACE nearstore:: DESTINATION ${_nearstore_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nearstoreConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/nearstoreConfig.cmake INSTALL_DESTINATION ${_nearstore_cmake_dir})
# 0.x: a minor release may change the API, so only the same minor version is compatible.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/nearstoreConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/nearstoreConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/nearstoreConfigVersion.cmake DESTINATION ${_nearstore_cmake_dir})

# nearstore.pc finds its prefix from where it lies (${pcfiledir}), so that
# `cmake --install --prefix ANYWHERE` gives a correct file without reconfiguring.
set(_nearstore_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(NEARSTORE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH _rel "/p/${_nearstore_pc_dir}" "/p")
  string(REGEX REPLACE "/$" "" _rel "${_rel}")
  set(NEARSTORE_PC_PREFIX "\${pcfiledir}/${_rel}")
endif()
foreach(dir LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
    set(NEARSTORE_PC_${dir} "${CMAKE_INSTALL_${dir}}")
  else()
    set(NEARSTORE_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
  endif()
endforeach()
configure_file(${PROJECT_SOURCE_DIR}/cmake/nearstore.pc.in ${CMAKE_CURRENT_BINARY_DIR}/nearstore.pc
  @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/nearstore.pc DESTINATION ${_nearstore_pc_dir})
