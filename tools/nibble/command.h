// Subcommand registry of the `nibble` program. A subcommand file defines
//   static int run_info(Args& args) { ... }
//   NIBBLE_COMMAND(info, "print a GGUF file's metadata and tensor table", run_info);
// and main() dispatches on argv[1].
#pragma once

#include <functional>
#include <string_view>
#include <vector>

#include "args.h"

namespace nibble::cli {

struct Command {
  std::string_view name;
  std::string_view summary;
  std::function<int(Args&)> run;
};

// Registers a command at static-initialisation time; returns a dummy for the static.
bool register_command(Command command);
const std::vector<Command>& commands();

}  // namespace nibble::cli

#define NIBBLE_COMMAND(name, summary, fn) \
  static const bool nibble_cmd_registered_##name = ::nibble::cli::register_command({#name, summary, fn})
