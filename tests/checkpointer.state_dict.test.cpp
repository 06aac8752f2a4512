// ckpt_state_dict against Python's torch: a LibTorch model and optimizer
// written as Python's state_dict() trees (Python loads them and steps on to
// the same numbers), Python's trees restored into LibTorch (which steps on to
// Python's next step), strict-loading errors, and restores in place.
// tests/checkpointer_state_dict.py builds the same model, data and optimizers.
#include <torch/torch.h>

#include "ckpt/checkpointer/state_dict.hpp"
#include "store.torch.support.hpp"

namespace {

using namespace store_test;
namespace layout = ckpt::checkpointer::layout;

// ---- the model of tests/checkpointer_state_dict.py ----

struct HeadImpl : torch::nn::Module {
  HeadImpl()
      : offset(register_buffer("offset", torch::tensor({0.25, -0.5, 0.75}, torch::kFloat))),
        proj(register_module("proj", torch::nn::Linear(6, 3))) {}
  torch::Tensor forward(const torch::Tensor& x) { return proj(x) + offset; }
  torch::Tensor offset;
  torch::nn::Linear proj;
};
TORCH_MODULE(Head);

// Modules registered before the root's own tensors, as in the Python Net.
struct NetImpl : torch::nn::Module {
  NetImpl()
      : fc1(register_module("fc1", torch::nn::Linear(4, 6))),
        gain(register_parameter("gain", torch::ones({3}))),
        scale(register_buffer("scale", torch::tensor({1.0, 0.5, 2.0}, torch::kFloat))),
        bn(register_module("bn", torch::nn::BatchNorm1d(6))),
        head(register_module("head", Head())) {}
  torch::Tensor forward(const torch::Tensor& x) { return head(torch::relu(bn(fc1(x)))) * gain * scale; }
  torch::nn::Linear fc1;
  torch::Tensor gain, scale;
  torch::nn::BatchNorm1d bn;
  Head head;
};
TORCH_MODULE(Net);

// What Python's Net.state_dict() lists.
const std::vector<std::string> python_order{"gain",           "scale",          "fc1.weight",
                                            "fc1.bias",       "bn.weight",      "bn.bias",
                                            "bn.running_mean", "bn.running_var", "bn.num_batches_tracked",
                                            "head.offset",    "head.proj.weight", "head.proj.bias"};

torch::Tensor pattern(std::int64_t n, double phase) {
  return (torch::arange(n, torch::kDouble) * 0.37 + phase).sin().mul(0.5).to(torch::kFloat);
}

Net make_model() {
  Net net;
  const std::vector<std::string> names{"gain", "fc1.weight", "fc1.bias", "bn.weight", "bn.bias",
                                       "head.proj.weight", "head.proj.bias"};
  torch::NoGradGuard no_grad;
  auto params = net->named_parameters();
  for (std::size_t k = 0; k < names.size(); ++k) {
    auto& p = params[names[k]];
    p.copy_(pattern(p.numel(), static_cast<double>(k)).reshape(p.sizes()));
  }
  return net;
}

// Python's make_optimizer; `scale` multiplies every lr.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::string& kind, Net& net, double scale = 1) {
  namespace optim = torch::optim;
  auto params = net->parameters();
  if (kind == "sgd")
    return std::make_unique<optim::SGD>(
        params, optim::SGDOptions(0.1 * scale).momentum(0.9).nesterov(true).weight_decay(1e-3));
  if (kind == "sgd-plain") return std::make_unique<optim::SGD>(params, optim::SGDOptions(0.1 * scale));
  if (kind == "adam") return std::make_unique<optim::Adam>(params, optim::AdamOptions(0.01 * scale));
  if (kind == "adam-amsgrad")
    return std::make_unique<optim::Adam>(params, optim::AdamOptions(0.01 * scale).amsgrad(true).weight_decay(0.01));
  std::vector<optim::OptimizerParamGroup> groups{
      optim::OptimizerParamGroup({params.begin(), params.begin() + 3}),
      optim::OptimizerParamGroup({params.begin() + 3, params.end()},
                                 std::make_unique<optim::AdamWOptions>(
                                     optim::AdamWOptions(0.005 * scale).weight_decay(0.05)))};
  return std::make_unique<optim::AdamW>(groups, optim::AdamWOptions(0.01 * scale).weight_decay(0.05));
}

