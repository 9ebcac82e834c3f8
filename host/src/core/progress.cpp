#include "core/progress.hpp"

#include <cstdio>
#include <cstdlib>
#include <unistd.h>

namespace billdrop::core {

Progress::Progress(std::string label, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), enabled_(enabled_by_default()),
      start_(std::chrono::steady_clock::now()), last_draw_() {}

Progress::~Progress() {
  finish();
}

bool Progress::enabled_by_default() noexcept {
  const char* ci = std::getenv("CI");
  if (ci != nullptr && *ci != '\0')
    return false;
  return isatty(STDERR_FILENO) != 0;
}

void Progress::set_label(std::string label) {
  label_ = std::move(label);
  start_ = std::chrono::steady_clock::now();
}

void Progress::update(std::uint64_t done, std::uint64_t total, std::uint64_t rows) {
  done_ = done;
  total_ = total;
  rows_ = rows;
  if (!enabled_)
    return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(125))
    return;
  last_draw_ = now;
  draw();
}

void Progress::draw() {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(rows_) / seconds : 0.0;
  char line[256];
  if (total_ > 0) {
    const double pct = 100.0 * static_cast<double>(done_) / static_cast<double>(total_);
    std::snprintf(line, sizeof line, "\r\033[K%s  %5.1f%%  %llu %s  %.0f %s/s", label_.c_str(),
                  pct > 100.0 ? 100.0 : pct, static_cast<unsigned long long>(rows_), unit_.c_str(),
                  rate, unit_.c_str());
  } else {
    std::snprintf(line, sizeof line, "\r\033[K%s  %llu %s  %.0f %s/s", label_.c_str(),
                  static_cast<unsigned long long>(rows_), unit_.c_str(), rate, unit_.c_str());
  }
  std::fputs(line, stderr);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (enabled_ && drawn_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
  }
  drawn_ = false;
}

} // namespace billdrop::core
