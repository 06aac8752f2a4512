// Differential properties: generated configurations (valid and invalid, of
// every JSON type) and realistic traces run through the C++ library
// (in-process, the same code as ckpt-adapter) and through the REAL mmengine
// or mmcv (tools/adapter NAME serve, one process for the whole test), and
// must agree per protocol section 4. rapidcheck shrinks a difference to a
// minimal case and prints it as a ready-to-save case file. The generator
// (differential.cases.hpp) aims each case at one group of clauses.
//
// Count: RC_PARAMS="max_success=N" (ctest sets 500 per profile).
// CKPT_DIFF_AGAINST="COMMAND" compares with another adapter instead (run as
// `COMMAND serve`), e.g. the previous version's ckpt-adapter; see
// docs/property-testing.md. Skipped when the references are not installed
// and no other adapter is named.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>
#include "adapter.hpp"
#include "differential.cases.hpp"

namespace {

namespace fs = std::filesystem;
namespace py = ckpt::py;
using py::Value;

/// A generated case; prints as the case file that reproduces it.
struct GenCase {
  Value json;
};
std::ostream& operator<<(std::ostream& os, const GenCase& c) {
  return os << "\ncase file (save as conformance/cases/<profile>/NAME.json):\n" << ckpt::json::dump(c.json) << "\n";
}

fs::path repo_root() { return fs::path(CKPT_SOURCE_DIR); }

// Asked once: rapidcheck builds the fixture (and runs SetUp) for every case.
const char* other_adapter() { return std::getenv("CKPT_DIFF_AGAINST"); }

bool references_installed() {
  static const bool installed = [] {
    if (other_adapter()) return true;
    std::string cmd = "'" + (repo_root() / ".venv/bin/python").string() + "' -c 'import mmengine, mmcv' 2>/dev/null";
    return std::system(cmd.c_str()) == 0;
  }();
  return installed;
}

adapter::ServeProcess& reference(const std::string& name) {
  static std::unique_ptr<adapter::ServeProcess> mmengine, mmcv;
  auto& slot = name == "mmengine" ? mmengine : mmcv;
  if (!slot) {
    std::vector<std::string> argv{(repo_root() / "tools/adapter").string(), name, "serve"};
    if (const char* other = other_adapter()) argv = {"/bin/sh", "-c", std::string("exec ") + other + " serve"};
    slot = std::make_unique<adapter::ServeProcess>(argv);
  }
  return *slot;
}

void check_agreement(const GenCase& c, const char* profile) {
  static int n = 0;
  const auto name = "ckpt-diff-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
  fs::path dir = fs::temp_directory_path() / name;
  fs::create_directories(dir);
  auto ours = adapter::run_case(adapter::parse_case(c.json), dir);
  fs::remove_all(dir);
  auto reply = reference(profile).ask(ckpt::json::dump(c.json));
  RC_ASSERT(reply.has_value());
  auto theirs = ckpt::json::parse(*reply);
  RC_ASSERT(theirs.ok());
  auto difference = adapter::first_difference(*theirs, ours);
  if (difference) RC_FAIL(std::string(other_adapter() ? other_adapter() : profile) + " vs cpp: " + *difference);
}

}  // namespace

class Differential : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!references_installed()) GTEST_SKIP() << "mmengine/mmcv not installed (run tools/setup)";
  }
};

// One generated value per case, so that a counterexample prints as a case file.
RC_GTEST_FIXTURE_PROP(Differential, MmengineAgreesWithCpp, ()) {
  check_agreement(*rc::gen::exec([] { return GenCase{differential::mmengine_case()}; }), "mmengine");
}

RC_GTEST_FIXTURE_PROP(Differential, MmcvAgreesWithCpp, ()) {
  check_agreement(*rc::gen::exec([] { return GenCase{differential::mmcv_case()}; }), "mmcv");
}

#include "differential.ckpt.hpp"  // the ckpt profile at its defaults (issue 12)
