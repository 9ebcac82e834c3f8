# Installs the SDK (headers, static library, CMake package), the billdrop binary, the plugins and
# the bundled example data, so that `find_package(billdrop)` works for out-of-tree plugins.
include(CMakePackageConfigHelpers)

install(DIRECTORY sdk/include/billdrop DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}" COMPONENT sdk)
install(TARGETS billdrop_sdk EXPORT billdropTargets
  ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT sdk)
install(EXPORT billdropTargets NAMESPACE billdrop::
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/billdrop" COMPONENT sdk)

configure_package_config_file(cmake/billdropConfig.cmake.in
  "${PROJECT_BINARY_DIR}/billdropConfig.cmake"
  INSTALL_DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/billdrop")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/billdropConfigVersion.cmake"
  COMPATIBILITY SameMajorVersion)
install(FILES "${PROJECT_BINARY_DIR}/billdropConfig.cmake"
              "${PROJECT_BINARY_DIR}/billdropConfigVersion.cmake"
              cmake/BilldropPlugin.cmake
              cmake/billdrop_plugin.map
  DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/billdrop" COMPONENT sdk)

install(DIRECTORY templates/plugin/ DESTINATION "${CMAKE_INSTALL_DATADIR}/billdrop/templates/plugin"
  COMPONENT sdk)
