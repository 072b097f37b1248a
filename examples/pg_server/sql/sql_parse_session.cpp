// Transactions, LISTEN/UNLISTEN/NOTIFY, SHOW, SET and RESET: parsed here, run by the server.
#include "sql_parser_impl.hpp"

namespace pg::sql::detail {

// BEGIN [WORK | TRANSACTION] [modes]
Statement Parser::begin() {
  take();
  if (!take_keyword("work")) take_keyword("transaction");
  transaction_modes();
  return Transaction{Transaction::begin, false};
}

// START TRANSACTION [modes]
Statement Parser::start() {
  take();
  expect_keyword("transaction");
  transaction_modes();
  return Transaction{Transaction::begin, true};
}

// COMMIT | END [WORK | TRANSACTION] [AND NO CHAIN]
Statement Parser::commit() {
  take();
  if (at_keyword("prepared")) unsupported(current_, "two-phase commit is not supported");
  if (!take_keyword("work")) take_keyword("transaction");
  chain();
  return Transaction{Transaction::commit, false};
}

// ROLLBACK | ABORT [WORK | TRANSACTION] [AND NO CHAIN]
Statement Parser::rollback() {
  take();
  if (at_keyword("prepared")) unsupported(current_, "two-phase commit is not supported");
  if (!take_keyword("work")) take_keyword("transaction");
  if (at_keyword("to")) unsupported(current_, "savepoints are not supported");
  chain();
  return Transaction{Transaction::rollback, false};
}

// ISOLATION LEVEL ..., READ WRITE | READ ONLY, [NOT] DEFERRABLE, optionally comma-separated:
// accepted and ignored (there is no concurrency control to tune).
void Parser::transaction_modes() {
  bool need_mode = false;  // after a comma
  for (;;) {
    if (take_keyword("isolation")) {
      expect_keyword("level");
      if (take_keyword("repeatable")) {
        expect_keyword("read");
      } else if (take_keyword("read")) {
        if (!take_keyword("committed")) expect_keyword("uncommitted");
      } else {
        expect_keyword("serializable");
      }
    } else if (take_keyword("read")) {
      if (!take_keyword("only")) expect_keyword("write");
    } else if (take_keyword("not")) {
      expect_keyword("deferrable");
    } else if (!take_keyword("deferrable")) {
      if (need_mode) syntax_error(current_);
      return;
    }
    need_mode = take_punct(',');
  }
}

// [AND [NO] CHAIN]
void Parser::chain() {
  const Token and_token = current_;
  if (!take_keyword("and")) return;
  if (take_keyword("no")) {
    expect_keyword("chain");
    return;
  }
  expect_keyword("chain");
  unsupported(and_token, "AND CHAIN is not supported");
}

Statement Parser::listen() {
  take();
  return Listen{name()};
}

// UNLISTEN channel | *
Statement Parser::unlisten() {
  take();
  if (at_op("*")) {
    take();
    return Unlisten{{}, true};
  }
  return Unlisten{name(), false};
}

// NOTIFY channel [, 'payload']
Statement Parser::notify() {
  take();
  Notify n;
  n.channel = name();
  if (take_punct(',')) {
    const Token t = current_;
    if (t.kind != TokenKind::string && t.kind != TokenKind::escape_string) syntax_error(t);
    n.payload = string_value(take(), lexer_);
  }
  return n;
}

// SHOW name | ALL | TIME ZONE | TRANSACTION ISOLATION LEVEL | SESSION AUTHORIZATION
Statement Parser::show() {
  take();
  if (take_keyword("all")) return Show{"all"};
  if (at_keyword("time") && is_keyword(lookahead(), "zone")) {
    take();
    take();
    return Show{"timezone"};
  }
  if (at_keyword("transaction") && is_keyword(lookahead(), "isolation")) {
    take();
    take();
    expect_keyword("level");
    return Show{"transaction_isolation"};
  }
  if (at_keyword("session") && is_keyword(lookahead(), "authorization")) {
    take();
    take();
    return Show{"session_authorization"};
  }
  return Show{var_name()};
}

// SET [SESSION | LOCAL] name {TO | =} {value [, ...] | DEFAULT}, SET TIME ZONE value,
// SET NAMES value, SET SCHEMA 'name'.
Statement Parser::set() {
  take();
  Set s;
  if (take_keyword("local")) {
    s.local = true;
  } else if (at_keyword("session") && !is_keyword(lookahead(), "authorization") &&
             !is_keyword(lookahead(), "characteristics")) {
    take();
  }
  for (const char* word : {"transaction", "session", "role", "constraints"}) {
    if (at_keyword(word)) unsupported(current_, "SET " + upper_ascii(word) + " is not supported");
  }
  if (at_keyword("time") && is_keyword(lookahead(), "zone")) {
    take();
    take();
    s.name = "timezone";
    s.to_default = take_keyword("local") || take_keyword("default");
    if (!s.to_default) s.value = var_value();
    return s;
  }
  if (take_keyword("names")) {
    s.name = "client_encoding";
  } else if (take_keyword("schema")) {
    s.name = "search_path";
  } else {
    s.name = var_name();
    if (at_keyword("from")) unsupported(current_, "SET ... FROM CURRENT is not supported");
    if (!take_keyword("to") && !at_op("=")) syntax_error(current_);
    if (at_op("=")) take();
  }
  s.to_default = take_keyword("default");
  if (!s.to_default) s.value = var_values();
  return s;
}

// RESET name | ALL | TIME ZONE | SESSION AUTHORIZATION | TRANSACTION ISOLATION LEVEL
Statement Parser::reset() {
  take();
  Set s;
  s.reset = true;
  s.to_default = true;
  if (take_keyword("all")) {
    s.name = "all";
  } else if (at_keyword("time") && is_keyword(lookahead(), "zone")) {
    take();
    take();
    s.name = "timezone";
  } else if (at_keyword("session") && is_keyword(lookahead(), "authorization")) {
    take();
    take();
    s.name = "session_authorization";
  } else if (at_keyword("transaction") && is_keyword(lookahead(), "isolation")) {
    take();
    take();
    expect_keyword("level");
    s.name = "transaction_isolation";
  } else {
    s.name = var_name();
  }
  return s;
}

// name[.name...]: custom settings are dotted ("myapp.mode").
std::string Parser::var_name() {
  std::string result = name();
  while (take_punct('.')) {
    result += '.';
    result += name();
  }
  return result;
}

std::string Parser::var_values() {
  std::string result = var_value();
  while (take_punct(',')) {
    result += ", ";
    result += var_value();
  }
  return result;
}

// A string (its value), a signed number (as written), a name (folded), ON, TRUE or FALSE.
std::string Parser::var_value() {
  const Token t = current_;
  if (t.kind == TokenKind::string || t.kind == TokenKind::escape_string) return string_value(take(), lexer_);
  const bool sign = t.kind == TokenKind::op && (t.text == "-" || t.text == "+");
  const TokenKind number = sign ? lookahead().kind : t.kind;
  if (number == TokenKind::integer || number == TokenKind::numeric) {
    std::string text = sign && t.text == "-" ? "-" : "";
    if (sign) take();
    text += take().text;
    return text;
  }
  if (at_name() || at_keyword("on") || at_keyword("true") || at_keyword("false")) return identifier_value(take());
  syntax_error(t);
}

}  // namespace pg::sql::detail
