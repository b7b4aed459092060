// A C++ application of the installed nibble: streams the completion of a prompt.
#include <cstdio>
#include <string>

#include "nibble/nibble.h"
#include "nibble/version.h"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  auto model = nibble::Model::load(argv[1]);
  if (!model) {
    std::fprintf(stderr, "%s\n", model.error().to_string().c_str());
    return 1;
  }
  nibble::SessionOptions so;
  so.sampling.temperature = 0;
  auto session = nibble::Session::create(*model, so);
  if (!session) return 1;
  nibble::GenerateOptions go;
  go.max_tokens = 40;
  std::printf("nibble %s: Once upon a time", NIBBLE_VERSION_STRING);
  auto stats = session->generate("Once upon a time", go, [](std::string_view t) {
    std::fwrite(t.data(), 1, t.size(), stdout);
    return true;
  });
  std::printf("\n");
  return stats.ok() ? 0 : 1;
}
