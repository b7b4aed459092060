// `nibble tokenize`: tokenize a text with the vocabulary of a GGUF file (vocab-only files too).
//
//   nibble tokenize -m FILE.gguf (-p TEXT | -f TEXTFILE) [--no-bos] [--parse-special] [--ids]
//
// Default output: one "id<TAB>piece" line per token, the piece escaped so that every token is
// one line (\n, \t, \r, \\, other control bytes and bytes of incomplete UTF-8 as \xNN).
// --ids: one JSON array of ids on one line.
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "command.h"
#include "nibble/tokenizer.h"

namespace nibble::cli {
namespace {

// Length of the valid UTF-8 sequence at s[i], 0 when the bytes there are not one.
size_t utf8_len(std::string_view s, size_t i) {
  auto b = static_cast<unsigned char>(s[i]);
  size_t n = b < 0x80                   ? 1
             : (b >= 0xC2 && b <= 0xDF) ? 2
             : (b >= 0xE0 && b <= 0xEF) ? 3
             : (b >= 0xF0 && b <= 0xF4) ? 4
                                        : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  auto b1 = static_cast<unsigned char>(s[i + 1 < s.size() ? i + 1 : i]);
  if ((b == 0xE0 && b1 < 0xA0) || (b == 0xED && b1 > 0x9F) || (b == 0xF0 && b1 < 0x90) ||
      (b == 0xF4 && b1 > 0x8F))
    return 0;
  return n;
}

std::string escape_piece(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\\')
      out += "\\\\";
    else if (c < 0x20 || c == 0x7F)
      out += fmt::format("\\x{:02X}", c);
    else if (size_t n = utf8_len(s, i); n > 0) {
      out.append(s.substr(i, n));
      i += n;
      continue;
    } else {
      out += fmt::format("\\x{:02X}", c);
    }
    ++i;
  }
  return out;
}

struct TokenizeOptions {
  std::string model, prompt, file;
  bool no_bos = false, parse_special = false, ids_only = false;
};

int run_tokenize(const TokenizeOptions& o) {
  std::string text;
  if (o.file.empty()) {
    text = o.prompt;
  } else {
    std::ifstream in(o.file, std::ios::binary);
    if (!in) {
      fmt::print(stderr, "nibble tokenize: cannot read '{}'\n", o.file);
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  auto tok = Tokenizer::load(o.model);
  if (!tok.ok()) {
    fmt::print(stderr, "nibble tokenize: {}: {}\n", o.model, tok.error().to_string());
    return 1;
  }
  auto ids = (*tok)->encode(text, {.add_special = !o.no_bos, .parse_special = o.parse_special});
  if (!ids.ok()) {
    fmt::print(stderr, "nibble tokenize: {}\n", ids.error().to_string());
    return 1;
  }
  std::string out;
  if (o.ids_only) {
    out = "[";
    for (size_t i = 0; i < ids->size(); ++i) out += fmt::format("{}{}", i ? ", " : "", (*ids)[i]);
    out += "]\n";
  } else {
    for (Token id : *ids)
      out += fmt::format("{}\t{}\n", id, escape_piece((*tok)->token_to_piece(id, true)));
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

Runner setup_tokenize(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  app.add_option("-m,--model", o->model, "GGUF file (a vocab-only file is enough)")
      ->required()->type_name("FILE");
  auto* prompt = app.add_option("-p,--prompt", o->prompt, "text to tokenize");
  auto* file = app.add_option("-f,--file", o->file, "read the text from a file (bytes as they are)");
  prompt->excludes(file);
  app.add_flag("--no-bos", o->no_bos, "do not add BOS/EOS (default: as the vocabulary's flags say)");
  app.add_flag("--parse-special", o->parse_special,
               "recognise special tokens such as <|im_start|> in the text");
  app.add_flag("--ids", o->ids_only, "print one JSON array of ids instead of id<TAB>piece lines");
  return [o, &app, prompt, file] {
    if (prompt->count() + file->count() != 1)
      return usage_error(app, "give exactly one of -p TEXT or -f FILE");
    return run_tokenize(*o);
  };
}

}  // namespace
}  // namespace nibble::cli

NIBBLE_COMMAND(tokenize, "tokenize a text with a GGUF file's vocabulary",
               ::nibble::cli::setup_tokenize);
