// Token values: folded identifiers, unescaped strings, keywords.
#include <algorithm>
#include <array>
#include <cstdint>

#include "sql_lexer.hpp"

namespace pg::sql::detail {

namespace {

// Strips the outer quotes and halves the doubled ones.
std::string unquote(std::string_view quoted, char quote) {
  std::string out;
  out.reserve(quoted.size());
  for (std::size_t i = 1; i + 1 < quoted.size(); ++i) {
    out += quoted[i];
    if (quoted[i] == quote) ++i;
  }
  return out;
}

void truncate_identifier(std::string& name) {
  if (name.size() <= max_identifier_bytes) return;
  std::size_t cut = max_identifier_bytes;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;
  name.resize(cut);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  auto byte = [&out](std::uint32_t v) { out += static_cast<char>(static_cast<unsigned char>(v)); };
  if (cp < 0x80) {
    byte(cp);
  } else if (cp < 0x800) {
    byte(0xC0 | (cp >> 6));
    byte(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    byte(0xE0 | (cp >> 12));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  } else {
    byte(0xF0 | (cp >> 18));
    byte(0x80 | ((cp >> 12) & 0x3F));
    byte(0x80 | ((cp >> 6) & 0x3F));
    byte(0x80 | (cp & 0x3F));
  }
}

// Decodes E'' escapes: \b \f \n \r \t, \ooo octal, \xhh hex, \uXXXX and \UXXXXXXXX (UTF-16
// surrogate pairs combined), any other \c is c; '' is '. Errors are PostgreSQL's.
class EscapeDecoder {
 public:
  EscapeDecoder(std::string_view body, std::size_t position) : body_(body), position_(position) {}

  std::string run() {
    while (i_ < body_.size()) {
      const char c = body_[i_++];
      if (c == '\'') ++i_;  // the second quote of ''
      if (c == '\\') escape();
      else out_ += c;
    }
    if (auto bad = check_encoding(out_)) fail(bad->sqlstate.c_str(), bad->message, position_);
    return std::move(out_);
  }

 private:
  void escape() {
    const char e = body_[i_++];  // the lexer put a character after every backslash
    switch (e) {
      case 'b': out_ += '\b'; return;
      case 'f': out_ += '\f'; return;
      case 'n': out_ += '\n'; return;
      case 'r': out_ += '\r'; return;
      case 't': out_ += '\t'; return;
      case 'x': return hex_byte();
      case 'u': return unicode(4);
      case 'U': return unicode(8);
      default: break;
    }
    if (e >= '0' && e <= '7') return octal_byte(e);
    out_ += e;
  }

  void hex_byte() {
    int v = 0;
    std::size_t n = 0;
    for (; n < 2 && i_ < body_.size() && hex_value(body_[i_]) >= 0; ++n) v = v * 16 + hex_value(body_[i_++]);
    if (n == 0) out_ += 'x';  // PostgreSQL: \x without a hex digit is x
    else out_ += static_cast<char>(static_cast<unsigned char>(v));
  }

  void octal_byte(char first) {
    int v = first - '0';
    for (std::size_t n = 1; n < 3 && i_ < body_.size() && body_[i_] >= '0' && body_[i_] <= '7'; ++n) {
      v = v * 8 + (body_[i_++] - '0');
    }
    out_ += static_cast<char>(static_cast<unsigned char>(v & 0xFF));
  }

  std::uint32_t code_point(std::size_t digits) {
    if (i_ + digits > body_.size()) bad_escape();
    std::uint32_t v = 0;
    for (std::size_t n = 0; n < digits; ++n) {
      const int h = hex_value(body_[i_ + n]);
      if (h < 0) bad_escape();
      v = v * 16 + static_cast<std::uint32_t>(h);
    }
    i_ += digits;
    return v;
  }

  void unicode(std::size_t digits) {
    std::uint32_t cp = code_point(digits);
    if (cp >= 0xDC00 && cp <= 0xDFFF) bad_pair();
    if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate: the low one must follow
      if (i_ + 1 >= body_.size() || body_[i_] != '\\' || (body_[i_ + 1] != 'u' && body_[i_ + 1] != 'U')) bad_pair();
      const std::size_t low_digits = body_[i_ + 1] == 'u' ? 4 : 8;
      i_ += 2;
      const std::uint32_t low = code_point(low_digits);
      if (low < 0xDC00 || low > 0xDFFF) bad_pair();
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    if (cp == 0 || cp > 0x10FFFF) fail(sqlstate::syntax_error, "invalid Unicode escape value", position_);
    append_utf8(out_, cp);
  }

  [[noreturn]] void bad_escape() const {
    fail(sqlstate::syntax_error, "invalid Unicode escape", position_,
         "Unicode escapes must be \\uXXXX or \\UXXXXXXXX.");
  }
  [[noreturn]] void bad_pair() const { fail(sqlstate::syntax_error, "invalid Unicode surrogate pair", position_); }

  std::string_view body_;
  std::size_t position_;
  std::size_t i_ = 0;
  std::string out_;
};

// PostgreSQL 16's reserved (R) and type/function-name (T) keywords, sorted.
constexpr std::array<std::string_view, 101> reserved_words = {
    "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric",
    "authorization", "binary", "both", "case", "cast", "check", "collate", "collation", "column",
    "concurrently", "constraint", "create", "cross", "current_catalog", "current_date",
    "current_role", "current_schema", "current_time", "current_timestamp", "current_user",
    "default", "deferrable", "desc", "distinct", "do", "else", "end", "except", "false", "fetch",
    "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike", "in",
    "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading",
    "left", "like", "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null",
    "offset", "on", "only", "or", "order", "outer", "overlaps", "placing", "primary",
    "references", "returning", "right", "select", "session_user", "similar", "some", "symmetric",
    "system_user", "table", "tablesample", "then", "to", "trailing", "true", "union", "unique",
    "user", "using", "variadic", "verbose", "when", "where", "window", "with"};

}  // namespace

std::string identifier_value(const Token& t) {
  std::string name = t.kind == TokenKind::quoted_identifier ? unquote(t.text, '"') : lower_ascii(t.text);
  truncate_identifier(name);
  return name;
}

std::string string_value(const Token& t, Lexer& lexer) {
  std::string_view text = t.text;
  if (text.front() == '$') {  // $tag$...$tag$
    const std::size_t delimiter = text.find('$', 1) + 1;
    return std::string(text.substr(delimiter, text.size() - 2 * delimiter));
  }
  if (text.front() != '\'') text.remove_prefix(1);  // E or N
  if (t.kind != TokenKind::escape_string) return unquote(text, '\'');
  return EscapeDecoder(text.substr(1, text.size() - 2), lexer.position(t.offset)).run();
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string upper_ascii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool is_keyword(const Token& t, std::string_view keyword) {
  if (t.kind != TokenKind::identifier || t.text.size() != keyword.size()) return false;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    char c = t.text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != keyword[i]) return false;
  }
  return true;
}

bool is_reserved_word(std::string_view word) {
  return std::binary_search(reserved_words.begin(), reserved_words.end(), word);
}

}  // namespace pg::sql::detail
