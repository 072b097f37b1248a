// mqtt_broker's SubscriptionTree: matching through the trie, overlapping filters delivered once
// at the highest QoS, replace / unsubscribe / remove_all, pruning, and the limits.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "mqtt/subscription_tree.hpp"

using namespace mqtt;

namespace test_mqtt_subscription_tree_cpp {  // this file's names, apart from the other files of a unity build

namespace {
constexpr QoS q0 = QoS::at_most_once;
constexpr QoS q1 = QoS::at_least_once;
constexpr QoS q2 = QoS::exactly_once;
using Subs = std::vector<Subscriber>;
}  // namespace

TEST_CASE("tree: exact and wildcard filters", "[mqtt][tree]") {
  SubscriptionTree t;
  CHECK(t.subscribe("sport/tennis/player1", 1, q0) == SubscribeOutcome::added);
  CHECK(t.subscribe("sport/tennis/+", 2, q1) == SubscribeOutcome::added);
  CHECK(t.subscribe("sport/#", 3, q2) == SubscribeOutcome::added);
  CHECK(t.subscribe("#", 4, q0) == SubscribeOutcome::added);
  CHECK(t.subscribe("+/+", 5, q1) == SubscribeOutcome::added);
  CHECK(t.size() == 5);

  CHECK(t.match("sport/tennis/player1") == Subs{{1, q0}, {2, q1}, {3, q2}, {4, q0}});
  CHECK(t.match("sport/tennis/player2") == Subs{{2, q1}, {3, q2}, {4, q0}});
  CHECK(t.match("sport") == Subs{{3, q2}, {4, q0}});  // "sport/#" matches the parent level
  CHECK(t.match("sport/x") == Subs{{3, q2}, {4, q0}, {5, q1}});
  CHECK(t.match("news/x") == Subs{{4, q0}, {5, q1}});
  CHECK(t.match("/finance") == Subs{{4, q0}, {5, q1}});
  CHECK(t.match("sport/tennis/player1/ranking") == Subs{{3, q2}, {4, q0}});
  CHECK(t.match("sport/tennis/") == Subs{{2, q1}, {3, q2}, {4, q0}});  // "+" on an empty level
}

TEST_CASE("tree: $ topics are not matched by leading wildcards (4.7.2)", "[mqtt][tree]") {
  SubscriptionTree t;
  t.subscribe("#", 1, q0);
  t.subscribe("+/monitor/Clients", 2, q0);
  t.subscribe("$SYS/#", 3, q1);
  t.subscribe("$SYS/monitor/+", 4, q2);
  CHECK(t.match("$SYS/monitor/Clients") == Subs{{3, q1}, {4, q2}});
  CHECK(t.match("x/monitor/Clients") == Subs{{1, q0}, {2, q0}});
}

TEST_CASE("tree: overlapping subscriptions deliver once at the highest QoS", "[mqtt][tree]") {
  SubscriptionTree t;
  t.subscribe("a/b", 7, q0);
  t.subscribe("a/+", 7, q2);
  t.subscribe("#", 7, q1);
  t.subscribe("a/#", 8, q1);
  t.subscribe("a/b", 8, q0);
  CHECK(t.match("a/b") == Subs{{7, q2}, {8, q1}});
  CHECK(t.match("a/c") == Subs{{7, q2}, {8, q1}});
  CHECK(t.match("z") == Subs{{7, q1}});
}

TEST_CASE("tree: subscribing again replaces the QoS (3.8.4-3)", "[mqtt][tree]") {
  SubscriptionTree t;
  CHECK(t.subscribe("a/+", 1, q2) == SubscribeOutcome::added);
  CHECK(t.subscribe("a/+", 1, q0) == SubscribeOutcome::replaced);
  CHECK(t.size() == 1);
  CHECK(t.match("a/b") == Subs{{1, q0}});
}

TEST_CASE("tree: unsubscribe and pruning", "[mqtt][tree]") {
  SubscriptionTree t;
  t.subscribe("a/b/c", 1, q1);
  t.subscribe("a/b/c", 2, q1);
  t.subscribe("a/+", 1, q0);
  CHECK(t.node_count() == 4);  // a, a/b, a/b/c, a/+
  CHECK(t.unsubscribe("a/b/c", 1));
  CHECK_FALSE(t.unsubscribe("a/b/c", 1));  // already gone
  CHECK_FALSE(t.unsubscribe("a/b", 1));    // never there; a/b is only a path
  CHECK_FALSE(t.unsubscribe("x/#", 9));
  CHECK(t.match("a/b/c") == Subs{{2, q1}});
  CHECK(t.node_count() == 4);  // still used by subscriber 2
  CHECK(t.unsubscribe("a/b/c", 2));
  CHECK(t.match("a/b/c").empty());
  CHECK(t.node_count() == 2);  // a/b/c and a/b pruned; a and a/+ stay
  CHECK(t.unsubscribe("a/+", 1));
  CHECK(t.node_count() == 0);
  CHECK(t.size() == 0);
  CHECK(t.filters_of(1).empty());
}

TEST_CASE("tree: remove_all", "[mqtt][tree]") {
  SubscriptionTree t;
  t.subscribe("a", 1, q0);
  t.subscribe("a/#", 1, q1);
  t.subscribe("+", 1, q2);
  t.subscribe("a", 2, q1);
  CHECK(t.filters_of(1) == std::vector<std::string>{"+", "a", "a/#"});
  CHECK(t.remove_all(1) == 3);
  CHECK(t.remove_all(1) == 0);
  CHECK(t.size() == 1);
  CHECK(t.match("a") == Subs{{2, q1}});
  CHECK(t.node_count() == 1);
  CHECK(t.remove_all(2) == 1);
  CHECK(t.node_count() == 0);
  CHECK(t.match("a").empty());
}

TEST_CASE("tree: invalid filters and names", "[mqtt][tree]") {
  SubscriptionTree t;
  CHECK(t.subscribe("a/#/b", 1, q0) == SubscribeOutcome::invalid_filter);
  CHECK(t.subscribe("", 1, q0) == SubscribeOutcome::invalid_filter);
  CHECK(t.size() == 0);
  CHECK(t.node_count() == 0);
  t.subscribe("+", 1, q0);
  CHECK(t.match("").empty());
  CHECK(t.match("+").empty());  // not a topic name
}

TEST_CASE("tree: limits", "[mqtt][tree]") {
  SubscriptionTree t(TreeLimits{3, 2, 3});
  CHECK(t.subscribe("a/b/c", 1, q0) == SubscribeOutcome::added);
  CHECK(t.subscribe("a/b/c/d", 1, q0) == SubscribeOutcome::too_many_levels);
  CHECK(t.subscribe("a/+", 1, q0) == SubscribeOutcome::added);
  CHECK(t.subscribe("b", 1, q0) == SubscribeOutcome::limit_reached);  // per subscriber
  CHECK(t.subscribe("a/+", 1, q2) == SubscribeOutcome::replaced);     // not a new one
  CHECK(t.subscribe("b", 2, q0) == SubscribeOutcome::added);
  CHECK(t.subscribe("c", 3, q0) == SubscribeOutcome::limit_reached);  // in all
  CHECK(t.size() == 3);
  CHECK(t.unsubscribe("b", 2));
  CHECK(t.subscribe("c", 3, q0) == SubscribeOutcome::added);
}

TEST_CASE("tree: deep topics are walked without trouble", "[mqtt][tree]") {
  SubscriptionTree t;
  t.subscribe("#", 1, q0);
  t.subscribe("+/+/#", 2, q1);
  const std::string deep(65'535, '/');  // 65536 empty levels
  CHECK(t.match(deep) == Subs{{1, q0}, {2, q1}});
}

}  // namespace test_mqtt_subscription_tree_cpp
