#include "fee_schedule.hpp"

namespace example {

billdrop::Result<std::vector<Fee>> read_fee_schedule(const std::filesystem::path& file,
                                                     std::vector<Reject>& rejects) {
  auto source = billdrop::open_file(file);
  if (!source)
    return source.error();
  billdrop::CsvReader reader(std::move(*source));
  billdrop::CsvRecord record;
  auto more = reader.next(record);
  if (!more)
    return more.error();
  if (!*more)
    return std::vector<Fee>{};
  const billdrop::CsvHeader header(record);
  const std::size_t date = header.find("date");
  const std::size_t service = header.find("service");
  const std::size_t amount = header.find("amount");
  if (date == header.npos || service == header.npos || amount == header.npos)
    return billdrop::data_error(file.string() + ": expected the columns date,service,amount");

  std::vector<Fee> fees;
  while (true) {
    more = reader.next(record);
    if (!more)
      return more.error();
    if (!*more)
      return fees;
    const std::string origin = file.filename().string() + ":" + std::to_string(reader.line());
    if (record.size() != header.size()) {
      rejects.push_back({origin, "", "record_shape",
                         "expected " + std::to_string(header.size()) + " fields, got " +
                             std::to_string(record.size())});
      continue;
    }
    auto start = billdrop::parse_timestamp(record[date]);
    if (!start) {
      rejects.push_back({origin, "time/usage_start", "timestamp", start.error().message()});
      continue;
    }
    fees.push_back(Fee{*start, std::string(record[service]), std::string(record[amount]), origin});
  }
}

} // namespace example
