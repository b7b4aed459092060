// The model backend of `nibble serve`: one Session per slot on one shared Model. Generation is
// driven token by token (Session::eval/logits) so that each request gets its own sampler
// settings, its own grammar (GrammarMatcher), prefix reuse against the slot's KV cache, and a
// stop the moment the client is gone.
#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

#include "backend.h"
#include "nibble/nibble.h"
#include "sampling/sampler.h"
#include "sampling/stop_matcher.h"

namespace nibble::serve {
namespace {

#if NIBBLE_SERVE_GRAMMAR
struct GrammarConstraint final : CompiledConstraint {
  explicit GrammarConstraint(Grammar g) : grammar(std::move(g)) {}
  Grammar grammar;
};
using Matcher = GrammarMatcher;
#else
// Built without the grammar engine: compile() refuses every constraint, so no matcher is ever
// made; this only keeps the loop below compiling.
struct Matcher {
  Status apply(std::span<float>, int) { return ok_status(); }
  Status accept(Token) { return ok_status(); }
  bool is_complete() const { return false; }
};
#endif

ApiError server_error(const std::string& what) {
  ApiError e;
  e.status = 500;
  e.type = "server_error";
  e.message = what;
  return e;
}

SamplerConfig sampler_config(const SamplingParams& p) {
  SamplerConfig c;
  c.temperature = static_cast<float>(p.temperature);
  c.top_p = static_cast<float>(p.top_p);
  c.top_k = p.top_k;
  c.min_p = static_cast<float>(p.min_p);
  c.frequency_penalty = static_cast<float>(p.frequency_penalty);
  c.presence_penalty = static_cast<float>(p.presence_penalty);
  c.seed = p.seed ? *p.seed : std::random_device{}();
  c.logit_bias = p.logit_bias;
  return c;
}

// Prompt tokens evaluated between two checks that the client is still there.
constexpr size_t kPrefillChunk = 256;

class ModelBackend final : public Backend {
 public:
  ModelBackend(Model model, std::vector<Session> sessions, std::string id)
      : model_(std::move(model)), tok_(model_.tokenizer()), sessions_(std::move(sessions)),
        id_(std::move(id)), logits_(sessions_.size()) {
    auto t = ChatTemplate::for_tokenizer_template(tok_->chat_template(),
                                                  model_.info().architecture);
    if (t) tmpl_.emplace(std::move(*t));
    else template_error_ = t.error().to_string();
  }

  std::string model_id() const override { return id_; }
  int n_ctx() const override { return sessions_.front().n_ctx(); }
  int n_slots() const override { return static_cast<int>(sessions_.size()); }

  std::variant<std::vector<int32_t>, ApiError> chat_prompt(
      const std::vector<Message>& messages) override;
  std::variant<std::vector<int32_t>, ApiError> text_prompt(const std::string& prompt) override {
    EncodeOptions eo;
    eo.add_special = true;
    auto toks = tok_->encode(prompt, eo);
    if (!toks) return bad_param("prompt", toks.error().message());
    return std::move(*toks);
  }

  std::variant<std::shared_ptr<const CompiledConstraint>, ApiError> compile(
      const Constraint& c) override {
    if (c.kind == Constraint::Kind::none) return std::shared_ptr<const CompiledConstraint>();
#if !NIBBLE_SERVE_GRAMMAR
    ApiError e = bad_param("response_format",
                           "constrained output (response_format json_object/json_schema, tools) "
                           "needs the grammar engine, which this build of nibble lacks");
    return e;
#else
    if (c.kind == Constraint::Kind::json_object)
      return std::make_shared<GrammarConstraint>(Grammar::json_object());
    auto g = Grammar::from_json_schema(dump(c.schema));
    if (!g) return bad_param("response_format.json_schema.schema", g.error().message());
    return std::make_shared<GrammarConstraint>(std::move(*g));
#endif
  }

  std::optional<ApiError> check_params(const GenerationParams& params) const override {
    for (const auto& [id, bias] : params.sampling.logit_bias)
      if (id >= tok_->n_vocab())
        return bad_param("logit_bias", "logit_bias names token " + std::to_string(id) +
                                           "; the vocabulary has " +
                                           std::to_string(tok_->n_vocab()) + " tokens");
    return std::nullopt;
  }

  size_t cached_prefix(int slot, std::span<const int32_t> prompt) const override {
    auto cached = sessions_[slot].tokens();
    size_t p = 0;
    while (p < cached.size() && p < prompt.size() && cached[p] == prompt[p]) ++p;
    return p;
  }

  std::variant<GenerateResult, ApiError> generate(int slot, const GenerateRequest& req,
                                                  const PieceSink& sink) override;

