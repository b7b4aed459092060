// Args: the small option parser shared by the `nibble` subcommands and nibble-chat (library
// nibble_cli_common, tools/CMakeLists.txt).
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nibble::cli {

// Minimal argument access: flags (`--json`), options with a value (`-m FILE`, `--top=8`,
// `--top 8`) and positionals. Unknown options are reported by finish().
class Args {
 public:
  Args(std::string command, std::vector<std::string> argv);

  const std::string& command() const { return command_; }
  // True if any of the names was given as a flag (consumes it).
  bool flag(std::initializer_list<std::string_view> names);
  // The value of an option (consumes it); nullopt when absent. Records an error when the
  // option is present without a value.
  std::optional<std::string> value(std::initializer_list<std::string_view> names);
  // Every value of a repeatable option (`-m A -m B`), in order (consumes them).
  std::vector<std::string> values(std::initializer_list<std::string_view> names);
  // Typed option helpers; record an error naming the option on a bad value.
  std::optional<long long> integer(std::initializer_list<std::string_view> names);
  std::optional<double> number(std::initializer_list<std::string_view> names);
  // Remaining positionals (call after all flags/values were taken).
  std::vector<std::string> positionals();
  // Call after taking everything: returns false (and prints to stderr) if an error was recorded
  // or an unknown option remains.
  bool finish();
  void error(std::string message);

 private:
  std::string command_;
  std::vector<std::string> argv_;
  std::vector<bool> used_;
  std::vector<std::string> errors_;
};

}  // namespace nibble::cli
