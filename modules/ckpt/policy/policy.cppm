// ckpt.policy — every decision the reference hooks make, as pure functions
// over values: configuration, validation, rules, schedule, naming,
// retention, and the effects a plan is made of. No I/O, clocks or globals.
export module ckpt.policy;
export import ckpt.py;
export import :config;
export import :effects;
export import :rules;
export import :validate;
export import :schedule;
export import :naming;
export import :retention;
export import :extensions;
