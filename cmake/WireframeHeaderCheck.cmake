# wireframe_add_header_check(<name> BASE_DIR <dir> HEADERS <h>... LINK <target>...)
#
# Proves every public header is self-contained: for each header one generated .cpp includes only
# that header (twice, which also catches a missing #pragma once). All of them compile into the
# OBJECT library <name>, which is part of the default build, with warnings as errors.
function(wireframe_add_header_check name)
  cmake_parse_arguments(arg "" "BASE_DIR" "HEADERS;LINK" ${ARGN})
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/${name}")
  set(sources "")
  foreach(header IN LISTS arg_HEADERS)
    file(RELATIVE_PATH rel "${arg_BASE_DIR}" "${header}")
    set(src "${out_dir}/${rel}.cpp")
    # file(CONFIGURE) only rewrites on change: re-configuring does not rebuild every check.
    file(CONFIGURE OUTPUT "${src}" CONTENT
      "// Generated: checks that <${rel}> compiles on its own.\n#include <${rel}>\n#include <${rel}>\n")
    list(APPEND sources "${src}")
  endforeach()
  if(NOT sources)
    message(STATUS "wireframe: no public headers yet, header check skipped")
    return()
  endif()
  add_library(${name} OBJECT ${sources})
  target_link_libraries(${name} PRIVATE ${arg_LINK})
  wireframe_target_defaults(${name})
endfunction()
