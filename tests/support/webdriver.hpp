#pragma once
// Test support: a real headless Chromium driven over the W3C WebDriver protocol (JSON over HTTP to
// Debian's chromedriver on loopback). The test starts chromedriver (port 0: it says which port it
// took), opens a session with a temporary profile, and stops both when it ends. Header-only;
// needs httplib and simdjson, so only e2e tests include it.

#include "support/process.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <filesystem>
#include <optional>
#include <regex>
#include <string>

namespace billdrop::test {

// Quotes `text` as a JSON string.
inline std::string json_quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

inline std::string base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z')
      return c - 'A';
    if (c >= 'a' && c <= 'z')
      return c - 'a' + 26;
    if (c >= '0' && c <= '9')
      return c - '0' + 52;
    if (c == '+')
      return 62;
    if (c == '/')
      return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = value(c);
    if (v < 0)
      continue; // padding, line breaks
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  return out;
}

class WebDriver {
public:
  // Starts chromedriver and a headless Chromium session; `available()` says whether it worked.
  explicit WebDriver(const std::filesystem::path& dir) : dir_(dir) {
    const char* driver = std::getenv("BILLDROP_CHROMEDRIVER");
    const std::string exe = driver != nullptr ? driver : "/usr/bin/chromedriver";
    if (!std::filesystem::exists(exe)) {
      problem_ = exe + " is not installed (Debian: chromium chromium-driver; install-deps.sh)";
      return;
    }
    pid_ = spawn_program({exe, "--port=0"}, dir_, "chromedriver");
    const std::regex started(R"(started successfully on port ([0-9]+))");
    std::smatch match;
    if (!eventually([&] {
          const std::string out = read_text(dir_ / "chromedriver.out");
          if (!std::regex_search(out, match, started))
            return false;
          port_ = std::stoi(match[1]);
          return true;
        })) {
      problem_ = "chromedriver did not start: " + read_text(dir_ / "chromedriver.err");
      return;
    }
    const std::string profile = (dir_ / "chromium-profile").string();
    const std::string body =
        R"({"capabilities":{"alwaysMatch":{"browserName":"chrome","goog:chromeOptions":{)"
        R"("binary":"/usr/bin/chromium","args":["--headless=new","--no-sandbox",)"
        R"("--disable-gpu","--disable-dev-shm-usage","--window-size=1280,1000",)"
        R"("--user-data-dir=)" +
        profile + R"("]}}}})";
    std::string value;
    if (!call("POST", "/session", body, value)) {
      problem_ = "no browser session: " + value;
      return;
    }
    simdjson::dom::parser parser;
    std::string_view id;
    if (parser.parse(value).get_object()["sessionId"].get_string().get(id) != simdjson::SUCCESS) {
      problem_ = "no session id in " + value;
      return;
    }
    session_ = "/session/" + std::string(id);
  }

  ~WebDriver() {
    if (!session_.empty()) {
      std::string ignored;
      call("DELETE", session_, "", ignored);
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      wait_exit(pid_, std::chrono::milliseconds(10'000));
    }
  }

  bool available() const { return !session_.empty(); }
  const std::string& problem() const { return problem_; }

  bool go(const std::string& url) {
    std::string value;
    return call("POST", session_ + "/url", "{\"url\":" + json_quote(url) + "}", value);
  }

  // Runs `script` (a function body) in the page; its return value as JSON text, or nullopt.
  std::optional<std::string> execute(const std::string& script) {
    std::string value;
    if (!call("POST", session_ + "/execute/sync",
              "{\"script\":" + json_quote(script) + ",\"args\":[]}", value)) {
      ADD_FAILURE() << "script failed: " << value;
      return std::nullopt;
    }
    return value;
  }

  // Clicks the element `css` selects.
  bool click(const std::string& css) {
    std::string value;
    if (!call("POST", session_ + "/element",
              R"({"using":"css selector","value":)" + json_quote(css) + "}", value))
      return false;
    simdjson::dom::parser parser;
    simdjson::dom::object found;
    if (parser.parse(value).get_object().get(found) != simdjson::SUCCESS)
      return false;
    std::string element;
    for (auto [key, id] : found)
      element = std::string(id.get_string().value_unsafe());
    return call("POST", session_ + "/element/" + element + "/click", "{}", value);
  }

  // The viewport as PNG bytes.
  std::string screenshot() {
    std::string value;
    if (!call("GET", session_ + "/screenshot", "", value))
      return {};
    simdjson::dom::parser parser;
    std::string_view text;
    if (parser.parse(value).get_string().get(text) != simdjson::SUCCESS)
      return {};
    return base64_decode(text);
  }

private:
  // Sends a command; `value` gets the reply's "value" as JSON text (or the error text).
  bool call(const std::string& method, const std::string& path, const std::string& body,
            std::string& value) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(std::chrono::seconds(60));
    httplib::Result response = method == "GET"      ? client.Get(path)
                               : method == "DELETE" ? client.Delete(path)
                                                    : client.Post(path, body, "application/json");
    if (!response) {
      value = "no reply from chromedriver: " + httplib::to_string(response.error());
      return false;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(response->body).get(root) != simdjson::SUCCESS) {
      value = response->body;
      return false;
    }
    value = simdjson::to_string(root["value"]);
    return response->status == 200;
  }

  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string session_;
  std::string problem_;
};

} // namespace billdrop::test
