#pragma once
// The fuzz targets' property check: a violated property prints what it was and traps, so that
// libFuzzer reports it like a crash and keeps the input (a plain `return` would lose it).

#include <cstdio>

namespace fuzz {

inline void check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "property violated: %s\n", what);
  __builtin_trap();
}

}  // namespace fuzz
