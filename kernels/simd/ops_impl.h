// Row ops written once over xsimd, as templates on a per-ISA hook struct `H` that each ISA's
// translation unit defines (kernels/x86/avx2/ops.cpp, kernels/x86/avx512/ops.cpp,
// kernels/arm/neon/ops.cpp) in its own anonymous namespace, so every instantiation has internal
// linkage and code compiled with one ISA's flags can never be picked by the linker for another.
//
// H provides:
//   using arch = <xsimd arch>;                   batch<float, arch> of W = batch::size lanes
//   static batch load_h(const uint16_t* p);      W IEEE halves -> floats (F16C / NEON fcvtl)
//   static void store_h(uint16_t* p, batch v);   floats -> W halves, round to nearest even
//   static float h2f(uint16_t); static uint16_t f2h(float);   the same conversions, one value
//   static void narrow_i8(const int32_t* s, int8_t* d, int n); low byte of each int32 (n % 32 == 0)
//
// Layout: plain f32 rows (f16 for the KV cache), any alignment; tails (n % W) are done with the
// same formula in scalar code. Accumulation: f32 throughout, like the reference, in W lanes
// (4 x W for long reductions) and reduced with xsimd::hadd at the end, so results differ from
// kernels/ref/ops.cpp only by summation order and by xsimd's exp/tanh/sincos (a few ulp) versus
// libm. The tolerances are stated and tested in tests/kernels/ops_test.cpp:
//   add, scale, f16<->f32: bit-exact (f32->f16: every non-NaN input; NaN stays NaN);
//   rmsnorm: 5e-6 of max |y|; softmax: 5e-6 relative (reduction order, n <= 4099);
//   swiglu, geglu, softcap: 4e-6 * |ref| + 2.5e-7 * |x * up| + 1e-7 (exp/tanh
//     ulps; the |x| term is gelu's tail, where 1 + tanh cancels in the reference too);
//   rope: 2e-6 of the pair's magnitude (Cephes sin/cos vs libm; same angle chain);
//   attn_scores_f16: 1e-5 of sum |q||k|; attn_values_f16: 1e-5 of sum |p||v| (same j order).
// Activation quantizers (Q8_0, Q8_1, Q8_K) are bit-exact with ref::quantize_row: the scale is
// computed by the same scalar formula, each product is the same f32 multiply, rounding is the
// reference's (std::round: half away from zero, built from trunc exactly; std::nearbyint:
// ties to even), and the int8 value is the low byte of the platform's f32->int32 conversion,
// as the reference's static_cast<int8_t>(float) compiles (this only matters for blocks whose
// scale overflows, e.g. all-denormal blocks, where the reference's cast is out of range).
#pragma once

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/formats/blocks.h"
#include "kernels/row_ops.h"

namespace nibble::kernels::simd {

template <class H>
using FBatch = xsimd::batch<float, typename H::arch>;
template <class H>
using IBatch = xsimd::batch<int32_t, typename H::arch>;

template <class H>
inline float hmax(FBatch<H> v) {
  alignas(64) float t[FBatch<H>::size];
  v.store_aligned(t);
  float m = t[0];
  for (size_t i = 1; i < FBatch<H>::size; ++i) m = std::max(m, t[i]);
  return m;
}

// --- conversions -----------------------------------------------------------------------------

template <class H>
void f16_to_f32(const uint16_t* s, float* d, int64_t n) {
  constexpr int64_t W = FBatch<H>::size;
  int64_t i = 0;
  for (; i + W <= n; i += W) H::load_h(s + i).store_unaligned(d + i);
  for (; i < n; ++i) d[i] = H::h2f(s[i]);
}

template <class H>
void f32_to_f16(const float* s, uint16_t* d, int64_t n) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  int64_t i = 0;
  for (; i + W <= n; i += W) H::store_h(d + i, B::load_unaligned(s + i));
  for (; i < n; ++i) d[i] = H::f2h(s[i]);
}

// --- reductions and norms --------------------------------------------------------------------

