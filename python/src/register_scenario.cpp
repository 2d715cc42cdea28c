#include "bindings.hpp"

#include "models/scenario.hpp"

namespace dbpoolsim::python {

void register_scenario(py::module_& m) {
    m.def("resolve_scenario",
          [](const std::string& text, const std::string& base_dir) {
              auto s = read_scenario(text, base_dir);  // Ctrl-C: KeyboardInterrupt (bindings.hpp)
              python_interrupt_check();                // a Ctrl-C since the last poll
              return models::scenario_to_json(s);
          },
          py::arg("scenario_json"), py::arg("base_dir") = "",
          "Validate a scenario (JSON text) and return it fully resolved (JSON text). Relative "
          "trace files are resolved against base_dir (empty = the current directory). "
          "Raises ScenarioError listing every problem.");
    m.def("default_scenario_json", [] { return models::scenario_to_json(models::default_scenario()); },
          "Every default, as resolved scenario JSON.");
    m.def("pool_kinds", &models::pool_kind_list, "Registered pool kinds with a summary each.");
    m.def(
        "scenario_fields",
        [] {
            std::vector<std::tuple<std::string, std::string, std::string, std::string, std::string>> out;
            for (const auto& f : models::scenario_field_list())
                out.emplace_back(f.section, f.name, f.type, f.default_json, f.summary);
            return out;
        },
        "Every field of the scenario structs' field tables: (section, name, type, default JSON, "
        "summary). The docs check compares docs/scenario.md with it.");
}

}  // namespace dbpoolsim::python
