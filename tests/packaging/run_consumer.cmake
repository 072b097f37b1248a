# Builds and runs tests/packaging/consumer against wireframe in one of three ways.
#
#   cmake -DMODE=find_package|fetchcontent|subdirectory
#         -DWIREFRAME_SOURCE_DIR=<wireframe source>  -DWIREFRAME_BUILD_DIR=<built wireframe tree>
#         -DWORK_DIR=<scratch dir, wiped first>       -DCXX_COMPILER=<path>  -DGENERATOR=<name>
#         [-DCONFIG=<build type>] [-DMAKE_PROGRAM=<path>] [-DCXX_COMPILER_LAUNCHER=<ccache>]
#         [-DBUILD_SHARED_LIBS=ON|OFF] [-DPREFIX_PATH=<dir>|<dir>...]
#         -P run_consumer.cmake
#
# find_package first installs WIREFRAME_BUILD_DIR into WORK_DIR/prefix and prepends that prefix
# to PREFIX_PATH. tests/packaging/CMakeLists.txt registers one CTest test per mode.
cmake_minimum_required(VERSION 3.21)

set(_usage "usage: cmake -DMODE=find_package|fetchcontent|subdirectory -DWIREFRAME_SOURCE_DIR=<dir> \
-DWIREFRAME_BUILD_DIR=<dir> -DWORK_DIR=<dir> -DCXX_COMPILER=<path> -DGENERATOR=<name> \
[-DCONFIG=<type>] [-DMAKE_PROGRAM=<path>] [-DCXX_COMPILER_LAUNCHER=<path>] \
[-DBUILD_SHARED_LIBS=ON|OFF] [-DPREFIX_PATH=<dir>|<dir>...] -P ${CMAKE_CURRENT_LIST_FILE}")

set(_required MODE WIREFRAME_SOURCE_DIR WORK_DIR CXX_COMPILER GENERATOR)
if(MODE STREQUAL "find_package")
  list(APPEND _required WIREFRAME_BUILD_DIR)
endif()
foreach(var IN LISTS _required)
  if("${${var}}" STREQUAL "")
    message(FATAL_ERROR "run_consumer.cmake: ${var} is not set.\n${_usage}")
  endif()
endforeach()
if(NOT MODE MATCHES "^(find_package|fetchcontent|subdirectory)$")
  message(FATAL_ERROR "run_consumer.cmake: unknown MODE '${MODE}'.\n${_usage}")
endif()
# WORK_DIR is wiped below: refuse anything that holds the sources or the main build.
foreach(dir IN ITEMS "${WIREFRAME_SOURCE_DIR}" "${WIREFRAME_BUILD_DIR}")
  if(NOT dir STREQUAL "")
    cmake_path(IS_PREFIX WORK_DIR "${dir}" NORMALIZE _contains)
    if(_contains)
      message(FATAL_ERROR "run_consumer.cmake: WORK_DIR '${WORK_DIR}' contains '${dir}'; "
                          "it is deleted first, so it must be a scratch directory")
    endif()
  endif()
endforeach()
if(NOT EXISTS "${WIREFRAME_SOURCE_DIR}/CMakeLists.txt")
  message(FATAL_ERROR "run_consumer.cmake: WIREFRAME_SOURCE_DIR '${WIREFRAME_SOURCE_DIR}' has no CMakeLists.txt")
endif()

string(REPLACE "|" ";" PREFIX_PATH "${PREFIX_PATH}")
set(consumer_src "${CMAKE_CURRENT_LIST_DIR}/consumer")
set(build_dir "${WORK_DIR}/build")
set(prefix "${WORK_DIR}/prefix")

# Fresh every time: a stale cache would hide packaging mistakes.
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

# Runs a command, echoing it; stops the script with <what> if it fails.
function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc COMMAND_ECHO STDOUT)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "packaging (${MODE}): ${what} failed: ${rc}")
  endif()
endfunction()

set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()

