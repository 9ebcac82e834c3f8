#pragma once
// Reading the JSON bodies of item, category and sync requests into the model, field by field:
// an unknown field, a wrong type, a value out of range or a read-only field is an ApiError that
// names the field. simdjson stays in the .cpp file.

#include "billing/billing_api.hpp"
#include "billing/model.hpp"

#include <optional>
#include <string_view>

namespace billdrop::billing {

// Applies the body's fields to `item`: every field for a create (`create`: name and amount
// required, currency defaulting to `default_currency`), the named ones for a PUT. Checks the
// result as a whole (a recurring item has a period, and only it).
std::optional<ApiError> apply_item_body(std::string_view body, bool create,
                                        const std::string& default_currency, Item& item);

// The same for a category (name required on create).
std::optional<ApiError> apply_category_body(std::string_view body, bool create, Category& category);

// POST /sync's body: provider or connection, from, to (and the seed's provider-specific fields,
// `token` and `projectId`, which are accepted and ignored: a connection's credentials come from
// its configuration, never from a request).
Outcome<SyncRequest> read_sync_body(std::string_view body);

} // namespace billdrop::billing
