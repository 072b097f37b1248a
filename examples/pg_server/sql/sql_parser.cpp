// parse(): the statement loop, statement dispatch, and the helpers every statement uses.
#include "sql_parser.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "sql_parser_impl.hpp"

namespace pg::sql {

ParseResult parse(std::string_view query) {
  if (auto bad = detail::check_encoding(query)) return ParseResult{{}, std::move(bad)};
  return detail::Parser(query).parse_all();
}

}  // namespace pg::sql

namespace pg::sql::detail {

namespace {

// Statements that are SQL (PostgreSQL's) but not this subset's, sorted: 0A000, not 42601.
constexpr std::array<std::string_view, 36> unsupported_commands = {
    "alter",   "analyse",  "analyze", "call",     "checkpoint", "close",   "cluster",
    "comment", "copy",     "deallocate", "declare", "discard",  "do",      "execute",
    "explain", "fetch",    "grant",   "import",   "load",       "lock",    "merge",
    "move",    "prepare",  "reassign", "refresh", "reindex",    "release", "revoke",
    "savepoint", "security", "table", "truncate", "update",     "vacuum",
    "values",  "with"};

// Clauses and operators met where a statement could end: what to call them in a 0A000.
struct Clause {
  std::string_view word;
  std::string_view message;
};
constexpr std::array<Clause, 28> unsupported_clauses = {{
    {"and", "conditions combined with AND or OR are not supported (only WHERE column = value)"},
    {"between", "BETWEEN is not supported (only WHERE column = value)"},
    {"collate", "COLLATE is not supported"},
    {"cross", "JOIN is not supported"},
    {"except", "EXCEPT is not supported"},
    {"fetch", "FETCH is not supported"},
    {"for", "FOR UPDATE/SHARE is not supported"},
    {"full", "JOIN is not supported"},
    {"group", "GROUP BY is not supported"},
    {"having", "HAVING is not supported"},
    {"ilike", "ILIKE is not supported (only WHERE column = value)"},
    {"in", "IN is not supported (only WHERE column = value)"},
    {"inner", "JOIN is not supported"},
    {"intersect", "INTERSECT is not supported"},
    {"into", "SELECT INTO is not supported"},
    {"is", "IS [NOT] NULL is not supported (only WHERE column = value)"},
    {"join", "JOIN is not supported"},
    {"left", "JOIN is not supported"},
    {"like", "LIKE is not supported (only WHERE column = value)"},
    {"limit", "LIMIT is not supported"},
    {"natural", "JOIN is not supported"},
    {"offset", "OFFSET is not supported"},
    {"on", "ON CONFLICT is not supported"},
    {"or", "conditions combined with AND or OR are not supported (only WHERE column = value)"},
    {"order", "ORDER BY is not supported"},
    {"returning", "RETURNING is not supported"},
    {"right", "JOIN is not supported"},
    {"union", "UNION is not supported"},
}};

// Reserved words that begin an expression: a value position holding one is valid SQL.
constexpr std::array<std::string_view, 16> expression_words = {
    "array",        "case",         "cast",          "current_catalog", "current_date",
    "current_role", "current_schema", "current_time", "current_timestamp", "current_user",
    "localtime",    "localtimestamp", "not",         "session_user",    "system_user",
    "user"};

bool is_expression_statement(const Statement& s) {
  return std::holds_alternative<Select>(s) || std::holds_alternative<SelectValues>(s) ||
         std::holds_alternative<SelectSeries>(s) || std::holds_alternative<Insert>(s) ||
         std::holds_alternative<Delete>(s);
}

}  // namespace

ParseResult Parser::parse_all() {
  ParseResult result;
  try {
    current_ = lexer_.next();
    while (current_.kind != TokenKind::end) {
      if (take_punct(';')) continue;  // an empty statement
      if (result.statements.size() == max_statements) {
        fail_at(current_, sqlstate::program_limit_exceeded,
                "a query can hold at most " + std::to_string(max_statements) + " statements");
      }
      const std::size_t offset = current_.offset;
      Statement s = statement();
      const std::size_t end = last_end_;
      finish_statement(s);
      result.statements.push_back(ParsedStatement{std::move(s), offset, end - offset});
    }
  } catch (SqlError& e) {
    result.error = std::move(e);
  }
  return result;
}

Statement Parser::statement() {
  struct Command {
    std::string_view word;
    Statement (Parser::*parse)();
  };
  static constexpr std::array<Command, 17> commands = {{
      {"select", &Parser::select},     {"insert", &Parser::insert},     {"delete", &Parser::remove},
      {"create", &Parser::create},     {"drop", &Parser::drop},         {"begin", &Parser::begin},
      {"start", &Parser::start},       {"commit", &Parser::commit},     {"end", &Parser::commit},
      {"rollback", &Parser::rollback}, {"abort", &Parser::rollback},    {"listen", &Parser::listen},
      {"unlisten", &Parser::unlisten}, {"notify", &Parser::notify},     {"show", &Parser::show},
      {"set", &Parser::set},           {"reset", &Parser::reset},
  }};
  const Token t = current_;
  if (t.kind == TokenKind::identifier) {
    for (const Command& c : commands) {
      if (is_keyword(t, c.word)) return (this->*c.parse)();
    }
    const std::string word = lower_ascii(t.text);
    if (std::binary_search(unsupported_commands.begin(), unsupported_commands.end(), word)) {
      unsupported(t, upper_ascii(word) + " is not supported");
    }
  }
  if (at_punct('(')) unsupported(t, "parenthesized queries are not supported");
  syntax_error(t);
}

// After a statement: ';' or the end. Anything else is a clause we do not support, or an error.
void Parser::finish_statement(const Statement& s) {
  if (take_punct(';') || current_.kind == TokenKind::end) return;
  if (is_expression_statement(s)) unexpected(current_);
  syntax_error(current_);
}

// --- names and values --------------------------------------------------------------------------

bool Parser::at_name() const {
  return current_.kind == TokenKind::quoted_identifier ||
         (current_.kind == TokenKind::identifier && !is_reserved_word(lower_ascii(current_.text)));
}

std::string Parser::name() {
  if (!at_name()) syntax_error(current_);
  count_entry();
  return identifier_value(take());
}

void Parser::count_entry() {
  if (++entries_ > max_query_entries) {
    fail_at(current_, sqlstate::statement_too_complex,
            "query too complex: more than " + std::to_string(max_query_entries) + " values, columns and names");
  }
}

std::string Parser::label() {
  if (current_.kind != TokenKind::identifier && current_.kind != TokenKind::quoted_identifier) {
    syntax_error(current_);
  }
  return identifier_value(take());
}

// [AS] name. Without AS only a name that is not a reserved word, as in PostgreSQL.
std::optional<std::string> Parser::alias() {
  if (take_keyword("as")) return label();
  if (at_name()) return identifier_value(take());
  return std::nullopt;
}

std::string Parser::canonical_integer(std::string_view digits, bool negative) {
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string_view::npos) return "0";
  std::string out = negative ? "-" : "";
  out += digits.substr(first);
  return out;
}

