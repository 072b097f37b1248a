#pragma once
// The parser's internals, shared by its source files: sql_parser.cpp (the token helpers,
// names, literals and statement dispatch), sql_parse_tables.cpp (CREATE, DROP, INSERT, DELETE,
// WHERE), sql_parse_select.cpp (SELECT, generate_series), sql_parse_session.cpp (transactions,
// LISTEN/NOTIFY, SHOW/SET). A recursive-descent parser over one token of lookahead (two
// where the grammar needs it); errors are thrown as SqlError and caught by parse_all().

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sql_ast.hpp"
#include "sql_lexer.hpp"
#include "sql_parser.hpp"

namespace pg::sql::detail {

class Parser {
 public:
  explicit Parser(std::string_view query) : lexer_(query) {}

  ParseResult parse_all();

 private:
  // --- statements (each starts at its first keyword and stops before ';' or the end) ---
  Statement statement();
  Statement create();
  Statement create_table();
  Statement drop();
  Statement insert();
  Statement select();
  Statement remove();  // DELETE
  Statement begin();
  Statement start();
  Statement commit();
  Statement rollback();
  Statement listen();
  Statement unlisten();
  Statement notify();
  Statement show();
  Statement set();
  Statement reset();
  void finish_statement(const Statement& s);
  static std::string canonical_integer(std::string_view digits, bool negative);

  // --- pieces ---
  Column column_definition();
  ColumnType column_type();
  void varchar_length(const Token& type);
  std::vector<Literal> values_row(std::size_t width);
  std::string table_name(bool defining);
  void reject_table_alias();
  std::optional<Condition> where_clause();
  SelectItem select_item();
  Statement select_from(std::vector<SelectItem> items);
  Statement select_without_from(std::vector<SelectItem> items);
  bool at_series_call();
  SelectSeries series_call();
  std::int64_t series_argument();
  void transaction_modes();
  void chain();
  std::string var_name();
  std::string var_values();
  std::string var_value();

  // --- names and values ---
  [[nodiscard]] bool at_name() const;  // a quoted identifier or an unreserved word
  std::string name();
  std::string label();  // after AS: any word
  std::optional<std::string> alias();
  std::optional<Literal> literal(bool allow_default);
  Literal value(bool allow_default, const char* what);
  void count_entry();  // one more value, column or name for max_query_entries
  [[noreturn]] void not_a_value(const Token& t, const char* what);
  [[noreturn]] void unexpected(const Token& t);  // names what is unsupported, else 42601

  // --- tokens ---
  const Token& lookahead();
  Token take();
  [[nodiscard]] bool at_keyword(std::string_view keyword) const { return is_keyword(current_, keyword); }
  bool take_keyword(std::string_view keyword);
  void expect_keyword(std::string_view keyword);
  [[nodiscard]] bool at_punct(char c) const;
  bool take_punct(char c);
  void expect_punct(char c);
  [[nodiscard]] bool at_op(std::string_view op) const;
  [[nodiscard]] bool at_statement_end() const;
  std::size_t position(const Token& t) { return lexer_.position(t.offset); }

  // --- errors ---
  [[noreturn]] void syntax_error(const Token& t);
  [[noreturn]] void unsupported(const Token& t, std::string message);
  [[noreturn]] void fail_at(const Token& t, const char* state, std::string message);

  Lexer lexer_;
  Token current_;
  std::optional<Token> next_;
  std::size_t last_end_ = 0;  // byte offset just past the last token taken
  std::size_t entries_ = 0;   // values, columns and names in the statements so far
};

}  // namespace pg::sql::detail
