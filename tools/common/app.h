// What the programs share for their command lines (library nibble_cli_common): options are
// declared with CLI11, which generates `--help` and reports unknown or malformed options; the
// helpers here give every program the same error format and exit codes (0 after --help,
// 2 for a usage error, 1 when the work itself fails) and the options several programs take.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nibble::cli {

// What a command does once its options are parsed: returns the process exit code.
using Runner = std::function<int()>;

// Parses argv (without the program name) into `app`. nullopt when the program should go on;
// otherwise the exit code, after printing the help (stdout, code 0) or the error (stderr:
// "<app name>: <message>", code 2).
std::optional<int> parse(CLI::App& app, std::vector<std::string> argv);

// Prints "<app name>: <message>" and the --help hint to stderr; returns 2. For the checks
// that span options (exclusive options, a value that depends on another).
int usage_error(const CLI::App& app, std::string_view message);

// Checks that a value is an integer in [lo, hi]; the message names the value and the range
// ("--threads: expects an integer in [1, 512], got 'x'").
CLI::Validator in_range(long long lo, long long hi);

// A repeatable option taking one value per occurrence (`--stop A --stop B`).
CLI::Option* add_repeated(CLI::App& app, const std::string& names, std::vector<std::string>& out,
                          const std::string& help);
// A comma-separated list of integers in [lo, hi] (`-p 64,512`); repeating it appends.
CLI::Option* add_int_list(CLI::App& app, const std::string& names, std::vector<int>& out, int lo,
                          int hi, const std::string& help);

}  // namespace nibble::cli
