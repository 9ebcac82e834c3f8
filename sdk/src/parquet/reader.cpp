// ParquetReader: the footer, the schema turned into deliverable columns (values, maps, lists),
// and rows assembled from one cursor per projected leaf.

#include "parquet/column.hpp"

#include <billdrop/growing_file.hpp>
#include <billdrop/parquet.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace billdrop {

namespace pq = detail::parquet;
using detail::Leaf;
using detail::TextRule;

namespace {

class FileRandomAccess final : public RandomAccessSource {
public:
  FileRandomAccess(int fd, std::uint64_t size, std::string name)
      : fd_(fd), size_(size), name_(std::move(name)) {}
  ~FileRandomAccess() override { ::close(fd_); }
  std::uint64_t size() const override { return size_; }
  const std::string& name() const override { return name_; }
  Status read_at(std::uint64_t offset, std::size_t length, char* out) override {
    if (offset > size_ || length > size_ - offset)
      return data_error(name_ + ": read past the end of the file");
    while (length > 0) {
      const ssize_t n = ::pread(fd_, out, length, static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return source_error(name_ + ": " + (n < 0 ? std::strerror(errno) : "file shrank"));
      out += n;
      offset += static_cast<std::uint64_t>(n);
      length -= static_cast<std::size_t>(n);
    }
    return {};
  }

private:
  int fd_;
  std::uint64_t size_;
  std::string name_;
};

class MemoryRandomAccess final : public RandomAccessSource {
public:
  MemoryRandomAccess(std::string data, std::string name)
      : data_(std::move(data)), name_(std::move(name)) {}
  std::uint64_t size() const override { return data_.size(); }
  const std::string& name() const override { return name_; }
  Status read_at(std::uint64_t offset, std::size_t length, char* out) override {
    if (offset > data_.size() || length > data_.size() - offset)
      return data_error(name_ + ": read past the end of the data");
    std::memcpy(out, data_.data() + offset, length);
    return {};
  }

private:
  std::string data_;
  std::string name_;
};

// The schema as a tree: the flattened list, with each group's children.
struct Node {
  const pq::SchemaElement* element = nullptr;
  std::vector<std::size_t> children;
};

bool is_repeated(const pq::SchemaElement& e) {
  return e.repetition == pq::Repetition::repeated;
}

std::string time_unit_name(pq::TimeUnit unit) {
  return unit == pq::TimeUnit::millis   ? "MILLIS"
         : unit == pq::TimeUnit::micros ? "MICROS"
                                        : "NANOS";
}

// Chooses the text rule of a primitive from its physical, logical and converted types; throws
// for the ones that cannot be read.
void classify(const pq::SchemaElement& e, Leaf& leaf) {
  using K = pq::LogicalType::Kind;
  leaf.type = *e.type;
  leaf.type_length = e.type_length;
  std::string type = pq::to_string(leaf.type);
  if (leaf.type == pq::Type::fixed_len_byte_array) {
    if (e.type_length < 0 || e.type_length > (1 << 20))
      pq::fail("FIXED_LEN_BYTE_ARRAY length " + std::to_string(e.type_length) + " out of range");
    type += "(" + std::to_string(e.type_length) + ")";
  }
  pq::LogicalType lt = e.logical;
  if (!e.has_logical) {
    // Older writers: the converted type only.
    switch (e.converted_type) {
    case 0:
      lt.kind = K::string;
      break;
    case 4:
      lt.kind = K::enum_;
      break;
    case 5:
      lt.kind = K::decimal;
      lt.scale = e.scale;
      lt.precision = e.precision;
      break;
    case 6:
      lt.kind = K::date;
      break;
    case 7:
    case 8:
      lt.kind = K::time;
      lt.unit = e.converted_type == 7 ? pq::TimeUnit::millis : pq::TimeUnit::micros;
      break;
    case 9:
    case 10:
      lt.kind = K::timestamp;
      lt.utc = true;
      lt.unit = e.converted_type == 9 ? pq::TimeUnit::millis : pq::TimeUnit::micros;
      break;
    case 11:
    case 12:
    case 13:
    case 14:
      lt.kind = K::integer;
      lt.is_signed = false;
      break;
    case 19:
      lt.kind = K::json;
      break;
    default:
      break;
    }
  }
  switch (leaf.type) {
  case pq::Type::boolean:
    leaf.rule = TextRule::boolean;
    break;
  case pq::Type::int32:
  case pq::Type::int64: {
    const bool is32 = leaf.type == pq::Type::int32;
    leaf.rule = is32 ? TextRule::int32 : TextRule::int64;
    if (lt.kind == K::integer && !lt.is_signed) {
      leaf.rule = is32 ? TextRule::uint32 : TextRule::uint64;
      type += " UNSIGNED";
    } else if (lt.kind == K::date && is32) {
      leaf.rule = TextRule::date;
      type += " DATE";
    } else if (lt.kind == K::time) {
      leaf.rule = TextRule::time;
      leaf.unit = lt.unit;
      type += " TIME(" + time_unit_name(lt.unit) + ")";
    } else if (lt.kind == K::timestamp && !is32) {
      leaf.rule = TextRule::timestamp;
      leaf.unit = lt.unit;
      leaf.utc = lt.utc;
      type += " TIMESTAMP(" + time_unit_name(lt.unit) + (lt.utc ? ",UTC)" : ")");
    }
    break;
  }
  case pq::Type::int96:
    leaf.rule = TextRule::int96;
    break;
  case pq::Type::float32:
    leaf.rule = TextRule::float32;
    break;
  case pq::Type::float64:
    leaf.rule = TextRule::float64;
    break;
  case pq::Type::byte_array:
    leaf.rule = TextRule::bytes;
    if (lt.kind == K::string || lt.kind == K::enum_ || lt.kind == K::json)
      type += lt.kind == K::json ? " JSON" : " STRING";
    break;
  case pq::Type::fixed_len_byte_array:
    leaf.rule = TextRule::bytes;
    if (lt.kind == K::uuid && e.type_length == 16) {
      leaf.rule = TextRule::uuid;
      type += " UUID";
    } else if (lt.kind == K::float16 && e.type_length == 2) {
      leaf.rule = TextRule::float16;
      type += " FLOAT16";
    }
    break;
  }
  if (lt.kind == K::decimal) {
    if (leaf.type == pq::Type::int32 || leaf.type == pq::Type::int64 ||
        leaf.type == pq::Type::byte_array || leaf.type == pq::Type::fixed_len_byte_array) {
      if (lt.scale < 0 || lt.scale > 38)
        pq::fail("DECIMAL scale " + std::to_string(lt.scale) + " is not supported");
      leaf.rule = TextRule::decimal;
      leaf.scale = lt.scale;
      type += " DECIMAL(" + std::to_string(lt.precision) + "," + std::to_string(lt.scale) + ")";
    }
  }
  leaf.type_text = std::move(type);
}

// Builds the deliverable columns from the schema. Leaves are numbered in schema order, which is
// the order of a row group's column chunks.
class SchemaMapper {
public:
  SchemaMapper(const std::vector<pq::SchemaElement>& schema, detail::ParquetFile& file)
      : schema_(schema), file_(file) {}

