// dbpoolsim models (private to .cpp files): the field tables of the scenario structs, the
// enums' name tables, and the cross-field rules.
//
// The JSON reader and writer (scenario_json.cpp) and validate(const scenario&)
// (scenario_validate.cpp) use the same tables and the same rule functions, so a scenario built
// in C++ is checked exactly like one read from JSON, with the same messages.
#pragma once

#include <string>

#include "models/field_table.hpp"
#include "models/scenario.hpp"

namespace dbpoolsim::models::detail {

// The enums' name tables (models/scenario.hpp), for enum_name / enum_value.
#define DBPOOLSIM_ENUM_NAMES(E)                     \
    template <>                                     \
    struct enum_names<E> {                          \
        static constexpr auto& values = E##_names; \
    };
DBPOOLSIM_ENUM_NAMES(arrival_kind)
DBPOOLSIM_ENUM_NAMES(profile_shape)
DBPOOLSIM_ENUM_NAMES(nat_drop_mode)
DBPOOLSIM_ENUM_NAMES(fault_kind)
DBPOOLSIM_ENUM_NAMES(fleet_event_kind)
#undef DBPOOLSIM_ENUM_NAMES

// ---- field tables (models/scenario_fields.cpp) ----------------------------------------------

const field_table<scenario>& scenario_fields();  // name, description
const field_table<run_settings>& run_fields();
const field_table<arrival_settings>& arrival_fields();  // kind first
const field_table<transaction_class>& transaction_fields();
const field_table<client_settings>& client_fields();
const field_table<database_settings>& database_fields();
const field_table<network_settings>& network_fields();
const field_table<fault>& fault_fields();              // kind first
const field_table<fleet_event>& fleet_fields();        // kind first
const field_table<rate_point>& rate_point_fields();
const field_table<mmpp_state>& mmpp_state_fields();

// ---- cross-field rules (models/scenario_validate.cpp) ---------------------------------------
// Each adds "<path>/<field>: message" problems; `path` is the JSON path of the object.

void check_run(const run_settings& r, const std::string& path, problems& out);
/// `fields_ok`: the points' (states') own fields are valid; NaN marks a field already reported.
void check_profile(const rate_profile& p, const std::string& path, problems& out, bool fields_ok = true);
void check_mmpp(const mmpp_settings& m, const std::string& path, problems& out, bool fields_ok = true);
void check_client(const client_settings& c, const std::string& path, problems& out);
void check_database(const database_settings& d, const std::string& path, problems& out);
/// Names in "pools": 1-40 letters, digits or _.
bool valid_pool_name(const std::string& name);
/// Fleet event i starts no earlier than event i - 1.
void check_fleet_order(const std::vector<fleet_event>& fleet, std::size_t i, problems& out);
/// Rules across sections (leaks, fleet timing, named pools, instance count, closed loops).
void check_across_sections(const scenario& s, problems& out);

}  // namespace dbpoolsim::models::detail