// An integer (with an optional sign, which PostgreSQL folds into the constant and reports the
// position of), a string, NULL, or DEFAULT where allowed (there are no column defaults: NULL).
std::optional<Literal> Parser::literal(bool allow_default) {
  const Token t = current_;
  Literal lit;
  lit.position = position(t);
  if (t.kind == TokenKind::op && (t.text == "-" || t.text == "+") &&
      lookahead().kind == TokenKind::integer) {
    count_entry();
    take();
    lit.kind = Literal::Kind::integer;
    lit.text = canonical_integer(take().text, t.text == "-");
    return lit;
  }
  if (t.kind == TokenKind::integer) {
    count_entry();
    take();
    lit.kind = Literal::Kind::integer;
    lit.text = canonical_integer(t.text, false);
    return lit;
  }
  if (t.kind == TokenKind::string || t.kind == TokenKind::escape_string) {
    count_entry();
    take();
    lit.kind = Literal::Kind::string;
    lit.text = string_value(t, lexer_);
    return lit;
  }
  if (is_keyword(t, "null") || (allow_default && is_keyword(t, "default"))) {
    count_entry();
    take();
    return lit;
  }
  return std::nullopt;
}

Literal Parser::value(bool allow_default, const char* what) {
  if (auto lit = literal(allow_default)) return std::move(*lit);
  not_a_value(current_, what);
}