void train_step(Net& net, torch::optim::Optimizer& opt, int step) {
  const auto x = (torch::arange(32, torch::kDouble) * 0.91 + step).sin().to(torch::kFloat).reshape({8, 4});
  const auto y = (torch::arange(24, torch::kDouble) * 0.53 + step).cos().to(torch::kFloat).reshape({8, 3});
  net->train();
  opt.zero_grad();
  torch::mse_loss(net->forward(x), y).backward();
  opt.step();
}

constexpr int steps = 3;  // checkpointer_state_dict.py's STEPS

Value checkpoint(Net& net, torch::optim::Optimizer& opt) {
  return Dict({{"state_dict", layout::module_state(*net)}, {"optimizer", layout::optimizer_state(opt)}});
}

Ran state_dict_py(const std::string& args) {
  return run(std::string("'") + CKPT_PYTHON + "' -W ignore '" + CKPT_STATE_DICT_SCRIPT + "' " + args);
}

// The layouts are torch 1.13's, and bit-exactness needs its optimizers:
// torch 2.x's Adam updates exp_avg with lerp_, LibTorch's with mul_ and add_.
#define SKIP_UNLESS_TORCH_1_13()                                                                  \
  SKIP_WITHOUT_PYTHON();                                                                          \
  if (const Ran v = run(std::string("'") + CKPT_PYTHON + "' -c 'import torch; print(torch.__version__)'"); \
      v.output.rfind("1.13", 0) != 0)                                                             \
  GTEST_SKIP() << "the layouts are pinned to torch 1.13; " << CKPT_PYTHON << " has " << v.output

// 1.13's SGD keeps {"momentum_buffer": None} for momentum 0; LibTorch keeps
// no state there (nor does torch 2.x). Both step alike.
Value without_empty_momentum(Value optimizer) {
  auto& state = optimizer.as<Dict>().find("state")->as<Dict>().items;
  const Value empty = Dict({{"momentum_buffer", None{}}});
  state.erase(std::remove_if(state.begin(), state.end(), [&](const auto& item) { return item.second == empty; }),
              state.end());
  return optimizer;
}

std::vector<std::string> keys(const Dict& d) {
  std::vector<std::string> out;
  for (const auto& item : d.items) out.push_back(item.first.as<std::string>());
  return out;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ts::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ts::Error thrown";
  return {};
}

// ---- layouts, without Python ----

TEST(CheckpointerStateDict, ModuleStateListsOwnParametersThenBuffersThenChildrenWithMetadata) {
  Net net = make_model();
  const Dict sd = layout::module_state(*net);
  EXPECT_TRUE(sd.ordered);
  EXPECT_EQ(keys(sd), python_order);
  ASSERT_EQ(sd.attributes.size(), 1u);
  EXPECT_EQ(sd.attributes[0].first, Value("_metadata"));
  const Dict& metadata = sd.attributes[0].second.as<Dict>();
  EXPECT_EQ(keys(metadata), (std::vector<std::string>{"", "fc1", "bn", "head", "head.proj"}));
  EXPECT_EQ(*metadata.find("bn"), Value(Dict({{"version", 2}})));
  EXPECT_EQ(*metadata.find("fc1"), Value(Dict({{"version", 1}})));
  // The module's own memory, detached.
  const auto& gain = sd.find("gain")->as<at::Tensor>();
  EXPECT_EQ(gain.data_ptr(), net->gain.data_ptr());
  EXPECT_FALSE(gain.requires_grad());
  EXPECT_EQ(sd.find("bn.num_batches_tracked")->as<at::Tensor>().scalar_type(), at::kLong);
}

