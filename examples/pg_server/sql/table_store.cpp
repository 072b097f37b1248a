// TableStore: statements against the shared tables. Errors are thrown as SqlError inside and
// returned by execute(); nothing is changed before a statement has been checked whole.
#include "table_store.hpp"

#include <algorithm>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "sql_parser.hpp"
#include "sql_values.hpp"

namespace pg::sql {

namespace {

using detail::Value;

[[noreturn]] void throw_error(const char* state, std::string message, std::size_t position = 0) {
  throw SqlError{state, std::move(message), position, {}};
}

// What a row costs to hold: its vector, each value's optional<string>, each value's bytes.
std::size_t row_cost(const std::vector<Value>& row) {
  std::size_t bytes = sizeof(std::vector<Value>) + row.size() * sizeof(Value);
  for (const Value& v : row) bytes += v ? v->size() : 0;
  return bytes;
}

std::optional<std::size_t> column_index(const std::vector<Column>& columns, std::string_view name) {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i].name == name) return i;
  }
  return std::nullopt;
}

// PostgreSQL checks the count first, then duplicates (42701, no position).
void check_columns(const std::vector<Column>& columns, std::size_t max_columns) {
  if (columns.size() > max_columns) {
    throw_error(sqlstate::too_many_columns, "tables can have at most " + std::to_string(max_columns) + " columns");
  }
  for (std::size_t i = 0; i < columns.size(); ++i) {
    for (std::size_t k = 0; k < i; ++k) {
      if (columns[k].name == columns[i].name) {
        throw_error(sqlstate::duplicate_column, "column \"" + columns[i].name + "\" specified more than once");
      }
    }
  }
}

// The column a WHERE compares, and the value it must hold; inactive = every row.
struct Filter {
  bool active = false;
  std::size_t column = 0;
  Value target;  // nullopt: `= NULL`, which no row matches

  [[nodiscard]] bool matches(const std::vector<Value>& row) const {
    return !active || (target && row[column] && *row[column] == *target);
  }
};

Filter make_filter(const std::vector<Column>& columns, const std::optional<Condition>& where) {
  if (!where) return Filter{};
  const auto index = column_index(columns, where->column);
  if (!index) throw_error(sqlstate::undefined_column, "column \"" + where->column + "\" does not exist", where->column_position);
  return Filter{true, *index, detail::compare_value(where->value, columns[*index].type, where->operator_position)};
}

Value literal_value(const Literal& v) {
  if (v.kind == Literal::Kind::null) return std::nullopt;
  return v.text;
}

// PostgreSQL's limit on a target list after * is expanded (also: RowDescription's count is
// an int16).
void check_result_width(std::size_t columns) {
  if (columns > max_list_entries) {
    throw_error(sqlstate::too_many_columns,
                "target lists can have at most " + std::to_string(max_list_entries) + " entries");
  }
}

}  // namespace

std::variant<Outcome, SqlError> TableStore::execute(const Statement& s) {
  try {
    if (const auto* c = std::get_if<CreateTable>(&s)) return create(*c);
    if (const auto* d = std::get_if<DropTable>(&s)) return drop(*d);
    if (const auto* i = std::get_if<Insert>(&s)) return insert(*i);
    if (const auto* q = std::get_if<Select>(&s)) return select(*q);
    if (const auto* v = std::get_if<SelectValues>(&s)) return select_values(*v);
    if (const auto* r = std::get_if<Delete>(&s)) return remove(*r);
  } catch (SqlError& e) {
    return std::move(e);
  }
  throw std::logic_error("TableStore::execute: not a table statement");
}

std::size_t TableStore::table_count() const {
  std::shared_lock lock(mutex_);
  return tables_.size();
}

std::size_t TableStore::stored_bytes() const {
  std::shared_lock lock(mutex_);
  return bytes_;
}

