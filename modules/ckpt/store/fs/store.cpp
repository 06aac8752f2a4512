// Store::apply: check the whole plan, then apply its schedule one effect at
// a time, stopping at the first failure. A failed write leaves nothing
// behind but the directories it created: its temporary file is removed and
// the final name is untouched.
module;
#include "ckpt/internal/durable.hpp"
#include "ckpt/internal/sink.hpp"
#include "ckpt/internal/overload.hpp"
#include <cerrno>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <gsl/assert>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>
module ckpt.store.fs;

namespace ckpt::store::fs {

namespace {

using namespace detail;
using internal::overload;
using MaybeError = std::optional<Error>;

bool is_containment(const std::variant<Location, Unreachable, Error>& located) {
  const auto* e = std::get_if<Error>(&located);
  return e && e->kind == ErrorKind::containment;
}

// The paths of a RemoveUntilGap (C52), in the order they are tried, until
// `visit` says stop. A template without `{}` repeats one path: the reference
// removes it once and stops at the gap it left.
template <class Visit>
MaybeError for_each_in_series(const RemoveUntilGap& series, Visit visit) {
  Expects(series.step != 0);  // legacy_retention raises instead (C53)
  std::string previous;
  for (std::int64_t s = series.start; series.step < 0 ? s > 0 : s < 0; s += series.step) {
    std::string path = series_path(series, s);
    if (path == previous) break;
    previous = path;
    bool go_on = true;
    if (auto e = visit(path, go_on)) return e;
    if (!go_on) break;
  }
  return std::nullopt;
}

// Nothing of a plan is applied when any of its paths lands outside the
// roots, so every path is located first. Other problems (a missing parent,
// a full disk) surface when their effect runs, as they do in the reference.
MaybeError check_containment(const Plan& plan, const std::vector<std::string>& roots) {
  std::set<std::string> written;
  for (const auto& e : plan)
    if (auto p = written_path(e)) written.insert(lexical_key(*p));
  // A path with a NUL is never located: a write to it is refused at its
  // effect before anything is created, a removal of it finds nothing.
  auto locate_unless_nul = [&](const std::string& path, Intent intent) {
    return has_nul(path) ? std::optional<std::variant<Location, Unreachable, Error>>()
                         : std::optional(locate(path, intent, roots));
  };
  for (const auto& e : plan) {
    std::optional<std::variant<Location, Unreachable, Error>> located;
    if (auto p = written_path(e)) located = locate_unless_nul(*p, Intent::write);
    if (const auto* publish = std::get_if<Publish>(&e))  // the name's hash does not move its directory
      located = locate_unless_nul(published_name(publish->source, "00000000"), Intent::write);
    if (const auto* remove = std::get_if<RemoveCheckpoint>(&e)) located = locate_unless_nul(remove->path, Intent::remove);
    if (located && is_containment(*located)) return std::get<Error>(*located);
    if (const auto* series = std::get_if<RemoveUntilGap>(&e)) {
      auto e2 = for_each_in_series(*series, [&](const std::string& path, bool& go_on) -> MaybeError {
        if (has_nul(path)) {  // os.path.isfile is False: the series stops there
          go_on = false;
          return std::nullopt;
        }
        auto at = locate(path, Intent::remove, roots);
        if (is_containment(at)) return std::get<Error>(at);
        std::error_code ec;
        go_on = written.count(lexical_key(path)) ||
                (std::holds_alternative<Location>(at) && std::filesystem::is_regular_file(path, ec));
        return std::nullopt;
      });
      if (e2) return e2;
    }
  }
  return std::nullopt;
}

// The runtime info as the reference holds it at each effect of the plan, for
// the payload writer (E25 updates `last_ckpt` before E26 saves).
std::vector<py::Dict> info_at_each_effect(const Plan& plan, py::Dict info) {
  std::vector<py::Dict> out(plan.size());
  for (std::size_t i = 0; i < plan.size(); ++i) {
    if (const auto* set = std::get_if<SetRuntimeInfo>(&plan[i])) py::set(info, set->key, set->value);
    if (std::holds_alternative<SaveCheckpoint>(plan[i]) || std::holds_alternative<LegacySaveCheckpoint>(plan[i]) ||
        std::holds_alternative<Publish>(plan[i]))
      out[i] = info;
  }
  return out;
}

Error appeared(const std::string& path) {
  return {ErrorKind::containment, path,
          "a symlink appeared in the parent directories of '" + path + "' after they were checked"};
}

// One apply: the plan, its context, and what was done so far.
struct Applier {
  const Plan& plan;
  const std::vector<std::string>& roots;
  const PayloadWriter& writer;
  const std::vector<py::Dict>& info_at;
  bool main_process;
  Applied& out;

