// Text hygiene for everything a child process prints before it reaches a job
// result, a log line or an HTTP body. Pure functions; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bootstrapd {

// Removes ANSI/VT escape sequences: CSI (ESC [ ... final byte 0x40-0x7E), OSC
// (ESC ] ... BEL or ESC \), other two-byte ESC sequences, and the 8-bit CSI
// introducer (0x9B) when it is not part of a UTF-8 sequence. Carriage returns
// that belong to "\r\n" become "\n"; a lone "\r" (spinner redraw) is dropped.
std::string StripAnsi(std::string_view in);

// Replaces every byte that is not part of a well-formed UTF-8 sequence
// (overlongs, surrogates, > U+10FFFF, truncated sequences) with U+FFFD.
std::string SanitizeUtf8(std::string_view in);

// Returns `in` cut to at most `cap` bytes on a code-point boundary (never in
// the middle of a multi-byte sequence), followed by the marker
// "\n[... truncated N bytes]" where N counts the bytes dropped, when a cut
// happened. `in` must already be valid UTF-8. Sets *truncated when non-null.
std::string CapUtf8(std::string_view in, std::size_t cap, bool* truncated = nullptr);

// StripAnsi, then SanitizeUtf8, then CapUtf8: the one call the runner uses.
std::string CleanOutput(std::string_view raw, std::size_t cap, bool* truncated = nullptr);

// `s` without leading and trailing blanks (space, \t, \r, \v, \f).
std::string_view TrimBlanks(std::string_view s);

// True when `s` holds only blanks (or nothing).
bool IsBlank(std::string_view s);

// The last `max_lines` non-empty lines of `text` (for "detail": "<stderr tail>"),
// at most `max_bytes` bytes, cut on a code-point boundary from the front.
std::string Tail(std::string_view text, std::size_t max_lines = 20, std::size_t max_bytes = 4096);

}  // namespace bootstrapd
