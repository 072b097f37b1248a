// CREATE TABLE, DROP TABLE, INSERT, DELETE and WHERE.
#include <algorithm>
#include <array>

#include "sql_parser_impl.hpp"

namespace pg::sql::detail {

namespace {

// Objects PostgreSQL can CREATE or DROP besides tables, sorted: 0A000, not 42601.
constexpr std::array<std::string_view, 34> other_objects = {
    "access",    "aggregate", "cast",        "collation",    "conversion", "database",
    "domain",    "event",     "extension",   "foreign",      "function",   "group",
    "index",     "language",  "materialized", "operator",    "or",         "owned",
    "policy",    "procedure", "publication", "role",         "routine",    "rule",
    "schema",    "sequence",  "server",      "statistics",   "subscription", "tablespace",
    "text",      "trigger",   "type",        "view"};
// "unique" (CREATE UNIQUE INDEX) and "user" are reserved words: checked apart.

// PostgreSQL types this subset does not store, sorted: 0A000 rather than "does not exist".
constexpr std::array<std::string_view, 40> other_types = {
    "bigserial", "bit",      "bool",      "boolean",  "box",       "bpchar",    "bytea",
    "cidr",      "circle",   "date",      "decimal",  "float",     "float4",    "float8",
    "inet",      "int2",     "interval",  "json",     "jsonb",     "line",      "macaddr",
    "money",     "name",     "numeric",   "oid",      "point",     "polygon",   "real",
    "serial",    "serial2",  "serial4",   "serial8",  "smallint",  "smallserial", "time",
    "timestamp", "timestamptz", "timetz", "uuid",     "xml"};

// Words that start a column constraint, after a column's type.
constexpr std::array<std::string_view, 11> constraint_words = {
    "check", "collate", "constraint", "default",  "deferrable", "generated",
    "initially", "not", "null",       "primary",  "references"};

// Words that start a table constraint, in place of a column.
constexpr std::array<std::string_view, 7> table_constraint_words = {
    "check", "constraint", "exclude", "foreign", "like", "primary", "unique"};

template <std::size_t N>
bool contains(const std::array<std::string_view, N>& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

constexpr std::int64_t max_varchar_length = 10'485'760;  // PostgreSQL's

}  // namespace

Statement Parser::create() {
  take();  // CREATE
  if (take_keyword("table")) return create_table();
  const Token t = current_;
  const std::string word = t.kind == TokenKind::identifier ? lower_ascii(t.text) : std::string();
  if (word == "temp" || word == "temporary" || word == "global" || word == "local") {
    unsupported(t, "temporary tables are not supported");
  }
  if (word == "unlogged") unsupported(t, "unlogged tables are not supported");
  if (word == "or") unsupported(t, "CREATE OR REPLACE is not supported");
  if (contains(other_objects, word) || word == "unique" || word == "user") {
    unsupported(t, "CREATE " + upper_ascii(word) + " is not supported");
  }
  syntax_error(t);
}

Statement Parser::create_table() {
  CreateTable ct;
  if (take_keyword("if")) {
    expect_keyword("not");
    expect_keyword("exists");
    ct.if_not_exists = true;
  }
  ct.table = table_name(true);
  if (at_keyword("as")) unsupported(current_, "CREATE TABLE AS is not supported");
  if (at_keyword("partition") || at_keyword("of")) unsupported(current_, "typed and partitioned tables are not supported");
  expect_punct('(');
  if (take_punct(')')) return ct;  // CREATE TABLE t (): valid, a table of no columns
  do {
    if (ct.columns.size() == max_table_columns) {
      fail_at(current_, sqlstate::too_many_columns,
              "tables can have at most " + std::to_string(max_table_columns) + " columns");
    }
    ct.columns.push_back(column_definition());
  } while (take_punct(','));
  expect_punct(')');
  return ct;
}

Column Parser::column_definition() {
  if (current_.kind == TokenKind::identifier && contains(table_constraint_words, lower_ascii(current_.text))) {
    unsupported(current_, "table constraints are not supported");
  }
  Column column;
  column.name = name();
  column.type = column_type();
  if (at_punct('[')) unsupported(current_, "array types are not supported");
  if (current_.kind == TokenKind::identifier && contains(constraint_words, lower_ascii(current_.text))) {
    unsupported(current_, "column constraints are not supported");
  }
  return column;
}

// text, varchar[(n)], character varying[(n)] are text; int, integer, int4 are int4;
// bigint, int8 are int8. A quoted type name keeps its case, as in PostgreSQL.
ColumnType Parser::column_type() {
  const Token t = current_;
  if (t.kind != TokenKind::identifier && t.kind != TokenKind::quoted_identifier) syntax_error(t);
  take();
  const std::string type = identifier_value(t);
  if (type == "text") return ColumnType::text;
  if (type == "int" || type == "integer" || type == "int4") return ColumnType::int4;
  if (type == "bigint" || type == "int8") return ColumnType::int8;
  if (type == "varchar" || ((type == "character" || type == "char") && take_keyword("varying"))) {
    varchar_length(t);
    return ColumnType::text;
  }
  if (type == "character" || type == "char") unsupported(t, "type character is not supported (use text)");
  if (type == "double" && at_keyword("precision")) unsupported(t, "type double precision is not supported");
  if (contains(other_types, type)) unsupported(t, "type " + type + " is not supported");
  fail_at(t, sqlstate::undefined_object, "type \"" + type + "\" does not exist");
}

// The optional (n) of varchar: checked as PostgreSQL does, then dropped (the column is text).
void Parser::varchar_length(const Token& type) {
  if (!take_punct('(')) return;
  const Token n = current_;
  if (n.kind != TokenKind::integer) syntax_error(n);
  take();
  const std::string digits = canonical_integer(n.text, false);
  if (digits == "0") fail_at(type, sqlstate::invalid_parameter_value, "length for type varchar must be at least 1");
  if (digits.size() > 8 || std::stoll(digits) > max_varchar_length) {
    fail_at(type, sqlstate::invalid_parameter_value,
            "length for type varchar cannot exceed " + std::to_string(max_varchar_length));
  }
  expect_punct(')');
}

// [public.]name. There is one schema; another one does not exist.
std::string Parser::table_name(bool defining) {
  const Token first = current_;
  std::string table = name();
  if (!take_punct('.')) return table;
  const std::string schema = std::move(table);
  table = name();
  if (schema == "public") return table;
  if (defining) fail_at(first, sqlstate::invalid_schema_name, "schema \"" + schema + "\" does not exist");
  fail_at(first, sqlstate::undefined_table, "relation \"" + schema + "." + table + "\" does not exist");
}

void Parser::reject_table_alias() {
  if (at_keyword("as") || at_name()) unsupported(current_, "table aliases are not supported");
}

Statement Parser::drop() {
  take();  // DROP
  const Token what = current_;
  if (!take_keyword("table")) {
    const std::string word = what.kind == TokenKind::identifier ? lower_ascii(what.text) : std::string();
    if (contains(other_objects, word) || word == "user") unsupported(what, "DROP " + upper_ascii(word) + " is not supported");
    syntax_error(what);
  }
  DropTable d;
  if (take_keyword("if")) {
    expect_keyword("exists");
    d.if_exists = true;
  }
  do {
    if (d.tables.size() == max_list_entries) {
      fail_at(current_, sqlstate::program_limit_exceeded,
              "DROP TABLE names at most " + std::to_string(max_list_entries) + " tables");
    }
    d.tables.push_back(table_name(true));
  } while (take_punct(','));
  if (!take_keyword("cascade")) take_keyword("restrict");  // no dependencies here: both the same
  return d;
}

Statement Parser::insert() {
  take();  // INSERT
  expect_keyword("into");
  Insert ins;
  ins.table_position = position(current_);
  ins.table = table_name(false);
  if (at_keyword("as")) unsupported(current_, "table aliases are not supported");  // INSERT's needs AS
  if (take_punct('(')) {
    do {
      if (ins.columns.size() == max_list_entries) {
        fail_at(current_, sqlstate::too_many_columns,
                "target lists can have at most " + std::to_string(max_list_entries) + " entries");
      }
      ColumnRef column;
      column.position = position(current_);
      column.name = name();
      ins.columns.push_back(std::move(column));
    } while (take_punct(','));
    expect_punct(')');
  }
  if (at_keyword("default")) unsupported(current_, "INSERT ... DEFAULT VALUES is not supported");
  if (at_keyword("select")) unsupported(current_, "INSERT ... SELECT is not supported");
  if (at_keyword("overriding")) unsupported(current_, "OVERRIDING is not supported");
  expect_keyword("values");
  do {
    if (ins.rows.size() == max_insert_rows) {
      fail_at(current_, sqlstate::program_limit_exceeded,
              "INSERT takes at most " + std::to_string(max_insert_rows) + " VALUES rows");
    }
    ins.rows.push_back(values_row(ins.rows.empty() ? 0 : ins.rows.front().size()));
  } while (take_punct(','));
  return ins;
}

// ( value, ... ); `width` is the first row's length (0 for the first row itself).
std::vector<Literal> Parser::values_row(std::size_t width) {
  expect_punct('(');
  std::vector<Literal> row;
  do {
    if (row.size() == max_list_entries) {
      fail_at(current_, sqlstate::too_many_columns,
              "target lists can have at most " + std::to_string(max_list_entries) + " entries");
    }
    row.push_back(value(true, "expressions are not supported in VALUES (only integer, 'string', NULL and DEFAULT)"));
    if (!at_punct(',') && !at_punct(')')) unexpected(current_);
  } while (take_punct(','));
  expect_punct(')');
  if (width != 0 && row.size() != width) {
    fail(sqlstate::syntax_error, "VALUES lists must all be the same length", row.front().position);
  }
  return row;
}

Statement Parser::remove() {
  take();  // DELETE
  expect_keyword("from");
  Delete d;
  d.table_position = position(current_);
  d.table = table_name(false);
  reject_table_alias();
  if (at_keyword("using")) unsupported(current_, "DELETE ... USING is not supported");
  d.where = where_clause();
  return d;
}

// [WHERE column = literal]
std::optional<Condition> Parser::where_clause() {
  if (!take_keyword("where")) return std::nullopt;
  static constexpr const char* only = "only WHERE column = value is supported";
  Condition c;
  c.column_position = position(current_);
  const TokenKind kind = current_.kind;
  if (kind == TokenKind::integer || kind == TokenKind::string || kind == TokenKind::escape_string) {
    unsupported(current_, only);  // value = column
  }
  if (!at_name()) not_a_value(current_, only);
  if (lookahead().kind == TokenKind::punct && (lookahead().text == "." || lookahead().text == "(")) {
    unsupported(current_, only);
  }
  c.column = name();
  if (!at_op("=")) unexpected(current_);
  c.operator_position = position(current_);
  take();
  c.value = value(false, only);
  return c;
}

}  // namespace pg::sql::detail
