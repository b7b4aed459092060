// `nibble bench` on a fixture at small sizes: the JSON records' fields (presence, types,
// ranges), the markdown table, -p 0 / -n 0, --contention cleanup (normal exit and Ctrl-C),
// and clear errors for bad options.
#include <gtest/gtest.h>
#if defined(__linux__)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "nibble/version.h"
#include "tests/common/cli_run.h"
#include "tests/common/shared_data.h"
#include "tests/common/json.h"

namespace {

using nibble::test::Json;
using nibble::test::run_cli;
using nibble::test::shared_path;

std::string fixture() { return shared_path("fixtures/llama-Q8_0.gguf"); }

Json parse(const std::string& s) {
  Json j;
  EXPECT_TRUE(nibble::test::parse_json(s, &j)) << "not JSON:\n" << s;
  return j;
}

bool has(const Json& o, const char* k) { return o.obj.count(k) == 1; }

void expect_number(const Json& r, const char* k, double lo, double hi) {
  ASSERT_TRUE(has(r, k)) << "missing field " << k;
  ASSERT_EQ(r[k].kind, Json::number) << k;
  EXPECT_TRUE(std::isfinite(r[k].num) && r[k].num >= lo && r[k].num <= hi)
      << k << " = " << r[k].num << " outside [" << lo << ", " << hi << "]";
}

void expect_string(const Json& r, const char* k) {
  ASSERT_TRUE(has(r, k)) << "missing field " << k;
  ASSERT_EQ(r[k].kind, Json::string) << k;
  EXPECT_FALSE(r[k].str.empty()) << k;
}

TEST(Bench, JsonRecordsCarryEveryField) {
  auto r = run_cli(NIBBLE_CLI_PATH, "bench",
                   "-m '" + fixture() + "' -p 8 -n 4 -t 1,2 -r 2 --probe-mib 16 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("read-bandwidth probe"), std::string::npos) << "progress on stderr";
  const Json a = parse(r.out);
  ASSERT_EQ(a.kind, Json::array);
  ASSERT_EQ(a.size(), 4u) << r.out;  // {1,2} threads x {pp8, tg4}
  std::set<std::string> seen;
  for (const Json& rec : a.arr) {
    ASSERT_EQ(rec.kind, Json::object);
    EXPECT_EQ(rec["model"].str, "llama-Q8_0");
    EXPECT_EQ(rec["type"].str, "Q8_0");  // dominant weight type by bytes
    EXPECT_EQ(rec["version"].str, NIBBLE_VERSION_STRING);
    expect_string(rec, "isa");
    expect_string(rec, "commit");
    expect_number(rec, "threads", 1, 2);
    const std::string test = rec["test"].str;
    seen.insert(test + "/" + std::to_string(static_cast<int>(rec["threads"].num)));
    expect_number(rec, "tokens_per_s", 1e-3, 1e9);
    expect_number(rec, "stddev", 0, 1e9);
    expect_number(rec, "read_bw_gb_per_s", 0.05, 1e4);
    // Probed before and after the runs; the record uses the higher.
    ASSERT_EQ(rec["read_bw_probes_gb_per_s"].kind, Json::array);
    ASSERT_EQ(rec["read_bw_probes_gb_per_s"].size(), 2u);
    EXPECT_GT(rec["read_bw_probes_gb_per_s"][0].num, 0);
    EXPECT_GT(rec["read_bw_probes_gb_per_s"][1].num, 0);
    EXPECT_NEAR(rec["read_bw_gb_per_s"].num,
                std::max(rec["read_bw_probes_gb_per_s"][0].num,
                         rec["read_bw_probes_gb_per_s"][1].num),
                1e-4 * rec["read_bw_gb_per_s"].num);
    expect_number(rec, "peak_rss_mib", 1, 1 << 16);
    expect_number(rec, "ttft_ms", 1e-4, 1e6);
    expect_number(rec, "weight_bytes_per_token", 1e5, 1e8);
    // The bytes the kernels read: the file's, or more where a layout pads (q8_0_x8: none here).
    expect_number(rec, "weight_read_bytes_per_token", rec["weight_bytes_per_token"].num, 1e8);
    expect_number(rec, "model_bytes", 1e5, 1e8);
    expect_number(rec, "repetitions", 2, 2);
    ASSERT_TRUE(has(rec, "gb_per_s"));
    ASSERT_TRUE(has(rec, "bandwidth_fraction"));
    if (test == "tg4") {
      expect_number(rec, "n_tokens", 4, 4);
      expect_number(rec, "gb_per_s", 1e-6, 1e4);
      // The fixture's weights fit in cache, so the fraction may exceed 1; it is the ratio.
      expect_number(rec, "bandwidth_fraction", 1e-6, 1e3);
      const double ratio = rec["gb_per_s"].num / rec["read_bw_gb_per_s"].num;
      EXPECT_NEAR(rec["bandwidth_fraction"].num, ratio, 1e-3 * ratio);
      const double gbs = rec["tokens_per_s"].num * rec["weight_read_bytes_per_token"].num / 1e9;
      EXPECT_NEAR(rec["gb_per_s"].num, gbs, 1e-3 * gbs);
      expect_number(rec, "token_ms_median", 1e-6, 1e6);
      expect_number(rec, "slow_token_fraction", 0, 1);
    } else {
      EXPECT_EQ(test, "pp8");
      expect_number(rec, "n_tokens", 8, 8);
      EXPECT_EQ(rec["gb_per_s"].kind, Json::null) << "decode-only figure";
      EXPECT_EQ(rec["bandwidth_fraction"].kind, Json::null);
      EXPECT_EQ(rec["token_ms_median"].kind, Json::null);
      EXPECT_EQ(rec["slow_token_fraction"].kind, Json::null);
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"pp8/1", "pp8/2", "tg4/1", "tg4/2"}));
}

// GB/s counts what the decode reads: Q4_K repacked as q4_k_x8 takes 148 bytes per 144 of the
// file (the fixture's Q4_K matrices have whole 8-row groups, so nothing else differs); the
// scalar kernels read the file's rows.
TEST(Bench, DecodeBytesAreTheBytesTheKernelsRead) {
  const std::string m = shared_path("fixtures/llama-Q4_K_M.gguf");
  auto r = run_cli(NIBBLE_CLI_PATH, "bench",
                   "-m '" + m + "' -p 0 -n 2 -t 1 -r 1 --probe-mib 16 --json --isa scalar");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json a = parse(r.out);
  ASSERT_EQ(a.size(), 1u) << r.out;
  EXPECT_EQ(a[0]["weight_read_bytes_per_token"].num, a[0]["weight_bytes_per_token"].num);
  const double file = a[0]["weight_bytes_per_token"].num;
  r = run_cli(NIBBLE_CLI_PATH, "bench",
              "-m '" + m + "' -p 0 -n 2 -t 1 -r 1 --probe-mib 16 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  a = parse(r.out);
  ASSERT_EQ(a.size(), 1u) << r.out;
  EXPECT_EQ(a[0]["weight_bytes_per_token"].num, file);
  const std::string isa = a[0]["isa"].str;
  if (isa == "avx2" || isa == "avxvnni" || isa == "avx512vnni" || isa == "amx") {
    // Repacked: every Q4_K matrix gains 4 / 144 of its bytes; the other tensors none.
    EXPECT_GT(a[0]["weight_read_bytes_per_token"].num, file);
    EXPECT_LT(a[0]["weight_read_bytes_per_token"].num, file * (148.0 / 144.0));
  } else {
    EXPECT_GE(a[0]["weight_read_bytes_per_token"].num, file);
  }
}

TEST(Bench, MarkdownTableAndZeroSkipsATest) {
  auto r = run_cli(NIBBLE_CLI_PATH, "bench",
                   "-m '" + fixture() + "' -p 0 -n 3 -t 1 -r 1 --probe-mib 16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("| model | type |", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("| tg3 |"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("| pp"), std::string::npos) << "-p 0 skips prefill:\n" << r.out;
  size_t lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_EQ(lines, 3u) << r.out;  // header, separator, one row

  r = run_cli(NIBBLE_CLI_PATH, "bench",
              "-m '" + fixture() + "' -p 5 -n 0 -t 1 -r 1 --probe-mib 16 --json --kv-q8 --isa scalar");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json a = parse(r.out);
  ASSERT_EQ(a.size(), 1u) << r.out;
  EXPECT_EQ(a[0]["test"].str, "pp5");
  EXPECT_EQ(a[0]["isa"].str, "scalar");
  EXPECT_EQ(a[0]["kv_type"].str, "q8_0");
}

TEST(Bench, ContentionRunsAndIsReported) {
  auto r = run_cli(NIBBLE_CLI_PATH, "bench",
                   "-m '" + fixture() + "' -p 0 -n 2 -t 1 -r 1 --probe-mib 16 --contention 2 --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 busy-looping processes"), std::string::npos) << r.err;
  EXPECT_EQ(parse(r.out)[0]["contention"].num, 2);
}

#if defined(__linux__)
// Processes whose command line mentions `marker` (the forked competitors share the parent's).
int processes_mentioning(const std::string& marker) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(e.path() / "cmdline", std::ios::binary);
    std::string cmd((std::istreambuf_iterator<char>(in)), {});
    // Zombies of the test's own child have an empty cmdline and do not count.
    if (cmd.find(marker) != std::string::npos) ++n;
  }
  return n;
}

