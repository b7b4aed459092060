# ctest script: the shared library exports the public API and nothing else.
#   cmake -DLIB=libnibble.so -DNM=nm -DHEADER=include/nibble/nibble_c.h -P check_exports.cmake
# Allowed: the C functions (nibble_*), every one declared in the C header present; the C++
# classes and functions of include/nibble (and their typeinfo/vtables). Refused: anything
# else, such as nibble::graph::, nibble::model::, nibble::kernels:: internals or std::
# template instances.
cmake_minimum_required(VERSION 3.22)
execute_process(COMMAND ${NM} -D --defined-only -C ${LIB} OUTPUT_VARIABLE out
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NM} failed on ${LIB}")
endif()
string(REPLACE "\n" ";" lines "${out}")
set(public_cxx "Model|Session|Tokenizer|StreamDecoder|ChatTemplate|Grammar|GrammarMatcher|Error|error_code_name|stop_reason_name|set_log_handler|set_log_level|log_level|detail::bad_result_access|detail::bad_error_access")
set(n_c 0)
set(n_cxx 0)
set(bad "")
set(exported_c "")
foreach(line IN LISTS lines)
  if(line STREQUAL "")
    continue()
  endif()
  # "<address> <type> <name>"
  string(REGEX REPLACE "^[0-9a-fA-F]+ [A-Za-z] " "" sym "${line}")
  if(sym MATCHES "^nibble_[a-z0-9_]+$")
    math(EXPR n_c "${n_c} + 1")
    list(APPEND exported_c ${sym})
  elseif(sym MATCHES "^((typeinfo|typeinfo name|vtable) for )?nibble::(${public_cxx})(::|\\(|$| )"
         AND NOT sym MATCHES "::Impl::")
    math(EXPR n_cxx "${n_cxx} + 1")
  else()
    list(APPEND bad "${sym}")
  endif()
endforeach()

file(READ ${HEADER} header)
string(REGEX MATCHALL "NIBBLE_API [^;(]*[ *](nibble_[a-z0-9_]+)\\(" decls "${header}")
set(missing "")
set(n_decl 0)
foreach(d IN LISTS decls)
  string(REGEX MATCH "nibble_[a-z0-9_]+\\($" fn "${d}")
  string(REPLACE "(" "" fn "${fn}")
  math(EXPR n_decl "${n_decl} + 1")
  if(NOT fn IN_LIST exported_c)
    list(APPEND missing ${fn})
  endif()
endforeach()

message(STATUS "${LIB}: ${n_c} C functions (${n_decl} declared in the C header), ${n_cxx} C++ API symbols")
if(bad)
  list(LENGTH bad n_bad)
  string(REPLACE ";" "\n  " bad_text "${bad}")
  message(FATAL_ERROR "${n_bad} exported symbol(s) outside the public API:\n  ${bad_text}")
endif()
if(missing OR n_decl EQUAL 0)
  message(FATAL_ERROR "declared in ${HEADER} but not exported: ${missing}")
endif()
