#pragma once
// `validate --golden DIR`: the comparison with the golden files (jobs::golden_files) as text and
// JSON, each differing month with what differs and the rows only the run or only the golden
// files have.

#include "jobs/golden.hpp"

#include <ostream>
#include <string>

namespace billdrop::report {

void print_golden(std::ostream& out, const jobs::GoldenResult& result);
std::string golden_json(const jobs::GoldenResult& result);

} // namespace billdrop::report
