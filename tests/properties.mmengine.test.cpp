// A whole mmengine run, hook and fs store together, against a small model
// of the spec written here: which files are on disk after every event, and
// the runtime info. The model knows only the clauses:
//   E16  a resumed keep_ckpt_ids longer than max_keep_ckpts (> 0) loses its
//        oldest ids, and their files, before the run
//   E17–E21  the schedule; E23 names (epoch+1 / iter+1)
//   E24  before each periodic save: nothing when the deque's last id is this
//        step, else evict the oldest when full, then append
//   E35  a strictly better score (None skipped) replaces the best file
//        best_<key>_<name(step)>, '/' -> '_'; E33: step without +1
//   E37/E38  after a win, once a periodic file was saved by this run, the
//        periodic save runs again at the validation step, off the schedule
//   B61  a template without {} names every save alike
// and applies the plans through both orderings of the store, which must
// each leave the model's files.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>
#include "scratch.support.hpp"
#include "support.hpp"
import ckpt.store.fs;

namespace {

namespace py = ckpt::py;
namespace store = ckpt::store::fs;
using Int = std::int64_t;

struct Config {
  bool by_epoch = true;
  Int epochs = 1, iters_per_epoch = 1, val_every = 1;
  Int interval = 1, save_begin = 0, max_keep = -1;
  bool save_last = true;
  std::string tmpl;                     // "" = the default
  std::string key;                      // "" = no save_best
  std::string rule;                     // "" = inferred
  std::vector<std::optional<double>> scores;  // one per validation; nullopt = None
  std::vector<Int> resumed;             // keep_ckpt_ids of a resumed run (its files exist)

  Int max_epochs() const { return epochs; }
  Int max_iters() const { return epochs * iters_per_epoch; }
  /// The model's own `filename_tmpl.format(step)` for the templates generated.
  std::string name(Int step) const {
    if (tmpl.empty()) return (by_epoch ? "epoch_" : "iter_") + std::to_string(step) + ".pth";
    if (tmpl == "ckpt.pth") return tmpl;
    std::string digits = std::to_string(step);
    if (tmpl == "ckpt_{:03d}.pth")
      return "ckpt_" + std::string(digits.size() < 3 ? 3 - digits.size() : 0, '0') + digits + ".pth";
    return "m" + digits + ".pth";  // m{}.pth
  }
  bool greater() const { return rule.empty() ? key == "acc" : rule == "greater"; }  // E10: acc greater, (val/)loss less
};

std::ostream& operator<<(std::ostream& os, const Config& c) {
  os << "by_epoch=" << c.by_epoch << " epochs=" << c.epochs << " iters_per_epoch=" << c.iters_per_epoch
     << " val_every=" << c.val_every << " interval=" << c.interval << " save_begin=" << c.save_begin
     << " max_keep=" << c.max_keep << " save_last=" << c.save_last << " tmpl='" << c.tmpl << "' key='" << c.key
     << "' rule='" << c.rule << "' scores=[";
  for (const auto& s : c.scores) os << (s ? std::to_string(*s) : "None") << " ";
  os << "] resumed=[";
  for (auto id : c.resumed) os << id << " ";
  return os << "]";
}

rc::Gen<Config> config() {
  return rc::gen::exec([] {
    Config c;
    c.by_epoch = *rc::gen::arbitrary<bool>();
    c.epochs = *rc::gen::inRange<Int>(1, 9);
    c.iters_per_epoch = *rc::gen::inRange<Int>(1, 4);
    c.val_every = *rc::gen::inRange<Int>(1, 3);
    c.interval = *rc::gen::inRange<Int>(-1, 5);
    c.save_begin = *rc::gen::inRange<Int>(0, 4);
    c.max_keep = *rc::gen::inRange<Int>(-1, 4);
    c.save_last = *rc::gen::arbitrary<bool>();
    c.tmpl = *rc::gen::elementOf(std::vector<std::string>{"", "", "ckpt_{:03d}.pth", "ckpt.pth", "m{}.pth"});
    if (*rc::gen::inRange(0, 4) != 0) {
      c.key = *rc::gen::elementOf(std::vector<std::string>{"acc", "loss", "val/loss", "mse"});
      if (c.key == "mse" || *rc::gen::inRange(0, 4) == 0)
        c.rule = *rc::gen::elementOf(std::vector<std::string>{"greater", "less"});
      const Int validations = (c.by_epoch ? c.epochs : c.max_iters()) / c.val_every;
      const double nan = std::numeric_limits<double>::quiet_NaN();
      for (Int v = 0; v < validations; ++v)
        c.scores.push_back(*rc::gen::elementOf(
            std::vector<std::optional<double>>{0.0, 0.25, 0.5, 0.5, 0.75, 1.0, std::nullopt, nan}));
    }
    if (*rc::gen::inRange(0, 4) == 0) c.resumed = {1, 2, 3};
    return c;
  });
}

/// What the spec says is on disk: file names in the work dir, and the
/// runtime info the hook keeps.
struct Model {
  const Config& c;
  std::set<std::string> files;
  std::deque<Int> keep;
  std::optional<std::string> last_ckpt;  // saved by this run (E37 needs one)
  std::optional<double> best;
  std::optional<std::string> best_file;

