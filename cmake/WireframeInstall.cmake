# Install rules and the CMake package: find_package(wireframe CONFIG) -> wireframe::wireframe.
include(CMakePackageConfigHelpers)

set(WIREFRAME_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/wireframe"
  CACHE STRING "Where wireframeConfig.cmake is installed (relative to the prefix)")
mark_as_advanced(WIREFRAME_CMAKE_INSTALL_DIR)

set(_wireframe_installed wireframe)
if(TARGET wireframe_tls)
  list(APPEND _wireframe_installed wireframe_tls)
endif()
if(TARGET wireframe_prometheus)
  list(APPEND _wireframe_installed wireframe_prometheus)
endif()
install(TARGETS ${_wireframe_installed}
  EXPORT wireframeTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
  RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/wireframe"
  DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
  FILES_MATCHING PATTERN "*.hpp" PATTERN "*.ipp")

install(EXPORT wireframeTargets
  NAMESPACE wireframe::
  FILE wireframeTargets.cmake
  DESTINATION "${WIREFRAME_CMAKE_INSTALL_DIR}")

# The minimum Asio the installed config asks for (the headers #error below it).
set(WIREFRAME_ASIO_MIN_VERSION 1.22)
configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/wireframeConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/wireframeConfig.cmake"
  INSTALL_DESTINATION "${WIREFRAME_CMAKE_INSTALL_DIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/wireframeConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY SameMajorVersion)

# FindAsio.cmake ships next to the config: standalone Asio has no CMake package of its own.
install(FILES
  "${PROJECT_BINARY_DIR}/wireframeConfig.cmake"
  "${PROJECT_BINARY_DIR}/wireframeConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/FindAsio.cmake"
  DESTINATION "${WIREFRAME_CMAKE_INSTALL_DIR}")
