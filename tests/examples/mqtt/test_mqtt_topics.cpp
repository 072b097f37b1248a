// mqtt_broker's UTF-8 check (1.5.3) and topic rules (4.7): validity of names and filters, and
// matching, with the standard's own examples.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "mqtt/topic.hpp"
#include "mqtt/utf8.hpp"

using namespace mqtt;
using namespace std::string_view_literals;

namespace test_mqtt_topics_cpp {  // this file's names, apart from the other files of a unity build

TEST_CASE("UTF-8: well-formed strings", "[mqtt][utf8]") {
  CHECK(valid_utf8(""));
  CHECK(valid_utf8("plain ascii"));
  CHECK(valid_utf8("caf\xC3\xA9"));                 // U+00E9
  CHECK(valid_utf8("\xE2\x82\xAC"));                // U+20AC
  CHECK(valid_utf8("\xEF\xBB\xBF"));                // U+FEFF: kept, not skipped (1.5.3-3)
  CHECK(valid_utf8("\xF0\x9F\x98\x80"));            // U+1F600
  CHECK(valid_utf8("\xF4\x8F\xBF\xBF"));            // U+10FFFF
  CHECK(valid_utf8("\xED\x9F\xBF"));                // U+D7FF, just below the surrogates
  CHECK(valid_utf8("\x01\x7F"));                    // control characters: SHOULD NOT only
}

TEST_CASE("UTF-8: ill-formed strings and U+0000", "[mqtt][utf8]") {
  CHECK_FALSE(valid_utf8("a\0b"sv));                // 1.5.3-2
  CHECK_FALSE(valid_utf8("\xC0\x80"));              // overlong U+0000
  CHECK_FALSE(valid_utf8("\xC1\xBF"));              // overlong U+007F
  CHECK_FALSE(valid_utf8("\xE0\x9F\xBF"));          // overlong U+07FF
  CHECK_FALSE(valid_utf8("\xF0\x8F\xBF\xBF"));      // overlong U+FFFF
  CHECK_FALSE(valid_utf8("\xED\xA0\x80"));          // U+D800 surrogate (1.5.3-1)
  CHECK_FALSE(valid_utf8("\xED\xBF\xBF"));          // U+DFFF surrogate
  CHECK_FALSE(valid_utf8("\xF4\x90\x80\x80"));      // U+110000
  CHECK_FALSE(valid_utf8("\xF8\x88\x80\x80\x80"));  // 5-byte form
  CHECK_FALSE(valid_utf8("\x80"));                  // lone continuation byte
  CHECK_FALSE(valid_utf8("\xC3"));                  // truncated at the end
  CHECK_FALSE(valid_utf8("\xE2\x82"));
  CHECK_FALSE(valid_utf8("\xC3\x28"));              // bad continuation byte
  CHECK_FALSE(valid_utf8("\xFF"));
}

TEST_CASE("topic names", "[mqtt][topic]") {
  CHECK(valid_topic_name("sport/tennis/player1"));
  CHECK(valid_topic_name("/"));       // two empty levels (4.7.1.1)
  CHECK(valid_topic_name("a//b"));
  CHECK(valid_topic_name("$SYS/broker"));
  CHECK(valid_topic_name(" "));
  CHECK_FALSE(valid_topic_name(""));  // 4.7.3-1
  CHECK_FALSE(valid_topic_name("sport/+"));
  CHECK_FALSE(valid_topic_name("sport/#"));
  CHECK_FALSE(valid_topic_name("a+b"));
  CHECK_FALSE(valid_topic_name("a\0b"sv));
  CHECK_FALSE(valid_topic_name("\xC0\x80"));
  CHECK(valid_topic_name(std::string(65'535, 'a')));
  CHECK_FALSE(valid_topic_name(std::string(65'536, 'a')));  // 4.7.3-3
}

TEST_CASE("topic filters (4.7.1.2, 4.7.1.3)", "[mqtt][topic]") {
  for (auto f : {"sport/tennis/player1/#", "sport/#", "#", "+", "+/tennis/#", "sport/+/player1",
                 "/+", "+/+", "sport/tennis/#", "a//b", "$SYS/#", "/"}) {
    INFO(f);
    CHECK(valid_topic_filter(f));
  }
  for (auto f : {"sport/tennis#", "sport/tennis/#/ranking", "sport+", "#/a", "a/#/", "++", "a/b+",
                 "+a", ""}) {
    INFO(f);
    CHECK_FALSE(valid_topic_filter(f));
  }
  CHECK_FALSE(valid_topic_filter(std::string(65'536, 'a')));
  CHECK_FALSE(valid_topic_filter("a/\xFF"));
}

TEST_CASE("matching: the multi-level wildcard (4.7.1.2)", "[mqtt][topic]") {
  CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1"));
  CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/ranking"));
  CHECK(topic_matches("sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon"));
  CHECK(topic_matches("sport/#", "sport"));  // the parent level too
  CHECK(topic_matches("#", "sport/tennis"));
  CHECK(topic_matches("#", "/"));
  CHECK_FALSE(topic_matches("sport/tennis/player1/#", "sport/tennis/player2"));
  CHECK_FALSE(topic_matches("sport/#", "sports"));
  CHECK_FALSE(topic_matches("sport/tennis/#", "sport"));
}

TEST_CASE("matching: the single-level wildcard (4.7.1.3)", "[mqtt][topic]") {
  CHECK(topic_matches("sport/tennis/+", "sport/tennis/player1"));
  CHECK(topic_matches("sport/tennis/+", "sport/tennis/player2"));
  CHECK_FALSE(topic_matches("sport/tennis/+", "sport/tennis/player1/ranking"));
  CHECK_FALSE(topic_matches("sport/+", "sport"));
  CHECK(topic_matches("sport/+", "sport/"));  // "+" matches an empty level
  CHECK(topic_matches("+/+", "/finance"));
  CHECK(topic_matches("/+", "/finance"));
  CHECK_FALSE(topic_matches("+", "/finance"));
  CHECK(topic_matches("+", "finance"));
  CHECK(topic_matches("+/tennis/#", "sport/tennis/player1"));
  CHECK(topic_matches("+/+/+", "a//c"));
  CHECK_FALSE(topic_matches("+/+/+", "a/b"));
}

TEST_CASE("matching: exact filters and empty levels", "[mqtt][topic]") {
  CHECK(topic_matches("a/b", "a/b"));
  CHECK_FALSE(topic_matches("a/b", "a/b/"));
  CHECK_FALSE(topic_matches("a/b/", "a/b"));
  CHECK_FALSE(topic_matches("a/b", "a"));
  CHECK_FALSE(topic_matches("a", "a/b"));
  CHECK(topic_matches("/", "/"));
  CHECK_FALSE(topic_matches("ACCOUNTS", "Accounts"));  // case-sensitive (4.7.3)
}

TEST_CASE("matching: topics starting with $ (4.7.2)", "[mqtt][topic]") {
  CHECK_FALSE(topic_matches("#", "$SYS/monitor/Clients"));
  CHECK_FALSE(topic_matches("+/monitor/Clients", "$SYS/monitor/Clients"));
  CHECK(topic_matches("$SYS/#", "$SYS/monitor/Clients"));
  CHECK(topic_matches("$SYS/monitor/+", "$SYS/monitor/Clients"));
  CHECK(topic_matches("$SYS", "$SYS"));
  CHECK_FALSE(topic_matches("#", "$"));
  CHECK(topic_matches("#", "a/$b"));  // only the first character counts
  CHECK(topic_matches("a/+", "a/$b"));
}

TEST_CASE("level counting and walking", "[mqtt][topic]") {
  CHECK(topic_level_count("a") == 1);
  CHECK(topic_level_count("/") == 2);
  CHECK(topic_level_count("a//b/") == 4);
  LevelReader r("a//b");
  REQUIRE_FALSE(r.done());
  CHECK(r.next() == "a");
  CHECK(r.next() == "");
  CHECK(r.next() == "b");
  CHECK(r.done());
}

}  // namespace test_mqtt_topics_cpp
