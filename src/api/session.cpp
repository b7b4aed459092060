// Session: prompt -> tokens (prefix reuse against the KV cache) -> sampling loop with
// streaming text, stop strings, cancellation and statistics.
#include <algorithm>
#include <chrono>
#include <exception>

#include "api/impl.h"

namespace nibble {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

}  // namespace

Error moved_from_session() {
  return Error(ErrorCode::invalid_argument, "this Session was moved from (it has no state)");
}

#define NIBBLE_SESSION_CHECK_() \
  if (!impl_) return moved_from_session()

Result<Session> Session::create(const Model& model, const SessionOptions& options) {
  if (!model.impl()) return Error(ErrorCode::invalid_argument, "Session::create: empty model");
  if (options.n_ctx < 0) return Error(ErrorCode::invalid_argument, "n_ctx must be >= 0");
  if (options.n_threads < 0) return Error(ErrorCode::invalid_argument, "n_threads must be >= 0");
  if (options.n_batch < 1) return Error(ErrorCode::invalid_argument, "n_batch must be >= 1");
  if (options.n_keep < 0) return Error(ErrorCode::invalid_argument, "n_keep must be >= 0");
  const auto& m = model.impl()->model;
  NIBBLE_TRY(sampling::validate(options.sampling, static_cast<int>(m->config.n_vocab)));
  graph::ContextOptions co;
  co.n_ctx = options.n_ctx;
  co.n_threads = options.n_threads;
  co.n_batch = options.n_batch;
  co.kv_q8_0 = options.kv_cache_q8_0;
  NIBBLE_ASSIGN_OR_RETURN(auto ctx, graph::create_context(m, co));
  const int n_ctx = ctx->n_ctx();
  NIBBLE_ASSIGN_OR_RETURN(auto drafter, make_drafter(options, *model.impl(), n_ctx));
  auto impl = std::make_unique<Impl>(model.impl(), std::move(ctx), options);
  impl->drafter = std::move(drafter);
  return Session(std::move(impl));
}

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&&) noexcept = default;
Session::~Session() = default;

// A moved-from Session: queries answer empty / zero, calls that can fail return
// moved_from_session(), cancel() and reset() do nothing.
void Session::cancel() {
  if (impl_) impl_->cancel.store(true);
}

void Session::reset() {
  if (!impl_) return;
  impl_->ctx->truncate(0);
  impl_->cached.clear();
  impl_->active = false;
  impl_->have_logits = false;
  impl_->draft.clear();
  impl_->next_draft = 0;
  impl_->row = -1;
}

std::span<const Token> Session::tokens() const {
  if (!impl_) return {};
  return impl_->cached;
}
std::span<const Token> Session::chunk_tokens() const {
  if (!impl_) return {};
  return impl_->chunk;
}
int Session::n_ctx() const { return impl_ ? impl_->ctx->n_ctx() : 0; }
uint64_t Session::kv_bytes() const { return impl_ ? impl_->ctx->memory().kv_bytes : 0; }
uint64_t Session::scratch_bytes() const {
  return impl_ ? impl_->ctx->memory().scratch_bytes : 0;
}
const Stats& Session::stats() const {
  static const Stats kEmpty{};
  return impl_ ? impl_->stats : kEmpty;
}

Status Session::Impl::begin(std::vector<Token> prompt, const GenerateOptions& g) {
  active = false;
  cancel.store(false);
  if (g.max_tokens < 0) return Error(ErrorCode::invalid_argument, "max_tokens must be >= 0");
  if (prompt.empty()) return Error(ErrorCode::invalid_argument, "empty prompt (no tokens)");
  if (static_cast<int>(prompt.size()) > ctx->n_ctx())
    return Error(ErrorCode::context_full, "prompt of " + std::to_string(prompt.size()) +
                                              " tokens exceeds the context of " +
                                              std::to_string(ctx->n_ctx()));
  stats = Stats{};
  gen = g;
  t_start = Clock::now();
  // Prefix reuse: keep the tokens the prompt shares with the cache, but always evaluate at
  // least the last prompt token (its logits start the generation).
  size_t p = 0;
  while (p < cached.size() && p < prompt.size() && cached[p] == prompt[p]) ++p;
  if (p == prompt.size()) --p;
  ctx->truncate(static_cast<int>(p));
  cached.resize(p);
  stats.prompt_tokens = static_cast<int>(prompt.size());
  stats.reused_tokens = static_cast<int>(p);
  std::span<const Token> rest(prompt.data() + p, prompt.size() - p);
  have_logits = false;
  draft.clear();
  next_draft = 0;
  row = -1;
  Status st = ctx->eval(rest, false, &cancel);
  if (!st.ok()) {
    cached.resize(static_cast<size_t>(ctx->n_past()));
    if (st.error().code() != ErrorCode::cancelled) return st;
    stats.stop_reason = StopReason::cancelled;
    return ok_status();  // active stays false: the pull loop ends at once
  }
  cached.insert(cached.end(), rest.begin(), rest.end());
  have_logits = true;
  const double prefill_ms = ms_since(t_start);
  stats.prefill_tokens_per_s = prefill_ms > 0 ? rest.size() * 1000.0 / prefill_ms : 0;
  sampler.reseed(options.sampling.seed);
  if (drafter) drafter->begin(options.sampling.seed);
  draft_length = options.speculative.n_draft;
  constraint.reset();
  if (gen.grammar) {
    if (!gen.grammar->impl()) return Error(ErrorCode::invalid_argument, "empty Grammar");
    constraint = std::make_unique<grammar::Constraint>(gen.grammar->impl()->rules,
                                                       vocab_trie(*model));
    NIBBLE_TRY(constraint->reset(/*fresh_text=*/true));
  }
  decoder.emplace(model->model->tokenizer, /*skip_special=*/true);
  stop = sampling::StopMatcher(gen.stop);
  produced = 0;
  active = true;
  return ok_status();
}

