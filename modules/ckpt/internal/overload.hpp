// overload{[](A) {...}, [](B) {...}} for std::visit. Internal to the
// implementation units (included in global module fragments, never exported).
#pragma once

namespace ckpt::internal {

template <class... F>
struct overload : F... {
  using F::operator()...;
};
template <class... F>
overload(F...) -> overload<F...>;

}  // namespace ckpt::internal