template <class H>
float sum_sq(const float* x, int64_t n) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  B a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
  int64_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    const B v0 = B::load_unaligned(x + i), v1 = B::load_unaligned(x + i + W);
    const B v2 = B::load_unaligned(x + i + 2 * W), v3 = B::load_unaligned(x + i + 3 * W);
    a0 = xsimd::fma(v0, v0, a0);
    a1 = xsimd::fma(v1, v1, a1);
    a2 = xsimd::fma(v2, v2, a2);
    a3 = xsimd::fma(v3, v3, a3);
  }
  for (; i + W <= n; i += W) {
    const B v = B::load_unaligned(x + i);
    a0 = xsimd::fma(v, v, a0);
  }
  float s = xsimd::hadd((a0 + a1) + (a2 + a3));
  for (; i < n; ++i) s += x[i] * x[i];
  return s;
}

template <class H>
void rmsnorm(const float* x, const float* w, float* y, int64_t n, float eps) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  const float s = 1.0f / std::sqrt(sum_sq<H>(x, n) / static_cast<float>(n) + eps);
  const B vs(s);
  int64_t i = 0;
  if (w) {
    for (; i + W <= n; i += W)
      ((B::load_unaligned(x + i) * vs) * B::load_unaligned(w + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = x[i] * s * w[i];
  } else {
    for (; i + W <= n; i += W) (B::load_unaligned(x + i) * vs).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = x[i] * s;
  }
}

// --- softmax and soft-capping ----------------------------------------------------------------

template <class H>
void softcap(float* x, int64_t n, float cap) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  const B vc(cap);
  int64_t i = 0;
  for (; i + W <= n; i += W)
    (vc * xsimd::tanh(B::load_unaligned(x + i) / vc)).store_unaligned(x + i);
  for (; i < n; ++i) x[i] = cap * std::tanh(x[i] / cap);
}

template <class H>
void softmax(float* x, int64_t n, float scale, float cap) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  if (n <= 0) return;
  constexpr float kNegInf = -std::numeric_limits<float>::infinity();
  const B vscale(scale), vcap(cap);
  B vmx(kNegInf);
  float mx = kNegInf;
  int64_t i = 0;
  for (; i + W <= n; i += W) {
    B v = B::load_unaligned(x + i) * vscale;
    // Masked entries (-inf) stay masked: capping would turn them into -cap.
    if (cap > 0) v = xsimd::select(xsimd::isfinite(v), vcap * xsimd::tanh(v / vcap), v);
    v.store_unaligned(x + i);
    vmx = xsimd::max(v, vmx);
  }
  for (; i < n; ++i) {
    x[i] *= scale;
    if (cap > 0 && std::isfinite(x[i])) x[i] = cap * std::tanh(x[i] / cap);
    mx = std::max(mx, x[i]);
  }
  mx = std::max(mx, hmax<H>(vmx));
  if (mx == kNegInf) {  // everything masked: uniform zero
    std::memset(x, 0, static_cast<size_t>(n) * sizeof(float));
    return;
  }
  const B vm(mx);
  B a0(0.0f), a1(0.0f);
  i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    const B e0 = xsimd::exp(B::load_unaligned(x + i) - vm);
    const B e1 = xsimd::exp(B::load_unaligned(x + i + W) - vm);
    e0.store_unaligned(x + i);
    e1.store_unaligned(x + i + W);
    a0 += e0;
    a1 += e1;
  }
  for (; i + W <= n; i += W) {
    const B e = xsimd::exp(B::load_unaligned(x + i) - vm);
    e.store_unaligned(x + i);
    a0 += e;
  }
  float sum = xsimd::hadd(a0 + a1);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  const B vinv(inv);
  i = 0;
  for (; i + W <= n; i += W) (B::load_unaligned(x + i) * vinv).store_unaligned(x + i);
  for (; i < n; ++i) x[i] *= inv;
}

// --- activations and elementwise ops -----------------------------------------------------------

