// The list of architecture descriptors (arch/list.inc) and the lookup by name.
#include "model/arch.h"

namespace nibble::model {

#define NIBBLE_ARCH(x) extern const ArchDescriptor kArch_##x;
#include "model/arch/list.inc"
#undef NIBBLE_ARCH

namespace {
#define NIBBLE_ARCH(x) &kArch_##x,
constexpr const ArchDescriptor* kAll[] = {
#include "model/arch/list.inc"
};
#undef NIBBLE_ARCH
}  // namespace

const ArchDescriptor* find_architecture(std::string_view name) {
  for (const ArchDescriptor* a : kAll)
    if (a->name == name) return a;
  return nullptr;
}

std::span<const ArchDescriptor* const> architectures() { return kAll; }

}  // namespace nibble::model
