# install: headers, man pages, both libraries, a pkg-config file and a CMake package (find_package(ringfold)).
include(CMakePackageConfigHelpers)

install(FILES api/ringfold.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY api/ringfold DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(DIRECTORY ${RF_MAN_DIR} DESTINATION ${CMAKE_INSTALL_MANDIR})
install(TARGETS ringfold ringfold_static EXPORT ringfoldTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT ringfoldTargets NAMESPACE ringfold:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ringfold)

configure_package_config_file(cmake/ringfoldConfig.cmake.in
  ${PROJECT_BINARY_DIR}/ringfoldConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ringfold)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ringfoldConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ringfoldConfig.cmake ${PROJECT_BINARY_DIR}/ringfoldConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ringfold)

# The .pc file finds the prefix from where it is installed (${pcfiledir}), so
# `cmake --install --prefix X` ships one that points into X.
file(RELATIVE_PATH RF_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
string(REGEX REPLACE "/$" "" RF_PC_TO_PREFIX "${RF_PC_TO_PREFIX}")
configure_file(cmake/ringfold.pc.in ${PROJECT_BINARY_DIR}/ringfold.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ringfold.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# gdb commands for ringfold programs (tools/gdb, docs/observability.md)
install(FILES tools/gdb/ringfold-gdb.py DESTINATION ${CMAKE_INSTALL_DATADIR}/ringfold)
