// Command-line helpers shared by the programs (app.h).
#include "app.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace nibble::cli {

std::optional<int> parse(CLI::App& app, std::vector<std::string> argv) {
  std::reverse(argv.begin(), argv.end());  // CLI11 takes the arguments last-first
  try {
    app.parse(argv);
  } catch (const CLI::CallForHelp&) {
    fmt::print("{}", app.help());
    return 0;
  } catch (const CLI::ParseError& e) {
    return usage_error(app, e.what());
  }
  return std::nullopt;
}

int usage_error(const CLI::App& app, std::string_view message) {
  fmt::print(stderr, "{}: {}\n(`{} --help` lists the options)\n", app.get_name(), message,
             app.get_name());
  return 2;
}

CLI::Validator in_range(long long lo, long long hi) {
  return CLI::Validator(
      [lo, hi](std::string& text) -> std::string {
        long long v = 0;
        const char* end = text.data() + text.size();
        auto r = std::from_chars(text.data(), end, v);
        if (r.ec == std::errc() && r.ptr == end && v >= lo && v <= hi) return {};
        return fmt::format("expects an integer in [{}, {}], got '{}'", lo, hi, text);
      },
      fmt::format("in [{}, {}]", lo, hi));
}

CLI::Option* add_repeated(CLI::App& app, const std::string& names, std::vector<std::string>& out,
                          const std::string& help) {
  return app.add_option(names, out, help)->allow_extra_args(false)->type_name("TEXT");
}

CLI::Option* add_int_list(CLI::App& app, const std::string& names, std::vector<int>& out, int lo,
                          int hi, const std::string& help) {
  return app.add_option(names, out, help)
      ->delimiter(',')
      ->allow_extra_args(false)
      ->check(in_range(lo, hi))
      ->type_name("LIST");
}

}  // namespace nibble::cli