Status Session::Impl::make_room() {
  if (ctx->n_past() < ctx->n_ctx()) return ok_status();
  if (!options.context_shift)
    return Error(ErrorCode::context_full, "context of " + std::to_string(ctx->n_ctx()) + " full");
  const int n_past = ctx->n_past();
  const int keep = std::min(options.n_keep, n_past - 1);
  const int discard = std::max(1, (n_past - keep) / 2);
  NIBBLE_TRY(ctx->shift(keep, discard));
  cached.erase(cached.begin() + keep, cached.begin() + keep + discard);
  return ok_status();
}

void Session::Impl::drop_drafts() {
  if (ctx->n_past() > static_cast<int>(cached.size())) ctx->truncate(static_cast<int>(cached.size()));
  draft.clear();
  next_draft = 0;
}

std::string Session::Impl::finish_text() {
  active = false;
  drop_drafts();
  std::string tail = stop.push(decoder->flush());
  tail += stop.flush();
  if (stats.generated_tokens > 1) {
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t_first).count();
    stats.decode_tokens_per_s = ms > 0 ? (stats.generated_tokens - 1) * 1000.0 / ms : 0;
  }
  return tail;
}

// The next token: the plain sampler, or under a grammar the tokens it allows with the rest
// of max_tokens as the budget (grammar/constraint.h). With a draft token waiting, the
// sampler's distribution decides it by the acceptance rule (sampling/speculative.h): the
// token is then the draft (already evaluated: *in_kv) or a replacement for it.
Result<Token> Session::Impl::sample_next(bool* in_kv) {
  *in_kv = false;
  const bool verify = next_draft < draft.tokens.size();
  if (!constraint && !verify) return sampler.sample(logits_row(), cached);
  GrammarFilter filter(constraint.get());
  filter.set_remaining(gen.max_tokens - produced);
  Token tok = -1;
  if (verify) {
    std::span<const sampling::Sampler::Cand> p;
    if (constraint) {
      NIBBLE_ASSIGN_OR_RETURN(p, sampler.distribution(logits_row(), cached, filter));
    } else {
      p = sampler.distribution(logits_row(), cached);
    }
    if (!p.empty()) {
      const auto v =
          verifier.verify(p, draft.q[next_draft], draft.tokens[next_draft], sampler);
      tok = v.token;
      *in_kv = v.accepted;
      if (!v.accepted || next_draft + 1 == draft.tokens.size()) adapt_draft_length(v.accepted);
    }
  } else {
    NIBBLE_ASSIGN_OR_RETURN(tok, sampler.sample(logits_row(), cached, filter));
  }
  if (tok < 0)
    return Error(ErrorCode::invalid_argument,
                 "grammar: no token of the vocabulary continues the text here");
  if (constraint) NIBBLE_TRY(constraint->accept(tok));
  return tok;
}

// After a draft was verified: all accepted -> draft 2 more next time, else 1 fewer (at least
// 1, at most n_draft). A pass costs more with every token it holds, so drafts that keep
// failing shrink to what gets accepted.
void Session::Impl::adapt_draft_length(bool all_accepted) {
  draft_length = all_accepted ? std::min(options.speculative.n_draft, draft_length + 2)
                              : std::max(1, draft_length - 1);
}

