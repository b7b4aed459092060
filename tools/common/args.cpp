// Args: the small option parser shared by the nibble subcommands and nibble-chat.
#include <fmt/format.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>

#include "args.h"

namespace nibble::cli {

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

// The last of the option's values (earlier occurrences are consumed too).
std::optional<std::string> Args::value(std::initializer_list<std::string_view> names) {
  const size_t errors_before = errors_.size();
  std::vector<std::string> all = values(names);
  if (errors_.size() != errors_before || all.empty()) return std::nullopt;
  return std::move(all.back());
}

std::vector<std::string> Args::values(std::initializer_list<std::string_view> names) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv_.size(); ++i) {
    if (used_[i]) continue;
    const std::string& a = argv_[i];
    for (auto n : names) {
      if (a == n) {
        used_[i] = true;
        if (i + 1 >= argv_.size()) {
          error(fmt::format("option {} needs a value", n));
          return out;
        }
        used_[i + 1] = true;
        out.push_back(argv_[i + 1]);
        break;
      }
      if (a.size() > n.size() + 1 && a.compare(0, n.size(), n) == 0 && a[n.size()] == '=') {
        used_[i] = true;
        out.push_back(a.substr(n.size() + 1));
        break;
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

}  // namespace nibble::cli
