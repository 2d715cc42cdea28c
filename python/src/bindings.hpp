// dbpoolsim Python bindings: one register_* per area; module.cpp calls them in order.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

namespace dbpoolsim::python {
namespace py = pybind11;
void register_scenario(py::module_& m);
void register_run(py::module_& m);
void register_theory(py::module_& m);
}  // namespace dbpoolsim::python