// Evaluates tok after `cached`: alone, or followed by a draft of what comes next (as many
// tokens as the context and max_tokens leave room for), all with their logits.
Status Session::Impl::advance(Token tok) {
  draft.clear();
  next_draft = 0;
  const int room = std::min(ctx->n_ctx() - ctx->n_past() - 1, gen.max_tokens - produced);
  const int n = std::min(draft_length, room);
  if (drafter && n > 0) {
    history.assign(cached.begin(), cached.end());
    history.push_back(tok);
    NIBBLE_TRY(drafter->draft(history, n, &draft, &cancel));
  }
  history.assign(1, tok);
  history.insert(history.end(), draft.tokens.begin(), draft.tokens.end());
  have_logits = false;
  Status st = ctx->eval(history, !draft.tokens.empty(), &cancel);
  if (!st.ok()) {
    draft.clear();
    return st;
  }
  ++stats.decode_passes;
  stats.draft_tokens += static_cast<int>(draft.tokens.size());
  cached.push_back(tok);
  row = draft.tokens.empty() ? -1 : 0;
  have_logits = true;
  return ok_status();
}

Result<std::optional<std::string>> Session::Impl::step() {
  auto finish = [&](StopReason why) -> std::optional<std::string> {
    stats.stop_reason = why;
    std::string tail = finish_text();
    if (tail.empty()) return std::nullopt;
    return tail;
  };
  chunk.clear();
  while (active) {
    if (cancel.load()) return finish(StopReason::cancelled);
    // A grammar that allows nothing more ends the text as the end-of-generation token would
    // (also when that happens on the last token of the budget).
    if (constraint && constraint->complete()) return finish(StopReason::end_of_generation);
    if (produced >= gen.max_tokens) return finish(StopReason::max_tokens);
    bool in_kv = false;
    NIBBLE_ASSIGN_OR_RETURN(const Token tok, sample_next(&in_kv));
    if (in_kv) ++stats.accepted_tokens;
    if (produced == 0) {
      t_first = Clock::now();
      stats.time_to_first_token_ms =
          std::chrono::duration<double, std::milli>(t_first - t_start).count();
    }
    if (model->model->tokenizer->is_end_of_generation(tok))
      return finish(StopReason::end_of_generation);
    ++produced;
    ++stats.generated_tokens;
    chunk.push_back(tok);
    std::string out = stop.push(decoder->push(tok));
    if (stop.stopped()) {
      stats.stop_reason = StopReason::stop_string;
      finish_text();
      if (out.empty()) return std::optional<std::string>();
      return std::optional<std::string>(std::move(out));
    }
    if (produced < gen.max_tokens && in_kv) {  // a verified draft: evaluated already
      cached.push_back(tok);
      ++row;
      ++next_draft;
    } else if (produced < gen.max_tokens) {
      drop_drafts();  // the rest of the draft was rejected with this token
      Status room = make_room();
      if (!room.ok()) {
        if (room.error().code() != ErrorCode::context_full) return std::move(room).error();
        auto tail = finish(StopReason::context_full);
        return std::optional<std::string>(out + tail.value_or(""));
      }
      Status st = advance(tok);
      if (!st.ok()) {
        if (st.error().code() != ErrorCode::cancelled) return std::move(st).error();
        auto tail = finish(StopReason::cancelled);
        return std::optional<std::string>(out + tail.value_or(""));
      }
    }
    if (!out.empty()) return std::optional<std::string>(std::move(out));
  }
  return std::optional<std::string>();
}

static Result<std::vector<Token>> tokenize_prompt(const Model::Impl& m, std::string_view text,
                                                  bool parse_special) {
  EncodeOptions eo;
  eo.add_special = true;
  eo.parse_special = parse_special;
  return m.model->tokenizer->encode(text, eo);
}

Status Session::start(std::string_view prompt, const GenerateOptions& options) {
  NIBBLE_SESSION_CHECK_();
  NIBBLE_ASSIGN_OR_RETURN(auto toks, tokenize_prompt(*impl_->model, prompt, options.parse_special));
  return impl_->begin(std::move(toks), options);
}

Status Session::start_chat(std::span<const ChatMessage> messages, const GenerateOptions& options) {
  NIBBLE_SESSION_CHECK_();
  const auto& tok = impl_->model->model->tokenizer;
  NIBBLE_ASSIGN_OR_RETURN(
      auto tmpl, ChatTemplate::for_tokenizer_template(tok->chat_template(),
                                                      impl_->model->model->config.arch_name));
  ChatTemplateOptions to;
  to.add_generation_prompt = true;
  if (tok->bos() >= 0) to.bos_token = tok->token_to_piece(tok->bos());
  if (tok->eos() >= 0) to.eos_token = tok->token_to_piece(tok->eos());
  NIBBLE_ASSIGN_OR_RETURN(std::string text, tmpl.render(messages, to));
  EncodeOptions eo;
  eo.parse_special = true;
  // A template that writes BOS itself must not get a second one.
  eo.add_special = to.bos_token.empty() || text.compare(0, to.bos_token.size(), to.bos_token) != 0;
  NIBBLE_ASSIGN_OR_RETURN(auto toks, tok->encode(text, eo));
  return impl_->begin(std::move(toks), options);
}