  struct Column {
    ParquetColumn column;
    std::vector<std::size_t> leaves; // one for a value or list, key then value for a map
  };
  std::vector<Column> columns;
  std::vector<ParquetUnsupported> unsupported;

  void run() {
    if (schema_.empty())
      pq::fail("the footer has no schema");
    if (schema_[0].type)
      pq::fail("the schema's root is not a group");
    nodes_.resize(schema_.size());
    std::size_t next = 1;
    build(0, next, 0);
    if (next != schema_.size())
      pq::fail("the schema lists more elements than its groups hold");
    for (std::size_t child : nodes_[0].children)
      top_level(child);
  }

private:
  void build(std::size_t index, std::size_t& next, int depth) {
    if (depth > 100)
      pq::fail("schema nested too deeply");
    const pq::SchemaElement& e = schema_[index];
    nodes_[index].element = &e;
    if (e.type)
      return;
    if (e.num_children < 0 || static_cast<std::size_t>(e.num_children) > schema_.size() - next)
      pq::fail("schema group '" + e.name + "' has more children than the schema holds");
    for (std::int32_t i = 0; i < e.num_children; ++i) {
      if (next >= schema_.size())
        pq::fail("schema group '" + e.name + "' has more children than the schema holds");
      const std::size_t child = next++;
      nodes_[index].children.push_back(child);
      build(child, next, depth + 1);
    }
  }

