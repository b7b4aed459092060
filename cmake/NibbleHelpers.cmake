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
  target_link_libraries(${name} PRIVATE ${T_LIBS} nibble_headers nibble_json GTest::gtest
                                        GTest::gtest_main)
  # Programs an emulator runs whole (scripts/test-mingw.sh): all but the slow ones.
  if(NOT "slow" IN_LIST T_LABELS)
    set_property(GLOBAL APPEND PROPERTY NIBBLE_TEST_PROGRAMS ${name})
  endif()
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
  set_property(GLOBAL APPEND PROPERTY NIBBLE_CLI_TEST_PROGRAMS ${target})
endfunction()

# Writes build/test_programs.txt: the paths of the GoogleTest programs that need no shell
# (not slow, not running the CLI), one per line, for runners that start each program once
# under an emulator (scripts/test-mingw.sh). Call once, after every test is defined.
function(nibble_write_test_program_list)
  get_property(all GLOBAL PROPERTY NIBBLE_TEST_PROGRAMS)
  get_property(cli GLOBAL PROPERTY NIBBLE_CLI_TEST_PROGRAMS)
  set(content "")
  foreach(t IN LISTS all)
    if(NOT t IN_LIST cli)
      string(APPEND content "$<TARGET_FILE:${t}>\n")
    endif()
  endforeach()
  file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/test_programs.txt CONTENT "${content}")
endfunction()
