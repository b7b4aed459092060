// The fixture models' golden files (../shared/fixtures/golden/*.json) carry, per prompt, the
// token ids (BOS first) that the reference engine fed its model. Tokenizing each prompt with
// the model file's own vocabulary (add_special on) must give exactly those ids.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "nibble/tokenizer.h"
#include "tests/common/shared_data.h"
#include "tokenizer/unicode.h"

namespace nibble {
namespace {

struct Case {
  std::string prompt;
  std::vector<Token> tokens;
};

// Just enough JSON for the golden files: finds "key": at or after `pos`.
size_t find_key(const std::string& s, const std::string& key, size_t pos) {
  return s.find("\"" + key + "\":", pos);
}

std::string read_json_string(const std::string& s, size_t* pos) {
  std::string out;
  size_t i = s.find('"', *pos) + 1;
  auto hex4 = [&](size_t at) {
    return static_cast<uint32_t>(std::stoul(s.substr(at, 4), nullptr, 16));
  };
  while (i < s.size() && s[i] != '"') {
    if (s[i] != '\\') {
      out.push_back(s[i++]);
      continue;
    }
    char e = s[i + 1];
    i += 2;
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'u': {
        uint32_t cp = hex4(i);
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && s.compare(i, 2, "\\u") == 0) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (hex4(i + 2) - 0xDC00);
          i += 6;
        }
        tok::utf8_append(&out, cp);
        break;
      }
      default:
        out += e;  // \" \\ \/
    }
  }
  *pos = i + 1;
  return out;
}

std::vector<Case> read_cases(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string s = ss.str();
  std::vector<Case> cases;
  for (size_t p = find_key(s, "prompt", 0); p != std::string::npos; p = find_key(s, "prompt", p)) {
    p += 9;
    Case c;
    c.prompt = read_json_string(s, &p);
    size_t t = find_key(s, "tokens", p);
    size_t open = s.find('[', t), close = s.find(']', open);
    std::istringstream ids(s.substr(open + 1, close - open - 1));
    for (std::string id; std::getline(ids, id, ',');) c.tokens.push_back(std::stoi(id));
    cases.push_back(std::move(c));
    p = close;
  }
  return cases;
}

TEST(GoldenPrompts, FixtureTokensMatchTheReferenceEngine) {
  const auto dir = test::shared_dir() / "fixtures" / "golden";
  ASSERT_TRUE(std::filesystem::exists(dir)) << dir;
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    std::string model = e.path().stem().string() + ".gguf";
    auto tok = Tokenizer::load(test::shared_path("fixtures/" + model));
    ASSERT_TRUE(tok.ok()) << model << ": " << tok.error().to_string();
    auto cases = read_cases(e.path().string());
    ASSERT_FALSE(cases.empty()) << e.path();
    for (const Case& c : cases) {
      auto ids = (*tok)->encode(c.prompt, {.add_special = true});
      ASSERT_TRUE(ids.ok());
      EXPECT_EQ(*ids, c.tokens) << model << ": '" << c.prompt << "'";
    }
    ++files;
  }
  EXPECT_GE(files, 5);
}

}  // namespace
}  // namespace nibble
