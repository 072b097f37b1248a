// The lexer: PostgreSQL's scan.l rules, reduced to what the subset needs.
#include "sql_lexer.hpp"

#include <algorithm>
#include <utility>

namespace pg::sql::detail {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ident_start(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' || u >= 0x80;
}
bool is_ident_char(char c) { return is_ident_start(c) || is_digit(c) || c == '$'; }
bool is_op_char(char c) { return std::string_view("~!@#^&|`?+-*/%<>=").find(c) != std::string_view::npos; }
// Characters that are not in SQL's own operators (PostgreSQL's rule for a trailing + or -).
bool is_non_sql_op_char(char c) { return std::string_view("~!@#^&|`?%").find(c) != std::string_view::npos; }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::string quote_near(std::string_view text) { return " at or near \"" + std::string(text) + "\""; }

// Length of the valid UTF-8 character at s[i], or 0. PostgreSQL's pg_utf8_islegal: no overlong
// forms, no surrogates, nothing above U+10FFFF; and no NUL, which no query can hold.
std::size_t utf8_length(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) return b == 0 ? 0 : 1;
  struct Lead {
    std::size_t length;
    unsigned char lo, hi;  // the second byte's range
  };
  Lead lead{0, 0x80, 0xBF};
  if (b >= 0xC2 && b <= 0xDF) {
    lead.length = 2;
  } else if (b == 0xE0) {
    lead = {3, 0xA0, 0xBF};  // no overlong forms
  } else if (b == 0xED) {
    lead = {3, 0x80, 0x9F};  // no surrogates
  } else if (b >= 0xE1 && b <= 0xEF) {
    lead.length = 3;
  } else if (b == 0xF0) {
    lead = {4, 0x90, 0xBF};  // no overlong forms
  } else if (b == 0xF4) {
    lead = {4, 0x80, 0x8F};  // nothing above U+10FFFF
  } else if (b >= 0xF1 && b <= 0xF3) {
    lead.length = 4;
  } else {
    return 0;
  }
  if (i + lead.length > s.size()) return 0;
  const auto second = static_cast<unsigned char>(s[i + 1]);
  if (second < lead.lo || second > lead.hi) return 0;
  for (std::size_t k = 2; k < lead.length; ++k) {
    if (!is_continuation(s[i + k])) return 0;
  }
  return lead.length;
}

// PostgreSQL's report_invalid_encoding(): the bytes of the bad character, as far as they go.
SqlError invalid_encoding(std::string_view s, std::size_t i) {
  const auto b = static_cast<unsigned char>(s[i]);
  std::size_t n = 1;
  if ((b & 0xE0) == 0xC0) n = 2;
  else if ((b & 0xF0) == 0xE0) n = 3;
  else if ((b & 0xF8) == 0xF0) n = 4;
  n = std::min(n, s.size() - i);
  static constexpr char hex[] = "0123456789abcdef";
  std::string message = "invalid byte sequence for encoding \"UTF8\":";
  for (std::size_t k = 0; k < n; ++k) {
    const auto v = static_cast<unsigned char>(s[i + k]);
    message += " 0x";
    message += hex[v >> 4];
    message += hex[v & 0xF];
  }
  return SqlError{sqlstate::character_not_in_repertoire, std::move(message), 0, {}};
}

}  // namespace

void fail(const char* state, std::string message, std::size_t position, std::string hint) {
  throw SqlError{state, std::move(message), position, std::move(hint)};
}

std::size_t PositionMap::position(std::size_t offset) {
  if (offset < byte_) byte_ = chars_ = 0;  // asked about an earlier token: count again
  for (; byte_ < offset && byte_ < text_.size(); ++byte_) {
    if (!is_continuation(text_[byte_])) ++chars_;
  }
  return chars_ + 1;
}

std::optional<SqlError> check_encoding(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = utf8_length(text, i);
    if (n == 0) return invalid_encoding(text, i);
    i += n;
  }
  return std::nullopt;
}

Token Lexer::next() {
  skip_blanks();
  const std::size_t start = pos_;
  if (start >= query_.size()) return Token{TokenKind::end, {}, query_.size()};
  const char c = query_[start];
  const bool prefixed_quote = at(start + 1) == '\'';
  if (c == '\'') return quoted(TokenKind::string, start, start, false);
  if ((c == 'e' || c == 'E') && prefixed_quote) return quoted(TokenKind::escape_string, start, start + 1, true);
  if ((c == 'n' || c == 'N') && prefixed_quote) return quoted(TokenKind::string, start, start + 1, false);
  if ((c == 'b' || c == 'B' || c == 'x' || c == 'X') && prefixed_quote) {
    return quoted(TokenKind::other_string, start, start + 1, false);
  }
  if ((c == 'u' || c == 'U') && at(start + 1) == '&' && at(start + 2) == '\'') {
    return quoted(TokenKind::other_string, start, start + 2, false);
  }
  if (c == '"') return quoted_identifier(start);
  if (is_ident_start(c)) return word(start);
  if (is_digit(c) || (c == '.' && is_digit(at(start + 1)))) return number(start);
  if (c == '$') return dollar(start);
  if (c == ':' && at(start + 1) == ':') return make(TokenKind::typecast, start, start + 2);
  if (is_op_char(c)) return operator_run(start);
  return make(TokenKind::punct, start, start + 1);
}

