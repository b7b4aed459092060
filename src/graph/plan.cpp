#include "graph/plan.h"

#include <string>

namespace nibble::graph {

std::string describe(const std::vector<Node>& plan) {
  static const char* kNames[] = {"embed",       "cancel_point", "norm",     "matmul",
                                 "rope_store",  "attention",    "residual", "gated_act",
                                 "output_norm", "output_head"};
  std::string s;
  for (const Node& n : plan) {
    s += kNames[static_cast<int>(n.kind)];
    if (n.layer >= 0) s += " layer=" + std::to_string(n.layer);
    if (n.dim) s += " dim=" + std::to_string(n.dim);
    if (n.quant) s += " +quantize";
    if (n.quantized) s += " (quantized)";
    for (int i = 0; i < n.n_jobs; ++i)
      s += " [" + std::to_string(n.jobs[i].m->w.rows) + "x" + std::to_string(n.jobs[i].m->w.cols) +
           "]";
    s += "\n";
  }
  return s;
}

}  // namespace nibble::graph
