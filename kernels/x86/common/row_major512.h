// RowMajor512<P>: the row-major kernel set of the AVX-512 policies (see row_major.h): the
// 256-bit set with the 512-bit kernels where they measured faster.
#pragma once

#include "kernels/x86/common/gemv512_k.h"
#include "kernels/x86/common/gemv512_tq.h"
#include "kernels/x86/common/row_major.h"

namespace nibble::kernels::x86 {
namespace {

template <X86Isa512 P>
struct RowMajor512 : RowMajor256<P> {
  static void q2_k(const MatmulArgs& a) { run_gemv_or_multi<Q2_Kx256<P>, Q2_Kx512<P>>(a); }
  static void q4_k(const MatmulArgs& a) { run_gemv_or_multi<Q4_Kx256<P>, Q4_Kx512<P>>(a); }
  static void q6_k(const MatmulArgs& a) { run_matmul<Q6_Kx512<P>>(a); }
  static void tq1_0(const MatmulArgs& a) { run_gemv_or_multi<TQ1_0x256<P>, TQ1_0x512<P>>(a); }
  static void tq2_0(const MatmulArgs& a) { run_gemv_or_multi<TQ2_0x256<P>, TQ2_0x512<P>>(a); }
  static void f16(const MatmulArgs& a) { run_matmul<F16x512>(a); }
  static void f32(const MatmulArgs& a) { run_matmul<F32x512>(a); }
};

}  // namespace
}  // namespace nibble::kernels::x86
