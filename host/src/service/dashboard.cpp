#include "service/dashboard.hpp"

#include "service/embedded_file.hpp"

#include <cstddef>
#include <string_view>

namespace billdrop::service {

namespace {

std::string content_type(std::string_view path) {
  if (path.ends_with(".html"))
    return "text/html; charset=utf-8";
  if (path.ends_with(".js"))
    return "text/javascript; charset=utf-8";
  if (path.ends_with(".css"))
    return "text/css; charset=utf-8";
  return "application/octet-stream";
}

// "/index.html" is served at "/", every other file under "/dashboard".
std::string served_path(std::string_view file) {
  return file == "/index.html" ? "/" : "/dashboard" + std::string(file);
}

} // namespace

std::vector<std::string> dashboard_paths() {
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < kEmbeddedFileCount; ++i)
    paths.push_back(served_path(kEmbeddedFiles[i].path));
  return paths;
}

void add_dashboard_routes(core::HttpServer& server) {
  for (std::size_t i = 0; i < kEmbeddedFileCount; ++i) {
    const EmbeddedFile& file = kEmbeddedFiles[i];
    std::string pattern;
    for (const char c : served_path(file.path)) {
      if (c == '.')
        pattern += '\\';
      pattern += c;
    }
    const std::string body(reinterpret_cast<const char*>(file.data), file.size);
    const std::string type = content_type(file.path);
    server.route("GET", pattern, [body, type](const core::HttpRequest&) {
      core::HttpResponse response;
      response.body = body;
      response.content_type = type;
      // Only the binary's own files: no inline script, nothing from elsewhere.
      response.headers["Content-Security-Policy"] =
          "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
          "connect-src 'self'; frame-ancestors 'none'";
      response.headers["X-Content-Type-Options"] = "nosniff";
      response.headers["Cache-Control"] = "no-cache";
      return response;
    });
  }
}

} // namespace billdrop::service
