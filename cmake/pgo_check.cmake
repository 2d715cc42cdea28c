# cmake -DDATA=<dir> -P cmake/pgo_check.cmake: fail the build when the training run left no
# counts for the core's hot files (cmake/pgo.cmake). Without it, a changed object layout or a
# trainer that ran nothing would silently give a build with no profile feedback: GCC's
# -Wmissing-profile is off there, since the formula files (theory, ctmc) are never trained.
foreach(_hot world/world.cpp world/requests.cpp pool/pool_base.cpp pool/generic_pool.cpp arrivals.cpp)
  string(REPLACE "/" "#" _name "models/CMakeFiles/dbpoolsim_models.dir/${_hot}.gcda")
  if(NOT EXISTS "${DATA}/${_name}")
    file(GLOB _found RELATIVE "${DATA}" "${DATA}/*.gcda")
    message(FATAL_ERROR "profile-guided build: no training counts for models/${_hot} "
                        "(expected ${DATA}/${_name}; found: ${_found})")
  endif()
endforeach()