  struct Target {
    Location at;
    Fd dir;
  };

  std::variant<Target, Error> open_for_write(const std::string& path) {
    if (has_nul(path)) return embedded_null(path);
    auto located = locate(path, Intent::write, roots);
    if (auto* e = std::get_if<Error>(&located)) return *e;
    if (auto* u = std::get_if<Unreachable>(&located)) return io_error(u->err, path, "open");
    auto& at = std::get<Location>(located);
    auto dir = open_directory(at, /*create=*/true);
    if (auto* err = std::get_if<int>(&dir))
      return *err == ELOOP ? appeared(path) : io_error(*err, path, "creating its directory");
    return Target{std::move(at), std::get<Fd>(std::move(dir))};
  }

  // Runs the writer into `out` and pushes its last bytes to the file; its
  // exceptions become errors too (a failed write(2) an io error).
  MaybeError fill(std::size_t index, const std::string& path, Sink& sink) {
    if (!writer) return Error{ErrorKind::writer, path, "no payload writer was given"};
    try {
      if (auto message = writer(Payload{plan[index], info_at[index]}, sink))
        return Error{ErrorKind::writer, path, *message};
      sink.flush();
    } catch (const internal::SinkError& x) {
      return Error{ErrorKind::io, path, x.what(), x.err};
    } catch (const std::exception& x) {
      return Error{ErrorKind::writer, path, x.what()};
    } catch (...) {
      return Error{ErrorKind::writer, path, "the payload writer threw"};
    }
    return std::nullopt;
  }

  std::variant<TempFile, Error> temporary(const Target& t, const std::string& path) {
    auto temp = TempFile::create(t.dir.get());
    if (auto* f = std::get_if<internal::IoFailure>(&temp)) return io_error(*f, path);
    return std::get<TempFile>(std::move(temp));
  }

  // Safe ordering, B61: the removal this write absorbed. A file is replaced
  // by the rename; anything else goes as the removal would have removed it.
  MaybeError clear(const Target& t, std::optional<std::size_t> absorbed, const std::string& path) {
    if (!absorbed || is_regular_file(t.dir.get(), t.at.name)) return std::nullopt;
    const auto& remove = std::get<RemoveCheckpoint>(plan[*absorbed]);
    auto removed = remove_entry(t.dir.get(), t.at.name, remove.can_remove_tree, path);
    if (auto* e = std::get_if<Error>(&removed)) return *e;
    if (std::get<bool>(removed)) out.removed.push_back(remove.path);
    return std::nullopt;
  }

  // Temp file, contents, fsync, rename, fsync: the whole new file or none.
  template <class Fill>
  MaybeError write(const std::string& path, std::optional<std::size_t> absorbed, Fill fill_temp) {
    auto target = open_for_write(path);
    if (auto* e = std::get_if<Error>(&target)) return *e;
    auto& t = std::get<Target>(target);
    auto temp = temporary(t, path);
    if (auto* e = std::get_if<Error>(&temp)) return *e;
    auto& file = std::get<TempFile>(temp);
    internal::FdSink sink(file.fd());
    if (auto e = fill_temp(sink)) return e;
    if (auto e = clear(t, absorbed, path)) return e;
    if (auto f = file.commit(t.at.name)) return io_error(*f, path);
    out.written.push_back(path);
    return std::nullopt;
  }