  // Adds the leaves under `index` (levels from `def`/`rep` above) to file_.leaves and returns
  // their numbers; `first_leaf_` counts every leaf, delivered or not.
  void leaves_under(std::size_t index, const std::string& prefix, int def, int rep,
                    int repeated_def, std::vector<std::size_t>& out) {
    const pq::SchemaElement& e = *nodes_[index].element;
    const auto repetition = e.repetition.value_or(pq::Repetition::required);
    if (repetition != pq::Repetition::required)
      ++def;
    if (repetition == pq::Repetition::repeated) {
      ++rep;
      repeated_def = def;
    }
    const std::string path = prefix.empty() ? e.name : prefix + "." + e.name;
    if (e.type) {
      Leaf leaf;
      leaf.path = path;
      leaf.max_def = def;
      leaf.max_rep = rep;
      leaf.repeated_def = repeated_def;
      std::string reason;
      try {
        classify(e, leaf);
      } catch (const pq::FormatError& error) {
        leaf.type_text = error.what();
        leaf.rule = TextRule::bytes;
        bad_leaves_.push_back(file_.leaves.size());
      }
      out.push_back(file_.leaves.size());
      file_.leaves.push_back(std::move(leaf));
      return;
    }
    for (std::size_t child : nodes_[index].children)
      leaves_under(child, path, def, rep, repeated_def, out);
  }

  static bool is_map(const pq::SchemaElement& e) {
    return (e.has_logical && e.logical.kind == pq::LogicalType::Kind::map) ||
           e.converted_type == 1 || e.converted_type == 2;
  }
  static bool is_list(const pq::SchemaElement& e) {
    return (e.has_logical && e.logical.kind == pq::LogicalType::Kind::list) ||
           e.converted_type == 3;
  }

  bool any_repeated(std::size_t index) const {
    if (is_repeated(*nodes_[index].element))
      return true;
    for (std::size_t c : nodes_[index].children)
      if (any_repeated(c))
        return true;
    return false;
  }

  void refuse(const std::string& name, const std::string& reason) {
    unsupported.push_back({name, reason});
  }

  void top_level(std::size_t index) {
    const pq::SchemaElement& e = *nodes_[index].element;
    std::vector<std::size_t> leaves;
    const std::size_t bad_before = bad_leaves_.size();
    leaves_under(index, "", 0, 0, 0, leaves);
    if (leaves.empty()) {
      refuse(e.name, "a group without fields is not supported");
      return;
    }
    if (bad_leaves_.size() != bad_before) {
      refuse(e.name, file_.leaves[bad_leaves_.back()].type_text);
      return;
    }
    const Leaf& first = file_.leaves[leaves.front()];
    if (!any_repeated(index)) {
      // A primitive, or a struct without repetition: one value column per leaf.
      for (std::size_t l : leaves)
        columns.push_back(
            {{file_.leaves[l].path, ParquetShape::value, file_.leaves[l].type_text}, {l}});
      return;
    }
    const std::vector<std::size_t>& kids = nodes_[index].children;
    if (e.type) { // a repeated primitive: a list of it
      columns.push_back({{e.name, ParquetShape::list, "list<" + first.type_text + ">"}, leaves});
      return;
    }
    if (is_repeated(e)) {
      refuse(e.name, "a repeated group at the top level is not supported");
      return;
    }
    // map: group (MAP) { repeated group <any name> { key; value; } }
    if (kids.size() == 1 && !nodes_[kids[0]].element->type &&
        is_repeated(*nodes_[kids[0]].element) && (is_map(e) || !is_list(e))) {
      const Node& kv = nodes_[kids[0]];
      const bool primitives = kv.children.size() == 2 && nodes_[kv.children[0]].element->type &&
                              nodes_[kv.children[1]].element->type &&
                              !is_repeated(*nodes_[kv.children[0]].element) &&
                              !is_repeated(*nodes_[kv.children[1]].element);
      if (primitives && leaves.size() == 2) {
        columns.push_back(
            {{e.name, ParquetShape::map,
              "map<" + first.type_text + "," + file_.leaves[leaves[1]].type_text + ">"},
             leaves});
        return;
      }
      if (is_map(e)) {
        refuse(e.name, kv.children.size() == 2
                           ? "a map whose keys or values are not primitive is not supported"
                           : "a map without exactly a key and a value is not supported");
        return;
      }
    }
    // list: group (LIST) { repeated group list { element; } } or { repeated element; }
    if (is_list(e) && kids.size() == 1) {
      const Node& rep = nodes_[kids[0]];
      if (is_repeated(*rep.element) && leaves.size() == 1 && first.max_rep == 1) {
        columns.push_back({{e.name, ParquetShape::list, "list<" + first.type_text + ">"}, leaves});
        return;
      }
      refuse(e.name, "a list of lists, maps or structs is not supported");
      return;
    }
    refuse(e.name, "a struct holding repeated fields is not supported");
  }

