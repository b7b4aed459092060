// Running the built `nibble` program from tests: one subcommand with its arguments (shell
// words), stdout and stderr captured through per-process temp files, exit code decoded.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/common/platform.h"

namespace nibble::test {

struct CliRun {
  int exit_code = -1;  // -1: killed by a signal
  std::string out, err;
};

inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A temp file path unique to this process and `name`.
inline std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("nibble_test_" + std::to_string(process_id()) + "_" + name))
      .string();
}

// Runs `'<cli>' <subcommand> <args> >out 2>err`.
inline CliRun run_cli(const std::string& cli, const std::string& subcommand,
                      const std::string& args) {
  CliRun r;
  const std::string out = temp_path(subcommand + ".out"), err = temp_path(subcommand + ".err");
  const std::string cmd =
      "'" + cli + "' " + subcommand + " " + args + " >'" + out + "' 2>'" + err + "'";
  const int status = std::system(cmd.c_str());
  r.exit_code = exit_code(status);
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

}  // namespace nibble::test
