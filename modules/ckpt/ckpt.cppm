// ckpt — the umbrella: every public module of the policy core.
export module ckpt;
export import ckpt.py;
export import ckpt.policy;
export import ckpt.hook;
export import ckpt.legacy;
export import ckpt.json;
