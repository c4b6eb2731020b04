# Helpers so that each directory's CMakeLists.txt is one line per module, file or test.

# Compiler warnings and sanitizers, attached per target (no global flags).
add_library(gptbook_build_flags INTERFACE)
target_compile_options(gptbook_build_flags INTERFACE
  $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor>
  $<$<AND:$<CXX_COMPILER_ID:GNU,Clang>,$<BOOL:${GPTBOOK_WERROR}>>:-Werror>)
# gptbook is built where it runs (a laptop, a course machine). -march=native lets the element-wise
# loops (GELU, dropout masks, softmax, AdamW) use AVX2/AVX-512; BLAS picks its kernels at run time
# either way.
if(GPTBOOK_NATIVE)
  target_compile_options(gptbook_build_flags INTERFACE $<$<CXX_COMPILER_ID:GNU,Clang>:-march=native>)
endif()
if(GPTBOOK_SANITIZE)
  target_compile_options(gptbook_build_flags INTERFACE -fsanitize=${GPTBOOK_SANITIZE} -fno-omit-frame-pointer)
  target_link_options(gptbook_build_flags INTERFACE -fsanitize=${GPTBOOK_SANITIZE})
endif()

# Precompiled headers. Parsing Armadillo, nlohmann/json and Catch2 takes about 5 s, and every test
# file includes them; precompiled, each kind of target parses them once. GCC uses a precompiled
# header only under the flags it was made with, so there is one per kind: the first target of a
# kind makes it and the others of that kind reuse it. The libraries are position-independent where
# the Python module links them (-fPIC); the tests' executables and object libraries get neither
# -fPIE nor -fPIC, so that they can share theirs. -DGPTBOOK_PCH=OFF builds without them.
option(GPTBOOK_PCH "Precompile the heavy headers (Armadillo, nlohmann/json, Catch2)" ON)
set(GPTBOOK_PCH_HEADERS <armadillo> <nlohmann/json.hpp> <algorithm> <cmath> <cstdint> <filesystem>
    <functional> <map> <memory> <optional> <sstream> <string> <vector>)

# gptbook_precompile(TARGET KIND): KIND is "library" or "tests" (Catch2 executables and their objects).
function(gptbook_precompile target kind)
  if(NOT GPTBOOK_PCH)
    return()
  endif()
  if(kind STREQUAL "tests")
    set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE OFF)
  endif()
  get_property(owner GLOBAL PROPERTY gptbook_pch_owner_${kind})
  if(owner)
    target_precompile_headers(${target} REUSE_FROM ${owner})
    return()
  endif()
  set(headers ${GPTBOOK_PCH_HEADERS})
  if(kind STREQUAL "tests")
    list(APPEND headers <catch2/catch.hpp>)
  endif()
  target_precompile_headers(${target} PRIVATE ${headers})
  set_property(GLOBAL PROPERTY gptbook_pch_owner_${kind} ${target})
endfunction()

# gptbook_add_module(NAME SOURCES a.cpp b.cpp DEPS gptbook::core ...)
# Creates the library gptbook_NAME with the alias gptbook::NAME; headers are included as
# "gptbook/NAME/file.hpp" from the src/ root.
function(gptbook_add_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(gptbook_${name} ${ARG_SOURCES})
  add_library(gptbook::${name} ALIAS gptbook_${name})
  target_compile_features(gptbook_${name} PUBLIC cxx_std_20)
  target_include_directories(gptbook_${name} PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/src>)
  target_link_libraries(gptbook_${name} PUBLIC ${ARG_DEPS} PRIVATE gptbook_build_flags)
  gptbook_precompile(gptbook_${name} library)
endfunction()

# gptbook_add_test(NAME SOURCES test_a.cpp ... DEPS gptbook::nn ... [LABELS ch04 ...])
# One Catch2 executable per module; every TEST_CASE becomes its own CTest test.
function(gptbook_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} gptbook_test_main gptbook_build_flags)
  gptbook_precompile(${name} tests)
  catch_discover_tests(${name} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR} TEST_LIST ${name}_TESTS)
  # Catch2 2.13 splits list-valued PROPERTIES (several labels) into separate arguments, so labels and
  # environment are set by a CTest include file that runs after the discovered tests' own.
  set(properties_file ${CMAKE_CURRENT_BINARY_DIR}/${name}_properties.cmake)
  file(WRITE ${properties_file}
    "if(DEFINED ${name}_TESTS)\n"
    "  set_tests_properties(\${${name}_TESTS} PROPERTIES LABELS \"${ARG_LABELS}\" ENVIRONMENT \"OMP_NUM_THREADS=${GPTBOOK_TEST_THREADS}\")\n"
    "endif()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${properties_file})
endfunction()

# Under GPTBOOK_CUDA=EMULATE, the target's .cu sources are translated (tools/cuda_emulator/
# translate.py) into C++ for the host compiler, and the target includes the emulator's CUDA
# headers; with a real toolkit nvcc compiles them and this does nothing.
function(gptbook_cuda_sources target)
  if(NOT GPTBOOK_CUDA_EMULATED)
    return()
  endif()
  get_target_property(sources ${target} SOURCES)
  set(translated)
  foreach(source IN LISTS sources)
    if(NOT source MATCHES "\\.cu$")
      list(APPEND translated ${source})
      continue()
    endif()
    cmake_path(ABSOLUTE_PATH source BASE_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR} OUTPUT_VARIABLE input)
    cmake_path(GET input STEM stem)
    cmake_path(GET input PARENT_PATH input_dir)
    set(output ${CMAKE_CURRENT_BINARY_DIR}/emulated/${target}/${stem}.cpp)
    add_custom_command(OUTPUT ${output}
      COMMAND ${GPTBOOK_CUDA_TRANSLATE} ${input} ${output} --depfile ${output}.d
              -I ${PROJECT_SOURCE_DIR}/src
      DEPENDS ${input} ${GPTBOOK_CUDA_TRANSLATE}
      DEPFILE ${output}.d
      COMMENT "Translating ${source} for the CUDA emulator"
      VERBATIM)
    list(APPEND translated ${output})
    # nvcc hands the host compiler's warnings only the host code; device code that compares
    # threadIdx.x (unsigned) with an int is legal CUDA that -Wsign-compare would reject here.
    set_source_files_properties(${output} PROPERTIES COMPILE_OPTIONS -Wno-sign-compare)
    target_include_directories(${target} PRIVATE ${input_dir}) # its quoted includes
  endforeach()
  set_property(TARGET ${target} PROPERTY SOURCES ${translated})
  target_link_libraries(${target} PUBLIC gptbook_cuda_emulator)
endfunction()
