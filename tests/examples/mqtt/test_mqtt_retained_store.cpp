// mqtt_broker's RetainedStore: store, replace, delete by empty payload (3.3.1.3), matching by
// filter, and the count and byte budgets.
#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mqtt/retained_store.hpp"

using namespace mqtt;

namespace test_mqtt_retained_store_cpp {  // this file's names, apart from the other files of a unity build

namespace {

std::vector<std::byte> payload(std::string_view s) {
  const auto b = std::as_bytes(std::span(s.data(), s.size()));
  return {b.begin(), b.end()};
}

std::vector<std::string> matching(const RetainedStore& store, std::string_view filter) {
  std::vector<std::string> topics;
  store.for_each_match(filter, [&](std::string_view topic, const RetainedMessage&) {
    topics.emplace_back(topic);
  });
  return topics;
}

using Topics = std::vector<std::string>;

}  // namespace

TEST_CASE("retained: store, replace, delete by empty payload", "[mqtt][retained]") {
  RetainedStore s;
  CHECK(s.set("a/b", payload("one"), QoS::at_least_once) == RetainOutcome::stored);
  REQUIRE(s.find("a/b") != nullptr);
  CHECK(*s.find("a/b") == RetainedMessage{payload("one"), QoS::at_least_once});
  CHECK(s.count() == 1);
  CHECK(s.bytes() == 3 + 3 + RetainedStore::entry_overhead);

  CHECK(s.set("a/b", payload("three"), QoS::at_most_once) == RetainOutcome::replaced);
  CHECK(*s.find("a/b") == RetainedMessage{payload("three"), QoS::at_most_once});
  CHECK(s.count() == 1);
  CHECK(s.bytes() == 3 + 5 + RetainedStore::entry_overhead);

  CHECK(s.set("a/b", {}, QoS::at_most_once) == RetainOutcome::deleted);  // 3.3.1-10
  CHECK(s.find("a/b") == nullptr);
  CHECK(s.count() == 0);
  CHECK(s.bytes() == 0);
  CHECK(s.set("a/b", {}, QoS::at_most_once) == RetainOutcome::deleted);  // nothing to delete
  CHECK(s.count() == 0);
  CHECK(s.set("a/+", payload("x"), QoS::at_most_once) == RetainOutcome::invalid_topic);
  CHECK(s.set("", payload("x"), QoS::at_most_once) == RetainOutcome::invalid_topic);
  CHECK(s.count() == 0);
}

TEST_CASE("retained: for_each_match", "[mqtt][retained]") {
  RetainedStore s;
  for (auto t : {"sport", "sport/tennis", "sport/tennis/player1", "sports", "sport/golf",
                 "$SYS/uptime", "/finance", "a"}) {
    REQUIRE(s.set(t, payload(t), QoS::at_most_once) == RetainOutcome::stored);
  }
  CHECK(matching(s, "sport/#") == Topics{"sport", "sport/golf", "sport/tennis", "sport/tennis/player1"});
  CHECK(matching(s, "sport/+") == Topics{"sport/golf", "sport/tennis"});
  CHECK(matching(s, "sport") == Topics{"sport"});
  CHECK(matching(s, "+") == Topics{"a", "sport", "sports"});
  CHECK(matching(s, "#") == Topics{"/finance", "a", "sport", "sport/golf", "sport/tennis",
                                    "sport/tennis/player1", "sports"});
  CHECK(matching(s, "$SYS/#") == Topics{"$SYS/uptime"});
  CHECK(matching(s, "+/finance") == Topics{"/finance"});
  CHECK(matching(s, "+/tennis/#") == Topics{"sport/tennis", "sport/tennis/player1"});
  CHECK(matching(s, "nothing/#").empty());

  std::vector<std::byte> seen;
  s.for_each_match("a", [&](std::string_view, const RetainedMessage& m) { seen = m.payload; });
  CHECK(seen == payload("a"));
}

TEST_CASE("retained: literal prefix", "[mqtt][retained]") {
  CHECK(RetainedStore::literal_prefix("sport/#") == "sport");
  CHECK(RetainedStore::literal_prefix("sport/tennis/+") == "sport/tennis");
  CHECK(RetainedStore::literal_prefix("a/+/b") == "a");
  CHECK(RetainedStore::literal_prefix("+/b") == "");
  CHECK(RetainedStore::literal_prefix("#") == "");
  CHECK(RetainedStore::literal_prefix("a/b") == "a/b");
  CHECK(RetainedStore::literal_prefix("/+") == "");
}

TEST_CASE("retained: byte budget", "[mqtt][retained]") {
  const std::size_t per = RetainedStore::entry_overhead;
  RetainedStore s(RetainedLimits{100, 2 * per + 20});  // room for 20 bytes of data in 2 entries
  CHECK(s.set("t1", payload("12345678"), QoS::at_most_once) == RetainOutcome::stored);  // 10
  CHECK(s.set("t2", payload("123456789"), QoS::at_most_once) == RetainOutcome::over_budget);  // 11
  CHECK(s.find("t2") == nullptr);
  CHECK(s.set("t2", payload("12345678"), QoS::at_most_once) == RetainOutcome::stored);  // exactly full
  CHECK(s.bytes() == 2 * per + 20);
  // Replacing counts only the difference: growing is refused and keeps the old message.
  CHECK(s.set("t1", payload("123456789"), QoS::at_most_once) == RetainOutcome::over_budget);
  CHECK(*s.find("t1") == RetainedMessage{payload("12345678"), QoS::at_most_once});
  CHECK(s.set("t1", payload("1"), QoS::at_most_once) == RetainOutcome::replaced);
  CHECK(s.bytes() == 2 * per + 13);
  CHECK(s.set("t1", {}, QoS::at_most_once) == RetainOutcome::deleted);
  CHECK(s.bytes() == per + 10);
}

TEST_CASE("retained: message count limit", "[mqtt][retained]") {
  RetainedStore s(RetainedLimits{2, 1 << 20});
  CHECK(s.set("a", payload("x"), QoS::at_most_once) == RetainOutcome::stored);
  CHECK(s.set("b", payload("x"), QoS::at_most_once) == RetainOutcome::stored);
  CHECK(s.set("c", payload("x"), QoS::at_most_once) == RetainOutcome::too_many_messages);
  CHECK(s.set("b", payload("y"), QoS::exactly_once) == RetainOutcome::replaced);  // not a new one
  CHECK(s.count() == 2);
  CHECK(s.set("a", {}, QoS::at_most_once) == RetainOutcome::deleted);
  CHECK(s.set("c", payload("x"), QoS::at_most_once) == RetainOutcome::stored);
}

}  // namespace test_mqtt_retained_store_cpp
