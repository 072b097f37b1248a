# Per-target compiler settings for wireframe's OWN targets. Nothing here is global, so a project
# that adds wireframe with add_subdirectory/FetchContent keeps its own flags.

# wireframe_set_warnings(<target>)
# -Wall -Wextra -Wpedantic (+ -Werror when WIREFRAME_WARNINGS_AS_ERRORS). PRIVATE: warnings are
# never pushed onto consumers. Asio, fmt and spdlog come in as SYSTEM includes, so their own
# warnings do not fire.
function(wireframe_set_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang)$")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
      # g++ 12 at -O1 and above misreads coroutine frames that Asio allocates with its own
      # operator new/delete pair (awaitable_frame_base) as mismatched (GCC PR 104713 family).
      target_compile_options(${target} PRIVATE -Wno-mismatched-new-delete)
    endif()
    if(WIREFRAME_WARNINGS_AS_ERRORS)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  endif()
endfunction()

# Validated once, when this file is included.
set(_wireframe_sanitizers_ok "" "address,undefined" "address" "undefined" "thread")
if(NOT WIREFRAME_SANITIZE IN_LIST _wireframe_sanitizers_ok)
  message(FATAL_ERROR "WIREFRAME_SANITIZE='${WIREFRAME_SANITIZE}': use one of \"\", "
                      "\"address,undefined\", \"address\", \"undefined\", \"thread\"")
endif()
if(WIREFRAME_SANITIZE AND NOT CMAKE_CXX_COMPILER_ID MATCHES "^(GNU|Clang|AppleClang)$")
  message(FATAL_ERROR "WIREFRAME_SANITIZE needs GCC or Clang (got ${CMAKE_CXX_COMPILER_ID})")
endif()
unset(_wireframe_sanitizers_ok)

# wireframe_enable_sanitizers(<target> [LINK_SCOPE PRIVATE|PUBLIC|INTERFACE])
# Adds -fsanitize=${WIREFRAME_SANITIZE} to compile and link; no-op when WIREFRAME_SANITIZE is "".
# LINK_SCOPE PUBLIC is for the library: a sanitized static libwireframe needs the sanitizer
# runtime in whatever links it, including consumers of an installed sanitized build.
function(wireframe_enable_sanitizers target)
  cmake_parse_arguments(arg "" "LINK_SCOPE" "" ${ARGN})
  if(NOT WIREFRAME_SANITIZE)
    return()
  endif()
  if(NOT arg_LINK_SCOPE)
    set(arg_LINK_SCOPE PRIVATE)
  endif()

  # Deterministic failures with usable stacks: stop at the first report.
  set(flags "-fsanitize=${WIREFRAME_SANITIZE}" -fno-omit-frame-pointer -fno-sanitize-recover=all)
  set(compile_only "")
  if(WIREFRAME_SANITIZE MATCHES "undefined" AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # clang UBSan's function check misfires on coroutine code (docs/development.md, "Asio 1.22
    # and compiler traps").
    list(APPEND flags -fno-sanitize=function)
  endif()
  if(WIREFRAME_SANITIZE STREQUAL "thread" AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # g++ warns that TSan does not support Asio's atomic_thread_fence; with -Werror that's fatal.
    list(APPEND compile_only -Wno-tsan)
  endif()

  get_target_property(type ${target} TYPE)
  if(WIREFRAME_SANITIZE MATCHES "undefined" AND NOT type STREQUAL "INTERFACE_LIBRARY")
    # Lets the one test that exhausts file descriptors know that UBSan (which needs a pipe for
    # each vptr check) is in the process.
    target_compile_definitions(${target} PRIVATE WIREFRAME_SANITIZE_UNDEFINED=1)
  endif()
  if(type STREQUAL "INTERFACE_LIBRARY")
    target_compile_options(${target} INTERFACE ${flags})
    target_link_options(${target} INTERFACE ${flags})
  else()
    target_compile_options(${target} PRIVATE ${flags} ${compile_only})
    target_link_options(${target} ${arg_LINK_SCOPE} ${flags})
  endif()
endfunction()

# wireframe_target_defaults(<target>): what every wireframe-owned target gets.
function(wireframe_target_defaults target)
  set_target_properties(${target} PROPERTIES CXX_EXTENSIONS OFF)
  wireframe_set_warnings(${target})
  wireframe_enable_sanitizers(${target})
endfunction()
