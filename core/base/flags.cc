#include "core/base/flags.h"

#include "core/base/strings.h"

namespace veta {

Flags::Flags(std::string usage, std::string description)
    : usage_(std::move(usage)), description_(std::move(description)) {}

void Flags::String(std::string name, std::string* target, std::string help) {
  flags_.push_back({std::move(name), Kind::kString, target, std::move(help), *target});
}
void Flags::Uint(std::string name, uint64_t* target, std::string help) {
  flags_.push_back(
      {std::move(name), Kind::kUint, target, std::move(help), std::to_string(*target)});
}
void Flags::Bool(std::string name, bool* target, std::string help) {
  flags_.push_back({std::move(name), Kind::kBool, target, std::move(help), ""});
}
void Flags::Strings(std::string name, std::vector<std::string>* target, std::string help) {
  flags_.push_back({std::move(name), Kind::kStrings, target, std::move(help), ""});
}

absl::Status Flags::Set(const Flag& flag, std::string_view value) {
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.target) = std::string(value);
      return absl::OkStatus();
    case Kind::kStrings:
      static_cast<std::vector<std::string>*>(flag.target)->emplace_back(value);
      return absl::OkStatus();
    case Kind::kUint:
      if (!ParseU64(value, static_cast<uint64_t*>(flag.target))) {
        return absl::InvalidArgumentError(
            StrCat("--", flag.name, " wants a whole number, not '", value, "'"));
      }
      return absl::OkStatus();
    case Kind::kBool:
      if (value == "true" || value == "1" || value.empty()) {
        *static_cast<bool*>(flag.target) = true;
      } else if (value == "false" || value == "0") {
        *static_cast<bool*>(flag.target) = false;
      } else {
        return absl::InvalidArgumentError(StrCat("--", flag.name, " wants true or false"));
      }
      return absl::OkStatus();
  }
  return absl::InternalError("unknown flag kind");
}

absl::Status Flags::Parse(int argc, char** argv, int first) {
  bool only_positional = false;
  for (int i = first; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      positional_.emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      help_requested_ = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      return absl::InvalidArgumentError(StrCat("unknown option ", arg, " (see --help)"));
    }
    arg.remove_prefix(2);
    const size_t eq = arg.find('=');
    const std::string_view name = arg.substr(0, eq);
    const Flag* flag = nullptr;
    for (const Flag& f : flags_) {
      if (f.name == name) flag = &f;
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(StrCat("unknown option --", name, " (see --help)"));
    }
    if (eq != std::string_view::npos) {
      if (absl::Status s = Set(*flag, arg.substr(eq + 1)); !s.ok()) return s;
    } else if (flag->kind == Kind::kBool) {
      *static_cast<bool*>(flag->target) = true;
    } else if (i + 1 < argc) {
      if (absl::Status s = Set(*flag, argv[++i]); !s.ok()) return s;
    } else {
      return absl::InvalidArgumentError(StrCat("--", name, " needs a value"));
    }
  }
  return absl::OkStatus();
}

std::string Flags::Help() const {
  std::string out = StrCat("Usage: ", usage_, "\n\n", description_, "\n");
  if (!flags_.empty()) out += "\nOptions:\n";
  for (const Flag& f : flags_) {
    std::string left = StrCat("  --", f.name);
    if (f.kind != Kind::kBool) left += f.kind == Kind::kUint ? " N" : " VALUE";
    out += left;
    out += left.size() < 28 ? std::string(28 - left.size(), ' ') : "\n" + std::string(28, ' ');
    out += f.help;
    // UINT64_MAX stands for "not given" (e.g. --as-of: the latest).
    if (!f.default_text.empty() && f.default_text != "18446744073709551615") {
      out += StrCat(" (default: ", f.default_text, ")");
    }
    out += "\n";
  }
  out += "  --help                    Show this help.\n";
  return out;
}

}  // namespace veta