void Lexer::skip_blanks() {
  while (pos_ < query_.size()) {
    const char c = query_[pos_];
    if (is_space(c)) {
      ++pos_;
    } else if (c == '-' && at(pos_ + 1) == '-') {  // to the end of the line
      while (pos_ < query_.size() && query_[pos_] != '\n' && query_[pos_] != '\r') ++pos_;
    } else if (c == '/' && at(pos_ + 1) == '*') {
      skip_block_comment();
    } else {
      return;
    }
  }
}

// Block comments nest in PostgreSQL (and in the SQL standard).
void Lexer::skip_block_comment() {
  const std::size_t start = pos_;
  std::size_t depth = 0;
  while (pos_ < query_.size()) {
    if (query_[pos_] == '/' && at(pos_ + 1) == '*') {
      ++depth;
      pos_ += 2;
    } else if (query_[pos_] == '*' && at(pos_ + 1) == '/') {
      pos_ += 2;
      if (--depth == 0) return;
    } else {
      ++pos_;
    }
  }
  unterminated("unterminated /* comment", start);
}

Token Lexer::make(TokenKind kind, std::size_t start, std::size_t end) {
  pos_ = end;
  return Token{kind, query_.substr(start, end - start), start};
}

// PostgreSQL names the rest of the query from where the token began.
void Lexer::unterminated(const char* what, std::size_t start) {
  fail(sqlstate::syntax_error, what + quote_near(query_.substr(start)), position(start));
}

// 'text' (a doubled quote is a quote); with `backslashes`, a backslash escapes the next byte.
Token Lexer::quoted(TokenKind kind, std::size_t start, std::size_t quote, bool backslashes) {
  for (std::size_t i = quote + 1; i < query_.size(); ++i) {
    const char c = query_[i];
    if (backslashes && c == '\\') {
      ++i;
    } else if (c == '\'') {
      if (at(i + 1) != '\'') return make(kind, start, i + 1);
      ++i;
    }
  }
  unterminated("unterminated quoted string", start);
}

Token Lexer::quoted_identifier(std::size_t start) {
  for (std::size_t i = start + 1; i < query_.size(); ++i) {
    if (query_[i] != '"') continue;
    if (at(i + 1) == '"') {
      ++i;
      continue;
    }
    if (i == start + 1) {
      fail(sqlstate::syntax_error, "zero-length delimited identifier" + quote_near("\"\""), position(start));
    }
    return make(TokenKind::quoted_identifier, start, i + 1);
  }
  unterminated("unterminated quoted identifier", start);
}

Token Lexer::word(std::size_t start) {
  std::size_t end = start;
  while (end < query_.size() && is_ident_char(query_[end])) ++end;
  return make(TokenKind::identifier, start, end);
}

// 12, 1.5, .5, 1e-3. As in PostgreSQL 15, "123abc" is the number 123 and then a word.
Token Lexer::number(std::size_t start) {
  std::size_t end = start;
  bool integer = true;
  while (is_digit(at(end))) ++end;
  if (at(end) == '.' && at(end + 1) != '.') {  // "1..2" is not a number with a point
    integer = false;
    ++end;
    while (is_digit(at(end))) ++end;
  }
  if (at(end) == 'e' || at(end) == 'E') {
    std::size_t e = end + 1;
    if (at(e) == '+' || at(e) == '-') ++e;
    if (is_digit(at(e))) {
      integer = false;
      end = e;
      while (is_digit(at(end))) ++end;
    }
  }
  return make(integer ? TokenKind::integer : TokenKind::numeric, start, end);
}

// $1 is a parameter; $tag$...$tag$ a dollar-quoted string (tag may be empty); else a stray $.
Token Lexer::dollar(std::size_t start) {
  std::size_t end = start + 1;
  if (is_digit(at(end))) {
    while (is_digit(at(end))) ++end;
    return make(TokenKind::parameter, start, end);
  }
  if (is_ident_start(at(end))) {
    while (end < query_.size() && is_ident_char(query_[end]) && query_[end] != '$') ++end;
  }
  if (at(end) != '$') return make(TokenKind::punct, start, start + 1);
  const std::string_view delimiter = query_.substr(start, end + 1 - start);
  const std::size_t close = query_.find(delimiter, end + 1);
  if (close == std::string_view::npos) unterminated("unterminated dollar-quoted string", start);
  return make(TokenKind::string, start, close + delimiter.size());
}

// A run of operator characters, cut where a comment starts. As in PostgreSQL, a multi-character
// operator cannot end in + or - unless it has a non-SQL operator character: "=-5" is "=", "-5".
Token Lexer::operator_run(std::size_t start) {
  std::size_t end = start;
  while (end < query_.size() && is_op_char(query_[end])) {
    const char c = query_[end];
    if (end > start && ((c == '-' && at(end + 1) == '-') || (c == '/' && at(end + 1) == '*'))) break;
    ++end;
  }
  const std::string_view run = query_.substr(start, end - start);
  if (run.size() > 1 && (run.back() == '+' || run.back() == '-') &&
      std::none_of(run.begin(), run.end(), is_non_sql_op_char)) {
    while (end - start > 1 && (query_[end - 1] == '+' || query_[end - 1] == '-')) --end;
  }
  return make(TokenKind::op, start, end);
}

}  // namespace pg::sql::detail