  const std::vector<pq::SchemaElement>& schema_;
  detail::ParquetFile& file_;
  std::vector<Node> nodes_;
  std::vector<std::size_t> bad_leaves_;
};

std::uint32_t le32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

} // namespace

Result<std::unique_ptr<RandomAccessSource>>
open_random_access_file(const std::filesystem::path& path) {
  // The footer is at the end: a file still being downloaded is read once whole.
  if (Status whole = wait_until_whole(path); !whole)
    return std::move(whole).error();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return source_error(path.string() + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return source_error(path.string() + ": not a regular file");
  }
  return std::unique_ptr<RandomAccessSource>(std::make_unique<FileRandomAccess>(
      fd, static_cast<std::uint64_t>(info.st_size), path.string()));
}

std::unique_ptr<RandomAccessSource> memory_random_access(std::string data, std::string name) {
  return std::make_unique<MemoryRandomAccess>(std::move(data), std::move(name));
}

ParquetReader::ParquetReader() = default;
ParquetReader::~ParquetReader() = default;

std::size_t ParquetReader::num_row_groups() const noexcept {
  return file_->meta.row_groups.size();
}
const std::string& ParquetReader::name() const noexcept {
  return file_->name();
}
const std::string& ParquetReader::created_by() const noexcept {
  return file_->meta.created_by;
}

Result<std::unique_ptr<ParquetReader>> ParquetReader::open(const std::filesystem::path& path) {
  auto source = open_random_access_file(path);
  if (!source.ok())
    return source.error();
  return open(std::move(source.value()));
}

Result<std::unique_ptr<ParquetReader>>
ParquetReader::open(std::unique_ptr<RandomAccessSource> source) {
  std::unique_ptr<ParquetReader> reader(new ParquetReader());
  reader->file_ = std::make_unique<detail::ParquetFile>();
  detail::ParquetFile& file = *reader->file_;
  file.source = std::move(source);
  const std::string& name = file.name();
  const std::uint64_t size = file.source->size();
  try {
    char head[4];
    char tail[8];
    if (size < 12)
      return data_error(name + ": not a Parquet file (" + std::to_string(size) +
                        " bytes, too short)");
    if (Status s = file.source->read_at(0, 4, head); !s.ok())
      return s.error();
    if (Status s = file.source->read_at(size - 8, 8, tail); !s.ok())
      return s.error();
    if (std::memcmp(tail + 4, "PARE", 4) == 0)
      return data_error(name + ": encrypted Parquet (modular encryption, encrypted footer) is "
                               "not supported");
    if (std::memcmp(head, "PAR1", 4) != 0 || std::memcmp(tail + 4, "PAR1", 4) != 0)
      return data_error(name + ": not a Parquet file (no PAR1 magic at its start and end)");
    const std::uint32_t footer_len = le32(tail);
    if (footer_len == 0 || footer_len > size - 12)
      return data_error(name + ": corrupt Parquet footer length (" + std::to_string(footer_len) +
                        " bytes in a file of " + std::to_string(size) + ")");
    std::string footer(footer_len, '\0');
    file.data_end = size - 8 - footer_len;
    if (Status s = file.source->read_at(file.data_end, footer_len, footer.data()); !s.ok())
      return s.error();
    file.meta = pq::parse_file_metadata(reinterpret_cast<const std::uint8_t*>(footer.data()),
                                        footer.size());
    if (file.meta.encrypted)
      return data_error(name + ": encrypted Parquet (modular encryption, plaintext footer) is "
                               "not supported");
    SchemaMapper mapper(file.meta.schema, file);
    mapper.run();
    if (file.meta.num_rows < 0)
      pq::fail("negative row count");
    std::uint64_t rows = 0;
    for (std::size_t g = 0; g < file.meta.row_groups.size(); ++g) {
      const pq::RowGroup& group = file.meta.row_groups[g];
      if (group.columns.size() != file.leaves.size())
        pq::fail("row group " + std::to_string(g + 1) + " has " +
                 std::to_string(group.columns.size()) + " column chunks for " +
                 std::to_string(file.leaves.size()) + " columns");
      if (group.num_rows < 0)
        pq::fail("row group " + std::to_string(g + 1) + " has a negative row count");
      rows += static_cast<std::uint64_t>(group.num_rows);
    }
    reader->num_rows_ = rows;
    for (auto& column : mapper.columns) {
      reader->columns_.push_back(std::move(column.column));
      reader->cursor_of_.push_back(std::move(column.leaves)); // leaf numbers until project()
    }
    reader->unsupported_ = std::move(mapper.unsupported);
    std::vector<std::size_t> all(reader->columns_.size());
    for (std::size_t i = 0; i < all.size(); ++i)
      all[i] = i;
    reader->projection_ = std::move(all);
  } catch (const pq::FormatError& error) {
    return data_error(name + ": corrupt Parquet footer: " + error.what());
  } catch (const ErrorException& error) {
    return error.error();
  } catch (const std::bad_alloc&) {
    return data_error(name + ": corrupt Parquet footer (it asks for more memory than there is)");
  }
  return reader;
}

std::size_t ParquetReader::find(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i].name == name)
      return i;
  return npos;
}

