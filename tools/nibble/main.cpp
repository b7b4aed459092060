// nibble — command-line entry point: `nibble <command> [options]`.
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "command.h"

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

Args::Args(std::string command, std::vector<std::string> argv)
    : command_(std::move(command)), argv_(std::move(argv)), used_(argv_.size(), false) {}

void Args::error(std::string message) { errors_.push_back(std::move(message)); }

bool Args::flag(std::initializer_list<std::string_view> names) {
  bool found = false;
  for (size_t i = 0; i < argv_.size(); ++i) {
    if (used_[i]) continue;
    for (auto n : names) {
      if (argv_[i] == n) {
        used_[i] = true;
        found = true;
      }
    }
  }
  return found;
}

std::optional<std::string> Args::value(std::initializer_list<std::string_view> names) {
  std::optional<std::string> out;
  for (size_t i = 0; i < argv_.size(); ++i) {
    if (used_[i]) continue;
    const std::string& a = argv_[i];
    for (auto n : names) {
      if (a == n) {
        used_[i] = true;
        if (i + 1 >= argv_.size()) {
          error(fmt::format("option {} needs a value", n));
          return std::nullopt;
        }
        used_[i + 1] = true;
        out = argv_[i + 1];
      } else if (a.size() > n.size() + 1 && a.compare(0, n.size(), n) == 0 && a[n.size()] == '=') {
        used_[i] = true;
        out = a.substr(n.size() + 1);
      }
    }
  }
  return out;
}

std::optional<long long> Args::integer(std::initializer_list<std::string_view> names) {
  auto v = value(names);
  if (!v) return std::nullopt;
  long long x = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), x);
  if (ec != std::errc() || p != v->data() + v->size()) {
    error(fmt::format("option {} expects an integer, got '{}'", *names.begin(), *v));
    return std::nullopt;
  }
  return x;
}

std::optional<double> Args::number(std::initializer_list<std::string_view> names) {
  auto v = value(names);
  if (!v) return std::nullopt;
  char* end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  if (v->empty() || end != v->c_str() + v->size()) {
    error(fmt::format("option {} expects a number, got '{}'", *names.begin(), *v));
    return std::nullopt;
  }
  return x;
}

std::vector<std::string> Args::positionals() {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv_.size(); ++i) {
    if (used_[i]) continue;
    if (argv_[i].size() > 1 && argv_[i][0] == '-') continue;  // left for finish() to report
    used_[i] = true;
    out.push_back(argv_[i]);
  }
  return out;
}

bool Args::finish() {
  for (size_t i = 0; i < argv_.size(); ++i)
    if (!used_[i]) errors_.push_back(fmt::format("unknown argument '{}'", argv_[i]));
  for (auto& e : errors_) fmt::print(stderr, "nibble {}: {}\n", command_, e);
  return errors_.empty();
}

static void usage() {
  fmt::print(stderr, "usage: nibble <command> [options]\n\ncommands:\n");
  auto cmds = commands();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& c : cmds) fmt::print(stderr, "  {:<12} {}\n", c.name, c.summary);
  fmt::print(stderr, "\n`nibble <command> --help` for a command's options.\n");
}

}  // namespace nibble::cli

int main(int argc, char** argv) {
  using namespace nibble::cli;
  if (argc < 2 || std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h") {
    usage();
    return argc < 2 ? 2 : 0;
  }
  std::string name = argv[1];
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
