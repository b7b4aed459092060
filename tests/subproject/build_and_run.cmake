# ctest script (Subproject.BuildAndRun, label slow): nibble added with add_subdirectory to an
# app's build, compiled and run: the app must print the stories260K completion.
file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE}/tests/subproject -B ${WORK} -G ${GENERATOR}
                        -DNIBBLE_SOURCE=${SOURCE} -DBUILD_APP=ON -DCMAKE_BUILD_TYPE=Release
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configure failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK} --target app RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "build failed")
endif()
execute_process(COMMAND ${WORK}/app ${MODEL} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out MATCHES "there was a little girl named Lily")
  message(FATAL_ERROR "the app failed (${rc}):\n${out}")
endif()
