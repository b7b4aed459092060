// Byte-for-byte comparison with @huggingface/jinja: tests/data/chat/reference.json holds the
// reference renderings (made by tools/chat-reference/generate.mjs) of the Llama 3 and Qwen3
// templates stored in ../shared/vocab and of nibble's built-in templates. The file templates
// are read through the GGUF reader, so a changed vocabulary file is noticed too.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "chat/value.h"
#include "gguf/gguf.h"
#include "nibble/chat_template.h"
#include "tests/chat/json_reader.h"
#include "tests/common/shared_data.h"

namespace nibble {
namespace {

using chat::Value;

Value load_reference() {
  std::ifstream in(std::string(NIBBLE_SOURCE_DIR) + "/tests/data/chat/reference.json",
                   std::ios::binary);
  EXPECT_TRUE(in) << "missing tests/data/chat/reference.json";
  std::stringstream ss;
  ss << in.rdbuf();
  Value v;
  EXPECT_TRUE(chat::test::JsonReader(ss.str()).parse(&v)) << "reference.json is not valid JSON";
  return v;
}

std::string fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

const Value& field(const Value& v, const char* key) {
  static const Value kUndefined;
  const Value* f = v.find(key);
  return f ? *f : kUndefined;
}

std::vector<ChatMessage> messages_of(const Value& conv) {
  std::vector<ChatMessage> out;
  for (const auto& m : *conv.list) out.push_back({field(m, "role").s, field(m, "content").s});
  return out;
}

// Loads each template named in the reference file: from its GGUF file (checking it is the
// source the reference rendered) or from the built-ins.
std::map<std::string, std::pair<ChatTemplate, const Value*>> load_templates(const Value& ref) {
  std::map<std::string, std::pair<ChatTemplate, const Value*>> out;
  for (const auto& t : *field(ref, "templates").list) {
    const std::string& name = field(t, "name").s;
    std::string source;
    if (field(t, "gguf").is_string()) {
      auto file = gguf::File::open(test::shared_path(field(t, "gguf").s));
      EXPECT_TRUE(file.ok()) << file.error().to_string();
      if (!file.ok()) continue;
      auto s = file->get_string("tokenizer.chat_template");
      EXPECT_TRUE(s.ok()) << s.error().to_string();
      if (!s.ok()) continue;
      source = std::string(*s);
      EXPECT_EQ(static_cast<int64_t>(source.size()), field(t, "source_bytes").i) << name;
      EXPECT_EQ(fnv1a64(source), field(t, "source_fnv1a64").s)
          << name << ": template differs from the one the reference rendered";
      auto tmpl = ChatTemplate::parse(source);
      EXPECT_TRUE(tmpl.ok()) << name << ": " << tmpl.error().to_string();
      if (tmpl.ok()) out.emplace(name, std::make_pair(std::move(*tmpl), &t));
    } else {
      auto tmpl = ChatTemplate::builtin(field(t, "builtin").s);
      EXPECT_TRUE(tmpl.ok()) << name << ": " << tmpl.error().to_string();
      if (!tmpl.ok()) continue;
      EXPECT_EQ(tmpl->source(), field(t, "source").s)
          << name << ": built-in changed; rerun tools/chat-reference/generate.mjs";
      out.emplace(name, std::make_pair(std::move(*tmpl), &t));
    }
  }
  return out;
}

TEST(ChatReference, RendersLikeHuggingFaceJinja) {
  const Value ref = load_reference();
  ASSERT_TRUE(ref.is_dict());
  auto templates = load_templates(ref);
  ASSERT_EQ(templates.size(), field(ref, "templates").list->size());
  const Value& convs = field(ref, "conversations");
  size_t compared = 0, errors = 0;
  std::map<std::string, size_t> per_template;
  for (const auto& c : *field(ref, "cases").list) {
    const std::string& tname = field(c, "template").s;
    auto it = templates.find(tname);
    ASSERT_NE(it, templates.end()) << tname;
    const Value& t = *it->second.second;
    ChatTemplateOptions opt;
    opt.add_generation_prompt = field(c, "add_generation_prompt").b;
    opt.bos_token = field(t, "bos_token").s;
    opt.eos_token = field(t, "eos_token").s;
    for (const auto& [k, v] : *field(c, "flags").dict) opt.flags.emplace_back(k, v.b);
    const std::string& conv = field(c, "conversation").s;
    auto msgs = messages_of(field(convs, conv.c_str()));
    auto r = it->second.first.render(msgs, opt);
    const std::string what = tname + " / " + conv + " / add_generation_prompt=" +
                             (opt.add_generation_prompt ? "true" : "false") +
                             (opt.flags.empty() ? "" : " / flags");
    if (field(c, "error").is_string()) {
      ASSERT_FALSE(r.ok()) << what << ": expected an error";
      EXPECT_EQ(r.error().code(), ErrorCode::template_error);
      EXPECT_NE(r.error().message().find(field(c, "error").s), std::string::npos)
          << what << ": " << r.error().message();
      ++errors;
    } else {
      ASSERT_TRUE(r.ok()) << what << ": " << r.error().to_string();
      EXPECT_EQ(*r, field(c, "expected").s) << what;
    }
    ++compared;
    ++per_template[tname];
  }
  EXPECT_GE(compared, 200u);
  EXPECT_GE(errors, 1u);
  EXPECT_GE(per_template["llama-bpe"], 20u);
  EXPECT_GE(per_template["qwen2"], 20u);
  EXPECT_GE(per_template["phi-3"], 20u);
  for (const char* b : {"chatml", "llama-3", "llama-2", "gemma", "phi-3"}) {
    EXPECT_GE(per_template[std::string("builtin:") + b], 20u) << b;
  }
}

}  // namespace
}  // namespace nibble
