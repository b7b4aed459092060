// Model: a shared, immutable loaded model behind the public API.
#include "api/impl.h"

namespace nibble {

Result<Model> Model::load(const std::string& path, const ModelOptions& options) {
  model::LoadOptions lo;
  if (!options.isa.empty() && !kernels::parse_isa(options.isa, &lo.isa_cap))
    return Error(ErrorCode::invalid_argument, "unknown ISA '" + options.isa + "'");
  lo.progress = options.progress;
  NIBBLE_ASSIGN_OR_RETURN(auto loaded, model::load_model(path, lo));
  if (!loaded->tokenizer)
    return Error(ErrorCode::unsupported_tokenizer, path + ": the model has no tokenizer");
  auto impl = std::make_shared<Impl>();
  impl->model = std::move(loaded);
  if (const auto* v = impl->model->file->find("general.name")) {
    auto s = v->as_string();
    if (s.ok()) impl->name = std::string(*s);
  }
  return Model(std::move(impl));
}

ModelInfo Model::info() const {
  const auto& c = impl_->model->config;
  ModelInfo i;
  i.architecture = c.arch_name;
  i.name = impl_->name;
  i.n_ctx_train = static_cast<int>(c.n_ctx_train);
  i.n_vocab = static_cast<int>(c.n_vocab);
  i.n_layer = static_cast<int>(c.n_layer);
  i.n_embd = static_cast<int>(c.n_embd);
  i.has_chat_template = !impl_->model->tokenizer->chat_template().empty();
  i.weight_bytes = impl_->model->weight_bytes;
  i.isa = std::string(kernels::isa_name(impl_->model->kernels->isa()));
  return i;
}

const std::shared_ptr<const Tokenizer>& Model::tokenizer() const { return impl_->model->tokenizer; }

std::string_view stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::none: return "none";
    case StopReason::end_of_generation: return "end_of_generation";
    case StopReason::stop_string: return "stop_string";
    case StopReason::max_tokens: return "max_tokens";
    case StopReason::cancelled: return "cancelled";
    case StopReason::callback: return "callback";
    case StopReason::context_full: return "context_full";
  }
  return "unknown";
}

}  // namespace nibble
