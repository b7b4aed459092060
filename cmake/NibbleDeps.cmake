# Third-party code nibble builds with, all header-only in the library: xsimd (kernels), fmt
# (messages; FMT_HEADER_ONLY, so no libfmt at run time) and nlohmann-json (JSON Schema in the
# grammar layer; only inside .cpp files, never in public headers); CLI11 (the programs' option
# parsing, tools/ only). Targets: nibble_xsimd, nibble_fmt, nibble_json, nibble_cli11.
#
# Cross builds (arm64, Windows) use the host's headers, which are the same for every target.
# They are exposed through a folder of links in the build tree, so that the host's
# /usr/include, with the host C library's headers, never reaches the cross compiler's path.
function(nibble_host_header_dir out)
  set(dir ${PROJECT_BINARY_DIR}/third_party/include)
  foreach(name ${ARGN})
    find_path(nibble_host_${name}_dir ${name} PATHS /usr/include /usr/local/include
              NO_CMAKE_FIND_ROOT_PATH NO_DEFAULT_PATH)
    if(NOT nibble_host_${name}_dir)
      message(FATAL_ERROR "cannot find the ${name} headers (install the -dev package)")
    endif()
    file(MAKE_DIRECTORY ${dir})
    if(NOT EXISTS ${dir}/${name})
      file(CREATE_LINK ${nibble_host_${name}_dir}/${name} ${dir}/${name} SYMBOLIC)
    endif()
  endforeach()
  set(${out} ${dir} PARENT_SCOPE)
endfunction()

add_library(nibble_xsimd INTERFACE)
add_library(nibble_fmt INTERFACE)
add_library(nibble_json INTERFACE)
add_library(nibble_cli11 INTERFACE)
if(CMAKE_CROSSCOMPILING)
  nibble_host_header_dir(host_dir xsimd fmt nlohmann CLI)
  target_include_directories(nibble_cli11 SYSTEM INTERFACE ${host_dir})
  target_include_directories(nibble_xsimd SYSTEM INTERFACE ${host_dir})
  target_include_directories(nibble_fmt SYSTEM INTERFACE ${host_dir})
  target_include_directories(nibble_json SYSTEM INTERFACE ${host_dir})
  target_compile_definitions(nibble_fmt INTERFACE FMT_HEADER_ONLY=1)
else()
  # Debian's xsimd CMake package links a non-existent `xtl` target: use its headers directly.
  find_path(XSIMD_INCLUDE_DIR xsimd/xsimd.hpp REQUIRED)
  target_include_directories(nibble_xsimd SYSTEM INTERFACE ${XSIMD_INCLUDE_DIR})
  if(NOT NIBBLE_KERNELS_ONLY)
    find_package(fmt REQUIRED)
    target_link_libraries(nibble_fmt INTERFACE fmt::fmt-header-only)
    find_package(nlohmann_json 3 REQUIRED)
    target_link_libraries(nibble_json INTERFACE nlohmann_json::nlohmann_json)
    find_package(CLI11 2 REQUIRED)
    target_link_libraries(nibble_cli11 INTERFACE CLI11::CLI11)
  endif()
endif()
