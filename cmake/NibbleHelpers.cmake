# Shared CMake helpers for nibble.

function(nibble_setup_warnings_and_sanitizers)
  add_compile_options(-Wall -Wextra -Wno-unused-parameter)
  if(NIBBLE_SANITIZE)
    add_compile_options(-fsanitize=${NIBBLE_SANITIZE} -fno-omit-frame-pointer
                        -fno-sanitize-recover=undefined)
    add_link_options(-fsanitize=${NIBBLE_SANITIZE})
  endif()
endfunction()

# nibble_test(<name> SOURCES <files...> LIBS <targets...> LABELS <labels...> [TIMEOUT s])
# One GoogleTest binary; its tests are discovered at ctest time (works with the cross-build
# emulator) and labelled. Tests labelled `model` get NIBBLE_SHARED_DIR in the environment and
# as a compile definition.
function(nibble_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} nibble_headers GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE NIBBLE_SHARED_DIR="${NIBBLE_SHARED_DIR}"
                                             NIBBLE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 600)
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 120
    PROPERTIES TIMEOUT ${T_TIMEOUT}
               ENVIRONMENT "NIBBLE_SHARED_DIR=${NIBBLE_SHARED_DIR}")
  # Labels are applied by a script that ctest includes after the discovered tests: passed
  # through gtest_discover_tests' PROPERTIES, a list such as "unit;tokenizer" is flattened
  # and only its first label survives.
  set(labels_file "${CMAKE_CURRENT_BINARY_DIR}/${name}_labels.cmake")
  file(WRITE "${labels_file}"
       "if(${name}_TESTS)\n  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${T_LABELS}\")\nendif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${labels_file}")
endfunction()

# A test binary that runs the `nibble` program: NIBBLE_CLI_PATH is its path (in cross builds
# the emulator wrapper written by tools/CMakeLists.txt), and the program is built first.
function(nibble_test_uses_cli target)
  if(CMAKE_CROSSCOMPILING AND CMAKE_CROSSCOMPILING_EMULATOR)
    set(path ${CMAKE_BINARY_DIR}/bin/nibble-emulated)
  else()
    set(path $<TARGET_FILE:nibble_cli>)
  endif()
  target_compile_definitions(${target} PRIVATE NIBBLE_CLI_PATH="${path}")
  add_dependencies(${target} nibble_cli)
endfunction()
