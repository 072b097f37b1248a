#pragma once
// Literal values into column types, as PostgreSQL coerces constants. Integers are kept as their
// canonical decimal text (what PostgreSQL prints), so equal values have equal text and a WHERE
// compares strings. All functions throw SqlError; TableStore::execute() turns it into a result.

#include <cstdint>
#include <optional>
#include <string>

#include "sql_ast.hpp"
#include "sql_error.hpp"

namespace pg::sql::detail {

using Value = std::optional<std::string>;  // nullopt = NULL

// A value to store in a column of `type` (INSERT): an integer literal out of the column's range
// is 22003; a string into an integer column is read as the type's input function does (22P02,
// 22003, reported at the literal); an integer into a text column is its text.
Value store_value(const Literal& v, ColumnType type);

// What `column = v` compares the column's values with, or nullopt when no row can match (NULL).
// A text column against an integer literal has no operator (42883, at `operator_position`).
Value compare_value(const Literal& v, ColumnType type, std::size_t operator_position);

// The type of a literal selected as a column: integer, bigint, or text (strings and NULL, as
// PostgreSQL resolves an unknown-type output column); beyond bigint (numeric) is 0A000.
ColumnType literal_type(const Literal& v);

}  // namespace pg::sql::detail
