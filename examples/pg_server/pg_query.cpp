// The simple query protocol: a Query message holds one or more SQL statements; each answers
// with its rows (RowDescription, DataRow...) and a CommandComplete, or with an ErrorResponse that
// ends the query; ReadyForQuery closes the answer. Table statements run on the shared
// TableStore; transaction control, LISTEN/NOTIFY, SHOW and SET act on the session.
//
// Most answers are built at once, into packets of about result_chunk_bytes, and returned as one
// response (wireframe queues them one by one under its outbound watermarks). A query with
// generate_series(start, stop) is answered by a Stream instead: its rows are made a packet at a
// time as the client reads them, so ten million rows take the memory of one packet, and a
// CancelRequest is seen between two packets.
#include <spdlog/spdlog.h>
#include <fmt/format.h>
#include <wireframe/response/stream.hpp>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pg_server.hpp"
#include "sql/sql_parser.hpp"

namespace pg {

using wireframe::ConnectionContext;

namespace {

template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;

// Packets of about `chunk` bytes: the answer to a query, or its next part.
class Output {
 public:
  Output(PgPacket first, std::size_t chunk) : chunk_(chunk) {
    first.clear_reply();  // the request's buffers, reused for its answer
    packets_.push_back(std::move(first));
  }
  explicit Output(std::size_t chunk) : chunk_(chunk) { packets_.emplace_back(); }

  // The writer of the current packet; a new packet once the current one is full.
  MessageWriter writer() {
    if (packets_.back().reply_size() >= chunk_) {
      packets_.emplace_back();
      reserve();  // a large answer: more full packets follow
    }
    return packets_.back().writer();
  }
  // Room for a whole packet (and the row that overflows it) in the current one, so that filling
  // it takes one allocation instead of one per doubling of its buffer.
  void reserve() { packets_.back().reserve_reply(chunk_ + chunk_ / 4); }
  [[nodiscard]] bool full() const noexcept { return packets_.back().reply_size() >= chunk_; }
  // Everything written so far (packets with something in them), leaving the output empty.
  std::vector<PgPacket> take() {
    std::vector<PgPacket> out;
    for (PgPacket& p : packets_) {
      if (p.reply_size() > 0) out.push_back(std::move(p));
    }
    packets_.clear();
    packets_.emplace_back();
    return out;
  }

 private:
  std::size_t chunk_;
  std::vector<PgPacket> packets_;
};

Reply as_reply(std::vector<PgPacket> packets) {
  if (packets.size() == 1) return Reply(std::move(packets.front()));
  return Reply(std::move(packets));
}

bool changes_data(const sql::Statement& s) {
  return std::holds_alternative<sql::CreateTable>(s) || std::holds_alternative<sql::DropTable>(s) ||
         std::holds_alternative<sql::Insert>(s) || std::holds_alternative<sql::Delete>(s);
}

bool ends_block(const sql::Statement& s) {
  const auto* t = std::get_if<sql::Transaction>(&s);
  return t != nullptr && t->kind != sql::Transaction::begin;
}

// Case-insensitive lookup of a setting (SHOW datestyle finds DateStyle).
std::map<std::string, std::string>::iterator find_setting(std::map<std::string, std::string>& settings,
                                                          std::string_view name) {
  return std::find_if(settings.begin(), settings.end(), [name](const auto& kv) {
    return std::equal(kv.first.begin(), kv.first.end(), name.begin(), name.end(),
                      [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                  std::tolower(static_cast<unsigned char>(b)); });
  });
}

bool read_only_setting(std::string_view name) {
  return name == "server_version" || name == "server_encoding" || name == "is_superuser" ||
         name == "session_authorization" || name == "integer_datetimes" || name == "in_hot_standby";
}

// One query's statements, run in order against the session and the store.
class QueryRun {
 public:
  QueryRun(std::shared_ptr<Session> session, const Services& services, std::vector<sql::ParsedStatement> statements)
      : session_(std::move(session)), services_(&services), statements_(std::move(statements)) {}

  // Runs statements into `out` until one is a generate_series (returned: the caller streams it)
  // or none is left, or one failed.
  std::optional<sql::SelectSeries> run(Output& out) {
    while (next_ < statements_.size()) {
      const sql::ParsedStatement& p = statements_[next_++];
      if (const auto* series = std::get_if<sql::SelectSeries>(&p.statement)) {
        if (refuse_in_failed_block(out)) return std::nullopt;
        return *series;
      }
      if (!execute(p.statement, out)) return std::nullopt;
    }
    return std::nullopt;
  }

