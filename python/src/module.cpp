#include "bindings.hpp"

#include "sim/error.hpp"

namespace {
PyObject* scenario_error_type = nullptr;  // owned by the module; kept alive by it
}

PYBIND11_MODULE(_core, m) {
    namespace py = pybind11;
    m.doc() = "dbpoolsim's compiled core (private; use the dbpoolsim package)";
    // User/model errors become dbpoolsim.ScenarioError (a ValueError); config errors carry
    // `problems`, one "/json/path: message" string per problem.
    py::exception<dbpoolsim::error> exc_type(m, "ScenarioError", PyExc_ValueError);
    scenario_error_type = exc_type.ptr();
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const dbpoolsim::config_error& e) {
            py::object type = py::reinterpret_borrow<py::object>(scenario_error_type);
            py::object inst = type(e.what());
            inst.attr("problems") = py::cast(e.problems());
            PyErr_SetObject(scenario_error_type, inst.ptr());
        } catch (const dbpoolsim::error& e) {
            py::object type = py::reinterpret_borrow<py::object>(scenario_error_type);
            py::object inst = type(e.what());
            inst.attr("problems") = py::make_tuple(std::string(e.what()));
            PyErr_SetObject(scenario_error_type, inst.ptr());
        }
    });
    // How the core was built (cmake/pgo.cmake): the bench prints it beside its figures.
#ifdef DBPOOLSIM_PROFILE_GUIDED
    m.attr("profile_guided") = true;
#else
    m.attr("profile_guided") = false;
#endif
    dbpoolsim::python::register_scenario(m);
    dbpoolsim::python::register_run(m);
    dbpoolsim::python::register_theory(m);
}
