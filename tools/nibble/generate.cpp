// nibble generate -m MODEL -p TEXT [-n N] [sampling flags] [--stop S]... [--chat] [--system S]
// [--grammar-file F | --json-schema F | --json] [--lookup N | --draft MODEL [--n-draft N]]
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
// (the options exclude each other: CLI11 checks that).
bool read_grammar_flags(const std::string& grammar_file, const std::string& schema_file, bool json,
                        GenerateOptions& g) {
  if (json) {
    g.grammar = Grammar::json_object();
    return true;
  }
  const std::string& path = grammar_file.empty() ? schema_file : grammar_file;
  if (path.empty()) return true;
  auto text = read_file(path);
  if (!text) {
    fmt::print(stderr, "nibble generate: cannot read {}\n", path);
    return false;
  }
  auto grammar = grammar_file.empty() ? Grammar::from_json_schema(*text) : Grammar::parse(*text);
  if (!grammar) {
    fmt::print(stderr, "nibble generate: {}: {}\n", path, grammar.error().message());
    return false;
  }
  g.grammar = std::move(*grammar);
  return true;
}

struct GenerateFlags {
  std::string model_path, prompt, system, grammar_file, schema_file, draft_path;
  bool chat = false, quiet = false, json = false;
  GenerateOptions g;
  ModelOptions mo;
  SessionOptions so;
};

int run_generate(GenerateFlags& f) {
  GenerateOptions& g = f.g;
  const SessionOptions& so = f.so;
  const ModelOptions& mo = f.mo;
  const bool quiet = f.quiet;
  if (!read_grammar_flags(f.grammar_file, f.schema_file, f.json, g)) return 2;

  auto model = Model::load(f.model_path, mo);
  if (!model) {
    fmt::print(stderr, "nibble generate: {}\n", model.error().to_string());
    return 1;
  }
  if (!f.draft_path.empty()) {  // speculative decoding with a draft model
    auto draft = Model::load(f.draft_path, mo);
    if (!draft) {
      fmt::print(stderr, "nibble generate: {}\n", draft.error().to_string());
      return 1;
    }
    f.so.speculative.draft_model = *draft;
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
  if (f.chat) {
    std::vector<ChatMessage> msgs;
    if (!f.system.empty()) msgs.push_back({"system", f.system});
    msgs.push_back({"user", f.prompt});
    stats = session->chat(msgs, g, print);
  } else {
    if (!quiet) print(f.prompt);
    stats = session->generate(f.prompt, g, print);
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
  if (!quiet && stats->draft_tokens > 0)
    fmt::print(stderr, "[speculative: {} forward passes, {} tokens drafted, {} accepted]\n",
               stats->decode_passes, stats->draft_tokens, stats->accepted_tokens);
  return 0;
}

Runner setup_generate(CLI::App& app) {
  auto f = std::make_shared<GenerateFlags>();
  f->g.max_tokens = 128;
  app.add_option("-m,--model", f->model_path, "model file")->required()->type_name("MODEL.gguf");
  app.add_option("-p,--prompt", f->prompt, "the prompt (with --chat: the user message)")->required();
  app.add_option("-n,--max-tokens", f->g.max_tokens, "tokens to generate at most")
      ->capture_default_str();
  add_repeated(app, "--stop", f->g.stop, "stop string (repeatable; matched across tokens)");
  app.add_flag("--chat", f->chat, "format the prompt with the model's chat template");
  app.add_option("--system", f->system, "system message (with --chat)");
  app.add_flag("-q,--quiet", f->quiet, "print the completion only");
  const char* c = "Constrained output (docs/grammar.md)";
  auto* gf = app.add_option("--grammar-file", f->grammar_file,
                            "constrain the output to the GBNF grammar in F (root rule: root)")
                 ->type_name("F.gbnf")->group(c);
  auto* sf = app.add_option("--json-schema", f->schema_file,
                            "constrain the output to the JSON Schema in F")
                 ->type_name("F.json")->group(c);
  auto* jf = app.add_flag("--json", f->json, "constrain the output to one JSON object")->group(c);
  gf->excludes(sf)->excludes(jf);
  sf->excludes(jf);
  app.add_option("--isa", f->mo.isa, "cap the kernels' instruction set");
  add_session_flags(app, f->so);
  const char* s = "Speculative decoding (docs/api.md; the output is that of plain decoding)";
  auto* lookup = app.add_option("--lookup", f->so.speculative.lookup_ngram,
                                "draft by prompt lookup: what followed the last 1..N tokens "
                                "earlier in the text")
                     ->check(in_range(1, 16))->type_name("N")->group(s);
  app.add_option("--draft", f->draft_path, "draft with this small model (same vocabulary)")
      ->type_name("MODEL.gguf")->group(s)->excludes(lookup);
  app.add_option("--n-draft", f->so.speculative.n_draft, "most tokens drafted per pass")
      ->check(in_range(1, 64))->capture_default_str()->group(s);
  return [f] { return run_generate(*f); };
}

}  // namespace

NIBBLE_COMMAND(generate, "generate a completion (streamed) from a prompt", setup_generate);

}  // namespace nibble::cli