Result<std::optional<std::string>> Session::next() {
  NIBBLE_SESSION_CHECK_();
  return impl_->step();
}

// Pulls chunks into the callback. An exception thrown by the callback ends the generation
// (stop reason `callback`) and comes back as callback_failed; it never crosses the API.
static Result<Stats> drain(Session& s, Session::Impl& impl, const TextCallback& on_text) {
  while (true) {
    NIBBLE_ASSIGN_OR_RETURN(auto chunk, s.next());
    if (!chunk) break;
    if (!on_text) continue;
    bool go_on = false;
    std::string thrown;
    try {
      go_on = on_text(*chunk);
    } catch (const std::exception& e) {
      thrown = std::string("the text callback threw: ") + e.what();
    } catch (...) {
      thrown = "the text callback threw a non-std exception";
    }
    if (!go_on) {
      impl.stats.stop_reason = StopReason::callback;
      impl.finish_text();
      if (!thrown.empty()) return Error(ErrorCode::callback_failed, std::move(thrown));
      break;
    }
  }
  return impl.stats;
}

Result<Stats> Session::generate(std::string_view prompt, const GenerateOptions& options,
                                const TextCallback& on_text) {
  NIBBLE_TRY(start(prompt, options));
  return drain(*this, *impl_, on_text);
}

Result<Stats> Session::chat(std::span<const ChatMessage> messages, const GenerateOptions& options,
                            const TextCallback& on_text) {
  NIBBLE_TRY(start_chat(messages, options));
  return drain(*this, *impl_, on_text);
}

Result<std::string> Session::complete(std::string_view prompt, const GenerateOptions& options) {
  NIBBLE_SESSION_CHECK_();
  std::string out;
  NIBBLE_TRY(generate(prompt, options, [&](std::string_view t) {
    out.append(t);
    return true;
  }));
  return out;
}

// --- Token level ----------------------------------------------------------------------------

Result<std::vector<Token>> Session::tokenize(std::string_view text, bool add_special,
                                            bool parse_special) const {
  NIBBLE_SESSION_CHECK_();
  EncodeOptions eo;
  eo.add_special = add_special;
  eo.parse_special = parse_special;
  return impl_->model->model->tokenizer->encode(text, eo);
}

Status Session::eval(std::span<const Token> tokens) {
  NIBBLE_SESSION_CHECK_();
  Impl& m = *impl_;
  m.active = false;  // a pull-style generation in progress ends here
  m.cancel.store(false);
  if (tokens.empty()) return Error(ErrorCode::invalid_argument, "eval: no tokens");
  m.drop_drafts();
  m.row = -1;
  Status st = m.ctx->eval(tokens, false, &m.cancel);
  if (!st.ok()) {
    // On cancellation the context rolls back to before the call: the logits of the tokens
    // before it are gone, so logits() is empty until the next successful eval.
    if (st.error().code() == ErrorCode::cancelled) m.have_logits = false;
    m.cached.resize(static_cast<size_t>(m.ctx->n_past()));
    return st;
  }
  m.cached.insert(m.cached.end(), tokens.begin(), tokens.end());
  m.have_logits = true;
  return ok_status();
}

std::span<const float> Session::logits() const {
  if (!impl_ || !impl_->have_logits) return {};
  return impl_->logits_row();
}

Result<Token> Session::sample() {
  NIBBLE_SESSION_CHECK_();
  auto l = logits();
  if (l.empty())
    return Error(ErrorCode::invalid_argument, "sample: no logits (evaluate tokens first)");
  return impl_->sampler.sample(l, impl_->cached);
}

Status Session::truncate(int n) {
  NIBBLE_SESSION_CHECK_();
  if (n < 0 || static_cast<size_t>(n) > impl_->cached.size())
    return Error(ErrorCode::invalid_argument,
                 "truncate(" + std::to_string(n) + "): the session holds " +
                     std::to_string(impl_->cached.size()) + " tokens");
  impl_->active = false;
  impl_->drop_drafts();
  impl_->row = -1;
  impl_->ctx->truncate(n);
  impl_->cached.resize(static_cast<size_t>(n));
  impl_->have_logits = false;
  return ok_status();
}

}  // namespace nibble