std::size_t ParquetReader::find_ci(std::string_view name) const noexcept {
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (iequals(columns_[i].name, name))
      return i;
  return npos;
}

Status ParquetReader::project(std::vector<std::size_t> columns) {
  if (started_)
    return internal_error(name() + ": project() after the first row was read");
  for (std::size_t c : columns)
    if (c >= columns_.size())
      return internal_error(name() + ": project(): no column " + std::to_string(c));
  projection_ = std::move(columns);
  return {};
}

Status ParquetReader::open_row_group(std::size_t index) {
  group_rows_left_ = 0;
  if (file_->meta.row_groups[index].num_rows == 0)
    return {}; // nothing to read (some writers leave an empty group's chunks unset)
  batch_rows_ = batch_pos_ = 0;
  for (auto& cursor : cursors_) {
    try {
      cursor->start(index);
    } catch (const pq::FormatError& error) {
      pq::fail("column '" + cursor->leaf().path + "': " + error.what());
    }
  }
  group_rows_left_ = static_cast<std::uint64_t>(file_->meta.row_groups[index].num_rows);
  return {};
}

Result<bool> ParquetReader::next(ParquetRow& row) {
  if (failed_)
    return *failed_;
  std::size_t column = npos; // the column being read, for messages
  try {
    if (!started_) {
      started_ = true;
      // cursor_of_ held each column's leaf numbers; now it holds cursor numbers.
      std::vector<std::vector<std::size_t>> leaves = std::move(cursor_of_);
      cursor_of_.clear();
      for (std::size_t c : projection_) {
        std::vector<std::size_t> mine;
        for (std::size_t leaf : leaves[c]) {
          mine.push_back(cursors_.size());
          cursors_.push_back(std::make_unique<detail::ParquetColumnCursor>(*file_, leaf));
        }
        detail::ParquetColumnPlan plan;
        plan.shape = columns_[c].shape;
        plan.first = cursors_[mine[0]].get();
        if (mine.size() > 1)
          plan.second = cursors_[mine[1]].get();
        (plan.shape == ParquetShape::value ? value_columns_ : nested_columns_)
            .push_back(plan_.size());
        plan_.push_back(std::move(plan));
        cursor_of_.push_back(std::move(mine));
      }
      batch_.assign(plan_.size() * detail::ParquetColumnPlan::batch, {});
      row_group_ = 0;
      group_rows_left_ = 0;
      if (!file_->meta.row_groups.empty())
        (void)open_row_group(0);
    }
    while (group_rows_left_ == 0) {
      if (row_group_ + 1 >= file_->meta.row_groups.size())
        return false;
      ++row_group_;
      (void)open_row_group(row_group_);
    }
    const std::size_t width = plan_.size();
    if (batch_pos_ == batch_rows_) {
      // The next batch: as many rows as every value column's current page still holds.
      std::size_t n = static_cast<std::size_t>(
          std::min<std::uint64_t>(detail::ParquetColumnPlan::batch, group_rows_left_));
      for (const std::size_t c : value_columns_) {
        column = c;
        n = std::min(n, plan_[c].first->rows_in_page());
      }
      for (const std::size_t c : value_columns_) {
        column = c;
        plan_[c].first->next_values(batch_.data() + c, width, n);
      }
      batch_rows_ = n;
      batch_pos_ = 0;
    }
    detail::ParquetCell* cells = batch_.data() + batch_pos_ * width;
    ++batch_pos_;
    row.cells_ = cells;
    row.size_ = width;
    row.entries_.clear();
    for (const std::size_t c : nested_columns_) {
      column = c;
      detail::ParquetCell& cell = cells[c];
      detail::ParquetColumnPlan& plan = plan_[c];
      cell.first_entry = static_cast<std::uint32_t>(row.entries_.size());
      cell.entry_count = 0;
      cell.text = {};
      detail::ParquetColumnCursor& first = *plan.first;
      first.next_repeated(plan.keys);
      const Leaf& key_leaf = first.leaf();
      cell.null = plan.keys.front().def < key_leaf.repeated_def - 1;
      const bool empty = plan.keys.front().def < key_leaf.repeated_def;
      if (plan.shape == ParquetShape::list) {
        if (!empty)
          for (const auto& item : plan.keys)
            row.entries_.push_back({{}, item.text, item.def != key_leaf.max_def});
      } else {
        detail::ParquetColumnCursor& second = *plan.second;
        second.next_repeated(plan.values);
        if (plan.values.size() != plan.keys.size())
          pq::fail("map keys and values disagree in number");
        const int value_max_def = second.leaf().max_def;
        if (!empty)
          for (std::size_t i = 0; i < plan.keys.size(); ++i)
            row.entries_.push_back(
                {plan.keys[i].text, plan.values[i].text, plan.values[i].def != value_max_def});
      }
      cell.entry_count = static_cast<std::uint32_t>(row.entries_.size() - cell.first_entry);
    }
    column = npos;
    --group_rows_left_;
    ++rows_;
    return true;
  } catch (const pq::FormatError& error) {
    std::string where = name() + ": row group " + std::to_string(row_group_ + 1);
    if (column < projection_.size() && column < cursor_of_.size()) {
      where += ", column '" + columns_[projection_[column]].name + "'";
      for (std::size_t c : cursor_of_[column])
        if (cursors_[c]->page_number() > 0) {
          where += ", page " + std::to_string(cursors_[c]->page_number());
          break;
        }
    }
    failed_ = data_error(where + ": " + error.what());
  } catch (const ErrorException& error) {
    failed_ = error.error();
  } catch (const std::bad_alloc&) {
    failed_ = data_error(name() + ": row group " + std::to_string(row_group_ + 1) +
                         ": corrupt data (it asks for more memory than there is)");
  } catch (const std::length_error&) {
    failed_ = data_error(name() + ": row group " + std::to_string(row_group_ + 1) +
                         ": corrupt data (a length out of range)");
  }
  return *failed_;
}

} // namespace billdrop
