// Constants into column types: PostgreSQL 15's int4in/int8in and its constant coercions.
#include "sql_values.hpp"

#include <charconv>
#include <limits>
#include <string_view>
#include <system_error>

namespace pg::sql::detail {

namespace {

[[noreturn]] void throw_error(const char* state, std::string message, std::size_t position = 0,
                              std::string hint = {}) {
  throw SqlError{state, std::move(message), position, std::move(hint)};
}

std::optional<std::int64_t> to_int64(std::string_view canonical) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(canonical.data(), canonical.data() + canonical.size(), v);
  if (ec != std::errc{} || end != canonical.data() + canonical.size()) return std::nullopt;
  return v;
}

bool fits(std::int64_t v, ColumnType type) {
  if (type == ColumnType::int4) {
    return v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
  }
  return true;
}

// The SQL type PostgreSQL gives an integer literal.
std::string_view integer_literal_type(const std::string& canonical) {
  const auto v = to_int64(canonical);
  if (!v) return "numeric";
  return fits(*v, ColumnType::int4) ? "integer" : "bigint";
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// int4in/int8in's syntax: [blanks] [+|-] digits [blanks]. Canonical text, or nullopt.
std::optional<std::string> read_integer(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  bool negative = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    negative = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  const std::size_t first = s.find_first_not_of('0');
  if (first == std::string_view::npos) return "0";
  return std::string(negative ? "-" : "") + std::string(s.substr(first));
}

// A string literal read as an integer column's input (the literal is PostgreSQL's "unknown").
std::string integer_from_string(const Literal& v, ColumnType type) {
  const std::string name(type_name(type));
  const auto canonical = read_integer(v.text);
  if (!canonical) {
    throw_error(sqlstate::invalid_text_representation,
                "invalid input syntax for type " + name + ": \"" + v.text + "\"", v.position);
  }
  const auto n = to_int64(*canonical);
  if (!n || !fits(*n, type)) {
    throw_error(sqlstate::numeric_value_out_of_range,
                "value \"" + v.text + "\" is out of range for type " + name, v.position);
  }
  return *canonical;
}

}  // namespace

Value store_value(const Literal& v, ColumnType type) {
  switch (v.kind) {
    case Literal::Kind::null:
      return std::nullopt;
    case Literal::Kind::string:
      return type == ColumnType::text ? v.text : integer_from_string(v, type);
    case Literal::Kind::integer:
      break;
  }
  if (type == ColumnType::text) return v.text;
  const auto n = to_int64(v.text);
  if (!n || !fits(*n, type)) {  // a cast of an int8 or numeric constant: no position
    throw_error(sqlstate::numeric_value_out_of_range,
                type == ColumnType::int4 ? "integer out of range" : "bigint out of range");
  }
  return v.text;
}

Value compare_value(const Literal& v, ColumnType type, std::size_t operator_position) {
  switch (v.kind) {
    case Literal::Kind::null:
      return std::nullopt;
    case Literal::Kind::string:
      return type == ColumnType::text ? v.text : integer_from_string(v, type);
    case Literal::Kind::integer:
      break;
  }
  if (type == ColumnType::text) {
    throw_error(sqlstate::undefined_function,
                "operator does not exist: text = " + std::string(integer_literal_type(v.text)),
                operator_position,
                "No operator matches the given name and argument types. You might need to add "
                "explicit type casts.");
  }
  // PostgreSQL compares across integer types (int4 = int8 = numeric): an out-of-range literal
  // is no error, it matches nothing, and its canonical text equals no stored value.
  return v.text;
}

ColumnType literal_type(const Literal& v) {
  if (v.kind != Literal::Kind::integer) return ColumnType::text;
  const std::string_view type = integer_literal_type(v.text);
  if (type == "numeric") {
    throw_error(sqlstate::feature_not_supported, "type numeric is not supported (integer beyond bigint)",
                v.position);
  }
  return type == "integer" ? ColumnType::int4 : ColumnType::int8;
}

}  // namespace pg::sql::detail
