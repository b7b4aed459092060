# The public library: nibble::nibble, static or shared, made from the objects of the internal
# layers (each source is compiled once; the static and the shared library share the objects),
# plus the install rules, the CMake package (nibbleConfig.cmake) and pkg-config files.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
find_package(Threads REQUIRED)

set(NIBBLE_LAYER_TARGETS nibble_runtime_core nibble_runtime nibble_kernels nibble_gguf
    nibble_tokenizer nibble_chat nibble_model nibble_graph nibble_sampling nibble_grammar
    nibble_api)
set(nibble_objects "")
foreach(layer ${NIBBLE_LAYER_TARGETS})
  list(APPEND nibble_objects $<TARGET_OBJECTS:${layer}>)
  if(WIN32)
    # The DLL exports what NIBBLE_API marks (dllexport), nothing else.
    target_compile_definitions(${layer} PRIVATE NIBBLE_BUILDING_SHARED)
  endif()
endforeach()

if(NIBBLE_SHARED)
  set(NIBBLE_PRIMARY nibble_shared)
else()
  set(NIBBLE_PRIMARY nibble_static)
endif()
# A top-level build makes (and installs) both; a subproject only the one it asked for.
if(PROJECT_IS_TOP_LEVEL OR NIBBLE_BUILD_TESTS)
  set(NIBBLE_LIBRARY_TARGETS nibble_static nibble_shared)
else()
  set(NIBBLE_LIBRARY_TARGETS ${NIBBLE_PRIMARY})
endif()

# 0.x releases may change the ABI with every minor version, so the soname carries both.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(NIBBLE_SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
else()
  set(NIBBLE_SOVERSION ${PROJECT_VERSION_MAJOR})
endif()

foreach(lib ${NIBBLE_LIBRARY_TARGETS})
  if(lib STREQUAL nibble_shared)
    add_library(${lib} SHARED ${nibble_objects})
    set_target_properties(${lib} PROPERTIES VERSION ${PROJECT_VERSION}
                                            SOVERSION ${NIBBLE_SOVERSION})
    target_compile_definitions(${lib} INTERFACE NIBBLE_USING_SHARED)
    if(CMAKE_SYSTEM_NAME MATCHES "Linux|Android|FreeBSD")
      # Only the public API: NIBBLE_API symbols (hidden visibility does the rest) minus the
      # std:: template instances that libstdc++ headers mark visible.
      target_link_options(${lib} PRIVATE
        -Wl,--version-script=${PROJECT_SOURCE_DIR}/cmake/nibble.map -static-libgcc)
      # Every symbol resolved at link time, except in sanitizer builds: clang leaves the
      # sanitizer runtime to the executable.
      if(NOT NIBBLE_SANITIZE)
        target_link_options(${lib} PRIVATE -Wl,--no-undefined)
      endif()
      set_property(TARGET ${lib} APPEND PROPERTY LINK_DEPENDS
                   ${PROJECT_SOURCE_DIR}/cmake/nibble.map)
    endif()
  else()
    add_library(${lib} STATIC ${nibble_objects})
  endif()
  add_library(nibble::${lib} ALIAS ${lib})
  set_target_properties(${lib} PROPERTIES OUTPUT_NAME nibble EXPORT_NAME ${lib})
  target_include_directories(${lib} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${NIBBLE_GENERATED_INCLUDE_DIR}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${lib} PUBLIC cxx_std_20)
  target_link_libraries(${lib} PRIVATE Threads::Threads)
  if(UNIX)
    target_link_libraries(${lib} PRIVATE m)
  elseif(WIN32)
    target_link_libraries(${lib} PRIVATE synchronization)  # WaitOnAddress (runtime/wait.cpp)
  endif()
endforeach()
add_library(nibble::nibble ALIAS ${NIBBLE_PRIMARY})

if(NIBBLE_INSTALL)
  set(NIBBLE_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/nibble)
  install(TARGETS ${NIBBLE_LIBRARY_TARGETS} EXPORT nibbleTargets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
          RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/nibble
                    ${NIBBLE_GENERATED_INCLUDE_DIR}/nibble
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(EXPORT nibbleTargets NAMESPACE nibble:: DESTINATION ${NIBBLE_CMAKE_DIR})
  configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/nibbleConfig.cmake.in
                                ${PROJECT_BINARY_DIR}/nibbleConfig.cmake
                                INSTALL_DESTINATION ${NIBBLE_CMAKE_DIR})
  write_basic_package_version_file(${PROJECT_BINARY_DIR}/nibbleConfigVersion.cmake
                                   COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/nibbleConfig.cmake
                ${PROJECT_BINARY_DIR}/nibbleConfigVersion.cmake
          DESTINATION ${NIBBLE_CMAKE_DIR})
  # pkg-config: nibble.pc links the library the linker finds (the shared one when both are
  # installed), nibble-static.pc the archive and what it needs.
  set(NIBBLE_PC_LIBDIR "\${exec_prefix}/${CMAKE_INSTALL_LIBDIR}")
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(NIBBLE_PC_LIBDIR "${CMAKE_INSTALL_LIBDIR}")
  endif()
  set(NIBBLE_PC_INCLUDEDIR "\${prefix}/${CMAKE_INSTALL_INCLUDEDIR}")
  if(IS_ABSOLUTE "${CMAKE_INSTALL_INCLUDEDIR}")
    set(NIBBLE_PC_INCLUDEDIR "${CMAKE_INSTALL_INCLUDEDIR}")
  endif()
  # The prefix is found from the .pc file's own place, so `cmake --install --prefix P`
  # anywhere gives working files.
  set(NIBBLE_PC_PREFIX "\${pcfiledir}")
  if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
    set(NIBBLE_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
  else()
    string(REPLACE "/" ";" libdir_parts "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
    foreach(part IN LISTS libdir_parts)
      string(APPEND NIBBLE_PC_PREFIX "/..")
    endforeach()
  endif()
  foreach(pc nibble nibble-static)
    configure_file(${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in ${PROJECT_BINARY_DIR}/${pc}.pc @ONLY)
    install(FILES ${PROJECT_BINARY_DIR}/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
  endforeach()
endif()