  // An ErrorResponse that ends the query (the statements after it do not run).
  void fail(Output& out, std::string_view sqlstate, std::string_view message, std::size_t position = 0,
            std::string_view hint = {}) {
    out.writer().error("ERROR", sqlstate, message, position, hint);
    if (session_->tx == TxStatus::in_block) session_->tx = TxStatus::failed;
    next_ = statements_.size();
  }

  void finish(Output& out) { out.writer().ready_for_query(session_->tx); }

  [[nodiscard]] Session& session() const noexcept { return *session_; }
  [[nodiscard]] std::size_t chunk() const noexcept { return services_->config.result_chunk_bytes; }

 private:
  // PostgreSQL's rule: in a failed transaction block only COMMIT and ROLLBACK run.
  bool refuse_in_failed_block(Output& out, const sql::Statement* s = nullptr) {
    if (session_->tx != TxStatus::failed || (s != nullptr && ends_block(*s))) return false;
    fail(out, "25P02", "current transaction is aborted, commands ignored until end of transaction block");
    return true;
  }

  // False when the statement failed (the query ends).
  bool execute(const sql::Statement& s, Output& out) {
    if (refuse_in_failed_block(out, &s)) return false;
    if (session_->tx == TxStatus::in_block && changes_data(s)) ++session_->changes_in_block;
    return std::visit(Overloaded{
                          [&](const sql::Transaction& t) { return transaction(t, out); },
                          [&](const sql::Listen& l) { return listen(l, out); },
                          [&](const sql::Unlisten& u) { return unlisten(u, out); },
                          [&](const sql::Notify& n) { return notify(n, out); },
                          [&](const sql::Show& sh) { return show(sh, out); },
                          [&](const sql::Set& st) { return set(st, out); },
                          [&](const auto&) { return table_statement(s, out); },
                      },
                      s);
  }

  bool table_statement(const sql::Statement& s, Output& out) {
    auto result = services_->store->execute(s);
    if (auto* error = std::get_if<sql::SqlError>(&result)) {
      fail(out, error->sqlstate, error->message, error->position, error->hint);
      return false;
    }
    const sql::Outcome& outcome = std::get<sql::Outcome>(result);
    for (const sql::SqlError& notice : outcome.notices) out.writer().notice("NOTICE", notice.sqlstate, notice.message);
    if (outcome.rows) write_rows(*outcome.rows, out);
    out.writer().command_complete(outcome.command_tag);
    return true;
  }

  static void write_rows(const sql::ResultSet& rows, Output& out) {
    std::vector<FieldDesc> fields;
    fields.reserve(rows.columns.size());
    for (const sql::Column& c : rows.columns) fields.push_back({c.name, sql::type_oid(c.type), sql::type_size(c.type)});
    out.writer().row_description(fields);
    const auto columns = static_cast<std::int16_t>(rows.columns.size());
    for (const auto& row : rows.rows) {
      MessageWriter w = out.writer();
      w.data_row_begin(columns);
      for (const auto& value : row) {
        if (value) w.data_row_value(*value);
        else w.data_row_null();
      }
      w.data_row_end();
    }
  }

  bool transaction(const sql::Transaction& t, Output& out) {
    Session& s = *session_;
    MessageWriter w = out.writer();
    if (t.kind == sql::Transaction::begin) {
      if (s.tx != TxStatus::idle) w.notice("WARNING", "25001", "there is already a transaction in progress");
      s.tx = TxStatus::in_block;
      w.command_complete(t.start_transaction ? "START TRANSACTION" : "BEGIN");
      return true;
    }
    if (s.tx == TxStatus::idle) {
      w.notice("WARNING", "25P01", "there is no transaction in progress");
      w.command_complete(t.kind == sql::Transaction::commit ? "COMMIT" : "ROLLBACK");
      return true;
    }
    const bool commit = t.kind == sql::Transaction::commit && s.tx == TxStatus::in_block;
    if (commit) {
      for (const auto& [channel, payload] : s.pending_notifies) deliver_notify(*services_, s.pid, channel, payload);
    } else if (s.changes_in_block > 0) {
      // Said, not hidden: a client that rolls back must learn that nothing was undone.
      w.notice("WARNING", "01000",
               fmt::format("pg_server keeps no undo log: {} statement(s) that changed data in this "
                           "transaction were not rolled back", s.changes_in_block));
    }
    s.pending_notifies.clear();
    s.changes_in_block = 0;
    s.tx = TxStatus::idle;
    w.command_complete(commit ? "COMMIT" : "ROLLBACK");  // COMMIT of a failed block rolls back
    return true;
  }

