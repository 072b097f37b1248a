// SELECT: from a table, without FROM (literals), and generate_series.
#include <charconv>
#include <limits>
#include <system_error>

#include "sql_parser_impl.hpp"

namespace pg::sql::detail {

namespace {

constexpr const char* item_message =
    "expressions are not supported in the select list (only *, columns and literals)";

bool fits_int4(std::int64_t v) {
  return v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
}

}  // namespace

Statement Parser::select() {
  take();  // SELECT
  if (at_keyword("distinct")) unsupported(current_, "DISTINCT is not supported");
  take_keyword("all");
  if (at_series_call()) {  // SELECT generate_series(a, b) [[AS] name]
    SelectSeries series = series_call();
    if (auto name = alias()) series.column = std::move(*name);
    if (at_punct(',')) unsupported(current_, "generate_series() must be the only item in the select list");
    if (at_keyword("from")) unsupported(current_, "generate_series() in the select list of a query with FROM is not supported");
    return series;
  }
  std::vector<SelectItem> items;
  // An empty list is valid: SELECT; returns a row of no columns, SELECT FROM t rows of none.
  if (!at_statement_end() && !at_keyword("from") && !at_keyword("where")) {
    do {
      if (items.size() == max_list_entries) {
        fail_at(current_, sqlstate::too_many_columns,
                "target lists can have at most " + std::to_string(max_list_entries) + " entries");
      }
      items.push_back(select_item());
    } while (take_punct(','));
  }
  if (take_keyword("from")) return select_from(std::move(items));
  return select_without_from(std::move(items));
}

// *, a column, or a literal; then [AS] alias (not after *).
SelectItem Parser::select_item() {
  const Token t = current_;
  SelectItem item;
  item.position = position(t);
  if (at_op("*")) {
    count_entry();
    take();
    item.kind = SelectItem::Kind::star;
    return item;
  }
  if (auto lit = literal(false)) {
    item.kind = SelectItem::Kind::literal;
    item.value = std::move(*lit);
  } else if (at_name()) {
    const Token& next = lookahead();
    if (next.kind == TokenKind::punct && next.text == "(") {
      if (at_series_call()) unsupported(t, "generate_series() must be the only item in the select list");
      unsupported(t, "function " + identifier_value(t) + "() is not supported");
    }
    if (next.kind == TokenKind::punct && next.text == ".") unsupported(t, "qualified column names are not supported");
    item.kind = SelectItem::Kind::column;
    item.column = name();
  } else {
    not_a_value(t, item_message);
  }
  item.alias = alias();
  return item;
}

Statement Parser::select_from(std::vector<SelectItem> items) {
  if (at_series_call()) {  // SELECT * FROM generate_series(a, b) [[AS] name [(column)]]
    if (items.size() != 1 || items.front().kind != SelectItem::Kind::star) {
      unsupported(current_, "only SELECT * FROM generate_series(...) is supported");
    }
    SelectSeries series = series_call();
    if (auto name = alias()) series.column = std::move(*name);
    if (take_punct('(')) {
      series.column = name();
      expect_punct(')');
    }
    if (at_keyword("where")) unsupported(current_, "WHERE on generate_series() is not supported");
    if (at_punct(',')) unsupported(current_, "more than one table in FROM is not supported");
    return series;
  }
  if (at_punct('(')) unsupported(current_, "subqueries are not supported");
  Select s;
  s.items = std::move(items);
  s.table_position = position(current_);
  s.table = table_name(false);
  reject_table_alias();
  if (at_punct(',')) unsupported(current_, "more than one table in FROM is not supported");
  s.where = where_clause();
  return s;
}

// Literals only: a column cannot exist without a table (42703 as in PostgreSQL).
Statement Parser::select_without_from(std::vector<SelectItem> items) {
  if (at_keyword("where")) unsupported(current_, "WHERE without FROM is not supported");
  SelectValues values;
  for (SelectItem& item : items) {
    if (item.kind == SelectItem::Kind::star) {
      fail(sqlstate::syntax_error, "SELECT * with no tables specified is not valid", item.position);
    }
    if (item.kind == SelectItem::Kind::column) {
      fail(sqlstate::undefined_column, "column \"" + item.column + "\" does not exist", item.position);
    }
    SelectValue v;
    v.value = std::move(item.value);
    if (item.alias) v.name = std::move(*item.alias);
    values.values.push_back(std::move(v));
  }
  return values;
}

bool Parser::at_series_call() {
  if (current_.kind != TokenKind::identifier && current_.kind != TokenKind::quoted_identifier) return false;
  const Token& next = lookahead();
  return next.kind == TokenKind::punct && next.text == "(" && identifier_value(current_) == "generate_series";
}

// generate_series(start, stop): PostgreSQL also has a step and numeric and timestamp forms.
SelectSeries Parser::series_call() {
  const Token function = take();
  expect_punct('(');
  SelectSeries series;
  series.start = series_argument();
  if (!take_punct(',')) {
    fail_at(function, sqlstate::undefined_function,
            std::string("function generate_series(") + (fits_int4(series.start) ? "integer" : "bigint") +
                ") does not exist");
  }
  series.stop = series_argument();
  if (at_punct(',')) unsupported(current_, "generate_series() with a step is not supported");
  expect_punct(')');
  return series;
}

std::int64_t Parser::series_argument() {
  const Token t = current_;
  const Literal lit = value(false, "generate_series() takes integer literals only");
  if (lit.kind != Literal::Kind::integer) unsupported(t, "generate_series() takes integer literals only");
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(lit.text.data(), lit.text.data() + lit.text.size(), v);
  if (ec != std::errc{}) unsupported(t, "generate_series() over numeric values (beyond bigint) is not supported");
  return v;
}

}  // namespace pg::sql::detail
