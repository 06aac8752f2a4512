// A whole mmcv 1.x run, hook and fs store together, against a small model
// of the spec written here, over a work dir that may hold a previous run's
// checkpoints with gaps:
//   C49  save when (counter+1) % interval == 0 (interval > 0), or the last step
//   C51  runner.meta['hook_msgs']['last_ckpt'] names the file just saved
//   C52  after the save: for s in range(step - max_keep*interval, 0, -interval),
//        remove name(s) while it is a file, stop at the first that is not
//   C53  interval 0 with retention raises ValueError at the first save
//   C56  latest.pth links (relatively) to the file just saved
//   B61  a template without {} deletes the file just written
// The store applies each plan in both orderings; both must leave the model's files.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include "scratch.support.hpp"
#include "support.hpp"
import ckpt.legacy;
import ckpt.store.fs;

namespace {

namespace py = ckpt::py;
namespace store = ckpt::store::fs;
using Int = std::int64_t;

struct Config {
  bool by_epoch = true;
  Int epochs = 1, iters_per_epoch = 1, interval = 1, max_keep = -1;
  bool save_last = true, link = true;
  std::string tmpl;           // "" = the runner's default
  std::vector<Int> leftovers;  // steps of an earlier run's files in the work dir

  Int max_epochs() const { return epochs; }
  Int max_iters() const { return epochs * iters_per_epoch; }
  std::string name(Int step) const {
    if (tmpl == "ckpt.pth") return tmpl;
    if (tmpl == "ckpt_{}.pth") return "ckpt_" + std::to_string(step) + ".pth";
    return (by_epoch ? "epoch_" : "iter_") + std::to_string(step) + ".pth";
  }
};

std::ostream& operator<<(std::ostream& os, const Config& c) {
  os << "by_epoch=" << c.by_epoch << " epochs=" << c.epochs << " iters_per_epoch=" << c.iters_per_epoch
     << " interval=" << c.interval << " max_keep=" << c.max_keep << " save_last=" << c.save_last
     << " create_symlink=" << c.link << " tmpl='" << c.tmpl << "' leftovers=[";
  for (auto s : c.leftovers) os << s << " ";
  return os << "]";
}

rc::Gen<Config> config() {
  return rc::gen::exec([] {
    Config c;
    c.by_epoch = *rc::gen::arbitrary<bool>();
    c.epochs = *rc::gen::inRange<Int>(1, 9);
    c.iters_per_epoch = *rc::gen::inRange<Int>(1, 4);
    c.interval = *rc::gen::inRange<Int>(-1, 5);
    c.max_keep = *rc::gen::inRange<Int>(-1, 4);
    c.save_last = *rc::gen::arbitrary<bool>();
    c.link = *rc::gen::inRange(0, 4) != 0;
    c.tmpl = *rc::gen::elementOf(std::vector<std::string>{"", "", "ckpt_{}.pth", "ckpt.pth"});
    for (Int s = 1; s <= 12; ++s)
      if (*rc::gen::inRange(0, 3) == 0) c.leftovers.push_back(s);
    return c;
  });
}

struct Model {
  const Config& c;
  std::set<std::string> files;
  std::optional<std::string> latest;
  std::optional<std::string> last_ckpt;
  bool raised = false;

  explicit Model(const Config& config) : c(config) {
    for (Int s : c.leftovers) files.insert(c.name(s));
  }
  void after_step(Int counter, Int max) {
    if (!((c.interval > 0 && (counter + 1) % c.interval == 0) || (c.save_last && counter + 1 == max))) return;
    const Int step = counter + 1;
    files.insert(c.name(step));
    if (c.link) latest = c.name(step);
    last_ckpt = c.name(step);
    if (c.max_keep <= 0) return;
    if (c.interval == 0) {  // C53: range() with a zero step
      raised = true;
      return;
    }
    for (Int s = step - c.max_keep * c.interval; c.interval > 0 && s > 0; s -= c.interval) {
      if (!files.count(c.name(s))) break;
      files.erase(c.name(s));
    }
  }
};

std::optional<std::string> payload(const store::Payload&, store::Sink& out) {
  out.write("x", 1);
  return std::nullopt;
}

}  // namespace

RC_GTEST_PROP(PropertiesMmcv, C49_C52_C56_FilesAfterEveryEventAreTheModels, ()) {
  using namespace ckpt::legacy;
  const Config c = *config();
  for (auto ordering : {store::Ordering::reference, store::Ordering::safe}) {
    scratch::Dir dir;
    const std::string work = dir / "work";
    for (Int s : c.leftovers) scratch::write(work + "/" + c.name(s), "earlier run");
    py::Dict kwargs{{"interval", c.interval}, {"by_epoch", c.by_epoch}, {"max_keep_ckpts", c.max_keep},
                    {"save_last", c.save_last}};
    if (!c.tmpl.empty()) kwargs.emplace_back("filename_tmpl", c.tmpl);
    if (!c.link) kwargs.emplace_back("create_symlink", false);
    auto state = init(ckpt::legacy_config_from_kwargs(kwargs), c.by_epoch ? RunnerKind::epoch : RunnerKind::iter,
                      py::Dict{});
    store::Store st(work, work, {.ordering = ordering});
    Model model(c);
    auto runner = [&](Int e, Int i) { return Runner{work, e, i, c.max_epochs(), c.max_iters(), 0}; };
    auto check = [&](const Event& event, const std::function<void()>& model_step) {
      auto out = step(state, event);
      model_step();
      RC_ASSERT(out.error.has_value() == model.raised);
      if (out.error) RC_ASSERT(out.error->type == std::string("ValueError"));
      RC_ASSERT(st.apply(out.plan, payload).ok());
      state = out.state;
      std::set<std::string> files;
      std::optional<std::string> latest;
      for (const auto& [rel, what] : scratch::listing(work)) {
        if (rel == "latest.pth") latest = what.substr(std::string("link -> ").size());
        else files.insert(rel);
      }
      RC_ASSERT(files == model.files);
      RC_ASSERT(latest == model.latest);
      if (model.last_ckpt) {
        const py::Value meta = runner_meta(state);
        const auto* msgs = py::find(meta.as<py::Dict>(), "hook_msgs");
        RC_ASSERT(msgs && *py::find(msgs->as<py::Dict>(), "last_ckpt") == py::Value(work + "/" + *model.last_ckpt));
      }
    };
    check(BeforeRun{runner(0, 0)}, [] {});
    Int iter = 0;
    for (Int e = 0; e < c.epochs && !model.raised; ++e) {
      for (Int b = 0; b < c.iters_per_epoch && !model.raised; ++b, ++iter)
        check(AfterTrainIter{runner(c.by_epoch ? e : 0, iter)}, [&] {
          if (!c.by_epoch) model.after_step(iter, c.max_iters());
        });
      if (c.by_epoch && !model.raised)
        check(AfterTrainEpoch{runner(e, iter)}, [&] { model.after_step(e, c.max_epochs()); });
    }
  }
}
