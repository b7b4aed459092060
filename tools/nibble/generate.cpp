// nibble generate -m MODEL -p TEXT [-n N] [sampling flags] [--stop S]... [--chat] [--system S]
// [--grammar-file F | --json-schema F | --json]
// Streams the completion to stdout; statistics go to stderr.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "command.h"
#include "nibble/nibble.h"
#include "sampling_flags.h"

namespace nibble::cli {
namespace {

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// --grammar-file F, --json-schema F or --json into g.grammar; false (message printed) on error.
bool read_grammar_flags(const std::optional<std::string>& grammar_file,
                        const std::optional<std::string>& schema_file, bool json,
                        GenerateOptions& g) {
  if ((grammar_file ? 1 : 0) + (schema_file ? 1 : 0) + (json ? 1 : 0) > 1) {
    fmt::print(stderr, "nibble generate: --grammar-file, --json-schema and --json exclude each other\n");
    return false;
  }
  if (json) {
    g.grammar = Grammar::json_object();
    return true;
  }
  const auto& path = grammar_file ? grammar_file : schema_file;
  if (!path) return true;
  auto text = read_file(*path);
  if (!text) {
    fmt::print(stderr, "nibble generate: cannot read {}\n", *path);
    return false;
  }
  auto grammar = grammar_file ? Grammar::parse(*text) : Grammar::from_json_schema(*text);
  if (!grammar) {
    fmt::print(stderr, "nibble generate: {}: {}\n", *path, grammar.error().message());
    return false;
  }
  g.grammar = std::move(*grammar);
  return true;
}

int run_generate(Args& args) {
  if (args.flag({"--help", "-h"})) {
    fmt::print(
        "usage: nibble generate -m MODEL.gguf -p TEXT [-n N] [--stop STR]... [--chat]\n"
        "       [--system TEXT] [--quiet] [--grammar-file F.gbnf | --json-schema F.json | --json]\n"
        "  --grammar-file F  constrain the output to the GBNF grammar in F (root rule: root)\n"
        "  --json-schema F   constrain the output to the JSON Schema in F (docs/grammar.md)\n"
        "  --json            constrain the output to one JSON object\n{}",
        kSessionFlagsHelp);
    return 0;
  }
  auto model_path = args.value({"-m", "--model"});
  auto prompt = args.value({"-p", "--prompt"});
  GenerateOptions g;
  g.max_tokens = 128;
  if (auto n = args.integer({"-n", "--max-tokens"})) g.max_tokens = static_cast<int>(*n);
  while (auto s = args.value({"--stop"})) g.stop.push_back(*s);
  const bool chat = args.flag({"--chat"});
  const bool quiet = args.flag({"--quiet", "-q"});
  auto system = args.value({"--system"});
  auto grammar_file = args.value({"--grammar-file"});
  auto schema_file = args.value({"--json-schema"});
  const bool json = args.flag({"--json"});
  ModelOptions mo;
  if (auto isa = args.value({"--isa"})) mo.isa = *isa;
  SessionOptions so;
  read_session_flags(args, so);
  if (!model_path) args.error("missing -m MODEL.gguf");
  if (!prompt) args.error("missing -p TEXT");
  if (!args.finish()) return 2;
  if (!read_grammar_flags(grammar_file, schema_file, json, g)) return 2;

  auto model = Model::load(*model_path, mo);
  if (!model) {
    fmt::print(stderr, "nibble generate: {}\n", model.error().to_string());
    return 1;
  }
  auto session = Session::create(*model, so);
  if (!session) {
    fmt::print(stderr, "nibble generate: {}\n", session.error().to_string());
    return 1;
  }
  if (!quiet) {
    const auto info = model->info();
    fmt::print(stderr,
               "[{} ({}), kernels {}, context {}; weights {:.1f} MiB, KV cache {:.1f} MiB, "
               "scratch {:.1f} MiB]\n",
               info.name, info.architecture, info.isa, session->n_ctx(),
               info.weight_bytes / 1048576.0, session->kv_bytes() / 1048576.0,
               session->scratch_bytes() / 1048576.0);
  }
  auto print = [](std::string_view t) {
    std::fwrite(t.data(), 1, t.size(), stdout);
    std::fflush(stdout);
    return true;
  };
  Result<Stats> stats = Error(ErrorCode::internal, "not run");
  if (chat) {
    std::vector<ChatMessage> msgs;
    if (system) msgs.push_back({"system", *system});
    msgs.push_back({"user", *prompt});
    stats = session->chat(msgs, g, print);
  } else {
    if (!quiet) print(*prompt);
    stats = session->generate(*prompt, g, print);
  }
  std::fputc('\n', stdout);
  if (!stats) {
    fmt::print(stderr, "nibble generate: {}\n", stats.error().to_string());
    return 1;
  }
  if (!quiet)
    fmt::print(stderr,
               "[{} prompt tokens ({} reused), {} generated, first token {:.1f} ms, prefill "
               "{:.1f} tok/s, decode {:.1f} tok/s, stop: {}]\n",
               stats->prompt_tokens, stats->reused_tokens, stats->generated_tokens,
               stats->time_to_first_token_ms, stats->prefill_tokens_per_s,
               stats->decode_tokens_per_s, stop_reason_name(stats->stop_reason));
  return 0;
}

}  // namespace

NIBBLE_COMMAND(generate, "generate a completion (streamed) from a prompt", run_generate);

}  // namespace nibble::cli
