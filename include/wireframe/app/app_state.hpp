#pragma once
// Shared application state: objects the app owns and every handler of every connection can
// reach by type (ctx.state<Db>()), like actix-web's web::Data<T>. Immutable after build(); the
// objects themselves must be safe to use from all worker threads (they are shared).

#include <memory>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

namespace wireframe {

class AppState {
 public:
  template <class T>
  void add(std::shared_ptr<T> value) {
    for (auto& [type, ptr] : entries_) {
      if (type == typeid(T)) {
        ptr = std::move(value);  // the last with_state<T> wins, like a map assignment
        return;
      }
    }
    entries_.emplace_back(typeid(T), std::move(value));
  }

  // Throws std::out_of_range when no state of that type was registered (a programming error:
  // inside a handler it is caught and reported like any handler failure).
  template <class T>
  [[nodiscard]] T& get() const {
    for (const auto& [type, ptr] : entries_) {
      if (type == typeid(T)) return *static_cast<T*>(ptr.get());
    }
    throw std::out_of_range(std::string("wireframe: no app state of type ") + typeid(T).name());
  }

  template <class T>
  [[nodiscard]] bool contains() const noexcept {
    for (const auto& entry : entries_) {
      if (entry.first == typeid(T)) return true;
    }
    return false;
  }

 private:
  // A handful of entries at most: a linear scan beats hashing.
  std::vector<std::pair<std::type_index, std::shared_ptr<void>>> entries_;
};

}  // namespace wireframe
