// Unicode helpers for the tokenizers: lenient UTF-8 decoding that keeps invalid bytes (so
// byte-level tokenizers stay lossless on any input), category flags from generated tables,
// NFC normalization, and GPT-2's byte <-> printable-character mapping.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nibble::tok {

// Category flags of a code point (one general-category bit, the White_Space property, and for
// letters their subcategory).
enum CpFlags : uint16_t {
  kLetter = 1,          // L*
  kNumber = 2,          // N*
  kPunct = 4,           // P*
  kSymbol = 8,          // S*
  kMark = 16,           // M*
  kSeparator = 32,      // Z*
  kOther = 64,          // C* (controls, format, private use, unassigned, surrogates)
  kWhitespace = 128,    // White_Space property (what regex \s matches)
  kUpper = 256,         // Lu
  kLower = 512,         // Ll
  kTitle = 1024,        // Lt
  kModifier = 2048,     // Lm
  kOtherLetter = 4096,  // Lo
};

uint16_t cp_flags(uint32_t cp);
const char* unicode_version();

// One decoded unit of a byte string: a code point, or a single byte that does not start a
// valid UTF-8 sequence (cp = kInvalidCp, len = 1).
inline constexpr uint32_t kInvalidCp = 0xFFFFFFFFu;
struct Cpt {
  uint32_t cp;
  uint32_t offset;  // byte offset in the source string
  uint8_t len;      // byte length (1..4)
  uint16_t flags;   // cp_flags(cp), 0 for invalid bytes
};

// Decode the sequence at s[i]; returns its length (1..4) and sets cp (kInvalidCp when the
// bytes are not valid UTF-8: overlong, surrogate, > U+10FFFF, truncated, stray continuation).
size_t utf8_next(std::string_view s, size_t i, uint32_t* cp);
// Decode a whole string into units (invalid bytes kept one by one).
void utf8_decode(std::string_view s, std::vector<Cpt>* out);
void utf8_append(std::string* out, uint32_t cp);
bool utf8_valid(std::string_view s);

// NFC-normalize; invalid bytes are copied through unchanged (they act as boundaries).
std::string nfc(std::string_view s);
// The same, normalizing everything (no skipping of unaffected spans): the specification
// nfc() is tested against.
std::string nfc_reference(std::string_view s);
// True when nfc(s) == s is guaranteed cheaply (nothing at or above U+0300).
bool nfc_quick_check(std::string_view s);

// GPT-2 byte-level mapping: every byte to a printable code point ('Ġ' for space, ...).
uint32_t byte_to_cp(uint8_t b);
// Inverse; returns -1 for code points that are not the image of a byte.
int cp_to_byte(uint32_t cp);

}  // namespace nibble::tok
