#include "jobs/job_error.hpp"
#include "jobs/new_plugin.hpp"

#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace billdrop::jobs {
namespace {

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(RenameTemplate, NamesTheSoAndTheCommandsWithDashesAndIdentifiersWithUnderscores) {
  EXPECT_EQ(rename_template_text("BILLDROP_PLUGIN(example::ExamplePlugin, \"example\", \"0.1\")",
                                 "acme-gpu"),
            "BILLDROP_PLUGIN(acme_gpu::AcmeGpuPlugin, \"acme-gpu\", \"0.1\")");
  EXPECT_EQ(rename_template_text("billdrop_add_plugin(example SOURCES src/example_plugin.cpp",
                                 "acme-gpu"),
            "billdrop_add_plugin(acme-gpu SOURCES src/acme_gpu_plugin.cpp");
  EXPECT_EQ(rename_template_text("option(EXAMPLE_PLUGIN_TESTS) project(billdrop_plugin_example)",
                                 "acme-gpu"),
            "option(ACME_GPU_PLUGIN_TESTS) project(billdrop_plugin_acme_gpu)");
  EXPECT_EQ(rename_template_text("plugins describe example\n--plugin example --plugin-config",
                                 "acme-gpu"),
            "plugins describe acme-gpu\n--plugin acme-gpu --plugin-config");
  EXPECT_EQ(rename_template_text("# Builds billdrop_example.so", "acme-gpu"),
            "# Builds billdrop_acme-gpu.so");
}

TEST(RenameTemplate, KeepsTheSampleConfigAndAccount) {
  EXPECT_EQ(rename_template_text("--plugin-config example.toml, \"example-account\"", "acme"),
            "--plugin-config example.toml, \"example-account\"");
  EXPECT_EQ(rename_template_path("src/example_plugin.cpp", "acme-gpu"),
            std::filesystem::path("src/acme_gpu_plugin.cpp"));
  EXPECT_EQ(rename_template_path("example.toml", "acme"), std::filesystem::path("example.toml"));
}

class NewPluginTest : public test::TempFolderTest {};

TEST_F(NewPluginTest, WritesTheInstalledTemplateRenamed) {
  NewPluginRequest request;
  request.name = "acme";
  request.directory = dir_ / "acme";
  request.template_root = std::filesystem::path(BILLDROP_TEST_SOURCE_DIR) / "templates" / "plugin";
  const NewPluginResult result = new_plugin(request);
  const std::vector<std::filesystem::path> expected{
      "CMakeLists.txt",       "README.md",
      "data/fees.csv",        "example.toml",
      "src/acme_plugin.cpp",  "src/fee_schedule.cpp",
      "src/fee_schedule.hpp", "tests/acme_plugin_test.cpp"};
  EXPECT_EQ(result.files, expected);
  const std::string plugin = read_text(dir_ / "acme" / "src" / "acme_plugin.cpp");
  EXPECT_NE(plugin.find("class AcmePlugin final"), std::string::npos);
  EXPECT_NE(plugin.find("BILLDROP_PLUGIN(acme::AcmePlugin, \"acme\""), std::string::npos);
  // Data files are copied byte for byte.
  EXPECT_EQ(read_text(dir_ / "acme" / "data" / "fees.csv"),
            read_text(request.template_root / "data" / "fees.csv"));
}

TEST_F(NewPluginTest, NeverWritesIntoAFolderWithFiles) {
  std::filesystem::create_directories(dir_ / "taken");
  std::ofstream(dir_ / "taken" / "keep.txt") << "mine";
  NewPluginRequest request{"acme", dir_ / "taken",
                           std::filesystem::path(BILLDROP_TEST_SOURCE_DIR) / "templates" /
                               "plugin"};
  try {
    new_plugin(request);
    FAIL() << "expected a usage error";
  } catch (const JobError& e) {
    EXPECT_EQ(e.kind(), FailureKind::usage);
    EXPECT_NE(std::string(e.what()).find("already exists and is not empty"), std::string::npos);
  }
  EXPECT_EQ(read_text(dir_ / "taken" / "keep.txt"), "mine");
}

TEST_F(NewPluginTest, RefusesANameThatIsNotAPluginName) {
  for (const std::string name : {"Acme", "1acme", "acme gpu", "acme-", "", "acme/x"}) {
    NewPluginRequest request{name, dir_ / "x", {}};
    try {
      new_plugin(request);
      ADD_FAILURE() << "accepted '" << name << "'";
    } catch (const JobError& e) {
      EXPECT_EQ(e.kind(), FailureKind::usage) << name;
      EXPECT_NE(std::string(e.what()).find("is not a plugin name"), std::string::npos) << name;
    }
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x"));
}

} // namespace
} // namespace billdrop::jobs
