#include "report/golden_report.hpp"

#include "core/json_writer.hpp"

namespace billdrop::report {
namespace {

const char* state_name(jobs::GoldenMonth::State state) {
  switch (state) {
  case jobs::GoldenMonth::State::same:
    return "same";
  case jobs::GoldenMonth::State::differs:
    return "differs";
  case jobs::GoldenMonth::State::missing_golden:
    return "no golden file";
  case jobs::GoldenMonth::State::missing_run:
    return "not in the run";
  case jobs::GoldenMonth::State::written:
    return "written";
  }
  return "differs";
}

} // namespace

void print_golden(std::ostream& out, const jobs::GoldenResult& result) {
  out << (result.updated ? "golden files written to " : "golden files in ")
      << result.directory.string() << ":\n";
  for (const jobs::GoldenMonth& month : result.months) {
    out << "  " << month.month.to_string() << ": " << state_name(month.state) << '\n';
    for (const std::string& difference : month.differences)
      out << "    " << difference << '\n';
    for (const std::string& row : month.only_in_golden)
      out << "    - " << row << '\n';
    if (month.rows_only_in_golden > month.only_in_golden.size())
      out << "    - … and " << month.rows_only_in_golden - month.only_in_golden.size()
          << " more row(s) only in the golden file\n";
    for (const std::string& row : month.only_in_run)
      out << "    + " << row << '\n';
    if (month.rows_only_in_run > month.only_in_run.size())
      out << "    + … and " << month.rows_only_in_run - month.only_in_run.size()
          << " more row(s) only in the run\n";
  }
  if (!result.updated)
    out << (result.same() ? "the run matches the golden files\n"
                          : "the run differs from the golden files ('-' golden only, '+' run "
                            "only); if the change is intended, run again with --update-golden\n");
}

std::string golden_json(const jobs::GoldenResult& result) {
  core::JsonWriter out;
  out.begin_object()
      .key("directory")
      .value(result.directory.string())
      .key("updated")
      .value(result.updated)
      .key("same")
      .value(result.same())
      .key("months")
      .begin_array();
  for (const jobs::GoldenMonth& month : result.months) {
    out.begin_object()
        .key("month")
        .value(month.month.to_string())
        .key("state")
        .value(state_name(month.state))
        .key("differences")
        .begin_array();
    for (const std::string& difference : month.differences)
      out.value(difference);
    out.end_array()
        .key("rows_only_in_run")
        .value(month.rows_only_in_run)
        .key("rows_only_in_golden")
        .value(month.rows_only_in_golden)
        .key("only_in_run")
        .begin_array();
    for (const std::string& row : month.only_in_run)
      out.value(row);
    out.end_array().key("only_in_golden").begin_array();
    for (const std::string& row : month.only_in_golden)
      out.value(row);
    out.end_array().end_object();
  }
  out.end_array().end_object();
  return out.str();
}

} // namespace billdrop::report
