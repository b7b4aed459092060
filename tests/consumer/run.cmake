# ctest script (Install.ConsumersBuildAndRun): install the build tree into a temporary prefix,
# then build and run applications against it as a user would:
#   1. find_package(nibble) + nibble::nibble / nibble_static / nibble_shared, C++ and C programs
#   2. pkg-config nibble (shared) and nibble-static, C program
# Each program must print the stories260K greedy completion.
set(expect ", there was a little girl named Lily. She loved to play outside in the park.")
set(prefix ${WORK_DIR}/prefix)
# A sanitizer build installs an instrumented library: its consumers link the runtime too.
set(san_flags "")
if(SANITIZE)
  set(san_flags -fsanitize=${SANITIZE})
endif()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGN}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}\n${err}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
endfunction()

function(check_output what)
  string(FIND "${run_out}" "${expect}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${what} did not print the expected completion:\n${run_out}")
  endif()
  message(STATUS "ok: ${what}")
endfunction()

run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
foreach(f include/nibble/nibble.h include/nibble/nibble_c.h include/nibble/version.h
          include/nibble/export.h lib/cmake/nibble/nibbleConfig.cmake
          lib/cmake/nibble/nibbleConfigVersion.cmake lib/pkgconfig/nibble.pc
          lib/pkgconfig/nibble-static.pc lib/libnibble.a bin/nibble bin/nibble-chat)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()
file(GLOB so ${prefix}/lib/libnibble.so*)
if(NOT so)
  message(FATAL_ERROR "cmake --install did not install libnibble.so")
endif()
# Only the public headers: nothing from src/ or kernels/.
file(GLOB_RECURSE headers RELATIVE ${prefix}/include ${prefix}/include/*)
foreach(h IN LISTS headers)
  if(NOT h MATCHES "^nibble/[a-z_]+\\.h$")
    message(FATAL_ERROR "unexpected installed header ${h}")
  endif()
endforeach()

foreach(target nibble::nibble nibble::nibble_static nibble::nibble_shared)
  string(REPLACE "::" "_" tag ${target})
  set(bin ${WORK_DIR}/build_${tag})
  run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${bin} -G ${GENERATOR} -DCMAKE_PREFIX_PATH=${prefix}
      -DCMAKE_C_COMPILER=${CC} -DCMAKE_CXX_COMPILER=${CXX} -DNIBBLE_TARGET=${target}
      -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS=${san_flags}" "-DCMAKE_CXX_FLAGS=${san_flags}"
      "-DCMAKE_EXE_LINKER_FLAGS=${san_flags}")
  run(${CMAKE_COMMAND} --build ${bin})
  foreach(app app_cpp app_c)
    run(${bin}/${app} ${MODEL})
    check_output("find_package, ${target}, ${app}")
  endforeach()
  if(target STREQUAL "nibble::nibble_shared")
    # The shared build needs nothing but the C/C++ runtime.
    run(ldd ${bin}/app_c)
    if(run_out MATCHES "fmt|spdlog|gtest|benchmark")
      message(FATAL_ERROR "the shared library pulls in third-party libraries:\n${run_out}")
    endif()
    if(NOT run_out MATCHES "libnibble\\.so")
      message(FATAL_ERROR "app_c is not linked against libnibble.so:\n${run_out}")
    endif()
  endif()
endforeach()

# pkg-config, as a Makefile user would.
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${prefix}/lib/pkgconfig)
foreach(pc nibble nibble-static)
  run(${PKG_CONFIG} --cflags --libs ${pc})
  string(STRIP "${run_out}" flags)
  separate_arguments(flags UNIX_COMMAND "${flags}")
  set(exe ${WORK_DIR}/pc_${pc})
  run(${CC} -std=c99 -Wall -Werror ${san_flags} ${SOURCE_DIR}/main.c -o ${exe} ${flags}
      -Wl,-rpath,${prefix}/lib)
  run(${exe} ${MODEL})
  check_output("pkg-config ${pc}, C")
endforeach()
