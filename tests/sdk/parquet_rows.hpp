#pragma once
// Reads a whole Parquet file into rows of printable cells for tests: a null is "<null>", a map or
// list is "{k=v;k=v;}" (a null entry value is "<null>").

#include <billdrop/parquet.hpp>

#include <string>
#include <vector>

namespace billdrop::testing {

struct ParquetTable {
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> rows;
  std::string error; // empty when the whole file was read
};

inline std::string render_cell(const ParquetReader& reader, const ParquetRow& row, std::size_t i) {
  const ParquetShape shape = reader.columns()[reader.projection()[i]].shape;
  if (row.is_null(i))
    return "<null>";
  if (shape == ParquetShape::value)
    return std::string(row[i]);
  std::string out = "{";
  for (const ParquetEntry& e : row.entries(i)) {
    if (shape == ParquetShape::map) {
      out += e.key;
      out += '=';
    }
    out += e.value_null ? std::string("<null>") : std::string(e.value);
    out += ';';
  }
  return out + "}";
}

inline ParquetTable read_parquet_table(ParquetReader& reader) {
  ParquetTable table;
  for (std::size_t c : reader.projection())
    table.names.push_back(reader.columns()[c].name);
  ParquetRow row;
  for (;;) {
    auto more = reader.next(row);
    if (!more.ok()) {
      table.error = more.error().message();
      return table;
    }
    if (!*more)
      return table;
    std::vector<std::string> cells;
    for (std::size_t i = 0; i < row.size(); ++i)
      cells.push_back(render_cell(reader, row, i));
    table.rows.push_back(std::move(cells));
  }
}

inline ParquetTable read_parquet_table(std::unique_ptr<RandomAccessSource> source) {
  auto reader = ParquetReader::open(std::move(source));
  if (!reader.ok()) {
    ParquetTable table;
    table.error = reader.error().message();
    return table;
  }
  return read_parquet_table(**reader);
}

} // namespace billdrop::testing