Outcome TableStore::create(const CreateTable& s) {
  std::unique_lock lock(mutex_);
  if (tables_.contains(s.table)) {
    std::string message = "relation \"" + s.table + "\" already exists";
    if (!s.if_not_exists) throw_error(sqlstate::duplicate_table, std::move(message));
    return Outcome{"CREATE TABLE", std::nullopt, {SqlError{sqlstate::duplicate_table, message + ", skipping", 0, {}}}};
  }
  check_columns(s.columns, limits_.max_columns);
  if (tables_.size() >= limits_.max_tables) {
    throw_error(sqlstate::program_limit_exceeded,
                "this server holds at most " + std::to_string(limits_.max_tables) + " tables");
  }
  tables_.emplace(s.table, Table{s.columns, {}, 0});
  return Outcome{"CREATE TABLE", std::nullopt, {}};
}

// All named tables must exist (or IF EXISTS) before any is dropped.
Outcome TableStore::drop(const DropTable& s) {
  std::unique_lock lock(mutex_);
  Outcome out{"DROP TABLE", std::nullopt, {}};
  for (const std::string& name : s.tables) {
    if (tables_.contains(name)) continue;
    if (!s.if_exists) throw_error(sqlstate::undefined_table, "table \"" + name + "\" does not exist");
    out.notices.push_back(SqlError{sqlstate::successful_completion, "table \"" + name + "\" does not exist, skipping", 0, {}});
  }
  for (const std::string& name : s.tables) {
    auto it = tables_.find(name);
    if (it == tables_.end()) continue;  // missing, or named twice
    bytes_ -= it->second.bytes;
    tables_.erase(it);
  }
  return out;
}

Outcome TableStore::insert(const Insert& s) {
  std::unique_lock lock(mutex_);
  Table& t = table(s.table, s.table_position);
  std::vector<Row> rows = insert_rows(t, s);
  std::size_t bytes = 0;
  for (const Row& row : rows) bytes += row_cost(row);
  check_capacity(s.table, t, rows.size(), bytes);
  const std::size_t needed = t.rows.size() + rows.size();
  if (t.rows.capacity() < needed) t.rows.reserve(std::max(needed, 2 * t.rows.capacity()));
  std::move(rows.begin(), rows.end(), std::back_inserter(t.rows));  // cannot throw: reserved
  t.bytes += bytes;
  bytes_ += bytes;
  return Outcome{"INSERT 0 " + std::to_string(rows.size()), std::nullopt, {}};
}

