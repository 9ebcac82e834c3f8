// Header binding and cell values (plugins/focus/src/focus_columns.cpp).
#include "focus_columns.hpp"

#include <billdrop/byte_source.hpp>
#include <billdrop/csv.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

using billdrop::CsvReader;
using billdrop::CsvRecord;
using billdrop::focus::cell_value;
using billdrop::focus::Column;
using billdrop::focus::FocusHeader;

// The 21 mandatory columns of FOCUS 1.0-1.2, as the spec's column list gives them.
const std::string mandatory =
    "BilledCost,BillingAccountId,BillingAccountName,BillingCurrency,BillingPeriodEnd,"
    "BillingPeriodStart,ChargeCategory,ChargeClass,ChargeDescription,ChargePeriodEnd,"
    "ChargePeriodStart,ContractedCost,EffectiveCost,InvoiceIssuerName,ListCost,PricingQuantity,"
    "PricingUnit,ProviderName,PublisherName,ServiceCategory,ServiceName";

billdrop::Result<FocusHeader> bind_header(const std::string& header_line) {
  CsvReader reader(billdrop::memory_source(header_line + "\n", "h.csv"));
  CsvRecord record;
  auto more = reader.next(record);
  EXPECT_TRUE(more.ok() && *more);
  return FocusHeader::bind(record, "h.csv");
}

TEST(FocusColumns, NullAndEmptyCellsAreAbsent) {
  EXPECT_EQ(cell_value("NULL"), "");
  EXPECT_EQ(cell_value(" null "), "");
  EXPECT_EQ(cell_value(""), "");
  EXPECT_EQ(cell_value(" 1.5 "), "1.5");
  EXPECT_EQ(cell_value("Nullable"), "Nullable");
}

TEST(FocusColumns, BindsMandatoryAndOptionalColumnsToTheirIndexes) {
  auto header = bind_header("x_Extra,Tags," + mandatory + ",ResourceId");
  ASSERT_TRUE(header.ok()) << header.error().message();
  EXPECT_EQ(header->field_count(), 24u);
  EXPECT_EQ(header->index(Column::tags), 1u);
  EXPECT_EQ(header->index(Column::billed_cost), 2u);
  EXPECT_EQ(header->index(Column::service_name), 22u);
  EXPECT_EQ(header->index(Column::resource_id), 23u);
  EXPECT_FALSE(header->has(Column::invoice_id));
}

TEST(FocusColumns, ToleratesSpacesAroundNamesAndABom) {
  CsvReader reader(billdrop::memory_source("\xEF\xBB\xBF" + mandatory + ", RegionId \n", "h.csv"));
  CsvRecord record;
  ASSERT_TRUE(*reader.next(record));
  auto header = FocusHeader::bind(record, "h.csv");
  ASSERT_TRUE(header.ok()) << header.error().message();
  EXPECT_EQ(header->index(Column::billed_cost), 0u);
  EXPECT_EQ(header->index(Column::region_id), 21u);
}

TEST(FocusColumns, ListsEveryMissingMandatoryColumn) {
  auto header = bind_header("BilledCost,ServiceName,chargeperiodstart");
  ASSERT_FALSE(header.ok());
  const std::string& message = header.error().message();
  EXPECT_EQ(message.rfind("h.csv:1: not a FOCUS 1.0-1.2 file: the header lacks 19 mandatory "
                          "columns: BillingAccountId, ",
                          0),
            0u)
      << message;
  EXPECT_NE(message.find("ChargePeriodStart (did you mean \"chargeperiodstart\"? names are "
                         "case-sensitive)"),
            std::string::npos);
  EXPECT_NE(message.find(", ServiceCategory"), std::string::npos);
  EXPECT_EQ(message.find("BilledCost"), std::string::npos);
}

} // namespace
