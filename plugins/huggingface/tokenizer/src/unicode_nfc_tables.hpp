// Unicode data for NFC (generated into unicode_nfc_tables.cpp by tools/gen_nfc_tables.py).
#pragma once

#include <cstddef>
#include <cstdint>

namespace llmhost::tok::nfc_data {

struct CccRange { uint32_t first, last, ccc; };
struct Decomposition { uint32_t cp, first, second; }; // second == 0: singleton
struct Composition { uint32_t first, second, composite; };
struct CodeRange { uint32_t first, last; };

extern const char unicode_version[];
extern const CccRange ccc_ranges[];
extern const std::size_t ccc_ranges_count;
extern const Decomposition decompositions[]; // sorted by cp
extern const std::size_t decompositions_count;
extern const Composition compositions[];     // sorted by (first, second)
extern const std::size_t compositions_count;
// Code points that are not "inert" under NFC (decomposable, non-zero ccc, or may compose with a
// preceding character). Text made only of other code points is already in NFC.
extern const CodeRange unsafe_ranges[];
extern const std::size_t unsafe_ranges_count;

} // namespace llmhost::tok::nfc_data
