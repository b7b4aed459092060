// Built-in fallback chat templates (Jinja sources).
#pragma once

#include <string_view>
#include <vector>

namespace nibble::chat {

struct BuiltinTemplate {
  std::string_view family;  // "chatml", "llama-3", "llama-2", "gemma", "phi-3"
  std::string_view source;
};

const std::vector<BuiltinTemplate>& builtin_templates();

}  // namespace nibble::chat