if(MODE STREQUAL "find_package")
  if(NOT EXISTS "${WIREFRAME_BUILD_DIR}/cmake_install.cmake")
    message(FATAL_ERROR "run_consumer.cmake: '${WIREFRAME_BUILD_DIR}' has no install rules "
                        "(configure it with WIREFRAME_INSTALL=ON and build it first)")
  endif()
  run("installing wireframe" "${CMAKE_COMMAND}" --install "${WIREFRAME_BUILD_DIR}"
      --prefix "${prefix}" ${config_args})
  list(PREPEND PREFIX_PATH "${prefix}")
endif()

set(configure_args
  -S "${consumer_src}" -B "${build_dir}" -G "${GENERATOR}"
  "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
  "-DCMAKE_BUILD_TYPE=${CONFIG}"
  "-DCMAKE_PREFIX_PATH=${PREFIX_PATH}"
  "-DCONSUMER_MODE=${MODE}"
  "-DWIREFRAME_SOURCE_DIR=${WIREFRAME_SOURCE_DIR}")
# Unoptimised: what this test proves is that the consumer finds, builds, links and runs
# wireframe, which no optimisation level changes; at -O3 compiling libwireframe (fetchcontent,
# subdirectory) was most of its time. NDEBUG stays as the build type has it.
if(CONFIG)
  string(TOUPPER "${CONFIG}" config_upper)
  set(opt_flags "-O0")
  if(NOT config_upper STREQUAL "DEBUG")
    string(APPEND opt_flags " -DNDEBUG")
  endif()
  list(APPEND configure_args "-DCMAKE_CXX_FLAGS_${config_upper}=${opt_flags}")
endif()
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(CXX_COMPILER_LAUNCHER)
  list(APPEND configure_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${CXX_COMPILER_LAUNCHER}")
endif()
if(NOT "${BUILD_SHARED_LIBS}" STREQUAL "")
  list(APPEND configure_args "-DBUILD_SHARED_LIBS=${BUILD_SHARED_LIBS}")
endif()
if(MODE STREQUAL "find_package")
  # No user/system package registry: the package must come from the prefix we just installed.
  list(APPEND configure_args -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
endif()

run("configuring the consumer" "${CMAKE_COMMAND}" ${configure_args})

if(MODE STREQUAL "find_package")
  # Prove the config really came from the install prefix, not from somewhere else on the system.
  file(STRINGS "${build_dir}/CMakeCache.txt" found_dir REGEX "^wireframe_DIR:")
  string(REGEX REPLACE "^wireframe_DIR:[A-Z]+=" "" found_dir "${found_dir}")
  file(REAL_PATH "${found_dir}" found_dir)
  file(REAL_PATH "${prefix}" real_prefix)
  string(FIND "${found_dir}" "${real_prefix}/" at)
  if(NOT at EQUAL 0)
    message(FATAL_ERROR "packaging (find_package): wireframe was found in '${found_dir}', "
                        "not in the install prefix '${real_prefix}'")
  endif()
endif()

# Only the consumer and what it links, as a consumer's build of its own program would: for
# fetchcontent and subdirectory that is libwireframe, not wireframe::tls (which the main build
# compiles anyway, with warnings as errors). Configuring still processes all of wireframe's
# CMakeLists.txt, so a subproject that fails to configure still fails here.
run("building the consumer" "${CMAKE_COMMAND}" --build "${build_dir}" --parallel 2
    --target wireframe_consumer ${config_args})

set(exe "${build_dir}/bin/wireframe_consumer")
if(CMAKE_HOST_WIN32)
  string(APPEND exe ".exe")
endif()
if(NOT EXISTS "${exe}")
  message(FATAL_ERROR "packaging (${MODE}): '${exe}' was not produced")
endif()
execute_process(COMMAND "${exe}" RESULT_VARIABLE rc TIMEOUT 60 COMMAND_ECHO STDOUT)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "packaging (${MODE}): wireframe_consumer failed: ${rc}")
endif()
message(STATUS "packaging (${MODE}): OK")
