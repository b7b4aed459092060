// BitNet b1.58: Llama's layout with sub-norms before the attention output and FFN down
// projections, per-tensor weight scales (<name>.scale) and NeoX RoPE pairs.
#include "model/arch.h"

namespace nibble::model {

extern const ArchDescriptor kArch_bitnet;
const ArchDescriptor kArch_bitnet{.name = "bitnet", .sub_norms = Need::required, .rope_neox = true};

}  // namespace nibble::model