  // E42: the name is the hash of the bytes as they went to the file.
  MaybeError publish(std::size_t index, const Publish& p) {
    auto target = open_for_write(published_name(p.source, "00000000"));
    if (auto* e = std::get_if<Error>(&target)) return *e;
    auto& t = std::get<Target>(target);
    auto temp = temporary(t, p.source);
    if (auto* e = std::get_if<Error>(&temp)) return *e;
    auto& file = std::get<TempFile>(temp);
    internal::FdSink sink(file.fd());
    internal::HashingSink hashing(sink);
    if (auto e = fill(index, p.source, hashing)) return e;
    std::string path = published_name(p.source, hashing.hex_digest());
    if (auto f = file.commit(py::path::basename(path))) return io_error(*f, path);
    out.written.push_back(path);
    return std::nullopt;
  }

  // Where a removal's path is, or nothing when it cannot exist (a missing or
  // non-directory parent: the reference's isfile and isdir say False).
  std::variant<std::monostate, Target, Error> open_for_removal(const std::string& path) {
    if (has_nul(path)) return std::monostate{};  // os.path.isfile/isdir say False
    auto located = locate(path, Intent::remove, roots);
    if (auto* e = std::get_if<Error>(&located)) return *e;
    if (std::holds_alternative<Unreachable>(located)) return std::monostate{};
    auto& at = std::get<Location>(located);
    auto dir = open_directory(at, /*create=*/false);
    if (auto* err = std::get_if<int>(&dir)) {
      if (*err == ENOENT || *err == ENOTDIR) return std::monostate{};
      return *err == ELOOP ? appeared(path) : io_error(*err, path, "opening its directory");
    }
    return Target{std::move(at), std::get<Fd>(std::move(dir))};
  }

  MaybeError remove(const RemoveCheckpoint& r) {
    auto target = open_for_removal(r.path);
    if (auto* e = std::get_if<Error>(&target)) return *e;
    auto* t = std::get_if<Target>(&target);
    if (!t) return std::nullopt;
    auto removed = remove_entry(t->dir.get(), t->at.name, r.can_remove_tree, r.path);
    if (auto* e = std::get_if<Error>(&removed)) return *e;
    if (std::get<bool>(removed)) out.removed.push_back(r.path);
    return std::nullopt;
  }

  MaybeError remove_series(const RemoveUntilGap& series) {
    return for_each_in_series(series, [&](const std::string& path, bool& go_on) -> MaybeError {
      auto target = open_for_removal(path);
      if (auto* e = std::get_if<Error>(&target)) return *e;
      auto* t = std::get_if<Target>(&target);
      go_on = t && is_regular_file(t->dir.get(), t->at.name);
      if (!go_on) return std::nullopt;
      if (auto e = unlink_entry(t->dir.get(), t->at.name, path)) return e;
      out.removed.push_back(path);
      return std::nullopt;
    });
  }

