#pragma once
// sql::parse(): a simple-query string to the statements of pg_server's SQL subset.
//
// The whole string is parsed before anything runs, as PostgreSQL does: parsing stops at the
// first error and returns the statements before it with the error; the caller runs none of
// them then. Errors are PostgreSQL's: 42601 syntax_error ("syntax error at or near ..."), or
// 0A000 feature_not_supported for valid SQL outside the subset, with the position of the
// offending token. Empty statements (";;", only comments) are skipped; a query with none parses
// to no statements (the server answers EmptyQueryResponse).
//
// Bounds: the parser holds one token and one lookahead (views into the query), nothing nests
// (no subqueries or parenthesized expressions, so no recursion), and what it builds is capped
// below: per list as PostgreSQL caps them, and per query (every value, column and name counts
// against max_query_entries), so the statements' size stays a few MiB whatever the query.

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "sql_ast.hpp"
#include "sql_error.hpp"

namespace pg::sql {

inline constexpr std::size_t max_statements = 10'000;      // per query string (54000)
inline constexpr std::size_t max_list_entries = 1'664;     // PostgreSQL's target-list limit (54011)
inline constexpr std::size_t max_table_columns = 1'600;    // PostgreSQL's limit (54011)
inline constexpr std::size_t max_insert_rows = 10'000;     // VALUES rows per INSERT (54000)
inline constexpr std::size_t max_query_entries = 100'000;  // values, columns, names per query (54001)

struct ParseResult {
  std::vector<ParsedStatement> statements;
  std::optional<SqlError> error;
};

ParseResult parse(std::string_view query);

}  // namespace pg::sql