template <class H>
inline FBatch<H> silu_v(FBatch<H> v) {
  return v / (FBatch<H>(1.0f) + xsimd::exp(-v));
}
template <class H>
inline FBatch<H> gelu_v(FBatch<H> v) {
  using B = FBatch<H>;
  const B inner = B(0.79788456080286535588f) * v * (B(1.0f) + B(0.044715f) * v * v);
  return B(0.5f) * v * (B(1.0f) + xsimd::tanh(inner));
}
template <class H>
inline float silu_s(float v) {
  return v / (1.0f + std::exp(-v));
}
template <class H>
inline float gelu_s(float v) {
  return 0.5f * v * (1.0f + std::tanh(0.79788456080286535588f * v * (1.0f + 0.044715f * v * v)));
}

// y[i] = f(x[i]) (vector form fv, scalar form fs), optionally times u[i].
template <class H, class FV, class FS>
inline void map1(const float* x, const float* u, float* y, int64_t n, FV fv, FS fs) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  int64_t i = 0;
  if (u) {
    for (; i + W <= n; i += W)
      (fv(B::load_unaligned(x + i)) * B::load_unaligned(u + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = fs(x[i]) * u[i];
  } else {
    for (; i + W <= n; i += W) fv(B::load_unaligned(x + i)).store_unaligned(y + i);
    for (; i < n; ++i) y[i] = fs(x[i]);
  }
}

template <class H>
void swiglu(const float* g, const float* u, float* y, int64_t n) {
  map1<H>(g, u, y, n, silu_v<H>, silu_s<H>);
}
template <class H>
void geglu(const float* g, const float* u, float* y, int64_t n) {
  map1<H>(g, u, y, n, gelu_v<H>, gelu_s<H>);
}

template <class H>
void add(const float* a, const float* b, float* y, int64_t n) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  int64_t i = 0;
  for (; i + W <= n; i += W)
    (B::load_unaligned(a + i) + B::load_unaligned(b + i)).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = a[i] + b[i];
}
template <class H>
void scale(const float* x, float s, float* y, int64_t n) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  const B vs(s);
  int64_t i = 0;
  for (; i + W <= n; i += W) (B::load_unaligned(x + i) * vs).store_unaligned(y + i);
  for (; i < n; ++i) y[i] = x[i] * s;
}

// --- RoPE ------------------------------------------------------------------------------------
// sin and cos of lanes with |x| <= 4096 (Cephes sinf/cosf: reduction by pi/4 in three parts
// whose products with j stay exact, minimax polynomials on [-pi/4, pi/4]; ~1e-7 absolute).
// Written here rather than using xsimd::sincos, whose large-argument path calls the non-template
// inline xsimd::detail::__ieee754_rem_pio2: one copy of it, compiled with some ISA's flags,
// would be shared by every ISA's translation unit (an AVX-512 copy on an AVX2-only CPU).
template <class H>
inline void sincos_4096(FBatch<H> x, FBatch<H>* s, FBatch<H>* c) {
  using B = FBatch<H>;
  using I = IBatch<H>;
  const B ax = xsimd::abs(x);
  I j = xsimd::to_int(ax * B(1.27323954473516f));  // 4 / pi
  j = (j + I(1)) & I(~1);                          // even octant
  const B y = xsimd::to_float(j);
  const B z = ((ax - y * B(0.78515625f)) - y * B(2.4187564849853515625e-4f)) -
              y * B(3.77489497744594108e-8f);
  const B zz = z * z;
  const B pc =
      ((B(2.443315711809948e-5f) * zz - B(1.388731625493765e-3f)) * zz + B(4.166664568298827e-2f)) *
          zz * zz -
      B(0.5f) * zz + B(1.0f);
  const B ps =
      ((B(-1.9515295891e-4f) * zz + B(8.3321608736e-3f)) * zz - B(1.6666654611e-1f)) * zz * z + z;
  // Octant j/2 mod 4 = q: sin = ps, pc, -ps, -pc; cos = pc, -ps, -pc, ps.
  const B swap = xsimd::bitwise_cast<B>(xsimd::select((j & I(2)) == I(2), I(-1), I(0)));
  const B diff = (ps ^ pc) & swap;  // blend by xor (xsimd 8.1's andnot differs between ISAs)
  const B sv = ps ^ diff;
  const B cv = pc ^ diff;
  const I sign_x = xsimd::bitwise_cast<I>(x) & I(std::numeric_limits<int32_t>::min());
  *s = sv ^ xsimd::bitwise_cast<B>(((j & I(4)) << 29) ^ sign_x);
  *c = cv ^ xsimd::bitwise_cast<B>(((j + I(2)) & I(4)) << 29);
}