 private:
  Model model_;
  std::shared_ptr<const Tokenizer> tok_;
  std::vector<Session> sessions_;
  std::string id_;
  std::vector<std::vector<float>> logits_;  // per slot: the row the grammar masks
  std::optional<ChatTemplate> tmpl_;
  std::string template_error_;
};

std::variant<std::vector<int32_t>, ApiError> ModelBackend::chat_prompt(
    const std::vector<Message>& messages) {
  if (!tmpl_) return server_error("the model's chat template does not parse: " + template_error_);
  std::vector<ChatMessage> msgs;
  msgs.reserve(messages.size());
  for (const auto& m : messages) msgs.push_back({m.role, m.content});
  ChatTemplateOptions to;
  to.add_generation_prompt = true;
  if (tok_->bos() >= 0) to.bos_token = tok_->token_to_piece(tok_->bos());
  if (tok_->eos() >= 0) to.eos_token = tok_->token_to_piece(tok_->eos());
  auto text = tmpl_->render(msgs, to);
  if (!text) return bad_param("messages", "the chat template refused the messages: " +
                                              text.error().message());
  EncodeOptions eo;
  eo.parse_special = true;
  // A template that writes BOS itself must not get a second one (as Session::start_chat).
  eo.add_special =
      to.bos_token.empty() || text->compare(0, to.bos_token.size(), to.bos_token) != 0;
  auto toks = tok_->encode(*text, eo);
  if (!toks) return bad_param("messages", toks.error().message());
  return std::move(*toks);
}

// One generation: prefix reuse, then sample / check / emit / evaluate until a stop.
std::variant<GenerateResult, ApiError> ModelBackend::generate(int slot, const GenerateRequest& req,
                                                              const PieceSink& sink) {
  Session& s = sessions_[slot];
  const auto& prompt = req.prompt;
  GenerateResult out;
  out.usage.prompt_tokens = static_cast<int>(prompt.size());
  if (prompt.empty() || static_cast<int>(prompt.size()) >= s.n_ctx())
    return server_error("prompt length not checked against the context");
  size_t p = cached_prefix(slot, prompt);
  if (p == prompt.size()) --p;  // the last prompt token is evaluated again for its logits
  if (auto st = s.truncate(static_cast<int>(p)); !st) return server_error(st.error().to_string());
  out.usage.cached_tokens = static_cast<int>(p);
  // The prompt in pieces, asking the sink between them whether the client is still there (an
  // empty piece), so a long prompt is not evaluated for a client that has gone.
  for (size_t at = p; at < prompt.size(); at += kPrefillChunk) {
    if (at > p && !sink({})) {
      out.finish_reason = "cancelled";
      return out;
    }
    const size_t n = std::min(kPrefillChunk, prompt.size() - at);
    if (auto st = s.eval(std::span(prompt).subspan(at, n)); !st) {
      s.reset();  // whatever the failure left in the cache is not trusted for reuse
      return server_error("prompt evaluation failed: " + st.error().to_string());
    }
  }
  std::optional<Matcher> matcher;
#if NIBBLE_SERVE_GRAMMAR
  if (auto* g = dynamic_cast<const GrammarConstraint*>(req.constraint.get())) {
    // The text the client gets comes from a fresh StreamDecoder: match it as decoded.
    auto m = GrammarMatcher::create(g->grammar, model_, /*as_decoded=*/true);
    if (!m) return server_error(m.error().to_string());
    matcher.emplace(std::move(*m));
  }
#endif
  const SamplerConfig cfg = sampler_config(req.params.sampling);
  if (auto st = sampling::validate(cfg, tok_->n_vocab()); !st)  // check_params ran before
    return server_error(st.error().to_string());
  sampling::Sampler sampler(cfg, tok_->n_vocab());
  StreamDecoder decoder(tok_, /*skip_special=*/true);
  sampling::StopMatcher stop(req.params.stop);
  auto emit = [&](const std::string& piece) {
    if (piece.empty()) return true;
    out.text += piece;
    return sink(piece);
  };
  const int max_tokens = req.params.max_tokens.value_or(s.n_ctx());
  std::vector<float>& row = logits_[slot];
  int produced = 0;
  while (true) {
    const int room = s.n_ctx() - static_cast<int>(s.tokens().size());
    const int remaining = std::min(max_tokens - produced, room);
    if (remaining <= 0) {
      out.finish_reason = "length";
      break;
    }
    auto l = s.logits();
    row.assign(l.begin(), l.end());
    if (matcher) {
      if (auto st = matcher->apply(row, remaining); !st) return server_error(st.error().to_string());
    }
    const Token tok = sampler.sample(row, s.tokens());
    if (tok_->is_end_of_generation(tok) || std::isinf(row[tok])) {
      out.finish_reason = "stop";
      break;
    }
    if (matcher) {
      if (auto st = matcher->accept(tok); !st) return server_error(st.error().to_string());
    }
    ++produced;
    const std::string piece = stop.push(decoder.push(tok));
    if (!emit(piece)) {
      out.finish_reason = "cancelled";
      break;
    }
    if (stop.stopped() || (matcher && matcher->is_complete())) {
      out.finish_reason = "stop";
      break;
    }
    const Token one[1] = {tok};
    if (auto st = s.eval(one); !st) {
      if (st.error().code() == ErrorCode::context_full) {
        out.finish_reason = "length";
        break;
      }
      s.reset();
      return server_error("evaluation failed: " + st.error().to_string());
    }
  }
  out.usage.completion_tokens = produced;
  if (out.finish_reason != "cancelled" && !stop.stopped()) {
    std::string tail = stop.push(decoder.flush());
    if (!stop.stopped()) tail += stop.flush();
    if (!emit(tail)) out.finish_reason = "cancelled";
  }
  return out;
}

}  // namespace

std::variant<std::unique_ptr<Backend>, std::string> make_model_backend(
    const Model& model, const ModelBackendOptions& o) {
  SessionOptions so;
  so.n_ctx = o.n_ctx;
  so.n_batch = o.n_batch;
  so.n_threads = o.n_threads;
  if (so.n_threads == 0) {
    const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    so.n_threads = std::max(1, hw / std::max(1, o.n_slots));
  }
  std::vector<Session> sessions;
  for (int i = 0; i < std::max(1, o.n_slots); ++i) {
    auto s = Session::create(model, so);
    if (!s) return "slot " + std::to_string(i) + ": " + s.error().to_string();
    sessions.push_back(std::move(*s));
  }
  std::string id = o.model_id;
  if (id.empty()) id = model.info().name.empty() ? "nibble" : model.info().name;
  return std::unique_ptr<Backend>(new ModelBackend(model, std::move(sessions), std::move(id)));
}

}  // namespace nibble::serve
