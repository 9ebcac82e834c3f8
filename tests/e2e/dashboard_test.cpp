// The dashboard in a real browser: `billdrop serve` with two connections (one broken) over
// loopback, Debian's headless Chromium driven through chromedriver (W3C WebDriver). Checked: the
// page loads from the binary alone, shows each connection's badge and its months with the rows
// and exact costs summed by hand from the fixture below, the spending charts with the amounts
// the report endpoints give for them, the verify button runs the org-wide verify and shows its
// result, and a screenshot is saved (build/tests/e2e/dashboard.png).
#include "support/process.hpp"
#include "support/temp_folder.hpp"
#include "support/webdriver.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <regex>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

// The current month minus `back`, as YYYY-MM: fixtures must fall in the backfill window.
std::string month_text(int back) {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day ymd(today);
  const std::chrono::year_month ym = ymd.year() / ymd.month() - std::chrono::months(back);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u", static_cast<int>(ym.year()),
                static_cast<unsigned>(ym.month()));
  return text;
}

class DashboardTest : public test::TempFolderTest {
protected:
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      test::wait_exit(pid_, milliseconds(10'000));
    }
    test::TempFolderTest::TearDown();
  }

  // acme, by hand: m2 1.00 + 2.00 = 3.00 (2 rows), m1 4.00 (1 row), m0 8.00 + 0.50 = 8.50 (2
  // rows). broken: a file that is not there.
  void start() {
    m0_ = month_text(0);
    m1_ = month_text(1);
    m2_ = month_text(2);
    std::ofstream(dir_ / "acme.csv") << "ts,amount\n"
                                     << m2_ << "-01T00:00:00Z,1.00\n"
                                     << m2_ << "-02T00:00:00Z,2.00\n"
                                     << m1_ << "-03T00:00:00Z,4.00\n"
                                     << m0_ << "-01T00:00:00Z,8.00\n"
                                     << m0_ << "-01T01:00:00Z,0.50\n";
    const std::string columns = "\"time/usage_start\" = \"{ts}\"\n\"cost/cost\" = \"{amount}\"\n";
    std::ofstream(dir_ / "billdrop.toml")
        << "state_dir = \"state\"\n[server]\nlisten = \"127.0.0.1:0\"\n"
        << "[connections.acme]\nplugin = \"custom\"\naccount_id = \"ca_acme\"\n"
        << "[connections.acme.config]\npath = \"acme.csv\"\n[connections.acme.config.columns]\n"
        << columns << "[connections.broken]\nplugin = \"custom\"\n"
        << "[connections.broken.config]\npath = \"missing.csv\"\n"
        << "[connections.broken.config.columns]\n"
        << columns;
    pid_ = test::spawn_billdrop({"serve", "--config", (dir_ / "billdrop.toml").string()}, dir_,
                                "serve");
    const std::regex listening(R"(listening on http://[^ ]+:([0-9]+) )");
    std::smatch match;
    ASSERT_TRUE(test::eventually([&] {
      const std::string out = test::read_text(dir_ / "serve.out");
      if (!std::regex_search(out, match, listening))
        return false;
      port_ = std::stoi(match[1]);
      return true;
    })) << test::read_text(dir_ / "serve.err");
    // Both first syncs over: acme landed, broken failed.
    ASSERT_TRUE(test::eventually([&] {
      httplib::Client client("127.0.0.1", port_);
      auto response = client.Get("/api/v1/billing/sync-status");
      return response && response->body.find("\"status\":\"ok\"") != std::string::npos &&
             response->body.find("\"status\":\"error\"") != std::string::npos;
    })) << test::read_text(dir_ / "serve.err");
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/"; }

  pid_t pid_ = -1;
  int port_ = 0;
  std::string m0_, m1_, m2_;
};

// What the page shows of each connection, read from the rendered DOM by the browser.
constexpr const char* kReadConnections = R"(
  return [...document.querySelectorAll('.connection')].map((a) => ({
    name: a.dataset.connection,
    badge: a.querySelector('.badge').textContent,
    message: (a.querySelector('.message') || {}).textContent || '',
    months: [...a.querySelectorAll('tr[data-month]')].map((r) => [
      r.querySelector('td').textContent, r.querySelector('.state').textContent,
      r.querySelector('.rows').textContent, r.querySelector('.cost').textContent]),
  }));)";

