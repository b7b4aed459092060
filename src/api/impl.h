// Internals of the public API objects.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "graph/context.h"
#include "model/loader.h"
#include "nibble/nibble.h"
#include "sampling/sampler.h"
#include "sampling/stop_matcher.h"

namespace nibble {

struct Model::Impl {
  std::shared_ptr<const model::LoadedModel> model;
  std::string name;
};

struct Session::Impl {
  std::shared_ptr<const Model::Impl> model;
  std::unique_ptr<graph::InferenceContext> ctx;
  SessionOptions options;
  sampling::Sampler sampler;
  std::vector<Token> cached;  // tokens in the KV cache, in order
  std::atomic<bool> cancel{false};

  // The running generation (pull state).
  bool active = false;
  GenerateOptions gen;
  std::optional<StreamDecoder> decoder;
  sampling::StopMatcher stop;
  Stats stats;
  int produced = 0;
  Token pending = -1;  // sampled, not yet evaluated
  std::chrono::steady_clock::time_point t_start, t_first;

  Impl(std::shared_ptr<const Model::Impl> m, std::unique_ptr<graph::InferenceContext> c,
       const SessionOptions& o)
      : model(std::move(m)), ctx(std::move(c)), options(o),
        sampler(o.sampling, ctx->n_vocab()) {}

  Status begin(std::vector<Token> prompt, const GenerateOptions& g);
  Result<std::optional<std::string>> step();
  Status make_room();
  std::string finish_text();
};

}  // namespace nibble
