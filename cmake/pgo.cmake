# Profile-guided optimisation of the core library (issue 9; experiments/bench/README.md, "Eighth
# speed pass"). With DBPOOLSIM_PGO=ON (the wheel build's default, pyproject.toml) and GCC:
#   1. a second build of the core, instrumented (-fprofile-generate), in <build>/pgo/build: an
#      ExternalProject of this same source tree with DBPOOLSIM_PGO_PHASE=generate;
#   2. its dbpoolsim_profile runs the training list experiments/bench/pgo_training.json (the
#      standard case with every pool policy, then replication 0 of every example scenario),
#      writing branch and call counts to <build>/pgo/data;
#   3. this build compiles the core with -fprofile-use on those counts.
# Both builds strip their own build directory from the counts' file names
# (-fprofile-prefix-path), so an object of step 1 and its twin of step 3 meet on the same name.
# -fprofile-partial-training keeps code the training never ran optimised as usual (not for
# size). A change to any core source rebuilds step 1 incrementally, retrains (a few seconds)
# and recompiles the core here. Results are the same bit for bit: profile feedback changes code
# layout, inlining and branch order, never the floating-point operations
# (experiments/bench/result_hashes.py compares the two builds).

set(DBPOOLSIM_PGO_PHASE "" CACHE STRING "Internal: 'generate' in the instrumented training sub-build")
mark_as_advanced(DBPOOLSIM_PGO_PHASE)

if(DBPOOLSIM_PGO_PHASE STREQUAL "generate")
  # Step 1, inside the sub-build: the instrumented core and the training driver.
  target_compile_options(dbpoolsim_models PRIVATE -fprofile-generate=${DBPOOLSIM_PGO_DATA}
                         -fprofile-prefix-path=${CMAKE_BINARY_DIR} -fprofile-update=single)
  add_executable(dbpoolsim_profile ${PROJECT_SOURCE_DIR}/experiments/bench/profile.cpp)
  target_link_libraries(dbpoolsim_profile PRIVATE dbpoolsim::models nlohmann_json::nlohmann_json
                        dbpoolsim_warnings)
  target_link_options(dbpoolsim_profile PRIVATE -fprofile-generate)
  return()
endif()

if(NOT DBPOOLSIM_PGO)
  return()
endif()
if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  message(WARNING "DBPOOLSIM_PGO needs GCC (the profile flags and file names are GCC's); "
                  "building without it with ${CMAKE_CXX_COMPILER_ID}")
  set(DBPOOLSIM_PGO OFF)
  return()
endif()

include(ExternalProject)
set(_pgo_dir ${CMAKE_BINARY_DIR}/pgo)
set(_pgo_data ${_pgo_dir}/data)
set(_pgo_trainer ${_pgo_dir}/build/dbpoolsim_profile)
set(_pgo_list ${PROJECT_SOURCE_DIR}/experiments/bench/pgo_training.json)
set(_pgo_args
  -DCMAKE_BUILD_TYPE=${CMAKE_BUILD_TYPE}
  -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER}
  -DDBPOOLSIM_PGO_PHASE=generate
  -DDBPOOLSIM_PGO_DATA=${_pgo_data}
  -DDBPOOLSIM_BUILD_TESTS=OFF
  -DDBPOOLSIM_BUILD_PYTHON=OFF
  -DDBPOOLSIM_BUILD_FUZZERS=OFF
  -DCMAKE_RUNTIME_OUTPUT_DIRECTORY=${_pgo_dir}/build)
if(CMAKE_CXX_COMPILER_LAUNCHER)
  list(APPEND _pgo_args -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER})
endif()
foreach(_dir Boost_DIR Eigen3_DIR nlohmann_json_DIR)
  if(${_dir})
    list(APPEND _pgo_args -D${_dir}=${${_dir}})
  endif()
endforeach()
ExternalProject_Add(dbpoolsim_pgo_instrumented
  SOURCE_DIR ${PROJECT_SOURCE_DIR}
  BINARY_DIR ${_pgo_dir}/build
  CMAKE_ARGS ${_pgo_args}
  BUILD_COMMAND ${CMAKE_COMMAND} --build <BINARY_DIR> --target dbpoolsim_profile
  BUILD_ALWAYS ON
  BUILD_BYPRODUCTS ${_pgo_trainer}
  INSTALL_COMMAND ""
  USES_TERMINAL_BUILD ON)
# Old counts are removed first: GCC adds a new run's counts to an existing file.
add_custom_command(OUTPUT ${_pgo_dir}/trained.stamp
  COMMAND ${CMAKE_COMMAND} -E rm -rf ${_pgo_data}
  COMMAND ${_pgo_trainer} --train ${_pgo_list}
  COMMAND ${CMAKE_COMMAND} -DDATA=${_pgo_data} -P ${PROJECT_SOURCE_DIR}/cmake/pgo_check.cmake
  COMMAND ${CMAKE_COMMAND} -E touch ${_pgo_dir}/trained.stamp
  DEPENDS ${_pgo_trainer} ${_pgo_list} ${PROJECT_SOURCE_DIR}/cmake/pgo_check.cmake
  WORKING_DIRECTORY ${_pgo_dir}
  COMMENT "Training the instrumented core for profile-guided optimisation (cmake/pgo.cmake)"
  VERBATIM)
add_custom_target(dbpoolsim_pgo_trained DEPENDS ${_pgo_dir}/trained.stamp)
add_dependencies(dbpoolsim_pgo_trained dbpoolsim_pgo_instrumented)
add_dependencies(dbpoolsim_models dbpoolsim_pgo_trained)

target_compile_options(dbpoolsim_models PRIVATE -fprofile-use=${_pgo_data}
                       -fprofile-prefix-path=${CMAKE_BINARY_DIR} -fprofile-partial-training
                       -Wno-missing-profile)
# Every core object is recompiled after a new training run.
get_target_property(_pgo_sources dbpoolsim_models SOURCES)
get_target_property(_pgo_source_dir dbpoolsim_models SOURCE_DIR)
list(TRANSFORM _pgo_sources PREPEND ${_pgo_source_dir}/ REGEX "^[^/]")
set_source_files_properties(${_pgo_sources} DIRECTORY ${_pgo_source_dir}
                            PROPERTIES OBJECT_DEPENDS ${_pgo_dir}/trained.stamp)
