// ckpt.store.fs over generated plans (not only the reducers' plans): every
// kind of effect, aimed at paths inside the roots, escaping them (`..`,
// absolute, a sibling whose name extends a root's, a symlinked directory
// pointing outside, a root itself) or through links the plan makes. Two
// properties:
//   - no plan changes anything outside the roots: canary files there (in the
//     scratch tree, never a real system path) survive both orderings, and a
//     plan refused before it starts leaves the whole tree as it was;
//   - both orderings leave the same files whenever both apply the whole plan
//     (spec section D: `safe` only reorders what cannot change the outcome).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>
#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <variant>
#include <vector>
#include "scratch.hpp"
import ckpt;
import ckpt.store.fs;

namespace {

namespace fs = std::filesystem;
namespace py = ckpt::py;
namespace store = ckpt::store::fs;
using Listing = std::map<std::string, std::string>;

/// One effect with its paths relative to the scratch base (made absolute
/// per tree, so that two trees get the same plan).
struct Spec {
  enum Kind { save, legacy_save, remove, series, text, link, publish, info } kind = save;
  std::string a, b;  // save: out_dir, filename; series: out_dir, template; link: link, target; others: path
  std::int64_t start = 1, step = -1;
  bool tree = true;
};

const char* kind_name(Spec::Kind k) {
  static const char* names[] = {"Save", "LegacySave", "Remove", "RemoveUntilGap", "WriteText", "Symlink", "Publish",
                                "SetRuntimeInfo"};
  return names[k];
}

std::ostream& operator<<(std::ostream& os, const Spec& s) {
  os << kind_name(s.kind) << "(" << s.a;
  if (!s.b.empty()) os << ", " << s.b;
  if (s.kind == Spec::series) os << ", " << s.start << ", " << s.step;
  if (s.kind == Spec::remove && !s.tree) os << ", no rmtree";
  return os << ")";
}

// Paths a plan aims at: inside the roots (work/, ckpt/), and out of them.
const std::vector<std::string> inside = {"work/epoch_1.pth", "work/epoch_2.pth", "work/epoch_4.pth",
                                         "work/epoch_6.pth", "work/new/epoch_7.pth", "work/last_checkpoint",
                                         "ckpt/work/epoch_1.pth", "ckpt/work/best.pth", "work/a/../epoch_3.pth",
                                         "work/escape_file"};
const std::vector<std::string> escaping = {"outside/a.pth", "outside/dir", "work/../outside/a.pth",
                                           "work2/epoch_1.pth", "work/escape/a.pth", "work/escape/dir",
                                           "work/..", "work/", "ckpt/../outside/dir/b.pth", "ckpt",
                                           "work/sub/a.pth"};  // outside once a Symlink of the plan made work/sub

/// `escaping` in 10: how often a path is drawn from the escaping ones.
rc::Gen<std::string> path(int escaping_weight) {
  return rc::gen::weightedOneOf<std::string>(
      {{static_cast<std::size_t>(10 - escaping_weight), rc::gen::elementOf(inside)},
       {static_cast<std::size_t>(escaping_weight), rc::gen::elementOf(escaping)}});
}

rc::Gen<Spec> effect(int escaping_weight) {
  return rc::gen::exec([=] {
    Spec s;
    s.kind = static_cast<Spec::Kind>(*rc::gen::inRange(0, 8));
    switch (s.kind) {
      case Spec::save:
        s.a = *rc::gen::elementOf(std::vector<std::string>{"work", "ckpt/work", "work/../outside"});
        s.b = *rc::gen::elementOf(std::vector<std::string>{"epoch_1.pth", "epoch_4.pth", "epoch_6.pth",
                                                            "new/epoch_7.pth", "../outside/a.pth",
                                                            "../work2/epoch_1.pth", "escape/x.pth"});
        break;
      case Spec::series:
        s.a = *rc::gen::elementOf(std::vector<std::string>{"work", "ckpt/work", "work/escape", "work2"});
        s.b = *rc::gen::elementOf(std::vector<std::string>{"epoch_{}.pth", "../work2/epoch_{}.pth", "{}.pth"});
        s.start = *rc::gen::inRange(1, 8);
        s.step = -*rc::gen::inRange(1, 3);
        break;
      case Spec::link:
        s.a = *rc::gen::elementOf(std::vector<std::string>{"work/latest.pth", "work/escape_file", "outside/link",
                                                            "work/sub"});
        s.b = *rc::gen::elementOf(std::vector<std::string>{"epoch_1.pth", "@outside/a.pth", "@outside"});
        break;
      case Spec::publish:
        s.a = *rc::gen::elementOf(std::vector<std::string>{"work/epoch_1.pth", "work/epoch_9.pth",
                                                            "work/escape/a.pth", "outside/a.pth"});
        break;
      case Spec::remove:
        s.tree = *rc::gen::inRange(0, 4) != 0;
        s.a = *path(escaping_weight);
        break;
      default:
        s.a = *path(escaping_weight);
    }
    return s;
  });
}

/// The effect under `base` ('@' in a link target: absolute under base).
ckpt::Effect concrete(const Spec& s, const std::string& base) {
  auto at = [&](const std::string& rel) { return base + "/" + rel; };
  switch (s.kind) {
    case Spec::save: return ckpt::SaveCheckpoint{at(s.a), s.b, true, true, {}, true, {}};
    case Spec::legacy_save: {
      const auto slash = s.a.rfind('/');
      return ckpt::LegacySaveCheckpoint{at(s.a.substr(0, slash)), s.a.substr(slash + 1), at(s.a), true, false,
                                        py::none, {}};
    }
    case Spec::remove: return ckpt::RemoveCheckpoint{at(s.a), s.tree};
    case Spec::series: return ckpt::RemoveUntilGap{at(s.a), s.b, s.start, s.step};
    case Spec::text: return ckpt::WriteText{at(s.a), "text"};
    case Spec::link: return ckpt::Symlink{at(s.a), s.b[0] == '@' ? at(s.b.substr(1)) : s.b};
    case Spec::publish: return ckpt::Publish{at(s.a), {"meta"}};
    case Spec::info: return ckpt::SetRuntimeInfo{"last_ckpt", at(s.a)};
  }
  return ckpt::Log{};
}

/// A tree with checkpoints, a gap, a sharded directory, and links pointing
/// out of the roots; canaries outside (outside/, work2/).
void prepare(const scratch::Dir& d) {
  for (const char* f : {"work/epoch_1.pth", "work/epoch_2.pth", "work/epoch_3.pth", "work/epoch_5.pth",
                        "work/epoch_6.pth/shard.bin", "work/last_checkpoint", "ckpt/work/epoch_1.pth",
                        "outside/a.pth", "outside/dir/b.pth", "outside/1.pth", "work2/epoch_1.pth",
                        "work2/epoch_2.pth"})
    scratch::write(d / f, std::string("original ") + f);
  fs::create_directory_symlink(d / "outside", d / "work/escape");
  fs::create_symlink(d / "outside/a.pth", d / "work/escape_file");
}

Listing shown(const scratch::Dir& d, const std::string& rel = "") {
  Listing out;
  const std::string base = d.base().string();
  for (auto [k, v] : scratch::listing(rel.empty() ? d.base() : d.base() / rel)) {
    for (auto i = v.find(base); i != std::string::npos; i = v.find(base)) v.replace(i, base.size(), "<base>");
    out[k] = v;
  }
  return out;
}

/// Saves write their file name; Publish copies its source (as the tensor store would).
std::optional<std::string> writer(const store::Payload& p, store::Sink& out) {
  std::string bytes = "saved";
  if (const auto* pub = std::get_if<ckpt::Publish>(&p.effect)) {
    if (!fs::is_regular_file(pub->source)) return "FileNotFoundError: " + pub->source;
    bytes = "published " + scratch::read(pub->source);
  }
  out.write(bytes.data(), bytes.size());
  return std::nullopt;
}

struct Outcome {
  store::Applied applied;
  Listing outside, all;
};

Outcome apply(const std::vector<Spec>& specs, store::Ordering ordering, const scratch::Dir& d) {
  prepare(d);
  ckpt::Plan plan;
  for (const auto& s : specs) plan.push_back(concrete(s, d.base().string()));
  const Listing before = shown(d);
  store::Store st(d / "ckpt", d / "work", {.ordering = ordering});
  Outcome out{st.apply(plan, writer), {}, {}};
  out.all = shown(d);
  for (const char* area : {"outside", "work2"})
    for (const auto& [k, v] : shown(d, area)) out.outside[std::string(area) + "/" + k] = v;
  // refused before it started: nothing of the plan happened anywhere
  if (out.applied.error && out.applied.error->kind == store::ErrorKind::containment && !out.applied.failed_effect)
    RC_ASSERT(out.all == before);
  return out;
}

rc::Gen<std::vector<Spec>> plan(int escaping_weight) {
  return rc::gen::mapcat(rc::gen::inRange<std::size_t>(1, 7), [=](std::size_t n) {
    return rc::gen::container<std::vector<Spec>>(n, effect(escaping_weight));
  });
}

}  // namespace

