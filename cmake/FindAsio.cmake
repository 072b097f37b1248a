# FindAsio
# --------
# Finds standalone Asio (https://think-async.com), which ships no CMake config and no .pc file
# (e.g. Debian's libasio-dev). Installed next to wireframeConfig.cmake so consumers use it too.
#
# Result variables:   Asio_FOUND, Asio_VERSION, Asio_INCLUDE_DIR
# Imported target:    asio::asio  (INTERFACE; SYSTEM include dir, ASIO_STANDALONE,
#                                  ASIO_NO_DEPRECATED, links Threads::Threads)
# Hints:              Asio_ROOT / ASIO_ROOT (CMake's <Package>_ROOT), or Asio_INCLUDE_DIR.

include(FindPackageHandleStandardArgs)

# Asio's scheduler needs threads. Safe to repeat: FindThreads reuses an existing Threads::Threads.
set(THREADS_PREFER_PTHREAD_FLAG ON)
find_package(Threads QUIET)

# Reuse a target someone already made (a parent project, a package manager, a previous call):
# creating a second asio::asio would be an error, and theirs is the one they want used.
if(TARGET asio::asio)
  # Only to read its version; generator expressions in the property simply won't match.
  get_target_property(_asio_dirs asio::asio INTERFACE_INCLUDE_DIRECTORIES)
  foreach(_asio_dir IN LISTS _asio_dirs)
    if(EXISTS "${_asio_dir}/asio/version.hpp")
      set(Asio_INCLUDE_DIR "${_asio_dir}")
      break()
    endif()
  endforeach()
  unset(_asio_dir)
  unset(_asio_dirs)
else()
  # asio.hpp (not boost/asio.hpp): never pick up Boost.Asio by accident.
  find_path(Asio_INCLUDE_DIR
    NAMES asio.hpp
    HINTS "${ASIO_ROOT}" ENV ASIO_ROOT
    PATH_SUFFIXES include
    DOC "Directory containing asio.hpp (standalone Asio)")
endif()

# ASIO_VERSION is XXYYZZ: 102201 -> 1.22.1
if(Asio_INCLUDE_DIR AND EXISTS "${Asio_INCLUDE_DIR}/asio/version.hpp")
  file(STRINGS "${Asio_INCLUDE_DIR}/asio/version.hpp" _asio_version_line
       REGEX "^#define[ \t]+ASIO_VERSION[ \t]+[0-9]+")
  if(_asio_version_line MATCHES "ASIO_VERSION[ \t]+([0-9]+)")
    math(EXPR _asio_major "${CMAKE_MATCH_1} / 100000")
    math(EXPR _asio_minor "${CMAKE_MATCH_1} / 100 % 1000")
    math(EXPR _asio_patch "${CMAKE_MATCH_1} % 100")
    set(Asio_VERSION "${_asio_major}.${_asio_minor}.${_asio_patch}")
  endif()
  unset(_asio_version_line)
  unset(_asio_major)
  unset(_asio_minor)
  unset(_asio_patch)
endif()

if(TARGET asio::asio)
  # Existing target: trust it. If its version is unreadable, Asio_VERSION stays undefined and
  # find_package_handle_standard_args skips the version check rather than failing.
  set(_asio_required_var _asio_existing_target)
  set(_asio_existing_target "existing target asio::asio")
else()
  set(_asio_required_var Asio_INCLUDE_DIR)
endif()

find_package_handle_standard_args(Asio
  REQUIRED_VARS ${_asio_required_var} Threads_FOUND
  VERSION_VAR Asio_VERSION)
unset(_asio_required_var)
unset(_asio_existing_target)

if(Asio_FOUND AND NOT TARGET asio::asio)
  add_library(asio::asio INTERFACE IMPORTED)
  set_target_properties(asio::asio PROPERTIES
    # SYSTEM: Asio warns a lot under -Wall -Wextra -Wpedantic; our -Werror must not see it.
    INTERFACE_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}"
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${Asio_INCLUDE_DIR}"
    # clang + libstdc++: without ASIO_HAS_CO_AWAIT, asio::awaitable/co_spawn silently vanish.
    INTERFACE_COMPILE_DEFINITIONS
      "ASIO_STANDALONE;ASIO_NO_DEPRECATED;$<$<CXX_COMPILER_ID:Clang,AppleClang>:ASIO_HAS_CO_AWAIT=1>"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()

mark_as_advanced(Asio_INCLUDE_DIR)