// Linux: the competitors are gone after a normal exit and after Ctrl-C (read from /proc).
TEST(Bench, ContentionProcessesEndWithTheRun) {
  const std::string link = nibble::test::temp_path("contention-model.gguf");
  std::filesystem::remove(link);
  std::filesystem::create_symlink(fixture(), link);
  auto r = run_cli(NIBBLE_CLI_PATH, "bench",
                   "-m '" + link + "' -p 0 -n 2 -t 1 -r 1 --probe-mib 16 --contention 2 --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 busy-looping processes"), std::string::npos) << r.err;
  EXPECT_EQ(parse(r.out)[0]["contention"].num, 2);
  EXPECT_EQ(processes_mentioning(link), 0);

  // Ctrl-C while the competitors run: they must go too.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    freopen("/dev/null", "w", stdout);
    freopen("/dev/null", "w", stderr);
    execl(NIBBLE_CLI_PATH, NIBBLE_CLI_PATH, "bench", "-m", link.c_str(), "-p", "0", "-n", "4",
          "-t", "1", "-r", "1000", "--probe-mib", "16", "--contention", "2", nullptr);
    _exit(127);
  }
  bool started = false;
  for (int i = 0; i < 200 && !started; ++i) {  // up to 20 s: parent + 2 competitors
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    started = processes_mentioning(link) >= 3;
  }
  EXPECT_TRUE(started) << "the competitors never appeared";
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT) << "status " << status;
  int left = 0;
  for (int i = 0; i < 50 && (left = processes_mentioning(link)) > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(left, 0) << "competitors survived Ctrl-C";
  std::filesystem::remove(link);
}

