#include "models/json_text.hpp"

#include <algorithm>
#include <set>
#include <vector>

#include "sim/error.hpp"

namespace dbpoolsim::models::detail {
namespace {

using json = nlohmann::ordered_json;

/// Where the parser is: one frame per open object or array, for the JSON path of a problem.
class json_position {
public:
    bool on_event(json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
            case json::parse_event_t::array_start:
                if (frames_.size() >= static_cast<std::size_t>(max_json_depth))
                    fail("nested deeper than " + std::to_string(max_json_depth) + " levels (the limit)");
                frames_.push_back({event == json::parse_event_t::object_start, {}, {}, 0});
                break;
            case json::parse_event_t::key: {
                frame& f = frames_.back();
                f.key = parsed.get<std::string>();
                if (!f.keys.insert(f.key).second) fail("key given twice in the same object");
                break;
            }
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                frames_.pop_back();
                element_done();
                break;
            case json::parse_event_t::value: element_done(); break;
        }
        return true;
    }

    /// The JSON path of the value being parsed ("" at the root).
    std::string path() const {
        std::string p;
        for (const frame& f : frames_) p += "/" + (f.object ? f.key : std::to_string(f.index));
        return p;
    }

    [[noreturn]] void fail(const std::string& msg) const {
        const std::string p = path();
        throw config_error({(p.empty() ? "/" : p) + ": " + msg});
    }

private:
    struct frame {
        bool object;
        std::set<std::string> keys;  // objects: the keys seen so far
        std::string key;             // objects: the key of the member being parsed
        std::size_t index;           // arrays: the index of the element being parsed
    };
    void element_done() {
        if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
    }
    std::vector<frame> frames_;
};

}  // namespace

json parse_json_text(const std::string& text) {
    if (text.size() > max_json_bytes)
        throw config_error({"/: scenario text is " + std::to_string(text.size()) + " bytes, more than the limit of " +
                            std::to_string(max_json_bytes) + " bytes"});
    // nlohmann stops at a NUL byte as if the text ended there; JSON text never holds one.
    if (const auto nul = text.find('\0'); nul != std::string::npos) {
        const auto line = 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(nul), '\n');
        const auto bol = text.rfind('\n', nul);
        const auto column = nul - (bol == std::string::npos ? 0 : bol + 1) + 1;
        throw config_error({"/: invalid JSON: a NUL byte at line " + std::to_string(line) + ", column " +
                            std::to_string(column) + " (JSON text never holds one; in a string, write \\u0000)"});
    }
    json_position pos;
    try {
        return json::parse(text, [&](int, json::parse_event_t e, json& parsed) { return pos.on_event(e, parsed); });
    } catch (const json::parse_error& e) {
        // nlohmann's message: "[json.exception.parse_error.101] parse error at line 3, column 5: ..."
        const std::string msg = e.what();
        const auto p = msg.find("] ");
        throw config_error({"/: invalid JSON: " + (p == std::string::npos ? msg : msg.substr(p + 2))});
    } catch (const json::out_of_range& e) {
        // 406: "number overflow parsing '1e400'", the only out_of_range the parser throws.
        const std::string msg = e.what();
        const auto a = msg.find('\''), b = msg.rfind('\'');
        const std::string number = a != std::string::npos && b > a ? msg.substr(a + 1, b - a - 1) : "?";
        pos.fail("number " + (number.size() > 40 ? number.substr(0, 37) + "..." : number) +
                 " is beyond the range of a double (about 1.8e308)");
    }
}

}  // namespace dbpoolsim::models::detail