// `t` stands where a literal must: 0A000 (saying `what` is supported) when it starts an
// expression PostgreSQL would accept, else 42601.
void Parser::not_a_value(const Token& t, const char* what) {
  switch (t.kind) {
    case TokenKind::parameter:
      fail_at(t, sqlstate::undefined_parameter, "there is no parameter " + std::string(t.text));
    case TokenKind::numeric:
      unsupported(t, "type numeric is not supported (only integer literals)");
    case TokenKind::other_string:
      unsupported(t, "bit-string and U&'' literals are not supported");
    case TokenKind::identifier: {
      if (is_keyword(t, "true") || is_keyword(t, "false")) unsupported(t, "type boolean is not supported");
      const std::string word = lower_ascii(t.text);
      if (is_reserved_word(word) &&
          std::find(expression_words.begin(), expression_words.end(), word) == expression_words.end()) {
        syntax_error(t);
      }
      break;
    }
    case TokenKind::quoted_identifier:
    case TokenKind::op:
      break;
    case TokenKind::punct:
      if (t.text != "(") syntax_error(t);
      break;
    default:
      syntax_error(t);
  }
  unsupported(t, what);
}

void Parser::unexpected(const Token& t) {
  if (t.kind == TokenKind::identifier) {
    const std::string word = lower_ascii(t.text);
    for (const Clause& c : unsupported_clauses) {
      if (c.word == word) unsupported(t, std::string(c.message));
    }
  }
  if (t.kind == TokenKind::op) unsupported(t, "operator \"" + std::string(t.text) + "\" is not supported");
  if (t.kind == TokenKind::typecast) unsupported(t, "type casts (::) are not supported");
  if (at_punct('[')) unsupported(t, "array subscripts are not supported");
  syntax_error(t);
}

// --- tokens ------------------------------------------------------------------------------------

const Token& Parser::lookahead() {
  if (!next_) next_ = lexer_.next();
  return *next_;
}

Token Parser::take() {
  const Token t = current_;
  last_end_ = t.offset + t.text.size();
  if (next_) {
    current_ = *next_;
    next_.reset();
  } else {
    current_ = lexer_.next();
  }
  return t;
}

bool Parser::take_keyword(std::string_view keyword) {
  if (!at_keyword(keyword)) return false;
  take();
  return true;
}

void Parser::expect_keyword(std::string_view keyword) {
  if (!take_keyword(keyword)) syntax_error(current_);
}

bool Parser::at_punct(char c) const {
  return current_.kind == TokenKind::punct && current_.text.size() == 1 && current_.text[0] == c;
}

bool Parser::take_punct(char c) {
  if (!at_punct(c)) return false;
  take();
  return true;
}

void Parser::expect_punct(char c) {
  if (!take_punct(c)) syntax_error(current_);
}

bool Parser::at_op(std::string_view op) const { return current_.kind == TokenKind::op && current_.text == op; }

bool Parser::at_statement_end() const { return current_.kind == TokenKind::end || at_punct(';'); }

// --- errors ------------------------------------------------------------------------------------

void Parser::syntax_error(const Token& t) {
  if (t.kind == TokenKind::end) fail_at(t, sqlstate::syntax_error, "syntax error at end of input");
  fail_at(t, sqlstate::syntax_error, "syntax error at or near \"" + std::string(t.text) + "\"");
}

void Parser::unsupported(const Token& t, std::string message) {
  fail_at(t, sqlstate::feature_not_supported, std::move(message));
}

void Parser::fail_at(const Token& t, const char* state, std::string message) {
  fail(state, std::move(message), position(t));
}

}  // namespace pg::sql::detail