// The angles follow the reference's chain exactly (theta *= theta_scale in f32, then
// theta * freq_scale / freq_factor); sin/cos are vectorised on chunks of up to 64 angles
// (zero-padded to whole batches; a batch with an angle beyond 4096 rad uses libm), then the
// pairs are rotated.
template <class H>
void rope(float* x, int64_t head_dim, int64_t n_rot, int64_t pos, float base, float freq_scale,
          const float* ff, bool neox) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  constexpr int64_t kChunk = 64;
  static_assert(kChunk % W == 0);
  alignas(64) float t[kChunk], c[kChunk], s[kChunk];
  const int64_t half = n_rot / 2;
  const float theta_scale = std::pow(base, -2.0f / static_cast<float>(n_rot));
  float theta = static_cast<float>(pos);
  for (int64_t i0 = 0; i0 < half; i0 += kChunk) {
    const int64_t m = std::min(kChunk, half - i0);
    for (int64_t i = 0; i < m; ++i, theta *= theta_scale)
      t[i] = theta * freq_scale / (ff ? ff[i0 + i] : 1.0f);
    const int64_t mp = (m + W - 1) / W * W;
    for (int64_t i = m; i < mp; ++i) t[i] = 0;
    for (int64_t i = 0; i < mp; i += W) {
      const B tv = B::load_aligned(t + i);
      if (xsimd::all(xsimd::abs(tv) <= B(4096.0f))) {
        B sv, cv;
        sincos_4096<H>(tv, &sv, &cv);
        sv.store_aligned(s + i);
        cv.store_aligned(c + i);
      } else {
        for (int64_t l = i; l < i + W; ++l) {
          s[l] = std::sin(t[l]);
          c[l] = std::cos(t[l]);
        }
      }
    }
    if (neox) {
      float* xa = x + i0;
      float* xb = x + half + i0;
      int64_t i = 0;
      for (; i + W <= m; i += W) {
        const B x0 = B::load_unaligned(xa + i), x1 = B::load_unaligned(xb + i);
        const B cv = B::load_aligned(c + i), sv = B::load_aligned(s + i);
        (x0 * cv - x1 * sv).store_unaligned(xa + i);
        (x0 * sv + x1 * cv).store_unaligned(xb + i);
      }
      for (; i < m; ++i) {
        const float x0 = xa[i], x1 = xb[i];
        xa[i] = x0 * c[i] - x1 * s[i];
        xb[i] = x0 * s[i] + x1 * c[i];
      }
    } else {
      float* xp = x + 2 * i0;
      for (int64_t i = 0; i < m; ++i) {
        const float x0 = xp[2 * i], x1 = xp[2 * i + 1];
        xp[2 * i] = x0 * c[i] - x1 * s[i];
        xp[2 * i + 1] = x0 * s[i] + x1 * c[i];
      }
    }
  }
  (void)head_dim;  // dims past n_rot pass through unchanged
}

// --- attention over the f16 KV cache ----------------------------------------------------------

