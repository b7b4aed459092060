// Runs one registered matmul variant once on a fixed shape (16 rows x 4096, n tokens), so that
// scripts/arm-insn-count.sh can count the instructions it executes under QEMU. Not a test and
// not a benchmark: it checks nothing and measures nothing itself.
// Usage: arm_insn_probe <variant name> <n_tokens> [rows]    |    arm_insn_probe --list
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "kernels/registry.h"

using namespace nibble;
using namespace nibble::kernels;

int main(int argc, char** argv) {
  if (argc == 2 && std::strcmp(argv[1], "--list") == 0) {  // name, ISA, elements per block
    for (const MatmulVariant& m : matmul_variants())
      std::printf("%s %s %u\n", m.name, std::string(isa_name(m.isa)).c_str(),
                  tensor_type_info(m.weight).block_size);
    return 0;
  }
  if (argc < 3) return 2;
  const MatmulVariant* v = nullptr;
  for (const MatmulVariant& m : matmul_variants())
    if (std::strcmp(m.name, argv[1]) == 0) v = &m;
  if (!v || !isa_supported(v->isa)) {
    std::fprintf(stderr, "no runnable variant %s\n", argv[1]);
    return 1;
  }
  const int n_tokens = std::atoi(argv[2]);
  const int64_t rows = argc > 3 ? std::atoll(argv[3]) : 16, k = 4096;  // optional 3rd arg: rows
  const auto info = tensor_type_info(v->weight);
  const TensorType at = ref::activation_type(v->weight);
  const auto ainfo = tensor_type_info(at);
  const size_t row_bytes = static_cast<size_t>(k / info.block_size) * info.type_size;
  const size_t x_stride = static_cast<size_t>(k / ainfo.block_size) * ainfo.type_size;
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> f(static_cast<size_t>(k));
  std::vector<uint8_t> w(row_bytes * rows), x(x_stride * n_tokens);
  for (int64_t r = 0; r < rows; ++r) {
    for (auto& e : f) e = dist(rng);
    ref::quantize_row(v->weight, f.data(), w.data() + r * row_bytes, k);
  }
  for (int t = 0; t < n_tokens; ++t) {
    for (auto& e : f) e = dist(rng);
    ref::quantize_row(at, f.data(), x.data() + t * x_stride, k);
  }
  std::vector<float> y(static_cast<size_t>(rows) * n_tokens);
  // Packed variants read their load-time layout (the pack itself is not counted: the script
  // filters the trace to the ISA's object, and the pack functions are portable code).
  std::vector<uint8_t> packed;
  const uint8_t* wp = w.data();
  size_t w_row = row_bytes;
  if (v->packed()) {
    packed.resize(v->pack(w.data(), rows, k, nullptr));
    v->pack(w.data(), rows, k, packed.data());
    wp = packed.data();
    w_row = packed.size() / static_cast<size_t>(padded_rows(rows, v->rows_per_call));
  }
  MatmulArgs a{wp, w_row, x.data(), x_stride, y.data(), static_cast<size_t>(rows),
               k, 0, rows, n_tokens};
  v->fn(a);
  std::printf("%s %g\n", v->name, static_cast<double>(y[0]));
  return 0;
}