  explicit Model(const Config& config) : c(config) {
    for (Int id : c.resumed) files.insert(c.name(id));
  }
  bool schedule(Int counter, Int max) const {  // E19, E21
    const Int d = counter + 1 - c.save_begin;
    return (c.interval > 0 && d >= 0 && d % c.interval == 0) || (c.save_last && counter + 1 == max);
  }
  void before_train() {  // E16
    if (c.max_keep <= 0) return;
    keep.assign(c.resumed.begin(), c.resumed.end());
    while (static_cast<Int>(keep.size()) > c.max_keep) {
      files.erase(c.name(keep.front()));
      keep.pop_front();
    }
  }
  void periodic_save(Int step) {  // E24–E27
    if (c.max_keep > 0 && (keep.empty() || keep.back() != step)) {
      if (static_cast<Int>(keep.size()) == c.max_keep) {
        files.erase(c.name(keep.front()));
        keep.pop_front();
      }
      keep.push_back(step);
    }
    files.insert(c.name(step));
    files.insert("last_checkpoint");
    last_ckpt = c.name(step);
  }
  void after_train_iter(Int iter) {
    if (!c.by_epoch && schedule(iter, c.max_iters())) periodic_save(iter + 1);
  }
  void after_train_epoch(Int epoch) {
    if (c.by_epoch && schedule(epoch, c.max_epochs())) periodic_save(epoch + 1);
  }
  void after_val_epoch(Int epoch, Int iter, std::optional<double> score) {  // E33, E35, E37
    if (c.key.empty() || !score) return;
    const double inf = std::numeric_limits<double>::infinity();
    const double current = best ? *best : c.greater() ? -inf : inf;
    if (!(c.greater() ? *score > current : *score < current)) return;
    best = *score;
    const Int step = c.by_epoch ? epoch : iter;
    if (best_file) files.erase(*best_file);
    std::string name = "best_" + c.key + "_" + c.name(step);
    std::replace(name.begin(), name.end(), '/', '_');
    best_file = name;
    files.insert(name);
    if (last_ckpt) periodic_save(step);
  }
};

/// The events of the run, each with what the model does at it.
struct Trace {
  std::vector<ckpt::hook::Event> events;
  std::vector<std::function<void(Model&)>> model;
};

Trace trace(const Config& c, const std::string& work_dir) {
  Trace t;
  auto runner = [&](Int e, Int i) { return ckpt::hook::Runner{work_dir, e, i, c.max_epochs(), c.max_iters(), true}; };
  auto add = [&](ckpt::hook::Event e, std::function<void(Model&)> m) {
    t.events.push_back(std::move(e));
    t.model.push_back(std::move(m));
  };
  add(ckpt::hook::BeforeTrain{runner(0, 0)}, [](Model& m) { m.before_train(); });
  std::size_t v = 0;
  auto validate = [&](Int e, Int i) {
    if (c.key.empty() || v >= c.scores.size()) return;
    const auto score = c.scores[v++];
    add(ckpt::hook::AfterValEpoch{runner(e, i), {{c.key, score ? py::Value(*score) : py::none}}},
        [=](Model& m) { m.after_val_epoch(e, i, score); });
  };
  Int iter = 0;
  for (Int e = 0; e < c.epochs; ++e) {
    for (Int b = 0; b < c.iters_per_epoch; ++b, ++iter) {
      add(ckpt::hook::AfterTrainIter{runner(e, iter), b}, [=](Model& m) { m.after_train_iter(iter); });
      if (!c.by_epoch && (iter + 1) % c.val_every == 0) validate(e, iter + 1);
    }
    add(ckpt::hook::AfterTrainEpoch{runner(e, iter)}, [=](Model& m) { m.after_train_epoch(e); });
    if (c.by_epoch && (e + 1) % c.val_every == 0) validate(e + 1, iter);
  }
  add(ckpt::hook::AfterTrain{runner(c.max_epochs(), c.max_iters())}, [](Model&) {});
  return t;
}

py::Dict kwargs(const Config& c) {
  py::Dict k{{"interval", c.interval}, {"by_epoch", c.by_epoch}, {"save_begin", c.save_begin},
             {"max_keep_ckpts", c.max_keep}, {"save_last", c.save_last}};
  if (!c.tmpl.empty()) k.emplace_back("filename_tmpl", c.tmpl);
  if (!c.key.empty()) k.emplace_back("save_best", c.key);
  if (!c.rule.empty()) k.emplace_back("rule", c.rule);
  return k;
}

std::set<std::string> files_in(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& [rel, what] : scratch::listing(dir)) out.insert(rel);
  return out;
}

