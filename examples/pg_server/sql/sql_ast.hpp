#pragma once
// The statements of pg_server's SQL subset, as sql::parse() produces them.
//
// Positions (`position`, `*_position`) are PostgreSQL error positions: 1-based, counted in
// characters of the whole query string (not of the statement), 0 = unknown. The table store
// puts them in the errors it reports about a statement (an unknown column, a bad integer).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace pg::sql {

enum class ColumnType { text, int4, int8 };

struct Column {
  std::string name;
  ColumnType type = ColumnType::text;
};

// The type's SQL name, as PostgreSQL's messages spell it: "text", "integer", "bigint".
constexpr std::string_view type_name(ColumnType t) {
  switch (t) {
    case ColumnType::int4: return "integer";
    case ColumnType::int8: return "bigint";
    case ColumnType::text: break;
  }
  return "text";
}

// pg_type OIDs, for RowDescription.
constexpr std::uint32_t type_oid(ColumnType t) {
  switch (t) {
    case ColumnType::int4: return 23;
    case ColumnType::int8: return 20;
    case ColumnType::text: break;
  }
  return 25;
}

// pg_type.typlen, for RowDescription: -1 = variable length.
constexpr std::int16_t type_size(ColumnType t) {
  switch (t) {
    case ColumnType::int4: return 4;
    case ColumnType::int8: return 8;
    case ColumnType::text: break;
  }
  return -1;
}

struct Literal {
  enum class Kind { null, integer, string };
  Kind kind = Kind::null;
  // integer: canonical decimal ("-12": sign only when negative, no leading zeros); it may be
  // beyond the bigint range (PostgreSQL would call it numeric). string: the unescaped value.
  std::string text;
  std::size_t position = 0;
};

struct ColumnRef {
  std::string name;
  std::size_t position = 0;
};

// WHERE column = value.
struct Condition {
  std::string column;
  Literal value;
  std::size_t column_position = 0;
  std::size_t operator_position = 0;  // of '=' (PostgreSQL reports type errors of `=` there)
};

struct CreateTable {
  std::string table;
  std::vector<Column> columns;  // may be empty: PostgreSQL allows CREATE TABLE t ()
  bool if_not_exists = false;
};

struct DropTable {
  std::vector<std::string> tables;  // DROP TABLE a, b: all or none
  bool if_exists = false;
};

struct Insert {
  std::string table;
  std::size_t table_position = 0;
  std::vector<ColumnRef> columns;          // empty: the table's columns, in order
  std::vector<std::vector<Literal>> rows;  // the parser makes them all the same length
};

struct SelectItem {
  enum class Kind { star, column, literal };
  Kind kind = Kind::star;
  std::string column;                // Kind::column
  Literal value;                     // Kind::literal
  std::optional<std::string> alias;  // AS name
  std::size_t position = 0;
};

// SELECT items FROM table [WHERE column = value].
struct Select {
  std::vector<SelectItem> items;  // may be empty: SELECT FROM t returns rows of no columns
  std::string table;
  std::size_t table_position = 0;
  std::optional<Condition> where;
};

struct SelectValue {
  Literal value;
  std::string name = "?column?";  // the AS alias, or PostgreSQL's name for an unnamed column
};

// SELECT without FROM: one row of literals (no values: SELECT; returns one row of no columns).
struct SelectValues {
  std::vector<SelectValue> values;
};

// SELECT * FROM generate_series(start, stop) or SELECT generate_series(start, stop): the
// server streams it. The type is integer when both ends fit in one, bigint otherwise.
struct SelectSeries {
  std::int64_t start = 0;
  std::int64_t stop = 0;
  std::string column = "generate_series";
};

struct Delete {
  std::string table;
  std::size_t table_position = 0;
  std::optional<Condition> where;
};

struct Transaction {
  enum Kind { begin, commit, rollback };  // END is commit, ABORT is rollback
  Kind kind = begin;
  bool start_transaction = false;  // written START TRANSACTION: PostgreSQL's tag is then
                                   // "START TRANSACTION", not "BEGIN"
};

struct Listen {
  std::string channel;
};

struct Unlisten {
  std::string channel;
  bool all = false;  // UNLISTEN *
};

struct Notify {
  std::string channel;
  std::string payload;  // not length-checked here: the server checks it when it runs NOTIFY
};

struct Show {
  std::string name;  // lower case; SHOW ALL is "all", SHOW TIME ZONE "timezone"
};

// SET name TO|= value, SET TIME ZONE, SET NAMES, RESET name.
struct Set {
  std::string name;   // lower case; TIME ZONE is "timezone", NAMES "client_encoding"
  std::string value;  // a list is joined with ", " (SET search_path TO a, b: "a, b")
  bool to_default = false;  // SET name TO DEFAULT, or RESET name: value is empty
  bool reset = false;       // written RESET (PostgreSQL's tag is then "RESET")
  bool local = false;       // SET LOCAL: until the end of the transaction
};

using Statement = std::variant<CreateTable, DropTable, Insert, Select, SelectValues, SelectSeries,
                               Delete, Transaction, Listen, Unlisten, Notify, Show, Set>;

struct ParsedStatement {
  Statement statement;
  std::size_t offset = 0;  // byte offset of the statement's first token in the query
  std::size_t length = 0;  // bytes up to the end of its last token (the ';' not included)
};

}  // namespace pg::sql
