// The row-major (GGUF layout, no repacking) matmul of each x86 format on an ISA policy P: which
// kernel type runs it and through which driver. One entry per format (the "traits" of this
// kernel family); the ISA folders' gemv.cpp bind them to the registered names with
// NIBBLE_X86_ROW_MAJOR_*_ENTRIES. Every entry takes any token count: n_tokens == 1 is the GEMV
// path (F::dot<1>), more tokens go in tiles of Isa::kTokenBlock (driver.h).
//   RowMajor256<P>  every ISA: all formats in 256-bit kernels (EVEX-encoded in the AVX-512
//                   folders).
//   RowMajor512<P>  avx512, avx512vnni: whichever width measured faster on Sapphire Rapids
//                   (docs/kernels-x86.md), per format and per GEMV / multi-token: 512 bits for
//                   Q6_K, F16, F32 always and for Q2_K, Q4_K, TQ1_0, TQ2_0 with 2+ tokens;
//                   256 bits for Q8_0, Q4_0 (gemv512_base.h says why) and the other GEMVs.
// Adding a format: its kernel type (gemv256_*.h / gemv512_*.h), one line here (and in
// RowMajor512 if it has a 512-bit kernel), one line in the entry macro, its registry lines.
#pragma once

#include "kernels/x86/common/gemv256_k.h"
#include "kernels/x86/common/gemv256_q8.h"
#include "kernels/x86/common/gemv256_tq.h"

namespace nibble::kernels::x86 {
namespace {

template <X86Isa P>
struct RowMajor256 {
  static void q8_0(const MatmulArgs& a) { run_matmul_q8_0<Q8_0x256<P>>(a); }
  static void q4_0(const MatmulArgs& a) { run_matmul_q8_0<Q4_0x256<P>>(a); }
  static void q2_k(const MatmulArgs& a) { run_matmul<Q2_Kx256<P>>(a); }
  static void q4_k(const MatmulArgs& a) { run_matmul<Q4_Kx256<P>>(a); }
  static void q6_k(const MatmulArgs& a) { run_matmul<Q6_Kx256<P>>(a); }
  static void tq1_0(const MatmulArgs& a) { run_matmul<TQ1_0x256<P>>(a); }
  static void tq2_0(const MatmulArgs& a) { run_matmul<TQ2_0x256<P>>(a); }
  static void f16(const MatmulArgs& a) { run_matmul<F16x256>(a); }
  static void f32(const MatmulArgs& a) { run_matmul<F32x256>(a); }
};

}  // namespace
}  // namespace nibble::kernels::x86

// The registered row-major entry points of set S (RowMajor256<P> or RowMajor512<P>), defined
// in the enclosing namespace nibble::kernels::<isa> (declared by kernels/registry_x86.inc).
#define NIBBLE_X86_ROW_MAJOR_INT_ENTRIES(S)                  \
  void gemv_q8_0_q8_0(const MatmulArgs& a) { S::q8_0(a); }   \
  void gemv_q4_0_q8_0(const MatmulArgs& a) { S::q4_0(a); }   \
  void gemv_q2_k_q8_k(const MatmulArgs& a) { S::q2_k(a); }   \
  void gemv_q4_k_q8_k(const MatmulArgs& a) { S::q4_k(a); }   \
  void gemv_q6_k_q8_k(const MatmulArgs& a) { S::q6_k(a); }   \
  void gemv_tq1_0_q8_k(const MatmulArgs& a) { S::tq1_0(a); } \
  void gemv_tq2_0_q8_k(const MatmulArgs& a) { S::tq2_0(a); }
#define NIBBLE_X86_ROW_MAJOR_FLOAT_ENTRIES(S)           \
  void gemv_f16_f32(const MatmulArgs& a) { S::f16(a); } \
  void gemv_f32_f32(const MatmulArgs& a) { S::f32(a); }