  bool listen(const sql::Listen& l, Output& out) {
    Session& s = *session_;
    if (!s.channels.contains(l.channel) && s.channels.size() >= services_->config.max_listen_channels) {
      fail(out, "54000", fmt::format("too many LISTEN channels (at most {} per session)",
                                     services_->config.max_listen_channels));
      return false;
    }
    s.channels.insert(l.channel);
    services_->directory->listen(s.pid, l.channel);
    out.writer().command_complete("LISTEN");
    return true;
  }

  bool unlisten(const sql::Unlisten& u, Output& out) {
    Session& s = *session_;
    if (u.all) {
      for (const std::string& channel : s.channels) services_->directory->unlisten(s.pid, channel);
      s.channels.clear();
    } else {
      s.channels.erase(u.channel);
      services_->directory->unlisten(s.pid, u.channel);
    }
    out.writer().command_complete("UNLISTEN");
    return true;
  }

  bool notify(const sql::Notify& n, Output& out) {
    Session& s = *session_;
    if (n.payload.size() > services_->config.max_notify_payload) {
      fail(out, "22023", "payload string too long");
      return false;
    }
    if (s.tx == TxStatus::in_block) {  // sent at COMMIT, once per distinct (channel, payload)
      const std::pair<std::string, std::string> note{n.channel, n.payload};
      if (std::find(s.pending_notifies.begin(), s.pending_notifies.end(), note) == s.pending_notifies.end()) {
        if (s.pending_notifies.size() >= services_->config.max_pending_notifies) {
          fail(out, "54000", "too many notifications in one transaction");
          return false;
        }
        s.pending_notifies.push_back(note);
      }
    } else {
      deliver_notify(*services_, s.pid, n.channel, n.payload);
    }
    out.writer().command_complete("NOTIFY");
    return true;
  }

  bool show(const sql::Show& sh, Output& out) {
    std::map<std::string, std::string>& settings = session_->settings;
    MessageWriter w = out.writer();
    if (sh.name == "all") {
      const FieldDesc fields[] = {{"name", 25, -1}, {"setting", 25, -1}};
      w.row_description(fields);
      for (const auto& [name, value] : settings) {
        w.data_row_begin(2);
        w.data_row_value(name);
        w.data_row_value(value);
        w.data_row_end();
      }
      w.command_complete("SHOW");
      return true;
    }
    auto it = find_setting(settings, sh.name);
    if (it == settings.end()) {
      fail(out, "42704", fmt::format("unrecognized configuration parameter \"{}\"", sh.name));
      return false;
    }
    const FieldDesc field{sh.name, 25, -1};
    w.row_description(std::span<const FieldDesc>(&field, 1));
    w.data_row_begin(1);
    w.data_row_value(it->second);
    w.data_row_end();
    w.command_complete("SHOW");
    return true;
  }

  // SET, SET LOCAL (kept for the session: there are no real transactions), SET ... TO DEFAULT
  // and RESET. A reported parameter that changes is reported again (ParameterStatus).
  bool set(const sql::Set& st, Output& out) {
    std::map<std::string, std::string>& settings = session_->settings;
    auto it = find_setting(settings, st.name);
    if (it != settings.end() && read_only_setting(it->first)) {
      fail(out, "55P02", fmt::format("parameter \"{}\" cannot be changed", it->first));
      return false;
    }
    MessageWriter w = out.writer();
    if (it == settings.end()) {
      // Not one PostgreSQL reports to the client: kept for SHOW only.
      if (!st.to_default) settings[st.name] = st.value;
    } else {
      const auto initial = find_setting(session_->initial_settings, it->first);
      it->second = st.to_default && initial != session_->initial_settings.end() ? initial->second : st.value;
      w.parameter_status(it->first, it->second);
    }
    w.command_complete(st.reset ? "RESET" : "SET");
    return true;
  }