TEST(CheckpointerStateDict, OptimizerStateHasTorch113KeysTypesAndIndicesAcrossGroups) {
  Net net = make_model();
  auto opt = make_optimizer("adamw", net);
  train_step(net, *opt, 0);
  const Dict osd = layout::optimizer_state(*opt);
  EXPECT_EQ(keys(osd), (std::vector<std::string>{"state", "param_groups"}));
  const auto& groups = osd.find("param_groups")->as<List>().items;
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(keys(groups[1].as<Dict>()), (std::vector<std::string>{"lr", "betas", "eps", "weight_decay", "amsgrad",
                                                                   "foreach", "maximize", "capturable", "params"}));
  EXPECT_EQ(*groups[1].as<Dict>().find("params"), Value(List{{3, 4, 5, 6}}));
  EXPECT_EQ(*groups[1].as<Dict>().find("lr"), Value(0.005));
  EXPECT_TRUE(groups[0].as<Dict>().find("betas")->is<Tuple>());
  const Dict& state = osd.find("state")->as<Dict>();
  ASSERT_EQ(state.items.size(), 7u);
  EXPECT_EQ(state.items[6].first, Value(6));
  const Dict& last = state.items[6].second.as<Dict>();
  EXPECT_EQ(keys(last), (std::vector<std::string>{"step", "exp_avg", "exp_avg_sq"}));
  const auto& step = last.find("step")->as<at::Tensor>();
  EXPECT_EQ(step.dim(), 0);
  EXPECT_EQ(step.scalar_type(), at::kFloat);
  EXPECT_EQ(step.item<double>(), 1.0);

  Net other = make_model();
  auto sgd = make_optimizer("sgd", other);
  const Dict sgd_state = layout::optimizer_state(*sgd);
  const Dict& group = sgd_state.find("param_groups")->as<List>().items.at(0).as<Dict>();
  EXPECT_EQ(keys(group), (std::vector<std::string>{"lr", "momentum", "dampening", "weight_decay", "nesterov",
                                                   "maximize", "foreach", "differentiable", "params"}));
  EXPECT_EQ(*group.find("dampening"), Value(0));  // Python's default is the int 0
  EXPECT_EQ(*group.find("momentum"), Value(0.9));
}

// ---- with Python ----

class StateDictWithPython : public testing::TestWithParam<std::string> {};

TEST_P(StateDictWithPython, CppStateDictsAreExactlyPythonsAndResumeInPython) {
  SKIP_UNLESS_TORCH_1_13();
  TempDir dir;
  const std::string kind = GetParam();
  Net net = make_model();
  auto opt = make_optimizer(kind, net);
  for (int s = 0; s < steps; ++s) train_step(net, *opt, s);
  ts::save(checkpoint(net, *opt), dir / "cpp.pth");
  train_step(net, *opt, steps);
  ts::save(checkpoint(net, *opt), dir / "cpp_next.pth");

  // Bit for bit (values, types, order, _metadata) what Python saves after the same steps.
  const Ran trained = state_dict_py("train " + kind + " '" + dir.path + "'");
  ASSERT_EQ(trained.status, 0) << trained.output;
  const Value cpp = ts::load(dir / "cpp.pth"), py = ts::load(dir / "py.pth");
  EXPECT_EQ(describe(*cpp.as<Dict>().find("state_dict")), describe(*py.as<Dict>().find("state_dict")));
  EXPECT_EQ(describe(*cpp.as<Dict>().find("optimizer")),
            describe(without_empty_momentum(*py.as<Dict>().find("optimizer"))));

  // Python loads both into a fresh model and optimizer and steps on to C++'s next step.
  const Ran checked = state_dict_py("check-cpp " + kind + " '" + dir.path + "'");
  EXPECT_EQ(checked.status, 0) << checked.output;
  EXPECT_NE(checked.output.find("next step after loading: layout equal, 12 tensors bit-exact"), std::string::npos)
      << checked.output;
}

TEST_P(StateDictWithPython, PythonStateDictsRestoreIntoLibTorchAndStepToPythonsNextStep) {
  SKIP_UNLESS_TORCH_1_13();
  TempDir dir;
  const std::string kind = GetParam();
  const Ran trained = state_dict_py("train " + kind + " '" + dir.path + "'");
  ASSERT_EQ(trained.status, 0) << trained.output;
  const Value py = ts::load(dir / "py.pth");

  // A model with other weights and an optimizer with other learning rates.
  torch::manual_seed(7);
  Net net;
  auto opt = make_optimizer(kind, net, 3.0);
  layout::restore_module(*net, *py.as<Dict>().find("state_dict"), dir / "py.pth");
  layout::restore_optimizer(*opt, *py.as<Dict>().find("optimizer"), dir / "py.pth");
  train_step(net, *opt, steps);

  const Value next = ts::load(dir / "py_next.pth");
  EXPECT_EQ(describe(layout::module_state(*net)), describe(*next.as<Dict>().find("state_dict")));
  EXPECT_EQ(describe(layout::optimizer_state(*opt)),
            describe(without_empty_momentum(*next.as<Dict>().find("optimizer"))));
}

