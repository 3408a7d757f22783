# Fails when a C++ file of the project is not formatted by .clang-format (run from ctest).
file(GLOB_RECURSE sources
  ${SOURCE_DIR}/common/*.cpp ${SOURCE_DIR}/common/*.h
  ${SOURCE_DIR}/scheduler/*.cpp ${SOURCE_DIR}/scheduler/*.h
  ${SOURCE_DIR}/worker/*.cpp ${SOURCE_DIR}/worker/*.h
  ${SOURCE_DIR}/gpu/*.cpp ${SOURCE_DIR}/gpu/*.h ${SOURCE_DIR}/gpu/*.cu
  ${SOURCE_DIR}/storage-gateway/*.cpp ${SOURCE_DIR}/storage-gateway/*.h
  ${SOURCE_DIR}/ledger-adapter/*.cpp ${SOURCE_DIR}/ledger-adapter/*.h
  ${SOURCE_DIR}/cli/*.cpp ${SOURCE_DIR}/cli/*.h
  ${SOURCE_DIR}/bench/*.cpp
  ${SOURCE_DIR}/tests/*.cpp ${SOURCE_DIR}/tests/*.h)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${sources}
                RESULT_VARIABLE rc ERROR_VARIABLE errors)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "not formatted (run clang-format -i on these):\n${errors}")
endif()
list(LENGTH sources count)
message(STATUS "${count} files formatted")