TEST_F(DashboardTest, ShowsBadgesAndMonthsAndRunsVerifyInARealBrowser) {
  ASSERT_NO_FATAL_FAILURE(start());
  test::WebDriver browser(dir_);
  ASSERT_TRUE(browser.available()) << browser.problem();
  ASSERT_TRUE(browser.go(url()));
  ASSERT_TRUE(test::eventually([&] {
    return browser.execute("return document.body.dataset.loaded === 'true'") == "true";
  })) << "the page never finished loading";

  std::optional<std::string> shown = browser.execute(kReadConnections);
  ASSERT_TRUE(shown);
  simdjson::dom::parser parser;
  simdjson::dom::array connections;
  ASSERT_EQ(parser.parse(*shown).get_array().get(connections), simdjson::SUCCESS) << *shown;
  std::map<std::string, std::string> badges;
  std::map<std::string, std::vector<std::string>> months; // "month state rows cost"
  std::string broken_message;
  for (simdjson::dom::element c : connections) {
    const std::string name(c["name"].get_string().value());
    badges[name] = std::string(c["badge"].get_string().value());
    if (name == "broken")
      broken_message = std::string(c["message"].get_string().value());
    for (simdjson::dom::element m : c["months"].get_array()) {
      std::string line;
      for (simdjson::dom::element cell : m.get_array())
        line += (line.empty() ? "" : " ") + std::string(cell.get_string().value());
      months[name].push_back(line);
    }
  }
  EXPECT_EQ(badges["acme"], "ok");
  EXPECT_EQ(badges["broken"], "error");
  EXPECT_NE(broken_message.find("missing.csv"), std::string::npos) << broken_message;
  // Newest first; rows and exact costs as summed by hand above.
  EXPECT_EQ(months["acme"],
            (std::vector<std::string>{m0_ + " synced 2 8.50", m1_ + " synced 1 4.00",
                                      m2_ + " synced 2 3.00"}));
  EXPECT_TRUE(months["broken"].empty());

  // The spending charts, from the report endpoints over the sync items: each bar's key and
  // amount in cents, by hand from the fixture (3.00, 4.00, 8.50; all of it the `custom` plugin's,
  // none of it categorised).
  std::optional<std::string> charts = browser.execute(R"(
    return ['trend', 'by-provider', 'by-category'].map((id) =>
      [...document.querySelectorAll('#' + id + ' g')].map((g) =>
        g.dataset.key + ' ' + g.dataset.amount).join(','));)");
  ASSERT_TRUE(charts);
  EXPECT_EQ(*charts, "[\"" + m2_ + " 300," + m1_ + " 400," + m0_ +
                         " 850\",\"custom 1550\",\"(none) 1550\"]");

  // The verify button: the org-wide job runs and its per-connection result is shown.
  ASSERT_TRUE(browser.click("#verify"));
  ASSERT_TRUE(test::eventually(
      [&] {
        const auto status =
            browser.execute("return document.getElementById('verify-status').textContent");
        return status && *status != "\"\"" && *status != "\"running\"";
      },
      milliseconds(60'000)));
  std::optional<std::string> verified = browser.execute(R"(
    return [...document.querySelectorAll('#verify-rows tr')].map((r) =>
      [...r.querySelectorAll('td')].slice(0, 3).map((td) => td.textContent).join(' '));)");
  ASSERT_TRUE(verified);
  EXPECT_NE(verified->find("acme ca_acme yes"), std::string::npos) << *verified;
  EXPECT_NE(verified->find("broken broken no"), std::string::npos) << *verified;

  const std::string png = browser.screenshot();
  ASSERT_GT(png.size(), 10'000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  std::ofstream(fs::current_path() / "dashboard.png", std::ios::binary) << png;
}

TEST_F(DashboardTest, ServesItsFilesWithoutATokenAndWithAStrictContentSecurityPolicy) {
  ASSERT_NO_FATAL_FAILURE(start());
  httplib::Client client("127.0.0.1", port_);
  for (const char* path : {"/", "/dashboard/app.js", "/dashboard/style.css"}) {
    auto response = client.Get(path);
    ASSERT_TRUE(response) << path;
    EXPECT_EQ(response->status, 200) << path;
    EXPECT_EQ(response->get_header_value("Content-Security-Policy").rfind("default-src 'self'", 0),
              0u)
        << path;
  }
  EXPECT_EQ(client.Get("/")->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(client.Get("/dashboard/app.js")->get_header_value("Content-Type"),
            "text/javascript; charset=utf-8");
  EXPECT_EQ(client.Get("/dashboard/missing.js")->status, 404);
  // The page names only files the binary serves: nothing is fetched from elsewhere.
  const std::string page = client.Get("/")->body;
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  auto months = client.Get("/api/v1/billing/sync-status/nobody/months");
  ASSERT_TRUE(months);
  EXPECT_EQ(months->status, 404);
}

} // namespace
} // namespace billdrop
