#pragma once
// A one-line progress display for long operations, redrawn at most ~8 times a second on stderr.
// It shows only when stderr is a terminal and CI is not set, so logs and CI output stay clean.

#include <chrono>
#include <cstdint>
#include <string>

namespace billdrop::core {

class Progress {
public:
  // `unit` names what update()'s third number counts ("rows", "bytes").
  explicit Progress(std::string label, std::string unit = "rows");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  static bool enabled_by_default() noexcept;
  void set_enabled(bool enabled) noexcept { enabled_ = enabled; }
  void set_label(std::string label);

  // done/total in the source's unit (bytes); rows so far.
  void update(std::uint64_t done, std::uint64_t total, std::uint64_t rows);
  // Clears the line.
  void finish();

private:
  void draw();

  std::string label_;
  std::string unit_;
  bool enabled_;
  bool drawn_ = false;
  std::uint64_t done_ = 0;
  std::uint64_t total_ = 0;
  std::uint64_t rows_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

} // namespace billdrop::core
