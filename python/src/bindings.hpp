// dbpoolsim Python bindings: one register_* per area; module.cpp calls them in order.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>

#include "models/interrupt.hpp"
#include "models/scenario.hpp"

namespace dbpoolsim::python {
namespace py = pybind11;
void register_scenario(py::module_& m);
void register_run(py::module_& m);
void register_theory(py::module_& m);

/// models::interrupt_check for work done holding the GIL: runs Python's signal handlers
/// (Ctrl-C's raises KeyboardInterrupt) and throws the exception they raised.
inline void python_interrupt_check() {
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
}

/// models::scenario_from_json (call holding the GIL): Ctrl-C while a long scenario or its
/// trace file is read raises KeyboardInterrupt within a few milliseconds (models/interrupt.hpp).
inline models::scenario read_scenario(const std::string& text, const std::string& base_dir) {
    models::interrupt_scope ctrl_c(&python_interrupt_check);
    return models::scenario_from_json(text, base_dir);
}
}  // namespace dbpoolsim::python
