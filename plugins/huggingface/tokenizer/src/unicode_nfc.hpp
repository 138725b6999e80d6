// Unicode Normalization Form C, without ICU: the data comes from generated tables
// (unicode_nfc_tables.cpp, Unicode version in nfc_unicode_version()).
#pragma once

#include <string>
#include <string_view>

namespace llmhost::tok {

// NFC of valid UTF-8 text. Runs of characters that cannot change under NFC are copied as is,
// so text that is already normalized costs one scan.
std::string nfc(std::string_view text);
// True when nfc(text) == text is known without normalizing (fast path check).
bool nfc_quick_check(std::string_view text);
const char *nfc_unicode_version();

} // namespace llmhost::tok