/// A fake payload: the store only needs bytes.
std::optional<std::string> payload(const store::Payload&, store::Sink& out) {
  out.write("x", 1);
  return std::nullopt;
}

}  // namespace

RC_GTEST_PROP(PropertiesMmengine, E16_E24_E35_E37_FilesAfterEveryEventAreTheModels, ()) {
  const Config c = *config();
  for (auto ordering : {store::Ordering::reference, store::Ordering::safe}) {
    scratch::Dir dir;
    const std::string work = dir / "work";
    py::Dict info;
    if (!c.resumed.empty()) {
      for (Int id : c.resumed) scratch::write(work + "/" + c.name(id), "resumed");
      info.emplace_back("keep_ckpt_ids", py::Value::list({1, 2, 3}));
    }
    auto state = ckpt::hook::init(ckpt::hook_config_from_kwargs(kwargs(c)), info);
    RC_ASSERT(state.ok());
    auto s = std::move(state).value();
    store::Store st(work, work, {.ordering = ordering});
    Model model(c);
    const Trace t = trace(c, work);
    for (std::size_t i = 0; i < t.events.size(); ++i) {
      auto out = ckpt::hook::step(std::move(s), t.events[i]);
      RC_ASSERT(!out.error.has_value());
      auto applied = st.apply(out.plan, payload, info);
      RC_ASSERT(applied.ok());
      info = store::runtime_info_after(std::move(info), out.plan, applied);
      s = std::move(out.state);
      t.model[i](model);
      RC_ASSERT(files_in(work) == model.files);
      if (c.max_keep > 0) {
        py::List ids(model.keep.begin(), model.keep.end());
        RC_ASSERT(support::info(s, "keep_ckpt_ids") == (ids.empty() && c.resumed.empty() ? py::Value("<absent>")
                                                                                         : py::Value(ids)));
      }
      if (model.last_ckpt) RC_ASSERT(support::info(s, "last_ckpt") == py::Value(work + "/" + *model.last_ckpt));
      if (model.best) RC_ASSERT(support::info(s, "best_score") == py::Value(*model.best));
    }
  }
}
