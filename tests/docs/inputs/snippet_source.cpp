// Test input for tests/docs/test_doc_blocks.py: a compiled file that a page quotes between
// snippet markers (the test compiles it too).
#include <string>
#include <vector>

namespace shop {

// [snippet basket]
struct Basket {
  std::vector<std::string> items;
  // [snippet add]
  void add(std::string item) { items.push_back(std::move(item)); }
  // [end snippet add]
};
// [end snippet basket]

}  // namespace shop
