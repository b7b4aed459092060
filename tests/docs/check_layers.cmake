# Keeps the layer map of docs/architecture.md true: every `#include "<dir>/..."` in a layer's
# sources names a header of the layer itself, of a layer below it, or of the public API
# (nibble/). Run by ctest as layers_include_only_lower_layers (-DSOURCE_DIR=<repo>); a
# violation names the file, the include and the layers it may use.
cmake_minimum_required(VERSION 3.25)
set(layers
    "src/runtime=runtime"
    "kernels=kernels"
    "src/gguf=gguf,runtime,kernels"
    "src/quant=quant,gguf,kernels,runtime"
    "src/tokenizer=tokenizer,gguf,runtime"
    "src/model=model,tokenizer,gguf,kernels,runtime"
    "src/graph=graph,model,kernels,runtime"
    "src/chat=chat,runtime"
    "src/sampling=sampling,runtime"
    "src/grammar=grammar,runtime"
    "src/api=api,grammar,sampling,chat,tokenizer,graph,model,quant,gguf,kernels,runtime"
    "tools/common="
    "tools/chat="
    "tools/serve=tools,sampling"
    "tools/nibble=api,graph,model,quant,tokenizer,gguf,kernels,runtime")
set(bad "")
set(checked 0)
foreach(entry IN LISTS layers)
  string(REPLACE "=" ";" parts "${entry}")
  list(GET parts 0 dir)
  list(LENGTH parts n)
  set(allowed "nibble")
  if(n GREATER 1)
    list(GET parts 1 more)
    string(REPLACE "," ";" more "${more}")
    list(APPEND allowed ${more})
  endif()
  file(GLOB_RECURSE files ${SOURCE_DIR}/${dir}/*.h ${SOURCE_DIR}/${dir}/*.cpp
       ${SOURCE_DIR}/${dir}/*.inc)
  foreach(f IN LISTS files)
    file(STRINGS ${f} includes REGEX "^[ \t]*#[ \t]*include[ \t]+\"[A-Za-z0-9_]+/")
    foreach(line IN LISTS includes)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]+\"([A-Za-z0-9_]+)/.*" "\\1" target "${line}")
      math(EXPR checked "${checked} + 1")
      if(NOT target IN_LIST allowed)
        file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
        string(REPLACE ";" ", " allowed_text "${allowed}")
        list(APPEND bad "${rel}: includes ${target}/ (${dir} may include: ${allowed_text})")
      endif()
    endforeach()
  endforeach()
endforeach()
if(checked LESS 100)
  message(FATAL_ERROR "only ${checked} layered includes found: is SOURCE_DIR (${SOURCE_DIR}) right?")
endif()
if(bad)
  string(REPLACE ";" "\n  " bad "${bad}")
  message(FATAL_ERROR "includes that cross the layer map upwards:\n  ${bad}")
endif()
message(STATUS "${checked} layered includes checked")
