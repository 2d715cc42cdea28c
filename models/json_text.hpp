// dbpoolsim models (private to .cpp files): scenario text to JSON, within limits.
//
// The one place scenario text is parsed. Beyond nlohmann's own checks (syntax, UTF-8) it
// rejects, with the JSON path of the offence: nesting deeper than max_json_depth (so no
// later step recurses without bound), a key given twice in one object (nlohmann would keep
// one silently), a number beyond the range of a double (1e400) or so small that it would be
// read as 0 (1e-400), and text longer than max_json_bytes. docs/limits.md lists the limits.
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace dbpoolsim::models {
struct scenario;
}

namespace dbpoolsim::models::detail {

inline constexpr int max_json_depth = 64;                        // nested objects/arrays
inline constexpr std::size_t max_json_bytes = 64u * 1024 * 1024;  // scenario text

/// Parse scenario text; throws config_error with one "/json/path: message" problem.
/// Polls models/interrupt.hpp once per JSON value (Ctrl-C).
nlohmann::ordered_json parse_json_text(const std::string& text);

/// `j.dump(indent)`, polling models/interrupt.hpp once per value written (a scenario with
/// millions of empirical samples takes seconds to write).
std::string dump_json_text(const nlohmann::ordered_json& j, int indent);

/// The resolved scenario as a JSON tree: what scenario_to_json dumps (models/scenario_json.cpp).
/// The result writer (models/run.cpp) dumps it once, without a dump-and-parse round trip.
nlohmann::ordered_json scenario_json_tree(const scenario& s);

}  // namespace dbpoolsim::models::detail
