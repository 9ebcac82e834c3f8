#include "row_writer.hpp"

#include "charge_types.hpp"

namespace billdrop::azure {
namespace {

void field_if(RowSink& sink, std::string_view key, std::string_view value) {
  if (!value.empty())
    sink.field(key, value);
}

} // namespace

bool RowWriter::add_tags(std::string_view cell) {
  if (cell.empty())
    return true;
  return tag_cells_.add(cell, tags_, [&](std::string_view text, TagCellCache::Pairs& pairs) {
    return tag_parser_.parse(text, pairs);
  });
}

Status RowWriter::write(CostFile& file, UtcTime start, RowCosts costs, const Decimal* quantity,
                        RowSink& sink) {
  tags_.clear();
  if (!add_tags(file.cell(Column::tags))) {
    tags_.clear();
    sink.note("azure: Tags cell is not a JSON object (row kept without tags)");
  }
  std::string_view resource_id = file.cell(Column::resource_id);
  if (resource_id.empty() && !tags_.empty()) {
    // The Tags text is part of the id: CBF allows one value per tag key per resource, and rows
    // of one meter and product often differ only in their tags.
    const std::string_view category = file.cell(Column::meter_category);
    resource_id_ =
        synthetic_resource_id(category.empty() ? "azure" : category,
                              {file.cell(Column::subscription), file.cell(Column::meter_id),
                               file.cell(Column::product), file.cell(Column::tags)});
    resource_id = resource_id_;
  }
  std::string_view service = file.cell(Column::meter_category);
  if (service.empty())
    service = file.cell(Column::consumed_service);

  if (start_.empty() || start != last_start_) { // rows of one day come together
    start_.clear();
    append_iso(start_, start);
    last_start_ = start;
  }
  cost_.clear();
  costs.cost->append_to(cost_);

  sink.begin_row(file.origin());
  sink.field("time/usage_start", start_);
  sink.field("cost/cost", cost_);
  if (costs.amortized != nullptr) {
    amortized_.clear();
    costs.amortized->append_to(amortized_);
    sink.field("cost/amortized_cost", amortized_);
  }
  sink.field("lineitem/type",
             lineitem_type(file.cell(Column::charge_type), file.cell(Column::pricing_model), sink));
  field_if(sink, "resource/account", file.cell(Column::subscription));
  field_if(sink, "resource/service", service);
  field_if(sink, "resource/usage_family", file.cell(Column::meter_subcategory));
  const std::string_view location = file.cell(Column::location);
  if (!has_last_location_ || location != last_location_) {
    last_region_ = regions_.region_of(location);
    last_location_.assign(location);
    has_last_location_ = true;
  }
  field_if(sink, "resource/region", last_region_);
  field_if(sink, "resource/id", resource_id);
  if (quantity != nullptr) {
    quantity_.clear();
    quantity->append_to(quantity_);
    sink.field("usage/amount", quantity_);
    field_if(sink, "usage/units", file.cell(Column::unit));
  }
  field_if(sink, "action/usage_type", file.cell(Column::meter_name));
  field_if(sink, "lineitem/description", file.cell(Column::product));
  field_if(sink, "bill/invoice_id", file.cell(Column::invoice_id));
  tags_.write(sink);
  return sink.end_row();
}

} // namespace billdrop::azure