RC_GTEST_PROP(StoreFsProperties, Containment_NoPlanChangesAnythingOutsideTheRoots, ()) {
  const auto specs = *plan(4);
  Listing canaries;
  {
    scratch::Dir fresh;
    prepare(fresh);
    for (const char* area : {"outside", "work2"})
      for (const auto& [k, v] : shown(fresh, area)) canaries[std::string(area) + "/" + k] = v;
  }
  for (auto ordering : {store::Ordering::reference, store::Ordering::safe}) {
    scratch::Dir d;
    auto out = apply(specs, ordering, d);
    if (ordering == store::Ordering::safe) {
      RC_CLASSIFY(out.applied.ok(), "applied whole");
      RC_CLASSIFY(out.applied.error && out.applied.error->kind == store::ErrorKind::containment, "refused");
    }
    RC_ASSERT(out.outside == canaries);
  }
}

RC_GTEST_PROP(StoreFsProperties, E24_BothOrderingsLeaveTheSameFilesWhenBothApplyThePlan, ()) {
  const auto specs = *plan(1);
  scratch::Dir ref_tree, safe_tree;
  auto ref = apply(specs, store::Ordering::reference, ref_tree);
  auto safe = apply(specs, store::Ordering::safe, safe_tree);
  RC_CLASSIFY(ref.applied.ok() && safe.applied.ok(), "both applied");
  if (ref.applied.ok() && safe.applied.ok()) RC_ASSERT(ref.all == safe.all);
}