  std::shared_ptr<Session> session_;
  const Services* services_;  // the app's state: outlives every connection
  std::vector<sql::ParsedStatement> statements_;
  std::size_t next_ = 0;
};

// --- generate_series ------------------------------------------------------------------------------

bool fits_int4(std::int64_t v) {
  return v >= std::numeric_limits<std::int32_t>::min() && v <= std::numeric_limits<std::int32_t>::max();
}

// Rows from `from` on, into the current packet until it is full; returns the next value to
// write, or nullopt when `stop` was written.
std::optional<std::int64_t> write_series_rows(Output& out, std::int64_t from, std::int64_t stop,
                                              std::uint64_t& count) {
  MessageWriter w = out.writer();
  char text[24];
  for (std::int64_t v = from;; ++v) {
    const auto r = std::to_chars(text, text + sizeof text, v);
    w.data_row_begin(1);
    w.data_row_value(std::string_view(text, static_cast<std::size_t>(r.ptr - text)));
    w.data_row_end();
    ++count;
    if (v == stop) return std::nullopt;  // before ++v: stop may be INT64_MAX
    if (out.full()) return v + 1;
  }
}

// The rest of a query from its first generate_series on: the packets already made, then the
// series a packet at a time (checking for a cancel between packets), then the statements after
// it, then ReadyForQuery.
// [snippet stream]
wireframe::Stream<PgPacket> stream_rest(std::shared_ptr<QueryRun> run, std::vector<PgPacket> ready,
                                        sql::SelectSeries series) {
  for (PgPacket& p : ready) co_yield std::move(p);
  Output out(run->chunk());
  std::optional<sql::SelectSeries> next = series;
  while (next) {
    const sql::SelectSeries s = *next;
    const bool int4 = fits_int4(s.start) && fits_int4(s.stop);
    const FieldDesc field{s.column, int4 ? 23u : 20u, static_cast<std::int16_t>(int4 ? 4 : 8)};
    out.writer().row_description(std::span<const FieldDesc>(&field, 1));
    std::uint64_t count = 0;
    std::optional<std::int64_t> from;
    if (s.start <= s.stop) from = s.start;
    bool cancelled = false;
    while (from) {
      out.reserve();
      from = write_series_rows(out, *from, s.stop, count);
      if (!from) break;
      for (PgPacket& p : out.take()) co_yield std::move(p);
      if (run->session().cancel->exchange(false)) {
        cancelled = true;
        break;
      }
    }
    if (cancelled) {
      run->fail(out, "57014", "canceling statement due to user request");
      break;
    }
    out.writer().command_complete(fmt::format("SELECT {}", count));
    next = run->run(out);
  }
  run->finish(out);
  for (PgPacket& p : out.take()) co_yield std::move(p);
// [end snippet stream]
}

}  // namespace

Reply query(PgPacket& request, ConnectionContext& ctx) {
  std::shared_ptr<Session> session = shared_session_of(ctx);
  const Services& services = ctx.state<Services>();
  if (!session || !session->authenticated) {
    request.clear_reply();
    request.writer().error("FATAL", "08P01", "expected password response, got message type 81");
    ctx.close();
    return std::move(request);
  }
  if (session->skip_until_sync) return Reply{};  // after an extended-protocol error: until Sync
  std::string_view text;
  if (!request.body_cstring(text)) {
    request.clear_reply();
    request.writer().error("FATAL", "08P01", "invalid string in message");
    ctx.close();
    return std::move(request);
  }
  session->cancel->store(false);  // a cancel that came between queries cancels nothing
  sql::ParseResult parsed = sql::parse(text);
  Output out(std::move(request), services.config.result_chunk_bytes);
  const bool empty = !parsed.error && parsed.statements.empty();
  auto run = std::make_shared<QueryRun>(session, services, std::move(parsed.statements));
  if (parsed.error) {
    // A multi-statement query that does not parse runs none of its statements.
    run->fail(out, parsed.error->sqlstate, parsed.error->message, parsed.error->position, parsed.error->hint);
  } else if (empty) {
    out.writer().empty_query_response();
  } else if (std::optional<sql::SelectSeries> series = run->run(out)) {
    return Reply(stream_rest(run, out.take(), *series));
  }
  run->finish(out);
  return as_reply(out.take());
}

}  // namespace pg
