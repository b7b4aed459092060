// Small open-addressing hash tables for the tokenizer's hot lookups (token text -> id, token
// pair -> merge). Node-based std::unordered_map spent most of the encode time in cache misses;
// these keep 8- or 16-byte slots in one array (load factor <= 1/2, linear probing).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace nibble::tok {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

inline uint64_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (s.size() * 0x100000001B3ULL);
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t k;
    std::memcpy(&k, s.data() + i, 8);
    h = (h ^ mix64(k)) * 0x9E3779B97F4A7C15ULL;
  }
  if (i < s.size()) {
    uint64_t k = 0;
    std::memcpy(&k, s.data() + i, s.size() - i);
    h = (h ^ mix64(k)) * 0x9E3779B97F4A7C15ULL;
  }
  return mix64(h);
}

inline size_t table_size(size_t n) {
  size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  return cap;
}

// Text -> id, where the texts live elsewhere (the tokenizer's arena); `text_of(id)` fetches one.
template <typename TextOf>
class TextIndex {
 public:
  void reserve(size_t n) { slots_.assign(table_size(n), Slot{0, -1}); }
  // Insert or overwrite (the last id for a text wins).
  void put(std::string_view s, int32_t id, const TextOf& text_of) {
    uint64_t h = hash_bytes(s);
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      Slot& sl = slots_[i];
      if (sl.id < 0) {
        sl = {static_cast<uint32_t>(h), id};
        return;
      }
      if (sl.hash == static_cast<uint32_t>(h) && text_of(sl.id) == s) {
        sl.id = id;
        return;
      }
    }
  }
  int32_t get(std::string_view s, const TextOf& text_of) const {
    if (slots_.empty()) return -1;
    uint64_t h = hash_bytes(s);
    for (size_t i = h & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& sl = slots_[i];
      if (sl.id < 0) return -1;
      if (sl.hash == static_cast<uint32_t>(h) && text_of(sl.id) == s) return sl.id;
    }
  }

 private:
  struct Slot {
    uint32_t hash;
    int32_t id;
  };
  std::vector<Slot> slots_;
};

// (left id, right id) -> (rank, merged id).
class PairIndex {
 public:
  struct Value {
    int32_t rank;
    int32_t merged;
  };
  void reserve(size_t n) { slots_.assign(table_size(n), Slot{kEmpty, {0, 0}}); }
  // Keeps the first value for a key (the lowest rank when inserted in rank order).
  void put_first(uint64_t key, Value v) {
    for (size_t i = mix64(key) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      Slot& sl = slots_[i];
      if (sl.key == kEmpty) {
        sl = {key, v};
        return;
      }
      if (sl.key == key) return;
    }
  }
  const Value* get(uint64_t key) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = mix64(key) & (slots_.size() - 1);; i = (i + 1) & (slots_.size() - 1)) {
      const Slot& sl = slots_[i];
      if (sl.key == key) return &sl.value;
      if (sl.key == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};  // ids are < 2^31: never a real key
  struct Slot {
    uint64_t key;
    Value value;
  };
  std::vector<Slot> slots_;
};

}  // namespace nibble::tok
