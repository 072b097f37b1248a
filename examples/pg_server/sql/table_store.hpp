#pragma once
// TableStore: pg_server's database, shared by every session (and so every worker thread).
//
// Locking: one std::shared_mutex for the whole store. SELECTs share it; CREATE, DROP, INSERT and
// DELETE take it alone. Per-table locks would let writers of different tables run together,
// but the limits below are store-wide (table count, stored bytes) and must be checked and
// charged in the same step as the change, and a statement touches one table anyway: for a mock
// server one lock is the simpler correct choice. Results are copied out under the lock, so no
// reference into the store escapes it.
//
// Every statement is all-or-nothing: it is checked whole (types, columns, limits) before
// anything changes, so a refused one changes nothing.

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <variant>
#include <vector>

#include "sql_ast.hpp"
#include "sql_error.hpp"

namespace pg::sql {

struct Limits {
  std::size_t max_tables = 1000;              // 54000 beyond
  std::size_t max_columns = 100;              // per table (PostgreSQL allows 1600): 54011 beyond
  std::size_t max_rows_per_table = 1'000'000;  // 54000 beyond
  // Stored bytes, all tables together: each value's text plus a fixed cost per value and per
  // row (what holding it costs, so a million NULLs are not free). 53000 beyond.
  std::size_t max_bytes = std::size_t{256} << 20;
  // One SELECT's result, counted the same way: a result is built in memory before it is sent,
  // so concurrent big SELECTs must not multiply the store's size. 54000 beyond.
  std::size_t max_result_bytes = std::size_t{64} << 20;
};

struct ResultSet {
  std::vector<Column> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // text format; nullopt = NULL
};

struct Outcome {
  std::string command_tag;  // as PostgreSQL's: "CREATE TABLE", "INSERT 0 3", "SELECT 2", ...
  std::optional<ResultSet> rows;
  // NOTICEs to send before CommandComplete (e.g. DROP TABLE IF EXISTS of a missing table).
  std::vector<SqlError> notices;
};

class TableStore {
 public:
  explicit TableStore(Limits limits = {}) : limits_(limits) {}

  // Runs CreateTable, DropTable, Insert, Select, SelectValues or Delete. Any other statement is
  // the server's to run: passing one here throws std::logic_error.
  std::variant<Outcome, SqlError> execute(const Statement& s);

  [[nodiscard]] std::size_t table_count() const;
  [[nodiscard]] std::size_t stored_bytes() const;  // as counted against Limits::max_bytes

 private:
  using Row = std::vector<std::optional<std::string>>;
  struct Table {
    std::vector<Column> columns;
    std::vector<Row> rows;  // in insertion order
    std::size_t bytes = 0;  // row_cost() of all rows
  };

  Outcome create(const CreateTable& s);
  Outcome drop(const DropTable& s);
  Outcome insert(const Insert& s);
  Outcome select(const Select& s) const;
  Outcome select_values(const SelectValues& s) const;
  Outcome remove(const Delete& s);

  Table& table(const std::string& name, std::size_t position);
  const Table& table(const std::string& name, std::size_t position) const;
  std::vector<Row> insert_rows(const Table& t, const Insert& s) const;
  void check_capacity(const std::string& name, const Table& t, std::size_t rows, std::size_t bytes) const;

  Limits limits_;
  mutable std::shared_mutex mutex_;
  std::map<std::string, Table, std::less<>> tables_;
  std::size_t bytes_ = 0;
};

}  // namespace pg::sql
