#pragma once
// What every example program's command line shares. The flags are parsed by CLI11 (header-only,
// Debian's libcli11-dev); this adds the examples' conventions on top: numbers read as decimal
// only, a flag given twice keeps its last value, and the exit statuses the programs document
// (0 after --help, 2 for a bad or missing flag). (A folder without a main.cpp:
// examples/CMakeLists.txt builds no program from it.)
//
//   CLI::App app("what the program does", "program_name");
//   example::use_conventions(app);                      // before adding options
//   app.add_option("--count", count, "...")->type_name("N")->transform(example::decimal(0, 100));
//   if (const auto status = example::parse_flags(app, argc, argv)) return *status;

#include <charconv>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

namespace example {

// Applies to the options added after it.
inline void use_conventions(CLI::App& app) {
  app.option_defaults()
      ->take_last()                // scripts append a flag to override one they already pass
      ->always_capture_default();  // --help shows each default as it is in the code
}

// A whole decimal number in min..max (no sign, no spaces). A transform, not a check: CLI11
// reads numbers with strtoull(..., 0), so "010" would be octal 8, "0x10" hex and "-1" wrap
// around. This runs before that conversion, refuses anything but decimal digits and hands CLI11
// the canonical text ("010" -> "10"), which it then reads as the same number.
inline CLI::Validator decimal(std::uint64_t min, std::uint64_t max) {
  auto check = [min, max](std::string& text) -> std::string {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec == std::errc::invalid_argument || end != text.data() + text.size()) {
      return "'" + text + "' is not a whole decimal number";
    }
    if (ec == std::errc::result_out_of_range || value < min || value > max) {
      return text + " is not in " + std::to_string(min) + ".." + std::to_string(max);
    }
    text = std::to_string(value);
    return {};
  };
  // The description follows the type name in --help: "--port N:0..65535".
  return CLI::Validator(check, std::to_string(min) + ".." + std::to_string(max));
}

// A text that may not be empty: "--unix ''" is a mistake, not a path.
inline CLI::Validator non_empty() {
  return CLI::Validator([](std::string& text) { return text.empty() ? "must not be empty" : ""; },
                        "");
}

// Parses argv into `app`. Returns nothing when the program should go on, else the status for
// main() to return: 0 after --help (the usage on stdout), 2 when a flag is unknown, lacks its
// value or has a bad one, or a rule between flags is broken (the reason, which names the flag,
// on stderr). CLI11's own exit codes (105 for a validation error, and so on) are not used.
inline std::optional<int> parse_flags(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    std::cerr << app.get_name() << ": " << e.what() << "\nRun " << app.get_name()
              << " --help for the flags.\n";
    return 2;
  }
}

}  // namespace example
