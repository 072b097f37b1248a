# wireframe_add_doc_check(<name> ROOT <dir> LINK <target>... [TLS_LINK <target>...])
#
# Proves every C++ block of README.md and docs/*.md compiles (tools/doc_blocks.py says how a
# page becomes C++, and how a block is marked as a fragment or as a snippet of a compiled file).
# For each page, a command run at build time (so the code is always the page's current one)
# writes one generated .cpp with all the page's blocks; they compile into the OBJECT library
# <name>, part of the default build, with warnings as errors. Compile only (not even code
# generation: below); nothing is linked or run. Blocks that include <wireframe/tls.hpp> go into
# a second file per page, compiled into <name>_tls against TLS_LINK when that target exists.
# The docs ctest (tests/docs) checks that the files compiled are the pages' current blocks and
# that every snippet matches its source.
function(wireframe_add_doc_check name)
  cmake_parse_arguments(arg "" "ROOT" "LINK;TLS_LINK" ${ARGN})
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  # The interpreter itself rather than a wrapper found first on PATH (a pyenv shim costs 0.3 s
  # a start, and a build starts Python once per page and once per compile).
  execute_process(COMMAND "${Python3_EXECUTABLE}" -c "import sys; print(sys.executable)"
    OUTPUT_VARIABLE python OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
  set(tool "${arg_ROOT}/tools/doc_blocks.py")
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/${name}")
  set(tls OFF)
  if(arg_TLS_LINK AND TARGET ${arg_TLS_LINK})
    set(tls ON)
  endif()
  file(GLOB pages CONFIGURE_DEPENDS "${arg_ROOT}/docs/*.md")
  list(PREPEND pages "${arg_ROOT}/README.md")
  set(sources "")
  set(tls_sources "")
  foreach(page IN LISTS pages)
    file(RELATIVE_PATH rel "${arg_ROOT}" "${page}")
    get_filename_component(file "${page}" NAME)
    # The same names as generated_path() in the tool, which the ctest compares.
    set(src "${out_dir}/${file}.cpp")
    set(outputs "${src}")
    set(tls_args "")
    if(tls)
      list(APPEND outputs "${out_dir}/${file}.tls.cpp")
      set(tls_args --tls-out "${out_dir}/${file}.tls.cpp")
      list(APPEND tls_sources "${out_dir}/${file}.tls.cpp")
    endif()
    add_custom_command(OUTPUT ${outputs}
      COMMAND "${python}" "${tool}" generate --root "${arg_ROOT}" --page "${rel}"
              --out "${src}" ${tls_args}
      DEPENDS "${page}" "${tool}"
      COMMENT "Extracting the C++ blocks of ${rel}"
      VERBATIM)
    list(APPEND sources "${src}")
  endforeach()

  set(launcher "${python}" "${tool}" syntax-only)
  _wireframe_doc_check_library(${name} "${arg_ROOT}" "${launcher}" "${sources}" ${arg_LINK})
  if(tls)
    _wireframe_doc_check_library(${name}_tls "${arg_ROOT}" "${launcher}" "${tls_sources}"
                                 ${arg_TLS_LINK})
  endif()
  # For tests/docs: where the units are, and whether the TLS ones were compiled.
  set_target_properties(${name} PROPERTIES
    WIREFRAME_DOC_ROOT "${arg_ROOT}"
    WIREFRAME_DOC_DIR "${out_dir}"
    WIREFRAME_DOC_TLS "${tls}"
    WIREFRAME_DOC_TOOL "${tool}"
    WIREFRAME_DOC_PYTHON "${python}")
endfunction()

# One OBJECT library of generated units, compiled by `doc_blocks.py syntax-only` as launcher:
# -fsyntax-only gives a compile's diagnostics (templates instantiated, coroutines transformed)
# without generating code: 51 s of CPU for the docs of today, against 94 s at -O0 and 142 s at
# -O3 (the release flags). The launcher
# then writes the empty object file the build expects. The unused warnings are off: a block
# declares things to show them (`auto [ec, reply] = co_await ...` as its last line), not to use
# them. -iquote ROOT lets a prelude include an example's header as "examples/<name>/<header>".
function(_wireframe_doc_check_library name root launcher sources)
  add_library(${name} OBJECT ${sources})
  target_link_libraries(${name} PRIVATE ${ARGN})
  wireframe_target_defaults(${name})
  if(CMAKE_CXX_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang)$")
    target_compile_options(${name} PRIVATE -Wno-unused-variable -Wno-unused-but-set-variable
                                           -iquote "${root}")
    set_target_properties(${name} PROPERTIES CXX_COMPILER_LAUNCHER "${launcher}")
  endif()
endfunction()
