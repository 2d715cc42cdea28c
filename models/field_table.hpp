// dbpoolsim models (private to .cpp files): field tables.
//
// A field table lists the JSON fields of one scenario struct (or one pool's parameter struct)
// once: name, the member it fills, its rule, and where needed when it applies, what its
// absence means, an alias and a one-line summary. The JSON reader (read_fields), the writer
// of the resolved scenario (write_fields), the checks of a scenario built in C++
// (check_fields, used by validate) and the docs check (scenario_field_list) all come from it.
// A field's default is its member initialiser in the struct; the writer writes it from there.
//
//     const std::vector<field<run_settings>> run_fields = {
//         make_field<&run_settings::horizon_s>("horizon_s", above(0).at_most(1e9)),
//         make_field<&run_settings::replications>("replications", between(1, 100000)),
//     };
//
// Cross-field rules (warmup_s < horizon_s, ...) are not field rules: they live in
// models/scenario_validate.cpp, called by the reader and by validate().
#pragma once

#include <algorithm>
#include <iterator>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "models/json_reader.hpp"
#include "sim/format.hpp"

namespace dbpoolsim::models::detail {

// ---- enum name tables ------------------------------------------------------------------------

/// One name table per enum, used both ways: specialise with `static constexpr const char*
/// values[] = {...}` listing the JSON names in enumerator order.
template <class E>
struct enum_names;

template <class E>
const char* enum_name(E e) {
    const auto i = static_cast<std::size_t>(e);
    return i < std::size(enum_names<E>::values) ? enum_names<E>::values[i] : "?";
}

template <class E>
std::optional<E> enum_value(std::string_view name) {
    for (std::size_t i = 0; i < std::size(enum_names<E>::values); ++i)
        if (name == enum_names<E>::values[i]) return static_cast<E>(i);
    return std::nullopt;
}

template <class E>
std::vector<std::string> enum_name_list() {
    return {std::begin(enum_names<E>::values), std::end(enum_names<E>::values)};
}

template <class E>
std::string enum_names_joined() {
    std::string out;
    for (const char* n : enum_names<E>::values) out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
}

// ---- rules -----------------------------------------------------------------------------------

/// The rule on a number or integer: min (inclusive or not) and max.
struct rule {
    double min = -1e300;
    bool min_inclusive = true;
    double max = 1e300;
    bool in_order = false;  // a distribution field that counts its draws: takes a `sequence`
    constexpr rule at_most(double m) const { return {min, min_inclusive, m, in_order}; }
};
constexpr rule at_least(double m) { return {m, true}; }
constexpr rule above(double m) { return {m, false}; }
constexpr rule between(double lo, double hi) { return {lo, true, hi}; }
inline constexpr rule any_int{-2147483648.0, true, 2147483647.0};
/// A distribution whose consumer numbers its draws (distribution::sample_nth): `sequence` allowed.
inline constexpr rule counted_draws{-1e300, true, 1e300, true};

// ---- fields ----------------------------------------------------------------------------------

template <class S>
struct field {
    using reader_fn = void (*)(object_reader&, const std::string& key, const field&, S&);
    using writer_fn = void (*)(const field&, const S&, json&);
    using checker_fn = void (*)(const field&, const S&, const std::string& at, problems&);

    const char* name = "";
    const char* type = "";  // for people: number, integer, boolean, string, one of, ...
    rule limits;
    reader_fn read = nullptr;
    writer_fn write = nullptr;
    checker_fn check = nullptr;              // null: nothing to check beyond the type
    /// The member is equal in both (null for hand-written fields: compare what they write).
    bool (*same)(const S&, const S&) = nullptr;
    bool (*applies)(const S&) = nullptr;     // null: always (else e.g. only for one kind)
    const char* missing = nullptr;           // required: "missing (<this>)" when absent
    const char* alias = nullptr;             // another project's name for the field ...
    const char* alias_source = nullptr;      // ... and that project (e.g. "seeds/004")
    std::vector<std::string> allowed;        // strings: the accepted values (empty = any)
    bool omit_if_empty = false;              // strings: not written when empty
    const char* summary = "";

