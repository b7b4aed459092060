// libFuzzer target for the chat-template parser and interpreter.
//
// Input: byte 0 holds options (bit 0: add_generation_prompt, bit 1: use the tail as message
// content); the rest is the template source, optionally followed by "\x00" and text used as the
// content of every message. Limits are small (64 KiB output, 20k steps) so each run is fast.
// Checks: no crash, no sanitizer report; every failure is template_error (or out_of_memory)
// whose message names a line; successful output stays within the limit.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "nibble/chat_template.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  std::string_view source = rest;
  std::string content = "Hello <|im_end|> {{ x }} \xC3\xA9";
  if (flags & 2) {
    size_t nul = rest.find('\0');
    if (nul != std::string_view::npos) {
      source = rest.substr(0, nul);
      content = std::string(rest.substr(nul + 1));
    }
  }
  auto tmpl = nibble::ChatTemplate::parse(source);
  if (!tmpl.ok()) {
    if (tmpl.error().code() != nibble::ErrorCode::template_error &&
        tmpl.error().code() != nibble::ErrorCode::out_of_memory) {
      std::abort();
    }
    if (tmpl.error().message().find("line ") == std::string::npos &&
        tmpl.error().code() == nibble::ErrorCode::template_error) {
      std::abort();
    }
    return 0;
  }
  std::vector<nibble::ChatMessage> msgs = {{"system", content},
                                           {"user", content},
                                           {"assistant", "<think>\nr\n</think>\n\n" + content},
                                           {"tool", content},
                                           {"user", ""}};
  nibble::ChatTemplateOptions opt;
  opt.add_generation_prompt = flags & 1;
  opt.bos_token = "<s>";
  opt.eos_token = "</s>";
  opt.max_output_bytes = 64 << 10;
  opt.max_steps = 20000;
  auto out = tmpl->render(msgs, opt);
  if (out.ok()) {
    if (out->size() > opt.max_output_bytes) std::abort();
  } else if (out.error().code() != nibble::ErrorCode::template_error &&
             out.error().code() != nibble::ErrorCode::out_of_memory) {
    std::abort();
  } else if (out.error().code() == nibble::ErrorCode::template_error &&
             out.error().message().find("line ") == std::string::npos) {
    std::abort();
  }
  return 0;
}
