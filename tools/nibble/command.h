// Subcommand registry of the `nibble` program. A subcommand file defines
//   Runner setup_info(CLI::App& app) { declare options on app; return [..] { run; }; }
//   NIBBLE_COMMAND(info, "print a GGUF file's metadata and tensor table", setup_info);
// main() picks the command named by argv[1], builds a CLI11 app "nibble <name>" for it, calls
// its setup, parses the remaining arguments (--help is generated) and calls the runner.
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "app.h"

namespace nibble::cli {

struct Command {
  std::string_view name;
  std::string_view summary;
  std::function<Runner(CLI::App&)> setup;
};

// Registers a command at static-initialisation time; returns a dummy for the static.
bool register_command(Command command);
const std::vector<Command>& commands();

// --isa NAME for the commands that run the engine directly: caps the kernels' ISA; the value
// is checked against the ISA names NIBBLE_ISA takes.
CLI::Option* add_isa_option(CLI::App& app, std::string& isa);

}  // namespace nibble::cli

#define NIBBLE_COMMAND(name, summary, fn) \
  static const bool nibble_cmd_registered_##name = ::nibble::cli::register_command({#name, summary, fn})
