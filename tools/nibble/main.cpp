// nibble — command-line entry point: `nibble <command> [options]`.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "command.h"
#include "kernels/kernels.h"
#include "nibble/version.h"

namespace nibble::cli {

std::vector<Command>& registry() {
  static std::vector<Command> r;
  return r;
}

bool register_command(Command command) {
  registry().push_back(std::move(command));
  return true;
}

const std::vector<Command>& commands() { return registry(); }

static void usage() {
  fmt::print(stderr, "usage: nibble <command> [options]\n\ncommands:\n");
  auto cmds = commands();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& c : cmds) fmt::print(stderr, "  {:<12} {}\n", c.name, c.summary);
  fmt::print(stderr, "\n`nibble <command> --help` for a command's options; `nibble --version`.\n");
}

// `nibble --version`: the library version, the commit it was built from and the kernels this
// CPU gets (NIBBLE_ISA caps them).
static void version() {
  const auto& k = kernels::KernelTable::get();
  fmt::print("nibble {} (commit {})\n", NIBBLE_VERSION_STRING, NIBBLE_GIT_COMMIT);
  fmt::print("kernels: {} (this CPU supports up to {}; row ops {})\n", kernels::isa_name(k.isa()),
             kernels::isa_name(kernels::best_supported_isa()),
             kernels::isa_name(k.row_ops_isa()));
}

}  // namespace nibble::cli

int main(int argc, char** argv) {
  using namespace nibble::cli;
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    usage();
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
  if (name == "--version" || name == "version") {
    version();
    return 0;
  }
  for (auto& c : commands()) {
    if (c.name == name) {
      Args args(name, std::vector<std::string>(argv + 2, argv + argc));
      return c.run(args);
    }
  }
  fmt::print(stderr, "nibble: unknown command '{}'\n", name);
  usage();
  return 2;
}
