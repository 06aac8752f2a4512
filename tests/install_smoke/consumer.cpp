// Uses the installed modules: constructs a hook and runs one event.
#include <iostream>
import ckpt;

int main() {
  using namespace ckpt;
  auto state = hook::init(HookConfig{.interval = 1, .max_keep_ckpts = 2});
  if (!state.ok()) return 1;
  auto out = hook::step(*state, hook::BeforeTrain{{"work_dirs/exp", 0, 0, 3, 30}});
  out = hook::step(out.state, hook::AfterTrainEpoch{{"work_dirs/exp", 0, 10, 3, 30}});
  std::cout << out.plan << "\n";
  return out.error ? 1 : 0;
}