    field when(bool (*p)(const S&)) const { auto f = *this; f.applies = p; return f; }
    field required(const char* what) const { auto f = *this; f.missing = what; return f; }
    field aka(const char* a, const char* source) const {
        auto f = *this;
        f.alias = a, f.alias_source = source;
        return f;
    }
    field one_of(std::vector<std::string> names) const {
        auto f = *this;
        f.allowed = std::move(names);
        return f;
    }
    field reading(reader_fn r) const { auto f = *this; f.read = r; return f; }
    field checking(checker_fn c) const { auto f = *this; f.check = c; return f; }
    field omit_empty() const { auto f = *this; f.omit_if_empty = true; return f; }
    /// Read here but written at another entry of the same name (the reader's order differs).
    field read_only_here() const {
        auto f = *this;
        f.write = nullptr, f.check = nullptr, f.same = nullptr;
        return f;
    }
    /// Written (and checked) here, read at an earlier entry of the same name.
    field written_only_here() const { auto f = *this; f.read = nullptr; return f; }
    field doc(const char* s) const { auto f = *this; f.summary = s; return f; }
};

template <class S>
using field_table = std::vector<field<S>>;

namespace fields_impl {

template <class M>
struct member_traits;
template <class S, class V>
struct member_traits<V S::*> {
    using owner = S;
};

/// s.*M1.*M2... (a member of a member, e.g. arrivals.trace.time_scale).
template <auto M, auto... Ms, class T>
decltype(auto) get(T& s) {
    if constexpr (sizeof...(Ms) == 0) return (s.*M);
    else return get<Ms...>(s.*M);
}

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

/// A rule bound as an integer bound (the default rule's +-1e300 become the int64 limits).
inline long long bound(double x) {
    if (x <= -9.2e18) return std::numeric_limits<long long>::min();
    if (x >= 9.2e18) return std::numeric_limits<long long>::max();
    return static_cast<long long>(x);
}

/// A `sequence` where the field does not count its draws: the problem, else "".
inline std::string sequence_misplaced(const rule& l, const distribution& d) {
    if (!d.is_sequence() || l.in_order) return "";
    return "must not be sequence here: only database.connect_time counts its draws (docs/scenario.md, "
           "\"Distributions\"), got sequence";
}

template <class V>
void read_value(object_reader& r, const std::string& key, const rule& l,
                const std::vector<std::string>& allowed, V& v) {
    if constexpr (std::is_same_v<V, double>) {
        r.number(key, v, l.min, l.min_inclusive, l.max);
    } else if constexpr (std::is_same_v<V, int>) {
        r.integer(key, v, std::max(bound(l.min), -2147483648LL), std::min(bound(l.max), 2147483647LL));
    } else if constexpr (std::is_same_v<V, long long>) {
        r.int64(key, v, bound(l.min), bound(l.max));
    } else if constexpr (std::is_same_v<V, std::uint64_t>) {
        r.uint64(key, v);
    } else if constexpr (std::is_same_v<V, bool>) {
        r.boolean(key, v);
    } else if constexpr (std::is_same_v<V, std::string>) {
        r.string(key, v, allowed);
    } else if constexpr (std::is_enum_v<V>) {
        std::string name = enum_name(v);
        r.string(key, name, enum_name_list<V>());
        if (auto e = enum_value<V>(name)) v = *e;
    } else if constexpr (std::is_same_v<V, distribution>) {
        if (const json* j = r.raw(key))
            if (auto d = parse_distribution_at(*j, r.at(key), r.sink())) {
                if (auto b = sequence_misplaced(l, *d); !b.empty()) r.sink().add(r.at(key) + "/kind", b);
                else v = *d;
            }
    } else if constexpr (is_optional<V>::value) {  // JSON null = none
        const json* j = r.raw(key);
        if (!j || j->is_null()) return;
        if constexpr (std::is_same_v<V, std::optional<distribution>>) {
            if (auto d = parse_distribution_at(*j, r.at(key), r.sink())) {
                if (auto b = sequence_misplaced(l, *d); !b.empty()) r.sink().add(r.at(key) + "/kind", b);
                else v = *d;
            }
        } else {
            typename V::value_type x{};
            const std::size_t before = r.sink().list.size();
            read_value(r, key, l, allowed, x);
            if (r.sink().list.size() == before) v = x;
        }
    } else {
        static_assert(sizeof(V) == 0, "no JSON reader for this member type");
    }
}

template <class V>
json to_json(const V& v) {
    if constexpr (std::is_enum_v<V>) return enum_name(v);
    else if constexpr (std::is_same_v<V, distribution>) return distribution_to_json(v);
    else if constexpr (is_optional<V>::value) return v ? to_json(*v) : json(nullptr);
    else return json(v);
}

template <class V>
std::string check_value(const rule& l, const std::vector<std::string>& allowed, const V& v) {
    if constexpr (std::is_same_v<V, double>) {
        auto b = number_rule_broken(v, l.min, l.min_inclusive, l.max);
        return b.empty() ? b : b + ", got " + sim::format_number(v);
    } else if constexpr (std::is_same_v<V, int> || std::is_same_v<V, long long>) {
        auto b = integer_rule_broken(v, bound(l.min), bound(l.max));
        return b.empty() ? b : b + ", got " + std::to_string(v);
    } else if constexpr (std::is_same_v<V, std::string>) {
        if (allowed.empty()) return "";
        for (const auto& a : allowed)
            if (a == v) return "";
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return "must be one of " + list + ", got \"" + v + "\"";
    } else if constexpr (std::is_enum_v<V>) {
        if (static_cast<std::size_t>(v) < std::size(enum_names<V>::values)) return "";
        return "must be one of " + enum_names_joined<V>() + ", got enumerator " +
               std::to_string(static_cast<long long>(v));
    } else if constexpr (is_optional<V>::value && !std::is_same_v<V, std::optional<distribution>>) {
        return v ? check_value(l, allowed, *v) : std::string();
    } else if constexpr (std::is_same_v<V, distribution>) {
        return sequence_misplaced(l, v);
    } else if constexpr (std::is_same_v<V, std::optional<distribution>>) {
        return v ? sequence_misplaced(l, *v) : std::string();
    } else {
        return "";  // booleans, seeds; distributions are checked when they are made
    }
}

template <class V>
bool same_value(const V& a, const V& b) {
    if constexpr (std::is_same_v<V, distribution>) return distribution_to_json(a) == distribution_to_json(b);
    else if constexpr (std::is_same_v<V, std::optional<distribution>>)
        return a.has_value() == b.has_value() && (!a || same_value(*a, *b));
    else return a == b;
}

template <class V>
constexpr const char* type_of() {
    if constexpr (std::is_same_v<V, double>) return "number";
    else if constexpr (std::is_same_v<V, int> || std::is_same_v<V, long long>) return "integer";
    else if constexpr (std::is_same_v<V, std::uint64_t>) return "non-negative integer";
    else if constexpr (std::is_same_v<V, bool>) return "boolean";
    else if constexpr (std::is_same_v<V, std::string>) return "string";
    else if constexpr (std::is_enum_v<V>) return "one of";
    else if constexpr (std::is_same_v<V, distribution>) return "distribution";
    else if constexpr (std::is_same_v<V, std::optional<distribution>>) return "distribution or null";
    else return "number or null";
}

}  // namespace fields_impl

/// The field for member M (or M.Ms...): its reader, writer and checker follow its type
/// (number, integer, 64-bit integer, seed, boolean, string, enum with an enum_names table,
/// distribution, optional distribution or number where JSON null = none).
template <auto M, auto... Ms>
auto make_field(const char* name, rule limits = {}) {
    using S = typename fields_impl::member_traits<decltype(M)>::owner;
    using V = std::remove_cvref_t<decltype(fields_impl::get<M, Ms...>(std::declval<S&>()))>;
    field<S> f;
    f.name = name;
    f.type = fields_impl::type_of<V>();
    f.limits = limits;
    f.read = [](object_reader& r, const std::string& key, const field<S>& fd, S& s) {
        fields_impl::read_value(r, key, fd.limits, fd.allowed, fields_impl::get<M, Ms...>(s));
    };
    f.write = [](const field<S>& fd, const S& s, json& o) {
        const auto& v = fields_impl::get<M, Ms...>(s);
        if constexpr (std::is_same_v<V, std::string>)
            if (fd.omit_if_empty && v.empty()) return;
        o[fd.name] = fields_impl::to_json(v);
    };
    f.check = [](const field<S>& fd, const S& s, const std::string& at, problems& out) {
        auto broken = fields_impl::check_value(fd.limits, fd.allowed, fields_impl::get<M, Ms...>(s));
        if (!broken.empty()) out.add(at, broken);
    };
    f.same = [](const S& a, const S& b) {
        return fields_impl::same_value(fields_impl::get<M, Ms...>(a), fields_impl::get<M, Ms...>(b));
    };
    return f;
}

/// A field read and written by hand (a nested object, a null with a meaning of its own...).
template <class S>
field<S> custom_field(const char* name, const char* type, typename field<S>::reader_fn read,
                      typename field<S>::writer_fn write, typename field<S>::checker_fn check = nullptr) {
    field<S> f;
    f.name = name, f.type = type, f.read = read, f.write = write, f.check = check;
    return f;
}

/// A HikariCP-style duration: a long long member given as whole milliseconds.
template <auto M>
auto make_ms_field(const char* name) {
    auto f = make_field<M>(name);
    using S = typename fields_impl::member_traits<decltype(M)>::owner;
    f.type = "integer (ms)";
    f.read = [](object_reader& r, const std::string& key, const field<S>&, S& s) {
        r.milliseconds(key, s.*M);
    };
    f.check = nullptr;
    return f;
}

/// Read every field of the table that applies (in table order), then the aliases.
template <class S>
void read_fields(object_reader& r, const field_table<S>& table, S& s) {
    for (const auto& f : table) {
        if (f.applies && !f.applies(s)) continue;
        if (f.missing && !r.has(f.name) && !(f.alias && r.has(f.alias))) {
            r.sink().add(r.at(f.name), std::string("missing (") + f.missing + ")");
            r.know({f.name});
        }
        if (f.read) f.read(r, f.name, f, s);
        if (f.alias && r.use_alias(f.alias, f.name, f.alias_source) && f.read) f.read(r, f.alias, f, s);
    }
}

/// Write every field of the table that applies, in table order.
template <class S>
void write_fields(const field_table<S>& table, const S& s, json& o) {
    for (const auto& f : table)
        if ((!f.applies || f.applies(s)) && f.write) f.write(f, s, o);
}

/// Check every field that applies against its rule (a scenario built in C++); problems are
/// "<path>/<name>: must be ..., got <value>", as the reader words them.
template <class S>
void check_fields(const field_table<S>& table, const S& s, const std::string& path, problems& out) {
    for (const auto& f : table)
        if ((!f.applies || f.applies(s)) && f.check) f.check(f, s, path + "/" + f.name, out);
}

}  // namespace dbpoolsim::models::detail