// The new rows, each value coerced to its column's type; columns not named are NULL (no
// column has a default).
std::vector<TableStore::Row> TableStore::insert_rows(const Table& t, const Insert& s) const {
  std::vector<std::size_t> targets;
  if (s.columns.empty()) {
    for (std::size_t i = 0; i < t.columns.size(); ++i) targets.push_back(i);
  }
  std::vector<bool> named(t.columns.size(), false);
  for (const ColumnRef& c : s.columns) {
    const auto index = column_index(t.columns, c.name);
    if (!index) {
      throw_error(sqlstate::undefined_column,
                  "column \"" + c.name + "\" of relation \"" + s.table + "\" does not exist", c.position);
    }
    if (named[*index]) throw_error(sqlstate::duplicate_column, "column \"" + c.name + "\" specified more than once", c.position);
    named[*index] = true;
    targets.push_back(*index);
  }
  std::vector<Row> rows;
  rows.reserve(s.rows.size());
  for (const std::vector<Literal>& values : s.rows) {
    if (values.size() > targets.size()) {
      throw_error(sqlstate::syntax_error, "INSERT has more expressions than target columns",
                  values[targets.size()].position);
    }
    if (!s.columns.empty() && values.size() < targets.size()) {
      throw_error(sqlstate::syntax_error, "INSERT has more target columns than expressions",
                  s.columns[values.size()].position);
    }
    Row row(t.columns.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      row[targets[i]] = detail::store_value(values[i], t.columns[targets[i]].type);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

void TableStore::check_capacity(const std::string& name, const Table& t, std::size_t rows, std::size_t bytes) const {
  if (rows > limits_.max_rows_per_table - t.rows.size()) {
    throw_error(sqlstate::program_limit_exceeded,
                "table \"" + name + "\" can hold at most " + std::to_string(limits_.max_rows_per_table) + " rows");
  }
  if (bytes > limits_.max_bytes - bytes_) {
    throw_error(sqlstate::insufficient_resources,
                "out of table storage: this server stores at most " + std::to_string(limits_.max_bytes) +
                    " bytes of table data");
  }
}

Outcome TableStore::select(const Select& s) const {
  std::shared_lock lock(mutex_);
  const Table& t = table(s.table, s.table_position);
  ResultSet result;
  std::vector<std::optional<std::size_t>> sources;  // per output column: a table column, or
  std::vector<Value> constants;                      // (nullopt) this literal
  for (const SelectItem& item : s.items) {
    if (item.kind == SelectItem::Kind::star) {
      for (std::size_t i = 0; i < t.columns.size(); ++i) {
        result.columns.push_back(t.columns[i]);
        sources.emplace_back(i);
        constants.emplace_back();
      }
      continue;
    }
    if (item.kind == SelectItem::Kind::literal) {
      result.columns.push_back(Column{item.alias.value_or("?column?"), detail::literal_type(item.value)});
      sources.emplace_back();
      constants.push_back(literal_value(item.value));
      continue;
    }
    const auto index = column_index(t.columns, item.column);
    if (!index) throw_error(sqlstate::undefined_column, "column \"" + item.column + "\" does not exist", item.position);
    result.columns.push_back(Column{item.alias.value_or(item.column), t.columns[*index].type});
    sources.emplace_back(index);
    constants.emplace_back();
  }
  check_result_width(result.columns.size());
  const Filter filter = make_filter(t.columns, s.where);
  std::size_t bytes = 0;
  for (const Row& row : t.rows) {
    if (!filter.matches(row)) continue;
    Row out;
    out.reserve(sources.size());
    for (std::size_t i = 0; i < sources.size(); ++i) out.push_back(sources[i] ? row[*sources[i]] : constants[i]);
    bytes += row_cost(out);
    if (bytes > limits_.max_result_bytes) {
      throw_error(sqlstate::program_limit_exceeded,
                  "the result of this SELECT exceeds this server's limit of " +
                      std::to_string(limits_.max_result_bytes) + " bytes");
    }
    result.rows.push_back(std::move(out));
  }
  std::string tag = "SELECT " + std::to_string(result.rows.size());
  return Outcome{std::move(tag), std::move(result), {}};
}

// No table: no lock.
Outcome TableStore::select_values(const SelectValues& s) const {
  check_result_width(s.values.size());
  ResultSet result;
  Row row;
  for (const SelectValue& v : s.values) {
    result.columns.push_back(Column{v.name, detail::literal_type(v.value)});
    row.push_back(literal_value(v.value));
  }
  result.rows.push_back(std::move(row));
  return Outcome{"SELECT 1", std::move(result), {}};
}

Outcome TableStore::remove(const Delete& s) {
  std::unique_lock lock(mutex_);
  Table& t = table(s.table, s.table_position);
  const Filter filter = make_filter(t.columns, s.where);
  std::size_t count = 0;
  std::size_t bytes = 0;
  for (const Row& row : t.rows) {
    if (!filter.matches(row)) continue;
    ++count;
    bytes += row_cost(row);
  }
  if (count > 0) std::erase_if(t.rows, [&filter](const Row& row) { return filter.matches(row); });
  t.bytes -= bytes;
  bytes_ -= bytes;
  return Outcome{"DELETE " + std::to_string(count), std::nullopt, {}};
}

TableStore::Table& TableStore::table(const std::string& name, std::size_t position) {
  auto it = tables_.find(name);
  if (it == tables_.end()) throw_error(sqlstate::undefined_table, "relation \"" + name + "\" does not exist", position);
  return it->second;
}

const TableStore::Table& TableStore::table(const std::string& name, std::size_t position) const {
  auto it = tables_.find(name);
  if (it == tables_.end()) throw_error(sqlstate::undefined_table, "relation \"" + name + "\" does not exist", position);
  return it->second;
}

}  // namespace pg::sql