INSTANTIATE_TEST_SUITE_P(Optimizers, StateDictWithPython,
                         testing::Values("sgd", "sgd-plain", "adam", "adam-amsgrad", "adamw"),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// ---- errors ----

TEST(CheckpointerStateDictErrors, StrictModuleRestoreNamesMissingUnexpectedAndMismatchedKeysAndCopiesNothing) {
  Net net = make_model();
  Dict sd = layout::module_state(*net);
  sd.items.erase(sd.items.begin() + 3);  // fc1.bias
  sd.items.emplace_back("module.gain", torch::ones({3}));
  sd.set("head.proj.weight", torch::zeros({2, 6}));
  sd.set("bn.bias", "not a tensor");
  sd.set("gain", torch::full({3}, 7.0));
  const std::string message = message_of([&] { layout::restore_module(*net, sd, "/ckpt/epoch_1.pth"); });
  EXPECT_EQ(message,
            "/ckpt/epoch_1.pth: the state_dict does not fit " + net->name() + " (strict):\n"
            "  missing keys: \"fc1.bias\"\n"
            "  unexpected keys: \"module.gain\"\n"
            "  \"bn.bias\" is a str, not a tensor\n"
            "  shape mismatch for \"head.proj.weight\": [2, 6] in the file, [3, 6] in the module");
  EXPECT_TRUE(torch::equal(net->gain, pattern(3, 0)));  // nothing copied
}

TEST(CheckpointerStateDictErrors, DataParallelPrefixIsNotStripped) {
  Net net = make_model();
  Dict prefixed({}, true);
  const Dict own = layout::module_state(*net);
  for (const auto& [key, value] : own.items) prefixed.items.emplace_back("module." + key.as<std::string>(), value);
  const std::string message = message_of([&] { layout::restore_module(*net, prefixed, "dp.pth"); });
  EXPECT_NE(message.find("missing keys: \"gain\", \"scale\", \"fc1.weight\""), std::string::npos) << message;
  EXPECT_NE(message.find("unexpected keys: \"module.gain\", \"module.scale\""), std::string::npos) << message;
}

TEST(CheckpointerStateDictErrors, PlainDictWithoutMetadataRestoresAndConvertsDtypeAsPython) {
  Net net = make_model();
  Dict plain;
  const Dict own = layout::module_state(*net);
  for (const auto& [key, value] : own.items) plain.items.emplace_back(key, value.as<at::Tensor>().clone());
  plain.set("gain", torch::full({3}, 2.0, torch::kDouble));
  layout::restore_module(*net, plain, "plain.pth");
  EXPECT_TRUE(torch::equal(net->gain, torch::full({3}, 2.0)));
  EXPECT_EQ(net->gain.scalar_type(), at::kFloat);
}

TEST(CheckpointerStateDictErrors, OptimizerGroupAndParameterCountsMustMatch) {
  Net net = make_model();
  auto opt = make_optimizer("adamw", net);
  Value osd = layout::optimizer_state(*opt);
  Value one_group = osd;
  one_group.as<Dict>().find("param_groups")->as<List>().items.pop_back();
  EXPECT_EQ(message_of([&] { layout::restore_optimizer(*opt, one_group, "a.pth"); }),
            "a.pth: optimizer state_dict: param_groups: 1 parameter groups in the file, 2 in the optimizer");
  Value short_group = osd;
  Dict& second = short_group.as<Dict>().find("param_groups")->as<List>().items[1].as<Dict>();
  second.find("params")->as<List>().items.pop_back();
  EXPECT_EQ(message_of([&] { layout::restore_optimizer(*opt, short_group, "b.pth"); }),
            "b.pth: optimizer state_dict: param_groups[1]: 3 parameters in the file, 4 in the optimizer's group");
}

TEST(CheckpointerStateDictErrors, UnsupportedOptimizerIsNamed) {
  Net net = make_model();
  torch::optim::RMSprop rmsprop(net->parameters(), torch::optim::RMSpropOptions(0.01));
  EXPECT_NE(message_of([&] { layout::check_supported(rmsprop); }).find("torch::optim::RMSprop"), std::string::npos);
  EXPECT_NE(message_of([&] { layout::optimizer_state(rmsprop); }).find("torch::optim::RMSprop"), std::string::npos);
  EXPECT_EQ(message_of([&] { layout::restore_optimizer(rmsprop, Dict{}, "r.pth"); }),
            "r.pth: no state_dict layout for optimizer torch::optim::RMSprop (there is one for torch::optim::SGD, "
            "Adam and AdamW)");
  EXPECT_NO_THROW(layout::check_supported(*make_optimizer("sgd", net)));
}

TEST(CheckpointerStateDictErrors, SettingsLibTorchCannotHonourAreRefusedAndNothingChanges) {
  Net net = make_model();
  auto opt = make_optimizer("adam", net);
  auto with = [&](const char* key, Value value) {
    Value osd = layout::optimizer_state(*opt);
    Dict& group = osd.as<Dict>().find("param_groups")->as<List>().items[0].as<Dict>();
    group.set(key, std::move(value));
    group.set("lr", 0.5);
    return osd;
  };
  EXPECT_EQ(message_of([&] { layout::restore_optimizer(*opt, with("maximize", true), "m.pth"); }),
            "m.pth: optimizer state_dict: param_groups[0].maximize: True is not supported by LibTorch's "
            "torch::optim::Adam");
  EXPECT_NE(message_of([&] { layout::restore_optimizer(*opt, with("fused", true), "f.pth"); }).find("f.pth"),
            std::string::npos);
  EXPECT_NE(message_of([&] { layout::restore_optimizer(*opt, with("differentiable", true), "d.pth"); })
                .find("param_groups[0].differentiable: True"),
            std::string::npos);
  EXPECT_NE(message_of([&] { layout::restore_optimizer(*opt, with("decoupled_weight_decay", true), "w.pth"); })
                .find("decoupled_weight_decay"),
            std::string::npos);
  EXPECT_EQ(static_cast<const torch::optim::AdamOptions&>(opt->param_groups()[0].options()).lr(), 0.01);
  // What LibTorch does not model but cannot get wrong is accepted.
  layout::restore_optimizer(*opt, with("foreach", true), "ok.pth");
  layout::restore_optimizer(*opt, with("initial_lr", 0.01), "ok.pth");
  layout::restore_optimizer(*opt, with("fused", None{}), "ok.pth");  // torch 2.x's default
  EXPECT_EQ(static_cast<const torch::optim::AdamOptions&>(opt->param_groups()[0].options()).lr(), 0.5);
}

TEST(CheckpointerStateDictErrors, OptimizerStateMustFitItsParameters) {
  Net net = make_model();
  auto opt = make_optimizer("adam-amsgrad", net);
  train_step(net, *opt, 0);
  Value osd = layout::optimizer_state(*opt);
  ASSERT_EQ(osd.as<Dict>().find("state")->as<Dict>().items.size(), 7u);
  Dict& slot = osd.as<Dict>().find("state")->as<Dict>().items[1].second.as<Dict>();
  Value wrong_shape = osd;
  wrong_shape.as<Dict>().find("state")->as<Dict>().items[1].second.as<Dict>().set("exp_avg", torch::zeros({2}));
  EXPECT_EQ(message_of([&] { layout::restore_optimizer(*opt, wrong_shape, "s.pth"); }),
            "s.pth: optimizer state_dict: state[1].exp_avg: shape [2], the parameter's is [6, 4]");
  slot.items.pop_back();  // max_exp_avg_sq
  EXPECT_EQ(message_of([&] { layout::restore_optimizer(*opt, osd, "s.pth"); }),
            "s.pth: optimizer state_dict: state[1]: no 'max_exp_avg_sq', and its group has amsgrad=True");
}

TEST(CheckpointerStateDictErrors, StepIsAcceptedAsTensorOrNumber) {
  Net net = make_model();
  auto opt = make_optimizer("adam", net);
  train_step(net, *opt, 0);
  Value osd = layout::optimizer_state(*opt);
  auto& state = osd.as<Dict>().find("state")->as<Dict>().items;
  ASSERT_EQ(state.size(), 7u);
  state[0].second.as<Dict>().set("step", 5);
  state[1].second.as<Dict>().set("step", 6.0);
  state[2].second.as<Dict>().set("step", torch::tensor({7.0}));  // capturable's shape [1]
  layout::restore_optimizer(*opt, osd, "steps.pth");
  const Dict restored_state = layout::optimizer_state(*opt);
  const auto& restored = restored_state.find("state")->as<Dict>().items;
  ASSERT_EQ(restored.size(), 7u);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(restored[i].second.as<Dict>().find("step")->as<at::Tensor>().item<double>(), 5 + i);
  state[0].second.as<Dict>().set("step", 1.5);
  EXPECT_NE(message_of([&] { layout::restore_optimizer(*opt, osd, "steps.pth"); }).find("state[0].step"),
            std::string::npos);
}

TEST(CheckpointerStateDictErrors, RestoreReplacesTheWholeStateAsPythonDoes) {
  Net net = make_model();
  auto opt = make_optimizer("sgd", net);
  const Value untrained = layout::optimizer_state(*opt);
  train_step(net, *opt, 0);
  ASSERT_EQ(layout::optimizer_tensors(*opt).size(), 7u);
  layout::restore_optimizer(*opt, untrained, "fresh.pth");
  EXPECT_TRUE(layout::optimizer_tensors(*opt).empty());
}

// ---- in place ----

TEST(CheckpointerStateDictInPlace, RestoringTheModulesOwnTensorsCopiesNothing) {
  Net net = make_model();
  train_step(net, *make_optimizer("sgd", net), 0);
  std::vector<std::pair<const void*, std::int64_t>> before;
  for (const auto& [name, t] : layout::module_tensors(*net)) before.emplace_back(t.data_ptr(), t._version());
  const Dict snapshot = [&] {
    Dict d = layout::module_state(*net);
    for (auto& item : d.items) item.second = item.second.as<at::Tensor>().clone();
    return d;
  }();
  auto check = [&](const char* what, std::int64_t copies) {
    const auto now = layout::module_tensors(*net);
    for (std::size_t i = 0; i < now.size(); ++i) {
      EXPECT_EQ(now[i].second.data_ptr(), before[i].first) << what << " " << now[i].first;
      EXPECT_EQ(now[i].second._version(), before[i].second + copies) << what << " " << now[i].first;
      EXPECT_TRUE(torch::equal(now[i].second, snapshot.items[i].second.as<at::Tensor>())) << what;
    }
  };
  layout::restore_module(*net, layout::module_state(*net), "own.pth");
  check("module_state", 0);
  Dict aliases({}, true);
  for (const auto& [name, t] : layout::module_tensors(*net)) aliases.items.emplace_back(name, t);
  layout::restore_module(*net, aliases, "aliases.pth");
  check("module_tensors", 0);
  // The control: fresh tensors are copied, which bumps each version once.
  layout::restore_module(*net, snapshot, "fresh.pth");
  check("fresh tensors", 1);
}

TEST(CheckpointerStateDictInPlace, OptimizerAdoptsItsOwnAndLoadedTensorsWithoutCopies) {
  TempDir dir;
  Net net = make_model();
  auto opt = make_optimizer("adam-amsgrad", net);
  train_step(net, *opt, 0);
  const auto own = layout::optimizer_tensors(*opt);
  ASSERT_EQ(own.size(), 21u);  // 7 parameters x exp_avg, exp_avg_sq, max_exp_avg_sq
  EXPECT_EQ(own[2].first, (std::vector<Value>{"state", 0, "max_exp_avg_sq"}));
  layout::restore_optimizer(*opt, layout::optimizer_state(*opt), "own.pth");
  const auto after = layout::optimizer_tensors(*opt);
  ASSERT_EQ(after.size(), own.size());
  for (std::size_t i = 0; i < own.size(); ++i)
    EXPECT_EQ(after[i].second.unsafeGetTensorImpl(), own[i].second.unsafeGetTensorImpl()) << i;

  ts::save(Dict({{"optimizer", layout::optimizer_state(*opt)}}), dir / "o.pth");
  const Value loaded = ts::load(dir / "o.pth");
  const Value& osd = *loaded.as<Dict>().find("optimizer");
  layout::restore_optimizer(*opt, osd, dir / "o.pth");
  const auto adopted = layout::optimizer_tensors(*opt);
  ASSERT_EQ(adopted.size(), 21u);
  const Dict& slot = osd.as<Dict>().find("state")->as<Dict>().items[4].second.as<Dict>();
  EXPECT_EQ(adopted[13].first, (std::vector<Value>{"state", 4, "exp_avg_sq"}));
  EXPECT_EQ(adopted[13].second.data_ptr(), slot.find("exp_avg_sq")->as<at::Tensor>().data_ptr());
  EXPECT_TRUE(torch::equal(adopted[13].second, own[13].second));
}

}  // namespace
