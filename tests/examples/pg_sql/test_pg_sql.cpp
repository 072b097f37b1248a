// pg_server's SQL parser: every statement form, PostgreSQL's lexical rules, the errors (code,
// message, position) and the limits.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <variant>

#include "sql/sql_parser.hpp"

using namespace pg::sql;

namespace test_pg_sql_cpp {  // this file's names, apart from the other files of a unity build

namespace {

// The one statement `sql` parses to, as a T.
template <class T>
T only(std::string_view sql) {
  INFO(sql);
  const ParseResult r = parse(sql);
  INFO((r.error ? r.error->message : std::string("no error")));
  REQUIRE_FALSE(r.error.has_value());
  REQUIRE(r.statements.size() == 1);
  const T* s = std::get_if<T>(&r.statements[0].statement);
  REQUIRE(s != nullptr);
  return *s;
}

// The error `sql` fails to parse with.
SqlError error_of(std::string_view sql) {
  INFO(sql);
  const ParseResult r = parse(sql);
  REQUIRE(r.error.has_value());
  return *r.error;
}

void check_error(std::string_view sql, std::string_view sqlstate, std::string_view message, std::size_t position) {
  INFO(sql);
  const SqlError e = error_of(sql);
  CHECK(e.sqlstate == sqlstate);
  CHECK(e.message == message);
  CHECK(e.position == position);
}

void check_unsupported(std::string_view sql, std::string_view message, std::size_t position) {
  check_error(sql, "0A000", message, position);
}

}  // namespace

TEST_CASE("CREATE TABLE: names, types, IF NOT EXISTS", "[pg_sql][parser]") {
  const auto ct = only<CreateTable>("create table IF not EXISTS Items (ID int, Name TEXT, n BIGINT, "
                                    "a integer, b int4, c int8, d varchar, e varchar(20), f character varying(3))");
  CHECK(ct.table == "items");
  CHECK(ct.if_not_exists);
  REQUIRE(ct.columns.size() == 9);
  CHECK(ct.columns[0].name == "id");
  CHECK(ct.columns[0].type == ColumnType::int4);
  CHECK(ct.columns[1].name == "name");
  CHECK(ct.columns[1].type == ColumnType::text);
  CHECK(ct.columns[2].type == ColumnType::int8);
  CHECK(ct.columns[3].type == ColumnType::int4);
  CHECK(ct.columns[4].type == ColumnType::int4);
  CHECK(ct.columns[5].type == ColumnType::int8);
  CHECK(ct.columns[6].type == ColumnType::text);
  CHECK(ct.columns[7].type == ColumnType::text);
  CHECK(ct.columns[8].type == ColumnType::text);

  CHECK_FALSE(only<CreateTable>("CREATE TABLE t (a int)").if_not_exists);
  CHECK(only<CreateTable>("CREATE TABLE t ()").columns.empty());  // valid in PostgreSQL
  CHECK(only<CreateTable>("CREATE TABLE public.t (a int)").table == "t");
  const auto quoted = only<CreateTable>(R"(CREATE TABLE "My Table" ("Col" "int4", "select" text))");
  CHECK(quoted.table == "My Table");
  CHECK(quoted.columns[0].name == "Col");
  CHECK(quoted.columns[0].type == ColumnType::int4);
  CHECK(quoted.columns[1].name == "select");
}

TEST_CASE("identifiers fold to lower case unless quoted, and are cut at 63 bytes", "[pg_sql][parser]") {
  CHECK(only<Listen>("LISTEN MixedCase").channel == "mixedcase");
  CHECK(only<Listen>(R"(LISTEN "MixedCase")").channel == "MixedCase");
  CHECK(only<Listen>(R"(LISTEN "say ""hi""")").channel == "say \"hi\"");
  CHECK(only<Listen>("LISTEN ÉtÉ").channel == "ÉtÉ");  // PostgreSQL folds ASCII letters only
  CHECK(only<Listen>("LISTEN a$1_b").channel == "a$1_b");

  const std::string long_name(70, 'a');
  CHECK(only<Listen>("LISTEN " + long_name).channel == std::string(63, 'a'));
  // 31 two-byte characters and a third byte: the cut does not split the 32nd character.
  std::string accented;
  for (int i = 0; i < 40; ++i) accented += "é";
  const std::string cut = only<Listen>("LISTEN \"" + accented + "\"").channel;
  CHECK(cut.size() == 62);
  CHECK(cut == accented.substr(0, 62));
}

TEST_CASE("DROP TABLE", "[pg_sql][parser]") {
  const auto d = only<DropTable>("DROP TABLE IF EXISTS a, public.B, \"C\" CASCADE");
  CHECK(d.if_exists);
  CHECK(d.tables == std::vector<std::string>{"a", "b", "C"});
  const auto plain = only<DropTable>("drop table t restrict");
  CHECK_FALSE(plain.if_exists);
  CHECK(plain.tables == std::vector<std::string>{"t"});
}

TEST_CASE("INSERT: column lists, rows, literal kinds", "[pg_sql][parser]") {
  const auto ins = only<Insert>("INSERT INTO t (a, \"B\") VALUES (1, 'x'), (-0042, NULL), (+7, DEFAULT)");
  CHECK(ins.table == "t");
  CHECK(ins.table_position == 13);
  REQUIRE(ins.columns.size() == 2);
  CHECK(ins.columns[0].name == "a");
  CHECK(ins.columns[0].position == 16);
  CHECK(ins.columns[1].name == "B");
  REQUIRE(ins.rows.size() == 3);
  CHECK(ins.rows[0][0].kind == Literal::Kind::integer);
  CHECK(ins.rows[0][0].text == "1");
  CHECK(ins.rows[0][0].position == 32);
  CHECK(ins.rows[0][1].kind == Literal::Kind::string);
  CHECK(ins.rows[0][1].text == "x");
  CHECK(ins.rows[1][0].text == "-42");       // canonical: what PostgreSQL prints
  CHECK(ins.rows[1][0].position == 42);      // at the sign, as PostgreSQL reports it
  CHECK(ins.rows[1][1].kind == Literal::Kind::null);
  CHECK(ins.rows[2][0].text == "7");
  CHECK(ins.rows[2][1].kind == Literal::Kind::null);  // no column has a default

  const auto no_list = only<Insert>("insert into T values (-0), (99999999999999999999999)");
  CHECK(no_list.columns.empty());
  CHECK(no_list.rows[0][0].text == "0");
  CHECK(no_list.rows[1][0].text == "99999999999999999999999");  // beyond bigint: kept
}

TEST_CASE("string literals: '' escapes, E'' escapes, dollar quotes, N''", "[pg_sql][parser]") {
  auto value = [](std::string_view literal) {
    const auto v = only<SelectValues>("SELECT " + std::string(literal));
    REQUIRE(v.values.size() == 1);
    CHECK(v.values[0].value.kind == Literal::Kind::string);
    return v.values[0].value.text;
  };
  CHECK(value("'it''s'") == "it's");
  CHECK(value("''") == "");
  CHECK(value("'a\\nb'") == "a\\nb");  // standard strings keep backslashes
  CHECK(value("'two\nlines'") == "two\nlines");
  CHECK(value("E'a\\nb\\tc\\\\d\\'e''f'") == "a\nb\tc\\d'e'f");
  CHECK(value("e'\\x41\\101\\xz\\q'") == "AAxzq");
  CHECK(value("E'\\u00e9\\U0001F600'") == "é😀");
  CHECK(value("E'\\uD83D\\uDE00'") == "😀");  // a UTF-16 surrogate pair
  CHECK(value("$$it's; \"here\"$$") == "it's; \"here\"");
  CHECK(value("$tag$ $$ $tag$") == " $$ ");
  CHECK(value("N'national'") == "national");
}

TEST_CASE("SELECT from a table: *, columns, literals, aliases, WHERE", "[pg_sql][parser]") {
  const auto s = only<Select>("SELECT *, Name, \"Id\" AS ident, 5 five, 'x' AS \"X\" FROM Things WHERE code = -3");
  CHECK(s.table == "things");
  CHECK(s.table_position == 56);
  REQUIRE(s.items.size() == 5);
  CHECK(s.items[0].kind == SelectItem::Kind::star);
  CHECK(s.items[1].kind == SelectItem::Kind::column);
  CHECK(s.items[1].column == "name");
  CHECK(s.items[1].position == 11);
  CHECK_FALSE(s.items[1].alias.has_value());
  CHECK(s.items[2].column == "Id");
  CHECK(s.items[2].alias == std::optional<std::string>("ident"));
  CHECK(s.items[3].kind == SelectItem::Kind::literal);
  CHECK(s.items[3].value.text == "5");
  CHECK(s.items[3].alias == std::optional<std::string>("five"));
  CHECK(s.items[4].alias == std::optional<std::string>("X"));
  REQUIRE(s.where.has_value());
  CHECK(s.where->column == "code");
  CHECK(s.where->column_position == 69);
  CHECK(s.where->operator_position == 74);
  CHECK(s.where->value.text == "-3");
  CHECK(only<Select>("select * from t where a='x'").where->value.text == "x");
  CHECK(only<Select>("SELECT a FROM t WHERE a=-5").where->value.text == "-5");  // "=-" is = and -
  CHECK(only<Select>("SELECT 1 AS select FROM t").items[0].alias == std::optional<std::string>("select"));
  CHECK(only<Select>("SELECT FROM t").items.empty());
  CHECK_FALSE(only<Select>("SELECT * FROM public.t").where.has_value());
}

TEST_CASE("SELECT without FROM: literals named ?column? unless aliased", "[pg_sql][parser]") {
  const auto v = only<SelectValues>("SELECT 1, 'two' AS second, NULL, -5 n");
  REQUIRE(v.values.size() == 4);
  CHECK(v.values[0].name == "?column?");
  CHECK(v.values[0].value.text == "1");
  CHECK(v.values[1].name == "second");
  CHECK(v.values[2].value.kind == Literal::Kind::null);
  CHECK(v.values[2].name == "?column?");
  CHECK(v.values[3].name == "n");
  CHECK(v.values[3].value.text == "-5");
  CHECK(only<SelectValues>("SELECT").values.empty());  // one row of no columns, as PostgreSQL
  CHECK(only<SelectValues>("SELECT 123abc").values[0].name == "abc");  // PostgreSQL 15 lexing
}

TEST_CASE("generate_series is a SelectSeries in both spellings", "[pg_sql][parser]") {
  const auto a = only<SelectSeries>("SELECT * FROM generate_series(1, 3)");
  CHECK(a.start == 1);
  CHECK(a.stop == 3);
  CHECK(a.column == "generate_series");
  const auto b = only<SelectSeries>("select GENERATE_SERIES(-5, +9223372036854775807)");
  CHECK(b.start == -5);
  CHECK(b.stop == 9223372036854775807);
  CHECK(b.column == "generate_series");
  CHECK(only<SelectSeries>("SELECT generate_series(1,2) AS n").column == "n");
  CHECK(only<SelectSeries>("SELECT generate_series(1,2) n").column == "n");
  CHECK(only<SelectSeries>("SELECT * FROM generate_series(1,2) g").column == "g");
  CHECK(only<SelectSeries>("SELECT * FROM generate_series(1,2) AS g(v)").column == "v");
  CHECK(only<SelectSeries>("SELECT * FROM generate_series(5,1)").start == 5);  // empty: the server's
}

TEST_CASE("DELETE", "[pg_sql][parser]") {
  const auto all = only<Delete>("DELETE FROM T");
  CHECK(all.table == "t");
  CHECK(all.table_position == 13);
  CHECK_FALSE(all.where.has_value());
  const auto some = only<Delete>("delete from t where name = 'bob'");
  REQUIRE(some.where.has_value());
  CHECK(some.where->column == "name");
  CHECK(some.where->value.text == "bob");
}

TEST_CASE("transaction statements", "[pg_sql][parser]") {
  auto kind = [](std::string_view sql) { return only<Transaction>(sql).kind; };
  CHECK(kind("BEGIN") == Transaction::begin);
  CHECK(kind("begin work") == Transaction::begin);
  CHECK(kind("BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY NOT DEFERRABLE") == Transaction::begin);
  CHECK(kind("BEGIN ISOLATION LEVEL READ COMMITTED") == Transaction::begin);
  CHECK(kind("START TRANSACTION READ WRITE") == Transaction::begin);
  CHECK(only<Transaction>("START TRANSACTION").start_transaction);
  CHECK_FALSE(only<Transaction>("BEGIN").start_transaction);
  CHECK(kind("COMMIT") == Transaction::commit);
  CHECK(kind("commit transaction and no chain") == Transaction::commit);
  CHECK(kind("END") == Transaction::commit);
  CHECK(kind("END WORK") == Transaction::commit);
  CHECK(kind("ROLLBACK") == Transaction::rollback);
  CHECK(kind("ABORT") == Transaction::rollback);
  CHECK(kind("rollback work") == Transaction::rollback);
}

TEST_CASE("LISTEN, UNLISTEN, NOTIFY", "[pg_sql][parser]") {
  CHECK(only<Listen>("LISTEN chan").channel == "chan");
  const auto u = only<Unlisten>("UNLISTEN \"Chan\"");
  CHECK(u.channel == "Chan");
  CHECK_FALSE(u.all);
  CHECK(only<Unlisten>("UNLISTEN *").all);
  const auto n = only<Notify>("NOTIFY chan, 'it''s; here'");
  CHECK(n.channel == "chan");
  CHECK(n.payload == "it's; here");
  CHECK(only<Notify>("NOTIFY chan").payload.empty());
  check_error("NOTIFY chan, 5", "42601", "syntax error at or near \"5\"", 14);
  check_error("LISTEN", "42601", "syntax error at end of input", 7);
}

TEST_CASE("SHOW, SET, RESET", "[pg_sql][parser]") {
  CHECK(only<Show>("SHOW search_path").name == "search_path");
  CHECK(only<Show>("show DateStyle").name == "datestyle");
  CHECK(only<Show>("SHOW ALL").name == "all");
  CHECK(only<Show>("SHOW TIME ZONE").name == "timezone");
  CHECK(only<Show>("SHOW TRANSACTION ISOLATION LEVEL").name == "transaction_isolation");
  CHECK(only<Show>("SHOW myapp.Mode").name == "myapp.mode");

  const auto a = only<Set>("SET search_path TO a, \"B\", 'c'");
  CHECK(a.name == "search_path");
  CHECK(a.value == "a, B, c");
  CHECK_FALSE(a.to_default);
  CHECK(only<Set>("SET DATESTYLE TO 'ISO'").value == "ISO");  // psycopg2's
  CHECK(only<Set>("set statement_timeout = 0").value == "0");
  CHECK(only<Set>("SET extra_float_digits = -3").value == "-3");
  CHECK(only<Set>("SET x = on").value == "on");
  CHECK(only<Set>("SET SESSION x TO 1.5").value == "1.5");
  CHECK(only<Set>("SET LOCAL x TO 1").local);
  const auto tz = only<Set>("SET TIME ZONE 'UTC'");
  CHECK(tz.name == "timezone");
  CHECK(tz.value == "UTC");
  CHECK(only<Set>("SET TIME ZONE LOCAL").to_default);
  CHECK(only<Set>("SET NAMES 'UTF8'").name == "client_encoding");
  const auto d = only<Set>("SET client_encoding TO DEFAULT");
  CHECK(d.to_default);
  CHECK(d.value.empty());
  CHECK_FALSE(d.reset);
  const auto r = only<Set>("RESET search_path");
  CHECK(r.name == "search_path");
  CHECK(r.reset);
  CHECK(r.to_default);
  CHECK(only<Set>("RESET ALL").name == "all");
}

TEST_CASE("a query splits at semicolons outside quotes and comments", "[pg_sql][parser]") {
  const std::string query =
      "-- a comment; with a semicolon\n"
      "SELECT 'a;b' ; /* c; /* nested; */ still; */ INSERT INTO \"t;\" VALUES ($$x;y$$);;  ;\n"
      "SELECT E'\\';' -- trailing; comment";
  const ParseResult r = parse(query);
  REQUIRE_FALSE(r.error.has_value());
  REQUIRE(r.statements.size() == 3);
  CHECK(std::get<SelectValues>(r.statements[0].statement).values[0].value.text == "a;b");
  const auto& ins = std::get<Insert>(r.statements[1].statement);
  CHECK(ins.table == "t;");
  CHECK(ins.rows[0][0].text == "x;y");
  CHECK(std::get<SelectValues>(r.statements[2].statement).values[0].value.text == "';");
  // offset and length cover the statement's tokens, without the ';'
  CHECK(query.substr(r.statements[0].offset, r.statements[0].length) == "SELECT 'a;b'");
  CHECK(query.substr(r.statements[1].offset, r.statements[1].length) == "INSERT INTO \"t;\" VALUES ($$x;y$$)");
  CHECK(query.substr(r.statements[2].offset, r.statements[2].length) == "SELECT E'\\';'");

  CHECK(parse("").statements.empty());
  CHECK(parse(" ;; -- nothing\n /* at all */ ; ").statements.empty());
  CHECK_FALSE(parse(" ;; -- nothing\n ; ").error.has_value());
  CHECK(parse("BEGIN;COMMIT").statements.size() == 2);
}

TEST_CASE("syntax errors: PostgreSQL's message and the token's position", "[pg_sql][parser][errors]") {
  check_error("FOO BAR", "42601", "syntax error at or near \"FOO\"", 1);
  check_error("SELECT 1; SELEC 2", "42601", "syntax error at or near \"SELEC\"", 11);
  check_error("SELECT * FROM", "42601", "syntax error at end of input", 14);
  check_error("SELECT * FROM   ", "42601", "syntax error at end of input", 17);
  check_error("SELECT * FROM;", "42601", "syntax error at or near \";\"", 14);
  check_error("CREATE TABLE select (a int)", "42601", "syntax error at or near \"select\"", 14);
  check_error("CREATE TABLE t (a int,)", "42601", "syntax error at or near \")\"", 23);
  check_error("INSERT INTO t VALUES ()", "42601", "syntax error at or near \")\"", 23);
  check_error("SELECT 'a' 'b'", "42601", "syntax error at or near \"'b'\"", 12);
  check_error("DROP TABLE t = 1", "42601", "syntax error at or near \"=\"", 14);
  check_error("BEGIN READ ONLY,", "42601", "syntax error at end of input", 17);
  // positions count characters, not bytes: 'é' is two bytes and one character
  check_error("SELECT 'é', 'ü' FROM", "42601", "syntax error at end of input", 21);
  check_error("SELECT 'éé' FOO BAR", "42601", "syntax error at or near \"BAR\"", 17);
  // lexical errors report the rest of the query from where the token began
  check_error("SELECT 'abc", "42601", "unterminated quoted string at or near \"'abc\"", 8);
  check_error("SELECT E'abc\\'", "42601", "unterminated quoted string at or near \"E'abc\\'\"", 8);
  check_error("SELECT \"abc", "42601", "unterminated quoted identifier at or near \"\"abc\"", 8);
  check_error("SELECT 1 /* a /* b */", "42601", "unterminated /* comment at or near \"/* a /* b */\"", 10);
  check_error("SELECT $x$abc", "42601", "unterminated dollar-quoted string at or near \"$x$abc\"", 8);
  check_error("SELECT \"\" FROM t", "42601", "zero-length delimited identifier at or near \"\"\"\"", 8);
  check_error("SELECT E'\\u12'", "42601", "invalid Unicode escape", 8);
  CHECK(error_of("SELECT E'\\u12'").hint == "Unicode escapes must be \\uXXXX or \\UXXXXXXXX.");
  check_error("SELECT E'\\uD83D'", "42601", "invalid Unicode surrogate pair", 8);
  check_error("SELECT E'\\x00'", "22021", "invalid byte sequence for encoding \"UTF8\": 0x00", 8);
  check_error("SELECT E'\\xe9'", "22021", "invalid byte sequence for encoding \"UTF8\": 0xe9", 8);
}

TEST_CASE("valid SQL outside the subset is 0A000 and says what", "[pg_sql][parser][errors]") {
  check_unsupported("UPDATE t SET a = 1", "UPDATE is not supported", 1);
  check_unsupported("SELECT 1; alter table t add b int", "ALTER is not supported", 11);
  check_unsupported("WITH x AS (SELECT 1) SELECT * FROM x", "WITH is not supported", 1);
  check_unsupported("SELECT * FROM t ORDER BY a", "ORDER BY is not supported", 17);
  check_unsupported("SELECT * FROM t GROUP BY a", "GROUP BY is not supported", 17);
  check_unsupported("SELECT * FROM t LIMIT 1", "LIMIT is not supported", 17);
  check_unsupported("SELECT * FROM t JOIN u ON true", "JOIN is not supported", 17);
  check_unsupported("SELECT * FROM t LEFT JOIN u ON true", "JOIN is not supported", 17);
  check_unsupported("SELECT * FROM t, u", "more than one table in FROM is not supported", 16);
  check_unsupported("SELECT * FROM t x", "table aliases are not supported", 17);
  check_unsupported("SELECT * FROM (SELECT 1) s", "subqueries are not supported", 15);
  check_unsupported("SELECT 1 UNION SELECT 2", "UNION is not supported", 10);
  check_unsupported("SELECT DISTINCT a FROM t", "DISTINCT is not supported", 8);
  check_unsupported("SELECT count(*) FROM t", "function count() is not supported", 8);
  check_unsupported("SELECT t.a FROM t", "qualified column names are not supported", 8);
  check_unsupported("SELECT 1 + 2", "operator \"+\" is not supported", 10);
  check_unsupported("SELECT '1'::int", "type casts (::) are not supported", 11);
  check_unsupported("SELECT 1.5", "type numeric is not supported (only integer literals)", 8);
  check_unsupported("SELECT true", "type boolean is not supported", 8);
  check_unsupported("SELECT X'1F'", "bit-string and U&'' literals are not supported", 8);
  check_unsupported("SELECT CASE WHEN 1 THEN 2 END",
                    "expressions are not supported in the select list (only *, columns and literals)", 8);
  check_unsupported("SELECT 1 WHERE 1 = 1", "WHERE without FROM is not supported", 10);
  check_unsupported("SELECT * FROM t WHERE a = 1 AND b = 2",
                    "conditions combined with AND or OR are not supported (only WHERE column = value)", 29);
  check_unsupported("SELECT * FROM t WHERE a > 1", "operator \">\" is not supported", 25);
  check_unsupported("SELECT * FROM t WHERE a IS NULL", "IS [NOT] NULL is not supported (only WHERE column = value)", 25);
  check_unsupported("SELECT * FROM t WHERE a = b", "only WHERE column = value is supported", 27);
  check_unsupported("SELECT * FROM t WHERE 1 = a", "only WHERE column = value is supported", 23);
  check_unsupported("DELETE FROM t WHERE (a = 1)", "only WHERE column = value is supported", 21);
  check_unsupported("INSERT INTO t VALUES (now())",
                    "expressions are not supported in VALUES (only integer, 'string', NULL and DEFAULT)", 23);
  check_unsupported("INSERT INTO t VALUES (1 + 1)", "operator \"+\" is not supported", 25);
  check_unsupported("INSERT INTO t SELECT 1", "INSERT ... SELECT is not supported", 15);
  check_unsupported("INSERT INTO t DEFAULT VALUES", "INSERT ... DEFAULT VALUES is not supported", 15);
  check_unsupported("INSERT INTO t VALUES (1) RETURNING a", "RETURNING is not supported", 26);
  check_unsupported("INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING", "ON CONFLICT is not supported", 26);
  check_unsupported("CREATE INDEX i ON t (a)", "CREATE INDEX is not supported", 8);
  check_unsupported("CREATE TEMP TABLE t (a int)", "temporary tables are not supported", 8);
  check_unsupported("CREATE TABLE t AS SELECT 1", "CREATE TABLE AS is not supported", 16);
  check_unsupported("CREATE TABLE t (a int PRIMARY KEY)", "column constraints are not supported", 23);
  check_unsupported("CREATE TABLE t (a int NOT NULL)", "column constraints are not supported", 23);
  check_unsupported("CREATE TABLE t (a int, PRIMARY KEY (a))", "table constraints are not supported", 24);
  check_unsupported("CREATE TABLE t (a smallint)", "type smallint is not supported", 19);
  check_unsupported("CREATE TABLE t (a char(3))", "type character is not supported (use text)", 19);
  check_unsupported("CREATE TABLE t (a int[])", "array types are not supported", 22);
  check_unsupported("DROP VIEW v", "DROP VIEW is not supported", 6);
  check_unsupported("SELECT generate_series(1, 2), 3", "generate_series() must be the only item in the select list", 29);
  check_unsupported("SELECT a, generate_series(1, 2) FROM t",
                    "generate_series() must be the only item in the select list", 11);
  check_unsupported("SELECT * FROM generate_series(1, 10, 2)", "generate_series() with a step is not supported", 36);
  check_unsupported("SELECT * FROM generate_series('1', 2)", "generate_series() takes integer literals only", 31);
  check_unsupported("SELECT * FROM generate_series(1, 99999999999999999999)",
                    "generate_series() over numeric values (beyond bigint) is not supported", 34);
  check_unsupported("SELECT * FROM generate_series(1, 2) WHERE generate_series = 1",
                    "WHERE on generate_series() is not supported", 37);
  check_unsupported("ROLLBACK TO SAVEPOINT s", "savepoints are not supported", 10);
  check_unsupported("SAVEPOINT s", "SAVEPOINT is not supported", 1);
  check_unsupported("COMMIT AND CHAIN", "AND CHAIN is not supported", 8);
  check_unsupported("COMMIT PREPARED 'x'", "two-phase commit is not supported", 8);
  check_unsupported("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", "SET TRANSACTION is not supported", 5);
  check_unsupported("COPY t FROM STDIN", "COPY is not supported", 1);
  check_unsupported("(SELECT 1)", "parenthesized queries are not supported", 1);
}

TEST_CASE("errors PostgreSQL finds while analysing a statement, found here while parsing", "[pg_sql][parser][errors]") {
  check_error("SELECT 1, nope", "42703", "column \"nope\" does not exist", 11);  // no FROM: no columns
  check_error("SELECT *", "42601", "SELECT * with no tables specified is not valid", 8);
  check_error("SELECT $1", "42P02", "there is no parameter $1", 8);
  check_error("INSERT INTO t VALUES (1), (2, 3)", "42601", "VALUES lists must all be the same length", 28);
  check_error("CREATE TABLE t (a foo)", "42704", "type \"foo\" does not exist", 19);
  check_error(R"(CREATE TABLE t (a "INT4"))", "42704", "type \"INT4\" does not exist", 19);  // quoted keeps case
  check_error("CREATE TABLE t (a varchar(0))", "22023", "length for type varchar must be at least 1", 19);
  check_error("CREATE TABLE t (a varchar(10485761))", "22023", "length for type varchar cannot exceed 10485760", 19);
  check_error("CREATE TABLE s.t (a int)", "3F000", "schema \"s\" does not exist", 14);
  check_error("SELECT * FROM s.t", "42P01", "relation \"s.t\" does not exist", 15);
  check_error("SELECT * FROM generate_series(1)", "42883", "function generate_series(integer) does not exist", 15);
}

TEST_CASE("a query must be UTF-8 without NUL (22021)", "[pg_sql][parser][errors]") {
  check_error("SELECT '\xff'", "22021", "invalid byte sequence for encoding \"UTF8\": 0xff", 0);
  check_error("SELECT '\xe2\x28\xa1'", "22021", "invalid byte sequence for encoding \"UTF8\": 0xe2 0x28 0xa1", 0);
  check_error("SELECT '\xc0\xaf'", "22021", "invalid byte sequence for encoding \"UTF8\": 0xc0 0xaf", 0);  // overlong
  check_error("SELECT '\xed\xa0\x80'", "22021", "invalid byte sequence for encoding \"UTF8\": 0xed 0xa0 0x80", 0);
  check_error("SELECT '\xe2\x82'", "22021", "invalid byte sequence for encoding \"UTF8\": 0xe2 0x82 0x27", 0);
  check_error(std::string_view("SELECT 1\0", 9), "22021", "invalid byte sequence for encoding \"UTF8\": 0x00", 0);
  CHECK_FALSE(parse("SELECT '€𝄞é'").error.has_value());
}

TEST_CASE("parsing stops at the first error and keeps the statements before it", "[pg_sql][parser][errors]") {
  const ParseResult r = parse("BEGIN; SELECT 1; UPDATE t SET a = 1; SELECT 2");
  REQUIRE(r.error.has_value());
  CHECK(r.error->sqlstate == "0A000");
  CHECK(r.error->position == 18);
  REQUIRE(r.statements.size() == 2);
  CHECK(std::holds_alternative<Transaction>(r.statements[0].statement));
  CHECK(std::holds_alternative<SelectValues>(r.statements[1].statement));
}

TEST_CASE("limits: statements per query, VALUES rows and values, list entries, columns", "[pg_sql][parser][limits]") {
  std::string many;
  for (std::size_t i = 0; i < max_statements; ++i) many += "BEGIN;";
  CHECK(parse(many).statements.size() == max_statements);
  const ParseResult over = parse(many + " COMMIT");
  REQUIRE(over.error.has_value());
  CHECK(over.error->sqlstate == "54000");
  CHECK(over.error->message == "a query can hold at most 10000 statements");
  CHECK(over.error->position == many.size() + 2);

  auto values = [](std::size_t rows, std::size_t width) {
    std::string q = "INSERT INTO t VALUES ";
    for (std::size_t r = 0; r < rows; ++r) {
      q += r == 0 ? "(" : ",(";
      for (std::size_t c = 0; c < width; ++c) q += c == 0 ? "1" : ",1";
      q += ")";
    }
    return q;
  };
  CHECK(only<Insert>(values(max_insert_rows, 1)).rows.size() == max_insert_rows);
  check_error(values(max_insert_rows + 1, 1), "54000", "INSERT takes at most 10000 VALUES rows",
              21 + 4 * max_insert_rows + 1);
  CHECK(only<Insert>(values(1, max_list_entries)).rows[0].size() == max_list_entries);
  CHECK(error_of(values(1, max_list_entries + 1)).message == "target lists can have at most 1664 entries");
  CHECK(error_of(values(1, max_list_entries + 1)).sqlstate == "54011");

  std::string select = "SELECT 1";
  for (std::size_t i = 1; i < max_list_entries; ++i) select += ",1";
  CHECK(only<SelectValues>(select).values.size() == max_list_entries);
  CHECK(error_of(select + ",1").sqlstate == "54011");

  // every value, column and name of the whole query counts against one budget
  CHECK(only<Insert>(values(100, 999)).rows.size() == 100);  // 99 900 values and the name t
  std::string budget_query = values(100, 999) + "; SELECT ";
  for (int i = 0; i < 99; ++i) budget_query += "1, ";  // entries 99 902 to 100 000
  budget_query += "'b'";
  const ParseResult budget = parse(budget_query);
  REQUIRE(budget.error.has_value());
  CHECK(budget.error->sqlstate == "54001");
  CHECK(budget.error->message == "query too complex: more than 100000 values, columns and names");
  CHECK(budget.error->position == budget_query.find("'b'") + 1);  // the 100 001st
  CHECK(budget.statements.size() == 1);
  std::string stars = "SELECT *";
  for (std::size_t i = 1; i < max_list_entries; ++i) stars += ",*";
  std::string star_query;
  for (int i = 0; i < 61; ++i) star_query += stars + " FROM t;";
  CHECK(error_of(star_query).sqlstate == "54001");  // stars count too

  std::string create = "CREATE TABLE t (c0 int";
  for (std::size_t i = 1; i < max_table_columns; ++i) create += ", c" + std::to_string(i) + " int";
  CHECK(only<CreateTable>(create + ")").columns.size() == max_table_columns);
  const SqlError wide = error_of(create + ", extra int)");
  CHECK(wide.sqlstate == "54011");
  CHECK(wide.message == "tables can have at most 1600 columns");
}

}  // namespace test_pg_sql_cpp
