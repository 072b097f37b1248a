#pragma once
// SqlError: what PostgreSQL puts in an ErrorResponse (or, for notices, a NoticeResponse) about
// one statement, and the SQLSTATE codes this SQL layer uses. The codes are PostgreSQL's own
// (Appendix A, "PostgreSQL Error Codes"), so clients that branch on them keep working.

#include <cstddef>
#include <string>

namespace pg::sql {

struct SqlError {
  std::string sqlstate;      // five characters, e.g. "42601"
  std::string message;       // PostgreSQL's wording wherever it has one
  std::size_t position = 0;  // 1-based position in the query, in characters (UTF-8), 0 = none
  std::string hint;          // the HINT field; empty = none
};

namespace sqlstate {
inline constexpr const char* successful_completion = "00000";  // a plain NOTICE's code
inline constexpr const char* syntax_error = "42601";
inline constexpr const char* undefined_table = "42P01";
inline constexpr const char* duplicate_table = "42P07";
inline constexpr const char* undefined_column = "42703";
inline constexpr const char* duplicate_column = "42701";
inline constexpr const char* undefined_function = "42883";
inline constexpr const char* undefined_object = "42704";
inline constexpr const char* undefined_parameter = "42P02";
inline constexpr const char* datatype_mismatch = "42804";
inline constexpr const char* invalid_schema_name = "3F000";
inline constexpr const char* invalid_text_representation = "22P02";
inline constexpr const char* numeric_value_out_of_range = "22003";
inline constexpr const char* invalid_parameter_value = "22023";
inline constexpr const char* character_not_in_repertoire = "22021";
inline constexpr const char* feature_not_supported = "0A000";
inline constexpr const char* too_many_columns = "54011";
inline constexpr const char* program_limit_exceeded = "54000";
inline constexpr const char* statement_too_complex = "54001";
inline constexpr const char* insufficient_resources = "53000";
}  // namespace sqlstate

}  // namespace pg::sql
