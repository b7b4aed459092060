// nibble — command-line entry point: `nibble <command> [options]`.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "command.h"
#include "kernels/kernels.h"
#include "kernels/dispatch/cpu_features.h"
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

CLI::Option* add_isa_option(CLI::App& app, std::string& isa) {
  const CLI::Validator known(
      [](std::string& name) -> std::string {
        kernels::Isa cap;
        if (kernels::parse_isa(name, &cap)) return {};
        return fmt::format("unknown ISA '{}' (scalar, avx2, avxvnni, avx512, avx512vnni, amx, "
                           "neon, dotprod, i8mm)",
                           name);
      },
      "ISA");
  return app.add_option("--isa", isa, "cap the kernels' instruction set (as NIBBLE_ISA does)")
      ->check(known);
}

static void usage() {
  fmt::print(stderr, "usage: nibble <command> [options]\n\ncommands:\n");
  auto cmds = commands();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& c : cmds) fmt::print(stderr, "  {:<12} {}\n", c.name, c.summary);
  fmt::print(stderr, "\n`nibble <command> --help` for a command's options; `nibble --version`.\n");
}

// `nibble --version`: the library version, the commit it was built from, the CPU features
// detected, and the kernels chosen with the reason (the best this CPU runs, or NIBBLE_ISA).
static void version() {
  const auto& k = kernels::KernelTable::get();
  const auto& f = kernels::cpu_features();
  std::string feats;
  auto add = [&](bool on, const char* name) {
    if (on) feats += feats.empty() ? name : std::string(" ") + name;
  };
  add(f.avx2, "avx2");
  add(f.fma, "fma");
  add(f.f16c, "f16c");
  add(f.avx_vnni, "avx-vnni");
  add(f.avx512f, "avx512f");
  add(f.avx512bw, "avx512bw");
  add(f.avx512dq, "avx512dq");
  add(f.avx512vl, "avx512vl");
  add(f.avx512vnni, "avx512vnni");
  add(f.amx_tile && f.amx_int8, kernels::amx_permitted() ? "amx" : "amx(no-os-permission)");
  add(f.neon, "neon");
  add(f.dotprod, "dotprod");
  add(f.i8mm, "i8mm");
  add(f.fp16, "fp16");
  const auto best = kernels::best_supported_isa();
  const char* cap = std::getenv("NIBBLE_ISA");
  fmt::print("nibble {} (commit {})\n", NIBBLE_VERSION_STRING, build_commit());
  fmt::print("cpu features: {}\n", feats.empty() ? "none beyond the baseline" : feats);
  if (k.isa() != best && cap && *cap)
    fmt::print("kernels: {} (capped by NIBBLE_ISA={}; this CPU supports up to {}; row ops {})\n",
               kernels::isa_name(k.isa()), cap, kernels::isa_name(best),
               kernels::isa_name(k.row_ops_isa()));
  else
    fmt::print("kernels: {} (the best this CPU supports; row ops {})\n",
               kernels::isa_name(k.isa()), kernels::isa_name(k.row_ops_isa()));
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
      CLI::App app(std::string(c.summary), "nibble " + name);
      app.get_formatter()->column_width(26);
      const Runner run = c.setup(app);
      if (auto code = parse(app, std::vector<std::string>(argv + 2, argv + argc))) return *code;
      return run();
    }
  }
  fmt::print(stderr, "nibble: unknown command '{}'\n", name);
  usage();
  return 2;
}
