#include "models/json_text.hpp"

#include <algorithm>
#include <memory>
#include <cstdlib>
#include <set>
#include <string_view>
#include <vector>

#include "models/interrupt.hpp"
#include "sim/error.hpp"

namespace dbpoolsim::models::detail {
namespace {

using json = nlohmann::ordered_json;

/// The first number literal that underflows (written non-zero, e.g. 1e-400, but read as 0;
/// strtod, like nlohmann's lexer, rounds it to 0): its text and its index among the
/// document's number literals (in order), or an index of -1. Strings are skipped; the text
/// is not yet known to be JSON, so this only looks for number-shaped tokens.
struct underflow {
    long index = -1;
    std::string literal;
};

underflow find_underflow(const std::string& text) {
    long count = 0;
    for (std::size_t i = 0; i < text.size();) {
        poll_interrupt();  // Ctrl-C (models/interrupt.hpp)
        const char c = text[i];
        if (c == '"') {  // skip the string, escapes included
            for (++i; i < text.size() && text[i] != '"'; ++i)
                if (text[i] == '\\') ++i;
            ++i;
            continue;
        }
        if (c != '-' && (c < '0' || c > '9')) {
            ++i;
            continue;
        }
        std::size_t j = i;
        bool nonzero = false, exponent = false, digit = false;
        while (j < text.size() && std::string_view("+-0123456789.eE").find(text[j]) != std::string_view::npos) {
            exponent = exponent || text[j] == 'e' || text[j] == 'E';
            nonzero = nonzero || (!exponent && text[j] >= '1' && text[j] <= '9');
            digit = digit || (text[j] >= '0' && text[j] <= '9');
            ++j;
        }
        const std::string token = text.substr(i, j - i);
        if (nonzero && exponent && std::strtod(token.c_str(), nullptr) == 0.0) return {count, token};
        count += digit ? 1 : 0;
        i = std::max(j, i + 1);
    }
    return {};
}

/// Where the parser is: one frame per open object or array, for the JSON path of a problem.
class json_position {
public:
    explicit json_position(underflow u) : underflow_(std::move(u)) {}

    bool on_event(json::parse_event_t event, json& parsed) {
        poll_interrupt();  // Ctrl-C (models/interrupt.hpp)
        if (event == json::parse_event_t::value && parsed.is_number() && underflow_.index >= 0 &&
            numbers_++ == underflow_.index)
            fail("number " + (underflow_.literal.size() > 40 ? underflow_.literal.substr(0, 37) + "..." : underflow_.literal) +
                 " is below the smallest double (about 4.9e-324): it would be read as 0");
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
    underflow underflow_;
    long numbers_ = 0;  // number values parsed so far
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
    json_position pos(find_underflow(text));
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

namespace {
/// nlohmann's string output, polling for Ctrl-C: the serializer writes each number, string
/// and indentation with one write_characters call.
class polling_output final : public nlohmann::detail::output_adapter_protocol<char> {
public:
    explicit polling_output(std::string& out) : out_(out) {}
    void write_character(char c) override { out_.push_back(c); }
    void write_characters(const char* s, std::size_t n) override {
        poll_interrupt();
        out_.append(s, n);
    }

private:
    std::string& out_;
};
}  // namespace

std::string dump_json_text(const json& j, int indent) {
    std::string out;
    nlohmann::detail::serializer<json> writer(std::make_shared<polling_output>(out), ' ');
    writer.dump(j, indent >= 0, false, indent >= 0 ? static_cast<unsigned>(indent) : 0u);
    return out;
}

}  // namespace dbpoolsim::models::detail
