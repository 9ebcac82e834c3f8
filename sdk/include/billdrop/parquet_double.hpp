#pragma once
// A DOUBLE as the Parquet reader delivers it: the shortest text that reads back to the same value,
// exactly what std::to_chars(first, last, value) writes (docs/cbf.md, "Parquet values as text").
//
// Money read from a DOUBLE column is what the exporting system printed, so the text must be
// to_chars' to the character. Most costs have few digits ("0.0104", "12.5"): for those a cheap
// integer path gives the same text; everything else goes to std::to_chars. The fast path takes a
// value only when it is provably to_chars' answer (parquet_double.cpp says why), and
// tests/sdk/parquet_double_test.cpp compares the two over millions of values.

namespace billdrop {

// Enough for any double's shortest text ("-2.2250738585072014e-308" is 24 characters).
inline constexpr int shortest_double_max = 32;

// Writes the shortest round-trip text of `value` at `out` (room for shortest_double_max
// characters) and returns the end.
char* write_shortest_double(char* out, double value) noexcept;

// The fast path alone: the same text, or nullptr (nothing written that counts) when the value is
// not one it can prove.
char* write_shortest_double_fast(char* out, double value) noexcept;

// The same, through std::to_chars only (the reference the fast path is tested against).
char* write_shortest_double_reference(char* out, double value) noexcept;

} // namespace billdrop