// scores[j] = q . K[j]: four K rows per pass share each q load.
template <class H>
void attn_scores_f16(const float* q, const uint16_t* k, size_t ks, int64_t hd, int64_t n,
                     float* sc) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  const int64_t hv = hd / W * W;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    const uint16_t* k0 = k + j * ks;
    const uint16_t* k1 = k0 + ks;
    const uint16_t* k2 = k1 + ks;
    const uint16_t* k3 = k2 + ks;
    B a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f);
    for (int64_t i = 0; i < hv; i += W) {
      const B qv = B::load_unaligned(q + i);
      a0 = xsimd::fma(qv, H::load_h(k0 + i), a0);
      a1 = xsimd::fma(qv, H::load_h(k1 + i), a1);
      a2 = xsimd::fma(qv, H::load_h(k2 + i), a2);
      a3 = xsimd::fma(qv, H::load_h(k3 + i), a3);
    }
    float s0 = xsimd::hadd(a0), s1 = xsimd::hadd(a1), s2 = xsimd::hadd(a2), s3 = xsimd::hadd(a3);
    for (int64_t i = hv; i < hd; ++i) {
      s0 += q[i] * H::h2f(k0[i]);
      s1 += q[i] * H::h2f(k1[i]);
      s2 += q[i] * H::h2f(k2[i]);
      s3 += q[i] * H::h2f(k3[i]);
    }
    sc[j] = s0;
    sc[j + 1] = s1;
    sc[j + 2] = s2;
    sc[j + 3] = s3;
  }
  for (; j < n; ++j) {
    const uint16_t* kr = k + j * ks;
    B a(0.0f);
    for (int64_t i = 0; i < hv; i += W)
      a = xsimd::fma(B::load_unaligned(q + i), H::load_h(kr + i), a);
    float s = xsimd::hadd(a);
    for (int64_t i = hv; i < hd; ++i) s += q[i] * H::h2f(kr[i]);
    sc[j] = s;
  }
}

// out[0 .. NV*W) = sum_j p[j] * V[j][0 .. NV*W): NV accumulators stay in registers while j runs
// over the whole cache, in the reference's j order (zero weights skipped like the reference).
template <class H, int NV>
void attn_values_block(const float* p, const uint16_t* v, size_t vs, int64_t n, float* out) {
  using B = FBatch<H>;
  constexpr int64_t W = B::size;
  B acc[NV];
  for (int u = 0; u < NV; ++u) acc[u] = B(0.0f);
  for (int64_t j = 0; j < n; ++j) {
    if (p[j] == 0) continue;
    const B pj(p[j]);
    const uint16_t* r = v + j * vs;
#pragma GCC unroll 8
    for (int u = 0; u < NV; ++u) acc[u] = xsimd::fma(pj, H::load_h(r + u * W), acc[u]);
  }
  for (int u = 0; u < NV; ++u) acc[u].store_unaligned(out + u * W);
}

template <class H>
void attn_values_f16(const float* p, const uint16_t* v, size_t vs, int64_t hd, int64_t n,
                     float* out) {
  constexpr int64_t W = FBatch<H>::size;
  int64_t i = 0;
  for (; i + 8 * W <= hd; i += 8 * W) attn_values_block<H, 8>(p, v + i, vs, n, out + i);
  for (; i + 4 * W <= hd; i += 4 * W) attn_values_block<H, 4>(p, v + i, vs, n, out + i);
  for (; i + W <= hd; i += W) attn_values_block<H, 1>(p, v + i, vs, n, out + i);
  for (; i < hd; ++i) {
    float s = 0;
    for (int64_t j = 0; j < n; ++j)
      if (p[j] != 0) s += p[j] * H::h2f(v[j * vs + i]);
    out[i] = s;
  }
}

// --- activation quantization (bit-exact with ref::quantize_row) -------------------------------

// std::round (half away from zero) exactly: v - trunc(v) is exact (Sterbenz), so the tie test
// sees the true fraction.
template <class H>
inline FBatch<H> round_away(FBatch<H> v) {
  using B = FBatch<H>;
  const B t = xsimd::trunc(v);
  return t + xsimd::select(xsimd::abs(v - t) >= B(0.5f), xsimd::copysign(B(1.0f), v), B(0.0f));
}

// The int8 the reference stores for an int32 (low byte), sign-extended back to int32.
template <class H>
inline IBatch<H> low_byte(IBatch<H> q) {
  return ((q & IBatch<H>(0xff)) ^ IBatch<H>(0x80)) - IBatch<H>(0x80);
}

template <class H>
float block_absmax(const float* x, int n) {
  using B = FBatch<H>;
  B m(0.0f);
  for (int j = 0; j < n; j += static_cast<int>(B::size))
    m = xsimd::max(xsimd::abs(B::load_unaligned(x + j)), m);
  return hmax<H>(m);
}

