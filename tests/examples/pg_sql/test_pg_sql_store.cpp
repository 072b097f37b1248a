// pg_server's TableStore: PostgreSQL's semantics for the subset, all-or-nothing statements, the
// limits, and use from several threads at once.
#include <catch2/catch.hpp>

#include <atomic>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "sql/sql_parser.hpp"
#include "sql/table_store.hpp"

using namespace pg::sql;

namespace test_pg_sql_store_cpp {  // this file's names, apart from the other files of a unity build

namespace {

using Rows = std::vector<std::vector<std::optional<std::string>>>;

Statement parsed(std::string_view sql) {
  INFO(sql);
  ParseResult r = parse(sql);
  INFO((r.error ? r.error->message : std::string("no error")));
  REQUIRE_FALSE(r.error.has_value());
  REQUIRE(r.statements.size() == 1);
  return std::move(r.statements[0].statement);
}

// No Catch2 macros: for the threads.
Statement first_statement(std::string_view sql) { return parse(sql).statements.at(0).statement; }

// Runs one statement that must succeed.
Outcome run(TableStore& store, std::string_view sql) {
  INFO(sql);
  auto result = store.execute(parsed(sql));
  const auto* error = std::get_if<SqlError>(&result);
  INFO((error ? error->message : std::string("no error")));
  REQUIRE(error == nullptr);
  return std::get<Outcome>(std::move(result));
}

// Runs one statement that must fail.
SqlError failure(TableStore& store, std::string_view sql) {
  INFO(sql);
  auto result = store.execute(parsed(sql));
  REQUIRE(std::holds_alternative<SqlError>(result));
  return std::get<SqlError>(std::move(result));
}

void check_failure(TableStore& store, std::string_view sql, std::string_view sqlstate, std::string_view message,
                   std::size_t position) {
  INFO(sql);
  const SqlError e = failure(store, sql);
  CHECK(e.sqlstate == sqlstate);
  CHECK(e.message == message);
  CHECK(e.position == position);
}

Rows rows_of(TableStore& store, std::string_view sql) {
  Outcome o = run(store, sql);
  REQUIRE(o.rows.has_value());
  return std::move(o.rows->rows);
}

std::optional<std::string> v(const char* s) { return std::string(s); }
const std::optional<std::string> null = std::nullopt;

}  // namespace

TEST_CASE("type helpers give RowDescription's OIDs and sizes", "[pg_sql][store]") {
  CHECK(type_oid(ColumnType::text) == 25);
  CHECK(type_oid(ColumnType::int4) == 23);
  CHECK(type_oid(ColumnType::int8) == 20);
  CHECK(type_size(ColumnType::text) == -1);
  CHECK(type_size(ColumnType::int4) == 4);
  CHECK(type_size(ColumnType::int8) == 8);
  CHECK(type_name(ColumnType::text) == "text");
  CHECK(type_name(ColumnType::int4) == "integer");
  CHECK(type_name(ColumnType::int8) == "bigint");
}

TEST_CASE("CREATE and DROP TABLE: tags, duplicates, IF [NOT] EXISTS notices", "[pg_sql][store]") {
  TableStore store;
  const Outcome created = run(store, "CREATE TABLE t (a int)");
  CHECK(created.command_tag == "CREATE TABLE");
  CHECK_FALSE(created.rows.has_value());
  CHECK(created.notices.empty());
  CHECK(store.table_count() == 1);
  check_failure(store, "CREATE TABLE T (b text)", "42P07", "relation \"t\" already exists", 0);
  const Outcome again = run(store, "CREATE TABLE IF NOT EXISTS t (b text)");
  CHECK(again.command_tag == "CREATE TABLE");
  REQUIRE(again.notices.size() == 1);
  CHECK(again.notices[0].sqlstate == "42P07");
  CHECK(again.notices[0].message == "relation \"t\" already exists, skipping");
  CHECK(rows_of(store, "SELECT * FROM t").empty());
  CHECK(run(store, "SELECT * FROM t").rows->columns[0].name == "a");  // the first definition stays

  check_failure(store, "CREATE TABLE u (a int, b text, A bigint)", "42701", "column \"a\" specified more than once", 0);
  check_failure(store, "DROP TABLE u", "42P01", "table \"u\" does not exist", 0);
  check_failure(store, "DROP TABLE t, u", "42P01", "table \"u\" does not exist", 0);
  CHECK(store.table_count() == 1);  // t was not dropped
  const Outcome dropped = run(store, "DROP TABLE IF EXISTS u, t");
  CHECK(dropped.command_tag == "DROP TABLE");
  REQUIRE(dropped.notices.size() == 1);
  CHECK(dropped.notices[0].sqlstate == "00000");
  CHECK(dropped.notices[0].message == "table \"u\" does not exist, skipping");
  CHECK(store.table_count() == 0);
  check_failure(store, "SELECT * FROM t", "42P01", "relation \"t\" does not exist", 15);
  run(store, "CREATE TABLE t (a int)");  // the name is free again
}

TEST_CASE("INSERT coerces literals as PostgreSQL does", "[pg_sql][store]") {
  TableStore store;
  run(store, "CREATE TABLE t (i int, b bigint, s text)");
  CHECK(run(store, "INSERT INTO t VALUES (1, 2, 'x')").command_tag == "INSERT 0 1");
  CHECK(run(store, "INSERT INTO t VALUES (' -42 ', '+9223372036854775807', 42), (-2147483648, -9223372036854775808, "
                   "99999999999999999999)").command_tag == "INSERT 0 2");
  CHECK(run(store, "INSERT INTO t (s) VALUES ('only s')").command_tag == "INSERT 0 1");
  CHECK(run(store, "INSERT INTO t (s, i) VALUES (NULL, '007'), (DEFAULT, 2147483647)").command_tag == "INSERT 0 2");
  CHECK(run(store, "INSERT INTO t VALUES (3)").command_tag == "INSERT 0 1");  // the rest are NULL
  const Rows expected = {
      {v("1"), v("2"), v("x")},
      {v("-42"), v("9223372036854775807"), v("42")},
      {v("-2147483648"), v("-9223372036854775808"), v("99999999999999999999")},
      {null, null, v("only s")},
      {v("7"), null, null},
      {v("2147483647"), null, null},
      {v("3"), null, null},
  };
  CHECK(rows_of(store, "SELECT * FROM t") == expected);
  run(store, "INSERT INTO t (s) VALUES ('tab\there; ''quoted'' é')");
  CHECK(rows_of(store, "SELECT s FROM t WHERE s = 'tab\there; ''quoted'' é'") == Rows{{v("tab\there; 'quoted' é")}});
}

TEST_CASE("INSERT errors: PostgreSQL's codes, messages and positions", "[pg_sql][store][errors]") {
  TableStore store;
  run(store, "CREATE TABLE t (i int, b bigint, s text)");
  check_failure(store, "INSERT INTO t VALUES (2147483648)", "22003", "integer out of range", 0);
  check_failure(store, "INSERT INTO t VALUES (-2147483649)", "22003", "integer out of range", 0);
  check_failure(store, "INSERT INTO t VALUES (1, 9223372036854775808)", "22003", "bigint out of range", 0);
  check_failure(store, "INSERT INTO t VALUES ('abc')", "22P02", "invalid input syntax for type integer: \"abc\"", 23);
  check_failure(store, "INSERT INTO t VALUES ('')", "22P02", "invalid input syntax for type integer: \"\"", 23);
  check_failure(store, "INSERT INTO t VALUES ('1.5')", "22P02", "invalid input syntax for type integer: \"1.5\"", 23);
  check_failure(store, "INSERT INTO t VALUES (1, '1 2')", "22P02", "invalid input syntax for type bigint: \"1 2\"", 26);
  check_failure(store, "INSERT INTO t VALUES ('2147483648')", "22003",
                "value \"2147483648\" is out of range for type integer", 23);
  check_failure(store, "INSERT INTO t VALUES (1, '-9223372036854775809')", "22003",
                "value \"-9223372036854775809\" is out of range for type bigint", 26);
  check_failure(store, "INSERT INTO t VALUES (1, 2, 'x', 4)", "42601", "INSERT has more expressions than target columns", 34);
  check_failure(store, "INSERT INTO t (i, s) VALUES (1, 2, 3)", "42601", "INSERT has more expressions than target columns", 36);
  check_failure(store, "INSERT INTO t (i, s) VALUES (1)", "42601", "INSERT has more target columns than expressions", 19);
  check_failure(store, "INSERT INTO t (i, nope) VALUES (1, 2)", "42703", "column \"nope\" of relation \"t\" does not exist", 19);
  check_failure(store, "INSERT INTO t (i, s, I) VALUES (1, 2, 3)", "42701", "column \"i\" specified more than once", 22);
  check_failure(store, "INSERT INTO nope VALUES (1)", "42P01", "relation \"nope\" does not exist", 13);
  check_failure(store, "INSERT INTO t VALUES ('é', 'abc')", "22P02", "invalid input syntax for type integer: \"é\"", 23);
  CHECK(rows_of(store, "SELECT * FROM t").empty());
}

TEST_CASE("SELECT: columns, literals and aliases, rows in insertion order", "[pg_sql][store]") {
  TableStore store;
  run(store, "CREATE TABLE t (id int, name text, big int8)");
  run(store, "INSERT INTO t VALUES (3, 'c', 30), (1, 'a', NULL), (2, NULL, 20)");
  const Outcome all = run(store, "SELECT * FROM t");
  CHECK(all.command_tag == "SELECT 3");
  REQUIRE(all.rows.has_value());
  REQUIRE(all.rows->columns.size() == 3);
  CHECK(all.rows->columns[0].name == "id");
  CHECK(all.rows->columns[0].type == ColumnType::int4);
  CHECK(all.rows->columns[1].type == ColumnType::text);
  CHECK(all.rows->columns[2].type == ColumnType::int8);
  CHECK(all.rows->rows == Rows{{v("3"), v("c"), v("30")}, {v("1"), v("a"), null}, {v("2"), null, v("20")}});

  const Outcome picked = run(store, "SELECT name AS who, id, 7, 'k' AS kind, NULL, 3000000000 FROM t");
  REQUIRE(picked.rows->columns.size() == 6);
  CHECK(picked.rows->columns[0].name == "who");
  CHECK(picked.rows->columns[0].type == ColumnType::text);
  CHECK(picked.rows->columns[2].name == "?column?");
  CHECK(picked.rows->columns[2].type == ColumnType::int4);
  CHECK(picked.rows->columns[3].name == "kind");
  CHECK(picked.rows->columns[4].type == ColumnType::text);
  CHECK(picked.rows->columns[5].type == ColumnType::int8);
  CHECK(picked.rows->rows[0] == std::vector<std::optional<std::string>>{v("c"), v("3"), v("7"), v("k"), null, v("3000000000")});
  CHECK(rows_of(store, "SELECT *, id FROM t WHERE id = 1") == Rows{{v("1"), v("a"), null, v("1")}});

  const Outcome none = run(store, "SELECT FROM t");
  CHECK(none.command_tag == "SELECT 3");
  CHECK(none.rows->columns.empty());
  CHECK(none.rows->rows.size() == 3);
  check_failure(store, "SELECT id, nope FROM t", "42703", "column \"nope\" does not exist", 12);
  check_failure(store, "SELECT 99999999999999999999 FROM t", "0A000",
                "type numeric is not supported (integer beyond bigint)", 8);
}

TEST_CASE("WHERE compares by the column's type, and NULL matches nothing", "[pg_sql][store]") {
  TableStore store;
  run(store, "CREATE TABLE t (id int, name text, big bigint)");
  run(store, "INSERT INTO t VALUES (1, 'a', 10), (2, 'b', NULL), (1, NULL, -5), (NULL, '1', 3000000000)");
  CHECK(rows_of(store, "SELECT name FROM t WHERE id = 1") == Rows{{v("a")}, {null}});
  CHECK(rows_of(store, "SELECT name FROM t WHERE id = '  01 '") == Rows{{v("a")}, {null}});  // read as integer
  CHECK(rows_of(store, "SELECT id FROM t WHERE name = '1'") == Rows{{null}});
  CHECK(rows_of(store, "SELECT id FROM t WHERE big = -5") == Rows{{v("1")}});
  CHECK(rows_of(store, "SELECT id FROM t WHERE big = 3000000000") == Rows{{null}});
  CHECK(rows_of(store, "SELECT * FROM t WHERE id = NULL").empty());
  CHECK(rows_of(store, "SELECT * FROM t WHERE name = NULL").empty());
  // int4 = int8 and int8 = numeric compare without error in PostgreSQL; they just never match
  CHECK(rows_of(store, "SELECT * FROM t WHERE id = 3000000000").empty());
  CHECK(rows_of(store, "SELECT * FROM t WHERE big = 99999999999999999999").empty());
  check_failure(store, "SELECT * FROM t WHERE id = 'abc'", "22P02", "invalid input syntax for type integer: \"abc\"", 28);
  check_failure(store, "SELECT * FROM t WHERE id = '3000000000'", "22003",
                "value \"3000000000\" is out of range for type integer", 28);
  const SqlError no_operator = failure(store, "SELECT * FROM t WHERE name = 1");
  CHECK(no_operator.sqlstate == "42883");
  CHECK(no_operator.message == "operator does not exist: text = integer");
  CHECK(no_operator.position == 28);
  CHECK(no_operator.hint == "No operator matches the given name and argument types. You might need to add "
                            "explicit type casts.");
  CHECK(failure(store, "SELECT * FROM t WHERE name = 3000000000").message == "operator does not exist: text = bigint");
  check_failure(store, "SELECT * FROM t WHERE nope = 1", "42703", "column \"nope\" does not exist", 23);
}

TEST_CASE("DELETE removes matching rows and keeps the others in order", "[pg_sql][store]") {
  TableStore store;
  run(store, "CREATE TABLE t (id int, name text)");
  run(store, "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (1, 'c'), (3, NULL)");
  CHECK(run(store, "DELETE FROM t WHERE id = 1").command_tag == "DELETE 2");
  CHECK(rows_of(store, "SELECT * FROM t") == Rows{{v("2"), v("b")}, {v("3"), null}});
  CHECK(run(store, "DELETE FROM t WHERE name = NULL").command_tag == "DELETE 0");
  CHECK(run(store, "DELETE FROM t WHERE id = 9").command_tag == "DELETE 0");
  check_failure(store, "DELETE FROM t WHERE id = 'x'", "22P02", "invalid input syntax for type integer: \"x\"", 26);
  check_failure(store, "DELETE FROM nope", "42P01", "relation \"nope\" does not exist", 13);
  CHECK(run(store, "DELETE FROM t").command_tag == "DELETE 2");
  CHECK(rows_of(store, "SELECT * FROM t").empty());
  CHECK(store.stored_bytes() == 0);
}

TEST_CASE("SELECT without FROM: one row of literals, typed as PostgreSQL types them", "[pg_sql][store]") {
  TableStore store;
  const Outcome o = run(store, "SELECT 1, 'two' AS t, NULL, 3000000000, -2147483648");
  CHECK(o.command_tag == "SELECT 1");
  REQUIRE(o.rows.has_value());
  REQUIRE(o.rows->columns.size() == 5);
  CHECK(o.rows->columns[0].name == "?column?");
  CHECK(o.rows->columns[0].type == ColumnType::int4);
  CHECK(o.rows->columns[1].name == "t");
  CHECK(o.rows->columns[1].type == ColumnType::text);
  CHECK(o.rows->columns[2].type == ColumnType::text);  // unknown resolves to text
  CHECK(o.rows->columns[3].type == ColumnType::int8);
  CHECK(o.rows->columns[4].type == ColumnType::int4);
  CHECK(o.rows->rows == Rows{{v("1"), v("two"), null, v("3000000000"), v("-2147483648")}});
  const Outcome empty = run(store, "SELECT");
  CHECK(empty.command_tag == "SELECT 1");
  CHECK(empty.rows->columns.empty());
  CHECK(empty.rows->rows.size() == 1);
  check_failure(store, "SELECT 1, 99999999999999999999", "0A000", "type numeric is not supported (integer beyond bigint)", 11);
}

TEST_CASE("a refused statement changes nothing", "[pg_sql][store]") {
  TableStore store;
  run(store, "CREATE TABLE t (id int, name text)");
  run(store, "INSERT INTO t VALUES (1, 'a')");
  const std::size_t bytes = store.stored_bytes();
  CHECK(bytes > 0);
  // the bad value is in the last row: the rows before it are not stored either
  check_failure(store, "INSERT INTO t VALUES (2, 'b'), (3, 'c'), ('x', 'd')", "22P02",
                "invalid input syntax for type integer: \"x\"", 43);
  check_failure(store, "INSERT INTO t VALUES (2, 'b'), (3000000000, 'c')", "22003", "integer out of range", 0);
  failure(store, "DELETE FROM t WHERE id = 'x'");
  failure(store, "DROP TABLE t, nope");
  failure(store, "CREATE TABLE t (x int)");
  CHECK(rows_of(store, "SELECT * FROM t") == Rows{{v("1"), v("a")}});
  CHECK(store.stored_bytes() == bytes);
  CHECK(store.table_count() == 1);
}

TEST_CASE("limits: tables, columns, rows, stored bytes, result size", "[pg_sql][store][limits]") {
  SECTION("tables and columns") {
    TableStore store(Limits{2, 3, 10, 1 << 20, 1 << 20});
    run(store, "CREATE TABLE a (x int, y int, z int)");
    check_failure(store, "CREATE TABLE b (w int, x int, y int, z int)", "54011", "tables can have at most 3 columns", 0);
    run(store, "CREATE TABLE b ()");
    check_failure(store, "CREATE TABLE c (x int)", "54000", "this server holds at most 2 tables", 0);
    run(store, "DROP TABLE b");
    run(store, "CREATE TABLE c (x int)");
    CHECK(store.table_count() == 2);
  }
  SECTION("rows per table") {
    TableStore store(Limits{10, 10, 3, 1 << 20, 1 << 20});
    run(store, "CREATE TABLE t (x int)");
    run(store, "INSERT INTO t VALUES (1), (2)");
    check_failure(store, "INSERT INTO t VALUES (3), (4)", "54000", "table \"t\" can hold at most 3 rows", 0);
    CHECK(run(store, "INSERT INTO t VALUES (3)").command_tag == "INSERT 0 1");
    failure(store, "INSERT INTO t VALUES (4)");
    run(store, "DELETE FROM t WHERE x = 1");
    CHECK(run(store, "INSERT INTO t VALUES (4)").command_tag == "INSERT 0 1");
    CHECK(rows_of(store, "SELECT * FROM t") == Rows{{v("2")}, {v("3")}, {v("4")}});
  }
  SECTION("stored bytes: values and what holding them costs, NULLs too") {
    TableStore store(Limits{10, 10, 1000, 4096, 1 << 20});
    run(store, "CREATE TABLE t (s text)");
    const std::string big(3000, 'x');
    run(store, "INSERT INTO t VALUES ('" + big + "')");
    const std::size_t used = store.stored_bytes();
    CHECK(used > 3000);
    CHECK(used < 3100);
    const SqlError full = failure(store, "INSERT INTO t VALUES ('" + std::string(1100, 'y') + "')");
    CHECK(full.sqlstate == "53000");
    CHECK(full.message == "out of table storage: this server stores at most 4096 bytes of table data");
    std::string nulls = "INSERT INTO t VALUES (NULL)";
    for (int i = 0; i < 100; ++i) nulls += ", (NULL)";
    CHECK(failure(store, nulls).sqlstate == "53000");  // 101 rows of NULL are not free
    CHECK(store.stored_bytes() == used);
    run(store, "DROP TABLE t");
    CHECK(store.stored_bytes() == 0);
    run(store, "CREATE TABLE t (s text)");
    run(store, "INSERT INTO t VALUES ('" + std::string(1100, 'y') + "')");  // room again
  }
  SECTION("one SELECT's result") {
    TableStore store(Limits{10, 10, 1000, 1 << 20, 2000});
    run(store, "CREATE TABLE t (s text)");
    run(store, "INSERT INTO t VALUES ('" + std::string(1500, 'a') + "'), ('" + std::string(1500, 'b') + "')");
    CHECK(rows_of(store, "SELECT * FROM t WHERE s = '" + std::string(1500, 'a') + "'").size() == 1);
    check_failure(store, "SELECT * FROM t", "54000", "the result of this SELECT exceeds this server's limit of 2000 bytes", 0);
    CHECK(rows_of(store, "SELECT FROM t").size() == 2);  // no columns: small
  }
  SECTION("a star that expands beyond PostgreSQL's 1664 output columns") {
    TableStore store(Limits{10, 1000, 10, 1 << 20, 1 << 20});
    std::string create = "CREATE TABLE t (c0 int";
    for (int i = 1; i < 900; ++i) create += ", c" + std::to_string(i) + " int";
    run(store, create + ")");
    CHECK(run(store, "SELECT * FROM t").rows->columns.size() == 900);
    check_failure(store, "SELECT *, * FROM t", "54011", "target lists can have at most 1664 entries", 0);
  }
}

TEST_CASE("execute() refuses statements that are the server's to run", "[pg_sql][store]") {
  TableStore store;
  CHECK_THROWS_AS(store.execute(Transaction{}), std::logic_error);
  CHECK_THROWS_AS(store.execute(Listen{"x"}), std::logic_error);
  CHECK_THROWS_AS(store.execute(SelectSeries{}), std::logic_error);
  CHECK_THROWS_AS(store.execute(Set{}), std::logic_error);
}

TEST_CASE("several threads insert, select and delete at once", "[pg_sql][store][threads]") {
  TableStore store;
  run(store, "CREATE TABLE t (thread int, n int)");
  constexpr int threads = 4;
  constexpr int per_thread = 150;
  std::atomic<int> failures{0};  // Catch2's assertions are not thread-safe: count, check after
  auto worker = [&](int k) {
    const std::string id = std::to_string(k);
    auto ok = [&](std::string_view sql) {
      auto result = store.execute(first_statement(sql));
      if (std::holds_alternative<Outcome>(result)) return std::get<Outcome>(std::move(result));
      ++failures;
      return Outcome{};
    };
    for (int i = 0; i < per_thread; ++i) {
      ok("INSERT INTO t VALUES (" + id + ", " + std::to_string(i) + ")");
      // this thread's rows so far, in its order, whatever the others do meanwhile
      const Outcome mine = ok("SELECT n FROM t WHERE thread = " + id);
      if (!mine.rows || mine.rows->rows.size() != static_cast<std::size_t>(i + 1) ||
          mine.rows->rows.back() != std::vector<std::optional<std::string>>{std::to_string(i)}) {
        ++failures;
      }
      if (i % 10 == 0) {  // a table of its own, made and dropped: the catalog changes too
        ok("CREATE TABLE scratch" + id + " (x int)");
        ok("DROP TABLE scratch" + id);
      }
      ok("SELECT * FROM t");
    }
  };
  std::vector<std::thread> workers;
  for (int k = 0; k < threads; ++k) workers.emplace_back(worker, k);
  for (std::thread& w : workers) w.join();
  CHECK(failures.load() == 0);
  CHECK(rows_of(store, "SELECT * FROM t").size() == threads * per_thread);
  for (int k = 0; k < threads; ++k) {
    CHECK(rows_of(store, "SELECT n FROM t WHERE thread = " + std::to_string(k)).size() == per_thread);
  }
  CHECK(store.table_count() == 1);
  CHECK(run(store, "DELETE FROM t WHERE thread = 0").command_tag == "DELETE 150");
  CHECK(run(store, "DELETE FROM t").command_tag == "DELETE 450");
  CHECK(store.stored_bytes() == 0);
}

}  // namespace test_pg_sql_store_cpp
