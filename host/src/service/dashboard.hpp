#pragma once
// The web dashboard's files (web/dashboard, compiled into the binary by cmake/embed-files.cmake):
// `/` is the page, `/dashboard/<file>` its script and style sheet. Static: the page holds no data
// and reads everything from the API with the caller's token, so these paths need none.

#include "core/http_server.hpp"

#include <string>
#include <vector>

namespace billdrop::service {

// The paths the dashboard serves ("/", "/dashboard/app.js", ...): open without a token.
std::vector<std::string> dashboard_paths();

// Serves them on `server`.
void add_dashboard_routes(core::HttpServer& server);

} // namespace billdrop::service