template <class H, bool kSum>
void quantize_q8_32(const float* x, int8_t* qs, uint16_t* d_out, uint16_t* s_out) {
  using B = FBatch<H>;
  using I = IBatch<H>;
  constexpr int W = static_cast<int>(B::size);
  const float amax = block_absmax<H>(x, QK);
  const float d = amax / 127.0f, id = d ? 1.0f / d : 0.0f;
  *d_out = H::f2h(d);
  alignas(64) int32_t q[QK];
  const B vid(id);
  I sum(0);
  for (int j = 0; j < QK; j += W) {
    const I qi = xsimd::to_int(round_away<H>(B::load_unaligned(x + j) * vid));
    qi.store_aligned(q + j);
    if (kSum) sum += low_byte<H>(qi);
  }
  H::narrow_i8(q, qs, QK);
  if (kSum) *s_out = H::f2h(static_cast<float>(xsimd::hadd(sum)) * d);
}

template <class H>
void quantize_q8_0(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_0*>(dst);
  for (int64_t b = 0; b < n / QK; ++b)
    quantize_q8_32<H, false>(x + b * QK, y[b].qs, &y[b].d, nullptr);
}

template <class H>
void quantize_q8_1(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_1*>(dst);
  for (int64_t b = 0; b < n / QK; ++b)
    quantize_q8_32<H, true>(x + b * QK, y[b].qs, &y[b].d, &y[b].s);
}

template <class H>
void quantize_q8_k(const float* x, void* dst, int64_t n) {
  using B = FBatch<H>;
  using I = IBatch<H>;
  constexpr int W = static_cast<int>(B::size);
  static_assert(16 % W == 0, "groups of 16 must be whole batches");
  constexpr int kPerGroup = 16 / W;
  auto* y = static_cast<BlockQ8_K*>(dst);
  alignas(64) int32_t q[QK_K];
  for (int64_t b = 0; b < n / QK_K; ++b) {
    const float* xb = x + b * QK_K;
    BlockQ8_K& yb = y[b];
    const float amax = block_absmax<H>(xb, QK_K);
    if (amax == 0) {
      std::memset(&yb, 0, sizeof(yb));
      continue;
    }
    // The reference keeps the first element of largest magnitude, with its sign.
    float max = 0;
    for (int j = 0; j < QK_K; j += W) {
      if (xsimd::any(xsimd::abs(B::load_unaligned(xb + j)) == B(amax))) {
        int l = 0;
        while (std::fabs(xb[j + l]) != amax) ++l;
        max = xb[j + l];
        break;
      }
    }
    const float iscale = -127.0f / max;
    const B vis(iscale);
    const I cap(127);
    I gsum(0);
    for (int j = 0; j < QK_K; j += W) {
      const I qi =
          xsimd::min(xsimd::to_int(xsimd::nearbyint(vis * B::load_unaligned(xb + j))), cap);
      qi.store_aligned(q + j);
      gsum += low_byte<H>(qi);
      if ((j / W) % kPerGroup == kPerGroup - 1) {
        yb.bsums[j / 16] = static_cast<int16_t>(xsimd::hadd(gsum));
        gsum = I(0);
      }
    }
    H::narrow_i8(q, yb.qs, QK_K);
    yb.d = 1.0f / iscale;
  }
}

// The table of one ISA's instantiations.
template <class H>
constexpr RowOps make_row_ops(Isa isa, const char* name) {
  return RowOps{isa,
                name,
                f16_to_f32<H>,
                f32_to_f16<H>,
                rmsnorm<H>,
                softmax<H>,
                swiglu<H>,
                geglu<H>,
                add<H>,
                scale<H>,
                softcap<H>,
                rope<H>,
                attn_scores_f16<H>,
                attn_values_f16<H>,
                quantize_q8_0<H>,
                quantize_q8_1<H>,
                quantize_q8_k<H>};
}

}  // namespace nibble::kernels::simd