#endif  // __linux__

TEST(Bench, BadInputIsAClearError) {
  struct Case {
    std::string args, message;
    int code;
  } cases[] = {
      {"-m /nonexistent/model.gguf -p 1 -n 1", "/nonexistent/model.gguf: no such file", 1},
      {"-p 8 -n 4", "--model is required", 2},
      {"-m '" + fixture() + "' -t 0", "--threads: expects an integer in [1, 512], got '0'", 2},
      {"-m '" + fixture() + "' -t 1,x", "--threads: expects an integer in [1, 512], got 'x'", 2},
      {"-m '" + fixture() + "' -p abc", "--n-prompt: expects an integer in [0, 1048576], got 'abc'", 2},
      {"-m '" + fixture() + "' -n -3", "--n-gen: expects an integer", 2},
      {"-m '" + fixture() + "' -r 0", "--repetitions: expects an integer in [1, 1000]", 2},
      {"-m '" + fixture() + "' -r x", "expects an integer", 2},
      {"-m '" + fixture() + "' --isa sse9", "unknown ISA 'sse9'", 2},
      {"-m '" + fixture() + "' --contention -1", "--contention: expects an integer in [0, 256]", 2},
      {"-m '" + fixture() + "' -p 0 -n 0", "nothing to run", 1},
      {"-m '" + fixture() + "' --frobnicate", "not expected: --frobnicate", 2},
  };
  for (const auto& c : cases) {
    auto r = run_cli(NIBBLE_CLI_PATH, "bench", c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << c.args;
  }
  // A file that is not a model.
  const std::string junk = nibble::test::temp_path("junk.gguf");
  std::ofstream(junk) << "not a gguf file at all";
  auto r = run_cli(NIBBLE_CLI_PATH, "bench", "-m '" + junk + "' -p 1 -n 1 --probe-mib 16");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("nibble bench:"), std::string::npos) << r.err;
  std::filesystem::remove(junk);
}

}  // namespace
