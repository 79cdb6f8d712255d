# Run by ctest (tests/cpp/install/CMakeLists.txt passes the -D variables): installs BUILD_DIR
# to WORK_DIR/prefix and builds and runs examples/quickstart.cc against it, through the CMake
# package and through pkg-config. Any failing step fails the test with its output.
cmake_minimum_required(VERSION 3.25)

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    list(JOIN ARGN " " cmd)
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}")
  endif()
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})

# The installed public headers are self-contained: each "..." include names another installed
# header (none of src/, whose headers are not installed).
file(GLOB_RECURSE headers RELATIVE ${prefix}/include ${prefix}/include/*.h)
if(NOT "nearstore/nearstore.h" IN_LIST headers)
  message(FATAL_ERROR "nearstore/nearstore.h not installed; installed headers: ${headers}")
endif()
foreach(h IN LISTS headers)
  file(STRINGS ${prefix}/include/${h} includes REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[^\"]*\"([^\"]+)\".*$" "\\1" inc "${line}")
    if(NOT inc IN_LIST headers)
      message(FATAL_ERROR "installed header ${h} includes \"${inc}\", which is not installed")
    endif()
  endforeach()
endforeach()

# 1. find_package(nearstore), out of tree.
run(${CMAKE_COMMAND} -S ${CONSUMER_DIR} -B ${WORK_DIR}/consumer -G ${GENERATOR}
  -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_PREFIX_PATH=${prefix} -DEXPECTED_PREFIX=${prefix}
  -DQUICKSTART=${SOURCE_DIR}/examples/quickstart.cc
  "-DCMAKE_CXX_FLAGS=${EXTRA_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${EXTRA_FLAGS}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/consumer)
run(${WORK_DIR}/consumer/quickstart ${WORK_DIR}/db-cmake)

# 2. pkg-config, with the plain compiler command a Makefile would run.
execute_process(
  COMMAND ${CMAKE_COMMAND} -E env PKG_CONFIG_PATH=${prefix}/${LIBDIR}/pkgconfig
          ${PKG_CONFIG} --cflags --libs nearstore
  RESULT_VARIABLE rc OUTPUT_VARIABLE pc_flags ERROR_VARIABLE pc_err
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags --libs nearstore failed: ${pc_err}")
endif()
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
separate_arguments(extra UNIX_COMMAND "${EXTRA_FLAGS}")
run(${CXX} -std=c++20 -O2 ${extra} ${SOURCE_DIR}/examples/quickstart.cc ${pc_flags}
  -o ${WORK_DIR}/quickstart-pc)
run(${WORK_DIR}/quickstart-pc ${WORK_DIR}/db-pc)
message(STATUS "installed to ${prefix}; quickstart built and run via find_package and pkg-config")
