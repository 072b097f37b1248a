#pragma once
// The parser's lexer: PostgreSQL's scanner rules for the tokens of the subset (and enough of
// the rest to split a query at the right ';' and to name what it does not support). It hands
// out one token at a time, as views into the query: memory does not grow with the query.
// Token values (unescaped strings, folded identifiers) are decoded only when the parser asks.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sql_error.hpp"

namespace pg::sql::detail {

// PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes.
inline constexpr std::size_t max_identifier_bytes = 63;

enum class TokenKind {
  end,                // end of the query
  identifier,         // unquoted: a name or a keyword
  quoted_identifier,  // "Name"
  string,             // 'text', N'text', $tag$text$tag$
  escape_string,      // E'text' (backslash escapes)
  other_string,       // B'101', X'1F', U&'text': recognized (to split queries right), unsupported
  integer,            // 123
  numeric,            // 1.5, .5, 1e3
  parameter,          // $1
  op,                 // a run of operator characters: = <> + - * ...
  typecast,           // ::
  punct,              // any other single character: ( ) , ; . [ ] : and stray ones
};

struct Token {
  TokenKind kind = TokenKind::end;
  std::string_view text;   // as written (quotes and prefixes included)
  std::size_t offset = 0;  // byte offset in the query
};

// Throws `SqlError` (the parser catches it at the top): errors unwind a whole statement.
[[noreturn]] void fail(const char* sqlstate, std::string message, std::size_t position = 0,
                       std::string hint = {});

// Byte offsets to error positions (1-based characters). The parser asks in increasing order
// almost always, so the map walks on from its last answer instead of from the start.
class PositionMap {
 public:
  explicit PositionMap(std::string_view text) : text_(text) {}
  std::size_t position(std::size_t offset);

 private:
  std::string_view text_;
  std::size_t byte_ = 0;
  std::size_t chars_ = 0;
};

class Lexer {
 public:
  explicit Lexer(std::string_view query) : query_(query), positions_(query) {}

  Token next();
  std::size_t position(std::size_t offset) { return positions_.position(offset); }

 private:
  void skip_blanks();
  void skip_block_comment();
  Token make(TokenKind kind, std::size_t start, std::size_t end);
  Token quoted(TokenKind kind, std::size_t start, std::size_t quote, bool backslashes);
  Token quoted_identifier(std::size_t start);
  Token word(std::size_t start);
  Token number(std::size_t start);
  Token dollar(std::size_t start);
  Token operator_run(std::size_t start);
  [[noreturn]] void unterminated(const char* what, std::size_t start);
  // NUL past the end: no query holds one (parse() checks), so it matches nothing.
  [[nodiscard]] char at(std::size_t i) const { return i < query_.size() ? query_[i] : '\0'; }

  std::string_view query_;
  PositionMap positions_;
  std::size_t pos_ = 0;
};

// Checks that the query is UTF-8 with no NUL, as PostgreSQL does on receipt (22021).
std::optional<SqlError> check_encoding(std::string_view text);

// A name's value: folded to lower case (ASCII letters only, as PostgreSQL) unless quoted,
// then truncated to 63 bytes without splitting a character.
std::string identifier_value(const Token& t);

// A string token's value. E'' escapes can fail (22021, 42601): reported at the token.
std::string string_value(const Token& t, Lexer& lexer);

std::string lower_ascii(std::string_view s);
std::string upper_ascii(std::string_view s);

// True for an unquoted identifier spelling `keyword` (given in lower case) in any case.
bool is_keyword(const Token& t, std::string_view keyword);

// PostgreSQL's reserved and type/function-name keywords: they cannot name a table or column
// unless double quoted. `word` in lower case.
bool is_reserved_word(std::string_view word);

}  // namespace pg::sql::detail
