// Reading a vocabulary from GGUF metadata (tokenizer.ggml.*). The File is only read here; the
// tokenizer copies what it needs, so it outlives the file.
#include "gguf/gguf.h"
#include "tokenizer/vocab.h"

namespace nibble {
namespace {

Status read_id(const gguf::File& f, std::string_view key, std::optional<Token>* out) {
  const gguf::Value* v = f.find(key);
  if (!v) return ok_status();
  auto id = v->as_int(key);
  if (!id.ok()) return std::move(id).error();
  // Some converters write -1 (or a huge unsigned) for "none".
  if (*id < 0 || *id > INT32_MAX) return ok_status();
  *out = static_cast<Token>(*id);
  return ok_status();
}

Status read_flag(const gguf::File& f, std::string_view key, std::optional<bool>* out) {
  if (!f.find(key)) return ok_status();
  auto b = f.get_bool(key);
  if (!b.ok()) return std::move(b).error();
  *out = *b;
  return ok_status();
}

Result<std::vector<std::string>> read_strings(const gguf::File& f, std::string_view key) {
  auto arr = f.get_string_array(key);
  if (!arr.ok()) return std::move(arr).error();
  std::vector<std::string> out;
  out.reserve(arr->size());
  for (auto s : *arr) out.emplace_back(s);
  return out;
}

}  // namespace

Result<std::shared_ptr<Tokenizer>> tokenizer_from_gguf(const gguf::File& f) {
  VocabData d;
  NIBBLE_ASSIGN_OR_RETURN(auto model, f.get_string("tokenizer.ggml.model"));
  d.model = std::string(model);
  NIBBLE_ASSIGN_OR_RETURN(auto pre, f.get_string_or("tokenizer.ggml.pre", ""));
  d.pre = std::string(pre);
  NIBBLE_ASSIGN_OR_RETURN(d.tokens, read_strings(f, "tokenizer.ggml.tokens"));
  if (f.find("tokenizer.ggml.scores")) {
    NIBBLE_ASSIGN_OR_RETURN(d.scores, f.get_f32_array("tokenizer.ggml.scores"));
  }
  if (f.find("tokenizer.ggml.token_type")) {
    NIBBLE_ASSIGN_OR_RETURN(d.types, f.get_i32_array("tokenizer.ggml.token_type"));
  }
  if (f.find("tokenizer.ggml.merges")) {
    NIBBLE_ASSIGN_OR_RETURN(d.merges, read_strings(f, "tokenizer.ggml.merges"));
  }
  NIBBLE_TRY(read_id(f, "tokenizer.ggml.bos_token_id", &d.bos));
  NIBBLE_TRY(read_id(f, "tokenizer.ggml.eos_token_id", &d.eos));
  NIBBLE_TRY(read_id(f, "tokenizer.ggml.eot_token_id", &d.eot));
  NIBBLE_TRY(read_id(f, "tokenizer.ggml.eom_token_id", &d.eom));
  NIBBLE_TRY(read_id(f, "tokenizer.ggml.padding_token_id", &d.pad));
  NIBBLE_TRY(read_id(f, "tokenizer.ggml.unknown_token_id", &d.unk));
  NIBBLE_TRY(read_flag(f, "tokenizer.ggml.add_bos_token", &d.add_bos));
  NIBBLE_TRY(read_flag(f, "tokenizer.ggml.add_eos_token", &d.add_eos));
  NIBBLE_TRY(read_flag(f, "tokenizer.ggml.add_space_prefix", &d.add_space_prefix));
  NIBBLE_ASSIGN_OR_RETURN(auto tmpl, f.get_string_or("tokenizer.chat_template", ""));
  d.chat_template = std::string(tmpl);
  NIBBLE_ASSIGN_OR_RETURN(auto arch, f.get_string_or("general.architecture", ""));
  d.architecture = std::string(arch);
  NIBBLE_ASSIGN_OR_RETURN(auto name, f.get_string_or("general.name", ""));
  d.name = std::string(name);
  return tokenizer_from_vocab(std::move(d));
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::load(const std::string& gguf_path) {
  NIBBLE_ASSIGN_OR_RETURN(auto file, gguf::File::open(gguf_path));
  NIBBLE_ASSIGN_OR_RETURN(auto tok, tokenizer_from_gguf(file));
  return std::shared_ptr<const Tokenizer>(std::move(tok));
}

}  // namespace nibble
