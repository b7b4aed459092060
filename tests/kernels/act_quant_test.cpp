// Activation quantizers (Q8_0, Q8_1, Q8_K) of every row-op table against ref::quantize_row,
// byte for byte: the reference's rounding decides which integers the matmul kernels see, so any
// difference would change results. Random rows at several magnitudes and adversarial rows (all
// zeros, huge, denormal, exact .5 ties, equal magnitudes of opposite sign). Tables whose ISA the
// CPU lacks are skipped with the ISA's name.
#include <gtest/gtest.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ref/ref.h"
#include "kernels/row_ops.h"

namespace nibble::kernels {
namespace {

constexpr int64_t kN = 4 * QK_K;  // four Q8_K blocks, 32 Q8_0 blocks

std::vector<std::pair<std::string, std::vector<float>>> rows() {
  std::vector<std::pair<std::string, std::vector<float>>> out;
  std::mt19937 rng(17);
  std::normal_distribution<float> g(0, 1);
  for (float s : {1e-3f, 1.0f, 1e3f, 1e30f}) {
    std::vector<float> x(kN);
    for (auto& v : x) v = g(rng) * s;
    out.emplace_back("gaussian*" + std::to_string(s), x);
  }
  out.emplace_back("zeros", std::vector<float>(kN, 0.0f));
  {
    std::vector<float> x(kN, -0.0f);
    out.emplace_back("negative zeros", x);
  }
  {  // huge: near FLT_MAX (d = amax / 127 stays finite), mixed with ordinary values
    std::vector<float> x(kN);
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = (i % 3 == 0 ? FLT_MAX : 1.5f) * (i % 2 ? -1 : 1) * g(rng);
    out.emplace_back("huge", x);
  }
  {  // all denormal: the scale underflows, 1/d overflows (reference's out-of-range casts)
    std::vector<float> x(kN);
    for (auto& v : x) v = g(rng) * 1e-40f;
    out.emplace_back("denormal", x);
  }
  {  // tiny normals whose scale is denormal but whose inverse is finite, or not
    std::vector<float> x(kN);
    for (size_t i = 0; i < x.size(); ++i) x[i] = g(rng) * (i < kN / 2 ? 1e-36f : 1e-37f);
    out.emplace_back("tiny scale", x);
  }
  {  // denormals next to a normal element in every block
    std::vector<float> x(kN);
    for (size_t i = 0; i < x.size(); ++i) x[i] = i % 32 == 5 ? 1.0f : g(rng) * 1e-40f;
    out.emplace_back("denormal with normal", x);
  }
  {  // exact .5 ties: amax 127 gives d = 1, id = 1 (Q8_0/Q8_1); max -127 gives iscale 1 (Q8_K)
    std::vector<float> x(kN);
    for (size_t i = 0; i < x.size(); ++i) {
      const int k = static_cast<int>(rng() % 253) - 126;  // -126..126
      x[i] = static_cast<float>(k) + (k < 0 ? -0.5f : 0.5f);
      if (i % 32 == 0) x[i] = -127.0f;
    }
    out.emplace_back("ties", x);
    for (auto& v : x) v = -v;  // max +127: iscale -1
    out.emplace_back("ties negated", x);
  }
  {  // equal magnitudes of opposite sign: the reference keeps the first
    std::vector<float> x(kN);
    for (size_t i = 0; i < x.size(); ++i) x[i] = g(rng);
    for (int64_t b = 0; b < kN / QK_K; ++b) {
      x[b * QK_K + 40 + b] = (b % 2 ? 9.0f : -9.0f);
      x[b * QK_K + 200 - b] = (b % 2 ? -9.0f : 9.0f);
    }
    out.emplace_back("opposite maxima", x);
  }
  {  // a single non-zero per block at the last position
    std::vector<float> x(kN, 0.0f);
    for (int64_t i = QK - 1; i < kN; i += QK) x[i] = -3.25f;
    out.emplace_back("last element only", x);
  }
  return out;
}

class ActQuant : public ::testing::TestWithParam<const RowOps*> {};

TEST_P(ActQuant, BitExactWithReference) {
  const RowOps& t = *GetParam();
  if (!isa_supported(t.isa)) GTEST_SKIP() << "CPU lacks " << isa_name(t.isa);
  struct Fmt {
    TensorType type;
    void (*fn)(const float*, void*, int64_t);
  };
  for (const Fmt& f :
       {Fmt{TensorType::Q8_0, t.quantize_q8_0}, Fmt{TensorType::Q8_1, t.quantize_q8_1},
        Fmt{TensorType::Q8_K, t.quantize_q8_k}}) {
    const auto info = tensor_type_info(f.type);
    for (const auto& [name, x] : rows()) {
      for (int64_t n : {static_cast<int64_t>(info.block_size), kN}) {
        const size_t bytes = static_cast<size_t>(n / info.block_size) * info.type_size;
        std::vector<uint8_t> got(bytes + 16, 0xAB), want(bytes + 16, 0xAB);
        f.fn(x.data(), got.data(), n);
        ASSERT_TRUE(ref::quantize_row(f.type, x.data(), want.data(), n));
        for (size_t i = 0; i < got.size(); ++i) {
          ASSERT_EQ(got[i], want[i])
              << tensor_type_name(f.type) << " row '" << name << "' n=" << n
              << ": first difference at byte " << i << " (block " << i / info.type_size
              << ", offset " << i % info.type_size << ")";
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(RowOps, ActQuant,
                         ::testing::ValuesIn(row_op_tables().begin(), row_op_tables().end()),
                         [](const auto& info) { return std::string(info.param->name); });

// The KernelTable routes each weight format to its partner's quantizer (and copies F32).
TEST(ActQuant, KernelTableQuantizesIntoThePartnerFormat) {
  const auto xs = rows();
  const std::vector<float>& x = xs.front().second;
  for (TensorType w :
       {TensorType::Q4_0, TensorType::Q5_0, TensorType::IQ4_NL, TensorType::Q4_1, TensorType::Q5_1,
        TensorType::Q3_K, TensorType::Q4_K, TensorType::TQ1_0, TensorType::F16, TensorType::F32}) {
    for (Isa cap : {Isa::scalar, Isa::i8mm}) {
      const KernelTable& kt = KernelTable::get(cap);
      const size_t bytes = kt.activation_row_bytes(w, kN);
      std::vector<uint8_t> got(bytes, 0xAB), want(bytes, 0xCD);
      kt.quantize_activation(w, x.data(), got.data(), kN);
      ASSERT_TRUE(ref::quantize_row(ref::activation_type(w), x.data(), want.data(), kN));
      EXPECT_EQ(got, want) << tensor_type_name(w) << " cap " << isa_name(cap);
    }
  }
}

}  // namespace
}  // namespace nibble::kernels
