// Writes the seed corpus of fuzz_chat_template: the built-in templates and the chat templates
// of the shared vocabulary files (read at run time, nothing copied into the repository).
// Usage: fuzz_chat_template_seeds OUTDIR SHARED_DIR
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "chat/builtin_templates.h"
#include "gguf/gguf.h"

static void write_seed(const std::filesystem::path& dir, const std::string& name,
                       std::string_view source, char flags) {
  std::ofstream out(dir / name, std::ios::binary);
  out.put(flags);
  out.write(source.data(), static_cast<std::streamsize>(source.size()));
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUTDIR SHARED_DIR\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir(argv[1]);
  std::filesystem::create_directories(dir);
  int n = 0;
  for (const auto& t : nibble::chat::builtin_templates()) {
    write_seed(dir, "builtin-" + std::string(t.family), t.source, 1);
    ++n;
  }
  for (const char* sub : {"vocab", "fixtures"}) {
    std::error_code ec;
    for (const auto& e :
         std::filesystem::directory_iterator(std::string(argv[2]) + "/" + sub, ec)) {
      if (e.path().extension() != ".gguf") continue;
      auto file = nibble::gguf::File::open(e.path().string());
      if (!file.ok()) continue;
      auto src = file->get_string("tokenizer.chat_template");
      if (!src.ok()) continue;
      write_seed(dir, e.path().stem().string(), *src, 1);
      ++n;
    }
  }
  std::printf("wrote %d seeds to %s\n", n, argv[1]);
  return 0;
}