  MaybeError disk(const Slot& slot) {
    const Effect& effect = plan[slot.index];
    auto save = [&](const std::string& path) {
      return write(path, slot.absorbs, [&](Sink& sink) { return fill(slot.index, path, sink); });
    };
    return std::visit(
        overload{
            [&](const SaveCheckpoint& s) { return save(py::path::join(s.out_dir, s.filename)); },
            [&](const LegacySaveCheckpoint& s) { return save(s.filepath); },
            [&](const WriteText& text) {
              auto e = write(text.path, slot.absorbs, [&](Sink& sink) -> MaybeError {
                try {
                  sink.write(text.content.data(), text.content.size());
                  sink.flush();
                } catch (const internal::SinkError& x) {
                  return io_error(internal::IoFailure{x.err, "write"}, text.path);
                }
                return std::nullopt;
              });
              if (!e) out.texts.push_back(text);
              return e;
            },
            [&](const Publish& p) { return publish(slot.index, p); },
            [&](const Symlink& link) -> MaybeError {
              if (has_nul(link.target)) return embedded_null(link.link);
              auto target = open_for_write(link.link);
              if (auto* e = std::get_if<Error>(&target)) return *e;
              auto& t = std::get<Target>(target);
              if (auto e = clear(t, slot.absorbs, link.link)) return e;
              if (auto e = replace_symlink(t.dir.get(), t.at.name, link.target, link.link)) return e;
              out.written.push_back(link.link);
              return std::nullopt;
            },
            [&](const RemoveCheckpoint& r) { return remove(r); },
            [&](const RemoveUntilGap& series) { return remove_series(series); },
            [&](const auto&) -> MaybeError { return std::nullopt; },
        },
        effect);
  }

  MaybeError run(const Slot& slot) {
    const Effect& effect = plan[slot.index];
    // Runtime info and runner meta are the caller's (runtime_info_after);
    // Log and SyncBuffers are the trainer's; other ranks write nothing.
    bool on_disk = !std::holds_alternative<SetRuntimeInfo>(effect) && !std::holds_alternative<SetRunnerMeta>(effect);
    if (on_disk && main_process)
      if (auto e = disk(slot)) {
        out.failed_effect = slot.index;
        return e;
      }
    if (!on_disk || main_process) out.done.push_back(slot.index);
    return std::nullopt;
  }
};

std::string absolute_root(const std::filesystem::path& p) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  std::string s = (ec ? p : abs).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

Store::Store(std::filesystem::path checkpoint_dir_root, std::filesystem::path work_dir, Options options)
    : roots_{absolute_root(checkpoint_dir_root), absolute_root(work_dir)}, options_(std::move(options)) {}

py::Dict runtime_info_after(py::Dict before, const Plan& plan, const Applied& applied) {
  for (std::size_t i : applied.done)
    if (const auto* set = std::get_if<SetRuntimeInfo>(&plan[i])) py::set(before, set->key, set->value);
  return before;
}

py::Value runner_meta_after(py::Value before, const Plan& plan, const Applied& applied) {
  for (std::size_t i : applied.done)
    if (const auto* m = std::get_if<SetRunnerMeta>(&plan[i])) before = m->meta;
  return before;
}

Applied Store::apply(const Plan& plan, const PayloadWriter& writer, const py::Dict& runtime_info,
                     const SizeHint& expected_size) const {
  Applied out;
  std::vector<std::string> canonical;  // other ranks never touch the disk: no roots needed
  Ordering ordering = options_.ordering;
  if (options_.main_process) {
    auto roots = canonical_roots(roots_);
    if (auto* e = std::get_if<Error>(&roots)) out.error = *e;
    else canonical = std::get<std::vector<std::string>>(std::move(roots));
    if (!out.error) out.error = check_containment(plan, canonical);
    if (!out.error && ordering == Ordering::safe) {
      auto space = shortfall(plan, runtime_info, expected_size);
      if (auto* e = std::get_if<Error>(&space)) {
        out.error = *e;
      } else if (const auto& s = std::get<std::optional<Shortfall>>(space)) {
        if (options_.evict_first_if_short && evicts(plan)) {
          ordering = Ordering::reference;
          out.evicted_first = true;
        } else {
          out.error = space_error(*s);
          out.failed_effect = s->effect;
        }
      }
    }
    if (out.error) return out;
  }
  auto info_at = info_at_each_effect(plan, runtime_info);
  Applier applier{plan, canonical, writer, info_at, options_.main_process, out};
  for (const auto& slot : order(plan, ordering))
    if ((out.error = applier.run(slot))) break;
  return out;
}

}  // namespace ckpt::store::fs
